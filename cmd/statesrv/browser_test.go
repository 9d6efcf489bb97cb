package main

// The dashboard in a real browser: headless Chromium against the real Main
// on random ports, driven the way an operator would (issue 3). Every page
// visited is saved as a screenshot under $STATESRV_ARTIFACTS/screenshots.

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/statesrv/statesrv"
)

// jaja is the process the scenario defines through the form.
func jaja() statesrv.Process {
	return statesrv.Process{ID: 25, Name: "JajaBackupData", Schedule: "0 2 * * *", Timezone: "Europe/Prague",
		MaxRuntime: statesrv.Duration(2 * time.Hour), Enabled: true,
		Alerts: statesrv.Alerts{Fail: []string{"mailto:ops@example.com"}}}
}

// ensureJaja defines process 25 through the API when the form did not, so
// that one broken page does not hide what the later ones do.
func ensureJaja(t *testing.T, s *testServer) {
	t.Helper()
	if status, _ := withTB(s, t).MustDo("GET", "/api/v1/processes/25", nil); status == http.StatusNotFound {
		t.Log("process 25 was not defined through the form; defining it through the API")
		withTB(s, t).MustDefine(jaja())
	}
}

func TestBrowser(t *testing.T) {
	chromium := mustChromium(t)
	s := openBrowserServer(t)
	b := mustBrowser(t, chromium, "http://"+s.HTTPAddr)
	form := tid("process-form")
	field := func(name string) string { return form + ` [name="` + name + `"]` }
	preview := tid("schedule-preview")

	// Keyboard only: Tab reaches the user, the password and the button in
	// that order, and Enter submits.
	t.Run("KeyboardLogin", func(t *testing.T) {
		status := b.open(t, "/")
		b.shot(t, "login")
		b.mustStatus(t, "GET / without a session (the login page)", status, 200)
		if p := b.path(t); !strings.HasPrefix(p, "/login") {
			t.Fatalf("GET / without a session shows %s, want the login page", p)
		}
		// Start the focus walk at the heading above the form, as a click
		// there would.
		b.click(t, "main h1")
		var walk []string
		press := func(want string) {
			b.do(t, "press Tab", chromedp.KeyEvent(kb.Tab))
			got := b.focused(t)
			walk = append(walk, got)
			if got != want {
				t.Fatalf("Tab from the heading went %v, want user, password, login-submit", walk)
			}
		}
		press("user")
		b.do(t, "type the user", chromedp.KeyEvent("admin"))
		press("password")
		b.do(t, "type the password", chromedp.KeyEvent(browserPassword))
		press("login-submit")
		b.load(t, "press Enter on the button", chromedp.KeyEvent(kb.Enter))
		if p := b.path(t); p != "/" {
			t.Fatalf("after login the tab shows %s, want /", p)
		}
		if b.count(t, tid("logout")) != 1 {
			t.Fatal("after login there is no log-out button")
		}
	})

	t.Run("LogoutAfterKeyboardLogin", func(t *testing.T) {
		b.follow(t, tid("logout"))
		b.waitFn(t, "the login form", has(tid("login-form")))
	})

	// Log in with the mouse from a deep link: the login page sends the
	// browser back where it was going.
	t.Run("Login", func(t *testing.T) {
		b.open(t, "/history?state=FAIL")
		if p := b.path(t); !strings.HasPrefix(p, "/login?next=") {
			t.Fatalf("GET /history without a session shows %s, want /login?next=…", p)
		}
		b.logIn(t, "/history?state=FAIL")
		if b.count(t, tid("logout")) != 1 {
			t.Fatal("after login there is no log-out button")
		}
	})

	t.Run("ProcessForm", func(t *testing.T) {
		b.mustOpen(t, "/processes/new", "process-new")
		b.set(t, field("id"), "25")
		b.set(t, field("name"), "JajaBackupData")
		b.set(t, field("timezone"), "Europe/Prague")
		b.set(t, field("max_runtime"), "2h")
		b.set(t, field("alerts_fail"), "mailto:ops@example.com")
		b.typeInto(t, field("schedule"), "61 2 * * *")
		// While typing, the preview says the schedule is wrong and lists
		// no fire times.
		b.waitFn(t, "the preview to show an error", `(p => p && !p.querySelector("time") &&
			(p.querySelector(".field-error, [role=alert], [data-testid^=error]") ||
			 /invalid|error|bad|wrong|range|expected|must/i.test(p.innerText)))(`+has(preview)+`)`)
		b.shot(t, "process-new-preview-error")

		b.follow(t, tid("process-save"))
		b.waitFn(t, "the schedule's inline error", has(tid("error-schedule")))
		b.shot(t, "process-new-error")
		if status, _ := withTB(s, t).MustDo("GET", "/api/v1/processes/25", nil); status != http.StatusNotFound {
			t.Fatalf("a form with a bad schedule defined process 25 (GET status %d)", status)
		}

		b.typeInto(t, field("schedule"), "0 2 * * *")
		b.waitFn(t, "the preview to list five fire times", `(p => p && !p.querySelector(".field-error, [role=alert]") &&
			(p.querySelectorAll("time").length === 5 || p.querySelectorAll("li").length === 5))(`+has(preview)+`)`)
		b.shot(t, "process-new-preview")

		status := b.follow(t, tid("process-save"))
		b.shot(t, "process")
		b.mustStatus(t, "after saving", status, 200)
		if p := b.path(t); !strings.HasPrefix(p, "/processes/25") {
			t.Fatalf("after saving the tab shows %s, want /processes/25", p)
		}
		if got := b.texts(t, tid("process-name")); len(got) != 1 || !strings.Contains(got[0], "JajaBackupData") {
			t.Errorf("process-name = %q, want JajaBackupData", got)
		}
		// What the form saved is what was typed (kept across the error).
		var p statesrv.Process
		withTB(s, t).MustGet("/api/v1/processes/25", &p)
		want := jaja()
		if p.Name != want.Name || p.Schedule != want.Schedule || p.Timezone != want.Timezone ||
			p.MaxRuntime != want.MaxRuntime || !slices.Equal(p.Alerts.Fail, want.Alerts.Fail) {
			t.Errorf("saved %+v, want %+v", p, want)
		}
	})

	t.Run("Processes", func(t *testing.T) {
		ensureJaja(t, s)
		b.mustOpen(t, "/processes", "processes")
		if n := b.count(t, tid("process-row")+`[data-id="25"]`); n != 1 {
			t.Errorf("%d process rows with data-id 25, want 1", n)
		}
		if b.count(t, tid("new-process")) != 1 {
			t.Error("no new-process link")
		}
	})

	// The overview updates itself: a failure reported over TCP while it is
	// open shows up without a reload.
	t.Run("OverviewLive", func(t *testing.T) {
		ensureJaja(t, s)
		status := b.open(t, "/")
		b.shot(t, "overview-opened")
		b.shotWidth(t, "overview-opened-phone", 390)
		b.mustStatus(t, "GET /", status, 200)
		for _, id := range []string{"failed-runs", "open-runs", "count-OK", "count-FAIL", "count-TIMEOUT", "unprocessed-count"} {
			b.mustHave(t, tid(id))
		}
		b.waitFn(t, "the live stream", `document.documentElement.getAttribute("data-live-connected") === "true"`)
		b.do(t, "mark the page", chromedp.Evaluate[chromedp.Void](`window.statesrvNotReloaded = true`))

		// Process 25 has a schedule, so a FAIL needs an open run to close:
		// the job says it started, then that it failed.
		if r := sendReport(t, s.TCPAddr, "#id=25;state=START;name=JajaBackupData"); !strings.HasPrefix(r, "ACK ") {
			t.Fatalf("START: reply %q, want ACK", r)
		}
		b.waitFn(t, "the open run", has(tid("open-run")))
		if r := sendReport(t, s.TCPAddr, "#id=25;state=FAIL;name=JajaBackupData;msg=disk full"); !strings.HasPrefix(r, "ACK ") {
			t.Fatalf("FAIL: reply %q, want ACK", r)
		}
		b.waitFn(t, "the failed run", `Array.from(document.querySelectorAll(`+jsString(tid("failed-run"))+
			`)).some(r => r.innerText.includes("JajaBackupData"))`)
		if !eval[bool](t, b, `window.statesrvNotReloaded === true`) {
			t.Error("the overview was reloaded; it should have updated in place")
		}
		b.shot(t, "overview")
		b.shotWidth(t, "overview-phone", 390)
	})

	var runID string
	t.Run("History", func(t *testing.T) {
		ensureJaja(t, s)
		b.mustOpen(t, "/history", "history")
		rows := tid("history-row")
		ids := eval[[]string](t, b, `Array.from(document.querySelectorAll(`+jsString(rows)+`)).
			filter(r => r.innerText.includes("JajaBackupData")).map(r => r.getAttribute("data-run-id"))`)
		if len(ids) != 1 || ids[0] == "" {
			t.Fatalf("history rows of JajaBackupData with their run ids: %q, want one", ids)
		}
		runID = ids[0]
	})

	// A viewer in Prague sees times in Prague's zone with UTC on hover, and
	// the times typed into a filter are taken in that zone.
	t.Run("ViewerZone", func(t *testing.T) {
		zone := func(id string) {
			if _, err := chromedp.Call(b.step(t), emulation.SetTimezoneOverride,
				emulation.SetTimezoneOverrideParams{TimezoneID: id}); err != nil {
				t.Fatalf("set the browser's zone to %q: %v", id, err)
			}
		}
		zone("Europe/Prague")
		defer zone("")
		b.mustOpen(t, "/history", "history-prague")
		got := eval[[]string](t, b, `(e => [e.textContent, e.title])(document.querySelector(`+
			jsString(tid("history-row")+" time")+`))`)
		// The server's clock stands at 2026-03-02 08:00:05 UTC: 09:00:05 in Prague (CET).
		if len(got) != 2 || got[0] != "2026-03-02 09:00:05" || got[1] != "2026-03-02 08:00:05 UTC" {
			t.Errorf("a finish time shows %q, want [2026-03-02 09:00:05, 2026-03-02 08:00:05 UTC]", got)
		}
		from := tid("history-filter") + ` [name="from"]`
		b.set(t, from, "2026-03-02T09:00") // the input drops :00 seconds
		b.follow(t, tid("history-apply"))
		if p := b.path(t); !strings.Contains(p, "from=2026-03-02T08%3A00%3A00") {
			t.Errorf("filtering from 09:00 in Prague asked for %s, want from=2026-03-02T08:00:00 (UTC)", p)
		}
		if v := eval[string](t, b, `document.querySelector(`+jsString(from)+`).value`); v != "2026-03-02T09:00" {
			t.Errorf("the from field shows %q after the filter, want Prague's 2026-03-02T09:00", v)
		}
		if b.count(t, tid("history-row")) == 0 {
			t.Error("the run that finished at 08:00:05 UTC is missing from 09:00 Prague time on")
		}
	})

	t.Run("Run", func(t *testing.T) {
		if runID == "" {
			t.Skip("no run id: the history step failed")
		}
		b.mustOpen(t, "/runs/"+runID, "run")
		if b.count(t, tid("run-events")+" "+tid("run-event")) == 0 {
			t.Error("the run page lists no events")
		}
	})

	t.Run("Running", func(t *testing.T) {
		b.mustOpen(t, "/runs", "runs")
	})

	t.Run("UnprocessedDismiss", func(t *testing.T) {
		line := "#id=99;state=OK;name=Nobody"
		if r := sendReport(t, s.TCPAddr, line); !strings.HasPrefix(r, "ACK ") {
			t.Fatalf("%s: reply %q, want ACK", line, r)
		}
		u := withTB(s, t).MustUnprocessed(line)
		b.mustOpen(t, "/unprocessed", "unprocessed")
		row := tid("unprocessed-row") + `[data-id="` + u.ID + `"]`
		if b.count(t, row) != 1 {
			t.Fatalf("no unprocessed row %s; rows: %q", u.ID, b.texts(t, tid("unprocessed-row")))
		}
		// A box ticked before an update stays ticked after it: the live
		// page keeps what the viewer was doing.
		box := row + ` input[type=checkbox][name="id"]`
		b.click(t, box)
		if !eval[bool](t, b, `document.querySelector(`+jsString(box)+`).checked`) {
			t.Fatal("clicking the box did not tick it")
		}
		line2 := "#id=98;state=OK;name=Nobody2"
		if r := sendReport(t, s.TCPAddr, line2); !strings.HasPrefix(r, "ACK ") {
			t.Fatalf("%s: reply %q, want ACK", line2, r)
		}
		u2 := withTB(s, t).MustUnprocessed(line2)
		b.waitFn(t, "the new message to appear live", has(tid("unprocessed-row")+`[data-id="`+u2.ID+`"]`))
		if !eval[bool](t, b, `document.querySelector(`+jsString(box)+`).checked`) {
			t.Error("the live update unticked the box the viewer had ticked")
		}
		b.click(t, row+" "+tid("dismiss"))
		b.waitFn(t, "the row to go", `!`+has(row)+` && document.readyState === "complete"`)
		b.shot(t, "unprocessed-dismissed")
		if _, err := s.unprocessed(line); err == nil {
			t.Error("the API still lists the dismissed message")
		}
	})

	// Time travel an hour back: the process defined a moment ago did not
	// exist yet.
	t.Run("StateHourAgo", func(t *testing.T) {
		ensureJaja(t, s)
		b.mustOpen(t, "/state", "state")
		status := b.follow(t, tid("state-hour-ago"))
		b.shot(t, "state-hour-ago")
		b.mustStatus(t, "an hour ago", status, 200)
		for _, id := range []string{"state-processes", "state-runs", "state-unprocessed"} {
			if b.count(t, tid(id)) != 1 {
				t.Errorf("no %s section", id)
			}
		}
		if got := b.texts(t, tid("state-processes")+" "+tid("state-process")); len(got) != 0 {
			t.Errorf("an hour ago, state-processes lists %q; process 25 was defined since", got)
		}
	})

	t.Run("VerifyChain", func(t *testing.T) {
		b.mustOpen(t, "/events", "events")
		if b.count(t, tid("event-row")) == 0 {
			t.Error("the audit log lists no events")
		}
		b.click(t, tid("verify-chain"))
		b.waitFn(t, "the verification's result", `(e => e && e.innerText.trim() !== "")(`+has(tid("verify-result"))+`)`)
		b.shot(t, "events-verified")
		t.Logf("verify-result: %q", b.texts(t, tid("verify-result")))
	})

	t.Run("Schedule", func(t *testing.T) {
		ensureJaja(t, s)
		b.mustOpen(t, "/schedule", "schedule")
		rows := b.texts(t, tid("fire-row"))
		if !slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, "JajaBackupData") }) {
			t.Errorf("fire rows %q name no JajaBackupData", rows)
		}
		if b.count(t, tid("cron-export")) != 1 {
			t.Error("no cron-export")
		}
	})

	// The FAIL of process 25 asked for an e-mail, which failed for want of
	// an SMTP server: the alerts page says so.
	t.Run("Alerts", func(t *testing.T) {
		b.mustOpen(t, "/alerts?status=failed", "alerts")
		rows := b.texts(t, tid("alert-row"))
		if len(rows) == 0 || !strings.Contains(rows[0], "mailto:ops@example.com") {
			t.Errorf("failed alerts %q, want the e-mail to ops@example.com", rows)
		}
	})

	// On a phone (390 px), no page is wider than the screen: every table
	// sits in a box of its own, and a table wider than the screen scrolls
	// inside it.
	t.Run("PhoneTablesScroll", func(t *testing.T) {
		ensureJaja(t, s)
		b.do(t, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		defer b.do(t, "desktop viewport", chromedp.EmulateViewport(1280, 900))
		scrolling := 0
		for _, path := range []string{"/", "/processes", "/processes/25", "/runs", "/history", "/unprocessed",
			"/alerts", "/events", "/schedule", "/state", "/account"} {
			b.mustStatus(t, "GET "+path, b.open(t, path), 200)
			page := eval[[]int](t, b, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
			if page[0] > page[1] {
				t.Errorf("%s is %d px wide on a %d px screen", path, page[0], page[1])
			}
			if n := eval[int](t, b, `Array.from(document.querySelectorAll("main table")).
				filter(t => !t.parentElement.classList.contains("table-wrap")).length`); n > 0 {
				t.Errorf("%s has %d tables outside a .table-wrap box", path, n)
			}
			scrolling += eval[int](t, b, `Array.from(document.querySelectorAll(".table-wrap")).
				filter(w => getComputedStyle(w).overflowX === "auto" && w.scrollWidth > w.clientWidth).length`)
		}
		if scrolling == 0 {
			t.Error("no table wider than the phone scrolled inside its box")
		}
		b.open(t, "/events")
		b.shot(t, "events-phone")
	})

	t.Run("Account", func(t *testing.T) {
		b.mustOpen(t, "/account", "account")
		for _, id := range []string{"password-form", "token-form"} {
			if b.count(t, tid(id)) != 1 {
				t.Errorf("no %s", id)
			}
		}
	})

	// A live page whose session ends (logged out in another tab) shows the
	// login page once the stream is refused, and comes back after it.
	t.Run("SessionEndsOnLivePage", func(t *testing.T) {
		b.mustOpen(t, "/", "")
		b.waitFn(t, "the live stream", `document.documentElement.getAttribute("data-live-connected") === "true"`)
		// Another tab's logout, as a request of this page (synchronous, so
		// it has ended when eval returns).
		status := eval[float64](t, b, `(() => { const x = new XMLHttpRequest(); x.open("POST", "/logout", false); x.send(); return x.status; })()`)
		if status != 200 {
			t.Fatalf("logout from the page: status %v, want 200 (the login page after the redirect)", status)
		}
		if r := sendReport(t, s.TCPAddr, "#id=97;state=OK"); !strings.HasPrefix(r, "ACK ") {
			t.Fatalf("report: reply %q, want ACK", r)
		}
		b.waitFn(t, "the login page", has(tid("login-form")))
		if p := b.path(t); !strings.HasPrefix(p, "/login?next=") {
			t.Fatalf("the ended session shows %s, want /login?next=…", p)
		}
		b.logIn(t, "/")
	})

	t.Run("Logout", func(t *testing.T) {
		b.open(t, "/")
		b.follow(t, tid("logout"))
		b.waitFn(t, "the login form", has(tid("login-form")))
		b.shot(t, "logged-out")
		b.open(t, "/history")
		if p := b.path(t); !strings.HasPrefix(p, "/login") {
			t.Errorf("after logging out, /history shows %s, want the login page", p)
		}
	})

	// A viewer logs in and, on every page, finds no form that changes
	// state: only logging out and checking the chain are left.
	t.Run("Viewer", func(t *testing.T) {
		_, rc, err := s.Main.Service.DefineUser("vic", statesrv.RoleViewer, browserPassword, statesrv.ActorAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rc.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		b.open(t, "/login")
		b.do(t, "fill the login form as vic",
			chromedp.SendKeys(chromedp.ID("user"), "vic"),
			chromedp.SendKeys(chromedp.ID("password"), browserPassword))
		b.follow(t, tid("login-submit"))
		if p := b.path(t); p != "/" {
			t.Fatalf("after the viewer's login the tab shows %s, want /", p)
		}
		const changing = `[...document.querySelectorAll("form")]
			.filter(f => f.method.toLowerCase() === "post" && !["/logout", "/events/verify"].includes(new URL(f.action).pathname))
			.map(f => f.getAttribute("action"))`
		for _, p := range []string{"/", "/processes", "/processes/25", "/runs", "/history", "/unprocessed", "/alerts", "/events", "/state", "/schedule", "/account"} {
			b.mustOpen(t, p, "")
			if forms := eval[[]string](t, b, changing); len(forms) != 0 {
				t.Errorf("%s shows the viewer forms that change state: %v", p, forms)
			}
		}
		b.mustOpen(t, "/account", "viewer-account")
		if b.count(t, tid("viewer-note")) != 1 {
			t.Error("the viewer's account page does not say what a viewer may do")
		}
		b.open(t, "/")
		b.follow(t, tid("logout"))
		b.waitFn(t, "the login form", has(tid("login-form")))
	})

	// With JavaScript off the dashboard still works: login, a form with an
	// error and its preview rendered by the server, and the overview.
	t.Run("WithoutJavaScript", func(t *testing.T) {
		scripts := func(off bool) {
			if _, err := chromedp.Call(b.step(t), emulation.SetScriptExecutionDisabled,
				emulation.SetScriptExecutionDisabledParams{Value: off}); err != nil {
				t.Fatalf("turn JavaScript off=%v: %v", off, err)
			}
		}
		scripts(true)
		defer scripts(false)
		b.open(t, "/processes/new")
		b.logIn(t, "/processes/new")
		b.do(t, "fill the form",
			chromedp.SendKeys(chromedp.CSS(field("id")), "26"),
			chromedp.SendKeys(chromedp.CSS(field("name")), "NoScript"),
			chromedp.SendKeys(chromedp.CSS(field("schedule")), "0 25 * * *"))
		b.follow(t, tid("process-save"))
		b.shot(t, "process-new-error-noscript")
		if b.count(t, tid("error-schedule")) != 1 {
			t.Fatal("without script, a bad schedule shows no inline error")
		}
		if got := b.texts(t, preview); len(got) != 1 || !strings.Contains(got[0], "25") {
			t.Errorf("without script, the server-rendered preview says %q", got)
		}
		b.mustOpen(t, "/", "overview-noscript")
		b.mustHave(t, tid("failed-runs"))
		// The page's script marks the document when it runs: it must not have.
		if b.count(t, "html[data-live-connected]") != 0 {
			t.Fatal("the page's script ran although JavaScript is off")
		}
	})
}
