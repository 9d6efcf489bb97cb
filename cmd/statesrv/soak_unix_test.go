//go:build unix

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// soakEnv holds the soak's duration (STATESRV_SOAK=30m); without it the
// soak is skipped.
const soakEnv = "STATESRV_SOAK"

// The soak's load, modest on purpose: the machine is shared.
const (
	soakConns      = 4                      // TCP connections sending reports
	soakReportRate = 200                    // reports a second, over all connections
	soakFailEvery  = 50                     // one end report in this many is a FAIL
	soakPingRate   = 10                     // HTTP pings a second
	soakPageEvery  = 500 * time.Millisecond // one dashboard page or API read
	soakSampleGap  = 5 * time.Second
	soakProcesses  = 20
)

// The bounds the server must stay under (SPEC §10: a monitor that runs for
// months): absolute ceilings, and no growth from the first third of the
// samples to the last beyond a factor and a slack.
const (
	soakMaxRSS        = 1536 << 20 // bytes, all resident pages (file-backed included)
	soakMaxAnon       = 768 << 20  // bytes, anonymous resident pages (heap, stacks)
	soakMaxGoroutines = 400
	soakMaxFDs        = 100  // beyond the files of the data directory
	soakGrowth        = 1.25 // last third's mean over the first third's
	soakAnonSlack     = 96 << 20
	soakCountSlack    = 20 // goroutines, open files
)

// soakSample is one look at the server process.
type soakSample struct {
	at         time.Duration
	rss, anon  int64 // bytes
	goroutines int64
	fds        int64
	dataFiles  int64 // files in the data directory: Badger keeps each open
	dataBytes  int64
}

// soakCounts are the load's outcomes.
type soakCounts struct {
	reports, acks, fails, errs atomic.Int64
	pings, pingErrs            atomic.Int64
	pages, pageErrs            atomic.Int64
}

// TestSoak runs a real `statesrv serve` process (the binary built from
// this module) under steady load for STATESRV_SOAK (e.g. 30m, or 1m for a
// smoke run): reports over several TCP connections, some of them FAIL so
// that alerts go to an in-process SMTP server, HTTP pings, dashboard pages
// of a logged-in user and API reads. Every few seconds it samples the
// process's RSS, goroutines and open files (from /metrics) and the data
// directory's size, and fails when one passes its bound or grows from the
// first third of the run to the last.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv(soakEnv))
	if err != nil || d <= 0 {
		t.Skipf("set %s to a duration (30m, or 1m for a smoke run) to soak a server", soakEnv)
	}
	bin := buildServer(t)
	mb := startMailbox(t)
	dir := t.TempDir()
	pprofAddr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--data", dir, "--tcp", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--api-token", "crash", "--admin-password", "pw",
		"--smtp", fmt.Sprintf("smtp://%s?from=statesrv@example.com&tls=none", mb.ln.Addr()))
	cmd.Env = append(os.Environ(), "STATESRV_PPROF="+pprofAddr)
	c := startProcess(t, cmd)
	t.Cleanup(func() {
		c.cmd.Process.Signal(syscall.SIGTERM)
		c.cmd.Wait()
	})
	for id := 1; id <= soakProcesses; id++ {
		putProcess(t, c.httpAddr, id, fmt.Sprintf(`{"name":"soak%d","enabled":true,`+
			`"alerts":{"fail":["mailto:ops%d@example.com"]}}`, id, id))
	}
	load, _ := uptimeLoad()
	t.Logf("soak: %v, pid %d, load average at start: %s", d, c.cmd.Process.Pid, load)

	var n soakCounts
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for conn := range soakConns {
		wg.Go(func() { soakReports(ctx, c.tcpAddr, conn, &n) })
	}
	wg.Go(func() { soakPings(ctx, c.httpAddr, &n) })
	wg.Go(func() { soakPages(ctx, c.httpAddr, &n) })
	samples := soakSampling(ctx, t, c, dir, pprofAddr)
	wg.Wait()

	// The alerts of the last FAILs are delivered a moment later.
	checkFor(t, 60*time.Second, 200*time.Millisecond, func() error {
		if got, want := int64(len(mb.messages())), n.fails.Load(); got != want {
			return fmt.Errorf("%d e-mails delivered, want one per acknowledged FAIL (%d)", got, want)
		}
		return nil
	})
	load, _ = uptimeLoad()
	t.Logf("soak: %d reports sent, %d ACKed (%d FAIL), %d refused; %d pings (%d failed); "+
		"%d pages and API reads (%d failed); %d e-mails; load average at end: %s",
		n.reports.Load(), n.acks.Load(), n.fails.Load(), n.errs.Load(), n.pings.Load(), n.pingErrs.Load(),
		n.pages.Load(), n.pageErrs.Load(), len(mb.messages()), load)
	logSamples(t, samples)
	if n.errs.Load() != 0 || n.pingErrs.Load() != 0 || n.pageErrs.Load() != 0 {
		t.Errorf("refused or failed requests under steady load")
	}
	if n.acks.Load() < int64(d.Seconds()*soakReportRate/2) {
		t.Errorf("%d reports ACKed in %v: the load was not kept up", n.acks.Load(), d)
	}
	checkBounds(t, samples)
	if t.Failed() {
		for _, s := range samples {
			t.Logf("sample at %v: rss %d MiB, anon %d MiB, %d goroutines, %d fds, %d data files, data %d MiB",
				s.at.Round(time.Second), s.rss>>20, s.anon>>20, s.goroutines, s.fds, s.dataFiles, s.dataBytes>>20)
		}
	}
}

// buildServer builds the statesrv binary of this module into a temporary
// directory.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "statesrv")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// soakReports sends reports on one connection at its share of the rate: a
// START and an end for a process in turn, one end in soakFailEvery a FAIL.
// Replies are read as they come; an ERR or a broken connection counts.
func soakReports(ctx context.Context, addr string, conn int, n *soakCounts) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		n.errs.Add(1)
		return
	}
	defer c.Close()
	fails := make(chan bool, 4096) // per line sent: whether it is a FAIL
	read := make(chan struct{})
	go func() {
		defer close(read)
		r := bufio.NewReader(c)
		for fail := range fails {
			line, err := r.ReadString('\n')
			if err != nil {
				n.errs.Add(1)
				return
			}
			if !strings.HasPrefix(line, "ACK ") {
				n.errs.Add(1)
				continue
			}
			n.acks.Add(1)
			if fail {
				n.fails.Add(1)
			}
		}
	}()
	defer func() {
		// Wait for the replies of the lines sent (at most 10 s) before
		// the connection is closed.
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		close(fails)
		<-read
	}()
	tick := time.NewTicker(time.Second * soakConns / soakReportRate)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		id := 1 + (conn+soakConns*(i/2))%soakProcesses
		line := fmt.Sprintf("#id=%d;state=START\n", id)
		fail := false
		if i%2 == 1 {
			fail = (i/2)%soakFailEvery == 0
			state := "OK"
			if fail {
				state = "FAIL;msg=soak"
			}
			line = fmt.Sprintf("#id=%d;state=%s\n", id, state)
		}
		if _, err := io.WriteString(c, line); err != nil {
			n.errs.Add(1)
			return
		}
		n.reports.Add(1)
		fails <- fail
	}
}

// soakPings sends HTTP pings at soakPingRate.
func soakPings(ctx context.Context, httpAddr string, n *soakCounts) {
	hc := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(time.Second / soakPingRate)
	defer tick.Stop()
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n.pings.Add(1)
		res, err := hc.Get(fmt.Sprintf("http://%s/ping/%d/OK", httpAddr, 1+i%soakProcesses))
		if err != nil {
			n.pingErrs.Add(1)
			continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			n.pingErrs.Add(1)
		}
	}
}

// soakPages reads the dashboard as a logged-in user and the API with the
// token, one request every soakPageEvery.
func soakPages(ctx context.Context, httpAddr string, n *soakCounts) {
	base := "http://" + httpAddr
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, err := hc.PostForm(base+"/login", url.Values{"user": {"admin"}, "password": {"pw"}})
	if err != nil {
		n.pageErrs.Add(1)
		return
	}
	res.Body.Close()
	paths := []string{"/", "/processes", "/processes/1", "/runs", "/history", "/alerts", "/events",
		"/unprocessed", "/schedule", "/api/v1/processes", "/api/v1/events?limit=50", "/api/v1/alerts",
		"/api/v1/history?limit=50", "/api/v1/runs"}
	tick := time.NewTicker(soakPageEvery)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p := paths[i%len(paths)]
		req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), "GET", base+p, nil)
		if strings.HasPrefix(p, "/api/") {
			req.Header.Set("Authorization", "Bearer crash")
		}
		n.pages.Add(1)
		res, err := hc.Do(req)
		if err != nil {
			n.pageErrs.Add(1)
			continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		// A page that sent the user back to /login would also be a 200.
		if res.StatusCode != http.StatusOK || res.Request.URL.Path != strings.SplitN(p, "?", 2)[0] {
			n.pageErrs.Add(1)
		}
	}
}

// soakSampling samples the server every soakSampleGap until ctx ends.
func soakSampling(ctx context.Context, t *testing.T, c *child, dir, pprofAddr string) []soakSample {
	start := time.Now()
	var out []soakSample
	dumped := false
	tick := time.NewTicker(soakSampleGap)
	defer tick.Stop()
	for {
		s, err := sample(c, dir)
		if err != nil {
			t.Errorf("sample: %v", err)
		} else {
			s.at = time.Since(start)
			out = append(out, s)
			if s.goroutines > soakMaxGoroutines && !dumped {
				dumped = true
				dumpGoroutines(t, pprofAddr, c.cmd.Process.Pid)
			}
		}
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
	}
}

func sample(c *child, dir string) (soakSample, error) {
	var s soakSample
	pid := c.cmd.Process.Pid
	out, err := exec.Command("ps", "-o", "rss=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return s, fmt.Errorf("ps: %w", err)
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return s, fmt.Errorf("ps: %q: %w", out, err)
	}
	s.rss = kb << 10
	s.anon = rssAnon(pid)
	res, err := http.Get("http://" + c.httpAddr + "/metrics")
	if err != nil {
		return s, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "go_goroutines":
			s.goroutines = int64(f)
		case "process_open_fds":
			s.fds = int64(f)
		}
	}
	if s.goroutines == 0 {
		return s, fmt.Errorf("/metrics has no go_goroutines")
	}
	s.dataBytes = dataDirBytes(dir)
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			s.dataFiles++
		}
		return nil
	})
	return s, nil
}

// dumpGoroutines saves the server's goroutines (STATESRV_PPROF) to a file
// beside the temporary directories, which outlives the test, and logs it.
func dumpGoroutines(t *testing.T, pprofAddr string, pid int) {
	res, err := http.Get("http://" + pprofAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Logf("goroutine dump: %v", err)
		return
	}
	defer res.Body.Close()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("statesrv-soak-goroutines-%d.txt", pid))
	f, err := os.Create(path)
	if err != nil {
		t.Logf("goroutine dump: %v", err)
		return
	}
	defer f.Close()
	io.Copy(f, res.Body)
	t.Logf("goroutines over %d: their stacks are in %s", soakMaxGoroutines, path)
}

// dataDirBytes is what dir takes on disk (du: Badger's files are sparse and
// preallocated), or their apparent size where du does not run.
func dataDirBytes(dir string) int64 {
	if out, err := exec.Command("du", "-sk", dir).Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) > 0 {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	var n int64
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// rssAnon reads the anonymous resident memory of pid from /proc (Linux), or
// returns -1.
func rssAnon(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// uptimeLoad returns the machine's load averages as uptime prints them.
func uptimeLoad() (string, error) {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "", err
	}
	_, load, _ := strings.Cut(string(out), "load average:")
	return strings.TrimSpace(load), nil
}

// soakSeries names one sampled quantity.
type soakSeries struct {
	name  string
	get   func(soakSample) int64
	max   int64 // absolute bound (0: none)
	slack int64 // allowed growth beyond soakGrowth (-1: not checked)
	mib   bool
}

var soakSeriesList = []soakSeries{
	{"rss", func(s soakSample) int64 { return s.rss }, soakMaxRSS, -1, true},
	{"rss_anon", func(s soakSample) int64 { return s.anon }, soakMaxAnon, soakAnonSlack, true},
	{"goroutines", func(s soakSample) int64 { return s.goroutines }, soakMaxGoroutines, soakCountSlack, false},
	{"open_fds", func(s soakSample) int64 { return s.fds }, 0, -1, false},
	{"data_files", func(s soakSample) int64 { return s.dataFiles }, 0, -1, false},
	// Badger keeps every file of its databases open: the files beyond
	// them are the server's own (sockets, the lock files, stdio).
	{"fds_beyond_data", func(s soakSample) int64 { return s.fds - s.dataFiles }, soakMaxFDs, soakCountSlack, false},
	{"data_dir", func(s soakSample) int64 { return s.dataBytes }, 0, -1, true},
}

func logSamples(t *testing.T, samples []soakSample) {
	t.Helper()
	if len(samples) == 0 {
		return
	}
	t.Logf("soak: %d samples every %v", len(samples), soakSampleGap)
	for _, se := range soakSeriesList {
		vals := make([]int64, len(samples))
		for i, s := range samples {
			vals[i] = se.get(s)
		}
		f := func(v int64) string {
			if se.mib {
				return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20))
			}
			return strconv.FormatInt(v, 10)
		}
		first, last := thirds(vals)
		t.Logf("soak: %-10s min %s, max %s, first %s, last %s; mean of first third %s, of last third %s",
			se.name, f(slices.Min(vals)), f(slices.Max(vals)), f(vals[0]), f(vals[len(vals)-1]), f(first), f(last))
	}
}

// checkBounds fails the test when a series passes its absolute bound or
// its last third's mean exceeds soakGrowth times the first third's plus
// its slack.
func checkBounds(t *testing.T, samples []soakSample) {
	t.Helper()
	if len(samples) < 6 {
		t.Errorf("%d samples: too few to judge growth", len(samples))
		return
	}
	for _, se := range soakSeriesList {
		vals := make([]int64, len(samples))
		for i, s := range samples {
			vals[i] = se.get(s)
		}
		if vals[0] < 0 { // not measurable on this system
			continue
		}
		if m := slices.Max(vals); se.max > 0 && m > se.max {
			t.Errorf("%s reached %d, over its bound %d", se.name, m, se.max)
		}
		first, last := thirds(vals)
		if se.slack >= 0 && float64(last) > soakGrowth*float64(first)+float64(se.slack) {
			t.Errorf("%s grew: mean %d in the first third, %d in the last (bound %.2f× + %d)",
				se.name, first, last, soakGrowth, se.slack)
		}
	}
}

// thirds returns the means of the first and the last third of vals.
func thirds(vals []int64) (first, last int64) {
	k := max(len(vals)/3, 1)
	mean := func(v []int64) int64 {
		var s int64
		for _, x := range v {
			s += x
		}
		return s / int64(len(v))
	}
	return mean(vals[:k]), mean(vals[len(vals)-k:])
}
