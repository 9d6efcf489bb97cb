package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
)

// TestTokenFlag calls a running server with the token of --token, and
// checks that a refused token says where the token comes from.
func TestTokenFlag(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(statesrv.Process{ID: 26, Name: "NightlyExport", Enabled: true})
	base := "http://" + s.HTTPAddr
	commands := [][]string{
		{"start", "--url", base, "26"},
		{"replay", "--url", base},
		{"state", "--url", base, "--seq", "1"},
		{"backup", "--url", base},
		{"export", "--url", base},
		{"cron", "export", "--url", base},
	}

	t.Run("FlagWinsOverTheEnvironment", func(t *testing.T) {
		t.Setenv(tokenEnv, "wrong")
		for _, args := range commands {
			at := slices.Index(args, "--url") // flags go before a process ID
			res := runCLI(slices.Concat(args[:at], []string{"--token", testToken}, args[at:])...)
			if res.code != 0 {
				t.Errorf("%q: exit %d, stderr %q", args, res.code, res.stderr)
			}
		}
	})
	t.Run("ErrBadTokenSaysWhereItComesFrom", func(t *testing.T) {
		t.Setenv(tokenEnv, "wrong")
		for _, args := range commands {
			res := runCLI(args...)
			if res.code != 1 || !strings.Contains(res.stderr, "401 Unauthorized") ||
				!strings.Contains(res.stderr, "the API token comes from --token or STATESRV_API_TOKEN") {
				t.Errorf("%q: exit %d, stderr %q", args, res.code, res.stderr)
			}
		}
	})
	t.Run("ErrOtherRefusalsGiveNoHint", func(t *testing.T) {
		t.Setenv(tokenEnv, testToken)
		res := runCLI("start", "--url", base, "999")
		if res.code != 1 || strings.Contains(res.stderr, "--token") {
			t.Errorf("exit %d, stderr %q", res.code, res.stderr)
		}
	})
}

// TestServeFlagsRefused checks that serve refuses, with a usage error
// naming the flag, values it would otherwise take for something else.
func TestServeFlagsRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		flag string
	}{
		{"ErrPublicURLNotAURL", []string{"--public-url", "not-a-url"}, "--public-url"},
		{"ErrPublicURLNoScheme", []string{"--public-url", "statesrv.example.com"}, "--public-url"},
		{"ErrPublicURLOtherScheme", []string{"--public-url", "ftp://statesrv.example.com"}, "--public-url"},
		{"ErrAlertRetryForNegative", []string{"--alert-retry-for", "-1h"}, "--alert-retry-for"},
		{"ErrAlertRetryForZero", []string{"--alert-retry-for", "0s"}, "--alert-retry-for"},
		{"ErrClockSkewNegative", []string{"--clock-skew", "-1m"}, "--clock-skew"},
		{"ErrOIDCWithoutIssuer", []string{"--oidc-client-id", "x"}, "--oidc-issuer"},
		{"ErrOIDCIssuerNotAURL", []string{"--oidc-issuer", "idp.example.com", "--oidc-client-id", "x", "--oidc-client-secret", "y"}, "--oidc-issuer"},
		{"ErrOIDCNoClient", []string{"--oidc-issuer", "https://idp.example.com"}, "--oidc-client-id"},
		{"ErrOIDCRedirectNotAURL", []string{"--oidc-issuer", "https://idp.example.com", "--oidc-client-id", "x", "--oidc-client-secret", "y", "--oidc-redirect-url", "/cb"}, "--oidc-redirect-url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--data", t.TempDir(), "--tcp", "", "--http", ""}, tt.args...)
			res := runCLI(args...)
			if res.code != 2 || !strings.Contains(res.stderr, tt.flag) {
				t.Errorf("exit %d, stderr %q; want 2 and the flag %s named", res.code, res.stderr, tt.flag)
			}
		})
	}
}
