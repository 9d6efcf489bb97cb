package statesrv

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// A process key is a machine secret sent with every report, so the server
// checks it on every report at the rate reports come in. It is stored as
// "sha256:" + hex(salt) + ":" + hex(SHA-256(salt ‖ key)) with a random
// 16-byte salt: one hash per report costs well under a microsecond, where
// a password hash (argon2id, 19 MiB) per report would stop ingest. A key
// is meant to be long and random; the hash keeps it out of the log, the
// views and every reply, and a guess is compared in constant time.

const keyHashPrefix = "sha256:"

// HashKey returns the stored form of the process key key, with a new
// random salt.
func HashKey(key string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return hashKey(key, salt)
}

// LegacyKeyHash returns the stored form of a key that an older version
// stored in clear, salted from seed (the event's id): every fold of one
// log hashes it the same way, so views rebuilt from the log equal the
// live ones.
func LegacyKeyHash(key string, seed []byte) string {
	sum := sha256.Sum256(append([]byte("statesrv legacy key salt\x00"), seed...))
	return hashKey(key, sum[:16])
}

func hashKey(key string, salt []byte) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(key))
	return keyHashPrefix + hex.EncodeToString(salt) + ":" + hex.EncodeToString(h.Sum(nil))
}

// KeyMatches reports whether key is the key whose stored form is hash. The
// sums are compared in constant time; a malformed hash matches nothing.
func KeyMatches(hash, key string) bool {
	rest, ok := strings.CutPrefix(hash, keyHashPrefix)
	if !ok {
		return false
	}
	saltHex, sumHex, ok := strings.Cut(rest, ":")
	if !ok {
		return false
	}
	salt, err1 := hex.DecodeString(saltHex)
	want, err2 := hex.DecodeString(sumHex)
	if err1 != nil || err2 != nil || len(want) != sha256.Size {
		return false
	}
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(key))
	return subtle.ConstantTimeCompare(h.Sum(nil), want) == 1
}

// HasKey reports whether p has a key: given in clear, stored as a hash, or
// shown as set.
func (p *Process) HasKey() bool {
	return p.Key != nil && *p.Key != "" || p.KeyHash != "" || p.KeySet
}

// Redacted returns p as the server shows it: no key in clear, no hash,
// and KeySet saying whether a key is set.
func (p Process) Redacted() Process {
	p.KeySet = p.HasKey()
	p.Key, p.KeyHash = nil, ""
	return p
}

// FoldLegacyKey turns a key that an older version stored in clear into its
// hash, salted from seed (see LegacyKeyHash), and clears Key and KeySet:
// a definition read from the log or the views then holds only KeyHash.
func (p *Process) FoldLegacyKey(seed []byte) {
	if p.Key != nil && *p.Key != "" && p.KeyHash == "" {
		p.KeyHash = LegacyKeyHash(*p.Key, seed)
	}
	p.Key, p.KeySet = nil, false
}

// Ptr returns a pointer to v: a Process's Key from a literal.
func Ptr[T any](v T) *T { return &v }
