package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/datadir"
	"github.com/statesrv/statesrv/envflag"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/textfmt"
)

const userUsage = `usage: statesrv user add NAME --role ROLE [--password-stdin] [--url URL | --data DIR]
       statesrv user list [--url URL | --data DIR]
       statesrv user reset-password NAME [--data DIR] [--password-stdin]

add makes a dashboard user with the role viewer, editor or admin (a
viewer reads, an editor also changes processes, runs and alerts, an admin
also manages users). Its password is generated and printed once, or, with
--password-stdin, read from the first line of stdin (at least 12
characters) and not printed.

list prints the users and their roles.

add and list call a running server's API with --url (an admin's token, from
--token or STATESRV_API_TOKEN), or else open the --data directory of a
stopped server.

reset-password sets a new password for the user NAME (such as admin) in
the data directory of a stopped server, for a password that is lost, and
prints it once. Stop the server first: the command refuses while a server
runs on the directory. The next start of the server uses the new password.
With --password-stdin the new password is read from stdin instead of
generated, and not printed: it stays out of the shell's history and the
process list.
`

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: give a subcommand: add, list or reset-password", errUsage)
	}
	switch args[0] {
	case "add":
		return cmdUserAdd(ctx, args[1:], stdout, stderr)
	case "list":
		return cmdUserList(ctx, args[1:], stdout, stderr)
	case "reset-password":
		return cmdUserResetPassword(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, userUsage)
		return nil
	}
	return fmt.Errorf("%w: unknown subcommand %q (want add, list or reset-password)", errUsage, args[0])
}

func cmdUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("user add", userUsage, stderr)
	var t target
	t.flags(fs)
	role := fs.String("role", "", "viewer, editor or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from stdin instead of generating one")
	names, err := envflag.ParseInterspersed(fs, args, envPrefix)
	if err := usageError(err); err != nil {
		return err
	}
	if len(names) != 1 {
		return fmt.Errorf("%w: give one user name", errUsage)
	}
	if !statesrv.ValidRole(*role) {
		return fmt.Errorf("%w: --role: give viewer, editor or admin (got %q)", errUsage, *role)
	}
	pw, generated := commands.RandomSecret(18), true
	if *fromStdin {
		if pw, err = readPassword(os.Stdin); err != nil {
			return err
		}
		generated = false
	}
	if t.url != "" {
		err = addUserRemote(ctx, apiClient(t.url, t.token), names[0], *role, pw)
	} else {
		err = withStopped(ctx, t.data, func(m *Main) error {
			return m.Service.AddUser(ctx, names[0], *role, pw, statesrv.ActorCLI)
		})
	}
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "statesrv: user %s (%s), password %s (shown once)\n", names[0], *role, pw)
	} else {
		fmt.Fprintf(stdout, "statesrv: user %s (%s) added\n", names[0], *role)
	}
	return nil
}

// addUserRemote creates the user name through the API, refusing a name
// that is taken rather than changing that user.
func addUserRemote(ctx context.Context, c *api.Client, name, role, pw string) error {
	users, err := c.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Name == name {
			return statesrv.Errorf(statesrv.EConflict, "user %s exists", name)
		}
	}
	_, err = c.PutUser(ctx, name, api.UserRequest{Role: role, Password: pw})
	return err
}

func cmdUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("user list", userUsage, stderr)
	var t target
	t.flags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	var list api.UserList
	var err error
	if t.url != "" {
		list, err = apiClient(t.url, t.token).Users(ctx)
	} else {
		err = withStopped(ctx, t.data, func(m *Main) error {
			for _, u := range m.Service.Users() {
				list = append(list, api.User{Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt})
			}
			return nil
		})
	}
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED")
	for _, u := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", textfmt.OneLine(u.Name), u.Role, u.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// withStopped opens the data directory of a stopped server, runs fn on it
// and closes it.
func withStopped(ctx context.Context, data string, fn func(*Main) error) error {
	logDir, _ := datadir.Paths(data)
	if _, err := os.Stat(logDir); err != nil {
		return fmt.Errorf("no log in %s: %w", data, err)
	}
	m, err := Open(ctx, Config{Data: data, Offline: true})
	if errors.Is(err, eventlog.ErrLocked) {
		return fmt.Errorf("%w: a server is running on %s: stop it first, or make the change through it (--url, the API or the account page)", eventlog.ErrLocked, data)
	}
	if err != nil {
		return err
	}
	err = fn(m)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return err
}

func cmdUserResetPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("user reset-password", userUsage, stderr)
	data := fs.String("data", "./data", "storage directory of a stopped server")
	fromStdin := fs.Bool("password-stdin", false, "read the new password from stdin instead of generating one")
	names, err := envflag.ParseInterspersed(fs, args, envPrefix)
	if err := usageError(err); err != nil {
		return err
	}
	if len(names) != 1 {
		return fmt.Errorf("%w: give one user name, e.g. admin", errUsage)
	}
	var pw string
	if *fromStdin {
		if pw, err = readPassword(os.Stdin); err != nil {
			return err
		}
	}
	var gen string
	err = withStopped(ctx, *data, func(m *Main) error {
		gen, err = m.Service.ResetPassword(ctx, names[0], pw, statesrv.ActorCLI)
		return err
	})
	if err != nil {
		return err
	}
	if gen == "" {
		fmt.Fprintf(stdout, "statesrv: user %s: new password set\n", names[0])
		return nil
	}
	fmt.Fprintf(stdout, "statesrv: user %s, new password %s (shown once; change it after login)\n", names[0], gen)
	return nil
}

// readPassword reads a password from the first line of r (a line of 4 KiB
// at most, its line end dropped).
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%w: --password-stdin: no password on stdin", errUsage)
	}
	return pw, nil
}
