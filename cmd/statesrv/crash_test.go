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
	"syscall"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
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

// pound sends pipelined reports with unique mids on one connection until
// the connection breaks or stop closes, recording every ACK.
func pound(addr, prefix string, a *acked, stop <-chan struct{}) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer conn.Close()
	sent := make(chan string, 64)
	go func() {
		defer close(sent)
		w := bufio.NewWriter(conn)
		for i := 0; ; i++ {
			select {
			case <-stop:
				w.Flush()
				return
			default:
			}
			mid := prefix + "-" + strconv.Itoa(i)
			if _, err := fmt.Fprintf(w, "#id=1;state=OK;name=crash;mid=%s\n", mid); err != nil {
				return
			}
			if len(sent) == cap(sent)-1 || i%16 == 0 {
				if w.Flush() != nil {
					return
				}
			}
			sent <- mid
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

// TestCrashLosesNoAcknowledgedReport kills a loaded server with SIGKILL
// again and again. After every restart each acknowledged report must be in
// the log under the seq its ACK named, the hash chain must verify, and no
// run may have been closed twice.
func TestCrashLosesNoAcknowledgedReport(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts server processes")
	}
	rounds := 4
	if s := os.Getenv("STATESRV_CRASH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	a := &acked{seqs: map[string]uint64{}}
	for round := range rounds {
		c := startChild(t, dir)
		if round == 0 {
			putProcess(t, c.httpAddr, 1, `{"name":"crash","max_runtime":"1h","enabled":true}`)
			putProcess(t, c.httpAddr, 2, `{"name":"ticker","schedule":"* * * * * *","max_runtime":"1s","enabled":true}`)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for conn := range 8 {
			wg.Go(func() { pound(c.tcpAddr, fmt.Sprintf("r%d-c%d", round, conn), a, stop) })
		}
		// Pacing: the child takes the load for a while, a different while
		// each round, before it is killed in the middle of it.
		time.Sleep(time.Duration(400+150*round) * time.Millisecond)
		c.kill(t)
		close(stop)
		wg.Wait()
		checkLog(t, dir, a)
	}
	a.mu.Lock()
	n := len(a.seqs)
	a.mu.Unlock()
	if n == 0 {
		t.Fatal("no report was acknowledged: the test proved nothing")
	}
	t.Logf("%d rounds, %d acknowledged reports all found", rounds, n)
}

// checkLog opens the killed server's log and checks it against the ACKs.
func checkLog(t *testing.T, dir string, a *acked) {
	t.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer l.Close()
	rep, err := l.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("verify after kill: %v %v", err, rep.Problems)
	}
	mids := map[uint64]string{}
	closed := map[string]int{}
	for e, err := range l.Range(context.Background(), 1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		switch e.Type {
		case statesrv.EventMessageReceived:
			var d statesrv.MessageReceivedData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			mids[e.Seq] = d.MID
		case statesrv.EventRunFinished, statesrv.EventRunTimedOut:
			var d struct {
				RunID string `json:"run_id"`
			}
			json.Unmarshal(e.Data, &d)
			closed[d.RunID]++
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for mid, seq := range a.seqs {
		if mids[seq] != mid {
			t.Fatalf("report %s was acknowledged as seq %d, but the log holds %q there", mid, seq, mids[seq])
		}
	}
	for run, n := range closed {
		if n > 1 {
			t.Fatalf("run %s was closed %d times", run, n)
		}
	}
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
