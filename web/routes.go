package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// Kinds of route: how a request proves who it is.
const (
	// KindPublic needs nobody: health, metrics, pings, assets, login.
	KindPublic = "public"
	// KindAPI needs a bearer token.
	KindAPI = "api"
	// KindPage needs a dashboard session.
	KindPage = "page"
)

// Route is one entry of the route table: its pattern ("POST
// /processes/{id}/delete"), how its callers prove who they are, and the
// role it needs (empty for a public route).
type Route struct {
	Pattern string
	Kind    string
	Role    string
}

// RouteTable returns every registered route, in the order registered.
func (h *Handler) RouteTable() []Route { return slices.Clone(h.routes) }

// Routes lists the patterns of every registered route, in the order
// registered.
func (h *Handler) Routes() []string {
	out := make([]string, len(h.routes))
	for i, r := range h.routes {
		out[i] = r.Pattern
	}
	return out
}

// public registers a route that anyone may call.
func (h *Handler) public(pattern string, handler http.Handler) {
	h.routes = append(h.routes, Route{Pattern: pattern, Kind: KindPublic})
	h.mux.Handle(pattern, handler)
}

// api registers a JSON API route that needs a token of role need.
func (h *Handler) api(pattern, need string, fn http.HandlerFunc) {
	h.routes = append(h.routes, Route{Pattern: pattern, Kind: KindAPI, Role: need})
	h.mux.Handle(pattern, h.guard(KindAPI, need, fn))
}

// pageHandler serves one dashboard page to the logged-in user.
type pageHandler func(w http.ResponseWriter, r *http.Request, user string)

// page registers a dashboard route that needs a session of role need.
func (h *Handler) page(pattern, need string, fn pageHandler) {
	h.routes = append(h.routes, Route{Pattern: pattern, Kind: KindPage, Role: need})
	h.mux.Handle(pattern, h.guard(KindPage, need, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		fn(w, r, callerOf(r).User)
	}))
}

// guard is the one check of who calls a route and what they may do: it
// finds the caller (a bearer token for the API, a session for pages),
// refuses one whose role is below need with 403, and hands the caller on
// in the request's context. Without a caller, the API answers 401, a page
// GET goes to the login page (and back after it), other page requests get
// 401.
func (h *Handler) guard(kind, need string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := h.caller(kind, r)
		switch {
		case !ok && kind == KindAPI:
			w.Header().Set("WWW-Authenticate", `Bearer realm="statesrv"`)
			writeError(w, statesrv.Errorf(statesrv.EAuth, "a valid bearer token is required"))
		case !ok && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		case !ok:
			http.Error(w, "401 login required", http.StatusUnauthorized)
		case !statesrv.RoleAllows(c.Role, need):
			err := statesrv.Errorf(statesrv.EForbidden, "this needs the role %s; you are %s", need, c.Role)
			if kind == KindAPI {
				writeError(w, err)
			} else {
				h.pageError(w, r, c.User, err)
			}
		default:
			next(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
		}
	})
}

// caller finds who makes request r to a route of kind.
func (h *Handler) caller(kind string, r *http.Request) (commands.Caller, bool) {
	if kind == KindAPI {
		scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if !strings.EqualFold(scheme, "Bearer") { // the scheme is case-insensitive (RFC 7235)
			return commands.Caller{}, false
		}
		return h.tokenCaller(strings.TrimSpace(tok))
	}
	s, ok := h.currentSession(r)
	if !ok {
		return commands.Caller{}, false
	}
	if isSSOUser(s.user) {
		role, ok := h.sessions.ssoRole(s.user)
		return commands.Caller{User: s.user, Role: role, Actor: s.user}, ok
	}
	// The role is read at each request: a demotion or removal takes effect
	// at once.
	return h.cfg.Service.SessionCaller(s.user)
}

// tokenCaller returns the caller of a bearer token: a token made through
// the API or the account page, or one of the server's --api-token, which
// acts as admin.
func (h *Handler) tokenCaller(tok string) (commands.Caller, bool) {
	if tok == "" {
		return commands.Caller{}, false
	}
	c, ok := h.cfg.Service.TokenCaller(tok)
	for _, t := range h.cfg.Tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 && !ok {
			c, ok = commands.Caller{User: statesrv.ActorAdmin, Role: statesrv.RoleAdmin, Actor: statesrv.ActorAdmin}, true
		}
	}
	return c, ok
}

// callerKey is the context key of the caller of a request.
type callerKey struct{}

// callerOf is the caller guard found for r.
func callerOf(r *http.Request) commands.Caller {
	c, _ := r.Context().Value(callerKey{}).(commands.Caller)
	return c
}

// apiActor is the actor recorded for the changes of an API request.
func apiActor(r *http.Request) string { return callerOf(r).Actor }

// notFoundAPI answers every path under /api/ that no route matches, after
// the token check, so that a caller without one learns nothing of the
// routes.
func (h *Handler) notFoundAPI(w http.ResponseWriter, r *http.Request) {
	writeError(w, statesrv.Errorf(statesrv.ENotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
}
