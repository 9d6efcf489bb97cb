package web

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/statesrv/statesrv/views"
)

func (h *Handler) loginRoutes() {
	h.public("GET /login", http.HandlerFunc(h.loginForm))
	h.public("POST /login", http.HandlerFunc(h.login))
	h.public("POST /logout", http.HandlerFunc(h.logout))
	h.ssoRoutes()
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := h.currentSession(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, views.Login(views.LoginPage{
		Page: views.Page{Title: "Log in", Version: h.cfg.Version}, Next: next, SSO: h.cfg.SSO != nil}))
}

// login checks the password, slowing down repeated failures by remote
// address and by user and computing only a few hashes at once, and starts a
// new session (never reusing one the browser brought along).
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	user := strings.TrimSpace(r.PostFormValue("user"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	m := views.LoginPage{Page: views.Page{Title: "Log in", Version: h.cfg.Version}, User: user, Next: next, SSO: h.cfg.SSO != nil}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if wait := h.throttle.beginLogin(host, user); wait > 0 {
		h.tooManyLogins(w, r, m, wait, "Too many failed logins.")
		return
	}
	keys := loginKeys(host, user)
	if !h.hashes.acquire(r.Context(), hashWait) {
		h.throttle.abandon(keys...)
		h.tooManyLogins(w, r, m, time.Second, "Too many logins at once.")
		return
	}
	ok := user != "" && h.cfg.Service.CheckPassword(user, pw)
	h.hashes.release()
	if !ok {
		h.throttle.fail(keys...)
		h.cfg.Logger.Warn("http: failed login", "user", user, "remote", r.RemoteAddr)
		m.Error = "Wrong user or password."
		h.render(w, r, http.StatusUnauthorized, views.Login(m))
		return
	}
	// The address proved it knows the password; the user's failures from
	// elsewhere still hold back the addresses that made them.
	h.throttle.succeed(keys, keys[0])
	if c, err := r.Cookie(h.cookieName()); err == nil {
		h.sessions.end(c.Value)
	}
	h.setSessionCookie(w, h.sessions.create(user))
	h.cfg.Logger.Info("http: login", "user", user, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// tooManyLogins answers 429 with the login form and a Retry-After of wait.
func (h *Handler) tooManyLogins(w http.ResponseWriter, r *http.Request, m views.LoginPage, wait time.Duration, why string) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	m.Error = fmt.Sprintf("%s Try again in %d s.", why, secs)
	h.render(w, r, http.StatusTooManyRequests, views.Login(m))
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(h.cookieName()); err == nil {
		h.sessions.end(c.Value)
	}
	h.clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a redirect target on this server: a path, never another
// host. Browsers drop tabs and line breaks from a URL and read a backslash
// as "/", so "/<tab>/evil.example" and "/\evil" lead elsewhere; a value whose first
// character, after percent-decoding and removal of tabs and line breaks,
// is not a single "/" is ignored, as is one holding a backslash.
func safeNext(next string) string {
	next = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(next)
	decoded, err := url.PathUnescape(next)
	if err != nil {
		return "/"
	}
	decoded = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(decoded)
	for _, v := range []string{next, decoded} {
		if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.Contains(v, "\\") {
			return "/"
		}
	}
	return next
}
