//go:build unix

package jobexec_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
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
