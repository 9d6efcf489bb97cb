package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLogin(t *testing.T) {
	t.Run("RedirectsToLogin", func(t *testing.T) {
		e := newEnv(t)
		res := e.do(t, http.MethodGet, "/history?process=3", nil, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fhistory%3Fprocess%3D3" {
			t.Fatalf("status %d, location %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		res := e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {testPassword}, "next": {"/runs"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/runs" {
			t.Fatalf("status %d, location %q", res.StatusCode, res.Header.Get("Location"))
		}
		var c *http.Cookie
		for _, k := range res.Cookies() {
			c = k
		}
		if c == nil || c.Name != "statesrv_session" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie %+v", c)
		}
		doc := e.page(t, "/account")
		if got := testid(doc, "account-link").Text(); got != "admin" {
			t.Fatalf("logged in as %q", got)
		}
	})
	t.Run("TLSCookie", func(t *testing.T) {
		e := newEnv(t)
		e.Handler.cfg.TLS = true
		res := e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {testPassword}})
		cs := res.Cookies()
		if res.StatusCode != http.StatusSeeOther || len(cs) != 1 {
			t.Fatalf("status %d, cookies %v", res.StatusCode, cs)
		}
		c := cs[0]
		if c.Name != "__Host-statesrv_session" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" ||
			c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("over TLS the session cookie is %+v, want __Host-statesrv_session, Secure, HttpOnly, Path=/, no Domain, Lax", c)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		e := newEnv(t)
		res, doc := e.postFormDoc(t, "/login", url.Values{"user": {"admin"}, "password": {"nope"}})
		if res.StatusCode != http.StatusUnauthorized || testid(doc, "login-error").Text() != "Wrong user or password." {
			t.Fatalf("status %d, error %q", res.StatusCode, testid(doc, "login-error").Text())
		}
		if v, _ := testid(doc, "login-form").Find("#user").Attr("value"); v != "admin" {
			t.Fatalf("user field %q, want it kept", v)
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		e := newEnv(t)
		res := e.postForm(t, "/login", url.Values{"user": {"root"}, "password": {testPassword}})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
	t.Run("NextStaysOnSite", func(t *testing.T) {
		for _, next := range []string{"//evil.example", "https://evil.example/", "/\\evil", "evil"} {
			if got := safeNext(next); got != "/" {
				t.Errorf("safeNext(%q) = %q", next, got)
			}
		}
	})
	t.Run("SlowsRepeatedFailures", func(t *testing.T) {
		e := newEnv(t)
		for i := range freeFailures {
			if res := e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {"x"}}); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d", i, res.StatusCode)
			}
		}
		e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {"x"}})
		// Now even the right password waits.
		res, doc := e.postFormDoc(t, "/login", url.Values{"user": {"admin"}, "password": {testPassword}})
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
		}
		if !strings.Contains(testid(doc, "login-error").Text(), "Too many failed logins") {
			t.Fatalf("error %q", testid(doc, "login-error").Text())
		}
		e.Clock.Advance(2 * time.Second)
		e.login(t)
	})
	t.Run("IdleTimeout", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		e.page(t, "/account")
		e.Clock.Advance(DefaultIdleTimeout - time.Minute)
		e.page(t, "/account") // activity renews the idle timer
		e.Clock.Advance(DefaultIdleTimeout - time.Minute)
		e.page(t, "/account")
		e.Clock.Advance(DefaultIdleTimeout)
		if res := e.do(t, http.MethodGet, "/account", nil, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("after idle timeout: status %d", res.StatusCode)
		}
	})
	t.Run("AbsoluteTimeout", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		for range DefaultAbsoluteTimeout / time.Hour {
			e.Clock.Advance(time.Hour)
			e.do(t, http.MethodGet, "/account", nil, nil)
		}
		if res := e.do(t, http.MethodGet, "/account", nil, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("after the absolute timeout: status %d", res.StatusCode)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		old := e.Client.Jar.Cookies(mustURL(t, e.Server.URL))
		if res := e.postForm(t, "/logout", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: status %d", res.StatusCode)
		}
		if res := e.do(t, http.MethodGet, "/account", nil, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("after logout: status %d", res.StatusCode)
		}
		// The old cookie is dead on the server, not only in the browser.
		req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/account", nil)
		for _, c := range old {
			req.AddCookie(c)
		}
		res, err := (&http.Client{CheckRedirect: e.Client.CheckRedirect}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("old cookie after logout: status %d", res.StatusCode)
		}
	})
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestCrossOrigin sends every state-changing route a request from another
// origin, as a browser would mark it, and expects a refusal that changed
// nothing.
func TestCrossOrigin(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	checked := 0
	for _, pattern := range e.Handler.Routes() {
		method, path, _ := strings.Cut(pattern, " ")
		if method == http.MethodGet || method == http.MethodHead {
			continue
		}
		path = strings.NewReplacer("{id}", "1", "{state}", "OK", "{message_id}", "x", "{seq}", "1", "{name}", "x").Replace(path)
		for _, h := range []http.Header{
			{"Sec-Fetch-Site": {"cross-site"}},
			{"Origin": {"https://evil.example"}},
		} {
			before := e.Log.LastSeq()
			h.Set("Authorization", "Bearer test-token")
			res := e.do(t, method, path, strings.NewReader("user=admin&password=x"), h)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with %v: status %d, want 403", method, path, h, res.StatusCode)
			}
			if after := e.Log.LastSeq(); after != before {
				t.Errorf("%s %s: the log grew from %d to %d", method, path, before, after)
			}
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d state-changing routes found", checked)
	}
}

func TestStatic(t *testing.T) {
	e := newEnv(t)
	_, doc := e.get(t, "/login")
	css, _ := doc.Find(`link[rel=stylesheet]`).Attr("href")
	js, _ := doc.Find(`script[src]`).Attr("src")
	for _, p := range []string{css, js} {
		res := e.do(t, http.MethodGet, p, nil, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: status %d, cache %q", p, res.StatusCode, res.Header.Get("Cache-Control"))
		}
	}
	if res := e.do(t, http.MethodGet, "/static/app.css", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unhashed name: status %d", res.StatusCode)
	}
	res := e.do(t, http.MethodGet, "/login", nil, nil)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}
