package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
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

	"github.com/statesrv/statesrv/client"
	"github.com/statesrv/statesrv/eventlog/logtest"
)

// leanEnv reads a positive integer from the environment variable name,
// or returns def.
func leanEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkLean measures every row of the lean-storage targets in one run,
// with the real binary as an operator runs it:
//
//   - bare Badger's synced group commits (1,024 writers, one 200-byte entry
//     per report), before and after the server's run;
//   - `statesrv serve` started as a child on a fresh data directory, and
//     `statesrv load` (a separate process) sending STATESRV_LEAN_REPORTS
//     reports (default 1,000,000) over STATESRV_LEAN_CONNS connections
//     (default 50) with STATESRV_LEAN_WINDOW lines in flight each (default
//     2,000): durable ACKs/s and its share of the ceiling;
//   - the server's RSS (`ps -o rss`) sampled every half second during the
//     load and after it, and 20 s after the load ended;
//   - ACK latency with 50 connections, one line in flight each, right after
//     the load while the views catch up (how far behind they are is read
//     from /metrics), and again once they have caught up;
//   - the data directory's allocated bytes (and apparent size) per report
//     after SIGTERM, and after a restart and a second SIGTERM;
//   - `statesrv rebuild --data` of the whole log.
//
// The child inherits the environment, so GOMEMLIMIT and the like can be
// tried without rebuilding. A quick run:
//
//	STATESRV_LEAN_REPORTS=100000 go test -run '^$' -bench Lean -benchtime 1x -timeout 30m ./cmd/statesrv/
func BenchmarkLean(b *testing.B) {
	reports := leanEnv("STATESRV_LEAN_REPORTS", 1_000_000)
	conns := leanEnv("STATESRV_LEAN_CONNS", 50)
	window := leanEnv("STATESRV_LEAN_WINDOW", 2000)
	bin := filepath.Join(b.TempDir(), "statesrv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for b.Loop() {
		leanRun(b, bin, reports, conns, window)
	}
}

func leanRun(b *testing.B, bin string, reports, conns, window int) {
	// The summary goes to stdout whole (a benchmark's log is cut short).
	say := func(format string, args ...any) { fmt.Printf("lean: "+format+"\n", args...) }
	uptime, _ := os.ReadFile("/proc/loadavg")
	say("load average at start: %s", strings.TrimSpace(string(uptime)))
	ceilingN := max(reports, 300_000)
	before := leanCeiling(b, ceilingN)

	data := filepath.Join(b.TempDir(), "data")
	srv := startLeanServer(b, bin, data)
	rss := &rssSampler{pid: srv.cmd.Process.Pid}
	stopRSS := rss.start(500 * time.Millisecond)
	defer stopRSS()
	srv.defineProcess(b)

	b.Cleanup(func() {
		if b.Failed() {
			out, _ := exec.Command("tail", "-n", "30", data+".log").Output()
			fmt.Printf("lean: the server's last log lines:\n%s", out)
		}
	})
	main := leanLoad(b, bin, srv.tcpAddr, reports, conns, window)
	loadEnded := time.Now()
	duringMax := rss.max()
	lagAtEnd := srv.viewsLag(b)
	// While the views catch up: one line in flight per connection.
	catching := leanLoad(b, bin, srv.tcpAddr, 20_000, 50, 1)
	lagAfterCatching := srv.viewsLag(b)
	caughtUpIn := srv.waitCaughtUp(b)
	quiet := leanLoad(b, bin, srv.tcpAddr, 20_000, 50, 1)
	time.Sleep(time.Until(loadEnded.Add(20 * time.Second)))
	rss20 := rss.sample()
	afterMax := rss.max()
	heap := srv.metric(b, "go_memstats_heap_inuse_bytes")
	stopRSS()
	srv.stop(b)
	total := main.acked + catching.acked + quiet.acked
	alloc1, apparent1, parts1 := dirBytes(b, data)

	srv = startLeanServer(b, bin, data)
	srv.stop(b)
	alloc2, apparent2, parts2 := dirBytes(b, data)

	start := time.Now()
	out, err := exec.Command(bin, "rebuild", "--data", data).CombinedOutput()
	if err != nil {
		b.Fatalf("rebuild: %v\n%s", err, out)
	}
	rebuild := time.Since(start)
	after := leanCeiling(b, ceilingN)
	uptime, _ = os.ReadFile("/proc/loadavg")

	ceiling := (before.PerSecond + after.PerSecond) / 2
	say("load average at end: %s", strings.TrimSpace(string(uptime)))
	say("ceiling (bare Badger, 1,024 writers, 200-byte entries): before %s; after %s", before, after)
	say("load %d reports, %d conns, window %d: %s", reports, conns, window, main.line)
	say("durable ACKs/s %.0f = %.3f of the ceiling (mean %.0f entries/s)", main.perSecond, main.perSecond/ceiling, ceiling)
	say("views behind by %d events when the load ended, %d after the window-1 run; caught up %.1fs later",
		lagAtEnd, lagAfterCatching, caughtUpIn.Seconds())
	say("ACK latency, 50 conns window 1, while the views catch up: %s", catching.line)
	say("ACK latency, 50 conns window 1, caught up: %s", quiet.line)
	say("RSS: max during the load %d MB, max over the run %d MB, 20 s after the load %d MB; Go heap in use %.0f MB",
		duringMax>>10, afterMax>>10, rss20>>10, heap/(1<<20))
	say("data dir after stop: %s allocated (%.0f B/report), %s apparent; %s", mb(alloc1), float64(alloc1)/float64(total), mb(apparent1), parts1)
	say("data dir after restart+stop: %s allocated (%.0f B/report), %s apparent; %s", mb(alloc2), float64(alloc2)/float64(total), mb(apparent2), parts2)
	say("rebuild --data: %.2fs: %s", rebuild.Seconds(), strings.TrimSpace(string(out)))

	b.ReportMetric(main.perSecond, "acks/s")
	b.ReportMetric(ceiling, "ceiling-entries/s")
	b.ReportMetric(main.perSecond/ceiling, "share-of-ceiling")
	b.ReportMetric(float64(duringMax>>10), "rss-during-MB")
	b.ReportMetric(float64(rss20>>10), "rss-20s-MB")
	b.ReportMetric(float64(alloc2)/float64(total), "bytes/report")
	b.ReportMetric(rebuild.Seconds(), "rebuild-s")
	b.ReportMetric(catching.p99ms, "catching-up-p99-ms")
	b.ReportMetric(quiet.p99ms, "p99-ms")
}

func leanCeiling(b *testing.B, n int) logtest.Ceiling {
	c, err := logtest.BadgerCeiling(b.TempDir(), n, 1024, 200)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// leanServer is `statesrv serve` running as a child process.
type leanServer struct {
	cmd      *exec.Cmd
	tcpAddr  string
	httpAddr string
	exited   chan struct{}
}

func startLeanServer(b *testing.B, bin, data string) *leanServer {
	b.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--api-token", "bench", "--admin-password", "pw")
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &leanServer{cmd: cmd, exited: make(chan struct{})}
	found := make(chan struct{})
	logFile, err := os.OpenFile(data+".log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		defer logFile.Close()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if m := addrLine.FindStringSubmatch(sc.Text()); m != nil {
				if m[1] == "http" {
					s.httpAddr = m[2]
					close(found)
				} else {
					s.tcpAddr = m[2]
				}
			}
		}
	}()
	go func() { cmd.Wait(); close(s.exited) }()
	select {
	case <-found:
	case <-s.exited:
		b.Fatal("server exited at start")
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		b.Fatal("server did not start")
	}
	b.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

func (s *leanServer) defineProcess(b *testing.B) {
	req, _ := http.NewRequest("PUT", "http://"+s.httpAddr+"/api/v1/processes/1",
		strings.NewReader(`{"name":"load","max_runtime":"1h","enabled":true}`))
	req.Header.Set("Authorization", "Bearer bench")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("define process: %v %v", err, resp)
	}
	resp.Body.Close()
}

// stop sends SIGTERM and waits for the server to exit.
func (s *leanServer) stop(b *testing.B) {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Minute):
		b.Fatal("server did not stop within 5 minutes of SIGTERM")
	}
	if !s.cmd.ProcessState.Success() {
		b.Fatalf("server: %s", s.cmd.ProcessState)
	}
}

// metric reads one unlabelled metric from /metrics.
func (s *leanServer) metric(b *testing.B, name string) float64 {
	resp, err := http.Get("http://" + s.httpAddr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				b.Fatalf("metric %s: %v", name, err)
			}
			return v
		}
	}
	b.Fatalf("no metric %s", name)
	return 0
}

// viewsLag is how many events of the log the views have not applied yet.
func (s *leanServer) viewsLag(b *testing.B) int64 {
	last := s.metric(b, "statesrv_log_last_seq")
	views := s.metric(b, "statesrv_views_seq")
	return int64(last - views)
}

// waitCaughtUp polls until the views include the whole log, and returns
// how long that took.
func (s *leanServer) waitCaughtUp(b *testing.B) time.Duration {
	start := time.Now()
	for s.viewsLag(b) > 0 {
		if time.Since(start) > 5*time.Minute {
			b.Fatal("views still behind after 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// leanLoadResult is what one `statesrv load` printed.
type leanLoadResult struct {
	line      string
	acked     int
	perSecond float64
	p99ms     float64
}

var loadLine = regexp.MustCompile(`^(\d+) reports/s in .*acked (\d+), errors (\d+); .* p99 (\S+) `)

func leanLoad(b *testing.B, bin, addr string, reports, conns, window int) leanLoadResult {
	b.Helper()
	out, err := exec.Command(bin, "load", "--server", addr, "--reports", strconv.Itoa(reports),
		"--conns", strconv.Itoa(conns), "--window", strconv.Itoa(window), "--duration", "10m").CombinedOutput()
	line := strings.TrimSpace(string(out))
	m := loadLine.FindStringSubmatch(line)
	if err != nil || m == nil {
		b.Fatalf("load: %v\n%s", err, out)
	}
	if m[3] != "0" {
		b.Fatalf("load: errors: %s", line)
	}
	r := leanLoadResult{line: line}
	r.perSecond, _ = strconv.ParseFloat(m[1], 64)
	r.acked, _ = strconv.Atoi(m[2])
	p99, err := time.ParseDuration(m[4])
	if err != nil {
		b.Fatalf("load: p99 %q: %v", m[4], err)
	}
	r.p99ms = float64(p99.Microseconds()) / 1000
	return r
}

// rssSampler samples a process's resident set as `ps -o rss` shows it
// (KiB; anonymous memory plus the file-backed pages mapped in, such as
// Badger's memory-mapped tables).
type rssSampler struct {
	pid  int
	mu   sync.Mutex
	peak int64
}

func (r *rssSampler) sample() int64 {
	out, err := exec.Command("ps", "-o", "rss=", "-p", strconv.Itoa(r.pid)).Output()
	if err != nil {
		return 0
	}
	kib, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	r.mu.Lock()
	r.peak = max(r.peak, kib)
	r.mu.Unlock()
	return kib
}

func (r *rssSampler) max() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak
}

// start samples every d until the returned function is called.
func (r *rssSampler) start(d time.Duration) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			r.sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// dirBytes returns the bytes allocated on disk (as du counts them) and the
// apparent size of every file under dir, and a line with the allocated
// bytes of each of its subdirectories.
func dirBytes(tb testing.TB, dir string) (alloc, apparent int64, parts string) {
	tb.Helper()
	sub := map[string]int64{}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: no stat", path)
		}
		a := st.Blocks * 512
		alloc += a
		apparent += info.Size()
		rel, _ := filepath.Rel(dir, path)
		sub[strings.SplitN(rel, string(filepath.Separator), 2)[0]] += a
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	var p []string
	for _, name := range []string{"log", "views"} {
		p = append(p, fmt.Sprintf("%s %s", name, mb(sub[name])))
	}
	return alloc, apparent, strings.Join(p, ", ")
}

// maxBytesPerReport bounds the data directory's growth per report (log and
// views, allocated on disk after a clean stop) in TestBytesPerReport: the
// target of 300 bytes a report. Today's figure is about 196 (1,458 before
// the compact encoding, the lean views and ZSTD tables).
const maxBytesPerReport = 300

// TestBytesPerReport writes a few thousand reports through the real server
// (TCP, the write side, the log and the views) into a fresh data
// directory, stops it, and fails if the directory grew by more than
// maxBytesPerReport a report.
func TestBytesPerReport(t *testing.T) {
	const reports = 5000
	dir := t.TempDir()
	open := func() *Main {
		m, err := Open(context.Background(), Config{Data: dir, TCP: "127.0.0.1:0", HTTP: "127.0.0.1:0",
			AdminPassword: "pw", Stdout: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := open()
	rc, err := m.Service.DefineProcess(statesrvProcess(1), "admin")
	if err != nil {
		t.Fatal(err)
	}
	rc.Wait(context.Background())
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	base, _, _ := dirBytes(t, dir)

	m = open()
	res, err := client.Load(context.Background(), client.LoadConfig{
		Addr: m.TCPAddr, Conns: 10, Reports: reports, Window: 64, ID: 1, State: "OK", Duration: time.Minute})
	if err != nil || res.Acked != reports {
		t.Fatalf("load: %v %s", err, res)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	alloc, _, parts := dirBytes(t, dir)
	per := float64(alloc-base) / reports
	t.Logf("%.0f bytes a report (%s; %s before the reports)", per, parts, mb(base))
	if per > maxBytesPerReport {
		t.Errorf("the data directory grew by %.0f bytes a report, more than %d (%s)", per, maxBytesPerReport, parts)
	}
}
