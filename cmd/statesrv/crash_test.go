package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// childEnv makes the test binary run the statesrv command line instead of
// the tests, so that the crash test can kill a real server process.
const childEnv = "STATESRV_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is a server process started from the test binary.
type child struct {
	cmd      *exec.Cmd
	tcpAddr  string
	httpAddr string
}

var addrLine = regexp.MustCompile(`msg="?(tcp reports|http)"? addr=(\S+)`)

// startChild runs `statesrv serve` on dir in a child process and waits until
// it listens.
func startChild(t *testing.T, dir string, extra ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--data", dir, "--tcp", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--api-token", "crash", "--admin-password", "pw"}, extra...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	return startProcess(t, cmd)
}

// startProcess starts cmd, a `statesrv serve` with its ports on 0, and
// waits until it says where it listens.
func startProcess(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := addrLine.FindStringSubmatch(sc.Text()); m != nil {
				if m[1] == "http" {
					c.httpAddr = m[2]
					close(found)
				} else {
					c.tcpAddr = m[2]
				}
			}
		}
	}()
	select {
	case <-found:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child server did not start")
	}
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

// acked maps a report's mid to the seq its ACK named.
type acked struct {
	mu   sync.Mutex
	seqs map[string]uint64
}

func (a *acked) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seqs)
}

// pound sends pipelined reports with unique mids on one connection, perSec
// a second, until the connection breaks or stop closes, counting the lines
// written in offered and recording every ACK. Up to 8,192 lines may wait
// for their ACK: past the server's window of 1,024 they wait in the
// socket's buffers, as a real client's would; a server slower still holds
// the writer back, so offered counts what was really sent.
func pound(addr, prefix string, a *acked, stop <-chan struct{}, perSec int, offered *atomic.Int64) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer conn.Close()
	sent := make(chan string, 8192)
	go func() {
		defer close(sent)
		w := bufio.NewWriter(conn)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		for i := 0; ; {
			select {
			case <-stop:
				w.Flush()
				return
			case <-tick.C:
			}
			for due := int(time.Since(start).Seconds() * float64(perSec)); i < due; i++ {
				mid := prefix + "-" + strconv.Itoa(i)
				if _, err := fmt.Fprintf(w, "#id=1;state=OK;name=crash;mid=%s\n", mid); err != nil {
					return
				}
				if len(sent) == cap(sent) && w.Flush() != nil {
					return
				}
				sent <- mid
				offered.Add(1)
			}
			if w.Flush() != nil {
				return
			}
		}
	}()
	r := bufio.NewReader(conn)
	for mid := range sent {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if seq, ok := strings.CutPrefix(strings.TrimSpace(line), "ACK "); ok {
			n, _ := strconv.ParseUint(seq, 10, 64)
			a.mu.Lock()
			a.seqs[mid] = n
			a.mu.Unlock()
		}
	}
}

func putProcess(t *testing.T, httpAddr string, id int, body string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", fmt.Sprintf("http://%s/api/v1/processes/%d", httpAddr, id), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer crash")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("PUT process %d: %s", id, resp.Status)
	}
}

// envInt reads a whole number from the environment, or gives def.
func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// timeoutGrace is how long after a run's deadline its RunTimedOut must be
// in the log: the server writes it at the first tick past the deadline, or
// at its first tick after a restart. Every load phase lasts longer, so a
// run that went overdue while the server was down is checked in the very
// cycle that restarted it. It leaves room for a slow machine: under the
// race detector on a busy machine 1.5 s was once not enough for the
// server's tick to write a timeout after its deadline.
const timeoutGrace = 3 * time.Second

// TestCrashLosesNoAcknowledgedReport kills a loaded server with SIGKILL
// again and again. After every kill `statesrv verify --data` must pass,
// each acknowledged report must be in the log under the seq its ACK named,
// no run may have been closed twice, and every run overdue by then must
// have timed out exactly once (a scheduled run a second that nobody
// reports, the runs a restart finds missed, and a run opened just before
// each kill whose deadline passes while the server is down).
//
// STATESRV_CRASH_ROUNDS sets the cycles (4), STATESRV_CRASH_RATE the
// reports offered a second over 16 pipelined connections (6,000), and
// STATESRV_CRASH_MIN_RATE fails a cycle whose offered rate fell short.
func TestCrashLosesNoAcknowledgedReport(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts server processes")
	}
	rounds := envInt(t, "STATESRV_CRASH_ROUNDS", 4)
	rate := envInt(t, "STATESRV_CRASH_RATE", 6000)
	minRate := envInt(t, "STATESRV_CRASH_MIN_RATE", 0)
	const conns = 16
	dir := t.TempDir()
	a := &acked{seqs: map[string]uint64{}}
	chk := &crashCheck{mids: map[uint64]string{}, runs: map[string]*runSeen{}}
	var sumOffered, sumAcked float64
	for round := range rounds {
		c := startChild(t, dir)
		if round == 0 {
			putProcess(t, c.httpAddr, 1, `{"name":"crash","max_runtime":"1h","enabled":true}`)
			putProcess(t, c.httpAddr, 2, `{"name":"ticker","schedule":"* * * * * *","max_runtime":"1s","enabled":true}`)
			putProcess(t, c.httpAddr, 3, `{"name":"overdue","max_runtime":"1s","enabled":true}`)
		}
		stop := make(chan struct{})
		var offered atomic.Int64
		before := a.len()
		start := time.Now()
		var wg sync.WaitGroup
		for conn := range conns {
			wg.Go(func() { pound(c.tcpAddr, fmt.Sprintf("r%d-c%d", round, conn), a, stop, rate/conns, &offered) })
		}
		// A run that goes overdue across the kill: opened now, its
		// deadline a second later, often after the kill.
		load := timeoutGrace + time.Duration(round%6)*300*time.Millisecond
		time.Sleep(load - time.Second)
		if n, err := sendLines(c.tcpAddr, "#id=3;state=START\n", 1); n != 1 {
			t.Fatalf("cycle %d: START of the overdue run: %d ACKs, %v", round, n, err)
		}
		time.Sleep(time.Second)
		c.kill(t)
		killed := time.Now()
		close(stop)
		wg.Wait()
		secs := killed.Sub(start).Seconds()
		off, ack := float64(offered.Load())/secs, float64(a.len()-before)/secs
		sumOffered, sumAcked = sumOffered+off, sumAcked+ack
		t.Logf("cycle %d: %.2f s of load: offered %.0f reports/s, ACKed %.0f/s", round, secs, off, ack)
		if minRate > 0 && off < float64(minRate) {
			t.Errorf("cycle %d: offered %.0f reports/s, below %d", round, off, minRate)
		}
		mustVerify(t, dir)
		chk.check(t, dir, a, killed.Add(-timeoutGrace))
	}
	// A last start past every deadline and a clean stop: every run opened
	// before it has timed out by now, or been finished.
	c := startChild(t, dir)
	time.Sleep(2 * timeoutGrace)
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
	stopped := time.Now()
	mustVerify(t, dir)
	chk.check(t, dir, a, stopped.Add(-timeoutGrace))
	n := a.len()
	if n == 0 {
		t.Fatal("no report was acknowledged: the test proved nothing")
	}
	if chk.overdue == 0 {
		t.Fatal("no run went overdue: the test proved nothing about timeouts")
	}
	t.Logf("%d cycles, mean offered %.0f reports/s, mean ACKed %.0f/s; %d acknowledged reports all found; "+
		"%d runs timed out, each once; %d events", rounds, sumOffered/float64(rounds), sumAcked/float64(rounds),
		n, chk.overdue, chk.seq)
}

// mustVerify runs `statesrv verify --data dir`, the auditor's check of the
// hash chain (it recovers a log left by a kill first).
func mustVerify(t *testing.T, dir string) {
	t.Helper()
	var out, errb strings.Builder
	if code := run([]string{"verify", "--data", dir}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "ok: ") {
		t.Fatalf("verify --data after a kill: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// runSeen is what the log says of one run so far.
type runSeen struct {
	deadline           time.Time
	finished, timedOut int
}

// crashCheck reads the log of a killed server from where it left off last
// time (the log only grows) and keeps what it saw.
type crashCheck struct {
	seq     uint64
	mids    map[uint64]string // the mid of each MessageReceived, by seq
	runs    map[string]*runSeen
	overdue int // runs that timed out
}

// check reads the new events and checks the ACKs against them, that no run
// was closed twice, that no run timed out before its deadline, and that
// every run whose deadline is before due and that was not finished has
// timed out.
func (chk *crashCheck) check(t *testing.T, dir string, a *acked, due time.Time) {
	t.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer l.Close()
	for e, err := range l.Range(context.Background(), chk.seq+1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		chk.seq = e.Seq
		if e.Type == statesrv.EventMessageReceived {
			// The mid is the event's idempotency key: mid/<process>/<mid>.
			if _, mid, ok := strings.Cut(strings.TrimPrefix(e.Key, "mid/"), "/"); ok {
				chk.mids[e.Seq] = mid
			}
			continue
		}
		v, err := projections.Decode(e)
		if err != nil {
			t.Fatal(err)
		}
		switch d := v.(type) {
		case *statesrv.RunStartedData:
			chk.runs[d.RunID] = &runSeen{deadline: d.Deadline}
		case *statesrv.RunFinishedData:
			chk.run(t, d.RunID).finished++
		case *statesrv.RunTimedOutData:
			r := chk.run(t, d.RunID)
			r.timedOut++
			chk.overdue++
			if e.Time.Before(r.deadline) {
				t.Fatalf("run %s timed out at %v, before its deadline %v", d.RunID, e.Time, r.deadline)
			}
		}
	}
	a.mu.Lock()
	for mid, seq := range a.seqs {
		if chk.mids[seq] != mid {
			a.mu.Unlock()
			t.Fatalf("report %s was acknowledged as seq %d, but the log holds %q there", mid, seq, chk.mids[seq])
		}
	}
	a.mu.Unlock()
	for id, r := range chk.runs {
		switch {
		case r.finished+r.timedOut > 1:
			t.Fatalf("run %s was closed %d times (%d finished, %d timed out)", id, r.finished+r.timedOut, r.finished, r.timedOut)
		case r.finished == 0 && r.timedOut == 0 && r.deadline.Before(due):
			t.Fatalf("run %s is overdue since %v (checked up to %v) and has not timed out", id, r.deadline, due)
		}
	}
}

// run returns what was seen of a run, which must have started.
func (chk *crashCheck) run(t *testing.T, id string) *runSeen {
	t.Helper()
	r := chk.runs[id]
	if r == nil {
		t.Fatalf("run %s closed but never started", id)
	}
	return r
}

// TestCrashBetweenAlertRequestAndDelivery kills the server while an alert is
// requested but not delivered (the SMTP server answers "try again later"),
// and checks that the restarted server delivers it, once.
func TestCrashBetweenAlertRequestAndDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts server processes")
	}
	mb := startMailbox(t)
	mb.refuse.Store(true)
	smtpURL := fmt.Sprintf("smtp://%s?from=statesrv@example.com&tls=none", mb.ln.Addr())
	dir := t.TempDir()
	c := startChild(t, dir, "--smtp", smtpURL)
	putProcess(t, c.httpAddr, 26, `{"name":"NightlyExport","enabled":true,"alerts":{"fail":["mailto:ops@example.com"]}}`)
	if n, err := sendLines(c.tcpAddr, "#id=26;state=FAIL;msg=disk full\n", 1); err != nil || n != 1 {
		t.Fatalf("report: %d, %v", n, err)
	}
	// Wait until the alert is requested and its first attempt refused.
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { return alertAttempted(c, mb) })
	c.kill(t)
	if n := len(mb.messages()); n != 0 {
		t.Fatalf("%d messages before the crash, want 0", n)
	}
	mb.refuse.Store(false)
	c = startChild(t, dir, "--smtp", smtpURL)
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if len(mb.messages()) == 0 {
			return errors.New("no message after the restart")
		}
		return nil
	})
	// Room for a wrong second copy: nothing in the child marks that it
	// will send no more, so this check that nothing happens has to wait.
	time.Sleep(200 * time.Millisecond)
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
	if n := len(mb.messages()); n != 1 {
		t.Fatalf("%d messages after the restart, want exactly 1", n)
	}
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	counts := map[string]int{}
	for e, err := range l.Range(context.Background(), 1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		counts[e.Type]++
	}
	if counts["AlertRequested"] != 1 || counts["AlertDelivered"] != 1 {
		t.Fatalf("events %v: want one AlertRequested and one AlertDelivered", counts)
	}
}

// alertAttempted returns nil once the child's alert list shows the alert
// pending (requested, its delivery not yet recorded) and the mailbox has
// refused an attempt to deliver it.
func alertAttempted(c *child, mb *mailbox) error {
	req, _ := http.NewRequest("GET", "http://"+c.httpAddr+"/api/v1/alerts", nil)
	req.Header.Set("Authorization", "Bearer crash")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var alerts []statesrv.Alert
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil || len(alerts) != 1 {
		return fmt.Errorf("alerts %+v, %v; want one", alerts, err)
	}
	if alerts[0].Status != statesrv.AlertPending {
		return fmt.Errorf("alert %s, want pending", alerts[0].Status)
	}
	if mb.refused.Load() == 0 {
		return errors.New("no delivery attempted yet")
	}
	return nil
}
