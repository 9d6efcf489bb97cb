package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/statesrv/statesrv/sso"
)

// Session limits: a session ends after IdleTimeout without a request (live
// updates do not count) or AbsoluteTimeout after login, whichever is first.
const (
	DefaultIdleTimeout     = 2 * time.Hour
	DefaultAbsoluteTimeout = 24 * time.Hour
	maxSessions            = 10_000
)

// session is one logged-in browser.
type session struct {
	id       string
	user     string
	created  time.Time
	lastSeen time.Time
}

// ssoFlowSeconds is how long the cookie of a single sign-on under way
// lives, as the flow does on the server.
const ssoFlowSeconds = sso.FlowTTL / time.Second

// sessions keeps the logged-in browsers in memory: a restart logs every
// browser out, which is the safe side for an audit tool. The cookie holds
// only the random id.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
	// ssoRoles is, for each user signed in by single sign-on, the role
	// its latest sign-in brought: every session of the user has it, as a
	// local user's role is read at each request.
	ssoRoles map[string]string
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
}

func newSessions(idle, absolute time.Duration, now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, ssoRoles: map[string]string{}, idle: idle, absolute: absolute, now: now}
}

// createSSO starts a session for user, signed in by single sign-on with
// role, and gives role to the user's other sessions too.
func (s *sessions) createSSO(user, role string) string {
	id := s.create(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ssoRoles) >= maxSessions {
		// Forget the users without a session left.
		live := map[string]bool{}
		for _, v := range s.m {
			live[v.user] = true
		}
		for u := range s.ssoRoles {
			if !live[u] {
				delete(s.ssoRoles, u)
			}
		}
	}
	s.ssoRoles[user] = role
	return id
}

// ssoRole returns the role of user, signed in by single sign-on.
func (s *sessions) ssoRole(user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	role, ok := s.ssoRoles[user]
	return role, ok
}

// create starts a session for user and returns its id.
func (s *sessions) create(user string) string {
	b := make([]byte, 32)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxSessions {
		s.expireLocked(now)
	}
	if len(s.m) >= maxSessions {
		// Drop the session idle longest rather than refuse a login.
		var oldest *session
		for _, v := range s.m {
			if oldest == nil || v.lastSeen.Before(oldest.lastSeen) {
				oldest = v
			}
		}
		delete(s.m, oldest.id)
	}
	s.m[id] = &session{id: id, user: user, created: now, lastSeen: now}
	return id
}

// get returns the live session of id; touch marks it used now.
func (s *sessions) get(id string, touch bool) (*session, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m[id]
	if v == nil {
		return nil, false
	}
	if s.expired(v, now) {
		delete(s.m, id)
		return nil, false
	}
	if touch {
		v.lastSeen = now
	}
	cp := *v
	return &cp, true
}

func (s *sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.lastSeen) >= s.idle || now.Sub(v.created) >= s.absolute
}

func (s *sessions) expireLocked(now time.Time) {
	for id, v := range s.m {
		if s.expired(v, now) {
			delete(s.m, id)
		}
	}
}

// end forgets the session id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// endUser forgets every session of user but keep (after a password change).
func (s *sessions) endUser(user, keep string) {
	s.mu.Lock()
	for id, v := range s.m {
		if v.user == user && id != keep {
			delete(s.m, id)
		}
	}
	s.mu.Unlock()
}

// cookieName is the session cookie's name. The __Host- prefix requires the
// Secure attribute, which browsers honour only over TLS (or on localhost),
// so a plain-HTTP server uses an unprefixed name.
func (h *Handler) cookieName() string {
	if h.cfg.TLS {
		return "__Host-statesrv_session"
	}
	return "statesrv_session"
}

// setSessionCookie sets a cookie without Max-Age or Expires, which the
// browser forgets when it closes; the server ends the session itself after
// the idle and absolute timeouts.
func (h *Handler) setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(), Value: id, Path: "/", HttpOnly: true, Secure: h.cfg.TLS,
		SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handler) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: h.cfg.TLS,
		SameSite: http.SameSiteLaxMode, MaxAge: -1,
	})
}

// currentSession returns the request's session, if it has a live one.
// Requests for live updates do not count as activity.
func (h *Handler) currentSession(r *http.Request) (*session, bool) {
	c, err := r.Cookie(h.cookieName())
	if err != nil || c.Value == "" {
		return nil, false
	}
	touch := r.URL.Path != "/live" && r.Header.Get("X-Statesrv-Live") == ""
	return h.sessions.get(c.Value, touch)
}
