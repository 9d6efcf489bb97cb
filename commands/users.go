package commands

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/argon2"

	"github.com/statesrv/statesrv"
)

// Limits of users' secrets.
const (
	MinPasswordLen = 8
	maxPasswordLen = 1024
	maxTokenName   = 100
	maxTokens      = 100
)

// SetPassword records a user's new password hash.
func (s *Service) SetPassword(user, hash, actor string) *Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.decide(actor)
	d.add(statesrv.EventUserPasswordSet, 0, &statesrv.UserPasswordSetData{User: user, Hash: hash})
	return d.submit("")
}

// PasswordHash returns the stored hash of user's password, if any.
func (s *Service) PasswordHash(user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.core.Users[user]
	return h, ok
}

// CheckPassword reports whether pw is user's password. It takes about as
// long for an unknown user as for a known one.
func (s *Service) CheckPassword(user, pw string) bool {
	hash, ok := s.PasswordHash(user)
	if !ok {
		hash = decoyHash()
	}
	return CheckPassword(hash, pw) && ok
}

// decoyHash is checked for unknown users so that their answer takes as
// long as a wrong password. It is made at the first need, not when the
// program starts: hashing costs tens of milliseconds and 19 MiB.
var decoyHash = sync.OnceValue(func() string { return HashPassword("not a password of anyone") })

// ChangePassword sets user's password to next after checking current. The
// error is EAuth for a wrong current password and EInvalid, naming the
// field, for an unacceptable new one.
func (s *Service) ChangePassword(user, current, next string) (*Receipt, error) {
	if !s.CheckPassword(user, current) {
		return nil, statesrv.Errorf(statesrv.EAuth, "current: the current password is wrong")
	}
	if err := validPassword("new", next); err != nil {
		return nil, err
	}
	return s.SetPassword(user, HashPassword(next), user), nil
}

// validPassword returns EInvalid, naming field, for a password too short
// or too long.
func validPassword(field, pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return statesrv.Errorf(statesrv.EInvalid, "%s: at least %d characters", field, MinPasswordLen)
	case len(pw) > maxPasswordLen:
		return statesrv.Errorf(statesrv.EInvalid, "%s: at most %d bytes", field, maxPasswordLen)
	}
	return nil
}

// CreateToken records a new API token of user named name and returns its
// secret, which is shown once and never stored. The error is EInvalid for
// a bad name or when the user has too many tokens.
func (s *Service) CreateToken(user, name string) (secret string, rc *Receipt, err error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", nil, statesrv.Errorf(statesrv.EInvalid, "name: required")
	case utf8.RuneCountInString(name) > maxTokenName:
		return "", nil, statesrv.Errorf(statesrv.EInvalid, "name: at most %d characters", maxTokenName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.core.Tokens) >= maxTokens {
		return "", nil, statesrv.Errorf(statesrv.EInvalid, "name: at most %d tokens; revoke one first", maxTokens)
	}
	secret = "ss_" + RandomSecret(24)
	d := s.decide(user)
	d.add(statesrv.EventAPITokenCreated, 0, &statesrv.APITokenCreatedData{
		TokenID: uuid.Must(uuid.NewV7()).String(), User: user, Name: name, Hash: TokenHash(secret)})
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
	out := make([]statesrv.APIToken, 0, len(s.core.Tokens))
	for _, t := range s.core.Tokens {
		out = append(out, t)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b statesrv.APIToken) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// TokenUser returns the user of the token whose secret is secret.
func (s *Service) TokenUser(secret string) (user string, ok bool) {
	h := []byte(TokenHash(secret))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.core.Tokens {
		if subtle.ConstantTimeCompare([]byte(t.Hash), h) == 1 {
			user, ok = t.User, true
		}
	}
	return user, ok
}

// TokenHash is how a token's secret is kept: hex SHA-256.
func TokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// RandomSecret returns n random bytes, base64url encoded.
func RandomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashPassword returns an argon2id hash of pw in the usual encoded form.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	const t, mem, threads = 2, 19 * 1024, 1
	key := argon2.IDKey([]byte(pw), salt, t, mem, threads, 32)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", mem, t, threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether pw matches an encoded argon2id hash.
func CheckPassword(encoded, pw string) bool {
	var mem, t uint32
	var threads uint8
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &threads); err != nil {
		return false
	}
	if mem > 256*1024 || t > 10 || threads == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
