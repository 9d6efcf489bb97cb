package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

// TestTokensPersist folds token events, persists them with the checkpoint,
// and checks that a restart (LoadCore) and a rebuild give the same tokens.
// The tokens, as in logs older than roles, name no role: each takes its
// user's (admin for a user not defined).
func TestTokensPersist(t *testing.T) {
	v := newViews(t)
	created := func(id, user string) any {
		return &statesrv.APITokenCreatedData{TokenID: id, User: user, Name: "name of " + id, Hash: "hash-" + id}
	}
	v.append(rec(t0, statesrv.EventAPITokenCreated, 0, created("t1", "admin")))
	v.append(rec(t0.Add(time.Minute), statesrv.EventAPITokenCreated, 0, created("t2", "ops")))
	v.append(rec(t0.Add(2*time.Minute), statesrv.EventAPITokenCreated, 0, created("t3", "admin")))
	v.append(rec(t0.Add(3*time.Minute), statesrv.EventAPITokenRevoked, 0, &statesrv.APITokenRevokedData{TokenID: "t2"}))
	v.catchUp()
	want := map[string]statesrv.APIToken{
		"t1": {ID: "t1", User: "admin", Name: "name of t1", Role: statesrv.RoleAdmin, Hash: "hash-t1", CreatedAt: t0},
		"t3": {ID: "t3", User: "admin", Name: "name of t3", Role: statesrv.RoleAdmin, Hash: "hash-t3", CreatedAt: t0.Add(2 * time.Minute)},
	}
	var live map[string]statesrv.APIToken
	v.runner.View(func(c *projections.Core) { live = c.Tokens })
	sameJSON(t, "folded tokens", live, want)

	// A restart loads them from the store.
	v.close()
	v.open()
	c, err := v.store.LoadCore()
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "loaded tokens", c.Tokens, want)
	v.runner.View(func(c *projections.Core) { live = c.Tokens })
	sameJSON(t, "reopened runner's tokens", live, want)

	// Revoking after the restart removes the stored token too.
	v.append(rec(t0.Add(4*time.Minute), statesrv.EventAPITokenRevoked, 0, &statesrv.APITokenRevokedData{TokenID: "t1"}))
	v.catchUp()
	delete(want, "t1")
	if c, err = v.store.LoadCore(); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "loaded tokens after a revocation", c.Tokens, want)

	// A rebuild from the log agrees.
	if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, err = v.store.LoadCore(); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "rebuilt tokens", c.Tokens, want)
}
