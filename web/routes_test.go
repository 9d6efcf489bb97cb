package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// addUser makes the user name with role and the test password.
func (e *env) addUser(t testing.TB, name, role string) {
	t.Helper()
	_, rc, err := e.Service.DefineUser(name, role, testPassword, statesrv.ActorAdmin)
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, rc)
}

// loginAs logs the env's client in as user, whose password is the test
// password.
func (e *env) loginAs(t testing.TB, user string) {
	t.Helper()
	res := e.postForm(t, "/login", url.Values{"user": {user}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d, want 303", user, res.StatusCode)
	}
}

// addToken makes a token named name of user with role and returns its
// secret.
func (e *env) addToken(t testing.TB, user, userRole, name, role string) string {
	t.Helper()
	secret, rc, err := e.Service.CreateToken(commands.Caller{User: user, Role: userRole, Actor: user}, name, role)
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, rc)
	return secret
}

// publicRoutes are the routes anyone may call. A route added without a
// role must be added here, on purpose.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /metrics": true, "GET /static/{name}": true,
	"GET /ping/{id}/{state}": true, "POST /ping/{id}/{state}": true, "HEAD /ping/{id}/{state}": true,
	"GET /login": true, "POST /login": true, "POST /logout": true,
	"GET /login/sso": true, "GET /login/sso/callback": true,
}

// readOnlyPosts are the routes with a method other than GET that change
// nothing, and that a viewer may therefore call.
var readOnlyPosts = map[string]bool{"POST /events/verify": true}

// TestRoutesByRole walks every route the handler registered, with a
// session and a token of every role: a caller below the route's role gets
// 403 and changes nothing; one at or above it gets past authorization. It
// checks the table itself too: no write is open to a viewer, user
// administration is for admins, no route is public by accident.
func TestRoutesByRole(t *testing.T) {
	e := newEnv(t)
	roles := statesrv.Roles()
	sessions := map[string]*http.Client{}
	tokens := map[string]string{}
	for _, role := range roles {
		user := role + "1"
		e.addUser(t, user, role)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: e.Client.CheckRedirect}
		e.asBrowser(t, c, func() { e.loginAs(t, user) })
		sessions[role] = c
		tokens[role] = e.addToken(t, user, role, "token of "+user, role)
	}

	table := e.Handler.RouteTable()
	if len(table) != len(e.Handler.Routes()) {
		t.Fatalf("the table has %d routes, the router %d", len(table), len(e.Handler.Routes()))
	}
	checked := 0
	for _, rt := range table {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		write := method != http.MethodGet && method != http.MethodHead
		switch {
		case rt.Kind == KindPublic:
			if !publicRoutes[rt.Pattern] {
				t.Errorf("%s is public: give it a role, or list it in publicRoutes", rt.Pattern)
			}
			continue
		case !statesrv.ValidRole(rt.Role):
			t.Errorf("%s needs the unknown role %q", rt.Pattern, rt.Role)
			continue
		case write && !readOnlyPosts[rt.Pattern] && rt.Role == statesrv.RoleViewer:
			t.Errorf("%s changes state but a viewer may call it", rt.Pattern)
		case strings.Contains(path, "/users") && rt.Role != statesrv.RoleAdmin:
			t.Errorf("%s manages users but needs only %s", rt.Pattern, rt.Role)
		}
		path = strings.NewReplacer("{id}", "1", "{state}", "OK", "{seq}", "1", "{name}", "x", "{$}", "").Replace(path)
		for _, role := range roles {
			before := e.Log.LastSeq()
			status := e.callAs(t, rt.Kind, method, path, sessions[role], tokens[role])
			allowed := statesrv.RoleAllows(role, rt.Role)
			switch {
			case !allowed && status != http.StatusForbidden:
				t.Errorf("%s as %s (%s): status %d, want 403", rt.Pattern, role, rt.Kind, status)
			case allowed && (status == http.StatusForbidden || status == http.StatusUnauthorized):
				t.Errorf("%s as %s (%s): status %d, want it let through", rt.Pattern, role, rt.Kind, status)
			}
			if after := e.Log.LastSeq(); !allowed && after != before {
				t.Errorf("%s as %s: refused, but the log grew from %d to %d", rt.Pattern, role, before, after)
			}
			checked++
		}
	}
	if checked < 3*50 {
		t.Fatalf("only %d route and role pairs checked", checked)
	}
}

// callAs sends one request the way a caller of kind proves who it is: a
// session's cookies for a page, a bearer token for the API. It returns the
// status and ends the request (a live stream, too).
func (e *env) callAs(t *testing.T, kind, method, path string, session *http.Client, token string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.Server.URL+path, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	client := session
	if kind == KindAPI {
		client = &http.Client{CheckRedirect: e.Client.CheckRedirect}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if res.Header.Get("Content-Type") != "text/event-stream" {
		io.Copy(io.Discard, res.Body)
	}
	res.Body.Close()
	return res.StatusCode
}
