package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// TestAPIActor checks that a change made through the JSON API is recorded
// with the token that made it ("token:NAME"), and with admin for
// --api-token.
func TestAPIActor(t *testing.T) {
	e := newEnv(t)
	secret, rc, err := e.Service.CreateToken(commands.Caller{User: "ops", Role: statesrv.RoleEditor, Actor: "ops"}, "deploy pipeline", "")
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, rc)
	for _, tt := range []struct{ token, id, want string }{
		{secret, "7", "token:deploy pipeline"},
		{"test-token", "8", "admin"},
	} {
		res := e.do(t, http.MethodPut, "/api/v1/processes/"+tt.id, strings.NewReader(`{"name":"job"}`),
			http.Header{"Authorization": {"Bearer " + tt.token}})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("PUT with %s's token: status %d", tt.want, res.StatusCode)
		}
		var actor string
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for ev, err := range e.Log.Range(ctx, 1, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type == "ProcessDefined" && ev.ProcessID == int64(tt.id[0]-'0') {
				actor = ev.Actor
			}
		}
		cancel()
		if actor != tt.want {
			t.Errorf("process %s defined by %q, want %q", tt.id, actor, tt.want)
		}
	}
}
