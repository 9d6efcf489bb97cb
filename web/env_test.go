package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// testPassword is the admin password of every test env.
const testPassword = "correct horse battery"

// env is a whole HTTP side on real parts: a Badger log and views in a temp
// dir, the write side on a fake clock, the projection runner, and the
// handler on a real listener at 127.0.0.1.
type env struct {
	Clock   *clock.Fake
	Log     *eventlog.Badger
	Store   *projections.Store
	Runner  *projections.Runner
	Service *commands.Service
	Handler *Handler
	Server  *httptest.Server
	// Client keeps cookies and does not follow redirects.
	Client *http.Client
}

// t0 is the fake clock's start: a Thursday morning.
var t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{Clock: clock.NewFake(t0)}
	var err error
	if e.Log, err = eventlog.OpenBadger(eventlog.Options{Dir: dir + "/log", Now: e.Clock.Now, MinFreeBytes: -1,
		TypeCodes: statesrv.EventTypeCodes(), Payloads: statesrv.Payloads{}}); err != nil {
		t.Fatal(err)
	}
	if e.Store, err = projections.OpenStore(dir+"/views", nil); err != nil {
		t.Fatal(err)
	}
	if e.Runner, err = projections.NewRunner(e.Log, e.Store, nil); err != nil {
		t.Fatal(err)
	}
	core, err := e.Store.LoadCore()
	if err != nil {
		t.Fatal(err)
	}
	e.Service = commands.New(commands.Config{Log: e.Log, Clock: e.Clock, Core: core,
		Unprocessed: e.Store.UnprocessedMessage, FinishedRun: e.Store.FinishedRun})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Runner.Run(ctx) }()
	e.Handler = NewHandler(Config{Service: e.Service, Runner: e.Runner, Log: e.Log,
		Version: "test", Tokens: []string{"test-token"}, TCPAddr: "127.0.0.1:2020"})
	e.Server = httptest.NewServer(e.Handler)
	t.Cleanup(func() {
		e.Server.Close()
		cancel()
		<-done
		e.Store.Close()
		e.Log.Close()
	})
	e.wait(t, e.Service.SetPassword(statesrv.ActorAdmin, commands.HashPassword(testPassword), statesrv.ActorCLI))
	jar, _ := cookiejar.New(nil)
	e.Client = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// wait waits for rc to be durable and for the views to have applied it.
func (e *env) wait(t testing.TB, rc *commands.Receipt) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seq, err := rc.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Runner.WaitFor(ctx, seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// define creates or replaces p and waits for the views.
func (e *env) define(t testing.TB, p statesrv.Process) {
	t.Helper()
	rc, err := e.Service.DefineProcess(p, statesrv.ActorAdmin)
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, rc)
}

// report sends line as if it came over TCP from 127.0.0.1 and waits until
// the views hold what it recorded. A line the server answers with ERR (a
// malformed line, a bad key) is recorded all the same: report returns that
// refusal. It fails the test only when nothing could be recorded.
func (e *env) report(t testing.TB, line string) error {
	t.Helper()
	var rc *commands.Receipt
	if rep, err := commands.ParseLine(line); err != nil {
		rc = e.Service.Reject(commands.Report{Line: line, Remote: "127.0.0.1:5000", Transport: "tcp"}, err)
	} else {
		rep.Remote, rep.Transport = "127.0.0.1:5000", "tcp"
		rc = e.Service.Report(rep)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, refused := rc.Wait(ctx)
	if refused != nil && (statesrv.ErrorCode(refused) == statesrv.EUnavail || ctx.Err() != nil) {
		t.Fatalf("%q: %v", line, refused)
	}
	if err := e.Runner.WaitFor(ctx, e.Log.LastSeq()); err != nil {
		t.Fatal(err)
	}
	return refused
}

// tick advances the fake clock by d and lets the scheduler act on it.
func (e *env) tick(t testing.TB, d time.Duration) {
	t.Helper()
	e.Clock.Advance(d)
	if rc, _ := e.Service.Tick(); rc != nil {
		e.wait(t, rc)
	}
}

// login logs the env's client in as admin.
func (e *env) login(t testing.TB) {
	t.Helper()
	res := e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: status %d, want 303", res.StatusCode)
	}
}

// do sends a request from the env's client with a same-origin header, as a
// browser's form post would carry.
func (e *env) do(t testing.TB, method, path string, body io.Reader, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.Server.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if method != http.MethodGet && req.Header.Get("Sec-Fetch-Site") == "" && req.Header.Get("Origin") == "" {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// get fetches path and returns the response and its body as a document.
func (e *env) get(t testing.TB, path string) (*http.Response, *goquery.Document) {
	t.Helper()
	res := e.do(t, http.MethodGet, path, nil, nil)
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, doc
}

// page fetches path, fails the test unless it answers 200, and returns the
// document.
func (e *env) page(t testing.TB, path string) *goquery.Document {
	t.Helper()
	res, doc := e.get(t, path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; page says %q", path, res.StatusCode,
			strings.TrimSpace(doc.Find("main").Text()))
	}
	return doc
}

// postForm posts a form from the env's client.
func (e *env) postForm(t testing.TB, path string, v url.Values) *http.Response {
	t.Helper()
	return e.do(t, http.MethodPost, path, strings.NewReader(v.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// postFormDoc posts a form and parses the answer (a page re-rendered with
// errors, say).
func (e *env) postFormDoc(t testing.TB, path string, v url.Values) (*http.Response, *goquery.Document) {
	t.Helper()
	res := e.postForm(t, path, v)
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, doc
}

// testid selects the elements with data-testid id.
func testid(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}
