package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/datadir"
	"github.com/statesrv/statesrv/envflag"
	"github.com/statesrv/statesrv/eventlog"
)

const userUsage = `usage: statesrv user reset-password NAME [--data DIR] [--password-stdin]

Sets a new password for the dashboard user NAME (such as admin) in the data
directory of a stopped server, for a password that is lost, and prints it
once. Stop the server first: the command refuses while a server runs on
the directory. The next start of the server uses the new password.

With --password-stdin the new password is read from the first line of
stdin (at least 8 characters) instead of generated, and not printed: it
stays out of the shell's history and the process list.
`

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: give a subcommand: reset-password", errUsage)
	}
	switch args[0] {
	case "reset-password":
		return cmdUserResetPassword(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, userUsage)
		return nil
	}
	return fmt.Errorf("%w: unknown subcommand %q (want reset-password)", errUsage, args[0])
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
	logDir, _ := datadir.Paths(*data)
	if _, err := os.Stat(logDir); err != nil {
		return fmt.Errorf("no log in %s: %w", *data, err)
	}
	m, err := Open(ctx, Config{Data: *data, Offline: true})
	if errors.Is(err, eventlog.ErrLocked) {
		return fmt.Errorf("%w (a server is running on %s: stop it first)", err, *data)
	}
	if err != nil {
		return err
	}
	gen, err := m.Service.ResetPassword(ctx, names[0], pw, statesrv.ActorCLI)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
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
