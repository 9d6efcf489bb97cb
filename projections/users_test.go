package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

// TestUsersPersist folds user events, an older log's admin made by its
// password alone among them, and checks that a restart and a rebuild give
// the same users, and that a token without a role takes its user's.
func TestUsersPersist(t *testing.T) {
	v := newViews(t)
	v.append(rec(t0, statesrv.EventUserPasswordSet, 0, &statesrv.UserPasswordSetData{User: "admin", Hash: "h-admin"}))
	v.append(rec(t0.Add(time.Minute), statesrv.EventUserDefined, 0,
		&statesrv.UserDefinedData{User: "ann", Role: statesrv.RoleEditor, Hash: "h-ann"}))
	v.append(rec(t0.Add(2*time.Minute), statesrv.EventUserDefined, 0,
		&statesrv.UserDefinedData{User: "ann", Role: statesrv.RoleViewer})) // the password stays
	v.append(rec(t0.Add(3*time.Minute), statesrv.EventUserPasswordSet, 0, &statesrv.UserPasswordSetData{User: "ann", Hash: "h-ann2"}))
	v.append(rec(t0.Add(4*time.Minute), statesrv.EventUserDefined, 0,
		&statesrv.UserDefinedData{User: "bob", Role: statesrv.RoleAdmin, Hash: "h-bob"}))
	v.append(rec(t0.Add(5*time.Minute), statesrv.EventAPITokenCreated, 0,
		&statesrv.APITokenCreatedData{TokenID: "t1", User: "ann", Name: "wall", Hash: "x"}))
	v.append(rec(t0.Add(6*time.Minute), statesrv.EventUserDeleted, 0, &statesrv.UserDeletedData{User: "bob"}))
	v.catchUp()
	want := map[string]statesrv.User{
		"admin": {Name: "admin", Role: statesrv.RoleAdmin, Hash: "h-admin", CreatedAt: t0},
		"ann":   {Name: "ann", Role: statesrv.RoleViewer, Hash: "h-ann2", CreatedAt: t0.Add(time.Minute)},
	}
	check := func(what string) {
		t.Helper()
		var users map[string]statesrv.User
		var role string
		v.runner.View(func(c *projections.Core) { users, role = c.Users, c.Tokens["t1"].Role })
		sameJSON(t, what+": users", users, want)
		if role != statesrv.RoleViewer {
			t.Errorf("%s: token without a role has role %q, want its user's, viewer", what, role)
		}
		c, err := v.store.LoadCore()
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, what+": loaded users", c.Users, want)
	}
	check("folded")
	v.close()
	v.open()
	check("reopened")
	if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}

// TestUsersLoadLegacy loads views written before roles, which kept a bare
// password hash per user: the user is an admin.
func TestUsersLoadLegacy(t *testing.T) {
	v := newViews(t)
	v.close()
	db, err := badger.Open(badger.DefaultOptions(v.dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("c/u/admin"), []byte("$argon2id$old")) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	v.open()
	c, err := v.store.LoadCore()
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "legacy users", c.Users, map[string]statesrv.User{
		"admin": {Name: "admin", Role: statesrv.RoleAdmin, Hash: "$argon2id$old"}})
}

// TestUserLegacySnapshotValue reads a user as snapshots older than roles
// wrote it: a bare hash.
func TestUserLegacySnapshotValue(t *testing.T) {
	var u statesrv.User
	if err := u.UnmarshalJSON([]byte(`"$argon2id$old"`)); err != nil {
		t.Fatal(err)
	}
	if u.Role != statesrv.RoleAdmin || u.Hash != "$argon2id$old" {
		t.Errorf("legacy value read as %+v, want an admin with that hash", u)
	}
}
