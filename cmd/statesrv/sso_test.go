package main

import (
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/sso/ssotest"
)

// TestServeSSO signs in through the whole server, wired by its flags'
// configuration, against a provider started in the test.
func TestServeSSO(t *testing.T) {
	op := ssotest.New(t)
	addr := freeAddr(t)
	s := &testServer{tb: t, dir: t.TempDir(), clk: clock.NewFake(t0)}
	op.Set(func(p *ssotest.Provider) {
		p.Now = s.clk.Now
		p.Claims = map[string]any{"sub": "42", "email": "Dana@Example.org", "groups": []any{"staff", "admin"}}
	})
	s.configure = func(c *Config) {
		c.HTTP = addr
		c.OIDC = OIDCConfig{Issuer: op.Issuer(), ClientID: ssotest.ClientID, ClientSecret: ssotest.ClientSecret,
			RoleClaim: "groups", RedirectURL: "http://" + addr + "/login/sso/callback"}
	}
	s.MustOpen()
	t.Cleanup(func() { s.Main.Close() })
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	res, err := b.Get("http://" + addr + "/login/sso?next=/account")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/account" {
		t.Fatalf("ended at %s with %s", res.Request.URL, res.Status)
	}
	user, role := doc.Find(`[data-testid="account-link"]`).Text(), doc.Find(`[data-testid="account-role"] b`).Text()
	if user != "sso:dana_example.org" || role != "admin" {
		t.Fatalf("signed in as %q with role %q; want sso:dana_example.org, admin", user, role)
	}
}

// TestServeSSOIssuerUnreachable: a provider that cannot be reached at
// start refuses the start, saying why.
func TestServeSSOIssuerUnreachable(t *testing.T) {
	issuer := "http://" + freeAddr(t)
	res := runCLI("serve", "--data", t.TempDir(), "--tcp", "", "--http", "127.0.0.1:0",
		"--oidc-issuer", issuer, "--oidc-client-id", "x", "--oidc-client-secret", "y")
	if res.code != 1 || !strings.Contains(res.stderr, "--oidc-issuer: sso: discovery at "+issuer) {
		t.Fatalf("exit %d, stderr %q; want 1 and the issuer named", res.code, res.stderr)
	}
}
