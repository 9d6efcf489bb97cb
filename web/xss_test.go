package web

// Every page shows text that reporting jobs and operators control: process
// names and descriptions, report lines and messages, unprocessed lines,
// query parameters. This test feeds a corpus of markup-breaking strings
// through all of them and checks that each page renders them as text only.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

// xssPayloads go anywhere a name or a value may go (no ';' or line break).
var xssPayloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`javascript:alert(1)`,
	`'-alert(1)-'`,
	`</textarea><svg onload=alert(1)>`,
	`{{7*7}}`,
	"x\u2028y\u2029z",
	`</title><script>alert(1)</script>`,
	`' onmouseover='alert(1)`,
	`" autofocus onfocus="alert(1)`,
	`--><script>alert(1)</script><!--`,
	`<a href="javascript:alert(1)">click</a>`,
	`<style>body{display:none}</style>`,
	`${alert(1)}`,
}

// xssTextOnly go only where any text may go (descriptions).
var xssTextOnly = []string{
	"&lt;script&gt;alert(1)&lt;/script&gt;",
	"<iframe src=\"javascript:alert(1)\"></iframe>\nsecond line; with a semicolon",
}

// xssSeed is what the corpus produced: the ids to put into routes.
type xssSeed struct {
	procs    []int64
	runs     []string // finished and open
	messages []string
	seqs     []uint64
}

// seedXSS defines a process per payload and reports over the report path
// with payloads in every field.
func seedXSS(t *testing.T, e *env) xssSeed {
	t.Helper()
	var s xssSeed
	for i, p := range xssPayloads {
		id := int64(100 + i)
		proc := statesrv.Process{ID: id, Name: p, Description: p + "\n" + xssTextOnly[i%len(xssTextOnly)], Enabled: true}
		if i%2 == 1 {
			proc.Schedule, proc.Timezone = "0 2 * * *", "Europe/Prague"
		}
		if hook := `https://hooks.example.com/x?p="><svg/onload=alert(1)>`; i == 0 {
			// A webhook URL is shown too, if the definition takes it.
			if err := commands.ValidateRecipient(hook); err != nil {
				t.Logf("webhook payload refused: %v", err)
			} else {
				proc.Alerts.Fail = []string{hook}
			}
		}
		e.define(t, proc)
		s.procs = append(s.procs, id)
		pid := strconv.FormatInt(id, 10)
		if proc.Schedule == "" {
			// Push-only: a FAIL is a run that started and ended at once.
			e.report(t, "#id="+pid+";state=FAIL;name="+p+";msg="+p+";code=1")
		} else {
			// Scheduled: START opens a run that stays open.
			e.report(t, "#id="+pid+";state=START;name="+p+";msg="+p)
			// An OK for a process with no second open run is unprocessed.
			e.report(t, "#id="+pid+";state=OK;name="+p+";msg="+p+";run="+p)
		}
		// An unknown process.
		e.report(t, "#id=999;state=OK;name="+p+";msg="+p)
	}
	// Malformed lines are recorded as rejected.
	for _, line := range []string{
		`<script>alert(1)</script>`,
		`#id=<img src=x onerror=alert(1)>;state=OK`,
		`#id=1;state=</textarea><svg onload=alert(1)>`,
		`#state=OK;name="><img src=x onerror=alert(1)>`,
	} {
		e.report(t, line)
	}
	e.report(t, "#id=999;state=OK;name=last")

	runs, err := e.Store.History(projections.HistoryQuery{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		s.runs = append(s.runs, r.ID)
	}
	e.Runner.View(func(c *projections.Core) {
		for id := range c.Runs {
			s.runs = append(s.runs, id)
		}
	})
	msgs, err := e.Store.Unprocessed(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range msgs {
		s.messages = append(s.messages, u.ID)
		s.seqs = append(s.seqs, u.Seq)
	}
	if len(s.runs) == 0 || len(s.messages) == 0 {
		t.Fatalf("the corpus made %d runs and %d unprocessed messages; want some of each", len(s.runs), len(s.messages))
	}
	return s
}

// htmlRoute says whether a GET route renders a dashboard page (rather than
// the API, assets, health, metrics, pings or the live stream).
func htmlRoute(path string) bool {
	for _, p := range []string{"/live", "/static/", "/metrics", "/healthz", "/ping", "/api", "/login"} {
		if strings.HasPrefix(path, p) {
			return false
		}
	}
	return true
}

// expand returns the paths a route pattern stands for, with its wildcards
// filled from the seed, plus one with a payload in place of the id.
func (s xssSeed) expand(t *testing.T, path string) (real, hostile []string) {
	path = strings.Replace(path, "{$}", "", 1)
	if !strings.Contains(path, "{") {
		return []string{path}, nil
	}
	segs := strings.Split(path, "/")
	var fill []string
	var at int
	for i, seg := range segs {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		if fill != nil {
			t.Errorf("route %s: more than one wildcard; teach xssSeed.expand", path)
			return nil, nil
		}
		at = i
		switch prev := segs[i-1]; {
		case prev == "processes":
			for _, id := range s.procs {
				fill = append(fill, strconv.FormatInt(id, 10))
			}
		case prev == "runs":
			fill = s.runs
		case prev == "unprocessed":
			fill = s.messages
		case prev == "events":
			for _, seq := range s.seqs {
				fill = append(fill, strconv.FormatUint(seq, 10))
			}
		default:
			t.Errorf("route %s: no sample value for %s after /%s/; teach xssSeed.expand", path, seg, prev)
			return nil, nil
		}
	}
	with := func(v string) string {
		cp := slices.Clone(segs)
		cp[at] = v
		return strings.Join(cp, "/")
	}
	for _, v := range fill {
		real = append(real, with(v))
	}
	for _, p := range xssPayloads[:3] {
		hostile = append(hostile, with(url.PathEscape(p)))
	}
	return real, hostile
}

// xssCheck collects what the pages showed.
type xssCheck struct {
	script string // the one script a page may load
	seen   map[string]bool
	pages  int
}

func newXSSCheck() *xssCheck {
	return &xssCheck{script: views.AssetPath("app.js"), seen: map[string]bool{}}
}

// get fetches path with c and checks it; the status must be one of want.
func (x *xssCheck) get(t *testing.T, route string, c *http.Client, base, path string, want ...int) {
	t.Helper()
	res, err := c.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GET %s: Content-Security-Policy %q, want one that allows only our own scripts", path, csp)
	}
	x.response(t, route, "GET "+path, res.StatusCode, res.Header.Get("Content-Type"), body, want...)
}

// response checks one answer.
func (x *xssCheck) response(t *testing.T, route, what string, status int, ctype string, body []byte, want ...int) {
	t.Helper()
	if !slices.Contains(want, status) {
		t.Errorf("%s: status %d, want one of %v", what, status, want)
	}
	if !strings.HasPrefix(ctype, "text/html") {
		t.Logf("%s: %s, not checked as HTML", what, ctype)
		return
	}
	x.pages++
	for _, p := range append(slices.Clone(xssPayloads), xssTextOnly...) {
		if strings.ContainsAny(p, `<>"`) && strings.Contains(string(body), p) {
			t.Errorf("%s: the payload %q appears unescaped in the HTML", what, p)
		}
	}
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Errorf("%s: parse: %v", what, err)
		return
	}
	var text strings.Builder
	x.walk(t, what, doc, &text)
	shown := squeeze(text.String())
	for _, p := range append(slices.Clone(xssPayloads), xssTextOnly...) {
		if strings.Contains(shown, squeeze(p)) {
			x.seen[p] = true
		}
	}
}

// walk checks every element under n and gathers the text and the
// form values it shows.
func (x *xssCheck) walk(t *testing.T, what string, n *html.Node, text *strings.Builder) {
	t.Helper()
	switch n.Type {
	case html.TextNode:
		text.WriteString(n.Data)
	case html.ElementNode:
		x.element(t, what, n)
		for _, a := range n.Attr {
			if a.Key == "value" || a.Key == "title" {
				text.WriteString("\x00" + a.Val + "\x00")
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		x.walk(t, what, c, text)
	}
}

// element checks one element: only our own script, no event handlers, no
// script URLs, nothing that loads or styles content from the page itself.
func (x *xssCheck) element(t *testing.T, what string, n *html.Node) {
	t.Helper()
	attr := func(key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	switch n.Data {
	case "script":
		if src, _ := attr("src"); src != x.script || n.FirstChild != nil {
			t.Errorf("%s: a <script> other than ours: %s", what, render(n))
		}
	case "iframe", "frame", "frameset", "object", "embed", "applet", "base", "style":
		t.Errorf("%s: a <%s> element: %s", what, n.Data, render(n))
	case "meta":
		if _, ok := attr("http-equiv"); ok {
			t.Errorf("%s: a <meta http-equiv>: %s", what, render(n))
		}
	}
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		switch key {
		case "href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset", "background":
			v := strings.ToLower(strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1
				}
				return r
			}, a.Val))
			if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text") {
				t.Errorf("%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
			}
		case "style":
			t.Errorf("%s: an inline style (the CSP forbids them): <%s style=%q>", what, n.Data, a.Val)
		}
		if strings.HasPrefix(key, "on") {
			t.Errorf("%s: an event handler attribute <%s %s=%q>", what, n.Data, a.Key, a.Val)
		}
	}
}

// squeeze turns every run of white space into one space, as a browser
// shows text.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// render shows an element's start tag for error messages.
func render(n *html.Node) string {
	var b strings.Builder
	b.WriteString("<" + n.Data)
	for _, a := range n.Attr {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Val)
	}
	return b.String() + ">"
}

// requireSeen fails for each payload no page showed as text.
func (x *xssCheck) requireSeen(t *testing.T, payloads []string) {
	t.Helper()
	for _, p := range payloads {
		if !x.seen[p] {
			t.Errorf("no page showed the payload %q as text", p)
		}
	}
}

func TestXSS(t *testing.T) {
	t.Run("Pages", func(t *testing.T) {
		e := newEnv(t)
		seed := seedXSS(t, e)
		e.login(t)
		x := newXSSCheck()
		base := e.Server.URL
		var routes []string
		for _, r := range e.Handler.Routes() {
			method, route, _ := strings.Cut(r, " ")
			if method != http.MethodGet || !htmlRoute(route) {
				continue
			}
			routes = append(routes, route)
			get := func(path string, want ...int) { x.get(t, route, e.Client, base, path, want...) }
			real, hostile := seed.expand(t, route)
			for _, p := range real {
				get(p, http.StatusOK)
			}
			// A payload in place of an id: a clear 400 or 404, safely.
			for _, p := range hostile {
				get(p, http.StatusBadRequest, http.StatusNotFound)
			}
			if strings.Contains(route, "{") && !strings.HasSuffix(route, "{$}") {
				continue
			}
			path := real[0]
			get(path+"?process="+strconv.FormatInt(seed.procs[0], 10), http.StatusOK)
			for _, p := range xssPayloads {
				v := url.QueryEscape(p)
				// Searches and notices are shown back.
				get(path+"?q="+v+"&flash="+v, http.StatusOK)
				// Bad filters are named in a clear 400.
				bad := url.Values{}
				for _, k := range []string{"process", "state", "type", "at", "seq", "before", "after", "schedule", "timezone"} {
					bad.Set(k, p)
				}
				get(path+"?"+bad.Encode(), http.StatusOK, http.StatusBadRequest)
			}
		}
		t.Logf("checked %d HTML answers of %d routes: %v", x.pages, len(routes), routes)
		x.requireSeen(t, append(slices.Clone(xssPayloads), xssTextOnly...))
	})

	// The login page shows back the user name and the next page.
	t.Run("Login", func(t *testing.T) {
		e := newEnv(t)
		x := newXSSCheck()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, p := range xssPayloads {
			x.get(t, "/login", c, e.Server.URL, "/login?next="+url.QueryEscape("/"+p), http.StatusOK)
			res := e.postForm(t, "/login", url.Values{"user": {p}, "password": {"wrong"}, "next": {"/" + p}})
			body, _ := io.ReadAll(res.Body)
			x.response(t, "/login", "POST /login as "+p, res.StatusCode, res.Header.Get("Content-Type"), body,
				http.StatusUnauthorized, http.StatusTooManyRequests)
		}
		x.requireSeen(t, xssPayloads)
	})

	// The error page shows the error's message and the user.
	t.Run("ErrorPage", func(t *testing.T) {
		e := newEnv(t)
		x := newXSSCheck()
		for _, p := range append(slices.Clone(xssPayloads), xssTextOnly...) {
			for _, code := range []string{statesrv.EInvalid, statesrv.ENotFound, statesrv.EUnavail} {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, "/processes/1?flash="+url.QueryEscape(p), nil)
				e.Handler.pageError(rec, req, p, statesrv.Errorf(code, "%s", p))
				x.response(t, "error page", "error page "+code+" "+p, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes(),
					statusOf(statesrv.Errorf(code, "x")))
			}
		}
		x.requireSeen(t, append(slices.Clone(xssPayloads), xssTextOnly...))
	})
}
