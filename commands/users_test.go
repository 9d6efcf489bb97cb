package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
)

const strongPassword = "correct horse battery"

// mustDefineUser defines a user and waits for it.
func mustDefineUser(t *testing.T, s *server, name, role, pw string) {
	t.Helper()
	_, rc, err := s.Service.DefineUser(name, role, pw, statesrv.ActorAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDefineUser(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s := newServer(t)
		created, rc, err := s.Service.DefineUser("ann", statesrv.RoleEditor, strongPassword, "admin")
		if err != nil || !created {
			t.Fatalf("DefineUser = %v, %v; want created", created, err)
		}
		rc.Wait(context.Background())
		if !s.Service.CheckPassword("ann", strongPassword) {
			t.Error("the password was not set")
		}
		created, rc, err = s.Service.DefineUser("ann", statesrv.RoleViewer, "", "admin")
		if err != nil || created {
			t.Fatalf("change = %v, %v; want changed", created, err)
		}
		rc.Wait(context.Background())
		u, _ := s.Service.User("ann")
		if u.Role != statesrv.RoleViewer || u.Hash != "" || !s.Service.CheckPassword("ann", strongPassword) {
			t.Errorf("after the change: %+v; want a viewer with the password kept and no hash shown", u)
		}
		ev := lastEvent(t, s)
		if ev.Type != statesrv.EventUserDefined || ev.Actor != "admin" {
			t.Errorf("recorded %s by %q", ev.Type, ev.Actor)
		}
		if shown := string(statesrv.RedactEvent(ev.Type, ev.Time, ev.Data)); strings.Contains(shown, "argon2") {
			t.Errorf("the event shows %s", shown)
		}
	})
	for _, tc := range []struct {
		name, user, role, pw string
		code                 string
	}{
		{"ErrWeakPassword", "bob", statesrv.RoleViewer, "short pass", statesrv.EInvalid},
		{"ErrUnknownRole", "bob", "owner", strongPassword, statesrv.EInvalid},
		{"ErrPasswordRequired", "bob", statesrv.RoleViewer, "", statesrv.EInvalid},
		{"ErrRoleRequired", "bob", "", strongPassword, statesrv.EInvalid},
		{"ErrBadName", "Bob:x", statesrv.RoleViewer, strongPassword, statesrv.EInvalid},
		{"ErrDemoteLastAdmin", "admin", statesrv.RoleEditor, "", statesrv.EConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			mustDefineUser(t, s, "admin", statesrv.RoleAdmin, strongPassword)
			last := s.Log.LastSeq()
			_, _, err := s.Service.DefineUser(tc.user, tc.role, tc.pw, "admin")
			if statesrv.ErrorCode(err) != tc.code || s.Log.LastSeq() != last {
				t.Errorf("DefineUser = %v (appended %d); want %s and nothing recorded", err, s.Log.LastSeq()-last, tc.code)
			}
			if u, _ := s.Service.User("admin"); u.Role != statesrv.RoleAdmin {
				t.Errorf("admin is now %s", u.Role)
			}
		})
	}
}

func TestDeleteUser(t *testing.T) {
	t.Run("OKRevokesTokens", func(t *testing.T) {
		s := newServer(t)
		mustDefineUser(t, s, "admin", statesrv.RoleAdmin, strongPassword)
		mustDefineUser(t, s, "ann", statesrv.RoleEditor, strongPassword)
		secret, rc, err := s.Service.CreateToken(commands.Caller{User: "ann", Role: statesrv.RoleEditor, Actor: "ann"}, "ci", "")
		if err != nil {
			t.Fatal(err)
		}
		rc.Wait(context.Background())
		if rc, err = s.Service.DeleteUser("ann", "admin"); err != nil {
			t.Fatal(err)
		}
		rc.Wait(context.Background())
		if _, ok := s.Service.User("ann"); ok {
			t.Error("ann is still a user")
		}
		if _, ok := s.Service.TokenCaller(secret); ok || len(s.Service.Tokens()) != 0 {
			t.Error("ann's token still works")
		}
		if s.Service.CheckPassword("ann", strongPassword) {
			t.Error("ann still logs in")
		}
	})
	t.Run("ErrLastAdmin", func(t *testing.T) {
		s := newServer(t)
		mustDefineUser(t, s, "admin", statesrv.RoleAdmin, strongPassword)
		last := s.Log.LastSeq()
		if _, err := s.Service.DeleteUser("admin", "admin"); statesrv.ErrorCode(err) != statesrv.EConflict || s.Log.LastSeq() != last {
			t.Errorf("DeleteUser of the last admin = %v; want a conflict and nothing recorded", err)
		}
		// With a second admin, the first may go.
		mustDefineUser(t, s, "root", statesrv.RoleAdmin, strongPassword)
		if _, err := s.Service.DeleteUser("admin", "root"); err != nil {
			t.Errorf("DeleteUser beside another admin = %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newServer(t)
		if _, err := s.Service.DeleteUser("nobody", "admin"); statesrv.ErrorCode(err) != statesrv.ENotFound {
			t.Errorf("DeleteUser = %v, want not found", err)
		}
	})
}

func TestTokenRoles(t *testing.T) {
	editor := commands.Caller{User: "ann", Role: statesrv.RoleEditor, Actor: "ann"}
	t.Run("ErrAboveCreator", func(t *testing.T) {
		s := newServer(t)
		last := s.Log.LastSeq()
		_, _, err := s.Service.CreateToken(editor, "ci", statesrv.RoleAdmin)
		if statesrv.ErrorCode(err) != statesrv.EForbidden || s.Log.LastSeq() != last {
			t.Fatalf("CreateToken above the creator = %v; want forbidden and nothing recorded", err)
		}
		if !strings.Contains(statesrv.ErrorMessage(err), "at most its creator's") {
			t.Errorf("message %q does not say why", statesrv.ErrorMessage(err))
		}
	})
	t.Run("ErrUnknownRole", func(t *testing.T) {
		s := newServer(t)
		if _, _, err := s.Service.CreateToken(editor, "ci", "root"); statesrv.ErrorCode(err) != statesrv.EInvalid {
			t.Fatalf("CreateToken = %v, want invalid", err)
		}
	})
	t.Run("ErrNameTaken", func(t *testing.T) {
		s := newServer(t)
		_, rc, err := s.Service.CreateToken(editor, "ci", "")
		if err != nil {
			t.Fatal(err)
		}
		rc.Wait(context.Background())
		if _, _, err := s.Service.CreateToken(editor, " ci ", ""); statesrv.ErrorCode(err) != statesrv.EConflict {
			t.Fatalf("second token named ci = %v, want conflict", err)
		}
	})
	t.Run("CappedByUserAndLastUsed", func(t *testing.T) {
		s := newServer(t)
		mustDefineUser(t, s, "admin", statesrv.RoleAdmin, strongPassword)
		mustDefineUser(t, s, "ann", statesrv.RoleEditor, strongPassword)
		secret, rc, err := s.Service.CreateToken(editor, "ci", statesrv.RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		rc.Wait(context.Background())
		id := s.Service.Tokens()[0].ID
		if !s.Service.TokenLastUsed(id).IsZero() {
			t.Error("a token never used has a last use")
		}
		last := s.Log.LastSeq()
		s.clock.Advance(time.Minute)
		c, ok := s.Service.TokenCaller(secret)
		want := commands.Caller{User: "ann", Role: statesrv.RoleViewer, Actor: "token:ci"}
		if !ok || c != want {
			t.Errorf("TokenCaller = %+v, %v; want %+v", c, ok, want)
		}
		if got := s.Service.TokenLastUsed(id); !got.Equal(t0.Add(time.Minute)) {
			t.Errorf("last used %v, want %v", got, t0.Add(time.Minute))
		}
		if s.Log.LastSeq() != last {
			t.Error("using a token recorded an event")
		}
		// An editor token of a user demoted to viewer reads only.
		secret2, rc, _ := s.Service.CreateToken(editor, "deploy", statesrv.RoleEditor)
		rc.Wait(context.Background())
		mustDefineUser(t, s, "ann", statesrv.RoleViewer, "")
		if c, _ := s.Service.TokenCaller(secret2); c.Role != statesrv.RoleViewer {
			t.Errorf("token of a demoted user has role %s, want viewer", c.Role)
		}
		for _, tok := range s.Service.Tokens() {
			if tok.Name == "deploy" && tok.Role != statesrv.RoleViewer {
				t.Errorf("the token list shows the demoted user's token as %s, want viewer", tok.Role)
			}
		}
	})
}

func TestFirstPasswordNotAfterUsers(t *testing.T) {
	s := newServer(t)
	mustDefineUser(t, s, "root", statesrv.RoleAdmin, strongPassword)
	last := s.Log.LastSeq()
	if gen, err := s.Service.FirstPassword(context.Background(), statesrv.ActorAdmin, "", statesrv.ActorCLI); err != nil || gen != "" || s.Log.LastSeq() != last {
		t.Errorf("FirstPassword with a user = %q, %v; want nothing (a removed admin does not come back)", gen, err)
	}
}

// lastEvent returns the last event of s's log.
func lastEvent(t *testing.T, s *server) eventlog.Event {
	t.Helper()
	var last eventlog.Event
	for ev, err := range s.Log.Range(context.Background(), s.Log.LastSeq(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		last = *ev
	}
	return last
}
