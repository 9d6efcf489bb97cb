package main

import (
	"testing"

	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/sso/ssotest"
)

// TestBrowserSSO signs in with single sign-on in a real browser: the login
// page offers it, the provider sends the browser back, and the dashboard
// shows the SSO user with the role of the claim.
func TestBrowserSSO(t *testing.T) {
	chromium := mustChromium(t)
	op := ssotest.New(t)
	addr := freeAddr(t)
	s := &testServer{tb: t, dir: t.TempDir(), clk: clock.NewFake(t0)}
	op.Set(func(p *ssotest.Provider) {
		p.Now = s.clk.Now
		p.Claims = map[string]any{"sub": "7", "preferred_username": "erin", "role": "viewer"}
	})
	s.configure = func(c *Config) {
		c.HTTP, c.AdminPassword = addr, browserPassword
		c.OIDC = OIDCConfig{Issuer: op.Issuer(), ClientID: ssotest.ClientID, ClientSecret: ssotest.ClientSecret,
			RoleClaim: "role", RedirectURL: "http://" + addr + "/login/sso/callback"}
	}
	s.MustOpen()
	t.Cleanup(func() { s.Main.Close() })
	b := mustBrowser(t, chromium, "http://"+addr)

	b.open(t, "/processes")
	if got := b.texts(t, tid("login-sso")); len(got) != 1 || got[0] != "Log in with SSO" {
		t.Fatalf("the login page offers %q, want one \"Log in with SSO\"", got)
	}
	b.shot(t, "login-sso")
	b.follow(t, tid("login-sso"))
	if p := b.path(t); p != "/processes" {
		t.Fatalf("after single sign-on the tab shows %s, want /processes", p)
	}
	if got := b.texts(t, tid("account-link")); len(got) != 1 || got[0] != "sso:erin" {
		t.Fatalf("signed in as %q, want sso:erin", got)
	}
	// A viewer by the claim: no form that changes anything.
	if n := b.count(t, tid("new-process")); n != 0 {
		t.Fatal("a viewer signed in with SSO is offered a new process")
	}
}
