package metrics_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/metrics"
	"github.com/statesrv/statesrv/projections"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func rec(at time.Time, typ string, pid int64, data any) eventlog.Record {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return eventlog.Record{Type: typ, Time: at, Actor: "test", ProcessID: pid, Data: raw}
}

// MustMetrics returns metrics over a real log and views holding process 7
// ("backup", last run FAIL at t0+1m), process 8 (never run), one open run
// and one unprocessed message.
func MustMetrics(t *testing.T) *metrics.Metrics {
	t.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: t.TempDir(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	store, err := projections.OpenStore("", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	runner, err := projections.NewRunner(l, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	proc := func(id int64, name string) eventlog.Record {
		return rec(t0, statesrv.EventProcessDefined, id, &statesrv.Process{ID: id, Name: name,
			Timezone: "UTC", MaxRuntime: statesrv.Duration(time.Hour), Enabled: true})
	}
	start := func(pid int64, run string) eventlog.Record {
		return rec(t0, statesrv.EventRunStarted, pid, &statesrv.RunStartedData{RunID: run,
			Source: statesrv.SourceManual, StartedAt: t0, Deadline: t0.Add(time.Hour)})
	}
	recs := []eventlog.Record{
		proc(7, "backup"), proc(8, "export"), start(7, "a"), start(7, "b"),
		rec(t0.Add(time.Minute), statesrv.EventRunFinished, 7, &statesrv.RunFinishedData{
			RunID: "a", State: statesrv.StateFail, MessageID: "m", FinishedAt: t0.Add(time.Minute)}),
		rec(t0, statesrv.EventMessageRejected, 0, &statesrv.MessageRejectedData{
			MessageID: "r", Line: "junk", Reason: statesrv.ReasonMalformed, Detail: "not a report"}),
	}
	if _, err := eventlog.Append(context.Background(), l, recs...); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return metrics.New(metrics.Config{Log: l, Runner: runner})
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rr := httptest.NewRecorder()
	m.Handler().ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	if rr.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rr.Code, rr.Body)
	}
	b, _ := io.ReadAll(rr.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	m := MustMetrics(t)
	tcp, ping := m.Observer("tcp"), m.Observer("http")
	tcp("ack", 2*time.Millisecond)
	tcp("ack", 3*time.Millisecond)
	tcp("err", time.Millisecond)
	ping("ack", 20*time.Millisecond)
	body := scrape(t, m)

	t.Run("Values", func(t *testing.T) {
		for _, want := range []string{
			`statesrv_reports_total{result="ack",transport="tcp"} 2`,
			`statesrv_reports_total{result="err",transport="tcp"} 1`,
			`statesrv_reports_total{result="ack",transport="http"} 1`,
			`statesrv_ack_latency_seconds_count{transport="tcp"} 3`,
			`statesrv_ack_latency_seconds_bucket{transport="tcp",le="0.0025"} 2`,
			`statesrv_ack_latency_seconds_bucket{transport="http",le="0.025"} 1`,
			`statesrv_open_runs 1`,
			`statesrv_processes 2`,
			`statesrv_unprocessed_messages 1`,
			`statesrv_log_last_seq 6`,
			`statesrv_views_seq 6`,
			`statesrv_commit_batches_total 1`,
			`statesrv_commit_events_total 6`,
			`statesrv_commit_events_per_batch 6`,
			`statesrv_slow_commits_total `,
			`statesrv_commit_max_seconds `,
			`statesrv_events_applied_total{type="RunStarted"} 2`,
			`statesrv_events_applied_total{type="MessageRejected"} 1`,
			`statesrv_runs_finished_total{state="FAIL"} 1`,
			`statesrv_process_last_state{name="backup",process_id="7",state="FAIL"} 1`,
			`statesrv_process_last_state{name="backup",process_id="7",state="OK"} 0`,
			`statesrv_process_last_state{name="export",process_id="8",state="OK"} 0`,
			`statesrv_process_last_finished_timestamp_seconds{name="backup",process_id="7"} ` +
				strconv.FormatFloat(float64(t0.Add(time.Minute).Unix()), 'g', -1, 64),
			`statesrv_process_last_duration_seconds{name="backup",process_id="7"} `,
			`go_goroutines `,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("no %q in:\n%s", want, body)
			}
		}
		if strings.Contains(body, `process_last_success_timestamp_seconds{name="backup"`) {
			t.Errorf("a process whose only run failed has a last success time:\n%s", body)
		}
		if strings.Contains(body, `process_last_finished_timestamp_seconds{name="export"`) {
			t.Errorf("a process that never finished a run has a last finished time:\n%s", body)
		}
	})

	t.Run("Lint", func(t *testing.T) {
		// The registry is private, so lint what the handler serves.
		problems, err := testutil.GatherAndLint(metrics.Gatherer(m))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			if strings.HasPrefix(p.Metric, "statesrv_") {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		}
	})
}
