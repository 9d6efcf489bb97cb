package tcp_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/commands/tcp"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// startServer serves cfg on 127.0.0.1:0 over a real log in a temporary
// directory, until the test ends.
func startServer(tb testing.TB, cfg tcp.Config) *tcp.Server {
	tb.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: tb.TempDir(), MinFreeBytes: -1})
	if err != nil {
		tb.Fatalf("open log: %v", err)
	}
	svc := commands.New(commands.Config{Log: l, Core: projections.NewCore()})
	cfg.Addr = "127.0.0.1:0"
	srv := tcp.New(cfg, svc)
	if err := srv.Listen(); err != nil {
		l.Close()
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	tb.Cleanup(func() {
		cancel()
		<-done
		l.Close()
	})
	return srv
}

// dialFrom connects to srv from the loopback address local.
func dialFrom(tb testing.TB, srv *tcp.Server, local string) net.Conn {
	tb.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		tb.Fatalf("dial from %s: %v", local, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// readReply reads one reply line within 5 s.
func readReply(tb testing.TB, c net.Conn, r *bufio.Reader) string {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := r.ReadString('\n')
	if err != nil {
		tb.Fatalf("read reply: %v (got %q)", err, line)
	}
	return strings.TrimSuffix(line, "\n")
}

const unknownReport = "#id=999;state=OK\n"

func TestConnectionsPerAddress(t *testing.T) {
	srv := startServer(t, tcp.Config{}) // the default: 256 from one address
	conns := make([]net.Conn, 256)
	readers := make([]*bufio.Reader, len(conns))
	for i := range conns {
		conns[i] = dialFrom(t, srv, "127.0.0.1")
		readers[i] = bufio.NewReader(conns[i])
		if _, err := io.WriteString(conns[i], unknownReport); err != nil {
			t.Fatal(err)
		}
	}
	for i := range conns {
		if got := readReply(t, conns[i], readers[i]); !strings.HasPrefix(got, "ACK ") {
			t.Fatalf("connection %d: %q, want ACK", i+1, got)
		}
	}

	t.Run("ErrTooManyFromAddress", func(t *testing.T) {
		c := dialFrom(t, srv, "127.0.0.1")
		r := bufio.NewReader(c)
		if got := readReply(t, c, r); got != "ERR too many connections from your address" {
			t.Fatalf("257th connection: %q", got)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("257th connection stays open: %v", err)
		}
	})
	t.Run("OtherAddressUnaffected", func(t *testing.T) {
		c := dialFrom(t, srv, "127.0.0.2")
		io.WriteString(c, unknownReport)
		if got := readReply(t, c, bufio.NewReader(c)); !strings.HasPrefix(got, "ACK ") {
			t.Fatalf("from 127.0.0.2: %q, want ACK", got)
		}
	})
	t.Run("SlotFreedOnClose", func(t *testing.T) {
		conns[0].Close()
		for try := 0; ; try++ {
			c := dialFrom(t, srv, "127.0.0.1")
			io.WriteString(c, unknownReport)
			got := readReply(t, c, bufio.NewReader(c))
			if strings.HasPrefix(got, "ACK ") {
				return
			}
			c.Close()
			if try == 100 {
				t.Fatalf("after a close: %q", got)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestBlankLinesDoNotKeepConnectionOpen(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv := startServer(t, tcp.Config{IdleTimeout: idle})
	c := dialFrom(t, srv, "127.0.0.1")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a blank line every 10 ms, until the server closes or 10 s
		for range 1000 {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := io.WriteString(c, " \r\n"); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	c.SetReadDeadline(start.Add(10 * time.Second))
	_, err := c.Read(make([]byte, 64))
	if err == nil {
		t.Fatal("the server answered a blank line")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("blank lines kept the connection open for 10 s (idle timeout %s)", idle)
	}
	t.Logf("closed after %s of blank lines (idle timeout %s)", time.Since(start).Round(time.Millisecond), idle)
}

func TestLineRenewsIdleTimeout(t *testing.T) {
	const idle = time.Second // wide: a loaded machine delays replies
	srv := startServer(t, tcp.Config{IdleTimeout: idle})
	c := dialFrom(t, srv, "127.0.0.1")
	r := bufio.NewReader(c)
	for range 4 { // 4 × 500 ms: longer than one idle timeout
		time.Sleep(idle / 2)
		io.WriteString(c, unknownReport)
		if got := readReply(t, c, r); !strings.HasPrefix(got, "ACK ") {
			t.Fatalf("reply %q, want ACK", got)
		}
	}
}

// BenchmarkIdleConnections measures the server's memory for 1,000 idle
// connections that each sent one report and took its reply: heap and
// goroutine stacks in use after a GC, less what was in use before they
// connected, per connection (the clients' side of the sockets, in the same
// process, is included).
func BenchmarkIdleConnections(b *testing.B) {
	const n = 1000
	for range b.N {
		srv := startServer(b, tcp.Config{MaxConnsPerIP: n})
		before := inUse()
		conns := make([]net.Conn, n)
		for i := range conns {
			conns[i] = dialFrom(b, srv, "127.0.0.1")
			io.WriteString(conns[i], unknownReport)
		}
		for _, c := range conns {
			readReply(b, c, bufio.NewReaderSize(c, 16))
		}
		after := inUse()
		b.ReportMetric(float64(after-before)/n, "bytes/conn")
		for _, c := range conns {
			c.Close()
		}
	}
}

func inUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// TestPipelinedClientOutlivesWriteTimeout keeps lines in flight without a
// pause for several write timeouts while taking every reply. The replies
// flush by themselves when the write buffer fills, with no moment of
// catching up; each such write must get a deadline of its own, or the
// client is dropped for being slow although it reads everything.
func TestPipelinedClientOutlivesWriteTimeout(t *testing.T) {
	const timeout = 25 * time.Millisecond
	srv := startServer(t, tcp.Config{WriteTimeout: timeout})
	c := dialFrom(t, srv, "127.0.0.1")
	r := bufio.NewReader(c)
	// One line answered: the writer has caught up once, so a deadline is set.
	io.WriteString(c, unknownReport)
	if got := readReply(t, c, r); !strings.HasPrefix(got, "ACK ") {
		t.Fatalf("reply %q, want ACK", got)
	}
	sent := make(chan int, 1)
	go func() {
		n := 0
		line := []byte(strings.Repeat(unknownReport, 64))
		for start := time.Now(); time.Since(start) < 60*timeout; n += 64 {
			if _, err := c.Write(line); err != nil {
				break
			}
		}
		sent <- n
	}()
	acks := 0
	var n int
	for got := false; ; {
		if !got {
			select {
			case n = <-sent:
				got = true
			default:
			}
		}
		if got && acks == n {
			break
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d replies: %v; the server dropped a client that read every reply", acks, err)
		}
		if !strings.HasPrefix(line, "ACK ") {
			t.Fatalf("reply %q, want ACK", line)
		}
		acks++
	}
	if acks < 1000 {
		t.Fatalf("only %d lines went through in %s: the test did not keep replies owed", acks, 60*timeout)
	}
	t.Logf("%d pipelined lines answered over %s with a write timeout of %s", acks, 60*timeout, timeout)
}
