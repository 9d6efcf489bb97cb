//go:build unix

package main

// Tests of `statesrv exec` against real child processes (/bin/sh) and the
// real server.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// execArgs is the command line of exec against s for process pid.
func execArgs(s *testServer, pid int64, extra ...string) []string {
	return append([]string{"exec", "--server", s.TCPAddr, "--id", strconv.FormatInt(pid, 10),
		"--retry-for", "5s"}, extra...)
}

// trail is what the log holds about one process's reports and runs.
type trail struct {
	reports  []statesrv.MessageReceivedData
	started  []statesrv.RunStartedData
	finished []statesrv.RunFinishedData
}

// logTrail reads the log for the events of process pid. An ACK means the
// report is in the log, so no waiting is needed.
func logTrail(t *testing.T, m *Main, pid int64) trail {
	t.Helper()
	var tr trail
	note := func(e *eventlog.Event) error {
		if e.ProcessID != pid {
			return nil
		}
		var dst any
		switch e.Type {
		case statesrv.EventMessageReceived:
			tr.reports = append(tr.reports, statesrv.MessageReceivedData{})
			dst = &tr.reports[len(tr.reports)-1]
		case statesrv.EventRunStarted:
			tr.started = append(tr.started, statesrv.RunStartedData{})
			dst = &tr.started[len(tr.started)-1]
		case statesrv.EventRunFinished:
			tr.finished = append(tr.finished, statesrv.RunFinishedData{})
			dst = &tr.finished[len(tr.finished)-1]
		default:
			return nil
		}
		return statesrv.DecodePayload(e.Type, e.Time, e.Data, dst)
	}
	for e, err := range m.Log.Range(context.Background(), 1, 0) {
		if err == nil {
			err = note(e)
		}
		if err != nil {
			t.Fatalf("read log: %v", err)
		}
	}
	return tr
}

// mustOneRun checks that the process got one START, one end report in
// state and one run, opened by the START and closed by the end report, and
// returns how it finished.
func mustOneRun(t *testing.T, m *Main, pid int64, state string, code int) statesrv.RunFinishedData {
	t.Helper()
	tr := logTrail(t, m, pid)
	if len(tr.reports) != 2 || tr.reports[0].State != "START" || tr.reports[1].State != state {
		t.Fatalf("reports %+v, want START then %s", tr.reports, state)
	}
	for _, r := range tr.reports {
		if r.MID == "" {
			t.Errorf("report %s has no mid", r.State)
		}
	}
	if tr.reports[0].MID == tr.reports[1].MID {
		t.Errorf("START and %s share mid %s", state, tr.reports[0].MID)
	}
	if len(tr.started) != 1 || tr.started[0].MessageID != tr.reports[0].MessageID {
		t.Fatalf("runs started %+v, want one, by the START", tr.started)
	}
	if len(tr.finished) != 1 || tr.finished[0].RunID != tr.started[0].RunID {
		t.Fatalf("runs finished %+v, want the run START opened", tr.finished)
	}
	f := tr.finished[0]
	if f.State != state || f.Code == nil || *f.Code != code {
		t.Errorf("run finished %s with code %v, want %s with %d", f.State, f.Code, state, code)
	}
	if want := fmt.Sprintf("exit %d after ", code); !strings.HasPrefix(f.Message, want) {
		t.Errorf("message %q, want it to start with %q", f.Message, want)
	}
	return f
}

func TestExec(t *testing.T) {
	s := MustOpenServer(t)

	t.Run("ExitZeroReportsOK", func(t *testing.T) {
		s.MustDefine(pushOnly(1, time.Hour))
		res := runCLI(execArgs(s, 1, "--", "/bin/sh", "-c", "echo hello; echo oops >&2")...)
		if res.code != 0 {
			t.Fatalf("exit %d, want 0; stderr: %s", res.code, res.stderr)
		}
		if res.stdout != "hello\n" || res.stderr != "oops\n" {
			t.Errorf("stdout %q, stderr %q; want the job's output passed through", res.stdout, res.stderr)
		}
		f := mustOneRun(t, s.Main, 1, "OK", 0)
		if !strings.Contains(f.Message, "hello") || !strings.Contains(f.Message, "oops") {
			t.Errorf("message %q, want the job's stdout and stderr lines", f.Message)
		}
	})

	t.Run("ExitOneReportsFAIL", func(t *testing.T) {
		s.MustDefine(pushOnly(2, time.Hour))
		res := runCLI(execArgs(s, 2, "--name", "backup", "--", "/bin/sh", "-c", "echo first; echo disk full; exit 1")...)
		if res.code != 1 {
			t.Fatalf("exit %d, want 1; stderr: %s", res.code, res.stderr)
		}
		f := mustOneRun(t, s.Main, 2, "FAIL", 1)
		if !strings.HasSuffix(f.Message, ": first | disk full") || f.Name != "backup" {
			t.Errorf("finished %+v, want the last lines joined by \" | \" and name backup", f)
		}
	})

	t.Run("KilledBySIGKILLIs137", func(t *testing.T) {
		s.MustDefine(pushOnly(3, time.Hour))
		res := runCLI(execArgs(s, 3, "--", "/bin/sh", "-c", "echo dying; kill -9 $$")...)
		if res.code != 137 {
			t.Fatalf("exit %d, want 137; stderr: %s", res.code, res.stderr)
		}
		mustOneRun(t, s.Main, 3, "FAIL", 137)
	})

	t.Run("LongOutputFitsTheMessage", func(t *testing.T) {
		s.MustDefine(pushOnly(4, time.Hour))
		// 100 lines of 60 characters: 6,000 in all, with ';' and a
		// progress bar's CR in each line.
		script := `i=0; while [ $i -lt 100 ]; do printf 'working\rline %03d; %s\n' $i ` +
			`xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done`
		res := runCLI(execArgs(s, 4, "--tail", "100", "--", "/bin/sh", "-c", script)...)
		if res.code != 0 {
			t.Fatalf("exit %d, want 0; stderr: %s", res.code, res.stderr)
		}
		if n := strings.Count(res.stdout, "\n"); n != 100 || len(res.stdout) < 6000 {
			t.Errorf("stdout has %d lines, %d bytes; want all 100 lines passed through", n, len(res.stdout))
		}
		msg := mustOneRun(t, s.Main, 4, "OK", 0).Message
		if n := utf8.RuneCountInString(msg); n > 1000 || n < 950 {
			t.Errorf("message of %d characters, want close to 1,000 and no more", n)
		}
		if !strings.HasSuffix(msg, "line 099, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") ||
			!strings.Contains(msg, ": …") || strings.ContainsAny(msg, ";\r\n") || strings.Contains(msg, "working") {
			t.Errorf("message %q, want the end of the output, cut at the front, ';' and CR handled", msg)
		}
	})

	t.Run("ArgumentsUntouched", func(t *testing.T) {
		s.MustDefine(pushOnly(5, time.Hour))
		res := runCLI(execArgs(s, 5, "--", "/bin/sh", "-c", `printf '[%s]\n' "$@"`, "sh",
			"two words", "$HOME", "semi;colon", "*", "--id")...)
		if want := "[two words]\n[$HOME]\n[semi;colon]\n[*]\n[--id]\n"; res.stdout != want {
			t.Errorf("stdout %q, want %q", res.stdout, want)
		}
	})

	t.Run("NotFoundIs127", func(t *testing.T) {
		s.MustDefine(pushOnly(6, time.Hour))
		res := runCLI(execArgs(s, 6, "--", "/nonexistent/job", "arg")...)
		if res.code != 127 || !strings.Contains(res.stderr, "/nonexistent/job") {
			t.Fatalf("exit %d, stderr %q; want 127 and the error", res.code, res.stderr)
		}
		tr := logTrail(t, s.Main, 6)
		if len(tr.reports) != 1 || tr.reports[0].State != "FAIL" || tr.reports[0].Code == nil ||
			*tr.reports[0].Code != 127 || !strings.Contains(tr.reports[0].Msg, "cannot start") {
			t.Errorf("reports %+v, want one FAIL with code 127", tr.reports)
		}
	})

	t.Run("TailZeroSendsNoOutput", func(t *testing.T) {
		s.MustDefine(pushOnly(7, time.Hour))
		res := runCLI(execArgs(s, 7, "--tail", "0", "--", "/bin/sh", "-c", "echo secret")...)
		if res.code != 0 {
			t.Fatalf("exit %d, want 0; stderr: %s", res.code, res.stderr)
		}
		if msg := mustOneRun(t, s.Main, 7, "OK", 0).Message; strings.Contains(msg, "secret") || strings.Contains(msg, ":") {
			t.Errorf("message %q, want only the exit code and duration", msg)
		}
	})

	t.Run("ServerDownExitsWithTheJobsCode", func(t *testing.T) {
		res := runCLI("exec", "--server", freeAddr(t), "--id", "8", "--retry-for", "0", "--",
			"/bin/sh", "-c", "echo ran; exit 3")
		if res.code != 3 || res.stdout != "ran\n" {
			t.Errorf("exit %d, stdout %q; want 3 and the job's output", res.code, res.stdout)
		}
		if strings.Count(res.stderr, "warning:") != 2 {
			t.Errorf("stderr %q, want a warning for START and for FAIL", res.stderr)
		}
	})

	t.Run("UsageErrors", func(t *testing.T) {
		for _, args := range [][]string{
			{"exec", "--server", s.TCPAddr, "--", "true"},
			{"exec", "--server", s.TCPAddr, "--id", "1"},
			{"exec", "--server", s.TCPAddr, "--id", "1", "--tail", "-1", "--", "true"},
		} {
			if res := runCLI(args...); res.code != 2 {
				t.Errorf("%q: exit %d, want 2", args, res.code)
			}
		}
	})
}

// TestExecServerDownAtStart starts exec while its server is down and
// brings the server up on that port while the job runs: START is retried
// and both reports are stored once.
func TestExecServerDownAtStart(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(1, time.Hour))
	s.MustClose()
	addr := freeAddr(t)
	dir := t.TempDir()
	// The job waits (boundedly) for the test to let it end.
	script := `i=0; while [ ! -e "$1/go" ] && [ $i -lt 800 ]; do sleep 0.025; i=$((i+1)); done; echo done`
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"exec", "--server", addr, "--id", "1", "--retry-for", "30s", "--",
			"/bin/sh", "-c", script, "sh", dir}, &stdout, &stderr)
	}()
	checkFor(t, 20*time.Second, pollStep, func() error {
		if !strings.Contains(stderr.String(), "START report not delivered yet") {
			return fmt.Errorf("no failed START attempt yet; stderr: %q", stderr.String())
		}
		return nil
	})
	m, err := Open(context.Background(), Config{
		Data: s.dir, TCP: addr, HTTP: "127.0.0.1:0",
		AdminPassword: "admin-pw", APIToken: testToken, Clock: s.clk, Stdout: io.Discard,
	})
	if err != nil {
		t.Fatalf("open on %s: %v", addr, err)
	}
	s.Main = m
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 || stdout.String() != "done\n" {
			t.Fatalf("exit %d, stdout %q; want 0 and the job's output; stderr: %s", code, stdout.String(), stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("exec did not end")
	}
	if strings.Contains(stderr.String(), "warning") {
		t.Errorf("stderr %q, want no report lost", stderr.String())
	}
	mustOneRun(t, m, 1, "OK", 0)
}

// TestExecForwardsSignals runs exec as a process of its own and sends it
// SIGTERM: the job, which traps it and goes on, gets it, and exec outlives
// it to report the job's own exit code.
func TestExecForwardsSignals(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(1, time.Hour))
	script := `trap 'echo got TERM; n=1' TERM; echo ready; n=0; i=0
while [ $n -eq 0 ] && [ $i -lt 400 ]; do sleep 0.025; i=$((i+1)); done
sleep 0.1; echo still here; exit 7`
	cmd := exec.Command(os.Args[0], "exec", "--server", s.TCPAddr, "--id", "1", "--",
		"/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Bounded: whatever happens, exec is gone within the minute.
	kill := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer kill.Stop()

	var lines []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == "ready" {
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatalf("signal exec: %v", err)
			}
		}
	}
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 7 {
		t.Fatalf("exec ended with %v (code %d), want exit 7", err, code)
	}
	if got := strings.Join(lines, "\n"); got != "ready\ngot TERM\nstill here" {
		t.Errorf("job output %q, want it to get TERM and go on", got)
	}
	mustOneRun(t, s.Main, 1, "FAIL", 7)
}

// TestReportAndExecCleanAlike sends one text through `report --msg` and
// as a line of exec's job: both store it cleaned the same way.
func TestReportAndExecCleanAlike(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(1, time.Hour))
	s.MustDefine(pushOnly(2, time.Hour))
	const text = "copied 3 files; 1 skipped\tdone"
	const want = "copied 3 files, 1 skipped done"

	if res := runCLI("report", "--server", s.TCPAddr, "--id", "1", "--state", "OK", "--msg", text); res.code != 0 {
		t.Fatalf("report: exit %d: %s", res.code, res.stderr)
	}
	if tr := logTrail(t, s.Main, 1); len(tr.reports) != 1 || tr.reports[0].Msg != want {
		t.Errorf("report stored %+v, want msg %q", tr.reports, want)
	}
	if res := runCLI(execArgs(s, 2, "--", "/bin/sh", "-c", `printf '%s\n' "$1"`, "sh", text)...); res.code != 0 {
		t.Fatalf("exec: exit %d: %s", res.code, res.stderr)
	}
	if msg := mustOneRun(t, s.Main, 2, "OK", 0).Message; !strings.HasSuffix(msg, ": "+want) {
		t.Errorf("exec stored msg %q, want it to end in %q", msg, want)
	}
}
