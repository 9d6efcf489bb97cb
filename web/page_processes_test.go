package web

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

// processForm is a valid form for process 25.
func processForm() url.Values {
	return url.Values{
		"id": {"25"}, "name": {"backup"}, "description": {"nightly dump"},
		"schedule": {"0 2 * * *"}, "timezone": {"Europe/Prague"}, "max_runtime": {"90m"},
		"enabled": {"on"}, "alerts_fail": {"mailto:ops@example.com\nsms:+420600000000"},
		"alerts_timeout": {"https://hooks.example.com/x"}, "alerts_ok": {""}, "alerts_late": {""},
		"alerts_recovered": {""}, "key": {""}, "fired_by": {"server"}, "alert_after": {""}, "repeat_every": {""},
	}
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func backup(id int64) statesrv.Process {
	return statesrv.Process{ID: id, Name: fmt.Sprintf("job %d", id), Schedule: "0 2 * * *", Timezone: "UTC",
		MaxRuntime: statesrv.Duration(time.Hour), Enabled: true}
}

func TestProcessList(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, statesrv.Process{ID: 25, Name: "backup", Schedule: "0 2 * * *", Timezone: "Europe/Prague",
		MaxRuntime: statesrv.Duration(2 * time.Hour), Enabled: true})
	e.define(t, statesrv.Process{ID: 7, Name: "Push job", Enabled: true})
	e.define(t, statesrv.Process{ID: 300, Name: "reports", Schedule: "*/15 * * * *", Enabled: false})

	t.Run("OK", func(t *testing.T) {
		doc := e.page(t, "/processes")
		if testid(doc, "new-process").AttrOr("href", "") != "/processes/new" {
			t.Error("no New process link")
		}
		rows := testid(doc, "process-row")
		if rows.Length() != 3 {
			t.Fatalf("rows = %d, want 3", rows.Length())
		}
		var ids []string
		rows.Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr("data-id", "")) })
		if strings.Join(ids, ",") != "7,25,300" {
			t.Errorf("ids = %v, want by id", ids)
		}
		row := doc.Find(`[data-testid="process-row"][data-id="25"]`)
		text := row.Text()
		for _, want := range []string{"backup", "every day at 02:00", "0 2 * * *", "Europe/Prague", "2h", "enabled"} {
			if !strings.Contains(text, want) {
				t.Errorf("row 25 lacks %q: %q", want, text)
			}
		}
		if row.Find("a").AttrOr("href", "") != "/processes/25" {
			t.Error("row 25 does not link to its page")
		}
		if row.Find("time").Length() == 0 {
			t.Error("row 25 shows no next fire time")
		}
		if !strings.Contains(doc.Find(`[data-testid="process-row"][data-id="7"]`).Text(), "push-only") {
			t.Error("row 7 is not push-only")
		}
		if !strings.Contains(doc.Find(`[data-testid="process-row"][data-id="300"]`).Text(), "disabled") {
			t.Error("row 300 is not disabled")
		}
	})
	t.Run("SearchByName", func(t *testing.T) {
		doc := e.page(t, "/processes?q=PUSH")
		if rows := testid(doc, "process-row"); rows.Length() != 1 || rows.AttrOr("data-id", "") != "7" {
			t.Errorf("q=PUSH: %d rows", rows.Length())
		}
	})
	t.Run("SearchByID", func(t *testing.T) {
		doc := e.page(t, "/processes?q=300")
		if rows := testid(doc, "process-row"); rows.Length() != 1 || rows.AttrOr("data-id", "") != "300" {
			t.Errorf("q=300: %d rows", rows.Length())
		}
	})
	t.Run("NoMatch", func(t *testing.T) {
		doc := e.page(t, "/processes?q=nothing")
		if testid(doc, "empty").Length() != 1 {
			t.Error("no empty note")
		}
	})
	t.Run("ErrBadCursor", func(t *testing.T) {
		res, doc := e.get(t, "/processes?after=x")
		if res.StatusCode != http.StatusBadRequest || testid(doc, "error-after").Length() != 1 {
			t.Errorf("status %d, error shown %d", res.StatusCode, testid(doc, "error-after").Length())
		}
	})
	t.Run("Paused", func(t *testing.T) {
		e.wait(t, must(e.Service.PauseAlerts(25, time.Time{}, "admin")))
		doc := e.page(t, "/processes")
		if doc.Find(`[data-testid="process-row"][data-id="25"] [data-testid="paused"]`).Length() != 1 {
			t.Error("row 25 not shown paused")
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// defineMany defines processes 1..n through ApplyDefinitions in chunks of
// 1,000.
func defineMany(t testing.TB, e *env, n int) {
	t.Helper()
	for lo := 1; lo <= n; lo += 1000 {
		var batch []statesrv.Process
		for id := lo; id < lo+1000 && id <= n; id++ {
			p := backup(int64(id))
			p.Alerts.Fail = []string{"mailto:ops@example.com"}
			batch = append(batch, p)
		}
		rc, _, err := e.Service.ApplyDefinitions(batch, nil, statesrv.ActorAdmin)
		if err != nil {
			t.Fatal(err)
		}
		e.wait(t, rc)
	}
}

func TestProcessListPaging(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	defineMany(t, e, 150)
	doc := e.page(t, "/processes")
	rows := testid(doc, "process-row")
	if rows.Length() != 100 || rows.Last().AttrOr("data-id", "") != "100" {
		t.Fatalf("page 1: %d rows, last %s", rows.Length(), rows.Last().AttrOr("data-id", ""))
	}
	next := testid(doc, "next-page").AttrOr("href", "")
	if next == "" {
		t.Fatal("no next-page link")
	}
	doc = e.page(t, next)
	rows = testid(doc, "process-row")
	if rows.Length() != 50 || rows.First().AttrOr("data-id", "") != "101" {
		t.Fatalf("page 2: %d rows, first %s", rows.Length(), rows.First().AttrOr("data-id", ""))
	}
	if testid(doc, "next-page").Length() != 0 {
		t.Error("page 2 links to a next page")
	}
	if testid(doc, "first-page").Length() != 1 {
		t.Error("page 2 has no first-page link")
	}
}

func TestProcessListLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("defines 10,000 processes")
	}
	e := newEnv(t)
	e.login(t)
	defineMany(t, e, 10_000)
	for _, path := range []string{"/processes", "/processes?after=9950", "/processes?q=job"} {
		res := e.do(t, http.MethodGet, path, nil, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		if len(body) > 100<<10 {
			t.Errorf("GET %s: %d bytes, want under 100 KB", path, len(body))
		}
		t.Logf("GET %s: %d bytes", path, len(body))
	}
	if n := len(e.page(t, "/processes/5000").Find(`[data-testid="change-row"]`).Nodes); n != 1 {
		t.Errorf("process 5000: %d changes, want 1", n)
	}
}

func TestProcessCreate(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	res := e.postForm(t, "/processes", processForm())
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", res.StatusCode)
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc.Path != "/processes/25" || loc.Query().Get("flash") != "Saved." {
		t.Fatalf("Location %s", loc)
	}
	ps, ok := e.Service.Process(25)
	if !ok || ps.Name != "backup" || ps.Schedule != "0 2 * * *" || ps.Timezone != "Europe/Prague" ||
		time.Duration(ps.MaxRuntime) != 90*time.Minute || !ps.Enabled || len(ps.Alerts.Fail) != 2 {
		t.Fatalf("defined %+v", ps.Process)
	}
	doc := e.page(t, loc.String())
	if got := testid(doc, "process-name").Text(); got != "backup" {
		t.Errorf("process-name %q", got)
	}
	if testid(doc, "flash").Text() != "Saved." {
		t.Error("no Saved. flash")
	}
	if !strings.Contains(testid(doc, "process-schedule").Text(), "every day at 02:00") {
		t.Errorf("schedule %q", testid(doc, "process-schedule").Text())
	}
	if n := testid(doc, "process-next").Find("time").Length(); n != 5 {
		t.Errorf("%d next fire times, want 5", n)
	}
	rows := testid(doc, "change-row")
	if rows.Length() != 1 || rows.Find(`[data-testid="change-actor"]`).Text() != "admin" ||
		rows.Find(`[data-testid="change-kind"]`).Text() != "created" {
		t.Fatalf("change history: %q", testid(doc, "change-history").Text())
	}
	if !strings.Contains(rows.Text(), "schedule: 0 2 * * *") {
		t.Errorf("created entry lacks the schedule: %q", rows.Text())
	}
}

func TestProcessNewForm(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	doc := e.page(t, "/processes/new?id=42&name=nightly+sync")
	form := testid(doc, "process-form")
	if form.Length() != 1 || form.AttrOr("action", "") != "/processes" {
		t.Fatal("no process form posting to /processes")
	}
	for name, want := range map[string]string{"id": "42", "name": "nightly sync", "timezone": "UTC", "max_runtime": "1h"} {
		if got := form.Find(`input[name="`+name+`"]`).AttrOr("value", ""); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, checked := form.Find(`input[name="enabled"]`).Attr("checked"); !checked {
		t.Error("enabled is not ticked")
	}
	for _, name := range []string{"description", "alerts_ok", "alerts_fail", "alerts_timeout", "alerts_late", "alerts_recovered"} {
		if form.Find(`textarea[name="`+name+`"]`).Length() != 1 {
			t.Errorf("no textarea %s", name)
		}
	}
	if testid(doc, "process-save").Length() != 1 || testid(doc, "schedule-preview").Length() != 1 {
		t.Error("no save button or preview target")
	}
	if _, ok := testid(doc, "schedule-preview").Attr("data-preview"); !ok {
		t.Error("preview target lacks data-preview")
	}
}

func TestProcessCreateErrors(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, backup(7))
	tests := []struct {
		name   string
		form   url.Values
		fields map[string]string // field → part of its message
	}{
		{"ErrBadSchedule", with(processForm(), "schedule", "61 * * * *"), map[string]string{"schedule": "minute"}},
		{"ErrBadRecipient", with(processForm(), "alerts_fail", "mailto:ops@example.com\npager:42"),
			map[string]string{"alerts_fail": "Line 2"}},
		{"ErrBadEmail", with(processForm(), "alerts_ok", "mailto:not an address"), map[string]string{"alerts_ok": "Line 1"}},
		{"ErrBadDuration", with(processForm(), "max_runtime", "2 hours"), map[string]string{"max_runtime": "2 hours"}},
		{"ErrZeroDuration", with(processForm(), "max_runtime", "0s"), map[string]string{"max_runtime": "at least 1s"}},
		{"ErrBadZone", with(processForm(), "timezone", "Mars/Olympus"), map[string]string{"timezone": "Mars/Olympus"}},
		{"ErrDuplicateID", with(processForm(), "id", "7"), map[string]string{"id": "already defined"}},
		{"ErrBadID", with(processForm(), "id", "-3"), map[string]string{"id": "positive"}},
		{"ErrNameRequired", with(processForm(), "name", "  "), map[string]string{"name": "required"}},
		{"ErrBadAlertAfter", with(processForm(), "alert_after", "many"), map[string]string{"alert_after": "0 to 1000"}},
		{"ErrBadRepeat", with(processForm(), "repeat_every", "10s"), map[string]string{"repeat_every": "1m"}},
		{"ErrAllAtOnce", with(processForm(), "id", "x", "name", "", "schedule", "* * *", "timezone", "Nowhere",
			"max_runtime", "soon", "alerts_timeout", "ftp://x"),
			map[string]string{"id": "positive", "name": "required", "schedule": "5 or 6 fields", "timezone": "Nowhere",
				"max_runtime": "soon", "alerts_timeout": "Line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.Log.LastSeq()
			res, doc := e.postFormDoc(t, "/processes", tt.form)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", res.StatusCode)
			}
			if e.Log.LastSeq() != before {
				t.Errorf("the log grew from %d to %d", before, e.Log.LastSeq())
			}
			shown := doc.Find(`[data-testid^="error-"]`)
			if shown.Length() != len(tt.fields) {
				t.Errorf("%d errors shown, want %d: %q", shown.Length(), len(tt.fields), shown.Text())
			}
			for field, want := range tt.fields {
				msg := testid(doc, "error-"+field)
				if !strings.Contains(msg.Text(), want) {
					t.Errorf("error-%s = %q, want it to say %q", field, msg.Text(), want)
				}
				in := doc.Find(`[name="` + field + `"]`)
				if in.AttrOr("aria-invalid", "") != "true" || in.AttrOr("aria-describedby", "") != "err-"+field {
					t.Errorf("%s: aria-invalid %q, aria-describedby %q", field, in.AttrOr("aria-invalid", ""), in.AttrOr("aria-describedby", ""))
				}
			}
			// What was typed stays.
			form := testid(doc, "process-form")
			for _, f := range []string{"id", "name", "schedule", "timezone", "max_runtime"} {
				if got := form.Find(`input[name="`+f+`"]`).AttrOr("value", ""); got != tt.form.Get(f) {
					t.Errorf("%s re-shown as %q, typed %q", f, got, tt.form.Get(f))
				}
			}
			if got := form.Find(`textarea[name="alerts_fail"]`).Text(); got != tt.form.Get("alerts_fail") {
				t.Errorf("alerts_fail re-shown as %q", got)
			}
		})
	}
	if _, ok := e.Service.Process(25); ok {
		t.Error("process 25 was saved")
	}
}

func TestProcessFormPreviewShownAgain(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	_, doc := e.postFormDoc(t, "/processes", with(processForm(), "name", ""))
	p := testid(doc, "schedule-preview")
	if !strings.Contains(p.Find(`[data-testid="preview-words"]`).Text(), "every day at 02:00") {
		t.Errorf("preview words %q", p.Text())
	}
	if n := p.Find(`[data-testid="preview-fire"]`).Length(); n != 5 {
		t.Errorf("%d fire times in the re-shown form, want 5", n)
	}
	_, doc = e.postFormDoc(t, "/processes", with(processForm(), "schedule", "bogus"))
	if testid(doc, "schedule-preview").Find(`[data-testid="preview-error"]`).Length() != 1 {
		t.Error("the re-shown preview shows no error")
	}
}

func TestProcessEdit(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, statesrv.Process{ID: 25, Name: "backup", Schedule: "0 2 * * *", Timezone: "UTC",
		MaxRuntime: statesrv.Duration(time.Hour), Enabled: true, Alerts: statesrv.Alerts{Fail: []string{"mailto:a@example.com"}},
		Maintenance: []statesrv.Window{{Schedule: "0 3 * * 0", Duration: statesrv.Duration(time.Hour)}}})
	doc := e.page(t, "/processes/25/edit")
	form := testid(doc, "process-form")
	if form.AttrOr("action", "") != "/processes/25" {
		t.Fatalf("action %q", form.AttrOr("action", ""))
	}
	if _, ro := form.Find(`input[name="id"]`).Attr("readonly"); !ro {
		t.Error("id is editable")
	}
	if got := form.Find(`textarea[name="alerts_fail"]`).Text(); got != "mailto:a@example.com" {
		t.Errorf("alerts_fail %q", got)
	}
	if testid(doc, "maintenance-kept").Length() != 1 {
		t.Error("no note on the kept maintenance windows")
	}

	t.Run("OK", func(t *testing.T) {
		v := url.Values{"id": {"99"}, "name": {"backup"}, "schedule": {"0 3 * * *"}, "timezone": {"UTC"},
			"max_runtime": {"1h"}, "enabled": {"on"}, "alerts_fail": {"mailto:a@example.com"}}
		res := e.postForm(t, "/processes/25", v)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/processes/25?") {
			t.Fatalf("status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
		}
		if _, ok := e.Service.Process(99); ok {
			t.Error("the edit defined process 99")
		}
		ps, _ := e.Service.Process(25)
		if ps.Schedule != "0 3 * * *" || len(ps.Maintenance) != 1 {
			t.Errorf("process 25: schedule %q, %d windows", ps.Schedule, len(ps.Maintenance))
		}
		doc := e.page(t, "/processes/25")
		rows := testid(doc, "change-row")
		if rows.Length() != 2 {
			t.Fatalf("%d changes, want 2", rows.Length())
		}
		newest := rows.First()
		if newest.Find(`[data-testid="change-actor"]`).Text() != "admin" || newest.Find(`[data-testid="change-kind"]`).Text() != "changed" {
			t.Errorf("newest change: %q", newest.Text())
		}
		lines := newest.Find(`[data-testid="change-line"]`)
		if lines.Length() != 1 || lines.Text() != "schedule: 0 2 * * * → 0 3 * * *" {
			t.Errorf("diff %q", lines.Text())
		}
		if rows.Last().Find(`[data-testid="change-kind"]`).Text() != "created" {
			t.Error("oldest change is not the creation")
		}
	})
	t.Run("ErrBadSchedule", func(t *testing.T) {
		before := e.Log.LastSeq()
		res, doc := e.postFormDoc(t, "/processes/25", url.Values{"name": {"backup"}, "schedule": {"0 25 * * *"}})
		if res.StatusCode != http.StatusBadRequest || testid(doc, "error-schedule").Length() != 1 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if e.Log.LastSeq() != before {
			t.Error("the log grew")
		}
		if got := testid(doc, "process-form").Find(`input[name="id"]`).AttrOr("value", ""); got != "25" {
			t.Errorf("id re-shown as %q", got)
		}
	})
	t.Run("Unchanged", func(t *testing.T) {
		res := e.postForm(t, "/processes/25", url.Values{"name": {"backup"}, "schedule": {"0 3 * * *"},
			"timezone": {"UTC"}, "max_runtime": {"1h"}, "enabled": {"on"}, "alerts_fail": {"mailto:a@example.com"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", res.StatusCode)
		}
		if n := testid(e.page(t, "/processes/25"), "change-row").Length(); n != 2 {
			t.Errorf("%d changes after saving an unchanged form, want 2", n)
		}
	})
}

func TestProcessChangeHistoryBounded(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	for i := range 60 {
		p := backup(25)
		p.Description = fmt.Sprintf("version %d", i)
		e.define(t, p)
		e.report(t, "#id=25;state=OK")
	}
	doc := e.page(t, "/processes/25")
	rows := testid(doc, "change-row")
	if rows.Length() != maxChanges {
		t.Fatalf("%d changes, want %d", rows.Length(), maxChanges)
	}
	if got := rows.First().Find(`[data-testid="change-line"]`).Text(); got != "description: version 58 → version 59" {
		t.Errorf("newest diff %q", got)
	}
	if got := rows.Last().Find(`[data-testid="change-line"]`).Text(); got != "description: version 9 → version 10" {
		t.Errorf("oldest shown diff %q", got)
	}
	if !strings.Contains(testid(doc, "change-history").Text(), "Older changes") {
		t.Error("no note on older changes")
	}
}

func TestProcessDelete(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, backup(25))
	doc := e.page(t, "/processes/25")
	form := testid(doc, "delete-process").Closest("form")
	if form.AttrOr("action", "") != "/processes/25/delete" || form.AttrOr("data-confirm", "") == "" {
		t.Errorf("delete form: action %q", form.AttrOr("action", ""))
	}
	res := e.postForm(t, "/processes/25/delete", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/processes?") {
		t.Fatalf("status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, ok := e.Service.Process(25); ok {
		t.Error("process 25 still defined")
	}
	if res, _ := e.get(t, "/processes/25"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /processes/25 after delete: %d", res.StatusCode)
	}
	if res := e.postForm(t, "/processes/25/delete", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("second delete: %d, want 404", res.StatusCode)
	}
}

func TestProcessStartRun(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, backup(25))
	res := e.postForm(t, "/processes/25/start", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", res.StatusCode)
	}
	runs := e.Service.OpenRuns()
	if len(runs) != 1 || runs[0].Source != statesrv.SourceManual {
		t.Fatalf("open runs %+v", runs)
	}
	doc := e.page(t, res.Header.Get("Location"))
	row := testid(doc, "run-row")
	if row.Length() != 1 || row.Find("a").AttrOr("href", "") != "/runs/"+runs[0].ID {
		t.Fatalf("run rows: %d", row.Length())
	}
	if !strings.Contains(testid(doc, "flash").Text(), runs[0].ID) {
		t.Errorf("flash %q", testid(doc, "flash").Text())
	}
	// A finished run shows from history.
	e.report(t, "#id=25;state=OK;run="+runs[0].ID)
	doc = e.page(t, "/processes/25")
	if row := testid(doc, "run-row"); row.Length() != 1 || !strings.Contains(row.Text(), "OK") {
		t.Errorf("after OK: %q", row.Text())
	}
}

func TestProcessPauseResume(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, backup(25))
	res := e.postForm(t, "/processes/25/pause", url.Values{"for": {"4h"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pause: status %d", res.StatusCode)
	}
	doc := e.page(t, "/processes/25")
	if !strings.Contains(testid(doc, "process-paused").Text(), "paused") || testid(doc, "resume-alerts").Length() != 1 {
		t.Fatalf("not shown paused: %q", testid(doc, "process-paused").Text())
	}
	if res := e.postForm(t, "/processes/25/resume", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: status %d", res.StatusCode)
	}
	doc = e.page(t, "/processes/25")
	if testid(doc, "process-paused").Text() != "active" || testid(doc, "pause-alerts").Length() != 1 {
		t.Errorf("after resume: %q", testid(doc, "process-paused").Text())
	}
	if res := e.postForm(t, "/processes/25/pause", url.Values{"for": {"soon"}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad duration: status %d, want 400", res.StatusCode)
	}
	if res := e.postForm(t, "/processes/25/resume", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("resume without a pause: status %d, want 404", res.StatusCode)
	}
	var actor string
	evs, err := apiEvents(t.Context(), e.Log, e.Store, projections.EventFilter{ProcessID: 25, Type: statesrv.EventAlertsPaused})
	if err == nil && len(evs) == 1 {
		actor = evs[0].Actor
	}
	if actor != "admin" {
		t.Errorf("pause recorded by %q, want admin", actor)
	}
}

func TestSchedulePreview(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	t.Run("OK", func(t *testing.T) {
		res, doc := e.get(t, "/processes/preview?schedule=0+2+*+*+*&timezone=Europe/Prague")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if doc.Find("html header, nav").Length() != 0 {
			t.Error("the fragment has the layout")
		}
		if !strings.Contains(testid(doc, "preview-words").Text(), "every day at 02:00") {
			t.Errorf("words %q", testid(doc, "preview-words").Text())
		}
		fires := testid(doc, "preview-fire")
		if fires.Length() != 5 {
			t.Fatalf("%d fire times, want 5", fires.Length())
		}
		// 02:00 in Prague in winter is 01:00 UTC; the clock is at 2026-11-26 08:00 UTC.
		first := fires.First()
		if !strings.Contains(first.Text(), "2026-11-27 02:00:00 CET") ||
			first.Find("time").AttrOr("datetime", "") != "2026-11-27T01:00:00Z" {
			t.Errorf("first fire %q", first.Text())
		}
	})
	t.Run("PushOnly", func(t *testing.T) {
		doc := e.page(t, "/processes/preview?schedule=&timezone=UTC")
		if !strings.Contains(testid(doc, "preview-words").Text(), "Push-only") {
			t.Errorf("%q", doc.Text())
		}
	})
	t.Run("ErrBadSchedule", func(t *testing.T) {
		res, doc := e.get(t, "/processes/preview?schedule=0+2+*+*&timezone=UTC")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(testid(doc, "preview-error").Text(), "5 or 6 fields") {
			t.Errorf("status %d, %q", res.StatusCode, doc.Text())
		}
	})
	t.Run("ErrScheduleBeforeZone", func(t *testing.T) {
		_, doc := e.get(t, "/processes/preview?schedule=0+2+*+*&timezone=Nowhere")
		if !strings.Contains(testid(doc, "preview-error").Text(), "5 or 6 fields") {
			t.Errorf("%q", doc.Text())
		}
	})
	t.Run("ErrBadZone", func(t *testing.T) {
		res, doc := e.get(t, "/processes/preview?schedule=@daily&timezone=Nowhere")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(testid(doc, "preview-error").Text(), "Nowhere") {
			t.Errorf("status %d, %q", res.StatusCode, doc.Text())
		}
	})
}

func TestProcessNotFound(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	for _, path := range []string{"/processes/999", "/processes/999/edit"} {
		if res, _ := e.get(t, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/processes/999", "/processes/999/start", "/processes/999/pause", "/processes/999/delete"} {
		if res := e.postForm(t, path, processForm()); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, res.StatusCode)
		}
	}
	if res, _ := e.get(t, "/processes/abc"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /processes/abc: %d, want 400", res.StatusCode)
	}
}

func TestProcessPagesNeedLogin(t *testing.T) {
	e := newEnv(t)
	res, _ := e.get(t, "/processes/new")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("GET without session: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := e.postForm(t, "/processes", processForm()); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without session: %d", res.StatusCode)
	}
	if _, ok := e.Service.Process(25); ok {
		t.Error("defined without a session")
	}
}

// TestProcessFormAttributes parses the new and the edit form, with and
// without field errors, and checks that every input has only attributes
// an input may have (a template's stray "else" once became one).
func TestProcessFormAttributes(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, statesrv.Process{ID: 25, Name: "backup", Schedule: "0 2 * * *", Timezone: "UTC",
		MaxRuntime: statesrv.Duration(time.Hour), Enabled: true})
	_, invalid := e.postFormDoc(t, "/processes", with(processForm(), "schedule", "bogus"))
	allowed := map[string]bool{"id": true, "name": true, "type": true, "value": true, "aria-invalid": true,
		"aria-describedby": true, "readonly": true, "required": true, "checked": true, "placeholder": true,
		"autocomplete": true, "list": true, "min": true, "max": true, "step": true, "inputmode": true,
		"pattern": true, "autofocus": true, "data-testid": true, "class": true, "form": true, "size": true, "maxlength": true, "rows": true, "cols": true}
	for name, doc := range map[string]*goquery.Document{
		"new": e.page(t, "/processes/new"), "edit": e.page(t, "/processes/25/edit"), "with errors": invalid,
	} {
		doc.Find("input, textarea, select").Each(func(_ int, s *goquery.Selection) {
			for _, a := range s.Nodes[0].Attr {
				if !allowed[a.Key] && !strings.HasPrefix(a.Key, "data-") {
					t.Errorf("%s form: <%s name=%q> has attribute %q", name, s.Nodes[0].Data, s.AttrOr("name", ""), a.Key)
				}
			}
		})
	}
}
