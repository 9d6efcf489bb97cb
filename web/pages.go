package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/views"
)

// pageRoutes registers the dashboard. Each feature file registers its own
// pages.
func (h *Handler) pageRoutes() {
	h.public("GET /static/{name}", http.HandlerFunc(h.static))
	h.loginRoutes()
	h.page("GET /live", statesrv.RoleViewer, h.live)
	h.overviewRoutes()
	h.processRoutes()
	h.runRoutes()
	h.historyRoutes()
	h.unprocessedRoutes()
	h.alertRoutes()
	h.eventRoutes()
	h.stateRoutes()
	h.scheduleRoutes()
	h.accountRoutes()
}

// pageOf is the layout model of a page.
func (h *Handler) pageOf(user, title, section string) views.Page {
	u, _ := h.cfg.Service.User(user)
	if isSSOUser(user) {
		u.Role, _ = h.sessions.ssoRole(user)
	}
	return views.Page{Title: title, User: user, Role: u.Role, Section: section, Version: h.cfg.Version,
		Unprocessed: h.cfg.Runner.Unprocessed()}
}

// livePageOf is the layout model of a page that updates itself; read it
// before the page's data, so the seq is never ahead of what is shown.
func (h *Handler) livePageOf(user, title, section string) views.Page {
	p := h.pageOf(user, title, section)
	p.Live, p.Seq = true, h.cfg.Runner.Seq()
	return p
}

// render writes a page. It renders into a buffer first, so that a failed
// render becomes a clean 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		h.cfg.Logger.Error("http: render", "path", r.URL.Path, "error", err)
		http.Error(w, "500 the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pageError renders err as an error page with the status its code maps to.
func (h *Handler) pageError(w http.ResponseWriter, r *http.Request, user string, err error) {
	status := statusOf(err)
	if status >= 500 {
		h.cfg.Logger.Error("http: page failed", "path", r.URL.Path, "error", err)
	}
	h.render(w, r, status, views.ErrorView(views.ErrorPage{
		Page: h.pageOf(user, http.StatusText(status), ""), Status: status, Message: statesrv.ErrorMessage(err)}))
}

// commandDone ends a page's command: it waits for the command's receipt rc
// to be durable and in the views and goes to target with the notice flash,
// or shows the error page when the command (err) or the wait failed.
func (h *Handler) commandDone(w http.ResponseWriter, r *http.Request, user string, rc *commands.Receipt, err error, target, flash string) {
	if err == nil {
		_, err = h.settle(r.Context(), rc)
	}
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	redirect(w, r, target, flash)
}

// redirect answers a form post with 303 to target, carrying a one-line
// notice in the flash query parameter.
func redirect(w http.ResponseWriter, r *http.Request, target, flash string) {
	if flash != "" {
		u, _ := url.Parse(target)
		q := u.Query()
		q.Set("flash", flash)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// flashOf is the notice a redirect carried, bounded in length.
func flashOf(r *http.Request) string {
	f := r.URL.Query().Get("flash")
	if len(f) > 200 {
		f = f[:200]
	}
	return f
}

func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	a, ok := views.LookupAsset(r.PathValue("name"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, a.Name, time.Time{}, bytes.NewReader(a.Body))
}

// securityHeaders are sent with every response: no inline script or style
// runs, no framing, no sniffing.
func securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
}
