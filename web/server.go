// Package web serves HTTP: the JSON API of SPEC §6, HTTP pings, /healthz,
// /metrics (a handler given in Config) and the pages of views/. Handlers
// read views from projections and send every change through commands; none
// touches storage directly.
package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// Config wires the HTTP side.
type Config struct {
	Service *commands.Service
	Runner  *projections.Runner
	Log     eventlog.Log
	Logger  *slog.Logger
	// Tokens are the bearer tokens the API accepts.
	Tokens []string
	// Healthy reports why the server is degraded (storage full, the log
	// stopped), nil when it is healthy; /healthz shows the message of an
	// *statesrv.Error as the reason.
	Healthy func() error
	Version string
	// TCPAddr is the report port, shown on the index page.
	TCPAddr string
	// Metrics, when set, is served at GET /metrics without authentication,
	// like /healthz.
	Metrics http.Handler
	// TLS tells that the server is reached over HTTPS: session cookies are
	// then Secure and __Host- prefixed, and every answer carries
	// Strict-Transport-Security.
	TLS bool
	// IdleTimeout and AbsoluteTimeout end dashboard sessions (defaults:
	// DefaultIdleTimeout, DefaultAbsoluteTimeout).
	IdleTimeout, AbsoluteTimeout time.Duration
	// Now is the clock of sessions and pages (default: the Service's).
	Now func() time.Time
	// ObservePing, when set, is told of every ping's result ("ack" or
	// "err") and the time from the request's start to its reply.
	ObservePing func(result string, latency time.Duration)
}

// Handler is the HTTP side of the server.
type Handler struct {
	cfg      Config
	mux      *http.ServeMux
	routes   []string
	sessions *sessions
	throttle *throttle
	// hashes bounds the password checks computed at once.
	hashes *hashSlots
	// liveStreams counts the open GET /live streams.
	liveStreams atomic.Int64
}

// NewHandler returns the handler with every route registered.
func NewHandler(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Healthy == nil {
		cfg.Healthy = func() error { return nil }
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Service.Now
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.AbsoluteTimeout <= 0 {
		cfg.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(),
		sessions: newSessions(cfg.IdleTimeout, cfg.AbsoluteTimeout, cfg.Now),
		throttle: newThrottle(cfg.Now), hashes: newHashSlots(passwordHashSlots)}
	h.register()
	return h
}

// handle registers a route and remembers its pattern for Routes.
func (h *Handler) handle(pattern string, handler http.Handler) {
	h.routes = append(h.routes, pattern)
	h.mux.Handle(pattern, handler)
}

// Routes lists the patterns of every registered route, in the order
// registered ("POST /processes/{id}/delete").
func (h *Handler) Routes() []string { return slices.Clone(h.routes) }

func (h *Handler) register() {
	h.handle("GET /healthz", http.HandlerFunc(h.healthz))
	if h.cfg.Metrics != nil {
		h.handle("GET /metrics", h.cfg.Metrics)
	}
	h.handle("GET /ping/{id}/{state}", http.HandlerFunc(h.ping))
	h.handle("POST /ping/{id}/{state}", http.HandlerFunc(h.ping))
	h.handle("HEAD /ping/{id}/{state}", http.HandlerFunc(pingHead))
	h.pageRoutes()

	api := func(pattern string, fn http.HandlerFunc) { h.handle(pattern, h.auth(fn)) }
	api("GET /api/v1/processes", h.listProcesses)
	api("GET /api/v1/processes/{id}", h.getProcess)
	api("PUT /api/v1/processes/{id}", h.putProcess)
	api("PATCH /api/v1/processes/{id}", h.patchProcess)
	api("DELETE /api/v1/processes/{id}", h.deleteProcess)
	api("POST /api/v1/processes/{id}/start", h.startRun)
	api("GET /api/v1/runs", h.listRuns)
	api("GET /api/v1/runs/{id}", h.getRun)
	api("GET /api/v1/history", h.history)
	api("GET /api/v1/unprocessed", h.listUnprocessed)
	api("POST /api/v1/unprocessed/{id}/dismiss", h.dismiss)
	api("GET /api/v1/events", h.events)
	api("GET /api/v1/state", h.state)
	api("POST /api/v1/rebuild", h.rebuild)
	api("POST /api/v1/apply", h.applyDefinitions)
	api("GET /api/v1/alerts", h.listAlerts)
	api("POST /api/v1/alerts/pause", h.pauseAlerts)
	api("POST /api/v1/alerts/resume", h.resumeAlerts)
	api("POST /api/v1/processes/{id}/pause", h.pauseAlerts)
	api("POST /api/v1/processes/{id}/resume", h.resumeAlerts)
	api("POST /api/v1/processes/{id}/test-alert", h.testAlert)
	api("GET /api/v1/backup", h.backup)
	h.mux.Handle("/api/", h.auth(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, statesrv.Errorf(statesrv.ENotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	}))
}

// ServeHTTP refuses cross-origin browser requests that change state, then
// routes. Over TLS every answer tells browsers to come back only over TLS.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if h.cfg.TLS {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}
	csrf.Handler(h.mux).ServeHTTP(w, r)
}

// csrf refuses cross-origin requests with unsafe methods from browsers;
// clients that send neither Sec-Fetch-Site nor Origin (curl, scripts, the
// CLI) pass. Session cookies are SameSite=Lax besides.
var csrf = func() *http.CrossOriginProtection {
	c := http.NewCrossOriginProtection()
	c.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeJSON(w, http.StatusForbidden, api.ErrorBody{Error: "cross-origin request refused"})
			return
		}
		http.Error(w, "403 cross-origin request refused", http.StatusForbidden)
	}))
	return c
}()

// NewServer returns an http.Server with every timeout set.
func NewServer(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// auth accepts a request with a known bearer token ("Authorization:
// Bearer TOKEN", the scheme in any case), and records who it
// acts for: the user who created the token on the account page, or admin
// for the --api-token.
func (h *Handler) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		user, valid := "", false
		if strings.EqualFold(scheme, "Bearer") { // the scheme is case-insensitive (RFC 7235)
			user, valid = h.tokenUser(strings.TrimSpace(tok))
		}
		if !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="statesrv"`)
			writeError(w, statesrv.Errorf(statesrv.EAuth, "a valid bearer token is required"))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, user)))
	})
}

// actorKey is the context key of the user an API request acts for.
type actorKey struct{}

// apiActor is the actor recorded for the changes of an API request.
func apiActor(r *http.Request) string {
	if u, ok := r.Context().Value(actorKey{}).(string); ok && u != "" {
		return u
	}
	return statesrv.ActorAdmin
}

// tokenUser returns the user a bearer token acts for.
func (h *Handler) tokenUser(tok string) (string, bool) {
	if tok == "" {
		return "", false
	}
	user, ok := h.cfg.Service.TokenUser(tok)
	for _, t := range h.cfg.Tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 && !ok {
			user, ok = statesrv.ActorAdmin, true
		}
	}
	return user, ok
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

// statusOf maps an error code to an HTTP status.
func statusOf(err error) int {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, eventlog.ErrDiskFull) {
		return http.StatusServiceUnavailable
	}
	switch statesrv.ErrorCode(err) {
	case statesrv.EInvalid:
		return http.StatusBadRequest
	case statesrv.ENotFound:
		return http.StatusNotFound
	case statesrv.EConflict:
		return http.StatusConflict
	case statesrv.EAuth:
		return http.StatusUnauthorized
	case statesrv.EUnavail, statesrv.EFull:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, err error) {
	msg := statesrv.ErrorMessage(err)
	if errors.Is(err, eventlog.ErrDiskFull) { // the views refused a rebuild
		msg = "storage full"
	}
	writeJSON(w, statusOf(err), api.ErrorBody{Error: msg})
}

// fail logs an unexpected error once and answers it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if statusOf(err) >= 500 {
		h.cfg.Logger.Error("http: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeError(w, err)
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{
		"status": "ok", "version": h.cfg.Version,
		"last_seq": h.cfg.Log.LastSeq(), "views_seq": h.cfg.Runner.Seq(),
	}
	status := http.StatusOK
	if err := h.cfg.Healthy(); err != nil {
		reason := err.Error()
		var e *statesrv.Error
		if errors.As(err, &e) {
			reason = e.Message
		}
		body["status"], body["reason"] = "degraded", reason
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}
