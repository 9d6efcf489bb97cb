package web

import (
	"net/http"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/textfmt"
)

// ssoPrefix starts the name of every user signed in by single sign-on:
// local user names hold no ':', so an SSO user never takes over a local
// account of the same name, and its changes are recorded as "sso:NAME".
const ssoPrefix = "sso:"

// Refusals of what only a local user may do.
var (
	errSSONoPassword = statesrv.Errorf(statesrv.EForbidden, "You signed in with single sign-on: your identity provider keeps your password.")
	errSSONoTokens   = statesrv.Errorf(statesrv.EForbidden, "API tokens belong to local users; a single sign-on user makes none.")
)

// isSSOUser reports whether user signed in by single sign-on.
func isSSOUser(user string) bool { return strings.HasPrefix(user, ssoPrefix) }

// ssoRoutes are always in the table; without a provider they answer 404.
func (h *Handler) ssoRoutes() {
	h.public("GET /login/sso", http.HandlerFunc(h.ssoBegin))
	h.public("GET /login/sso/callback", http.HandlerFunc(h.ssoCallback))
}

// ssoCookieName is the cookie that binds a sign-in under way to the
// browser that began it: it holds the flow's state.
func (h *Handler) ssoCookieName() string {
	if h.cfg.TLS {
		return "__Host-statesrv_sso"
	}
	return "statesrv_sso"
}

// ssoBegin sends the browser to the identity provider, with a short-lived
// cookie holding the flow's state.
func (h *Handler) ssoBegin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if h.cfg.SSO == nil {
		h.pageError(w, r, "", statesrv.Errorf(statesrv.ENotFound, "single sign-on is not configured"))
		return
	}
	authURL, state := h.cfg.SSO.Begin(safeNext(r.URL.Query().Get("next")))
	http.SetCookie(w, &http.Cookie{
		Name: h.ssoCookieName(), Value: state, Path: "/", HttpOnly: true, Secure: h.cfg.TLS,
		SameSite: http.SameSiteLaxMode, MaxAge: int(ssoFlowSeconds),
	})
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// ssoCallback ends the sign-in: the state must match the browser's cookie
// and a flow under way (once), the ID token must verify; then a new
// session starts, as a password login does. Any refusal shows an error
// page and starts no session.
func (h *Handler) ssoCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if h.cfg.SSO == nil {
		h.pageError(w, r, "", statesrv.Errorf(statesrv.ENotFound, "single sign-on is not configured"))
		return
	}
	var bound string
	if c, err := r.Cookie(h.ssoCookieName()); err == nil {
		bound = c.Value
	}
	http.SetCookie(w, &http.Cookie{
		Name: h.ssoCookieName(), Value: "", Path: "/", HttpOnly: true, Secure: h.cfg.TLS,
		SameSite: http.SameSiteLaxMode, MaxAge: -1,
	})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		h.cfg.Logger.Warn("http: sso login refused by the provider", "error", e, "remote", r.RemoteAddr)
		h.pageError(w, r, "", statesrv.Errorf(statesrv.EAuth,
			"single sign-on: the identity provider refused the sign-in (%s)", textfmt.Clip(e, 100)))
		return
	}
	id, next, err := h.cfg.SSO.Finish(r.Context(), q.Get("state"), bound, q.Get("code"))
	if err != nil {
		h.cfg.Logger.Warn("http: sso login refused", "error", err, "remote", r.RemoteAddr)
		h.pageError(w, r, "", err)
		return
	}
	if c, err := r.Cookie(h.cookieName()); err == nil {
		h.sessions.end(c.Value)
	}
	user := ssoPrefix + id.Name
	h.setSessionCookie(w, h.sessions.createSSO(user, id.Role))
	h.cfg.Logger.Info("http: sso login", "user", user, "role", id.Role, "subject", id.Subject, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}
