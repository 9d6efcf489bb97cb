package main

import (
	"os"

	"github.com/statesrv/statesrv/api"
)

// tokenEnv is the environment variable that holds the API token of the
// commands that call a running server (--url), unless --token gives one.
const tokenEnv = "STATESRV_API_TOKEN"

// tokenHint ends the message of a command that the API refused with 401.
const tokenHint = "the API token comes from --token or " + tokenEnv

// flagSet is what tokenFlag needs of a *flag.FlagSet.
type flagSet interface {
	String(name, value, usage string) *string
}

// tokenFlag adds --token, the bearer token of a --url command, to fs.
func tokenFlag(fs flagSet) *string {
	return fs.String("token", "", "bearer token of the API (default: $"+tokenEnv+")")
}

// apiClient returns a client of the JSON API of the server at base that
// sends token as its bearer token, or STATESRV_API_TOKEN when token is
// empty.
func apiClient(base, token string) *api.Client {
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	return &api.Client{BaseURL: base, Token: token}
}
