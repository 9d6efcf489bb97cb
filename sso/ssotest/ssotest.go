// Package ssotest is an OpenID Connect provider for tests, served on
// 127.0.0.1: discovery, the keys (an RSA key made at start), /authorize,
// which signs the user in at once and sends the browser back with a code,
// and /token, which checks the client's secret, the redirect URI and the
// PKCE verifier before it hands out an ID token signed with that key.
// Fields of Provider let a test give the claims and spoil the token
// (expired, another audience, another key, another nonce).
package ssotest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// ClientID and ClientSecret are the one client the provider knows.
const (
	ClientID     = "statesrv-test"
	ClientSecret = "test-secret-of-the-client"
)

// Provider is a running test provider.
type Provider struct {
	Server *httptest.Server
	key    *rsa.PrivateKey

	mu sync.Mutex
	// Claims are put into every ID token besides iss, aud, exp, iat and
	// nonce (e.g. sub, preferred_username, role).
	Claims map[string]any
	// Audience, when set, replaces the client id as aud.
	Audience string
	// Lifetime is how long an ID token is valid from Now (default 5 min;
	// negative: issued expired).
	Lifetime time.Duration
	// SigningKey, when set, signs ID tokens instead of the published key
	// (a forged token).
	SigningKey *rsa.PrivateKey
	// Nonce, when set, replaces the nonce of the authorization request.
	Nonce string
	// Now is the provider's clock (default time.Now).
	Now func() time.Time

	codes map[string]grant
	// Exchanges counts the codes exchanged for tokens.
	Exchanges int
}

// grant is what an authorization request left for its code.
type grant struct {
	redirect, nonce, challenge string
}

// New starts a provider; it stops when the test ends.
func New(tb interface {
	Helper()
	Fatal(...any)
	Cleanup(func())
}) *Provider {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	p := &Provider{key: key, codes: map[string]grant{}, Claims: map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.keys)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.Server = httptest.NewServer(mux)
	tb.Cleanup(p.Server.Close)
	return p
}

// NewKey returns another RSA key, to forge tokens with.
func NewKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.Server.URL }

// Set changes the provider's settings under its lock.
func (p *Provider) Set(fn func(p *Provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	iss := p.Issuer()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"jwks_uri":                              iss + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *Provider) keys(w http.ResponseWriter, r *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize signs the user in at once and sends the browser back with a
// code, after checking the client, the response type and that a S256 code
// challenge came.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != ClientID:
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "PKCE (S256) required", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Host == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	code := b64(randomBytes(16))
	p.mu.Lock()
	p.codes[code] = grant{redirect: q.Get("redirect_uri"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	p.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token exchanges a code, once, for an ID token.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	code := r.PostForm.Get("code")
	g, ok := p.codes[code]
	delete(p.codes, code)
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code" || !ok:
		tokenError(w, "invalid_grant")
		return
	case r.PostForm.Get("redirect_uri") != g.redirect:
		tokenError(w, "invalid_grant")
		return
	case b64(sum[:]) != g.challenge: // PKCE, RFC 7636 §4.6
		tokenError(w, "invalid_grant")
		return
	}
	p.Exchanges++
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": b64(randomBytes(16)), "token_type": "Bearer", "expires_in": 300,
		"id_token": p.idTokenLocked(g.nonce),
	})
}

// IDToken returns an ID token as /token would hand it out for nonce.
func (p *Provider) IDToken(nonce string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idTokenLocked(nonce)
}

func (p *Provider) idTokenLocked(nonce string) string {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	life := p.Lifetime
	if life == 0 {
		life = 5 * time.Minute
	}
	claims := map[string]any{}
	for k, v := range p.Claims {
		claims[k] = v
	}
	claims["iss"] = p.Issuer()
	claims["aud"] = ClientID
	if p.Audience != "" {
		claims["aud"] = p.Audience
	}
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(life).Unix()
	claims["nonce"] = nonce
	if p.Nonce != "" {
		claims["nonce"] = p.Nonce
	}
	key := p.key
	if p.SigningKey != nil {
		key = p.SigningKey
	}
	return Sign(key, "k1", claims)
}

// Sign returns a JWT of claims signed with RS256 by key, with key id kid.
func Sign(key *rsa.PrivateKey, kid string, claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	body, _ := json.Marshal(claims)
	signing := b64(header) + "." + b64(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return signing + "." + b64(sig)
}

func tokenError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
