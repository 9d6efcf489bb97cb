package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestLoginNext sends a logged-in browser to /login?next=... (the query as
// written, not encoded again) and checks where it is sent on.
func TestLoginNext(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	for _, tc := range []struct{ query, want string }{
		{"/%09/evil.example/x", "/"},
		{"/%0A/evil.example", "/"},
		{"/%0D%0A/evil.example", "/"},
		{"%09//evil.example", "/"},
		{"//evil", "/"},
		{"/\\evil", "/"},
		{"/%5Cevil", "/"},
		{"%2F%2Fevil", "/"},
		{"/%252F/evil", "/"},
		{"%252F%252Fevil", "/"},
		{"https://evil", "/"},
		{"https:evil", "/"},
		{"evil", "/"},
		{"", "/"},
		{"/ok/path?x=1", "/ok/path?x=1"},
		{"%2Fhistory%3Fprocess%3D3", "/history?process=3"},
		{"/runs", "/runs"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res := e.do(t, http.MethodGet, "/login?next="+tc.query, nil, nil)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
				t.Fatalf("status %d, Location %q, want %q", res.StatusCode, res.Header.Get("Location"), tc.want)
			}
		})
	}
	t.Run("AfterLogin", func(t *testing.T) {
		e := newEnv(t)
		res := e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {testPassword}, "next": {"/\t/evil.example/x"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

// parallelLogins sends n logins of user with password at once, the ith from
// clients[i%len(clients)], and counts the answers by status. Every 429 must
// carry Retry-After.
func parallelLogins(t *testing.T, e *env, clients []*http.Client, n int, user, password string) map[int]int {
	t.Helper()
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			status, hd, err := e.tryLogin(context.Background(), clients[i%len(clients)], user, password)
			if err != nil {
				t.Error(err)
				return
			}
			if status == http.StatusTooManyRequests && hd.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			mu.Lock()
			counts[status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return counts
}

func TestLoginLimits(t *testing.T) {
	t.Run("ParallelCountAsSequential", func(t *testing.T) {
		e := newEnv(t)
		counts := parallelLogins(t, e, []*http.Client{e.clientFrom("127.0.0.2")}, 100, "admin", "wrong")
		// Sequentially, the first freeFailures+1 wrong passwords are checked
		// and the next waits; in parallel, no more.
		if counts[http.StatusUnauthorized] > freeFailures+1 || counts[http.StatusTooManyRequests] < 100-freeFailures-1 {
			t.Fatalf("answers by status %v, want at most %d checked and the rest 429", counts, freeFailures+1)
		}
		if peak := e.Handler.hashes.peak.Load(); peak > passwordHashSlots {
			t.Fatalf("%d password hashes at once, want at most %d", peak, passwordHashSlots)
		}
		status, _, err := e.tryLogin(context.Background(), e.clientFrom("127.0.0.3"), "admin", testPassword)
		if err != nil || status != http.StatusSeeOther {
			t.Fatalf("right password from a fresh address: status %d, %v", status, err)
		}
	})
	t.Run("HashesBounded", func(t *testing.T) {
		e := newEnv(t)
		clients := make([]*http.Client, 100)
		for i := range clients {
			clients[i] = e.clientFrom(fmt.Sprintf("127.0.1.%d", i+1))
		}
		counts := parallelLogins(t, e, clients, 100, "admin", "wrong")
		if counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != 100 {
			t.Fatalf("answers by status %v, want only 401 and 429", counts)
		}
		if peak := e.Handler.hashes.peak.Load(); peak < 1 || peak > passwordHashSlots {
			t.Fatalf("%d password hashes at once, want 1 to %d", peak, passwordHashSlots)
		}
		status, _, err := e.tryLogin(context.Background(), e.clientFrom("127.0.0.3"), "admin", testPassword)
		if err != nil || status != http.StatusSeeOther {
			t.Fatalf("right password from a fresh address: status %d, %v", status, err)
		}
	})
	t.Run("UserLimitSparesFreshAddress", func(t *testing.T) {
		e := newEnv(t)
		guesser, other := e.clientFrom("127.0.0.2"), e.clientFrom("127.0.0.4")
		for range freeFailures + 1 {
			e.tryLogin(context.Background(), guesser, "admin", "wrong")
		}
		if status, _, _ := e.tryLogin(context.Background(), guesser, "admin", testPassword); status != http.StatusTooManyRequests {
			t.Fatalf("right password from the guessing address: status %d, want 429", status)
		}
		// Another address that fails once is held back by the user's count.
		if status, _, _ := e.tryLogin(context.Background(), other, "admin", "wrong"); status != http.StatusUnauthorized {
			t.Fatalf("first wrong password from another address: status %d, want 401", status)
		}
		if status, _, _ := e.tryLogin(context.Background(), other, "admin", "wrong"); status != http.StatusTooManyRequests {
			t.Fatalf("second wrong password from another address: status %d, want 429 (the user is limited)", status)
		}
		// The admin's own browser, which has not failed, logs in.
		status, _, err := e.tryLogin(context.Background(), e.clientFrom("127.0.0.3"), "admin", testPassword)
		if err != nil || status != http.StatusSeeOther {
			t.Fatalf("right password from a fresh address: status %d, %v", status, err)
		}
	})
}

func TestLoginHeaders(t *testing.T) {
	t.Run("NoStore", func(t *testing.T) {
		e := newEnv(t)
		for _, res := range []*http.Response{
			e.do(t, http.MethodGet, "/login", nil, nil),
			e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {"wrong"}}),
			e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {testPassword}}),
			e.do(t, http.MethodGet, "/login?next=/runs", nil, nil), // logged in: a redirect
		} {
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s /login (%d): Cache-Control %q, want no-store", res.Request.Method, res.StatusCode, got)
			}
		}
	})
	t.Run("SessionCookieEndsWithBrowser", func(t *testing.T) {
		e := newEnv(t)
		res := e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {testPassword}})
		raw := res.Header.Values("Set-Cookie")
		if len(raw) != 1 || strings.Contains(strings.ToLower(raw[0]), "max-age") || strings.Contains(strings.ToLower(raw[0]), "expires") {
			t.Fatalf("Set-Cookie %q, want a session cookie (no Max-Age, no Expires)", raw)
		}
	})
	t.Run("HSTSUnderTLS", func(t *testing.T) {
		e := newEnv(t)
		e.Handler.cfg.TLS = true
		srv := newTLSServer(t, e.Handler)
		for _, path := range []string{"/login", "/healthz", "/api/v1/processes", "/nope", "/account"} {
			res, err := srv.Client().Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
				t.Errorf("GET %s (%d) over TLS: Strict-Transport-Security %q", path, res.StatusCode, got)
			}
		}
	})
	t.Run("NoHSTSOverPlainHTTP", func(t *testing.T) {
		e := newEnv(t)
		for _, path := range []string{"/login", "/healthz"} {
			if got := e.do(t, http.MethodGet, path, nil, nil).Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("GET %s over plain HTTP: Strict-Transport-Security %q", path, got)
			}
		}
	})
}

func newTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}
