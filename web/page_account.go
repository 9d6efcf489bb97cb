package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/views"
)

func (h *Handler) accountRoutes() {
	h.page("GET /account", statesrv.RoleViewer, h.accountPage)
	h.page("POST /account/password", statesrv.RoleEditor, h.changePassword)
	h.page("POST /account/tokens", statesrv.RoleEditor, h.createToken)
	h.page("POST /account/tokens/{id}/revoke", statesrv.RoleEditor, h.revokeToken)
	h.page("POST /account/users", statesrv.RoleAdmin, h.addUser)
	h.page("POST /account/users/{name}/role", statesrv.RoleAdmin, h.changeUserRole)
	h.page("POST /account/users/{name}/password", statesrv.RoleAdmin, h.resetUserPassword)
	h.page("POST /account/users/{name}/delete", statesrv.RoleAdmin, h.removeUser)
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, user string) {
	m := h.accountOf(user)
	m.Flash = flashOf(r)
	h.render(w, r, http.StatusOK, views.Account(m))
}

// accountOf is the model of user's account page: the tokens the user may
// see (its own, every one for an admin), oldest first, and for an admin
// the users.
func (h *Handler) accountOf(user string) views.AccountPage {
	p := h.pageOf(user, "Account", "/account")
	m := views.AccountPage{Page: p, MinPassword: commands.MinPasswordLen, SSO: isSSOUser(user)}
	c := commands.Caller{User: user, Role: p.Role, Actor: user}
	for _, t := range h.visibleTokens(c) {
		m.Tokens = append(m.Tokens, views.TokenRow{ID: t.ID, Name: t.Name, Role: t.Role, User: t.User,
			CreatedAt: t.CreatedAt, LastUsedAt: h.cfg.Service.TokenLastUsed(t.ID)})
	}
	for _, r := range statesrv.Roles() {
		if statesrv.RoleAllows(c.Role, r) {
			m.TokenRoles = append(m.TokenRoles, r)
		}
	}
	if !p.IsAdmin() {
		return m
	}
	m.Roles = statesrv.Roles()
	users := h.cfg.Service.Users()
	admins := 0
	for _, u := range users {
		if u.Role == statesrv.RoleAdmin {
			admins++
		}
	}
	for _, u := range users {
		m.Users = append(m.Users, views.UserRow{Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt,
			LastAdmin: u.Role == statesrv.RoleAdmin && admins == 1})
	}
	return m
}

// changePassword sets a new password after checking the current one, and
// logs out the user's other browsers. Wrong current passwords are throttled
// like failed logins, so a session left open does not give away the
// password by guessing.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, user string) {
	if isSSOUser(user) {
		h.pageError(w, r, user, errSSONoPassword)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	current, next, confirm := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	m := h.accountOf(user)
	key := "password:" + user
	if wait := h.throttle.begin(key); wait > 0 {
		m.PasswordErrors = views.FieldErrors{"current": "Too many wrong passwords; try again in a minute."}
		h.render(w, r, http.StatusTooManyRequests, views.Account(m))
		return
	}
	if next != confirm {
		h.throttle.abandon(key)
		m.PasswordErrors = views.FieldErrors{"confirm": "does not match the new password"}
		h.render(w, r, http.StatusBadRequest, views.Account(m))
		return
	}
	if !h.hashes.acquire(r.Context(), hashWait) {
		h.throttle.abandon(key)
		w.Header().Set("Retry-After", "1")
		m.PasswordErrors = views.FieldErrors{"current": "Too many password checks at once; try again in a second."}
		h.render(w, r, http.StatusTooManyRequests, views.Account(m))
		return
	}
	rc, err := h.cfg.Service.ChangePassword(user, current, next)
	h.hashes.release()
	if err != nil {
		if statesrv.ErrorCode(err) == statesrv.EAuth {
			h.throttle.fail(key)
		} else {
			h.throttle.abandon(key)
		}
		m.PasswordErrors = accountFieldErrors(err, "new")
		h.render(w, r, http.StatusBadRequest, views.Account(m))
		return
	}
	h.throttle.succeed([]string{key}, key)
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.pageError(w, r, user, err)
		return
	}
	keep := ""
	if c, err := r.Cookie(h.cookieName()); err == nil {
		keep = c.Value
	}
	h.sessions.endUser(user, keep)
	h.cfg.Logger.Info("http: password changed", "user", user, "remote", r.RemoteAddr)
	redirect(w, r, "/account", "Password changed.")
}

// createToken makes an API token and shows its secret in the answer
// itself, this once: a redirect would put it in a URL.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, user string) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, role := r.PostFormValue("name"), r.PostFormValue("role")
	c := callerOf(r)
	if isSSOUser(c.User) {
		// A token would outlive the sign-in and the provider's say on the
		// role.
		h.pageError(w, r, user, errSSONoTokens)
		return
	}
	secret, rc, err := h.cfg.Service.CreateToken(c, name, role)
	if err != nil {
		m := h.accountOf(user)
		m.TokenName, m.TokenRole, m.TokenErrors = name, role, accountFieldErrors(err, "name")
		h.render(w, r, statusOf(err), views.Account(m))
		return
	}
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.pageError(w, r, user, err)
		return
	}
	t, _ := h.tokenNamed(c, strings.TrimSpace(name))
	m := h.accountOf(user)
	m.NewToken = &views.NewToken{Name: t.Name, Role: t.Role, Secret: secret}
	h.render(w, r, http.StatusOK, views.Account(m))
}

// revokeToken withdraws a token the user may see (its own; any for an
// admin); another is as unknown as a token that never was.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, user string) {
	id := r.PathValue("id")
	if !slices.ContainsFunc(h.visibleTokens(callerOf(r)), func(t statesrv.APIToken) bool { return t.ID == id }) {
		h.pageError(w, r, user, statesrv.Errorf(statesrv.ENotFound, "You have no API token %s.", id))
		return
	}
	rc, err := h.cfg.Service.RevokeToken(id, callerOf(r).Actor)
	h.commandDone(w, r, user, rc, err, "/account", "Token revoked.")
}

// accountFieldErrors turns a "field: problem" message of err into an inline error
// of that field; a message without a field goes to fallback.
func accountFieldErrors(err error, fallback string) views.FieldErrors {
	msg := statesrv.ErrorMessage(err)
	if f, rest, ok := strings.Cut(msg, ": "); ok && f != "" && !strings.ContainsAny(f, " \t") {
		return views.FieldErrors{f: rest}
	}
	return views.FieldErrors{fallback: msg}
}
