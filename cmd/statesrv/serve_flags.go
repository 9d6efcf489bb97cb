package main

import (
	"fmt"
	"net/url"
)

// checkServeFlags refuses, as a usage error naming the flag, the values of
// serve's flags that would start a server that quietly does something
// else: a --public-url that is no absolute http(s) URL (alerts would carry
// broken links), a --alert-retry-for that is not positive (the dispatcher
// would take its default instead) and a negative --clock-skew.
func checkServeFlags(cfg Config) error {
	if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: --public-url %q: want an absolute http:// or https:// URL, such as https://statesrv.example.com",
			errUsage, cfg.PublicURL)
	}
	if cfg.AlertRetryFor <= 0 {
		return fmt.Errorf("%w: --alert-retry-for %s: must be positive (default 24h)", errUsage, cfg.AlertRetryFor)
	}
	if cfg.ClockSkew < 0 {
		return fmt.Errorf("%w: --clock-skew %s: must not be negative (0 turns it off)", errUsage, cfg.ClockSkew)
	}
	return checkOIDCFlags(cfg.OIDC)
}

// checkOIDCFlags refuses an incomplete single sign-on: --oidc-client-id
// and --oidc-client-secret go with --oidc-issuer, the other --oidc-* flags
// need it, and the URLs are absolute http(s) URLs.
func checkOIDCFlags(c OIDCConfig) error {
	if c.Issuer == "" {
		if c.ClientID != "" || c.ClientSecret != "" || c.RoleClaim != "" || c.RedirectURL != "" {
			return fmt.Errorf("%w: the --oidc-* flags need --oidc-issuer", errUsage)
		}
		return nil
	}
	for _, f := range []struct{ name, value string }{{"--oidc-issuer", c.Issuer}, {"--oidc-redirect-url", c.RedirectURL}} {
		if f.value == "" {
			continue
		}
		if u, err := url.Parse(f.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: %s %q: want an absolute http:// or https:// URL", errUsage, f.name, f.value)
		}
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return fmt.Errorf("%w: --oidc-issuer needs --oidc-client-id and --oidc-client-secret", errUsage)
	}
	return nil
}
