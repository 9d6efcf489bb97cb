//go:build unix

package jobexec_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/statesrv/statesrv/client"
	"github.com/statesrv/statesrv/client/jobexec"
)

// reportServer is a report port that stores every line and answers ACK.
type reportServer struct {
	addr  string
	mu    sync.Mutex
	lines []string
}

func startReportServer(t *testing.T) *reportServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &reportServer{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					s.mu.Lock()
					s.lines = append(s.lines, sc.Text())
					n := len(s.lines)
					s.mu.Unlock()
					fmt.Fprintf(c, "ACK %d\n", n)
				}
			}()
		}
	}()
	return s
}

func (s *reportServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name   string
		script string
		code   int
		stdout string
		end    []string // parts of the end report's line
	}{
		{"ExitZeroReportsOK", "echo hello; echo oops >&2", 0, "hello\n", []string{"state=OK", "code=0", "msg=exit 0 after ", "hello", "oops"}},
		{"ExitThreeReportsFAIL", "echo disk full; exit 3", 3, "disk full\n", []string{"state=FAIL", "code=3", ": disk full"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startReportServer(t)
			var stdout, stderr strings.Builder
			j := jobexec.Job{Server: s.addr, Report: client.Report{ID: 25, Name: "backup"}, Tail: jobexec.DefaultTail,
				Argv: []string{"/bin/sh", "-c", tt.script}, Stdout: &stdout, Stderr: &stderr}
			if code := j.Run(context.Background()); code != tt.code {
				t.Fatalf("Run = %d, want %d; stderr %q", code, tt.code, stderr.String())
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout %q, want the job's output passed through", stdout.String())
			}
			lines := s.received()
			if len(lines) != 2 || !strings.Contains(lines[0], "state=START") || !strings.Contains(lines[0], "#id=25") {
				t.Fatalf("reports %q, want START then the end", lines)
			}
			for _, part := range tt.end {
				if !strings.Contains(lines[1], part) {
					t.Errorf("end report %q lacks %q", lines[1], part)
				}
			}
		})
	}

	t.Run("NotFoundIs127", func(t *testing.T) {
		s := startReportServer(t)
		var stderr strings.Builder
		j := jobexec.Job{Server: s.addr, Report: client.Report{ID: 25}, Argv: []string{"/nonexistent/job"},
			Stdout: &strings.Builder{}, Stderr: &stderr}
		if code := j.Run(context.Background()); code != 127 {
			t.Fatalf("Run = %d, want 127", code)
		}
		if lines := s.received(); len(lines) != 1 || !strings.Contains(lines[0], "state=FAIL") ||
			!strings.Contains(lines[0], "cannot start") {
			t.Errorf("reports %q, want one FAIL", lines)
		}
	})
}

// TestRunKeepsOrder runs a job that alternates lines on stdout and stderr:
// when both go to one place, the output and the end report keep the order
// the job wrote them in.
func TestRunKeepsOrder(t *testing.T) {
	const pairs = 40
	script := `i=1; while [ $i -le ` + fmt.Sprint(pairs) + ` ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done`
	var want []string
	for i := 1; i <= pairs; i++ {
		want = append(want, fmt.Sprintf("out %d", i), fmt.Sprintf("err %d", i))
	}
	run := func(t *testing.T, stdout, stderr io.Writer) string {
		t.Helper()
		s := startReportServer(t)
		j := jobexec.Job{Server: s.addr, Report: client.Report{ID: 25}, Tail: 2 * pairs,
			Argv: []string{"/bin/sh", "-c", script}, Stdout: stdout, Stderr: stderr}
		if code := j.Run(context.Background()); code != 0 {
			t.Fatalf("Run = %d, want 0", code)
		}
		lines := s.received()
		if len(lines) != 2 {
			t.Fatalf("reports %q, want START and OK", lines)
		}
		return lines[1]
	}
	checkEnd := func(t *testing.T, end string) {
		t.Helper()
		if !strings.Contains(end, ": "+strings.Join(want, " | ")+";") {
			t.Errorf("end report %q, want the lines in the order written", end)
		}
	}

	t.Run("OneWriter", func(t *testing.T) {
		var out strings.Builder
		checkEnd(t, run(t, &out, &out))
		if got := out.String(); got != strings.Join(want, "\n")+"\n" {
			t.Errorf("output %q, want the lines in the order written", got)
		}
	})
	t.Run("OneFileOpenedTwice", func(t *testing.T) {
		name := filepath.Join(t.TempDir(), "job.log")
		open := func() *os.File {
			f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}
		checkEnd(t, run(t, open(), open()))
		if got, _ := os.ReadFile(name); string(got) != strings.Join(want, "\n")+"\n" {
			t.Errorf("file holds %q, want the lines in the order written", got)
		}
	})
	t.Run("TwoPlacesStaySeparate", func(t *testing.T) {
		var out, errOut strings.Builder
		run(t, &out, &errOut)
		if !strings.HasPrefix(out.String(), "out 1\nout 2\n") || !strings.HasPrefix(errOut.String(), "err 1\nerr 2\n") {
			t.Errorf("stdout %q, stderr %q; want each stream in its own place", out.String(), errOut.String())
		}
	})
}
