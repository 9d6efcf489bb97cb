package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
)

// asBrowser runs fn with the env's client swapped for another browser's,
// with cookies of its own.
func (e *env) asBrowser(t *testing.T, b *http.Client, fn func()) {
	t.Helper()
	saved := e.Client
	e.Client = b
	defer func() { e.Client = saved }()
	fn()
}

func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// apiStatus is the status of GET /api/v1/processes with token.
func (e *env) apiStatus(t *testing.T, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/api/v1/processes", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestAccountPage(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	doc := e.page(t, "/account")
	for _, id := range []string{"password-form", "token-form", "empty"} {
		if testid(doc, id).Length() != 1 {
			t.Errorf("no %s on the page", id)
		}
	}
	for _, name := range []string{"current", "new", "confirm"} {
		if testid(doc, "password-form").Find(`input[name="`+name+`"]`).Length() != 1 {
			t.Errorf("password form has no input %s", name)
		}
	}
	if testid(doc, "token-secret").Length() != 0 {
		t.Error("a secret shown without a token created")
	}
}

func TestAccountPassword(t *testing.T) {
	const next = "a much better password"
	change := func(current, new, confirm string) url.Values {
		return url.Values{"current": {current}, "new": {new}, "confirm": {confirm}}
	}
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		other := newBrowser()
		e.asBrowser(t, other, func() { e.login(t); e.page(t, "/account") })

		res := e.postForm(t, "/account/password", change(testPassword, next, next))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", res.StatusCode)
		}
		doc := e.page(t, res.Header.Get("Location"))
		if got := testid(doc, "flash").Text(); got != "Password changed." {
			t.Errorf("flash %q", got)
		}
		// The other browser was logged out; this one was not.
		e.asBrowser(t, other, func() {
			if res := e.do(t, http.MethodGet, "/account", nil, nil); res.StatusCode != http.StatusSeeOther {
				t.Errorf("other browser after the change: status %d, want 303 to login", res.StatusCode)
			}
		})
		e.page(t, "/account")

		fresh := newBrowser()
		e.asBrowser(t, fresh, func() {
			if res := e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {testPassword}}); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("login with the old password: status %d, want 401", res.StatusCode)
			}
			if res := e.postForm(t, "/login", url.Values{"user": {"admin"}, "password": {next}}); res.StatusCode != http.StatusSeeOther {
				t.Errorf("login with the new password: status %d, want 303", res.StatusCode)
			}
		})
		// The change is in the audit log under the user's name.
		evs := e.loggedEvents(t, statesrv.EventUserPasswordSet)
		if last := evs[len(evs)-1]; last.Actor != "admin" {
			t.Errorf("password change recorded as %q", last.Actor)
		}
	})
	for _, tt := range []struct {
		name, field string
		form        url.Values
	}{
		{"ErrWrongCurrent", "current", change("not it at all", next, next)},
		{"ErrTooShort", "new", change(testPassword, "short", "short")},
		{"ErrMismatch", "confirm", change(testPassword, next, next+"!")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.login(t)
			before := e.Log.LastSeq()
			res, doc := e.postFormDoc(t, "/account/password", tt.form)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", res.StatusCode)
			}
			if testid(doc, "error-"+tt.field).Length() != 1 {
				t.Errorf("no inline error on %s; page says %q", tt.field, doc.Find("main").Text())
			}
			if after := e.Log.LastSeq(); after != before {
				t.Errorf("the log grew from %d to %d", before, after)
			}
			if !e.Service.CheckPassword("admin", testPassword) {
				t.Error("the password changed")
			}
		})
	}
	t.Run("ErrTooManyWrong", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		for range freeFailures + 1 {
			e.postForm(t, "/account/password", change("wrong", next, next))
		}
		res, doc := e.postFormDoc(t, "/account/password", change(testPassword, next, next))
		if res.StatusCode != http.StatusTooManyRequests || testid(doc, "error-current").Length() != 1 {
			t.Fatalf("status %d, want 429 with an inline error", res.StatusCode)
		}
		if !e.Service.CheckPassword("admin", testPassword) {
			t.Error("the password changed")
		}
	})
}

func TestAccountTokens(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		res, doc := e.postFormDoc(t, "/account/tokens", url.Values{"name": {" backup server "}})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", res.StatusCode)
		}
		secret := strings.TrimSpace(testid(doc, "token-secret").Text())
		if !strings.HasPrefix(secret, "ss_") {
			t.Fatalf("secret %q", secret)
		}
		if !strings.Contains(testid(doc, "token-created").Text(), "will not be shown again") {
			t.Errorf("no warning that the secret is shown once")
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
		}
		if got := e.apiStatus(t, secret); got != http.StatusOK {
			t.Fatalf("API with the new token: status %d", got)
		}

		doc = e.page(t, "/account")
		rows := testid(doc, "token-row")
		if rows.Length() != 1 || testid(doc, "token-name").Text() != "backup server" {
			t.Fatalf("token rows %q", rows.Text())
		}
		if strings.Contains(doc.Text(), secret) || testid(doc, "token-secret").Length() != 0 {
			t.Fatal("the secret is shown again")
		}
		// Created, and last used by the API call above.
		if rows.Find("time").Length() != 2 {
			t.Errorf("%d times in the row, want the creation and the last use", rows.Find("time").Length())
		}
		action, _ := rows.Find("form").Attr("action")
		res = e.postForm(t, action, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: status %d", res.StatusCode)
		}
		doc = e.page(t, res.Header.Get("Location"))
		if testid(doc, "token-row").Length() != 0 || testid(doc, "flash").Text() != "Token revoked." {
			t.Errorf("after revoking: %d rows, flash %q", testid(doc, "token-row").Length(), testid(doc, "flash").Text())
		}
		if got := e.apiStatus(t, secret); got != http.StatusUnauthorized {
			t.Fatalf("API with the revoked token: status %d, want 401", got)
		}
	})
	t.Run("ErrNameRequired", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		before := e.Log.LastSeq()
		res, doc := e.postFormDoc(t, "/account/tokens", url.Values{"name": {"  "}})
		if res.StatusCode != http.StatusBadRequest || testid(doc, "error-name").Length() != 1 {
			t.Fatalf("status %d, error %q", res.StatusCode, testid(doc, "error-name").Text())
		}
		if testid(doc, "token-secret").Length() != 0 || e.Log.LastSeq() != before {
			t.Fatal("a token was made")
		}
	})
	t.Run("ErrNameTooLong", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		res, doc := e.postFormDoc(t, "/account/tokens", url.Values{"name": {strings.Repeat("x", 101)}})
		if res.StatusCode != http.StatusBadRequest || testid(doc, "error-name").Length() != 1 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
	t.Run("ErrRevokeUnknown", func(t *testing.T) {
		e := newEnv(t)
		e.login(t)
		if res := e.postForm(t, "/account/tokens/nope/revoke", nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", res.StatusCode)
		}
	})
	t.Run("ErrRevokeAnotherUsers", func(t *testing.T) {
		e := newEnv(t)
		e.addUser(t, "ops", statesrv.RoleEditor)
		_, rc, err := e.Service.CreateToken(commands.Caller{User: "admin", Role: statesrv.RoleAdmin, Actor: "admin"}, "theirs", "")
		if err != nil {
			t.Fatal(err)
		}
		e.wait(t, rc)
		id := e.Service.Tokens()[0].ID
		e.loginAs(t, "ops")
		if n := testid(e.page(t, "/account"), "token-row").Length(); n != 0 {
			t.Errorf("another user's token listed (%d rows)", n)
		}
		if res := e.postForm(t, "/account/tokens/"+id+"/revoke", nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", res.StatusCode)
		}
		if len(e.Service.Tokens()) != 1 {
			t.Fatal("the token was revoked")
		}
	})
	t.Run("ErrLoggedOut", func(t *testing.T) {
		e := newEnv(t)
		if res := e.postForm(t, "/account/tokens", url.Values{"name": {"x"}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", res.StatusCode)
		}
		if len(e.Service.Tokens()) != 0 {
			t.Fatal("a token was made")
		}
	})
}

// loggedEvents returns the events of type typ in the log, oldest first.
func (e *env) loggedEvents(t *testing.T, typ string) []eventlog.Event {
	t.Helper()
	var out []eventlog.Event
	for ev, err := range e.Log.Range(context.Background(), 1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == typ {
			out = append(out, *ev)
		}
	}
	return out
}
