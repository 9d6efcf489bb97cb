package main

import (
	"os"

	"github.com/statesrv/statesrv/api"
)

// apiClient returns a client of the JSON API of the server at base that
// sends STATESRV_API_TOKEN as its bearer token.
func apiClient(base string) *api.Client {
	return &api.Client{BaseURL: base, Token: os.Getenv("STATESRV_API_TOKEN")}
}
