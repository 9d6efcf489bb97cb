package commands

import (
	"crypto/subtle"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv"
)

// Limits of API tokens.
const (
	maxTokenName = 100
	maxTokens    = 100
)

// CreateToken records a new API token named name that acts for c.User
// with role (c.Role when empty), and returns its secret, which is shown
// once and never stored. The error is EInvalid for a bad name or role or
// when there are too many tokens, EConflict for a name a token already
// has, and EForbidden for a role above the caller's; nothing is then
// recorded.
func (s *Service) CreateToken(c Caller, name, role string) (secret string, rc *Receipt, err error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", nil, statesrv.Errorf(statesrv.EInvalid, "name: required")
	case utf8.RuneCountInString(name) > maxTokenName:
		return "", nil, statesrv.Errorf(statesrv.EInvalid, "name: at most %d characters", maxTokenName)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", nil, statesrv.Errorf(statesrv.EInvalid, "name: no control characters")
	}
	if role == "" {
		role = c.Role
	}
	if err := validRole(role); err != nil {
		return "", nil, err
	}
	if !statesrv.RoleAllows(c.Role, role) {
		return "", nil, statesrv.Errorf(statesrv.EForbidden,
			"role: a token's role is at most its creator's: you are %s, the token asks for %s", c.Role, role)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.core.Tokens) >= maxTokens {
		return "", nil, statesrv.Errorf(statesrv.EInvalid, "name: at most %d tokens; revoke one first", maxTokens)
	}
	for _, t := range s.core.Tokens {
		if t.Name == name {
			return "", nil, statesrv.Errorf(statesrv.EConflict, "name: a token named %q exists", name)
		}
	}
	secret = "ss_" + RandomSecret(24)
	d := s.decide(c.Actor)
	d.add(statesrv.EventAPITokenCreated, 0, &statesrv.APITokenCreatedData{
		TokenID: uuid.Must(uuid.NewV7()).String(), User: c.User, Name: name, Role: role, Hash: TokenHash(secret)})
	return secret, d.submit(""), nil
}

// RevokeToken withdraws a token. The error is ENotFound for an unknown id.
func (s *Service) RevokeToken(id, actor string) (*Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.core.Tokens[id]; !ok {
		return nil, statesrv.Errorf(statesrv.ENotFound, "token %s not found", id)
	}
	d := s.decide(actor)
	d.add(statesrv.EventAPITokenRevoked, 0, &statesrv.APITokenRevokedData{TokenID: id})
	return d.submit(""), nil
}

// Tokens returns the API tokens that have not been revoked, oldest first.
func (s *Service) Tokens() []statesrv.APIToken {
	s.mu.Lock()
	out := s.tokensLocked()
	s.mu.Unlock()
	return out
}

// tokensLocked returns the tokens, each with the role it acts with now:
// its own, lowered to its user's when the user has been demoted since.
func (s *Service) tokensLocked() []statesrv.APIToken {
	out := make([]statesrv.APIToken, 0, len(s.core.Tokens))
	for _, t := range s.core.Tokens {
		if u, ok := s.core.Users[t.User]; ok {
			t.Role = statesrv.LowerRole(t.Role, u.Role)
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b statesrv.APIToken) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// TokenCaller returns the caller of the token whose secret is secret, and
// notes the token as used now. Its role is the token's, lowered to its
// user's role now when the user has been demoted since.
func (s *Service) TokenCaller(secret string) (Caller, bool) {
	h := []byte(TokenHash(secret))
	var t statesrv.APIToken
	found := false
	s.mu.Lock()
	for _, v := range s.core.Tokens {
		if subtle.ConstantTimeCompare([]byte(v.Hash), h) == 1 {
			t, found = v, true
		}
	}
	role := t.Role
	if u, ok := s.core.Users[t.User]; ok {
		role = statesrv.LowerRole(role, u.Role)
	}
	s.mu.Unlock()
	if !found {
		return Caller{}, false
	}
	s.used.note(t.ID, s.clock.Now())
	return Caller{User: t.User, Role: role, Actor: TokenActor(t.Name)}, true
}

// TokenLastUsed returns when the token id was last used since the server
// started (zero: not since then).
func (s *Service) TokenLastUsed(id string) time.Time { return s.used.last(id) }

// tokenUse keeps when each token was last used. It lives in memory only:
// an event per authenticated request would grow the log with every API
// call, so a restart forgets it.
type tokenUse struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (u *tokenUse) note(id string, now time.Time) {
	u.mu.Lock()
	if u.at == nil {
		u.at = map[string]time.Time{}
	}
	u.at[id] = now
	u.mu.Unlock()
}

func (u *tokenUse) last(id string) time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.at[id]
}
