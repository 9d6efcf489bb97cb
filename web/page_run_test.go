package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

// runEventTypes returns the types of a run page's events, in order.
func runEventTypes(doc *goquery.Document) []string {
	var types []string
	testid(doc, "run-event").Each(func(_ int, s *goquery.Selection) {
		types = append(types, s.AttrOr("data-type", ""))
	})
	return types
}

func TestRunPage(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	p := pushOnly(25, "backup")
	p.Alerts.Fail = []string{"mailto:ops@example.com"}
	e.define(t, p)
	e.define(t, pushOnly(26, "other"))
	e.report(t, "#id=25;state=START")
	e.report(t, "#id=26;state=OK") // another process meanwhile
	e.Clock.Advance(90 * time.Second)
	e.report(t, "#id=25;state=FAIL;msg=disk full;code=3")
	var alertID string
	e.Runner.View(func(c *projections.Core) {
		for id := range c.Alerts {
			alertID = id
		}
	})
	if alertID == "" {
		t.Fatal("no alert requested")
	}
	e.report(t, "#id=25;state=OK") // the next run of the process
	if rc := e.Service.AlertDelivered(alertID, 2); rc != nil {
		e.wait(t, rc)
	}
	runs := allHistory(t, e, projections.HistoryQuery{ProcessID: 25})
	failed := runs[1]

	t.Run("Finished", func(t *testing.T) {
		doc := e.page(t, "/runs/"+failed.ID)
		want := []string{statesrv.EventMessageReceived, statesrv.EventRunStarted, statesrv.EventMessageReceived,
			statesrv.EventRunFinished, statesrv.EventAlertRequested, statesrv.EventAlertDelivered}
		if got := runEventTypes(doc); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		var seqs []uint64
		testid(doc, "run-event").Each(func(_ int, s *goquery.Selection) {
			n, _ := strconv.ParseUint(s.AttrOr("data-seq", ""), 10, 64)
			seqs = append(seqs, n)
		})
		if !slices.IsSorted(seqs) || slices.Contains(seqs, 0) {
			t.Errorf("events out of order: %v", seqs)
		}
		lines := testid(doc, "raw-line")
		if lines.Length() != 2 || lines.Eq(1).Text() != "#id=25;state=FAIL;msg=disk full;code=3" {
			t.Errorf("raw lines %q", lines.Text())
		}
		if testid(doc, "run-message").Text() != "disk full" || testid(doc, "run-code").Text() != "3" ||
			testid(doc, "run-took").Text() != "1m30s" {
			t.Errorf("props %q", testid(doc, "run-props").Text())
		}
		if href := testid(doc, "run-process").AttrOr("href", ""); href != "/processes/25" {
			t.Errorf("process link %q", href)
		}
		if !strings.Contains(testid(doc, "run-title").Text(), "FAIL") {
			t.Errorf("title %q", testid(doc, "run-title").Text())
		}
	})
	t.Run("Open", func(t *testing.T) {
		e.report(t, "#id=26;state=START")
		var open statesrv.Run
		e.Runner.View(func(c *projections.Core) { open = *c.OpenRuns(26)[0] })
		doc := e.page(t, "/runs/"+open.ID)
		want := []string{statesrv.EventMessageReceived, statesrv.EventRunStarted}
		if got := runEventTypes(doc); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if doc.Find("main[data-live]").Length() != 1 || !strings.Contains(testid(doc, "run-title").Text(), "RUNNING") {
			t.Error("an open run's page should be live and show RUNNING")
		}
		if doc.Find("[data-deadline]").Length() != 1 || strings.Contains(doc.Find("main").Text(), "@Countdown") {
			t.Error("an open run's page should count down to its deadline")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		res, doc := e.get(t, "/runs/no-such-run")
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", res.StatusCode)
		}
		if !strings.Contains(testid(doc, "error-message").Text(), "no-such-run") {
			t.Errorf("message %q", testid(doc, "error-message").Text())
		}
	})
}

// TestRunPageTimedOut shows a run that timed out and the report that came
// late for it.
func TestRunPageTimedOut(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	p := pushOnly(25, "backup")
	p.MaxRuntime = statesrv.Duration(time.Minute)
	e.define(t, p)
	e.report(t, "#id=25;state=START")
	e.tick(t, 2*time.Minute)
	e.report(t, "#id=25;state=OK;msg=at last")
	runs := allHistory(t, e, projections.HistoryQuery{ProcessID: 25})
	if len(runs) != 1 || runs[0].State != statesrv.StateTimeout {
		t.Fatalf("history %+v, want one TIMEOUT", runs)
	}
	doc := e.page(t, "/runs/"+runs[0].ID)
	want := []string{statesrv.EventMessageReceived, statesrv.EventRunStarted, statesrv.EventRunTimedOut,
		statesrv.EventMessageReceived, statesrv.EventMessageUnprocessed}
	if got := runEventTypes(doc); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// TestFirstSeqAt finds where a time falls in the log, as the run page does
// for runs whose opening seq the views do not know.
func TestFirstSeqAt(t *testing.T) {
	e := newEnv(t) // seq 1 at 08:00
	e.define(t, pushOnly(25, "backup"))
	e.Clock.Advance(time.Minute)
	e.report(t, "#id=25;state=OK") // seqs 3..5 at 08:01
	e.Clock.Advance(time.Minute)
	e.report(t, "#id=25;state=OK") // 6..8 at 08:02
	tests := []struct {
		at   time.Time
		want uint64
	}{
		{t0.Add(-time.Hour), 1},
		{t0, 1},
		{t0.Add(time.Second), 3},
		{t0.Add(time.Minute), 3},
		{t0.Add(2 * time.Minute), 6},
		{t0.Add(time.Hour), 9},
	}
	for _, tt := range tests {
		got, err := projections.FirstSeqAt(context.Background(), e.Log, tt.at)
		if err != nil || got != tt.want {
			t.Errorf("firstSeqAt(%s) = %d, %v; want %d", tt.at.Format(time.TimeOnly), got, err, tt.want)
		}
	}
}
