package main

// GET /metrics scraped from a real server after TCP reports and a ping,
// parsed with the Prometheus text parser.

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// families is a scrape: metric families by name.
type families map[string]*dto.MetricFamily

// scrapeMetrics reads /metrics without a token and parses it.
func (s *testServer) scrapeMetrics() (families, error) {
	status, raw, err := s.do("GET", "/metrics", nil, "Authorization", "")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d: %s", status, raw)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	return families(fams), err
}

// value returns the value of the sample of metric name whose labels
// include the given name, value pairs; ok is false when there is none.
// A histogram's value is its sample count.
func (f families) value(name string, labels ...string) (v float64, ok bool) {
	fam := f[name]
	if fam == nil {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(1, time.Hour))
	s.MustDefine(pushOnly(2, time.Hour))
	c := s.MustDial()
	c.MustAck("#id=1;state=OK")
	c.MustAck("#id=1;state=FAIL;msg=disk full")
	c.MustAck("#id=2;state=OK")
	c.MustAck("#id=99;state=OK") // unknown process: ACK, unprocessed
	if reply := c.MustSend("#state=OK"); reply != "ERR missing id" {
		t.Fatalf("reply %q, want ERR missing id", reply)
	}
	c.MustAck("#id=2;state=START") // stays open
	if status, raw := s.MustDo("GET", "/ping/2/OK?run=nope", nil, "Authorization", ""); status != http.StatusOK {
		t.Fatalf("ping: %d %s", status, raw)
	}
	last := s.Log.LastSeq()

	// The TCP writer counts a reply once it is flushed, and the views lag
	// the log: wait for both.
	var f families
	eventually(t, func() error {
		var err error
		if f, err = s.scrapeMetrics(); err != nil {
			return err
		}
		if v, _ := f.value("statesrv_views_seq"); v != float64(last) {
			return fmt.Errorf("views_seq %v, want %d", v, last)
		}
		if v, _ := f.value("statesrv_ack_latency_seconds", "transport", "tcp"); v != 6 {
			return fmt.Errorf("tcp latency count %v, want 6", v)
		}
		return nil
	})

	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"statesrv_reports_total", []string{"transport", "tcp", "result", "ack"}, 5},
		{"statesrv_reports_total", []string{"transport", "tcp", "result", "err"}, 1},
		{"statesrv_reports_total", []string{"transport", "http", "result", "ack"}, 1},
		{"statesrv_ack_latency_seconds", []string{"transport", "http"}, 1},
		{"statesrv_processes", nil, 2},
		{"statesrv_open_runs", nil, 1},
		{"statesrv_unprocessed_messages", nil, 3}, // unknown process, malformed, the ping's run=nope
		{"statesrv_log_last_seq", nil, float64(last)},
		{"statesrv_commit_events_total", nil, float64(last)},
		{"statesrv_events_applied_total", []string{"type", "RunFinished"}, 3},
		{"statesrv_events_applied_total", []string{"type", "MessageRejected"}, 1},
		{"statesrv_events_applied_total", []string{"type", "MessageUnprocessed"}, 2},
		{"statesrv_events_applied_total", []string{"type", "ProcessDefined"}, 2},
		{"statesrv_runs_finished_total", []string{"state", "OK"}, 2},
		{"statesrv_runs_finished_total", []string{"state", "FAIL"}, 1},
		{"statesrv_process_last_state", []string{"process_id", "1", "name", "job1", "state", "FAIL"}, 1},
		{"statesrv_process_last_state", []string{"process_id", "1", "state", "OK"}, 0},
		{"statesrv_process_last_state", []string{"process_id", "2", "name", "job2", "state", "OK"}, 1},
		{"statesrv_process_last_finished_timestamp_seconds", []string{"process_id", "1"}, float64(t0.Unix())},
	} {
		t.Run(strings.Join(append([]string{tc.name}, tc.labels...), "_"), func(t *testing.T) {
			got, ok := f.value(tc.name, tc.labels...)
			if !ok {
				t.Fatalf("no %s%v in the scrape", tc.name, tc.labels)
			}
			if got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
			}
		})
	}

	t.Run("CommitCounters", func(t *testing.T) {
		batches, _ := f.value("statesrv_commit_batches_total")
		perBatch, _ := f.value("statesrv_commit_events_per_batch")
		maxCommit, _ := f.value("statesrv_commit_max_seconds")
		slow, ok := f.value("statesrv_slow_commits_total")
		if batches < 1 || batches > float64(last) || perBatch != float64(last)/batches || maxCommit <= 0 ||
			!ok || slow > batches {
			t.Errorf("batches %v, per batch %v, max commit %v s, slow %v; %d events", batches, perBatch, maxCommit, slow, last)
		}
	})

	t.Run("GoAndProcessCollectors", func(t *testing.T) {
		if _, ok := f.value("go_goroutines"); !ok {
			t.Error("no go_goroutines")
		}
		if _, ok := f.value("process_start_time_seconds"); !ok {
			t.Error("no process_start_time_seconds")
		}
	})

	t.Run("TextFormat", func(t *testing.T) {
		resp, err := http.Get("http://" + s.HTTPAddr + "/metrics") // no token, no Accept
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("status %d, Content-Type %q; want 200, text/plain", resp.StatusCode, ct)
		}
	})
}
