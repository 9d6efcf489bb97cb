package commands_test

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands"
)

// loadReports appends n reports of one process through the Service, as the
// load tool sends them (`#id=1;state=OK;msg=load N`), a millisecond apart,
// up to 256 in flight, and brings the views up to date.
func loadReports(tb testing.TB, s *server, n int) {
	tb.Helper()
	ctx := context.Background()
	var inflight []*commands.Receipt
	for i := range n {
		s.clock.Advance(time.Millisecond)
		msg := fmt.Sprintf("load %d", i)
		inflight = append(inflight, s.Service.Report(commands.Report{
			ProcessID: 1, State: statesrv.StateOK, Msg: msg, Line: "#id=1;state=OK;msg=" + msg,
			Transport: "tcp", Remote: "127.0.0.1:35404",
		}))
		if len(inflight) == 256 || i == n-1 {
			for _, r := range inflight {
				if _, err := r.Wait(ctx); err != nil {
					tb.Fatalf("report: %v", err)
				}
			}
			inflight = inflight[:0]
		}
	}
	if _, err := s.Runner.CatchUp(ctx); err != nil {
		tb.Fatalf("catch up: %v", err)
	}
}

// BenchmarkLogBytes writes 100,000 reports through the real Service and
// reports what the log keeps of each: the bytes of its group values
// (value-B/report) and, after close, the disk use of the log's and the
// views' directories (du-log-B/report, du-views-B/report). The clock
// starts at the real time, as a server's does: ids are made from the real
// clock, and the log stores them against the events' times.
func BenchmarkLogBytes(b *testing.B) {
	const reports = 100_000
	for b.Loop() {
		logDir, viewsDir := b.TempDir(), b.TempDir()
		s := openServer(b, clock.NewFake(time.Now().UTC()), logDir, viewsDir)
		s.MustDefine(statesrv.Process{ID: 1, Name: "load", Timezone: "UTC", MaxRuntime: statesrv.Duration(time.Hour), Enabled: true})
		loadReports(b, s, reports)
		f, err := s.Log.Footprint(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		b.ReportMetric(float64(f.ValueBytes)/reports, "value-B/report")
		b.ReportMetric(float64(f.KeyBytes+f.ValueBytes)/reports, "kv-B/report")
		b.ReportMetric(float64(duBytes(b, logDir))/reports, "du-log-B/report")
		b.ReportMetric(float64(duBytes(b, viewsDir))/reports, "du-views-B/report")
	}
}

// duBytes is the disk space dir takes, as du counts it (0 when du cannot
// run).
func duBytes(tb testing.TB, dir string) int64 {
	out, err := exec.Command("du", "-sk", dir).Output()
	if err != nil {
		tb.Logf("du %s: %v", dir, err)
		return 0
	}
	kb, _ := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	return kb << 10
}

// maxLogBytesPerReport bounds what the log stores of a report (its group's
// value: three events, one hash). Measured 242 bytes (BENCHMARKS.md, issue
// 14); a change that makes reports larger than this bound fails here.
const maxLogBytesPerReport = 260

// TestLogBytesPerReport writes reports through the Service and checks that
// the log stores each in at most maxLogBytesPerReport bytes.
func TestLogBytesPerReport(t *testing.T) {
	const reports = 2_000
	s := openServer(t, clock.NewFake(time.Now().UTC()), t.TempDir(), t.TempDir())
	t.Cleanup(s.Close)
	s.MustDefine(statesrv.Process{ID: 1, Name: "load", Timezone: "UTC", MaxRuntime: statesrv.Duration(time.Hour), Enabled: true})
	before, err := s.Log.Footprint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	loadReports(t, s, reports)
	after, err := s.Log.Footprint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	per := float64(after.ValueBytes-before.ValueBytes) / reports
	t.Logf("%.1f bytes of log a report", per)
	if per > maxLogBytesPerReport {
		t.Fatalf("the log stores %.1f bytes a report, more than the bound of %d", per, maxLogBytesPerReport)
	}
}
