package web

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
)

// pushProcess is a push-only process; maxRuntime bounds its START runs.
func pushProcess(id int64, name string, maxRuntime time.Duration) statesrv.Process {
	return statesrv.Process{ID: id, Name: name, Enabled: true, MaxRuntime: statesrv.Duration(maxRuntime)}
}

// count reads the number in the element with data-testid id.
func count(t *testing.T, doc *goquery.Document, id string) int {
	t.Helper()
	s := testid(doc, id)
	if s.Length() != 1 {
		t.Fatalf("%d elements with data-testid %q, want 1", s.Length(), id)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s.Text()))
	if err != nil {
		t.Fatalf("%s = %q, not a number", id, s.Text())
	}
	return n
}

func attrs(s *goquery.Selection, name string) []string {
	var out []string
	s.Each(func(_ int, el *goquery.Selection) { out = append(out, el.AttrOr(name, "")) })
	return out
}

func TestOverview(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	fail := pushProcess(1, "backup", time.Hour)
	fail.Alerts.Fail = []string{"mailto:ops@example.com"}
	e.define(t, fail)
	e.define(t, pushProcess(2, "report", 10*time.Minute))
	e.define(t, pushProcess(3, "import", 2*time.Hour))
	e.define(t, pushProcess(4, "export", 30*time.Minute))
	e.define(t, statesrv.Process{ID: 5, Name: "nightly", Schedule: "0 2 * * *", Enabled: true})

	e.report(t, "#id=2;state=START")
	e.tick(t, 11*time.Minute) // 2 times out
	e.report(t, "#id=1;state=FAIL;msg=disk full")
	e.report(t, "#id=1;state=OK")
	e.report(t, "#id=3;state=START")
	e.report(t, "#id=4;state=START")
	e.report(t, "#id=99;state=OK;name=stranger")

	// The fail alert of process 1 cannot be delivered.
	alerts, err := e.Store.Alerts(10)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts = %v, %v; want the fail alert of process 1", alerts, err)
	}
	e.wait(t, e.Service.AlertFailed(alerts[0].ID, 1, "no mail channel configured"))

	doc := e.page(t, "/")
	if doc.Find("main[data-live]").Length() != 1 {
		t.Error("the overview is not live")
	}
	t.Run("FailedRuns", func(t *testing.T) {
		rows := testid(doc, "failed-run")
		if rows.Length() != 2 {
			t.Fatalf("%d failed runs, want 2", rows.Length())
		}
		if txt := rows.Eq(0).Text(); !strings.Contains(txt, "backup") || !strings.Contains(txt, "FAIL") {
			t.Errorf("newest failed run = %q, want backup's FAIL", txt)
		}
		if txt := rows.Eq(1).Text(); !strings.Contains(txt, "report") || !strings.Contains(txt, "TIMEOUT") {
			t.Errorf("older failed run = %q, want report's TIMEOUT", txt)
		}
	})
	t.Run("OpenRunsByDeadline", func(t *testing.T) {
		rows := testid(doc, "open-run")
		if rows.Length() != 2 || !strings.Contains(rows.Eq(0).Text(), "export") || !strings.Contains(rows.Eq(1).Text(), "import") {
			t.Fatalf("open runs = %q, want export (30m) before import (2h)", rows.Text())
		}
		if d := rows.Eq(0).Find("[data-deadline]").AttrOr("data-deadline", ""); d == "" {
			t.Error("open run without a countdown")
		}
	})
	t.Run("Counts", func(t *testing.T) {
		if got := []int{count(t, doc, "count-OK"), count(t, doc, "count-FAIL"), count(t, doc, "count-TIMEOUT")}; got[0] != 1 || got[1] != 1 || got[2] != 1 {
			t.Errorf("counts OK, FAIL, TIMEOUT = %v, want 1 each", got)
		}
		if n := count(t, doc, "unprocessed-count"); n != 1 {
			t.Errorf("unprocessed-count = %d, want 1", n)
		}
		if n := count(t, doc, "process-count"); n != 5 {
			t.Errorf("process-count = %d, want 5", n)
		}
		if n := count(t, doc, "event-count"); uint64(n) != e.Log.LastSeq() {
			t.Errorf("event-count = %d, want %d", n, e.Log.LastSeq())
		}
		if msgs := testid(doc, "unprocessed-message"); msgs.Length() != 1 || !strings.Contains(msgs.Text(), "unknown process") {
			t.Errorf("unprocessed = %q, want the report of 99", msgs.Text())
		}
	})
	t.Run("FailedAlert", func(t *testing.T) {
		rows := testid(doc, "failed-alert")
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "ops@example.com") || !strings.Contains(rows.Text(), "no mail channel") {
			t.Errorf("failed alerts = %q, want the alert to ops", rows.Text())
		}
	})
	t.Run("NextRuns", func(t *testing.T) {
		rows := testid(doc, "next-run")
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "nightly") || !strings.Contains(rows.Text(), "2026-11-27 02:00:00 UTC") {
			t.Errorf("next runs = %q, want nightly at 02:00 tomorrow", rows.Text())
		}
	})
	t.Run("SinceHidesOlderFailures", func(t *testing.T) {
		e.Clock.Advance(2 * time.Hour)
		e.login(t) // the session has been idle too long
		doc := e.page(t, "/?since=1h")
		if n := testid(doc, "failed-run").Length(); n != 0 {
			t.Errorf("%d failed runs in the last hour, want 0", n)
		}
		if n := testid(doc, "failed-alert").Length(); n != 0 {
			t.Errorf("%d failed alerts in the last hour, want 0", n)
		}
		doc = e.page(t, "/?since="+url.QueryEscape(t0.Format("2006-01-02 15:04")))
		if n := testid(doc, "failed-run").Length(); n != 2 {
			t.Errorf("%d failed runs since %s, want 2", n, t0)
		}
	})
	t.Run("BadSince", func(t *testing.T) {
		for _, bad := range []string{"yesterday", "0h", "2099-01-01 00:00"} {
			res, doc := e.get(t, "/?since="+url.QueryEscape(bad))
			if res.StatusCode != http.StatusBadRequest || testid(doc, "error-since").Length() != 1 {
				t.Errorf("since=%s: status %d, error %q; want 400 with an inline error", bad, res.StatusCode, testid(doc, "error-since").Text())
			}
		}
	})
}

func TestOverviewCountsByTheHour(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushProcess(1, "job", time.Hour))
	e.report(t, "#id=1;state=OK") // 08:00
	e.Clock.Advance(30 * time.Minute)
	e.report(t, "#id=1;state=FAIL") // 08:30
	e.Clock.Advance(90 * time.Minute)
	e.report(t, "#id=1;state=OK") // 10:00

	counts := func(t *testing.T) [3]int {
		t.Helper()
		e.login(t) // the clock moved on by a day
		doc := e.page(t, "/")
		return [3]int{count(t, doc, "count-OK"), count(t, doc, "count-FAIL"), count(t, doc, "count-TIMEOUT")}
	}
	// The next day at 08:59 the window starts at 08:00 the day before.
	e.Clock.Set(t0.Add(24*time.Hour + 59*time.Minute))
	if got := counts(t); got != [3]int{2, 1, 0} {
		t.Errorf("at 08:59 the next day: %v, want [2 1 0]", got)
	}
	if _, _, err := e.Runner.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := counts(t); got != [3]int{2, 1, 0} {
		t.Errorf("after a rebuild: %v, want [2 1 0] as before", got)
	}
	// At 09:00 the 08:00 hour leaves it.
	e.Clock.Set(t0.Add(25 * time.Hour))
	if got := counts(t); got != [3]int{1, 0, 0} {
		t.Errorf("at 09:00 the next day: %v, want [1 0 0]", got)
	}
}

func TestOverviewLive(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushProcess(1, "job", time.Hour))
	for _, path := range []string{"/", "/runs", "/unprocessed"} {
		if doc := e.page(t, path); doc.Find("main[data-live][data-seq]").Length() != 1 {
			t.Errorf("%s: no main[data-live]", path)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.Server.URL+"/live", nil)
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	seqs := make(chan uint64, 4)
	go func() {
		defer close(seqs)
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "seq":
				n, _ := strconv.ParseUint(strings.TrimPrefix(line, "data: "), 10, 64)
				seqs <- n
			}
		}
	}()
	next := func() uint64 {
		t.Helper()
		select {
		case n, ok := <-seqs:
			if !ok {
				t.Fatal("the stream ended")
			}
			return n
		case <-ctx.Done():
			t.Fatal("no seq event within the timeout")
		}
		return 0
	}
	first := next()
	if first != e.Runner.Seq() {
		t.Errorf("first seq = %d, want %d", first, e.Runner.Seq())
	}
	e.report(t, "#id=1;state=OK")
	if n := next(); n <= first {
		t.Errorf("after a report seq = %d, want more than %d", n, first)
	}
}
