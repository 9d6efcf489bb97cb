package main

// The browser harness of the end-to-end dashboard test: headless Chromium
// driven over the DevTools protocol (chromedp) against the real Main.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/statesrv/statesrv/clock"
)

// browserBudget bounds the whole browser test.
const browserBudget = 2 * time.Minute

// stepWait bounds each step of it; twice as long under the race detector,
// which slows the server down several times.
var stepWait = func() time.Duration {
	if raceEnabled {
		return 20 * time.Second
	}
	return 10 * time.Second
}()

// raceEnabled says whether the test binary was built with -race.
var raceEnabled = func() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}()

// browserPassword is the admin password of the server the browser logs in to.
const browserPassword = "browser-e2e-pw"

// findChromium returns the browser to drive: $STATESRV_CHROMIUM, else
// /usr/bin/chromium, else the first of the usual names on PATH.
func findChromium() (string, error) {
	if p := os.Getenv("STATESRV_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("STATESRV_CHROMIUM=%s: %v", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no browser: set STATESRV_CHROMIUM, or install chromium (/usr/bin/chromium, or chromium, chromium-browser or google-chrome on PATH)")
}

// browser is one headless Chromium tab on a running server.
type browser struct {
	ctx   context.Context // the tab, bounded by browserBudget
	base  string          // http://127.0.0.1:port
	shots string          // where screenshots go
}

// mustChromium returns the browser to drive, or skips the test when there
// is none (fails it instead when STATESRV_E2E=1, as CI sets).
func mustChromium(t *testing.T) string {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		if os.Getenv("STATESRV_E2E") == "1" {
			t.Fatalf("STATESRV_E2E=1 but %v", err)
		}
		t.Skipf("skipping the browser test: %v (set STATESRV_E2E=1 to make this a failure)", err)
	}
	return path
}

// mustBrowser starts headless Chromium at path with a tab on the server at
// base, all bounded by browserBudget.
func mustBrowser(t *testing.T, path, base string) *browser {
	t.Helper()
	shots := filepath.Join(t.TempDir(), "screenshots")
	if dir := os.Getenv("STATESRV_ARTIFACTS"); dir != "" {
		shots = filepath.Join(dir, "screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("browser %s; screenshots in %s", path, shots)

	budget, cancelBudget := context.WithTimeout(context.Background(), browserBudget)
	if d, ok := t.Deadline(); ok && time.Until(d) < browserBudget {
		cancelBudget()
		budget, cancelBudget = context.WithDeadline(context.Background(), d.Add(-5*time.Second))
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(budget,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTab := chromedp.NewContext(alloc)
	var dialogs sync.WaitGroup
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelBudget()
		dialogs.Wait()
	})
	// The first action starts the browser, bound to the budget.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	// Accept every confirm() a form asks ("Dismiss this message?"): a
	// dialog left open would block the click that opened it.
	opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
	dialogs.Go(func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			t.Logf("browser: accepting %s dialog %q", ev.Type, ev.Message)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	})
	return &browser{ctx: ctx, base: base, shots: shots}
}

// step returns a context for one step, bounded by stepWait.
func (b *browser) step(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepWait)
	t.Cleanup(cancel)
	return ctx
}

// do runs actions in one bounded step and fails the test with what on
// error.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.step(t), actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.step(t), chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// load runs actions that make the tab load a page (a navigation, a click
// on a link or a submit button) and returns the status of the page loaded.
func (b *browser) load(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	res, err := chromedp.RunResponse(b.step(t), actions...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return res.Status
}

// open navigates to path and returns the page's status.
func (b *browser) open(t *testing.T, path string) int64 {
	t.Helper()
	return b.load(t, "open "+path, chromedp.Navigate(b.base+path))
}

// mustOpen navigates to path and fails the test unless the page answers
// 200.
func (b *browser) mustOpen(t *testing.T, path, shot string) {
	t.Helper()
	status := b.open(t, path)
	if shot != "" {
		b.shot(t, shot)
	}
	b.mustStatus(t, "GET "+path, status, 200)
	if p := b.path(t); strings.HasPrefix(p, "/login") {
		t.Fatalf("GET %s: sent to %s: the browser is not logged in", path, p)
	}
}

// mustHave fails the test at once unless the page has an element matching
// the CSS selector (rather than letting a click wait for it in vain).
func (b *browser) mustHave(t *testing.T, sel string) {
	t.Helper()
	if b.count(t, sel) == 0 {
		t.Fatalf("%s has no %s", b.path(t), sel)
	}
}

// click clicks the element matching the CSS selector, which must be there.
func (b *browser) click(t *testing.T, sel string) {
	t.Helper()
	b.mustHave(t, sel)
	b.do(t, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// set sets the value of the form field matching the CSS selector, which
// must be there, as if pasted: the page sees input and change events.
func (b *browser) set(t *testing.T, sel, value string) {
	t.Helper()
	b.mustHave(t, sel)
	js := fmt.Sprintf(`(e => { e.value = %s; e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true})); return e.value })(document.querySelector(%s))`,
		jsString(value), jsString(sel))
	if got := eval[string](t, b, js); got != value {
		t.Fatalf("set %s to %q: it holds %q", sel, value, got)
	}
}

// typeInto empties the field matching the CSS selector and types text into
// it key by key.
func (b *browser) typeInto(t *testing.T, sel, text string) {
	t.Helper()
	b.set(t, sel, "")
	b.do(t, "type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// follow clicks the element matching the CSS selector, which must be
// there, waits for the page it loads and returns that page's status.
func (b *browser) follow(t *testing.T, sel string) int64 {
	t.Helper()
	b.mustHave(t, sel)
	return b.load(t, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// mustStatus fails the test unless the page loaded with status want,
// quoting what the page says.
func (b *browser) mustStatus(t *testing.T, what string, got, want int64) {
	t.Helper()
	if got == want {
		return
	}
	msg := eval[string](t, b, `(document.querySelector("main") || document.body).innerText.trim().slice(0, 300)`)
	if got == 404 && msg == "404 page not found" {
		t.Fatalf("%s: no such route in this build (the router's plain 404)", what)
	}
	t.Fatalf("%s: status %d, want %d; page says %q", what, got, want, msg)
}

// path returns the path (and query) of the page the tab shows.
func (b *browser) path(t *testing.T) string {
	t.Helper()
	loc, err := chromedp.Run(b.step(t), chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// shot saves a full-page PNG of what the tab shows as <name>.png.
func (b *browser) shot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(b.step(t), chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", file)
}

// shotWidth saves a full-page screenshot at a viewport width (a phone:
// 390), and goes back to the desktop size.
func (b *browser) shotWidth(t *testing.T, name string, width int64) {
	t.Helper()
	b.do(t, "narrow viewport", chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile))
	b.shot(t, name)
	b.do(t, "desktop viewport", chromedp.EmulateViewport(1280, 900))
}

// waitFn waits, bounded, until the JavaScript expression is truthy. It
// keeps asking while the tab loads a new page, so it also waits out a
// navigation that a click started.
func (b *browser) waitFn(t *testing.T, what, expr string) {
	t.Helper()
	ctx := b.step(t)
	var last error
	for {
		try, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(try, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s (%s): %v (last error: %v)", what, expr, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// has is the JavaScript test that an element matches a CSS selector.
func has(sel string) string { return "document.querySelector(" + jsString(sel) + ")" }

// count returns the number of elements matching a CSS selector.
func (b *browser) count(t *testing.T, sel string) int {
	t.Helper()
	return eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// texts returns the text of every element matching a CSS selector.
func (b *browser) texts(t *testing.T, sel string) []string {
	t.Helper()
	return eval[[]string](t, b, fmt.Sprintf(
		`Array.from(document.querySelectorAll(%s), e => e.innerText.replace(/\s+/g, " ").trim())`, jsString(sel)))
}

// focused names the element that has the focus: its data-testid, else its
// id, else its tag.
func (b *browser) focused(t *testing.T) string {
	t.Helper()
	return eval[string](t, b, `(e => !e ? "" : e.getAttribute("data-testid") || e.id || e.tagName.toLowerCase())(document.activeElement)`)
}

// tid is the CSS selector of the elements with data-testid id.
func tid(id string) string { return `[data-testid="` + id + `"]` }

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// openBrowserServer starts the real server with the browser's admin
// password, on random ports of 127.0.0.1.
func openBrowserServer(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{tb: t, dir: t.TempDir(), clk: clock.NewFake(t0),
		configure: func(c *Config) { c.AdminPassword = browserPassword }}
	s.MustOpen()
	t.Cleanup(func() {
		if s.Main != nil {
			s.Main.Close()
		}
	})
	return s
}

// sendReport sends one line to the TCP report port on a plain connection,
// as a job's script would, and returns the server's reply.
func sendReport(t *testing.T, addr, line string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioWait))
	if _, err := fmt.Fprintf(conn, "%s\n", line); err != nil {
		t.Fatalf("send %q: %v", line, err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("reply to %q: %v", line, err)
	}
	return strings.TrimSpace(reply)
}

// logIn fills the login form the tab shows as admin, submits it, and fails
// the test unless the tab then shows want (the page the login came from).
func (b *browser) logIn(t *testing.T, want string) {
	t.Helper()
	b.do(t, "fill the login form",
		chromedp.SendKeys(chromedp.ID("user"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), browserPassword))
	b.follow(t, tid("login-submit"))
	if p := b.path(t); p != want {
		t.Fatalf("after login the tab shows %s, want %s", p, want)
	}
}
