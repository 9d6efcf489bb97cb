package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fast is a retry policy for tests: short pauses, a bounded window.
func fast(window time.Duration) Retry {
	return Retry{For: window, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Attempt: 5 * time.Second}
}

// midOf returns the mid of a protocol line.
func midOf(line string) string {
	for kv := range strings.SplitSeq(line, ";") {
		if v, ok := strings.CutPrefix(kv, "mid="); ok {
			return v
		}
	}
	return ""
}

// serveOn runs a reportServer on ln and stops it when the test ends.
func serveOn(tb testing.TB, ln net.Listener, opts serverOptions) *reportServer {
	s := &reportServer{opts: opts, ln: ln, conns: map[net.Conn]struct{}{}, firstLine: make(chan struct{})}
	s.wg.Go(s.accept)
	tb.Cleanup(s.stop)
	return s
}

func TestSendRetry(t *testing.T) {
	t.Run("DownThenUpOnTheSamePort", func(t *testing.T) {
		addr := closedAddr(t)
		var failed atomic.Int32
		policy := fast(30 * time.Second)
		policy.OnRetry = func(int, error, time.Duration) { failed.Add(1) }
		type result struct {
			seq uint64
			err error
		}
		done := make(chan result, 1)
		go func() {
			seq, err := SendRetry(t.Context(), addr, Report{ID: 1, State: "START"}, policy)
			done <- result{seq, err}
		}()
		checkFor(t, 10*time.Second, time.Millisecond, func() bool { return failed.Load() >= 2 })
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", addr, err)
		}
		s := serveOn(t, ln, serverOptions{replies: -1, record: true})
		var res result
		select {
		case res = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("SendRetry did not return after the server came up")
		}
		if res.err != nil || res.seq != 1 {
			t.Fatalf("SendRetry = %d, %v; want 1, nil", res.seq, res.err)
		}
		got := s.received()
		if len(got) != 1 || midOf(got[0]) == "" {
			t.Errorf("server received %q, want one line with a mid", got)
		}
	})

	t.Run("LostReplyStoredOnce", func(t *testing.T) {
		s := startDedupServer(t, 1)
		seq, err := SendRetry(t.Context(), s.addr, Report{ID: 1, State: "OK"}, fast(10*time.Second))
		if err != nil || seq != 1 {
			t.Fatalf("SendRetry = %d, %v; want 1, nil", seq, err)
		}
		lines, stored := s.result()
		if len(lines) != 2 || midOf(lines[0]) == "" || midOf(lines[0]) != midOf(lines[1]) {
			t.Errorf("server received %q, want the same line with the same mid twice", lines)
		}
		if stored != 1 {
			t.Errorf("stored %d reports, want 1", stored)
		}
	})

	t.Run("KeepsTheGivenMID", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: -1, record: true})
		if _, err := SendRetry(t.Context(), s.addr(), Report{ID: 1, State: "OK", MID: "m-1"}, fast(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := s.received(); len(got) != 1 || midOf(got[0]) != "m-1" {
			t.Errorf("server received %q, want one line with mid=m-1", got)
		}
	})

	t.Run("ErrReplyIsFinal", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: -1, record: true})
		policy := fast(10 * time.Second)
		policy.OnRetry = func(n int, err error, _ time.Duration) { t.Errorf("retried attempt %d after %v", n, err) }
		_, err := SendRetry(t.Context(), s.addr(), Report{ID: 1, State: "BAD"}, policy)
		var replyErr *ReplyError
		if !errors.As(err, &replyErr) || replyErr.Reason != "bad state" {
			t.Fatalf("SendRetry error = %v, want ReplyError \"bad state\"", err)
		}
		if got := s.received(); len(got) != 1 {
			t.Errorf("server received %d lines, want 1", len(got))
		}
	})

	t.Run("ErrNoReplyGivesUpAfterFor", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: 0, record: true})
		policy := fast(300 * time.Millisecond)
		policy.Attempt = 50 * time.Millisecond
		_, err := SendRetry(t.Context(), s.addr(), Report{ID: 1, State: "OK"}, policy)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up after") {
			t.Fatalf("SendRetry error = %v, want a timeout after several attempts", err)
		}
		// Each attempt's line reaches the server's recorder on a goroutine
		// of its own, possibly after SendRetry has given up.
		var got []string
		for wait := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if got = s.received(); len(got) >= 2 || time.Now().After(wait) {
				break
			}
		}
		if len(got) < 2 {
			t.Fatalf("server received %d lines, want at least 2", len(got))
		}
		for _, line := range got {
			if midOf(line) != midOf(got[0]) || midOf(line) == "" {
				t.Errorf("attempts carry mids %q and %q, want one mid", midOf(got[0]), midOf(line))
			}
		}
	})

	t.Run("ForZeroMakesOneAttempt", func(t *testing.T) {
		policy := Retry{OnRetry: func(n int, err error, _ time.Duration) { t.Errorf("retried attempt %d after %v", n, err) }}
		if _, err := SendRetry(t.Context(), closedAddr(t), Report{ID: 1, State: "OK"}, policy); err == nil {
			t.Fatal("SendRetry to a closed port succeeded")
		}
	})

	t.Run("ErrCanceledStopsRetrying", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		policy := fast(time.Minute)
		policy.OnRetry = func(int, error, time.Duration) { cancel() }
		_, err := SendRetry(ctx, closedAddr(t), Report{ID: 1, State: "OK"}, policy)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("SendRetry error = %v, want context.Canceled", err)
		}
	})
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 2, time.Millisecond, 5 * time.Second} {
		for range 100 {
			if got := jitter(d); got < d/2 || got > d {
				t.Fatalf("jitter(%v) = %v, want between %v and %v", d, got, d/2, d)
			}
		}
	}
}

// dedupServer stores reports by mid, as the real server does, and loses the
// reply to the first lose lines: it closes the connection after storing.
type dedupServer struct {
	addr string

	mu     sync.Mutex
	lose   int
	lines  []string
	stored map[string]uint64
}

func startDedupServer(t *testing.T, lose int) *dedupServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &dedupServer{addr: ln.Addr().String(), lose: lose, stored: map[string]uint64{}}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(conn) })
		}
	})
	return s
}

func (s *dedupServer) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	line = strings.TrimRight(line, "\r\n")
	s.mu.Lock()
	s.lines = append(s.lines, line)
	seq, ok := s.stored[midOf(line)]
	if !ok {
		seq = uint64(len(s.stored) + 1)
		s.stored[midOf(line)] = seq
	}
	lose := s.lose > 0
	s.lose--
	s.mu.Unlock()
	if !lose {
		fmt.Fprintf(conn, "ACK %d\n", seq)
	}
}

func (s *dedupServer) result() (lines []string, stored int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...), len(s.stored)
}
