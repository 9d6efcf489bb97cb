package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// TestUserAddList adds and lists users through a running server's API and
// on a stopped server's data.
func TestUserAddList(t *testing.T) {
	s := MustOpenServer(t)
	base := "http://" + s.HTTPAddr
	t.Setenv(tokenEnv, testToken)
	printed := regexp.MustCompile(`user ann \(editor\), password (\S+) \(shown once\)`)

	t.Run("URL", func(t *testing.T) {
		res := mustCLI(t, 0, "user", "add", "ann", "--role", "editor", "--url", base)
		m := printed.FindStringSubmatch(res.stdout)
		if m == nil || !s.Service.CheckPassword("ann", m[1]) {
			t.Fatalf("user add printed %q; want a password that logs ann in", res.stdout)
		}
		out := mustCLI(t, 0, "user", "list", "--url", base).stdout
		if !regexp.MustCompile(`(?m)^ann\s+editor\s+2026-`).MatchString(out) {
			t.Errorf("user list:\n%s", out)
		}
		if res := mustCLI(t, 1, "user", "add", "ann", "--role", "viewer", "--url", base); !strings.Contains(res.stderr, "exists") {
			t.Errorf("adding ann again: %q", res.stderr)
		}
		if u, _ := s.Service.User("ann"); u.Role != statesrv.RoleEditor {
			t.Errorf("ann became %s", u.Role)
		}
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		secret, rc, err := s.Service.CreateToken(commands.Caller{User: "ann", Role: statesrv.RoleEditor, Actor: "ann"}, "ann's", "")
		if err != nil {
			t.Fatal(err)
		}
		rc.Wait(context.Background())
		res := mustCLI(t, 1, "user", "list", "--url", base, "--token", secret)
		if !strings.Contains(res.stderr, "403") || !strings.Contains(res.stderr, "needs the role admin") {
			t.Errorf("an editor's token listing users: %q", res.stderr)
		}
	})
	t.Run("ErrBadInput", func(t *testing.T) {
		last := s.Log.LastSeq()
		if res := mustCLI(t, 2, "user", "add", "bob", "--role", "root", "--url", base); !strings.Contains(res.stderr, "--role: give viewer, editor or admin") {
			t.Errorf("unknown role: %q", res.stderr)
		}
		mustCLI(t, 2, "user", "add", "bob", "--url", base)
		if s.Log.LastSeq() != last {
			t.Error("a refused add recorded something")
		}
	})

	s.MustClose()
	t.Run("Data", func(t *testing.T) {
		res := runCLI("user", "add", "carl", "--role", "viewer", "--data", s.dir)
		if res.code != 0 || !strings.Contains(res.stdout, "user carl (viewer), password ") {
			t.Fatalf("user add --data: exit %d, %q %q", res.code, res.stdout, res.stderr)
		}
		out := mustCLI(t, 0, "user", "list", "--data", s.dir).stdout
		for _, want := range []string{"admin", "ann", "carl"} {
			if !strings.Contains(out, want+" ") {
				t.Errorf("user list --data lacks %s:\n%s", want, out)
			}
		}
	})
}
