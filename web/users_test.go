package web

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
)

// apiAs sends a JSON request with token and returns the status and the
// decoded error message, if any, decoding a success into out.
func (e *env) apiAs(t *testing.T, token, method, path, body string, out any) (int, string) {
	t.Helper()
	res := e.do(t, method, path, strings.NewReader(body), http.Header{
		"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}})
	if res.StatusCode >= 300 {
		var eb api.ErrorBody
		json.NewDecoder(res.Body).Decode(&eb)
		return res.StatusCode, eb.Error
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return res.StatusCode, ""
}

func TestUsersAPI(t *testing.T) {
	e := newEnv(t)
	const admin = "test-token"
	var u api.User
	if st, msg := e.apiAs(t, admin, http.MethodPut, "/api/v1/users/ann", `{"role":"editor","password":"`+testPassword+`"}`, &u); st != http.StatusCreated || u.Role != "editor" {
		t.Fatalf("create: %d %s %+v", st, msg, u)
	}
	if st, _ := e.apiAs(t, admin, http.MethodPut, "/api/v1/users/ann", `{"role":"viewer"}`, &u); st != http.StatusOK || u.Role != "viewer" {
		t.Fatalf("change: %d %+v", st, u)
	}
	var list api.UserList
	e.apiAs(t, admin, http.MethodGet, "/api/v1/users", "", &list)
	if len(list) != 2 || list[0].Name != "admin" || list[1].Name != "ann" || list[1].CreatedAt.IsZero() {
		t.Errorf("users %+v", list)
	}
	var one api.User
	if st, _ := e.apiAs(t, admin, http.MethodGet, "/api/v1/users/ann", "", &one); st != http.StatusOK || one.Name != "ann" || one.Role != "viewer" {
		t.Errorf("GET /api/v1/users/ann: %d %+v", st, one)
	}
	if st, msg := e.apiAs(t, admin, http.MethodGet, "/api/v1/users/nobody", "", nil); st != http.StatusNotFound || !strings.Contains(msg, `no user "nobody"`) {
		t.Errorf("GET of a user that does not exist: %d %s", st, msg)
	}
	raw := e.do(t, http.MethodGet, "/api/v1/users", nil, http.Header{"Authorization": {"Bearer " + admin}})
	var members []map[string]any
	json.NewDecoder(raw.Body).Decode(&members)
	if _, ok := members[0]["hash"]; ok || len(members[0]) != 3 {
		t.Errorf("a user shows %v, want name, role and created_at", members[0])
	}

	t.Run("BadInputChangesNothing", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			says                     string
		}{
			{"WeakPassword", http.MethodPut, "/api/v1/users/bob", `{"role":"viewer","password":"elevenchars"}`, 400, "at least 12"},
			{"UnknownRole", http.MethodPut, "/api/v1/users/bob", `{"role":"root","password":"` + testPassword + `"}`, 400, "unknown role"},
			{"NoPasswordOnCreate", http.MethodPut, "/api/v1/users/bob", `{"role":"viewer"}`, 400, "password: required"},
			{"UnknownField", http.MethodPut, "/api/v1/users/bob", `{"role":"viewer","admin":true}`, 400, "admin"},
			{"DemoteLastAdmin", http.MethodPut, "/api/v1/users/admin", `{"role":"editor"}`, 409, "last admin"},
			{"DeleteLastAdmin", http.MethodDelete, "/api/v1/users/admin", "", 409, "last admin"},
			{"DeleteUnknown", http.MethodDelete, "/api/v1/users/bob", "", 404, "not found"},
		} {
			before := e.Log.LastSeq()
			st, msg := e.apiAs(t, admin, tc.method, tc.path, tc.body, nil)
			if st != tc.status || !strings.Contains(msg, tc.says) {
				t.Errorf("%s: %d %q, want %d saying %q", tc.name, st, msg, tc.status, tc.says)
			}
			if e.Log.LastSeq() != before {
				t.Errorf("%s: the log grew", tc.name)
			}
		}
	})

	t.Run("DeleteAndActor", func(t *testing.T) {
		if st, _ := e.apiAs(t, admin, http.MethodDelete, "/api/v1/users/ann", "", nil); st != http.StatusNoContent {
			t.Fatalf("delete: %d", st)
		}
		evs := e.loggedEvents(t, statesrv.EventUserDeleted)
		if len(evs) != 1 || evs[0].Actor != statesrv.ActorAdmin {
			t.Errorf("UserDeleted events %+v, want one by admin", evs)
		}
	})
}

func TestTokensAPI(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "ann", statesrv.RoleEditor)
	e.addUser(t, "vic", statesrv.RoleViewer)
	ann := e.addToken(t, "ann", statesrv.RoleEditor, "ann's", "")
	vic := e.addToken(t, "vic", statesrv.RoleViewer, "vic's", "")

	var tok api.NewToken
	if st, msg := e.apiAs(t, ann, http.MethodPost, "/api/v1/tokens", `{"name":"ci","role":"viewer"}`, &tok); st != http.StatusCreated ||
		tok.Name != "ci" || tok.Role != "viewer" || !strings.HasPrefix(tok.Token, "ss_") {
		t.Fatalf("create: %d %s %+v", st, msg, tok)
	}
	if evs := e.loggedEvents(t, statesrv.EventAPITokenCreated); evs[len(evs)-1].Actor != "token:ann's" ||
		strings.Contains(string(statesrv.RedactEvent(evs[len(evs)-1].Type, evs[len(evs)-1].Time, evs[len(evs)-1].Data)), "hash") {
		t.Errorf("token made by %q, shown as %s", evs[len(evs)-1].Actor, statesrv.RedactEvent(evs[len(evs)-1].Type, evs[len(evs)-1].Time, evs[len(evs)-1].Data))
	}
	// The new viewer token reads and changes nothing.
	if st, _ := e.apiAs(t, tok.Token, http.MethodGet, "/api/v1/processes", "", nil); st != http.StatusOK {
		t.Errorf("viewer token reading: %d", st)
	}
	before := e.Log.LastSeq()
	if st, _ := e.apiAs(t, tok.Token, http.MethodPut, "/api/v1/processes/1", `{"name":"x"}`, nil); st != http.StatusForbidden || e.Log.LastSeq() != before {
		t.Errorf("viewer token writing: %d", st)
	}

	t.Run("ErrAboveCreator", func(t *testing.T) {
		before := e.Log.LastSeq()
		st, msg := e.apiAs(t, ann, http.MethodPost, "/api/v1/tokens", `{"name":"root","role":"admin"}`, nil)
		if st != http.StatusForbidden || !strings.Contains(msg, "at most its creator's") || e.Log.LastSeq() != before {
			t.Errorf("editor asking for an admin token: %d %q", st, msg)
		}
		if st, _ := e.apiAs(t, vic, http.MethodPost, "/api/v1/tokens", `{"name":"wall"}`, nil); st != http.StatusForbidden {
			t.Errorf("viewer making a token: %d, want 403", st)
		}
	})

	t.Run("List", func(t *testing.T) {
		var mine, all api.TokenList
		e.apiAs(t, ann, http.MethodGet, "/api/v1/tokens", "", &mine)
		e.apiAs(t, "test-token", http.MethodGet, "/api/v1/tokens", "", &all)
		if len(mine) != 2 || len(all) != 3 {
			t.Fatalf("ann sees %d tokens, admin %d; want 2 and 3", len(mine), len(all))
		}
		byName := map[string]api.Token{}
		for _, v := range all {
			byName[v.Name] = v
		}
		if v := byName["ci"]; v.User != "ann" || v.Role != "viewer" || v.LastUsedAt == nil || v.CreatedAt.IsZero() {
			t.Errorf("ci listed as %+v, want ann's viewer token, used", v)
		}
		if byName["vic's"].LastUsedAt == nil {
			t.Error("vic's token, used above, has no last use")
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		if st, _ := e.apiAs(t, ann, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape("vic's"), "", nil); st != http.StatusNotFound {
			t.Errorf("ann revoking vic's token: %d, want 404", st)
		}
		if st, _ := e.apiAs(t, ann, http.MethodDelete, "/api/v1/tokens/ci", "", nil); st != http.StatusNoContent {
			t.Errorf("ann revoking ci: %d", st)
		}
		if st, _ := e.apiAs(t, tok.Token, http.MethodGet, "/api/v1/processes", "", nil); st != http.StatusUnauthorized {
			t.Errorf("revoked token: %d, want 401", st)
		}
		if st, _ := e.apiAs(t, "test-token", http.MethodDelete, "/api/v1/tokens/"+url.PathEscape("vic's"), "", nil); st != http.StatusNoContent {
			t.Errorf("admin revoking vic's token: %d", st)
		}
	})
}

// TestViewerPages logs in as a viewer, opens every page and finds no form
// that changes state; a POST of each form an admin sees is refused.
func TestViewerPages(t *testing.T) {
	e := newEnv(t)
	e.define(t, statesrv.Process{ID: 1, Name: "job", Enabled: true})
	e.report(t, "#id=9;state=OK") // an unprocessed message
	e.addUser(t, "vic", statesrv.RoleViewer)
	e.login(t)
	pages := []string{"/", "/processes", "/processes/1", "/runs", "/history", "/unprocessed", "/alerts", "/events", "/state", "/schedule", "/account"}
	var adminActions []string
	for _, p := range pages {
		e.page(t, p).Find(`form[method="post"]`).Each(func(_ int, f *goquery.Selection) {
			a, _ := f.Attr("action")
			adminActions = append(adminActions, a)
		})
	}
	e.Client.Jar, _ = cookiejar.New(nil)
	e.loginAs(t, "vic")
	for _, p := range pages {
		e.page(t, p).Find(`form`).Each(func(_ int, f *goquery.Selection) {
			m, _ := f.Attr("method")
			a, _ := f.Attr("action")
			if strings.EqualFold(m, "post") && !readOnlyForm(a) {
				t.Errorf("%s shows a viewer the form %s", p, a)
			}
		})
	}
	if len(adminActions) < 10 {
		t.Fatalf("an admin saw only %d forms", len(adminActions))
	}
	for _, a := range adminActions {
		if readOnlyForm(a) {
			continue
		}
		before := e.Log.LastSeq()
		res := e.postForm(t, a, url.Values{"id": {"x"}, "name": {"x"}, "password": {testPassword}})
		if res.StatusCode != http.StatusForbidden || e.Log.LastSeq() != before {
			t.Errorf("viewer posting %s: status %d, log %d → %d; want 403 and nothing", a, res.StatusCode, before, e.Log.LastSeq())
		}
	}
}

// readOnlyForm tells the forms a viewer may send: logging out and checking
// the log's chain.
func readOnlyForm(action string) bool { return action == "/logout" || action == "/events/verify" }

func TestAccountUsers(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	doc := e.page(t, "/account")
	if testid(doc, "user-row").Length() != 1 || testid(doc, "user-delete").Length() != 0 || testid(doc, "user-role-form").Length() != 0 {
		t.Fatalf("the last admin can be removed or demoted on the page")
	}
	res := e.postForm(t, "/account/users", url.Values{"name": {"ann"}, "role": {"editor"}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: status %d", res.StatusCode)
	}
	if u, ok := e.Service.User("ann"); !ok || u.Role != statesrv.RoleEditor {
		t.Fatalf("ann: %+v %v", u, ok)
	}
	if evs := e.loggedEvents(t, statesrv.EventUserDefined); evs[len(evs)-1].Actor != "admin" {
		t.Errorf("ann added by %q, want admin", evs[len(evs)-1].Actor)
	}

	t.Run("BadInputChangesNothing", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			form   url.Values
			status int
			says   string
		}{
			{"/account/users", url.Values{"name": {"bob"}, "role": {"viewer"}, "password": {"short"}}, 400, "at least 12"},
			{"/account/users", url.Values{"name": {"bob"}, "role": {"root"}, "password": {testPassword}}, 400, "unknown role"},
			{"/account/users", url.Values{"name": {"ann"}, "role": {"viewer"}, "password": {testPassword}}, 409, "exists"},
			{"/account/users/admin/role", url.Values{"role": {"viewer"}}, 409, "last admin"},
			{"/account/users/admin/delete", nil, 409, "last admin"},
			{"/account/users/ann/password", url.Values{"password": {"short"}}, 400, "at least 12"},
		} {
			before := e.Log.LastSeq()
			res, doc := e.postFormDoc(t, tc.path, tc.form)
			if res.StatusCode != tc.status || !strings.Contains(doc.Find("main").Text(), tc.says) || e.Log.LastSeq() != before {
				t.Errorf("%s %v: status %d, page says %q; want %d saying %q, nothing recorded", tc.path, tc.form, res.StatusCode,
					strings.TrimSpace(doc.Find(".field-error").Text()), tc.status, tc.says)
			}
		}
	})

	t.Run("ChangeResetRemove", func(t *testing.T) {
		for _, step := range []struct {
			path string
			form url.Values
		}{
			{"/account/users/ann/role", url.Values{"role": {"viewer"}}},
			{"/account/users/ann/password", url.Values{"password": {"another good password"}}},
		} {
			if res := e.postForm(t, step.path, step.form); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: status %d", step.path, res.StatusCode)
			}
		}
		if u, _ := e.Service.User("ann"); u.Role != statesrv.RoleViewer || !e.Service.CheckPassword("ann", "another good password") {
			t.Errorf("ann after the changes: %+v", u)
		}
		if res := e.postForm(t, "/account/users/ann/delete", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: status %d", res.StatusCode)
		}
		if _, ok := e.Service.User("ann"); ok {
			t.Error("ann is still a user")
		}
	})
}
