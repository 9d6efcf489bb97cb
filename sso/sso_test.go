package sso_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/sso"
	"github.com/statesrv/statesrv/sso/ssotest"
)

const redirect = "http://127.0.0.1:1/login/sso/callback"

// fakeNow is a clock a test moves.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeNow) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T) (*ssotest.Provider, *sso.Provider, *fakeNow) {
	t.Helper()
	op := ssotest.New(t)
	op.Set(func(p *ssotest.Provider) {
		p.Claims = map[string]any{"sub": "u-1", "preferred_username": "Alice", "groups": "editor"}
	})
	clock := &fakeNow{t: time.Now()}
	p, err := sso.Discover(t.Context(), sso.Config{Issuer: op.Issuer(), ClientID: ssotest.ClientID,
		ClientSecret: ssotest.ClientSecret, RedirectURL: redirect, RoleClaim: "groups", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return op, p, clock
}

// authorize follows the provider's sign-in as a browser would and returns
// the code and state it sends back.
func authorize(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s", res.Status)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("authorize sent the browser to %q", res.Header.Get("Location"))
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}

func TestFinish(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		_, p, _ := setup(t)
		authURL, bound := p.Begin("/processes")
		code, state := authorize(t, authURL)
		id, next, err := p.Finish(t.Context(), state, bound, code)
		if err != nil {
			t.Fatal(err)
		}
		want := sso.Identity{Name: "alice", Role: statesrv.RoleEditor, Subject: "u-1"}
		if id != want || next != "/processes" {
			t.Fatalf("got %+v, %q; want %+v, /processes", id, next, want)
		}
	})
	refused := []struct {
		name  string
		spoil func(op *ssotest.Provider, clock *fakeNow)
		want  error
		msg   string
	}{
		{"ErrTokenExpired", func(op *ssotest.Provider, _ *fakeNow) { op.Lifetime = -time.Minute }, sso.ErrToken, "expired"},
		{"ErrTokenForeignAudience", func(op *ssotest.Provider, _ *fakeNow) { op.Audience = "another-client" }, sso.ErrToken, "audience"},
		{"ErrTokenForged", func(op *ssotest.Provider, _ *fakeNow) { op.SigningKey = ssotest.NewKey() }, sso.ErrToken, "signature"},
		{"ErrTokenWrongNonce", func(op *ssotest.Provider, _ *fakeNow) { op.Nonce = "not-the-nonce" }, sso.ErrToken, "nonce"},
		{"ErrTokenNoName", func(op *ssotest.Provider, _ *fakeNow) { op.Claims = map[string]any{"sub": "---"} }, sso.ErrToken, "names no user"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			op, p, clock := setup(t)
			op.Set(func(op *ssotest.Provider) { tc.spoil(op, clock) })
			authURL, bound := p.Begin("/")
			code, state := authorize(t, authURL)
			_, _, err := p.Finish(t.Context(), state, bound, code)
			if !errors.Is(err, tc.want) || statesrv.ErrorCode(err) != statesrv.EAuth ||
				!strings.Contains(statesrv.ErrorMessage(err), tc.msg) {
				t.Fatalf("got %v (%s); want %v saying %q", err, statesrv.ErrorCode(err), tc.want, tc.msg)
			}
		})
	}
	t.Run("ErrStateWrong", func(t *testing.T) {
		op, p, _ := setup(t)
		authURL, bound := p.Begin("/")
		code, _ := authorize(t, authURL)
		_, _, err := p.Finish(t.Context(), "forged-state", bound, code)
		mustState(t, err)
		// The browser's own state is no use with another's cookie either.
		_, other := p.Begin("/")
		_, _, err = p.Finish(t.Context(), bound, other, code)
		mustState(t, err)
		if op.Exchanges != 0 {
			t.Fatalf("%d codes exchanged for a wrong state", op.Exchanges)
		}
	})
	t.Run("ErrStateReplayed", func(t *testing.T) {
		_, p, _ := setup(t)
		authURL, bound := p.Begin("/")
		code, state := authorize(t, authURL)
		if _, _, err := p.Finish(t.Context(), state, bound, code); err != nil {
			t.Fatal(err)
		}
		_, _, err := p.Finish(t.Context(), state, bound, code)
		mustState(t, err)
	})
	t.Run("ErrStateUsedByAFailure", func(t *testing.T) {
		op, p, _ := setup(t)
		op.Set(func(op *ssotest.Provider) { op.Nonce = "x" })
		authURL, bound := p.Begin("/")
		code, state := authorize(t, authURL)
		if _, _, err := p.Finish(t.Context(), state, bound, code); !errors.Is(err, sso.ErrToken) {
			t.Fatalf("got %v", err)
		}
		op.Set(func(op *ssotest.Provider) { op.Nonce = "" })
		_, _, err := p.Finish(t.Context(), state, bound, code)
		mustState(t, err)
	})
	t.Run("ErrStateExpired", func(t *testing.T) {
		_, p, clock := setup(t)
		authURL, bound := p.Begin("/")
		code, state := authorize(t, authURL)
		clock.Add(sso.FlowTTL)
		_, _, err := p.Finish(t.Context(), state, bound, code)
		mustState(t, err)
	})
}

func mustState(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, sso.ErrState) || statesrv.ErrorCode(err) != statesrv.EInvalid ||
		!strings.Contains(statesrv.ErrorMessage(err), "state") {
		t.Fatalf("got %v; want a refused state", err)
	}
}

// TestProviderChecksPKCE makes sure the test provider refuses a code
// exchanged without the verifier of its challenge: the flow tests above
// pass only because the real verifier was sent.
func TestProviderChecksPKCE(t *testing.T) {
	op := ssotest.New(t)
	authURL := op.Issuer() + "/authorize?" + url.Values{"client_id": {ssotest.ClientID}, "response_type": {"code"},
		"redirect_uri": {redirect}, "state": {"s"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}.Encode()
	code, _ := authorize(t, authURL)
	for _, verifier := range []string{"wrong-verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"} {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"code_verifier": {verifier}, "client_id": {ssotest.ClientID}, "client_secret": {ssotest.ClientSecret}}
		res, err := http.PostForm(op.Issuer()+"/token", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("verifier %q: %s; want 400", verifier, res.Status)
		}
	}
	// RFC 7636's example pair, with a fresh code: accepted.
	code, _ = authorize(t, authURL)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"code_verifier": {"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}, "client_id": {ssotest.ClientID}, "client_secret": {ssotest.ClientSecret}}
	res, err := http.PostForm(op.Issuer()+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("right verifier: %s", res.Status)
	}
}

func TestDiscoverUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := sso.Discover(ctx, sso.Config{Issuer: "http://127.0.0.1:1", ClientID: "x"})
	if err == nil || !strings.Contains(err.Error(), "sso: discovery at http://127.0.0.1:1") {
		t.Fatalf("got %v", err)
	}
}

func TestIdentityOf(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		claim  string
		want   sso.Identity
	}{
		{"PreferredUsername", map[string]any{"sub": "s", "preferred_username": "Bob.Smith", "email": "b@x.org"}, "",
			sso.Identity{Name: "bob.smith", Role: "viewer", Subject: "s"}},
		{"EmailWhenNoUsername", map[string]any{"sub": "s", "email": "Carol@Example.org"}, "",
			sso.Identity{Name: "carol_example.org", Role: "viewer", Subject: "s"}},
		{"SubLast", map[string]any{"sub": "0a1b"}, "", sso.Identity{Name: "0a1b", Role: "viewer", Subject: "0a1b"}},
		{"ColonsNeverSurvive", map[string]any{"sub": "token:ci"}, "", sso.Identity{Name: "token_ci", Role: "viewer", Subject: "token:ci"}},
		{"NoClaimConfigured", map[string]any{"sub": "s", "role": "admin"}, "", sso.Identity{Name: "s", Role: "viewer", Subject: "s"}},
		{"RoleString", map[string]any{"sub": "s", "role": "Admin"}, "role", sso.Identity{Name: "s", Role: "admin", Subject: "s"}},
		{"RoleListHighest", map[string]any{"sub": "s", "r": []any{"staff", "editor", "viewer"}}, "r", sso.Identity{Name: "s", Role: "editor", Subject: "s"}},
		{"RoleUnknown", map[string]any{"sub": "s", "role": "root"}, "role", sso.Identity{Name: "s", Role: "viewer", Subject: "s"}},
		{"RoleMissing", map[string]any{"sub": "s"}, "role", sso.Identity{Name: "s", Role: "viewer", Subject: "s"}},
		{"RoleNotAString", map[string]any{"sub": "s", "role": 3.0}, "role", sso.Identity{Name: "s", Role: "viewer", Subject: "s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sso.IdentityOf(tc.claims, tc.claim); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                  "alice",
		"  Alice ":               "alice",
		"-._x":                   "x",
		"Élodie":                 "lodie",
		"a b@c":                  "a_b_c",
		"":                       "",
		"@@@":                    "",
		strings.Repeat("a", 100): strings.Repeat("a", 64),
	} {
		if got := sso.Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}
