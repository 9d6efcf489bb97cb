package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/statesrv/statesrv/client"
	"github.com/statesrv/statesrv/datadir"
	"github.com/statesrv/statesrv/eventlog"
)

// benchReports is how many reports BenchmarkIngest sends per iteration
// (STATESRV_BENCH_REPORTS overrides it).
func benchReports() int {
	if n, err := strconv.Atoi(os.Getenv("STATESRV_BENCH_REPORTS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// BenchmarkIngest measures durable ingest through the real server: 50
// pipelining TCP connections report OK on a push-only process (three events
// a report: MessageReceived, RunStarted, RunFinished). In the same run it
// appends the very events the server wrote to a fresh log with 1,024
// concurrent writers and no server (the ceiling of synced group commits on
// this disk), and reports ingest as a share of it.
//
//	go test -run '^$' -bench Ingest -benchtime 1x ./cmd/statesrv/
func BenchmarkIngest(b *testing.B) {
	for _, window := range []int{16, 64} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			for b.Loop() {
				benchIngest(b, window)
			}
		})
	}
}

func benchIngest(b *testing.B, window int) {
	m := openLoadServer(b, b.TempDir())
	first := m.Log.LastSeq() + 1
	res, err := client.Load(context.Background(), client.LoadConfig{
		Addr: m.TCPAddr, Conns: 50, Reports: benchReports(), Window: window, ID: 1, State: "OK",
		Duration: 2 * time.Minute,
	})
	if err != nil {
		b.Fatal(err)
	}
	if res.Acked != res.Sent || res.Errors != 0 {
		b.Fatalf("load: %s (%s)", res, res.ErrorSample)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := m.Log.Stats()
	b.ReportMetric(float64(st.Events.Load())/float64(st.Batches.Load()), "events/commit")
	b.ReportMetric(float64(st.CommitNanos.Load())/float64(st.Batches.Load())/1e6, "ms/commit")
	b.ReportMetric(float64(st.MaxCommitNanos.Load())/1e6, "max-ms/commit")
	b.ReportMetric(float64(st.SlowCommits.Load()), "slow-commits")
	recs := serverRecords(b, m.Log, first)
	if err := m.Close(); err != nil {
		b.Fatal(err)
	}
	ceiling := appendCeiling(b, recs)
	b.ReportMetric(res.PerSecond, "reports/s")
	b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(ceiling, "ceiling-reports/s")
	b.ReportMetric(100*res.PerSecond/ceiling, "%-of-ceiling")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
}

// serverRecords reads back what the server appended from seq first on, as
// records grouped the way it submitted them (one report per group).
func serverRecords(b *testing.B, l eventlog.Log, first uint64) [][]eventlog.Record {
	var out [][]eventlog.Record
	for e, err := range l.Range(context.Background(), first, 0) {
		if err != nil {
			b.Fatal(err)
		}
		r := eventlog.Record{Type: e.Type, Time: e.Time, Actor: e.Actor, ProcessID: e.ProcessID,
			Key: e.Key, Data: append([]byte(nil), e.Data...)}
		if e.Type == "MessageReceived" || len(out) == 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

// appendCeiling appends the groups to a fresh synced log from 1,024
// writers and returns groups per second.
func appendCeiling(b *testing.B, groups [][]eventlog.Record) float64 {
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	const writers = 1024
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(groups); i += writers {
				if _, err := l.Submit(groups[i]).Wait(context.Background()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(len(groups)) / time.Since(start).Seconds()
}

// largeLog returns a data directory holding about a million events written
// by the real server (reports on a push-only process, three events each).
// STATESRV_BENCH_DATA names a directory to build once and reuse.
func largeLog(b *testing.B) string {
	dir := os.Getenv("STATESRV_BENCH_DATA")
	if dir == "" {
		dir = b.TempDir()
	}
	if _, err := os.Stat(dir + "/log"); err == nil {
		return dir
	}
	m := openLoadServer(b, dir)
	res, err := client.Load(context.Background(), client.LoadConfig{
		Addr: m.TCPAddr, Conns: 50, Reports: 333_333, Window: 64, ID: 1, State: "OK", Duration: 5 * time.Minute})
	if err != nil || res.Acked != res.Sent {
		b.Fatalf("load: %v %s", err, res)
	}
	if err := m.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkLargeLog measures, on a log of about a million events: reading
// and decoding every event, rebuilding every view, and opening the server.
//
//	go test -run '^$' -bench LargeLog -benchtime 1x ./cmd/statesrv/
func BenchmarkLargeLog(b *testing.B) {
	dir := largeLog(b)
	b.Run("replay", func(b *testing.B) {
		o, err := datadir.Open(context.Background(), dir, datadir.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer o.Close()
		for b.Loop() {
			start, n := time.Now(), 0
			for range o.Log.Range(context.Background(), 1, 0) {
				n++
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64(n), "events")
		}
	})
	b.Run("rebuild", func(b *testing.B) {
		o, err := datadir.Open(context.Background(), dir, datadir.Options{Views: true})
		if err != nil {
			b.Fatal(err)
		}
		defer o.Close()
		for b.Loop() {
			n, took, err := o.Runner.Rebuild(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/took.Seconds(), "events/s")
			b.ReportMetric(took.Seconds(), "seconds")
		}
	})
	b.Run("startup", func(b *testing.B) {
		for b.Loop() {
			start := time.Now()
			m, err := Open(context.Background(), Config{Data: dir, TCP: "127.0.0.1:0", HTTP: "127.0.0.1:0", Stdout: os.Stdout})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(time.Since(start).Seconds(), "seconds")
			m.Close()
		}
	})
}

// BenchmarkTimeouts opens 10,000 runs (START reports on 100 push-only
// processes, max_runtime 3s) and measures how long after its deadline each
// RunTimedOut was declared.
//
//	go test -run '^$' -bench Timeouts -benchtime 1x ./cmd/statesrv/
func BenchmarkTimeouts(b *testing.B) {
	for b.Loop() {
		m, err := Open(context.Background(), Config{Data: b.TempDir(), TCP: "127.0.0.1:0", HTTP: "127.0.0.1:0",
			APIToken: "bench", AdminPassword: "pw", Stdout: os.Stdout})
		if err != nil {
			b.Fatal(err)
		}
		for id := 1; id <= 100; id++ {
			rc, err := m.Service.DefineProcess(statesrvProcess(int64(id)), "admin")
			if err != nil {
				b.Fatal(err)
			}
			rc.Wait(context.Background())
		}
		first := m.Log.LastSeq() + 1
		var wg sync.WaitGroup
		for c := range 10 {
			wg.Go(func() {
				var lines strings.Builder
				for i := range 1000 {
					fmt.Fprintf(&lines, "#id=%d;state=START\n", 1+(c*1000+i)%100)
				}
				res, err := sendLines(m.TCPAddr, lines.String(), 1000)
				if err != nil || res != 1000 {
					b.Errorf("sent %d: %v", res, err)
				}
			})
		}
		wg.Wait()
		checkFor(b, 30*time.Second, 50*time.Millisecond, func() error {
			if n := len(m.Service.OpenRuns()); n > 0 {
				return fmt.Errorf("%d runs still open", n)
			}
			return nil
		})
		var lags []time.Duration
		for e, err := range m.Log.Range(context.Background(), first, 0) {
			if err != nil {
				b.Fatal(err)
			}
			if e.Type == "RunTimedOut" {
				lags = append(lags, e.Time.Sub(timedOutDeadline(e)))
			}
		}
		m.Close()
		if len(lags) != 10000 {
			b.Fatalf("%d timeouts, want 10000", len(lags))
		}
		slicesSort(lags)
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-lag-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-lag-ms")
		b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max-lag-ms")
	}
}

// BenchmarkAlertBurst measures how fast a burst of 10,000 alerts (200
// processes with 50 recipients each, all failing at once) drains through
// the real sender into an SMTP server in the test process, and the ACK
// latency of reports sent while it drains.
//
//	go test -run '^$' -bench AlertBurst -benchtime 1x ./cmd/statesrv/
func BenchmarkAlertBurst(b *testing.B) {
	for b.Loop() {
		mb := startMailbox(b)
		m, err := Open(context.Background(), Config{Data: b.TempDir(), TCP: "127.0.0.1:0", HTTP: "127.0.0.1:0",
			APIToken: "bench", AdminPassword: "pw", Stdout: os.Stdout,
			SMTP: fmt.Sprintf("smtp://%s?from=statesrv@example.com&tls=none", mb.ln.Addr())})
		if err != nil {
			b.Fatal(err)
		}
		var lines strings.Builder
		for id := int64(1); id <= 200; id++ {
			p := statesrvProcess(id)
			for r := range 50 {
				p.Alerts.Fail = append(p.Alerts.Fail, fmt.Sprintf("mailto:ops%d@example.com", r))
			}
			rc, err := m.Service.DefineProcess(p, "admin")
			if err != nil {
				b.Fatal(err)
			}
			rc.Wait(context.Background())
			fmt.Fprintf(&lines, "#id=%d;state=FAIL\n", id)
		}
		start := time.Now()
		if n, err := sendLines(m.TCPAddr, lines.String(), 200); err != nil || n != 200 {
			b.Fatalf("reports: %d, %v", n, err)
		}
		// Reports keep their pace while the alerts drain.
		var worst time.Duration
		for len(mb.messages()) < 10000 && time.Since(start) < 2*time.Minute {
			t := time.Now()
			if n, _ := sendLines(m.TCPAddr, "#id=1;state=OK\n", 1); n != 1 {
				b.Fatal("a report during the burst was not acknowledged")
			}
			worst = max(worst, time.Since(t))
			time.Sleep(20 * time.Millisecond) // pacing: a report every 20 ms
		}
		took := time.Since(start)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.Close()
		if n := len(mb.messages()); n < 10000 {
			b.Fatalf("%d of 10,000 alerts delivered in %s", n, took)
		}
		b.ReportMetric(10000/took.Seconds(), "alerts/s")
		b.ReportMetric(float64(worst.Microseconds())/1000, "max-report-ack-ms")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	}
}

// openLoadServer starts a server on dir with process 1 defined push-only,
// the process the load generator reports on.
func openLoadServer(b *testing.B, dir string) *Main {
	m, err := Open(context.Background(), Config{Data: dir, TCP: "127.0.0.1:0", HTTP: "127.0.0.1:0",
		APIToken: "bench", AdminPassword: "pw", Stdout: os.Stdout})
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", "http://"+m.HTTPAddr+"/api/v1/processes/1",
		strings.NewReader(`{"name":"load","max_runtime":"1h","enabled":true}`))
	req.Header.Set("Authorization", "Bearer bench")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("define process: %v %v", err, resp)
	}
	resp.Body.Close()
	return m
}
