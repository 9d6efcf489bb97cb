package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/views"
)

// addUser creates a user from the account page's form (admin only).
func (h *Handler) addUser(w http.ResponseWriter, r *http.Request, user string) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, role, pw := r.PostFormValue("name"), r.PostFormValue("role"), r.PostFormValue("password")
	if _, exists := h.cfg.Service.User(name); exists {
		h.userRefused(w, r, user, statesrv.Errorf(statesrv.EConflict, "name: a user named %s exists", name), name, role)
		return
	}
	if pw == "" {
		h.userRefused(w, r, user, statesrv.Errorf(statesrv.EInvalid, "password: required for a new user"), name, role)
		return
	}
	if !h.acquireHash(w, r, user) {
		return
	}
	_, rc, err := h.cfg.Service.DefineUser(name, role, pw, callerOf(r).Actor)
	h.hashes.release()
	if err != nil {
		h.userRefused(w, r, user, err, name, role)
		return
	}
	h.commandDone(w, r, user, rc, nil, "/account", "User "+name+" added.")
}

// changeUserRole gives a user another role; the last admin keeps its own.
func (h *Handler) changeUserRole(w http.ResponseWriter, r *http.Request, user string) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, role := r.PathValue("name"), r.PostFormValue("role")
	if role == "" {
		role = "(none)" // an empty role would keep the current one
	}
	if !h.userExists(w, r, user, name) {
		return
	}
	_, rc, err := h.cfg.Service.DefineUser(name, role, "", callerOf(r).Actor)
	if err != nil {
		h.userRefused(w, r, user, err, "", "")
		return
	}
	h.commandDone(w, r, user, rc, nil, "/account", "User "+name+" is now "+role+".")
}

// resetUserPassword sets a user's password; the user's browsers are
// logged out.
func (h *Handler) resetUserPassword(w http.ResponseWriter, r *http.Request, user string) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, pw := r.PathValue("name"), r.PostFormValue("password")
	if !h.userExists(w, r, user, name) {
		return
	}
	if pw == "" {
		h.userRefused(w, r, user, statesrv.Errorf(statesrv.EInvalid, "password: required"), "", "")
		return
	}
	if !h.acquireHash(w, r, user) {
		return
	}
	_, rc, err := h.cfg.Service.DefineUser(name, "", pw, callerOf(r).Actor)
	h.hashes.release()
	if !h.userSettled(w, r, user, rc, err) {
		return
	}
	keep := ""
	if c, err := r.Cookie(h.cookieName()); err == nil && name == user {
		keep = c.Value
	}
	h.sessions.endUser(name, keep)
	redirect(w, r, "/account", "Password of "+name+" reset.")
}

// removeUser deletes a user and revokes its tokens; the last admin stays.
func (h *Handler) removeUser(w http.ResponseWriter, r *http.Request, user string) {
	name := r.PathValue("name")
	rc, err := h.cfg.Service.DeleteUser(name, callerOf(r).Actor)
	if !h.userSettled(w, r, user, rc, err) {
		return
	}
	h.sessions.endUser(name, "")
	redirect(w, r, "/account", "User "+name+" removed.")
}

// userExists answers 404 with the account page when name is no user.
func (h *Handler) userExists(w http.ResponseWriter, r *http.Request, user, name string) bool {
	if _, ok := h.cfg.Service.User(name); ok {
		return true
	}
	h.userRefused(w, r, user, statesrv.Errorf(statesrv.ENotFound, "user %s not found", name), "", "")
	return false
}

// userSettled answers, on the account page, a command on a user that the
// service took (rc) or refused (err), settling rc. It reports whether the
// caller is left to answer.
func (h *Handler) userSettled(w http.ResponseWriter, r *http.Request, user string, rc *commands.Receipt, err error) bool {
	if err != nil {
		h.userRefused(w, r, user, err, "", "")
		return false
	}
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.pageError(w, r, user, err)
		return false
	}
	return true
}

// userRefused shows the account page with why a change of users was
// refused: beside the add-user form's field when name or role was given
// (that form), above the list otherwise.
func (h *Handler) userRefused(w http.ResponseWriter, r *http.Request, user string, err error, name, role string) {
	if statusOf(err) >= 500 {
		h.pageError(w, r, user, err)
		return
	}
	m := h.accountOf(user)
	if name != "" || role != "" {
		m.NewUserName, m.NewUserRole, m.NewUserErrors = name, role, accountFieldErrors(err, "name")
	} else {
		m.UserError = statesrv.ErrorMessage(err)
	}
	h.render(w, r, statusOf(err), views.Account(m))
}

// acquireHash takes one of the password-hash slots, or answers 429.
func (h *Handler) acquireHash(w http.ResponseWriter, r *http.Request, user string) bool {
	if h.hashes.acquire(r.Context(), hashWait) {
		return true
	}
	w.Header().Set("Retry-After", "1")
	h.render(w, r, http.StatusTooManyRequests, views.ErrorView(views.ErrorPage{
		Page: h.pageOf(user, "Busy", ""), Status: http.StatusTooManyRequests,
		Message: "Too many password hashes at once; try again in a second."}))
	return false
}
