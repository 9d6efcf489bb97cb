package web

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/statesrv/statesrv/views"
)

func (h *Handler) loginRoutes() {
	h.handle("GET /login", http.HandlerFunc(h.loginForm))
	h.handle("POST /login", http.HandlerFunc(h.login))
	h.handle("POST /logout", http.HandlerFunc(h.logout))
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := h.currentSession(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, views.Login(views.LoginPage{
		Page: views.Page{Title: "Log in", Version: h.cfg.Version}, Next: next}))
}

// login checks the password, slowing down repeated failures by remote
// address and by user, and starts a new session (never reusing one the
// browser brought along).
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	user := strings.TrimSpace(r.PostFormValue("user"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	m := views.LoginPage{Page: views.Page{Title: "Log in", Version: h.cfg.Version}, User: user, Next: next}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	keys := []string{"ip:" + host, "user:" + user}
	if wait := h.throttle.wait(keys...); wait > 0 {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		m.Error = fmt.Sprintf("Too many failed logins. Try again in %d s.", secs)
		h.render(w, r, http.StatusTooManyRequests, views.Login(m))
		return
	}
	if user == "" || !h.cfg.Service.CheckPassword(user, pw) {
		h.throttle.fail(keys...)
		h.cfg.Logger.Warn("http: failed login", "user", user, "remote", r.RemoteAddr)
		m.Error = "Wrong user or password."
		h.render(w, r, http.StatusUnauthorized, views.Login(m))
		return
	}
	h.throttle.succeed(keys...)
	if c, err := r.Cookie(h.cookieName()); err == nil {
		h.sessions.end(c.Value)
	}
	h.setSessionCookie(w, h.sessions.create(user))
	h.cfg.Logger.Info("http: login", "user", user, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(h.cookieName()); err == nil {
		h.sessions.end(c.Value)
	}
	h.clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site: a path, never another
// host ("//evil", "/\evil").
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}
