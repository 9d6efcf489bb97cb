package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LoadConfig describes one run of the load generator. Zero fields take
// their defaults.
type LoadConfig struct {
	Addr     string
	Conns    int           // connections, default 50
	Reports  int           // total reports across all connections, default 100000
	Window   int           // max unacknowledged lines in flight per connection, default 256
	ID       int64         // process id to report on, default 1
	State    string        // default "OK"
	Duration time.Duration // hard stop: the run ends after this even if not all reports were acknowledged (default 60s)
}

// Defaults of LoadConfig.
const (
	DefaultLoadConns    = 50
	DefaultLoadReports  = 100_000
	DefaultLoadWindow   = 256
	DefaultLoadDuration = 60 * time.Second
)

// withDefaults fills zero fields and refuses values that make no run.
func (c LoadConfig) withDefaults() (LoadConfig, error) {
	switch {
	case c.Addr == "":
		return c, errors.New("client: load: no server address")
	case c.Conns < 0, c.Reports < 0, c.Window < 0, c.ID < 0, c.Duration < 0:
		return c, errors.New("client: load: conns, reports, window, id and duration must not be negative")
	}
	if c.Conns == 0 {
		c.Conns = DefaultLoadConns
	}
	if c.Reports == 0 {
		c.Reports = DefaultLoadReports
	}
	if c.Window == 0 {
		c.Window = DefaultLoadWindow
	}
	if c.ID == 0 {
		c.ID = 1
	}
	if c.State == "" {
		c.State = "OK"
	}
	if c.Duration == 0 {
		c.Duration = DefaultLoadDuration
	}
	return c, nil
}

// LoadResult is what a load run measured.
type LoadResult struct {
	// Sent counts lines written to a connection, Acked the "ACK" replies.
	// Errors counts "ERR" replies plus connections that failed (could not
	// dial, or broke before all their replies came); a run ended by its
	// Duration or by its context is not a failure.
	Sent, Acked, Errors int
	Elapsed             time.Duration
	PerSecond           float64       // acknowledged reports per second
	P50, P90, P99, Max  time.Duration // ACK latency: from writing a line to reading its reply
	ErrorSample         string        // first ERR reply or I/O error seen, if any
}

// String formats a result for people: reports/s, acked, errors and the ACK
// latency percentiles, with the first error on a line of its own.
func (r LoadResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.0f reports/s in %v: sent %d, acked %d, errors %d; ACK latency p50 %v p90 %v p99 %v max %v",
		r.PerSecond, r.Elapsed.Round(time.Millisecond), r.Sent, r.Acked, r.Errors,
		roundLatency(r.P50), roundLatency(r.P90), roundLatency(r.P99), roundLatency(r.Max))
	if r.ErrorSample != "" {
		fmt.Fprintf(&b, "\nfirst error: %s", r.ErrorSample)
	}
	return b.String()
}

func roundLatency(d time.Duration) time.Duration {
	return d.Round(time.Microsecond)
}

// Load opens Conns connections to cfg.Addr and pipelines reports on each: a
// writer goroutine writes lines (buffered, flushing when the window is full
// or nothing more is to be written) while a reader reads the replies in
// order, keeping at most Window unacknowledged lines per connection. Reports
// are spread evenly over the connections; when there are fewer reports than
// connections, only as many connections are opened as there are reports.
//
// Each line is "#id=<ID>;state=<State>;name=load;msg=load <conn>-<n>", where
// <conn> is the connection's index and <n> the report's index on it, both
// counted from 0.
//
// Load stops by itself once every report is answered or Duration has passed,
// whichever comes first; neither is an error. A connection that fails ends
// alone; its unsent reports count as not sent and its error is noted in the
// result. Load returns an error for an invalid cfg, when ctx ends the run
// (with the result so far), and when no connection could be opened.
func Load(ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return LoadResult{}, err
	}
	// The clock starts before the deadline is set, so that a run cut by
	// Duration reports at least Duration.
	start := time.Now()
	runCtx, cancel := context.WithDeadline(ctx, start.Add(cfg.Duration))
	defer cancel()

	run := &loadRun{
		addr:   cfg.Addr,
		window: cfg.Window,
		prefix: []byte(Report{ID: cfg.ID, State: cfg.State, Name: "load"}.Line() + ";msg=load "),
	}
	// One slice holds every latency; each connection appends into its own
	// part, so recording costs no allocation and no lock.
	latencies := make([]time.Duration, cfg.Reports)
	conns := make([]loadConn, min(cfg.Conns, cfg.Reports))
	var wg sync.WaitGroup
	offset := 0
	for i := range conns {
		quota := cfg.Reports / len(conns)
		if i < cfg.Reports%len(conns) {
			quota++
		}
		c := &conns[i]
		c.index, c.quota = i, quota
		c.latencies = latencies[offset : offset : offset+quota]
		offset += quota
		wg.Go(func() { run.conn(runCtx, c) })
	}
	wg.Wait()
	elapsed := time.Since(start)

	res, dialFailures := run.result(conns, latencies, elapsed)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("client: load: %w", err)
	}
	if dialFailures == len(conns) {
		return res, fmt.Errorf("client: load: no connection to %s: %s", cfg.Addr, res.ErrorSample)
	}
	return res, nil
}

// loadRun is what the connections of one load run share.
type loadRun struct {
	addr   string
	window int
	prefix []byte // the line up to "<conn>-<n>"

	mu     sync.Mutex
	sample string // first ERR reply or I/O error
}

// loadConn is one connection's share of the run. The writer owns sent; the
// reader owns acked, errs and latencies; both are read after they finish.
type loadConn struct {
	index, quota int
	sent         int
	acked, errs  int
	latencies    []time.Duration
	dialFailed   bool
	failed       bool
}

func (r *loadRun) note(sample string) {
	r.mu.Lock()
	if r.sample == "" {
		r.sample = sample
	}
	r.mu.Unlock()
}

// conn runs one connection until its reports are answered, it fails or ctx
// ends the run.
func (r *loadRun) conn(ctx context.Context, c *loadConn) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		if ctx.Err() == nil {
			c.dialFailed, c.failed = true, true
			r.note(err.Error())
		}
		return
	}
	defer nc.Close()

	connCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A deadline in the past wakes a blocked write or read at once, whether
	// the run ended or the other half of this connection failed.
	stop := context.AfterFunc(connCtx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	// The channel is the window: a send takes a slot and carries the line's
	// send time, the reply's receive frees the slot and yields the time.
	inflight := make(chan time.Time, r.window)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.write(connCtx, nc, c, inflight); err != nil {
			cancel(err)
		}
	})
	if err := r.read(nc, c, inflight); err != nil {
		cancel(err)
	}
	wg.Wait()

	// An error that came before the run ended is this connection's failure;
	// errors caused by the end itself are not: they found connCtx already
	// done, which kept its cause the run's.
	if cause := context.Cause(connCtx); cause != nil && !errors.Is(cause, context.Cause(ctx)) {
		c.failed = true
		r.note(cause.Error())
	}
}

// flushSize bounds the write buffer when the window holds many lines.
const flushSize = 32 << 10

// write writes c.quota lines, flushing whenever the window is full and at the
// end. It returns nil when ctx ends it.
func (r *loadRun) write(ctx context.Context, nc net.Conn, c *loadConn, inflight chan<- time.Time) error {
	buf := make([]byte, 0, flushSize+256)
	pending := 0
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if _, err := nc.Write(buf); err != nil {
			return fmt.Errorf("client: load: write: %w", err)
		}
		c.sent += pending
		buf, pending = buf[:0], 0
		return nil
	}
	for n := range c.quota {
		select {
		case inflight <- time.Now():
		default:
			// The window is full: what is buffered must go out before
			// replies can free a slot.
			if err := flush(); err != nil {
				return err
			}
			select {
			case inflight <- time.Now():
			case <-ctx.Done():
				return nil
			}
		}
		buf = append(buf, r.prefix...)
		buf = strconv.AppendInt(buf, int64(c.index), 10)
		buf = append(buf, '-')
		buf = strconv.AppendInt(buf, int64(n), 10)
		buf = append(buf, '\n')
		pending++
		if len(buf) >= flushSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// read reads one reply per line until all of c.quota are answered.
func (r *loadRun) read(nc net.Conn, c *loadConn, inflight <-chan time.Time) error {
	br := bufio.NewReaderSize(nc, 32<<10)
	for got := 0; got < c.quota; got++ {
		line, err := br.ReadSlice('\n')
		switch {
		case err == io.EOF:
			return fmt.Errorf("client: load: read: %w (%d of %d replies read)", ErrNoReply, got, c.quota)
		case err == bufio.ErrBufferFull:
			return errors.New("client: load: read: reply line too long")
		case err != nil:
			return fmt.Errorf("client: load: read: %w", err)
		}
		// The line's slot was taken before the line was written, so it
		// is there by the time its reply arrives.
		var sentAt time.Time
		select {
		case sentAt = <-inflight:
		default:
			return fmt.Errorf("client: load: reply %q to no line", bytes.TrimRight(line, "\r\n"))
		}
		line = bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(line, ackPrefix) {
			c.latencies = append(c.latencies, time.Since(sentAt))
			c.acked++
			continue
		}
		if _, ok := isErrReply(line); ok {
			c.errs++
			r.note(string(line))
			continue
		}
		return fmt.Errorf("client: load: unexpected reply %q", line)
	}
	return nil
}

// result sums the connections and computes the latency percentiles. It also
// returns how many connections could not be opened.
func (r *loadRun) result(conns []loadConn, latencies []time.Duration, elapsed time.Duration) (LoadResult, int) {
	res := LoadResult{Elapsed: elapsed, ErrorSample: r.sample}
	dialFailures := 0
	n := 0
	for i := range conns {
		c := &conns[i]
		res.Sent += c.sent
		res.Acked += c.acked
		res.Errors += c.errs
		if c.failed {
			res.Errors++
		}
		if c.dialFailed {
			dialFailures++
		}
		// Each part starts at or after n, so moving it down is safe.
		n += copy(latencies[n:], c.latencies)
	}
	latencies = latencies[:n]
	slices.Sort(latencies)
	res.P50 = percentile(latencies, 0.50)
	res.P90 = percentile(latencies, 0.90)
	res.P99 = percentile(latencies, 0.99)
	res.Max = percentile(latencies, 1)
	if s := elapsed.Seconds(); s > 0 {
		res.PerSecond = float64(res.Acked) / s
	}
	return res, dialFailures
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 1) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
