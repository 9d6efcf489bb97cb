package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
)

// alertsEnv has three alerts: the fail alert of backup (1) could not be
// delivered, its recovered alert was delivered, and the fail alert of
// report (2) is pending.
func alertsEnv(t *testing.T) (e *env, failed, delivered, pending statesrv.Alert) {
	t.Helper()
	e = newEnv(t)
	e.login(t)
	backup := pushProcess(1, "backup", time.Hour)
	backup.Alerts.Fail = []string{"mailto:ops@example.com"}
	backup.Alerts.Recovered = []string{"mailto:lead@example.com"}
	e.define(t, backup)
	report := pushProcess(2, "report", time.Hour)
	report.Alerts.Fail = []string{"mailto:ops@example.com"}
	e.define(t, report)

	e.report(t, "#id=1;state=FAIL;msg=disk full")
	e.Clock.Advance(time.Minute)
	e.report(t, "#id=1;state=OK")
	e.Clock.Advance(time.Minute)
	e.report(t, "#id=2;state=FAIL")
	alerts, err := e.Store.Alerts(10)
	if err != nil || len(alerts) != 3 {
		t.Fatalf("alerts = %+v, %v; want backup's fail and recovered alerts and report's fail alert", alerts, err)
	}
	pending, delivered, failed = alerts[0], alerts[1], alerts[2]
	e.Clock.Advance(time.Minute)
	e.wait(t, e.Service.AlertFailed(failed.ID, 3, "no mail channel configured"))
	e.wait(t, e.Service.AlertDelivered(delivered.ID, 1))
	return e, failed, delivered, pending
}

// alertRows returns the ids of the alert rows of doc, in order.
func alertRows(doc *goquery.Document) []string {
	return attrs(testid(doc, "alert-row"), "data-id")
}

func TestAlertsList(t *testing.T) {
	e, failed, delivered, pending := alertsEnv(t)
	doc := e.page(t, "/alerts")
	if got, want := alertRows(doc), []string{pending.ID, delivered.ID, failed.ID}; !slices.Equal(got, want) {
		t.Fatalf("rows = %v, want %v (newest first)", got, want)
	}
	if doc.Find(`nav a[href="/alerts"][aria-current], nav a[href="/alerts"]`).Length() == 0 {
		t.Error("no Alerts entry in the navigation")
	}
	row := func(id string) *goquery.Selection {
		return doc.Find(`[data-testid="alert-row"][data-id="` + id + `"]`)
	}
	t.Run("Failed", func(t *testing.T) {
		r := row(failed.ID)
		txt := r.Text()
		for _, want := range []string{"backup", "mailto:ops@example.com", "fail", "failed", "no mail channel configured", "3", "2026-11-26 08:00:00 UTC", "2026-11-26 08:03:00 UTC"} {
			if !strings.Contains(txt, want) {
				t.Errorf("failed row = %q, want %q in it", txt, want)
			}
		}
		if href := r.Find(`[data-testid="alert-run"]`).AttrOr("href", ""); href != "/runs/"+failed.RunID || failed.RunID == "" {
			t.Errorf("run link = %q, want /runs/%s", href, failed.RunID)
		}
		if href := r.Find(`a[href="/processes/1"]`).Length(); href != 1 {
			t.Error("no link to the process")
		}
		if r.AttrOr("data-status", "") != statesrv.AlertFailed || r.Find("time").Length() != 2 {
			t.Errorf("failed row: status %q, %d times", r.AttrOr("data-status", ""), r.Find("time").Length())
		}
	})
	t.Run("Delivered", func(t *testing.T) {
		txt := row(delivered.ID).Text()
		for _, want := range []string{"mailto:lead@example.com", "recovered", "delivered"} {
			if !strings.Contains(txt, want) {
				t.Errorf("delivered row = %q, want %q in it", txt, want)
			}
		}
	})
	t.Run("Pending", func(t *testing.T) {
		r := row(pending.ID)
		if !strings.Contains(r.Text(), "pending") || !strings.Contains(r.Text(), "report") || r.Find("time").Length() != 1 {
			t.Errorf("pending row = %q", r.Text())
		}
	})
	t.Run("Filters", func(t *testing.T) {
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"status=failed", []string{failed.ID}},
			{"status=delivered", []string{delivered.ID}},
			{"status=pending", []string{pending.ID}},
			{"status=suppressed", nil},
			{"status=FAILED", []string{failed.ID}},
			{"process=1", []string{delivered.ID, failed.ID}},
			{"process=2", []string{pending.ID}},
			{"process=1&status=failed", []string{failed.ID}},
			{"process=2&status=failed", nil},
			{"process=7", nil},
		} {
			doc := e.page(t, "/alerts?"+c.query)
			if got := alertRows(doc); !slices.Equal(got, c.want) {
				t.Errorf("%s: rows %v, want %v", c.query, got, c.want)
			}
			if c.want == nil && testid(doc, "empty").Length() != 1 {
				t.Errorf("%s: no empty notice", c.query)
			}
		}
	})
	t.Run("BadFilter", func(t *testing.T) {
		for _, c := range []struct{ query, field string }{
			{"status=lost", "status"},
			{"process=abc", "process"},
			{"process=-1", "process"},
			{"before=nope", "before"},
		} {
			res, doc := e.get(t, "/alerts?"+c.query)
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", c.query, res.StatusCode)
			}
			if testid(doc, "error-"+c.field).Length() != 1 {
				t.Errorf("%s: no inline error for %s", c.query, c.field)
			}
			if n := testid(doc, "alert-row").Length(); n != 0 {
				t.Errorf("%s: %d rows shown", c.query, n)
			}
		}
	})
}

func TestAlertsPaging(t *testing.T) {
	e, failed, _, _ := alertsEnv(t)
	// 120 test alerts, all requested at one instant: the pages must order
	// them by id and lose none.
	var rcs []*commands.Receipt
	for range 120 {
		rc, err := e.Service.TestAlert(1, "mailto:ops@example.com", statesrv.ActorAdmin)
		if err != nil {
			t.Fatal(err)
		}
		rcs = append(rcs, rc)
	}
	for _, rc := range rcs {
		e.wait(t, rc)
	}
	all, err := e.Store.Alerts(1000)
	if err != nil || len(all) != 123 {
		t.Fatalf("%d alerts, %v; want 123", len(all), err)
	}
	var want []string
	for _, a := range all {
		want = append(want, a.ID)
	}
	walk := func(t *testing.T, path string) []string {
		var got []string
		pages := 0
		for path != "" {
			doc := e.page(t, path)
			rows := alertRows(doc)
			if len(rows) > alertsPageSize {
				t.Fatalf("%s: %d rows, want at most %d", path, len(rows), alertsPageSize)
			}
			if html, _ := doc.Html(); len(html) > 100<<10 {
				t.Errorf("%s: %d bytes of HTML, want under 100 KB", path, len(html))
			}
			if pages > 0 && testid(doc, "newest-page").Length() != 1 {
				t.Errorf("%s: no link back to the newest", path)
			}
			got = append(got, rows...)
			path = testid(doc, "next-page").AttrOr("href", "")
			if pages++; pages > 10 {
				t.Fatal("more than 10 pages")
			}
		}
		return got
	}
	t.Run("All", func(t *testing.T) {
		if got := walk(t, "/alerts"); !slices.Equal(got, want) {
			t.Errorf("paged through %d alerts, want the %d in order", len(got), len(want))
		}
	})
	t.Run("Filtered", func(t *testing.T) {
		// The filter is kept from page to page.
		got := walk(t, "/alerts?process=1&status=pending")
		if len(got) != 120 || slices.Contains(got, failed.ID) {
			t.Errorf("paged through %d pending alerts of process 1, want the 120 test alerts", len(got))
		}
		if !slices.Equal(got, want[:120]) {
			t.Error("the pending alerts are not the test alerts, newest first")
		}
	})
}

func TestAlertsPause(t *testing.T) {
	e, _, _, _ := alertsEnv(t)
	t.Run("For", func(t *testing.T) {
		res := e.postForm(t, "/alerts/pause", url.Values{"for": {"1h"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("pause: status %d, want 303", res.StatusCode)
		}
		doc := e.page(t, res.Header.Get("Location"))
		if f := doc.Find(".flash").Text(); !strings.Contains(f, "paused until 2026-11-26 09:03:00 UTC") {
			t.Errorf("flash = %q", f)
		}
		if txt := testid(doc, "alerts-paused").Text(); !strings.Contains(txt, "paused") || !strings.Contains(txt, "2026-11-26 09:03:00 UTC") {
			t.Errorf("pause shown as %q", txt)
		}
		if testid(doc, "resume-form").Length() != 1 || testid(doc, "pause-form").Length() != 0 {
			t.Error("paused: want the resume form only")
		}
		evs := e.loggedEvents(t, statesrv.EventAlertsPaused)
		if len(evs) != 1 || evs[0].Actor != statesrv.ActorAdmin || evs[0].ProcessID != 0 {
			t.Fatalf("pause events = %+v, want one of every process by admin", evs)
		}
	})
	t.Run("Resume", func(t *testing.T) {
		res := e.postForm(t, "/alerts/resume", nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("resume: status %d, want 303", res.StatusCode)
		}
		doc := e.page(t, res.Header.Get("Location"))
		if f := doc.Find(".flash").Text(); !strings.Contains(f, "resumed") {
			t.Errorf("flash = %q", f)
		}
		if txt := testid(doc, "alerts-paused").Text(); !strings.Contains(txt, "active") {
			t.Errorf("pause shown as %q", txt)
		}
		evs := e.loggedEvents(t, statesrv.EventAlertsResumed)
		if len(evs) != 1 || evs[0].Actor != statesrv.ActorAdmin || evs[0].ProcessID != 0 {
			t.Fatalf("resume events = %+v, want one of every process by admin", evs)
		}
	})
	t.Run("UntilResumed", func(t *testing.T) {
		res := e.postForm(t, "/alerts/pause", url.Values{"for": {""}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("pause: status %d, want 303", res.StatusCode)
		}
		doc := e.page(t, "/alerts")
		if txt := testid(doc, "alerts-paused").Text(); !strings.Contains(txt, "until resumed") {
			t.Errorf("pause shown as %q", txt)
		}
		// A pause that has run out shows as over.
		e.wait(t, mustReceipt(e.Service.ResumeAlerts(0, statesrv.ActorAdmin)))
		e.wait(t, mustReceipt(e.Service.PauseAlerts(0, e.Clock.Now().Add(time.Minute), statesrv.ActorAdmin)))
		e.Clock.Advance(2 * time.Minute)
		if txt := testid(e.page(t, "/alerts"), "alerts-paused").Text(); !strings.Contains(txt, "active") {
			t.Errorf("a pause run out shown as %q", txt)
		}
		e.wait(t, mustReceipt(e.Service.ResumeAlerts(0, statesrv.ActorAdmin)))
	})
	t.Run("ProcessPauses", func(t *testing.T) {
		e.wait(t, mustReceipt(e.Service.PauseAlerts(2, time.Time{}, statesrv.ActorAdmin)))
		if txt := testid(e.page(t, "/alerts"), "process-pauses").Text(); !strings.Contains(txt, "1") {
			t.Errorf("process pauses = %q, want 1", txt)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		before := e.Log.LastSeq()
		for _, bad := range []string{"abc", "-1h", "0s", "1 hour"} {
			res, doc := e.postFormDoc(t, "/alerts/pause", url.Values{"for": {bad}})
			if res.StatusCode != http.StatusBadRequest || testid(doc, "error-for").Length() != 1 {
				t.Errorf("pause for %q: status %d, %d inline errors", bad, res.StatusCode, testid(doc, "error-for").Length())
			}
			if v := doc.Find(`input[name="for"]`).AttrOr("value", ""); v != bad {
				t.Errorf("pause for %q: the field shows %q", bad, v)
			}
			if testid(doc, "alert-row").Length() != 3 {
				t.Errorf("pause for %q: the list is not shown", bad)
			}
		}
		res, doc := e.postFormDoc(t, "/alerts/resume", nil)
		if res.StatusCode != http.StatusBadRequest || testid(doc, "error-resume").Length() != 1 {
			t.Errorf("resume without a pause: status %d, %d inline errors", res.StatusCode, testid(doc, "error-resume").Length())
		}
		if e.Log.LastSeq() != before {
			t.Error("a refused form changed the log")
		}
	})
}

func mustReceipt(rc *commands.Receipt, err error) *commands.Receipt {
	if err != nil {
		panic(err)
	}
	return rc
}

func TestAlertsTest(t *testing.T) {
	e, _, _, _ := alertsEnv(t)
	t.Run("Sent", func(t *testing.T) {
		res := e.postForm(t, "/alerts/test", url.Values{"process": {"1"}, "recipient": {"mailto:lead@example.com"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("test alert: status %d, want 303", res.StatusCode)
		}
		doc := e.page(t, res.Header.Get("Location"))
		if f := doc.Find(".flash").Text(); !strings.Contains(f, "mailto:lead@example.com") {
			t.Errorf("flash = %q", f)
		}
		evs := e.loggedEvents(t, statesrv.EventAlertRequested)
		last := evs[len(evs)-1]
		if last.Actor != statesrv.ActorAdmin || last.ProcessID != 1 || !strings.Contains(string(last.Data), `"outcome":"test"`) {
			t.Fatalf("test alert recorded as %+v %s", last, last.Data)
		}
		first := testid(doc, "alert-row").First()
		if !strings.Contains(first.Text(), "test") || !strings.Contains(first.Text(), "pending") || !strings.Contains(first.Text(), "mailto:lead@example.com") {
			t.Errorf("newest row = %q, want the test alert", first.Text())
		}
	})
	t.Run("Errors", func(t *testing.T) {
		before := e.Log.LastSeq()
		for _, c := range []struct {
			process, recipient string
			field              string
		}{
			{"", "mailto:ops@example.com", "process"},
			{"abc", "mailto:ops@example.com", "process"},
			{"0", "mailto:ops@example.com", "process"},
			{"99", "mailto:ops@example.com", "process"},
			{"1", "", "recipient"},
			{"1", "mailto:stranger@example.com", "recipient"},
			{"1", "not a uri", "recipient"},
		} {
			res, doc := e.postFormDoc(t, "/alerts/test", url.Values{"process": {c.process}, "recipient": {c.recipient}})
			if res.StatusCode != http.StatusBadRequest || testid(doc, "error-"+c.field).Length() != 1 {
				t.Errorf("test alert %q to %q: status %d, %d inline errors for %s; page says %q", c.process, c.recipient,
					res.StatusCode, testid(doc, "error-"+c.field).Length(), c.field, doc.Find(".field-error").Text())
			}
			if v := doc.Find(`[data-testid="test-alert-form"] input[name="recipient"]`).AttrOr("value", "?"); v != c.recipient {
				t.Errorf("test alert %q to %q: the recipient field shows %q", c.process, c.recipient, v)
			}
		}
		if e.Log.LastSeq() != before {
			t.Error("a refused form changed the log")
		}
	})
}

// The overview finds a failed alert however many alerts came after it.
func TestOverviewFailedAlertBehindNewerOnes(t *testing.T) {
	e, failed, _, _ := alertsEnv(t)
	var rcs []*commands.Receipt
	for range 501 {
		rc, err := e.Service.TestAlert(2, "mailto:ops@example.com", statesrv.ActorAdmin)
		if err != nil {
			t.Fatal(err)
		}
		rcs = append(rcs, rc)
	}
	for _, rc := range rcs {
		e.wait(t, rc)
	}
	doc := e.page(t, "/")
	if got := attrs(testid(doc, "failed-alert"), "data-id"); !slices.Equal(got, []string{failed.ID}) {
		t.Errorf("failed alerts on the overview = %v, want %s", got, failed.ID)
	}
	if href := testid(doc, "all-failed-alerts").AttrOr("href", ""); href != "/alerts?status=failed" {
		t.Errorf("link to the failed alerts = %q", href)
	}
	if got := alertRows(e.page(t, "/alerts?status=failed")); !slices.Equal(got, []string{failed.ID}) {
		t.Errorf("/alerts?status=failed = %v, want %s", got, failed.ID)
	}
}

// TestAlertAttemptsShown records two failed attempts of the pending alert:
// the alerts page, the API and the run page show them with the error.
func TestAlertAttemptsShown(t *testing.T) {
	e, _, _, pending := alertsEnv(t)
	for n := 1; n <= 2; n++ {
		e.Clock.Advance(10 * time.Second)
		retry := e.Clock.Now().Add(time.Duration(n) * 5 * time.Second)
		e.wait(t, e.Service.AlertAttemptFailed(pending.ID, n, "notify: webhook: HTTP 500 Internal Server Error: try "+strconv.Itoa(n), true, retry))
	}

	t.Run("Page", func(t *testing.T) {
		row := e.page(t, "/alerts").Find(`[data-testid="alert-row"][data-id="` + pending.ID + `"]`)
		if got := row.Find(`[data-testid="alert-attempts"]`).Text(); got != "2" {
			t.Errorf("attempts cell = %q, want 2", got)
		}
		if got := row.Find(`[data-testid="alert-error"]`).Text(); got != "notify: webhook: HTTP 500 Internal Server Error: try 2" {
			t.Errorf("error cell = %q, want the last attempt's error", got)
		}
		if got := row.Find(`[data-testid="alert-retry"]`).Text(); !strings.Contains(got, "2026-11-26 08:03:30 UTC") {
			t.Errorf("next attempt = %q, want 08:03:30", got)
		}
		items := row.Find(`[data-testid="alert-attempt-list"] [data-testid="alert-attempt"]`)
		if items.Length() != 2 || !strings.Contains(items.Eq(0).Text(), "try 1") ||
			!strings.Contains(items.Eq(0).Text(), "2026-11-26 08:03:10 UTC") || !strings.Contains(items.Eq(0).Text(), "temporary") {
			t.Errorf("attempt list = %q, want both attempts, oldest first", items.Text())
		}
	})
	t.Run("API", func(t *testing.T) {
		res := e.do(t, http.MethodGet, "/api/v1/alerts?limit=10", nil, http.Header{"Authorization": {"Bearer test-token"}})
		var list api.AlertList
		if err := json.NewDecoder(res.Body).Decode(&list); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("status %d, %v", res.StatusCode, err)
		}
		i := slices.IndexFunc(list, func(a statesrv.Alert) bool { return a.ID == pending.ID })
		if i < 0 {
			t.Fatal("pending alert not listed")
		}
		a := list[i]
		if a.Status != statesrv.AlertPending || a.Attempts != 2 || !strings.HasSuffix(a.Error, "try 2") ||
			a.LastAttemptAt == nil || !a.LastAttemptAt.Equal(t0.Add(3*time.Minute+20*time.Second)) ||
			a.RetryAt == nil || !a.RetryAt.Equal(t0.Add(3*time.Minute+30*time.Second)) || len(a.FailedAttempts) != 2 {
			t.Fatalf("alert = %+v, want two attempts on record", a)
		}
	})
	t.Run("RunPage", func(t *testing.T) {
		doc := e.page(t, "/runs/"+pending.RunID)
		if got := runEventTypes(doc); !slices.Contains(got, statesrv.EventAlertAttemptFailed) {
			t.Errorf("run events %v, want the failed attempts", got)
		}
	})
}
