package commands

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/statesrv/statesrv"
)

// Limits of users' secrets.
const (
	MinPasswordLen = 12
	maxPasswordLen = 1024
)

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

// decoyHash is checked for unknown users so that their answer takes as
// long as a wrong password. It is made at the first need, not when the
// program starts: hashing costs tens of milliseconds and 19 MiB.
var decoyHash = sync.OnceValue(func() string { return HashPassword("not a password of anyone") })

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
