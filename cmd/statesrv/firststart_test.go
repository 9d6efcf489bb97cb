package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests start the statesrv binary (the test binary in its child
// role, see TestMain) as a user would, and read what it prints.

// runChild runs the command line in a child process with stdin and waits
// for it to end.
func runChild(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("statesrv %s: %v", strings.Join(args, " "), err)
	}
	return cliResult{code, stdout.String(), stderr.String()}
}

// serveChild is `statesrv serve` running in a child process.
type serveChild struct {
	cmd            *exec.Cmd
	done           chan error // delivers the end of the process
	stdout, stderr syncBuffer
	httpAddr       string
}

// startServe runs `statesrv serve` on dir on free ports, waits until it
// serves HTTP, and stops it when the test ends if the test did not.
func startServe(t *testing.T, dir string, extra ...string) *serveChild {
	t.Helper()
	c := &serveChild{done: make(chan error, 1)}
	c.cmd = exec.Command(os.Args[0], append([]string{"serve", "--data", dir,
		"--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0"}, extra...)...)
	c.cmd.Env = append(os.Environ(), childEnv+"=1")
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { c.done <- c.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-exited
	})
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		for _, m := range addrLine.FindAllStringSubmatch(c.stderr.String(), -1) {
			if m[1] == "http" {
				c.httpAddr = m[2]
				return nil
			}
		}
		select {
		case <-exited:
			t.Fatalf("server exited: %s", c.stderr.String())
		default:
		}
		return errors.New("the server does not serve HTTP yet")
	})
	return c
}

// stop ends the server as an operator would (SIGTERM) and checks that it
// exited cleanly.
func (c *serveChild) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-c.done; err != nil {
		t.Fatalf("server stopped with %v: %s", err, c.stderr.String())
	}
}

// login posts the dashboard's login form and returns the status: 303 for
// a good password, 401 for a bad one.
func login(t *testing.T, httpAddr, user, pw string) int {
	t.Helper()
	client := &http.Client{Timeout: ioWait, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.PostForm("http://"+httpAddr+"/login", url.Values{"user": {user}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var (
	firstPassword = regexp.MustCompile(`first start: user admin, password (\S+) `)
	resetPassword = regexp.MustCompile(`user admin, new password (\S+) `)
)

// passwordsStored counts the events that set a password in dir's log
// (UserDefined, UserPasswordSet).
func passwordsStored(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, typ := range []string{"UserDefined", "UserPasswordSet"} {
		res := runCLI("replay", "--data", dir, "--type", typ, "--json")
		if res.code != 0 {
			t.Fatalf("replay: %s", res.stderr)
		}
		n += strings.Count(res.stdout, "\n")
	}
	return n
}

// TestFirstStartAndPasswordReset: a first start that fails stores and
// prints no password; the next one prints a password that logs in; a lost
// password is replaced on the stopped server's data.
func TestFirstStartAndPasswordReset(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	res := runChild(t, "", "serve", "--data", dir, "--tcp", "127.0.0.1:0", "--http", taken.Addr().String())
	taken.Close()
	if res.code == 0 || !strings.Contains(res.stderr, "--http "+taken.Addr().String()+": address already in use (stop what listens there, or give another address with --http)") || strings.Contains(res.stdout, "password") {
		t.Fatalf("start on a taken port: exit %d, stdout %q, stderr %q; want a failure that prints no password",
			res.code, res.stdout, res.stderr)
	}
	if n := passwordsStored(t, dir); n != 0 {
		t.Fatalf("a failed first start stored %d passwords, want none", n)
	}

	c := startServe(t, dir)
	var pw string
	eventually(t, func() error {
		m := firstPassword.FindStringSubmatch(c.stdout.String())
		if m == nil {
			return errors.New("no first-start password printed")
		}
		pw = m[1]
		return nil
	})
	if got := login(t, c.httpAddr, "admin", pw); got != http.StatusSeeOther {
		t.Fatalf("login with the printed password: status %d, want 303", got)
	}

	t.Run("ErrServerRunning", func(t *testing.T) {
		res := runChild(t, "", "user", "reset-password", "admin", "--data", dir)
		if res.code != 1 || !strings.Contains(res.stderr, "a server is running on "+dir+": stop it first") {
			t.Errorf("reset-password beside a running server: exit %d, stderr %q", res.code, res.stderr)
		}
		res = runChild(t, "", "verify", "--data", dir)
		if res.code != 1 || !strings.Contains(res.stderr, "a server is running on "+dir+": use --url") {
			t.Errorf("verify beside a running server: exit %d, stderr %q", res.code, res.stderr)
		}
	})
	c.stop(t)
	if n := passwordsStored(t, dir); n != 1 {
		t.Fatalf("%d passwords stored after the first start, want 1", n)
	}

	t.Run("ErrUnknownUser", func(t *testing.T) {
		res := runChild(t, "", "user", "reset-password", "nobody", "--data", dir)
		if res.code != 1 || !strings.Contains(res.stderr, `no user "nobody"`) {
			t.Errorf("reset-password of an unknown user: exit %d, stderr %q", res.code, res.stderr)
		}
	})

	res = runChild(t, "", "user", "reset-password", "admin", "--data", dir)
	m := resetPassword.FindStringSubmatch(res.stdout)
	if res.code != 0 || m == nil {
		t.Fatalf("reset-password: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	c = startServe(t, dir)
	if strings.Contains(c.stdout.String(), "first start") {
		t.Errorf("a later start printed a first-start password: %q", c.stdout.String())
	}
	if got := login(t, c.httpAddr, "admin", m[1]); got != http.StatusSeeOther {
		t.Errorf("login with the reset password: status %d, want 303", got)
	}
	if got := login(t, c.httpAddr, "admin", pw); got != http.StatusUnauthorized {
		t.Errorf("login with the old password: status %d, want 401", got)
	}
	c.stop(t)

	t.Run("FromStdin", func(t *testing.T) {
		const chosen = "battery staple horse"
		res := runChild(t, chosen+"\n", "user", "reset-password", "--password-stdin", "admin", "--data", dir)
		if res.code != 0 || strings.Contains(res.stdout, chosen) {
			t.Fatalf("reset-password --password-stdin: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
		c := startServe(t, dir)
		defer c.stop(t)
		if got := login(t, c.httpAddr, "admin", chosen); got != http.StatusSeeOther {
			t.Errorf("login with the password from stdin: status %d, want 303", got)
		}
	})
}

// TestFirstStartFailureKeepsAdminPassword: after a first start that failed
// on its TLS files, the next start takes --admin-password.
func TestFirstStartFailureKeepsAdminPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	res := runChild(t, "", "serve", "--data", dir, "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--tls-cert", filepath.Join(dir, "missing.pem"), "--tls-key", filepath.Join(dir, "missing.key"))
	if res.code == 0 || strings.Contains(res.stdout, "password") {
		t.Fatalf("start with missing TLS files: exit %d, stdout %q; want a failure that prints no password", res.code, res.stdout)
	}
	if n := passwordsStored(t, dir); n != 0 {
		t.Fatalf("a failed first start stored %d passwords, want none", n)
	}
	c := startServe(t, dir, "--admin-password", "chosen-password")
	defer c.stop(t)
	if got := login(t, c.httpAddr, "admin", "chosen-password"); got != http.StatusSeeOther {
		t.Errorf("login with --admin-password of the second start: status %d, want 303", got)
	}
	if strings.Contains(c.stdout.String(), "password") {
		t.Errorf("the second start printed %q, want no generated password", c.stdout.String())
	}
}
