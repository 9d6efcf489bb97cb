package tcp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// Reporter takes parsed reports; *commands.Service is one.
type Reporter interface {
	Report(rep commands.Report) *commands.Receipt
	Reject(rep commands.Report, err error) *commands.Receipt
}

// Config sets the server's limits; zero fields take the defaults.
type Config struct {
	Addr     string
	MaxConns int // default 10,000
	// MaxConnsPerIP bounds the connections of one remote address; a further
	// one is answered "ERR too many connections from your address". Default 256.
	MaxConnsPerIP int
	MaxLine       int           // default 4,096 bytes
	IdleTimeout   time.Duration // default 5 minutes
	WriteTimeout  time.Duration // a client that stops reading replies is dropped after this; default 30s
	Window        int           // lines in flight per connection before reading pauses; default 1,024
	// ShutdownTimeout bounds how long Serve waits for connections to finish
	// their in-flight lines; default 10s.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
	// Observe, when set, is told of every reply: its result ("ack" or
	// "err") and the time from reading the line to writing the reply to
	// the socket. It is called from the connection's writer and must not
	// block.
	Observe func(result string, latency time.Duration)
}

func (c *Config) defaults() {
	if c.MaxConns <= 0 {
		c.MaxConns = 10000
	}
	if c.MaxConnsPerIP <= 0 {
		c.MaxConnsPerIP = 256
	}
	if c.MaxLine <= 0 {
		c.MaxLine = 4096
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.Window <= 0 {
		c.Window = 1024
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server accepts report connections: each line is parsed, handed to the
// Reporter, and answered in order once its events are durable. Lines of one
// connection are pipelined: the reader goes on parsing while earlier lines
// wait for their group commit.
type Server struct {
	cfg Config
	rep Reporter
	ln  net.Listener

	conns  sync.WaitGroup
	active atomic.Int64
	mu     sync.Mutex
	open   map[net.Conn]struct{}
	perIP  map[string]int // open connections by remote address
	// writers lends write buffers to connections that owe replies.
	writers writerPool
	// stopping is set once shutdown began: readers then only drain what
	// their client has already sent, until drainEnd at the latest (set
	// before stopping, read only after it is seen).
	stopping atomic.Bool
	drainEnd time.Time
}

// drainQuiet is how long a reader waits for more of what its client sent
// before shutdown, once shutdown began: bytes already received are read
// and answered, and the reader stops when the client falls quiet (or at
// drainEnd, half the ShutdownTimeout, for a client that never does).
const drainQuiet = 100 * time.Millisecond

// drainDeadline is the read deadline of a reader once shutdown began.
func (s *Server) drainDeadline() time.Time {
	if t := time.Now().Add(drainQuiet); t.Before(s.drainEnd) {
		return t
	}
	return s.drainEnd
}

// New returns a server; call Listen and then Serve.
func New(cfg Config, rep Reporter) *Server {
	cfg.defaults()
	return &Server{cfg: cfg, rep: rep, open: map[net.Conn]struct{}{}, perIP: map[string]int{}}
}

// Listen binds the configured address.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("tcp: listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until ctx ends, then stops reading, answers the
// lines already read, and returns when every connection has closed (or
// ShutdownTimeout passed, after which the rest are closed).
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		s.ln.Close()
	}()
	backoff := 5 * time.Millisecond
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				s.cfg.Logger.Warn("tcp: accept", "error", err, "backoff", backoff)
				time.Sleep(backoff)
				backoff = min(backoff*2, time.Second)
				continue
			}
			return fmt.Errorf("tcp: accept: %w", err)
		}
		backoff = 5 * time.Millisecond
		if s.active.Add(1) > int64(s.cfg.MaxConns) {
			s.active.Add(-1)
			refuse(c, "ERR too many connections\n")
			continue
		}
		ip := remoteIP(c)
		if !s.track(c, ip, true) {
			s.active.Add(-1)
			refuse(c, "ERR too many connections from your address\n")
			continue
		}
		s.conns.Go(func() { s.handle(c, ip) })
	}
	s.stopReading()
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.ShutdownTimeout):
		s.closeAll()
		<-done
	}
	return nil
}

// refuse answers a connection that is over a limit and closes it.
func refuse(c net.Conn, text string) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(c, text)
	c.Close()
}

// remoteIP is the address a connection comes from, without its port.
func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// track adds c to the open connections, or removes it. Adding reports false,
// and adds nothing, when ip already has MaxConnsPerIP connections open.
func (s *Server) track(c net.Conn, ip string, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.open, c)
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		return true
	}
	if s.perIP[ip] >= s.cfg.MaxConnsPerIP {
		return false
	}
	s.perIP[ip]++
	s.open[c] = struct{}{}
	return true
}

// stopReading makes every connection's reader return once it has read what
// its client already sent, so that those lines are answered. (A deadline of
// now would drop bytes already received, and closing a socket with unread
// bytes resets it, which can destroy replies already written.)
func (s *Server) stopReading() {
	s.drainEnd = time.Now().Add(s.cfg.ShutdownTimeout / 2)
	s.stopping.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.open {
		c.SetReadDeadline(s.drainDeadline())
	}
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.open {
		c.Close()
	}
}

// reply is one answer owed to the client, in line order.
type reply struct {
	receipt *commands.Receipt
	text    string    // a reply known without a decision
	read    time.Time // when its line was read
}

func (s *Server) handle(c net.Conn, ip string) {
	defer s.active.Add(-1)
	defer s.track(c, ip, false)
	defer c.Close()
	remote := c.RemoteAddr().String()
	replies := newReplyQueue(s.cfg.Window)
	go s.read(c, remote, replies)
	s.write(c, remote, replies)
}

// read parses lines and queues their receipts until the connection ends.
// Only a line with content renews the idle deadline: blank lines do not
// keep a connection open.
func (s *Server) read(c net.Conn, remote string, replies *replyQueue) {
	defer replies.close()
	lr := NewLineReader(c, s.cfg.MaxLine)
	idle := time.Now().Add(s.cfg.IdleTimeout)
	for {
		c.SetReadDeadline(idle)
		if s.stopping.Load() {
			// Checked after setting the idle deadline, so that it never
			// replaces the one stopReading set.
			c.SetReadDeadline(s.drainDeadline())
		}
		line, err := lr.ReadLine()
		if errors.Is(err, ErrLineTooLong) {
			idle = time.Now().Add(s.cfg.IdleTimeout)
			replies.push(reply{text: "ERR line too long", read: idle})
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.cfg.Logger.Debug("tcp: connection ends", "remote", remote, "error", err)
			}
			return
		}
		if len(bytes.Trim(line, " \t")) == 0 {
			continue // blank: no reply (SPEC §3), and no more idle time
		}
		read := time.Now()
		idle = read.Add(s.cfg.IdleTimeout)
		rep, perr := commands.ParseLine(string(line))
		rep.Transport, rep.Remote = "tcp", remote
		if perr != nil {
			replies.push(reply{receipt: s.rep.Reject(rep, perr), read: read})
		} else {
			replies.push(reply{receipt: s.rep.Report(rep), read: read})
		}
	}
}

// write answers each line in order, flushing whenever it has caught up
// with the reader. A client that does not take its replies within
// WriteTimeout is disconnected; the remaining receipts are still awaited so
// the reader is never left blocked.
//
// The write buffer is taken from a pool while replies are owed and given
// back once they are flushed, so that an idle connection holds none.
func (s *Server) write(c net.Conn, remote string, replies *replyQueue) {
	var w *bufio.Writer
	var buf []byte
	var unflushed observations
	broken := false
	for {
		r, ok := replies.pop()
		if !ok {
			break
		}
		buf = append(buf[:0], r.text...)
		if r.receipt != nil {
			seq, err := r.receipt.Wait(context.Background())
			if err != nil {
				buf = append(append(buf, "ERR "...), statesrv.ErrorMessage(err)...)
			} else {
				buf = strconv.AppendUint(append(buf, "ACK "...), seq, 10)
			}
		}
		if s.cfg.Observe != nil {
			unflushed = append(unflushed, observation{ack: bytes.HasPrefix(buf, []byte("ACK")), read: r.read})
		}
		if broken {
			unflushed = unflushed.report(s.cfg.Observe)
			continue
		}
		if w == nil {
			w = s.writers.get(c)
		}
		buf = append(buf, '\n')
		if w.Available() < len(buf) {
			// This write flushes the buffer by itself, while replies are
			// still owed: it gets a deadline of its own, as a flush does.
			c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		}
		_, err := w.Write(buf)
		caughtUp := replies.pending() == 0
		if err == nil && caughtUp {
			c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			err = w.Flush()
		}
		if err != nil {
			s.cfg.Logger.Debug("tcp: write failed; dropping client", "remote", remote, "error", err)
			broken = true
			c.Close()
		}
		if err != nil || caughtUp {
			s.writers.put(w)
			w = nil
			unflushed = unflushed.report(s.cfg.Observe)
		}
	}
	if w != nil {
		if !broken {
			c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			w.Flush()
		}
		s.writers.put(w)
	}
	unflushed.report(s.cfg.Observe)
}

// observation is a reply buffered for the client, told to Config.Observe
// once it is flushed.
type observation struct {
	ack  bool
	read time.Time
}

type observations []observation

// report tells observe of every reply in o and returns o emptied.
func (o observations) report(observe func(string, time.Duration)) observations {
	if observe == nil || len(o) == 0 {
		return o[:0]
	}
	now := time.Now()
	for _, ob := range o {
		result := "err"
		if ob.ack {
			result = "ack"
		}
		observe(result, now.Sub(ob.read))
	}
	return o[:0]
}

// Close closes the listener of a server that will not Serve.
func (s *Server) Close() error { return s.ln.Close() }
