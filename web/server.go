// Package web serves HTTP: the JSON API of SPEC §6, HTTP pings, /healthz,
// /metrics (a handler given in Config) and the pages of views/. Handlers
// read views from projections and send every change through commands; none
// touches storage directly.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/sso"
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
	// SSO, when set, signs users in with OpenID Connect besides passwords
	// (GET /login/sso).
	SSO *sso.Provider
	// ObservePing, when set, is told of every ping's result ("ack" or
	// "err") and the time from the request's start to its reply.
	ObservePing func(result string, latency time.Duration)
}

// Handler is the HTTP side of the server.
type Handler struct {
	cfg      Config
	mux      *http.ServeMux
	routes   []Route
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

func (h *Handler) register() {
	h.public("GET /healthz", http.HandlerFunc(h.healthz))
	if h.cfg.Metrics != nil {
		h.public("GET /metrics", h.cfg.Metrics)
	}
	h.public("GET /ping/{id}/{state}", http.HandlerFunc(h.ping))
	h.public("POST /ping/{id}/{state}", http.HandlerFunc(h.ping))
	h.public("HEAD /ping/{id}/{state}", http.HandlerFunc(pingHead))
	h.pageRoutes()

	const viewer, editor, admin = statesrv.RoleViewer, statesrv.RoleEditor, statesrv.RoleAdmin
	h.api("GET /api/v1/processes", viewer, h.listProcesses)
	h.api("GET /api/v1/processes/{id}", viewer, h.getProcess)
	h.api("PUT /api/v1/processes/{id}", editor, h.putProcess)
	h.api("PATCH /api/v1/processes/{id}", editor, h.patchProcess)
	h.api("DELETE /api/v1/processes/{id}", editor, h.deleteProcess)
	h.api("POST /api/v1/processes/{id}/start", editor, h.startRun)
	h.api("GET /api/v1/runs", viewer, h.listRuns)
	h.api("GET /api/v1/runs/{id}", viewer, h.getRun)
	h.api("GET /api/v1/history", viewer, h.history)
	h.api("GET /api/v1/unprocessed", viewer, h.listUnprocessed)
	h.api("POST /api/v1/unprocessed/{id}/dismiss", editor, h.dismiss)
	h.api("GET /api/v1/events", viewer, h.events)
	h.api("GET /api/v1/state", viewer, h.state)
	h.api("POST /api/v1/rebuild", admin, h.rebuild)
	h.api("POST /api/v1/apply", editor, h.applyDefinitions)
	h.api("GET /api/v1/alerts", viewer, h.listAlerts)
	h.api("POST /api/v1/alerts/pause", editor, h.pauseAlerts)
	h.api("POST /api/v1/alerts/resume", editor, h.resumeAlerts)
	h.api("POST /api/v1/processes/{id}/pause", editor, h.pauseAlerts)
	h.api("POST /api/v1/processes/{id}/resume", editor, h.resumeAlerts)
	h.api("POST /api/v1/processes/{id}/test-alert", editor, h.testAlert)
	// A backup holds every event, password hashes included.
	h.api("GET /api/v1/backup", admin, h.backup)
	h.api("GET /api/v1/users", admin, h.listUsers)
	h.api("GET /api/v1/users/{name}", admin, h.getUser)
	h.api("PUT /api/v1/users/{name}", admin, h.putUser)
	h.api("DELETE /api/v1/users/{name}", admin, h.deleteUser)
	// An editor manages its own tokens, an admin every token.
	h.api("GET /api/v1/tokens", editor, h.listTokens)
	h.api("POST /api/v1/tokens", editor, h.postToken)
	h.api("DELETE /api/v1/tokens/{name}", editor, h.deleteToken)
	// Not a route of the table: what no route matches, after the token check.
	h.mux.Handle("/api/", h.guard(KindAPI, viewer, h.notFoundAPI))
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
	case statesrv.EForbidden:
		return http.StatusForbidden
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
