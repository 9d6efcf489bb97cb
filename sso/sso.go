// Package sso signs dashboard users in with OpenID Connect (SPEC §11): the
// authorization code flow with PKCE, its state and nonce kept on the server
// for one use, and the ID token verified (signature by the issuer's keys,
// issuer, audience, expiry, nonce). It finds the user's name and role in
// the token's claims; the web side turns that into a session.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/statesrv/statesrv"
)

// Limits of the flows under way: a browser has FlowTTL to come back from
// the identity provider, and at most maxFlows flows wait at once (the
// oldest is dropped to make room, as a session is).
const (
	FlowTTL  = 10 * time.Minute
	maxFlows = 10_000
)

// Config configures single sign-on.
type Config struct {
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer/.well-known/openid-configuration.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is where the provider sends the browser back: this
	// server's /login/sso/callback.
	RedirectURL string
	// RoleClaim names the claim that holds the role; empty: every user
	// signed in this way is a viewer.
	RoleClaim string
	// Now is the clock of flows and of the ID token's expiry (default
	// time.Now).
	Now func() time.Time
	// Client makes the requests to the provider (default: one with a 10 s
	// timeout).
	Client *http.Client
	Logger *slog.Logger
}

// Identity is who the provider says signed in.
type Identity struct {
	// Name is the user's name (preferred_username, else email, else sub),
	// reduced to the characters a user name may hold.
	Name string
	// Role is the role from the role claim, viewer when it is missing or
	// unknown.
	Role string
	// Subject is the token's sub, the provider's id of the user.
	Subject string
}

// Provider is one configured identity provider, discovered at start.
type Provider struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	ctx      context.Context // carries Client for the token exchange

	mu    sync.Mutex
	flows map[string]flow // by state
}

// flow is a sign-in under way: what the callback must match.
type flow struct {
	nonce    string
	verifier string // the PKCE code verifier
	next     string
	expires  time.Time
}

// Discover reads the provider's discovery document and returns the
// Provider. It fails when the issuer cannot be reached, answers no valid
// document, or names another issuer; the server then refuses to start.
func Discover(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	octx := oidc.ClientContext(context.WithoutCancel(ctx), cfg.Client)
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.Client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: discovery at %s: %w", cfg.Issuer, err)
	}
	return &Provider{
		cfg: cfg,
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		verifier: p.VerifierContext(octx, &oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now}),
		ctx:      octx,
		flows:    map[string]flow{},
	}, nil
}

// Begin starts a sign-in that comes back to next: it returns the
// provider's URL to send the browser to and the flow's state, which the
// caller also gives the browser (a cookie) to bind the flow to it.
func (p *Provider) Begin(next string) (authURL, state string) {
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	now := p.cfg.Now()
	p.mu.Lock()
	if len(p.flows) >= maxFlows {
		for k, f := range p.flows {
			if !now.Before(f.expires) {
				delete(p.flows, k)
			}
		}
	}
	if len(p.flows) >= maxFlows {
		var oldest string
		for k, f := range p.flows {
			if oldest == "" || f.expires.Before(p.flows[oldest].expires) {
				oldest = k
			}
		}
		delete(p.flows, oldest)
	}
	p.flows[state] = flow{nonce: nonce, verifier: verifier, next: next, expires: now.Add(FlowTTL)}
	p.mu.Unlock()
	return p.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state
}

// Errors of Finish. Each is a *statesrv.Error too: a bad or stale state is
// EInvalid (400), a refused token EAuth (401).
var (
	ErrState = errors.New("sso: unknown, used or expired state")
	ErrToken = errors.New("sso: ID token refused")
)

// Finish ends the sign-in whose callback brought state and code, and
// bound is the state the browser kept (its cookie): both must be equal and
// name a flow under way, which is used up whatever follows. It exchanges
// code for tokens (sending the PKCE verifier), verifies the ID token and
// its nonce, and returns who signed in and where to go next. Errors wrap
// ErrState or ErrToken in a *statesrv.Error with a message safe to show.
func (p *Provider) Finish(ctx context.Context, state, bound, code string) (Identity, string, error) {
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(bound)) != 1 {
		return Identity{}, "", refuse(statesrv.EInvalid, ErrState, "the sign-in does not match this browser (state); start again")
	}
	p.mu.Lock()
	f, ok := p.flows[state]
	delete(p.flows, state)
	p.mu.Unlock()
	if !ok || !p.cfg.Now().Before(f.expires) {
		return Identity{}, "", refuse(statesrv.EInvalid, ErrState, "the sign-in is unknown, used or expired (state); start again")
	}
	if code == "" {
		return Identity{}, "", refuse(statesrv.EInvalid, ErrState, "the provider sent no code")
	}
	tok, err := p.oauth.Exchange(oidc.ClientContext(ctx, p.cfg.Client), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		p.cfg.Logger.Warn("sso: code exchange failed", "error", err)
		return Identity{}, "", refuse(statesrv.EAuth, ErrToken, "the provider did not accept the code")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, "", refuse(statesrv.EAuth, ErrToken, "the provider sent no ID token")
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		p.cfg.Logger.Warn("sso: ID token refused", "error", err)
		return Identity{}, "", refuse(statesrv.EAuth, ErrToken, "the ID token is not valid: "+reason(err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.nonce)) != 1 {
		return Identity{}, "", refuse(statesrv.EAuth, ErrToken, "the ID token is not valid: wrong nonce")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, "", refuse(statesrv.EAuth, ErrToken, "the ID token's claims do not read")
	}
	id := IdentityOf(claims, p.cfg.RoleClaim)
	if id.Name == "" {
		return Identity{}, "", refuse(statesrv.EAuth, ErrToken, "the ID token names no user")
	}
	return id, f.next, nil
}

// reason says in a few words why go-oidc refused a token.
func reason(err error) string {
	var exp *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &exp):
		return "expired"
	case strings.Contains(msg, "audience"):
		return "issued for another client (audience)"
	case strings.Contains(msg, "issued by a different provider"):
		return "issued by another provider"
	case strings.Contains(msg, "signature"):
		return "bad signature"
	}
	return "refused"
}

// refuse returns a refusal of Finish: a *statesrv.Error with a message
// safe to show, that also matches sentinel.
func refuse(code string, sentinel error, msg string) error {
	return fmt.Errorf("%w: %w", sentinel, statesrv.Errorf(code, "single sign-on: %s", msg))
}

func random() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
