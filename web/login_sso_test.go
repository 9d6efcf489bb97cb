package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/sso"
	"github.com/statesrv/statesrv/sso/ssotest"
)

// newSSOEnv is an env whose server signs users in with the in-test
// provider it returns, the role taken from the claim statesrv_role.
func newSSOEnv(t *testing.T) (*env, *ssotest.Provider) {
	t.Helper()
	e := newEnv(t)
	op := ssotest.New(t)
	op.Set(func(p *ssotest.Provider) {
		p.Now = e.Clock.Now
		p.Claims = map[string]any{"sub": "0001", "preferred_username": "Alice", "statesrv_role": "editor"}
	})
	// The callback's URL is needed before the handler: bind first.
	srv := httptest.NewUnstartedServer(nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	p, err := sso.Discover(ctx, sso.Config{Issuer: op.Issuer(), ClientID: ssotest.ClientID,
		ClientSecret: ssotest.ClientSecret, RoleClaim: "statesrv_role", Now: e.Clock.Now,
		RedirectURL: "http://" + srv.Listener.Addr().String() + "/login/sso/callback"})
	if err != nil {
		t.Fatal(err)
	}
	e.Server.Close()
	e.Handler = NewHandler(Config{Service: e.Service, Runner: e.Runner, Log: e.Log,
		Version: "test", Tokens: []string{"test-token"}, SSO: p})
	srv.Config.Handler = e.Handler
	srv.Start()
	e.Server = srv // the env's cleanup closes it
	return e, op
}

// ssoBrowser is a browser with a cookie jar that follows redirects from
// one server to the other, except to stopAt (a path), where it stops.
func ssoBrowser(stopAt string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == stopAt || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

// noFollow is browser b, with its cookies, not following redirects.
func noFollow(b *http.Client) *http.Client {
	c := *b
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func getDoc(t *testing.T, c *http.Client, u string) (*http.Response, *goquery.Document) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, doc
}

func TestSSOLogin(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e, _ := newSSOEnv(t)
		e.define(t, statesrv.Process{ID: 7, Name: "backup", Enabled: true})
		b := ssoBrowser("")
		_, login := getDoc(t, b, e.Server.URL+"/login?next=/processes/7")
		link, _ := login.Find(`[data-testid="login-sso"]`).Attr("href")
		if login.Find(`[data-testid="login-sso"]`).Text() != "Log in with SSO" {
			t.Fatal("the login page offers no single sign-on")
		}
		res, doc := getDoc(t, b, e.Server.URL+link)
		if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/processes/7" {
			t.Fatalf("ended at %s with %s", res.Request.URL, res.Status)
		}
		if got := doc.Find(`[data-testid="account-link"]`).Text(); got != "sso:alice" {
			t.Fatalf("signed in as %q, want sso:alice", got)
		}
		// An editor by the claim: the page offers the editor's actions,
		// and they are recorded as the SSO user's.
		e.asBrowser(t, noFollow(b), func() {
			res := e.postForm(t, "/processes/7/start", nil)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("start as an SSO editor: %d", res.StatusCode)
			}
			starts := e.loggedEvents(t, statesrv.EventRunStarted)
			if len(starts) != 1 || starts[0].Actor != "sso:alice" {
				t.Fatalf("run started by %+v, want actor sso:alice", starts)
			}
			// Not an admin: no user management.
			if res := e.postForm(t, "/account/users", url.Values{"name": {"x"}}); res.StatusCode != http.StatusForbidden {
				t.Fatalf("an SSO editor adds a user: %d", res.StatusCode)
			}
			// No password here, and no tokens that outlive the sign-in.
			doc := e.page(t, "/account")
			if doc.Find(`[data-testid="sso-note"]`).Length() != 1 || doc.Find(`form[action="/account/password"], form[action="/account/tokens"]`).Length() != 0 {
				t.Fatal("the account page of an SSO user offers a password or token form")
			}
			if res := e.postForm(t, "/account/tokens", url.Values{"name": {"ci"}}); res.StatusCode != http.StatusForbidden {
				t.Fatalf("an SSO user makes a token: %d", res.StatusCode)
			}
		})
	})
	t.Run("RoleFromClaim", func(t *testing.T) {
		for claim, want := range map[any]string{"admin": "admin", "viewer": "viewer", "root": "viewer", nil: "viewer"} {
			e, op := newSSOEnv(t)
			op.Set(func(p *ssotest.Provider) { p.Claims["statesrv_role"] = claim })
			b := ssoBrowser("")
			_, doc := getDoc(t, b, e.Server.URL+"/login/sso?next=/account")
			if got := doc.Find(`[data-testid="account-role"] b`).Text(); got != want {
				t.Errorf("claim %v: role %q, want %q", claim, got, want)
			}
			e.asBrowser(t, noFollow(b), func() {
				status := e.postForm(t, "/processes/1/delete", nil).StatusCode
				if want == "viewer" && status != http.StatusForbidden {
					t.Errorf("claim %v: a viewer's post answered %d, want 403", claim, status)
				}
			})
		}
	})
	t.Run("NameNeverALocalUser", func(t *testing.T) {
		e, op := newSSOEnv(t)
		// The provider says "admin": the local admin stays untouched.
		op.Set(func(p *ssotest.Provider) { p.Claims = map[string]any{"sub": "9", "preferred_username": "admin"} })
		b := ssoBrowser("")
		_, doc := getDoc(t, b, e.Server.URL+"/login/sso?next=/account")
		if got := doc.Find(`[data-testid="account-link"]`).Text(); got != "sso:admin" {
			t.Fatalf("signed in as %q, want sso:admin", got)
		}
		if got := doc.Find(`[data-testid="account-role"] b`).Text(); got != "viewer" {
			t.Fatalf("role %q, want viewer", got)
		}
	})
	t.Run("NotConfigured", func(t *testing.T) {
		e := newEnv(t)
		_, doc := e.get(t, "/login")
		if doc.Find(`[data-testid="login-sso"]`).Length() != 0 {
			t.Fatal("single sign-on offered without a provider")
		}
		for _, p := range []string{"/login/sso", "/login/sso/callback?state=x&code=y"} {
			if res := e.do(t, http.MethodGet, p, nil, nil); res.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: %d, want 404", p, res.StatusCode)
			}
		}
	})
}

// TestSSORefused spoils each part of the sign-in: each answers an error
// page with a clear message and the browser has no session after it.
func TestSSORefused(t *testing.T) {
	cases := []struct {
		name   string
		spoil  func(op *ssotest.Provider)
		alter  func(callback *url.URL)
		status int
		msg    string
	}{
		{"WrongState", nil, func(u *url.URL) { q := u.Query(); q.Set("state", "not-the-state"); u.RawQuery = q.Encode() },
			http.StatusBadRequest, "state"},
		{"NoState", nil, func(u *url.URL) { q := u.Query(); q.Del("state"); u.RawQuery = q.Encode() },
			http.StatusBadRequest, "state"},
		{"ProviderRefused", nil, func(u *url.URL) { u.RawQuery = "error=access_denied&state=" + u.Query().Get("state") },
			http.StatusUnauthorized, "access_denied"},
		{"ExpiredIDToken", func(op *ssotest.Provider) { op.Lifetime = -time.Second }, nil, http.StatusUnauthorized, "expired"},
		{"ForeignAudience", func(op *ssotest.Provider) { op.Audience = "someone-else" }, nil, http.StatusUnauthorized, "audience"},
		{"ForgedIDToken", func(op *ssotest.Provider) { op.SigningKey = ssotest.NewKey() }, nil, http.StatusUnauthorized, "signature"},
		{"WrongNonce", func(op *ssotest.Provider) { op.Nonce = "another-nonce" }, nil, http.StatusUnauthorized, "nonce"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, op := newSSOEnv(t)
			if tc.spoil != nil {
				op.Set(tc.spoil)
			}
			b := ssoBrowser("/login/sso/callback")
			callback := beginSSO(t, e, b)
			if tc.alter != nil {
				tc.alter(callback)
			}
			res, doc := getDoc(t, b, callback.String())
			mustRefuse(t, e, b, res, doc, tc.status, tc.msg)
		})
	}
	t.Run("ReplayedState", func(t *testing.T) {
		e, _ := newSSOEnv(t)
		b := ssoBrowser("/login/sso/callback")
		callback := beginSSO(t, e, b)
		// The state's cookie is gone after its use: put it back, as an
		// attacker who copied it would.
		state := callback.Query().Get("state")
		res, _ := getDoc(t, b, callback.String())
		if res.StatusCode != http.StatusOK {
			t.Fatalf("first use: %s", res.Status)
		}
		other := ssoBrowser("/login/sso/callback")
		u, _ := url.Parse(e.Server.URL)
		other.Jar.SetCookies(u, []*http.Cookie{{Name: "statesrv_sso", Value: state}})
		res, doc := getDoc(t, other, callback.String())
		mustRefuse(t, e, other, res, doc, http.StatusBadRequest, "state")
	})
	t.Run("StateOfAnotherBrowser", func(t *testing.T) {
		e, _ := newSSOEnv(t)
		victim, attacker := ssoBrowser("/login/sso/callback"), ssoBrowser("/login/sso/callback")
		beginSSO(t, e, victim)
		// The attacker's own sign-in, finished in the victim's browser.
		callback := beginSSO(t, e, attacker)
		res, doc := getDoc(t, victim, callback.String())
		mustRefuse(t, e, victim, res, doc, http.StatusBadRequest, "state")
	})
}

// beginSSO starts a sign-in in browser b and returns the callback URL the
// provider sends it back to, not yet followed.
func beginSSO(t *testing.T, e *env, b *http.Client) *url.URL {
	t.Helper()
	res, err := b.Get(e.Server.URL + "/login/sso?next=/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || u.Path != "/login/sso/callback" {
		t.Fatalf("the provider answered %s to %q", res.Status, res.Header.Get("Location"))
	}
	return u
}

// mustRefuse checks an answer to the callback: status, an error page
// saying msg, and no session in browser b.
func mustRefuse(t *testing.T, e *env, b *http.Client, res *http.Response, doc *goquery.Document, status int, msg string) {
	t.Helper()
	got := doc.Find(`[data-testid="error-message"]`).Text()
	if res.StatusCode != status || !strings.Contains(got, msg) {
		t.Fatalf("answer %d %q; want %d saying %q", res.StatusCode, got, status, msg)
	}
	u, _ := url.Parse(e.Server.URL)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == "statesrv_session" {
			t.Fatal("a session cookie was set")
		}
	}
	r, err := noFollow(b).Get(e.Server.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("after a refused sign-in, / answers %d to %q: a session exists", r.StatusCode, r.Header.Get("Location"))
	}
}
