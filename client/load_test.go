package client

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runLoad runs Load in the background and fails the test if it has not
// returned within a generous bound, so that a hang fails instead of
// blocking the test binary.
func runLoad(t *testing.T, ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	t.Helper()
	type outcome struct {
		res LoadResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := Load(ctx, cfg)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(30 * time.Second):
		t.Fatal("Load did not return within 30s")
		return LoadResult{}, nil
	}
}

var loadLine = regexp.MustCompile(`^#id=7;state=OK;name=load;msg=load (\d+)-(\d+)$`)

func TestLoad(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: -1, record: true})
		const conns, reports = 7, 1000
		res, err := runLoad(t, t.Context(), LoadConfig{Addr: s.addr(), Conns: conns, Reports: reports, Window: 8, ID: 7})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if res.Sent != reports || res.Acked != reports || res.Errors != 0 || res.ErrorSample != "" {
			t.Errorf("result = %+v, want %d sent and acked, no errors", res, reports)
		}
		if !(0 < res.Max && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) {
			t.Errorf("latencies p50 %v p90 %v p99 %v max %v are not ordered", res.P50, res.P90, res.P99, res.Max)
		}
		if res.PerSecond <= 0 || res.Elapsed <= 0 {
			t.Errorf("PerSecond = %v, Elapsed = %v; want both positive", res.PerSecond, res.Elapsed)
		}

		// Every connection sent its share, each report once and in order.
		lines := s.received()
		if len(lines) != reports {
			t.Fatalf("server received %d lines, want %d", len(lines), reports)
		}
		next := make([]int, conns)
		for _, line := range lines {
			m := loadLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("line %q does not have the load format", line)
			}
			c, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			if c >= conns || n != next[c] {
				t.Fatalf("line %q out of order: want report %d on connection %d", line, next[min(c, conns-1)], c)
			}
			next[c]++
		}
		for c, n := range next {
			if want := reports/conns + btoi(c < reports%conns); n != want {
				t.Errorf("connection %d sent %d reports, want %d", c, n, want)
			}
		}
	})
	t.Run("FewerReportsThanConns", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: -1})
		res, err := runLoad(t, t.Context(), LoadConfig{Addr: s.addr(), Conns: 10, Reports: 3})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if res.Sent != 3 || res.Acked != 3 {
			t.Errorf("result = %+v, want 3 sent and acked", res)
		}
	})
	t.Run("ErrReplies", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: -1})
		res, err := runLoad(t, t.Context(), LoadConfig{Addr: s.addr(), Conns: 2, Reports: 100, State: "BAD"})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if res.Sent != 100 || res.Acked != 0 || res.Errors != 100 || res.ErrorSample != "ERR bad state" {
			t.Errorf("result = %+v, want 100 sent, 100 errors, sample \"ERR bad state\"", res)
		}
		if res.Max != 0 {
			t.Errorf("Max = %v, want 0: refusals are no ACK latency", res.Max)
		}
	})
	t.Run("StopsAtDuration", func(t *testing.T) {
		const replies, window, conns = 10, 16, 2
		s := startServer(t, serverOptions{replies: replies})
		dur := 300 * time.Millisecond
		res, err := runLoad(t, t.Context(), LoadConfig{Addr: s.addr(), Conns: conns, Reports: 1000, Window: window, Duration: dur})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if res.Acked > replies || res.Sent > res.Acked+conns*window {
			t.Errorf("result = %+v, want at most %d acked and %d in flight per connection", res, replies, window)
		}
		if res.Errors != 0 {
			t.Errorf("Errors = %d (%s), want 0: the end of the run is no failure", res.Errors, res.ErrorSample)
		}
		if res.Elapsed < dur {
			t.Errorf("Elapsed = %v, want at least the Duration %v", res.Elapsed, dur)
		}
	})
	t.Run("WindowBoundsLinesInFlight", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: 0})
		res, err := runLoad(t, t.Context(), LoadConfig{Addr: s.addr(), Conns: 1, Reports: 100, Window: 5, Duration: 200 * time.Millisecond})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		// The connection is closed now; once the server has read to its end
		// it has seen everything that was sent.
		checkFor(t, 10*time.Second, time.Millisecond, func() bool { return s.closed.Load() == 1 })
		if got := s.seq.Load(); got != 5 || res.Sent != 5 || res.Acked != 0 {
			t.Errorf("server received %d lines, result %+v; want 5 sent, none acked", got, res)
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: 0})
		ctx, cancel := context.WithCancel(t.Context())
		go cancelOnceReceived(s, cancel)
		_, err := runLoad(t, ctx, LoadConfig{Addr: s.addr(), Conns: 3, Reports: 100})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Load error = %v, want context.Canceled", err)
		}
	})
	t.Run("ErrNoReply", func(t *testing.T) {
		s := startServer(t, serverOptions{closeAfterLine: true})
		res, err := runLoad(t, t.Context(), LoadConfig{Addr: s.addr(), Conns: 2, Reports: 10})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		// Each connection breaks: by end of stream, or by a reset when the
		// server closed with lines still unread.
		if res.Acked != 0 || res.Errors != 2 || res.ErrorSample == "" {
			t.Errorf("result = %+v, want 2 failed connections with no reply", res)
		}
	})
	t.Run("ErrNoServer", func(t *testing.T) {
		res, err := runLoad(t, t.Context(), LoadConfig{Addr: closedAddr(t), Conns: 3, Reports: 10})
		if err == nil {
			t.Fatal("Load against a closed port returned no error")
		}
		if res.Sent != 0 || res.Errors != 3 || res.ErrorSample == "" {
			t.Errorf("result = %+v, want nothing sent and 3 failed connections", res)
		}
	})
	t.Run("ErrConfig", func(t *testing.T) {
		for _, cfg := range []LoadConfig{{}, {Addr: "x:1", Conns: -1}, {Addr: "x:1", Duration: -time.Second}} {
			if _, err := Load(t.Context(), cfg); err == nil {
				t.Errorf("Load(%+v) returned no error", cfg)
			}
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLoadConfigDefaults(t *testing.T) {
	got, err := LoadConfig{Addr: "x:1"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := LoadConfig{Addr: "x:1", Conns: 50, Reports: 100_000, Window: 256, ID: 1, State: "OK", Duration: 60 * time.Second}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		d := make([]time.Duration, len(ns))
		for i, n := range ns {
			d[i] = time.Duration(n) * time.Millisecond
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tt := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(5), 0.5, 5 * time.Millisecond},
		{ms(5), 1, 5 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(hundred...), 0.5, 50 * time.Millisecond},
		{ms(hundred...), 0.9, 90 * time.Millisecond},
		{ms(hundred...), 0.99, 99 * time.Millisecond},
		{ms(hundred...), 1, 100 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%d/%v", len(tt.sorted), tt.p), func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

func TestLoadResultString(t *testing.T) {
	r := LoadResult{
		Sent: 1000, Acked: 990, Errors: 10, Elapsed: 2 * time.Second, PerSecond: 495,
		P50: 1200 * time.Microsecond, P90: 3 * time.Millisecond, P99: 7 * time.Millisecond, Max: 12 * time.Millisecond,
		ErrorSample: "ERR bad state",
	}
	got := r.String()
	for _, want := range []string{"495 reports/s", "acked 990", "errors 10", "p50 1.2ms", "p90 3ms", "p99 7ms", "max 12ms", "first error: ERR bad state"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %q, missing %q", got, want)
		}
	}
	if strings.Contains(LoadResult{}.String(), "first error") {
		t.Error("String() of a clean result mentions an error")
	}
}

func BenchmarkLoad(b *testing.B) {
	s := startServer(b, serverOptions{replies: -1})
	cfg := LoadConfig{Addr: s.addr(), Conns: 8, Reports: 20_000}
	acked := 0
	b.ReportAllocs()
	for b.Loop() {
		res, err := Load(b.Context(), cfg)
		if err != nil || res.Acked != cfg.Reports {
			b.Fatalf("Load = %+v, %v", res, err)
		}
		acked += res.Acked
	}
	b.ReportMetric(float64(acked)/b.Elapsed().Seconds(), "reports/s")
}
