package client

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serverOptions choose how a reportServer answers.
type serverOptions struct {
	// replies bounds the replies the server gives in total, over all
	// connections; after that it reads on and stays silent. Negative means
	// no bound, zero a server that never replies.
	replies int64
	// closeAfterLine makes the server read one line and close the
	// connection without answering.
	closeAfterLine bool
	// record keeps every received line for the test to inspect.
	record bool
}

// reportServer is a report port on 127.0.0.1 that answers "ACK <n>" per
// line, with n counting from 1, and "ERR bad state" for lines that carry
// state=BAD.
type reportServer struct {
	opts serverOptions
	ln   net.Listener

	seq    atomic.Int64 // lines received, over all connections
	closed atomic.Int64 // connections that ended
	// firstLine is closed when the first line arrives.
	firstLine chan struct{}

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	lines []string

	wg sync.WaitGroup
}

// startServer starts a reportServer and stops it when the test ends.
func startServer(tb testing.TB, opts serverOptions) *reportServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s := &reportServer{opts: opts, ln: ln, conns: map[net.Conn]struct{}{}, firstLine: make(chan struct{})}
	s.wg.Go(s.accept)
	tb.Cleanup(s.stop)
	return s
}

func (s *reportServer) addr() string { return s.ln.Addr().String() }

func (s *reportServer) accept() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() { s.serve(conn) })
	}
}

func (s *reportServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	for conn := range s.conns {
		conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *reportServer) serve(conn net.Conn) {
	defer func() {
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		s.closed.Add(1)
	}()
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	var reply []byte
	for {
		// ReadSlice and a reused reply keep the server from allocating per
		// line, so that BenchmarkLoad measures the client.
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		n := s.seq.Add(1)
		if n == 1 {
			close(s.firstLine)
		}
		if s.opts.record {
			s.mu.Lock()
			s.lines = append(s.lines, string(line))
			s.mu.Unlock()
		}
		if s.opts.closeAfterLine {
			return
		}
		if s.opts.replies >= 0 && n > s.opts.replies {
			continue
		}
		if bytes.Contains(line, []byte("state=BAD")) {
			reply = append(reply[:0], "ERR bad state\n"...)
		} else {
			reply = strconv.AppendInt(append(reply[:0], "ACK "...), n, 10)
			reply = append(reply, '\n')
		}
		w.Write(reply)
		// Answer a pipelined batch with one write.
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}

// received returns a copy of the recorded lines.
func (s *reportServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// checkFor calls fn every poll until it returns true, failing the test once
// wait has passed.
func checkFor(tb testing.TB, wait, poll time.Duration, fn func() bool) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for !fn() {
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %v", wait)
		}
		time.Sleep(poll)
	}
}

// cancelOnceReceived calls cancel as soon as the server has received a
// line (or after about ten seconds), so that the client is cancelled while
// it waits for a reply.
func cancelOnceReceived(s *reportServer, cancel context.CancelFunc) {
	defer cancel()
	select {
	case <-s.firstLine:
	case <-time.After(10 * time.Second):
	}
}
