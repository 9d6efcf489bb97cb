package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// t0 is where the fake clock starts: on a whole minute, so that cron
// schedules fire at round offsets from it.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// fataler is what the helpers need of a *testing.T or a *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// server is one server's storage and write side, opened over two
// directories the way cmd/statesrv opens them: log, views, runner caught up,
// then the Service's Core from the stored views and the log's tail.
type server struct {
	tb       fataler
	clock    *clock.Fake
	logDir   string
	viewsDir string

	Log     *eventlog.Badger
	Store   *projections.Store
	Runner  *projections.Runner
	Service *commands.Service

	// ClockSkew, when set before open, is the Service's clock-skew
	// tolerance (SPEC §9); without it the rule is off.
	ClockSkew time.Duration
	// Background, when set before open, runs the runner's loop beside the
	// explicit catch-ups, as the server does.
	Background bool
	// FreeBytes, when set before open, measures the disk of both stores
	// (a test fills it); without it there is no head-room check.
	FreeBytes func(dir string) (int64, error)
	stop      context.CancelFunc
	stopped   chan error
}

// newServer opens a server in two temp dirs with a fake clock at t0; it is
// closed when the test ends.
func newServer(t *testing.T) *server {
	t.Helper()
	s := openServer(t, clock.NewFake(t0), t.TempDir(), t.TempDir())
	t.Cleanup(s.Close)
	return s
}

// openServer opens (or reopens) the server kept in logDir and viewsDir.
func openServer(tb fataler, clk *clock.Fake, logDir, viewsDir string) *server {
	tb.Helper()
	s := &server{tb: tb, clock: clk, logDir: logDir, viewsDir: viewsDir}
	s.open()
	return s
}

func (s *server) open() {
	s.tb.Helper()
	ctx := context.Background()
	minFree := int64(-1)
	if s.FreeBytes != nil {
		minFree = 0 // the default head-room
	}
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: s.logDir, Now: s.clock.Now, MinFreeBytes: minFree,
		FreeBytes: s.FreeBytes, TypeCodes: statesrv.EventTypeCodes(), Payloads: statesrv.Payloads{}})
	if err != nil {
		s.tb.Fatalf("open log: %v", err)
	}
	store, err := projections.OpenStoreWith(projections.StoreOptions{Dir: s.viewsDir, FreeBytes: s.FreeBytes})
	if err != nil {
		l.Close()
		s.tb.Fatalf("open store: %v", err)
	}
	s.Log, s.Store = l, store
	if s.Runner, err = projections.NewRunner(l, store, nil); err != nil {
		s.Close()
		s.tb.Fatalf("new runner: %v", err)
	}
	if _, err := s.Runner.CatchUp(ctx); err != nil {
		s.Close()
		s.tb.Fatalf("runner catch-up: %v", err)
	}
	load := commands.Load(store, l)
	core, err := load(ctx)
	if err != nil {
		s.Close()
		s.tb.Fatalf("load the core: %v", err)
	}
	s.Service = commands.New(commands.Config{
		Log: l, Clock: s.clock, Core: core,
		Unprocessed: store.UnprocessedMessage,
		FinishedRun: store.FinishedRun,
		ClockSkew:   s.ClockSkew,
		Reload:      load,
	})
	if s.Background {
		ctx, stop := context.WithCancel(context.Background())
		s.stop, s.stopped = stop, make(chan error, 1)
		runner := s.Runner
		go func() { s.stopped <- runner.Run(ctx) }()
	}
}

// Close closes the views and the log; it may be called more than once.
func (s *server) Close() {
	if s.stop != nil {
		s.stop()
		err := <-s.stopped
		s.stop = nil
		if err != nil {
			s.tb.Fatalf("runner loop: %v", err)
		}
	}
	if s.Store != nil {
		s.Store.Close()
		s.Store = nil
	}
	if s.Log != nil {
		s.Log.Close()
		s.Log = nil
	}
	s.Runner, s.Service = nil, nil
}

// Restart closes everything and opens it again on the same directories, as
// a server stopped and started again at the clock's current time.
func (s *server) Restart() {
	s.tb.Helper()
	s.Close()
	s.open()
}

// wait returns the receipt's seq once durable.
func (s *server) wait(r *commands.Receipt) (uint64, error) {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seq, err := r.Wait(ctx)
	if ctx.Err() != nil {
		s.tb.Fatalf("receipt not resolved: %v", err)
	}
	return seq, err
}

// CatchUp brings the runner's views to the end of the log.
func (s *server) CatchUp() {
	s.tb.Helper()
	if _, err := s.Runner.CatchUp(context.Background()); err != nil {
		s.tb.Fatalf("runner catch-up: %v", err)
	}
}

// MustDefine defines p and returns the seq of its event (0 if nothing was
// appended).
func (s *server) MustDefine(p statesrv.Process) uint64 {
	s.tb.Helper()
	r, err := s.Service.DefineProcess(p, statesrv.ActorAdmin)
	if err != nil {
		s.tb.Fatalf("define %d: %v", p.ID, err)
	}
	seq, err := s.wait(r)
	if err != nil {
		s.tb.Fatalf("define %d: %v", p.ID, err)
	}
	s.CatchUp()
	return seq
}

// MustStart opens a run of process id now and returns it.
func (s *server) MustStart(id int64) statesrv.Run {
	s.tb.Helper()
	r, err := s.Service.StartRun(id, statesrv.ActorCLI)
	if err != nil {
		s.tb.Fatalf("start %d: %v", id, err)
	}
	if _, err := s.wait(r); err != nil {
		s.tb.Fatalf("start %d: %v", id, err)
	}
	s.CatchUp()
	return *r.Run()
}

// Report takes rep and returns the receipt's seq and error, with the views
// caught up.
func (s *server) Report(rep commands.Report) (uint64, error) {
	s.tb.Helper()
	seq, err := s.wait(s.Service.Report(rep))
	s.CatchUp()
	return seq, err
}

// Tick runs the scheduler at the clock's time and returns the seq of its
// append (0 when nothing was due).
func (s *server) Tick() uint64 {
	s.tb.Helper()
	r, _ := s.Service.Tick()
	if r == nil {
		return 0
	}
	seq, err := s.wait(r)
	if err != nil {
		s.tb.Fatalf("tick: %v", err)
	}
	s.CatchUp()
	return seq
}

// Events returns every event of the log from seq from on.
func (s *server) Events(from uint64) []eventlog.Event {
	s.tb.Helper()
	var out []eventlog.Event
	for e, err := range s.Log.Range(context.Background(), from, 0) {
		if err != nil {
			s.tb.Fatalf("read log: %v", err)
		}
		c := *e
		c.Data = append(json.RawMessage(nil), e.Data...)
		out = append(out, c)
	}
	return out
}

// RunnerOpenRuns returns the runner's open runs.
func (s *server) RunnerOpenRuns() []statesrv.Run {
	var runs []statesrv.Run
	s.Runner.View(func(c *projections.Core) { runs = c.AllOpenRuns() })
	return runs
}

// report returns a well-formed TCP report of process id.
func report(id int64, state string) commands.Report {
	return commands.Report{ProcessID: id, State: state, Transport: "tcp", Remote: "127.0.0.1:1",
		Line: fmt.Sprintf("#id=%d;state=%s", id, state)}
}

// withRun, withMID and withKey add a field to a report and its line.
func withRun(rep commands.Report, run string) commands.Report {
	rep.Run, rep.Line = run, rep.Line+";run="+run
	return rep
}

func withMID(rep commands.Report, mid string) commands.Report {
	rep.MID, rep.Line = mid, rep.Line+";mid="+mid
	return rep
}

// withKey adds a key; the line has it redacted, as ParseLine does.
func withKey(rep commands.Report, key string) commands.Report {
	rep.Key, rep.Line = key, rep.Line+";key=***"
	return rep
}

// process returns an enabled definition with a one-minute max_runtime.
func process(id int64, sched string) statesrv.Process {
	return statesrv.Process{ID: id, Name: fmt.Sprintf("job%d", id), Schedule: sched,
		MaxRuntime: statesrv.Duration(time.Minute), Enabled: true}
}

// types returns the types of evs.
func types(evs []eventlog.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// ofType returns the events of evs of type typ.
func ofType(evs []eventlog.Event, typ string) []eventlog.Event {
	var out []eventlog.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// payload decodes the data of e into a T.
func payload[T any](tb fataler, e eventlog.Event) T {
	tb.Helper()
	var v T
	if err := statesrv.DecodePayload(e.Type, e.Time, e.Data, &v); err != nil {
		tb.Fatalf("decode %s %d: %v", e.Type, e.Seq, err)
	}
	return v
}

// TestReportMatching drives the rules of SPEC §4 by which a report closes,
// opens or attaches to a run, or stays unprocessed.
func TestReportMatching(t *testing.T) {
	const (
		closes   = "closes"   // RunFinished of runs[run]
		attaches = "attaches" // RunAttached to runs[run]
		opens    = "opens"    // a new run (RunStarted, then RunFinished for OK/FAIL)
		refused  = "refused"  // MessageRejected
		stays    = "stays"    // MessageUnprocessed
	)
	// startTwo opens two manual runs of process 1, a second apart.
	startTwo := func(s *server) []string {
		a := s.MustStart(1)
		s.clock.Advance(time.Second)
		b := s.MustStart(1)
		s.clock.Advance(time.Second)
		return []string{a.ID, b.ID}
	}
	// fireOne opens a scheduled run of a "*/10 * * * * *" process.
	fireOne := func(s *server) []string {
		s.clock.Advance(10 * time.Second)
		s.Tick()
		runs := s.RunnerOpenRuns()
		if len(runs) != 1 || runs[0].Source != statesrv.SourceSchedule {
			s.tb.Fatalf("open runs after a fire = %+v", runs)
		}
		return []string{runs[0].ID}
	}
	// timeOutOne opens a manual run and lets it pass its deadline.
	timeOutOne := func(s *server) []string {
		r := s.MustStart(1)
		s.clock.Advance(2 * time.Minute)
		s.Tick()
		return []string{r.ID}
	}
	tests := []struct {
		name     string
		schedule string // of process 1; "" is push-only
		key      string // of process 1
		setup    func(s *server) []string
		rep      func(runs []string) commands.Report
		want     string
		run      int // index into runs of the run closed, attached or late
		types    []string
		reason   string // for stays and refused
	}{
		{name: "OKClosesOldestOpenRun", setup: startTwo,
			rep: func([]string) commands.Report { return report(1, "OK") }, want: closes, run: 0,
			types: []string{"MessageReceived", "RunFinished"}},
		{name: "FAILClosesOldestOpenRun", schedule: "0 * * * *", setup: startTwo,
			rep: func([]string) commands.Report { return report(1, "FAIL") }, want: closes, run: 0,
			types: []string{"MessageReceived", "RunFinished"}},
		{name: "RunNamesNewerRun", setup: startTwo,
			rep: func(runs []string) commands.Report { return withRun(report(1, "OK"), runs[1]) }, want: closes, run: 1,
			types: []string{"MessageReceived", "RunFinished"}},
		{name: "RunNamesUnknownRun", setup: startTwo,
			rep: func([]string) commands.Report { return withRun(report(1, "OK"), "nope") }, want: stays,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonNoOpenRun},
		{name: "RunOfAnotherProcess", setup: func(s *server) []string {
			s.MustDefine(process(2, ""))
			return []string{s.MustStart(2).ID}
		}, rep: func(runs []string) commands.Report { return withRun(report(1, "OK"), runs[0]) }, want: stays,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonNoOpenRun},
		{name: "PushOnlyTakesReportAsInstantRun",
			rep: func([]string) commands.Report { return report(1, "OK") }, want: opens,
			types: []string{"MessageReceived", "RunStarted", "RunFinished"}},
		{name: "PushOnlyFAILAsInstantRun",
			rep: func([]string) commands.Report { return report(1, "FAIL") }, want: opens,
			types: []string{"MessageReceived", "RunStarted", "RunFinished"}},
		{name: "ScheduledWithoutOpenRun", schedule: "0 * * * *",
			rep: func([]string) commands.Report { return report(1, "OK") }, want: stays,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonNoOpenRun},
		{name: "UnknownProcess",
			rep: func([]string) commands.Report { return report(9, "OK") }, want: stays,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonUnknownProcess},
		{name: "UnknownProcessStart",
			rep: func([]string) commands.Report { return report(9, "START") }, want: stays,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonUnknownProcess},
		{name: "StartAttachesToScheduledRun", schedule: "*/10 * * * * *", setup: fireOne,
			rep: func([]string) commands.Report { return report(1, "START") }, want: attaches, run: 0,
			types: []string{"MessageReceived", "RunAttached"}},
		{name: "StartNamingScheduledRunAttaches", schedule: "*/10 * * * * *", setup: fireOne,
			rep: func(runs []string) commands.Report { return withRun(report(1, "START"), runs[0]) }, want: attaches, run: 0,
			types: []string{"MessageReceived", "RunAttached"}},
		{name: "StartOpensRunWhenScheduledRunReported", schedule: "*/10 * * * * *",
			setup: func(s *server) []string {
				runs := fireOne(s)
				if _, err := s.Report(report(1, "START")); err != nil {
					s.tb.Fatalf("first START: %v", err)
				}
				return runs
			}, rep: func([]string) commands.Report { return report(1, "START") }, want: opens,
			types: []string{"MessageReceived", "RunStarted"}},
		{name: "StartOpensRunBesideManualRun", setup: func(s *server) []string { return []string{s.MustStart(1).ID} },
			rep: func([]string) commands.Report { return report(1, "START") }, want: opens,
			types: []string{"MessageReceived", "RunStarted"}},
		{name: "StartOpensRunOfPushOnly",
			rep: func([]string) commands.Report { return report(1, "START") }, want: opens,
			types: []string{"MessageReceived", "RunStarted"}},
		{name: "OKClosesStartedRun", setup: func(s *server) []string {
			if _, err := s.Report(report(1, "START")); err != nil {
				s.tb.Fatalf("START: %v", err)
			}
			return []string{s.RunnerOpenRuns()[0].ID}
		}, rep: func([]string) commands.Report { return report(1, "OK") }, want: closes, run: 0,
			types: []string{"MessageReceived", "RunFinished"}},
		{name: "LateAfterTimeout", setup: timeOutOne,
			rep: func([]string) commands.Report { return report(1, "OK") }, want: stays, run: 0,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonLate},
		{name: "LateNamingTimedOutRun", schedule: "0 * * * *", setup: timeOutOne,
			rep: func(runs []string) commands.Report { return withRun(report(1, "FAIL"), runs[0]) }, want: stays, run: 0,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonLate},
		{name: "LateNamingTimedOutRunAfterALaterRunFinished", schedule: "0 * * * *", setup: func(s *server) []string {
			runs := timeOutOne(s)
			s.MustStart(1)
			if _, err := s.Report(report(1, "OK")); err != nil {
				s.tb.Fatalf("report: %v", err)
			}
			s.CatchUp()
			return runs
		}, rep: func(runs []string) commands.Report { return withRun(report(1, "FAIL"), runs[0]) }, want: stays, run: 0,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonLate},
		{name: "SecondReportAfterLateHasNoOpenRun", schedule: "0 * * * *", setup: func(s *server) []string {
			runs := timeOutOne(s)
			if _, err := s.Report(report(1, "OK")); err != nil {
				s.tb.Fatalf("late report: %v", err)
			}
			return runs
		}, rep: func([]string) commands.Report { return report(1, "OK") }, want: stays,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonNoOpenRun},
		{name: "ReportAfterFinishHasNoOpenRun", schedule: "0 * * * *", setup: func(s *server) []string {
			runs := startTwo(s)
			for range runs {
				if _, err := s.Report(report(1, "OK")); err != nil {
					s.tb.Fatalf("report: %v", err)
				}
			}
			return runs
		}, rep: func([]string) commands.Report { return report(1, "OK") }, want: stays,
			types: []string{"MessageReceived", "MessageUnprocessed"}, reason: statesrv.ReasonNoOpenRun},
		{name: "OpenRunBeforeLateRun", setup: func(s *server) []string {
			late := timeOutOne(s)
			return append(late, s.MustStart(1).ID)
		}, rep: func([]string) commands.Report { return report(1, "OK") }, want: closes, run: 1,
			types: []string{"MessageReceived", "RunFinished"}},
		{name: "RightKey", key: "s3cret", setup: startTwo,
			rep: func([]string) commands.Report { return withKey(report(1, "OK"), "s3cret") }, want: closes, run: 0,
			types: []string{"MessageReceived", "RunFinished"}},
		{name: "BadKey", key: "s3cret", setup: startTwo,
			rep: func([]string) commands.Report { return withKey(report(1, "OK"), "guess") }, want: refused,
			types: []string{"MessageRejected"}, reason: statesrv.ReasonBadKey},
		{name: "MissingKey", key: "s3cret", setup: startTwo,
			rep: func([]string) commands.Report { return report(1, "OK") }, want: refused,
			types: []string{"MessageRejected"}, reason: statesrv.ReasonBadKey},
		{name: "BadKeyStart", key: "s3cret",
			rep: func([]string) commands.Report { return withKey(report(1, "START"), "guess") }, want: refused,
			types: []string{"MessageRejected"}, reason: statesrv.ReasonBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			p := process(1, tt.schedule)
			p.Key = statesrv.Ptr(tt.key)
			s.MustDefine(p)
			var runs []string
			if tt.setup != nil {
				runs = tt.setup(s)
			}
			openBefore := s.Service.OpenRuns()
			rep := tt.rep(runs)
			before := s.Log.LastSeq()
			seq, err := s.Report(rep)
			evs := s.Events(before + 1)
			if got := types(evs); !slices.Equal(got, tt.types) {
				t.Fatalf("events = %v, want %v", got, tt.types)
			}
			if tt.want == refused {
				var se *statesrv.Error
				if !errors.As(err, &se) || se.Code != statesrv.EInvalid || se.Message != "bad key" {
					t.Fatalf("receipt error = %v, want bad key", err)
				}
				d := payload[statesrv.MessageRejectedData](t, evs[0])
				if d.Reason != tt.reason || d.Line != rep.Line || strings.Contains(string(evs[0].Data), `"key"`) {
					t.Errorf("rejected = %s", evs[0].Data)
				}
				u, ok, err := s.Store.UnprocessedMessage(d.MessageID)
				if err != nil || !ok || u.Reason != tt.reason || u.Seq != evs[0].Seq {
					t.Errorf("unprocessed view = %+v, %v, %v", u, ok, err)
				}
				if got := s.Service.OpenRuns(); len(got) != len(openBefore) {
					t.Errorf("open runs = %d, want %d", len(got), len(openBefore))
				}
				return
			}
			if err != nil || seq != evs[0].Seq {
				t.Fatalf("receipt = %d, %v; want %d", seq, err, evs[0].Seq)
			}
			recv := payload[statesrv.MessageReceivedData](t, evs[0])
			if recv.Line != rep.Line || recv.State != rep.State || recv.Remote != rep.Remote || evs[0].Actor != "tcp:127.0.0.1" {
				t.Errorf("received = %s (actor %s)", evs[0].Data, evs[0].Actor)
			}
			last := evs[len(evs)-1]
			switch tt.want {
			case closes:
				d := payload[statesrv.RunFinishedData](t, last)
				if d.RunID != runs[tt.run] || d.State != rep.State || d.MessageID != recv.MessageID {
					t.Fatalf("finished = %s, want run %s", last.Data, runs[tt.run])
				}
				checkFinished(t, s, d.RunID, rep.State)
				if got := s.Service.OpenRuns(); len(got) != len(openBefore)-1 {
					t.Errorf("open runs = %d, want %d", len(got), len(openBefore)-1)
				}
			case attaches:
				d := payload[statesrv.RunAttachedData](t, last)
				if d.RunID != runs[tt.run] || d.MessageID != recv.MessageID {
					t.Fatalf("attached = %s, want run %s", last.Data, runs[tt.run])
				}
				for _, r := range s.RunnerOpenRuns() {
					if r.ID == d.RunID && (r.Reported == nil || !r.Reported.Equal(s.clock.Now())) {
						t.Errorf("attached run's reported_at = %v", r.Reported)
					}
				}
				if got := s.Service.OpenRuns(); len(got) != len(openBefore) {
					t.Errorf("open runs = %d, want %d", len(got), len(openBefore))
				}
			case opens:
				d := payload[statesrv.RunStartedData](t, evs[1])
				if d.Source != statesrv.SourceReport || !d.StartedAt.Equal(s.clock.Now()) ||
					!d.Deadline.Equal(s.clock.Now().Add(time.Minute)) || d.MessageID != recv.MessageID {
					t.Errorf("started = %s", evs[1].Data)
				}
				if rep.State == statesrv.StateStart {
					if got := s.Service.OpenRuns(); len(got) != len(openBefore)+1 {
						t.Errorf("open runs = %d, want %d", len(got), len(openBefore)+1)
					}
					break
				}
				f := payload[statesrv.RunFinishedData](t, last)
				if f.RunID != d.RunID || f.State != rep.State || !f.FinishedAt.Equal(d.StartedAt) {
					t.Errorf("finished = %s, want the run just started", last.Data)
				}
				checkFinished(t, s, d.RunID, rep.State)
				if got := s.Service.OpenRuns(); len(got) != len(openBefore) {
					t.Errorf("open runs = %d, want %d", len(got), len(openBefore))
				}
			case stays:
				d := payload[statesrv.MessageUnprocessedData](t, last)
				wantRun := ""
				if tt.reason == statesrv.ReasonLate {
					wantRun = runs[tt.run]
				}
				if d.Reason != tt.reason || d.MessageID != recv.MessageID || d.RunID != wantRun {
					t.Fatalf("unprocessed = %s, want reason %q run %q", last.Data, tt.reason, wantRun)
				}
				u, ok, err := s.Store.UnprocessedMessage(d.MessageID)
				if err != nil || !ok || u.Reason != tt.reason || u.Seq != evs[0].Seq || u.Line != rep.Line ||
					u.State != rep.State || u.Remote != rep.Remote || u.RunID != wantRun {
					t.Errorf("unprocessed view = %+v, %v, %v", u, ok, err)
				}
				if got := s.Service.OpenRuns(); len(got) != len(openBefore) {
					t.Errorf("open runs = %d, want %d", len(got), len(openBefore))
				}
			}
			checkSameOpenRuns(t, s)
		})
	}
}

// checkFinished checks that run id is in history with the state.
func checkFinished(t *testing.T, s *server, id, state string) {
	t.Helper()
	r, ok, err := s.Store.FinishedRun(id)
	if err != nil || !ok || r.State != state || r.FinishedAt == nil {
		t.Errorf("history of %s = %+v, %v, %v; want %s", id, r, ok, err, state)
	}
}

// checkSameOpenRuns checks that the write side and the runner agree on the
// open runs.
func checkSameOpenRuns(t *testing.T, s *server) {
	t.Helper()
	a, _ := json.Marshal(s.Service.OpenRuns())
	b, _ := json.Marshal(s.RunnerOpenRuns())
	if string(a) != string(b) {
		t.Errorf("open runs:\nservice %s\nrunner  %s", a, b)
	}
}

func TestTimeoutExactlyOnce(t *testing.T) {
	s := newServer(t)
	s.MustDefine(process(1, ""))
	run := s.MustStart(1)
	if want := t0.Add(time.Minute); !run.Deadline.Equal(want) {
		t.Fatalf("deadline = %v, want %v", run.Deadline, want)
	}
	if _, next := s.Service.Tick(); !next.Equal(run.Deadline) {
		t.Errorf("next wake-up = %v, want the deadline %v", next, run.Deadline)
	}
	s.clock.Set(run.Deadline.Add(-time.Nanosecond))
	if seq := s.Tick(); seq != 0 {
		t.Fatalf("tick before the deadline appended %v", types(s.Events(seq)))
	}
	s.clock.Set(run.Deadline)
	seq := s.Tick()
	evs := s.Events(seq)
	if got := types(evs); !slices.Equal(got, []string{"RunTimedOut"}) {
		t.Fatalf("tick at the deadline appended %v", got)
	}
	if d := payload[statesrv.RunTimedOutData](t, evs[0]); d.RunID != run.ID || !d.Deadline.Equal(run.Deadline) ||
		evs[0].Actor != statesrv.ActorScheduler {
		t.Errorf("timed out = %s (actor %s)", evs[0].Data, evs[0].Actor)
	}
	if seq := s.Tick(); seq != 0 {
		t.Errorf("second tick at the deadline appended %v", types(s.Events(seq)))
	}
	s.clock.Advance(time.Hour)
	if seq := s.Tick(); seq != 0 {
		t.Errorf("tick after the deadline appended %v", types(s.Events(seq)))
	}
	s.Restart()
	if seq := s.Tick(); seq != 0 {
		t.Errorf("tick after a restart appended %v", types(s.Events(seq)))
	}
	if n := len(ofType(s.Events(1), statesrv.EventRunTimedOut)); n != 1 {
		t.Errorf("%d RunTimedOut events, want 1", n)
	}
	got, ok, err := s.Store.FinishedRun(run.ID)
	if err != nil || !ok || got.State != statesrv.StateTimeout || !got.FinishedAt.Equal(run.Deadline) {
		t.Errorf("history = %+v, %v, %v", got, ok, err)
	}
	if runs := s.Service.OpenRuns(); len(runs) != 0 {
		t.Errorf("open runs = %+v", runs)
	}
}

func TestTimeoutWhileDownDeclaredAtStart(t *testing.T) {
	s := newServer(t)
	s.MustDefine(process(1, ""))
	run := s.MustStart(1)
	s.Close()
	s.clock.Advance(10 * time.Minute)
	s.open()
	seq := s.Tick()
	if got := types(s.Events(seq)); seq == 0 || !slices.Equal(got, []string{"RunTimedOut"}) {
		t.Fatalf("first tick after the restart appended %v", got)
	}
	s.Restart()
	if seq := s.Tick(); seq != 0 {
		t.Errorf("tick after a second restart appended %v", types(s.Events(seq)))
	}
	if n := len(ofType(s.Events(1), statesrv.EventRunTimedOut)); n != 1 {
		t.Errorf("%d RunTimedOut events, want 1", n)
	}
	checkFinished(t, s, run.ID, statesrv.StateTimeout)
}

func TestMIDStoredOnce(t *testing.T) {
	s := newServer(t)
	s.MustDefine(process(1, ""))
	s.MustDefine(process(2, ""))
	rep := withMID(report(1, "OK"), "m-1")
	first, err := s.Report(rep)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Retry", func(t *testing.T) {
		r := s.Service.Report(rep)
		seq, err := s.wait(r)
		if err != nil || seq != first || !r.Duplicate() {
			t.Errorf("retry = %d, %v, duplicate %v; want %d", seq, err, r.Duplicate(), first)
		}
	})
	t.Run("RetryInFlight", func(t *testing.T) {
		rep := withMID(report(1, "FAIL"), "m-2")
		r1, r2 := s.Service.Report(rep), s.Service.Report(rep)
		seq1, err1 := s.wait(r1)
		seq2, err2 := s.wait(r2)
		if err1 != nil || err2 != nil || seq1 != seq2 || r1.Duplicate() || !r2.Duplicate() {
			t.Errorf("in flight: %d, %v and %d, %v (duplicate %v)", seq1, err1, seq2, err2, r2.Duplicate())
		}
	})
	t.Run("RetryAfterRestart", func(t *testing.T) {
		s.Restart()
		seq, err := s.wait(s.Service.Report(rep))
		if err != nil || seq != first {
			t.Errorf("retry after a restart = %d, %v; want %d", seq, err, first)
		}
	})
	t.Run("SameMIDOtherProcess", func(t *testing.T) {
		seq, err := s.wait(s.Service.Report(withMID(report(2, "OK"), "m-1")))
		if err != nil || seq == first {
			t.Errorf("same mid of another process = %d, %v", seq, err)
		}
	})
	s.CatchUp()
	evs := s.Events(1)
	mids := map[string]int{}
	for _, e := range ofType(evs, statesrv.EventMessageReceived) {
		d := payload[statesrv.MessageReceivedData](t, e)
		mids[fmt.Sprint(e.ProcessID, "/", d.MID)]++
	}
	want := map[string]int{"1/m-1": 1, "1/m-2": 1, "2/m-1": 1}
	if fmt.Sprint(mids) != fmt.Sprint(want) {
		t.Errorf("MessageReceived per process/mid = %v, want %v", mids, want)
	}
	if n := len(ofType(evs, statesrv.EventRunFinished)); n != 3 {
		t.Errorf("%d runs finished, want 3", n)
	}
}

func TestScheduleFires(t *testing.T) {
	s := newServer(t)
	p := process(1, "*/10 * * * * *")
	p.MaxRuntime = statesrv.Duration(30 * time.Second)
	s.MustDefine(p)
	s.clock.Advance(9 * time.Second)
	if seq := s.Tick(); seq != 0 {
		t.Fatalf("tick before the fire time appended %v", types(s.Events(seq)))
	}
	s.clock.Advance(time.Second)
	seq := s.Tick()
	evs := s.Events(seq)
	if got := types(evs); seq == 0 || !slices.Equal(got, []string{"RunStarted"}) {
		t.Fatalf("tick at the fire time appended %v", got)
	}
	d := payload[statesrv.RunStartedData](t, evs[0])
	fire := t0.Add(10 * time.Second)
	if d.Source != statesrv.SourceSchedule || d.ScheduledAt == nil || !d.ScheduledAt.Equal(fire) ||
		!d.StartedAt.Equal(fire) || !d.Deadline.Equal(fire.Add(30*time.Second)) || d.Missed ||
		evs[0].Actor != statesrv.ActorScheduler {
		t.Errorf("started = %s", evs[0].Data)
	}
	if seq := s.Tick(); seq != 0 {
		t.Errorf("second tick at the fire time appended %v", types(s.Events(seq)))
	}
	for _, at := range []time.Duration{10 * time.Second, 20 * time.Second} {
		s.clock.Set(fire.Add(at))
		seq = s.Tick()
		if got := types(s.Events(seq)); !slices.Equal(got, []string{"RunStarted"}) {
			t.Errorf("fire at +%v appended %v", at, got)
		}
	}
	// The next fire and the first run's deadline fall due together.
	s.clock.Set(fire.Add(30 * time.Second))
	seq = s.Tick()
	got := types(s.Events(seq))
	slices.Sort(got)
	if !slices.Equal(got, []string{"RunStarted", "RunTimedOut"}) {
		t.Errorf("fire at the first deadline appended %v", got)
	}
	checkSameOpenRuns(t, s)
}

func TestMissedFireTimesAtRestart(t *testing.T) {
	s := newServer(t)
	s.MustDefine(process(1, "*/10 * * * * *")) // max_runtime 1m
	s.MustDefine(process(2, "@every 45s"))
	s.clock.Advance(10 * time.Second)
	s.Tick()
	first := s.RunnerOpenRuns()
	if len(first) != 1 {
		t.Fatalf("open runs before the stop = %+v", first)
	}
	s.Close()
	s.clock.Advance(65 * time.Second) // t0+75s
	s.open()
	before := s.Log.LastSeq()
	seq := s.Tick()
	if seq != before+1 {
		t.Fatalf("first tick after the restart: seq %d, log was at %d", seq, before)
	}
	evs := s.Events(seq)
	var gaps, started []eventlog.Event
	for _, e := range evs {
		switch e.Type {
		case statesrv.EventScheduleGap:
			gaps = append(gaps, e)
		case statesrv.EventRunStarted:
			started = append(started, e)
		case statesrv.EventRunTimedOut:
			if d := payload[statesrv.RunTimedOutData](t, e); d.RunID != first[0].ID {
				t.Errorf("timed out %s, want the run opened before the stop", d.RunID)
			}
		default:
			t.Errorf("unexpected %s", e.Type)
		}
	}
	if len(gaps) != 2 || len(started) != 2 || len(ofType(evs, statesrv.EventRunTimedOut)) != 1 {
		t.Fatalf("first tick after the restart appended %v", types(evs))
	}
	want := map[int64]struct {
		from, to time.Time
		missed   int
	}{
		1: {t0.Add(20 * time.Second), t0.Add(70 * time.Second), 6},
		2: {t0.Add(45 * time.Second), t0.Add(45 * time.Second), 1},
	}
	opened := map[string]int64{}
	for _, e := range started {
		d := payload[statesrv.RunStartedData](t, e)
		w := want[e.ProcessID]
		if !d.Missed || d.ScheduledAt == nil || !d.ScheduledAt.Equal(w.to) || !d.StartedAt.Equal(w.to) ||
			!d.Deadline.Equal(w.to.Add(time.Minute)) {
			t.Errorf("process %d: started = %s, want the latest fire time %v, missed", e.ProcessID, e.Data, w.to)
		}
		opened[d.RunID] = e.ProcessID
	}
	for _, e := range gaps {
		d := payload[statesrv.ScheduleGapData](t, e)
		w := want[e.ProcessID]
		if !d.From.Equal(w.from) || !d.To.Equal(w.to) || d.Missed != w.missed || opened[d.RunID] != e.ProcessID {
			t.Errorf("process %d: gap = %s, want from %v to %v, %d missed", e.ProcessID, e.Data, w.from, w.to, w.missed)
		}
	}
	// From here on the schedule fires as usual: not missed, no gap.
	s.clock.Set(t0.Add(80 * time.Second))
	seq = s.Tick()
	evs = s.Events(seq)
	if got := types(evs); !slices.Equal(got, []string{"RunStarted"}) {
		t.Fatalf("next fire appended %v", got)
	}
	if d := payload[statesrv.RunStartedData](t, evs[0]); d.Missed || !d.ScheduledAt.Equal(t0.Add(80*time.Second)) {
		t.Errorf("next fire = %s", evs[0].Data)
	}
	s.clock.Set(t0.Add(90 * time.Second)) // process 2: 45s + 45s
	seq = s.Tick()
	evs = s.Events(seq)
	if got := types(evs); !slices.Equal(got, []string{"RunStarted", "RunStarted"}) {
		t.Fatalf("fires at 90s appended %v", got)
	}
	for _, e := range evs {
		if d := payload[statesrv.RunStartedData](t, e); d.Missed {
			t.Errorf("process %d: fire at 90s marked missed", e.ProcessID)
		}
	}
	checkSameOpenRuns(t, s)
}

func TestChangedScheduleMissesNothing(t *testing.T) {
	t.Run("WhileUp", func(t *testing.T) {
		s := newServer(t)
		s.MustDefine(process(1, "*/10 * * * * *"))
		s.clock.Advance(time.Hour) // never ticked: 360 fire times due
		at := s.clock.Now()
		s.MustDefine(process(1, "@every 45s"))
		if seq := s.Tick(); seq != 0 {
			t.Fatalf("tick right after the change appended %v", types(s.Events(seq)))
		}
		s.clock.Advance(45 * time.Second)
		checkOneFire(t, s, at.Add(45*time.Second))
	})
	t.Run("AcrossRestart", func(t *testing.T) {
		s := newServer(t)
		s.MustDefine(process(1, "*/10 * * * * *"))
		s.Close()
		s.clock.Advance(time.Hour) // down: 360 fire times of the old schedule
		s.open()
		s.MustDefine(process(1, "0 * * * *"))
		if seq := s.Tick(); seq != 0 {
			t.Fatalf("tick right after the change appended %v", types(s.Events(seq)))
		}
		s.clock.Set(t0.Add(2 * time.Hour))
		checkOneFire(t, s, t0.Add(2*time.Hour))
	})
	t.Run("ZoneChanged", func(t *testing.T) {
		s := newServer(t)
		s.MustDefine(process(1, "*/10 * * * * *"))
		s.clock.Advance(time.Hour)
		p := process(1, "*/10 * * * * *")
		p.Timezone = "Europe/Prague"
		s.MustDefine(p)
		s.clock.Advance(10 * time.Second)
		checkOneFire(t, s, s.clock.Now())
	})
	t.Run("MaxRuntimeChangedKeepsSchedule", func(t *testing.T) {
		s := newServer(t)
		s.MustDefine(process(1, "*/10 * * * * *"))
		s.clock.Advance(30 * time.Second)
		p := process(1, "*/10 * * * * *")
		p.MaxRuntime = statesrv.Duration(time.Hour)
		s.MustDefine(p)
		seq := s.Tick()
		gaps := ofType(s.Events(seq), statesrv.EventScheduleGap)
		if seq == 0 || len(gaps) != 1 || payload[statesrv.ScheduleGapData](t, gaps[0]).Missed != 3 {
			t.Errorf("tick appended %v; want the three fire times of the unchanged schedule", types(s.Events(seq)))
		}
	})
}

// checkOneFire ticks and checks that exactly one run opened, at fire, not
// missed.
func checkOneFire(t *testing.T, s *server, fire time.Time) {
	t.Helper()
	seq := s.Tick()
	evs := s.Events(seq)
	if got := types(evs); seq == 0 || !slices.Equal(got, []string{"RunStarted"}) {
		t.Fatalf("tick appended %v, want one RunStarted", got)
	}
	d := payload[statesrv.RunStartedData](t, evs[0])
	if d.Missed || d.ScheduledAt == nil || !d.ScheduledAt.Equal(fire) {
		t.Errorf("started = %s, want fire time %v, not missed", evs[0].Data, fire)
	}
}

func TestDisabledProcessDoesNotFire(t *testing.T) {
	s := newServer(t)
	p := process(1, "*/10 * * * * *")
	p.Enabled = false
	s.MustDefine(p)
	s.clock.Advance(time.Hour)
	if seq := s.Tick(); seq != 0 {
		t.Fatalf("disabled process: tick appended %v", types(s.Events(seq)))
	}
	s.Restart()
	if seq := s.Tick(); seq != 0 {
		t.Fatalf("disabled process after a restart: tick appended %v", types(s.Events(seq)))
	}
	// Enabled again, it fires from now on: the hour off is not missed.
	p.Enabled = true
	s.MustDefine(p)
	if seq := s.Tick(); seq != 0 {
		t.Fatalf("tick right after enabling appended %v", types(s.Events(seq)))
	}
	s.clock.Advance(10 * time.Second)
	checkOneFire(t, s, s.clock.Now())
	// Disabled while a run is open: the run stays, no more fire.
	p.Enabled = false
	s.MustDefine(p)
	s.clock.Advance(20 * time.Second)
	if seq := s.Tick(); seq != 0 {
		t.Errorf("disabled again: tick appended %v", types(s.Events(seq)))
	}
	if runs := s.Service.OpenRuns(); len(runs) != 1 {
		t.Errorf("open runs = %+v", runs)
	}
}

func TestDeleteProcessDropsOpenRuns(t *testing.T) {
	s := newServer(t)
	s.MustDefine(process(1, "*/10 * * * * *"))
	s.MustDefine(process(2, ""))
	s.clock.Advance(10 * time.Second)
	s.Tick()
	s.MustStart(1)
	keep := s.MustStart(2)
	r, err := s.Service.DeleteProcess(1, statesrv.ActorAdmin)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := s.wait(r)
	if err != nil {
		t.Fatal(err)
	}
	s.CatchUp()
	if got := types(s.Events(seq)); !slices.Equal(got, []string{"ProcessDeleted"}) {
		t.Fatalf("delete appended %v", got)
	}
	for name, runs := range map[string][]statesrv.Run{"service": s.Service.OpenRuns(), "runner": s.RunnerOpenRuns()} {
		if len(runs) != 1 || runs[0].ID != keep.ID {
			t.Errorf("%s: open runs = %+v, want only process 2's", name, runs)
		}
	}
	if h, err := s.Store.History(projections.HistoryQuery{}); err != nil || len(h) != 0 {
		t.Errorf("history = %+v, %v; dropped runs are not finished runs", h, err)
	}
	if _, ok := s.Service.Process(1); ok {
		t.Error("process 1 still defined")
	}
	// Nothing of process 1 falls due any more, not after a restart either.
	s.clock.Advance(time.Hour)
	seq = s.Tick()
	if got := types(s.Events(seq)); !slices.Equal(got, []string{"RunTimedOut"}) {
		t.Errorf("tick an hour later appended %v, want process 2's timeout only", got)
	}
	s.Restart()
	if core, err := s.Store.LoadCore(); err != nil || len(core.Runs) != 0 || core.Procs[1] != nil {
		t.Errorf("stored core: runs %v, process 1 %v, %v", core.Runs, core.Procs[1], err)
	}
	s.clock.Advance(time.Hour)
	if seq := s.Tick(); seq != 0 {
		t.Errorf("tick after a restart appended %v", types(s.Events(seq)))
	}
	if _, err := s.Report(report(1, "OK")); err != nil {
		t.Fatal(err)
	}
	u, err := s.Store.Unprocessed(0, 10)
	if err != nil || len(u) != 1 || u[0].Reason != statesrv.ReasonUnknownProcess {
		t.Errorf("report of a deleted process: unprocessed = %+v, %v", u, err)
	}
	if _, err := s.Service.DeleteProcess(1, statesrv.ActorAdmin); statesrv.ErrorCode(err) != statesrv.ENotFound {
		t.Errorf("deleting it again: %v, want not found", err)
	}
}

func TestDefineProcessUnchangedAppendsNothing(t *testing.T) {
	s := newServer(t)
	p := statesrv.Process{ID: 1, Name: "job", Schedule: "0 2 * * *", Enabled: true,
		Alerts: statesrv.Alerts{Fail: []string{"mailto:ops@example.com"}}}
	if seq := s.MustDefine(p); seq == 0 {
		t.Fatal("first definition appended nothing")
	}
	last := s.Log.LastSeq()
	same := p
	same.Timezone, same.MaxRuntime, same.Name = "UTC", statesrv.Duration(time.Hour), " job "
	for _, q := range []statesrv.Process{p, same} {
		if seq := s.MustDefine(q); seq != 0 || s.Log.LastSeq() != last {
			t.Errorf("same definition appended seq %d", seq)
		}
	}
	s.Restart()
	if seq := s.MustDefine(p); seq != 0 || s.Log.LastSeq() != last {
		t.Errorf("same definition after a restart appended seq %d", seq)
	}
	changed := p
	changed.Description = "nightly"
	if seq := s.MustDefine(changed); seq != last+1 {
		t.Errorf("changed definition: seq %d, want %d", seq, last+1)
	}
	ps, ok := s.Service.Process(1)
	if !ok || ps.Description != "nightly" || ps.Timezone != "UTC" || time.Duration(ps.MaxRuntime) != time.Hour {
		t.Errorf("process = %+v", ps)
	}
}

func TestNormalizeProcess(t *testing.T) {
	valid := func() statesrv.Process {
		return statesrv.Process{ID: 1, Name: "job", Schedule: "0 2 * * *", Enabled: true}
	}
	tests := []struct {
		name    string
		edit    func(p *statesrv.Process)
		wantErr string // prefix of the message; "" for success
	}{
		{"OK", func(*statesrv.Process) {}, ""},
		{"OKPushOnly", func(p *statesrv.Process) { p.Schedule = "" }, ""},
		{"OKRecipients", func(p *statesrv.Process) {
			p.Alerts = statesrv.Alerts{Fail: []string{"mailto:ops@example.com", "sms:+420600000000"},
				Timeout: []string{"https://hooks.example.com/x"}}
		}, ""},
		{"ErrIDZero", func(p *statesrv.Process) { p.ID = 0 }, "id:"},
		{"ErrIDNegative", func(p *statesrv.Process) { p.ID = -3 }, "id:"},
		{"ErrNameEmpty", func(p *statesrv.Process) { p.Name = "" }, "name:"},
		{"ErrNameBlank", func(p *statesrv.Process) { p.Name = "  \t" }, "name:"},
		{"ErrNameSemicolon", func(p *statesrv.Process) { p.Name = "a;b" }, "name:"},
		{"ErrScheduleBad", func(p *statesrv.Process) { p.Schedule = "every day" }, "schedule:"},
		{"ErrScheduleSixtyMinutes", func(p *statesrv.Process) { p.Schedule = "60 * * * *" }, "schedule:"},
		{"ErrZoneUnknown", func(p *statesrv.Process) { p.Timezone = "Mars/Olympus" }, "timezone:"},
		{"ErrMaxRuntimeNegative", func(p *statesrv.Process) { p.MaxRuntime = statesrv.Duration(-time.Second) }, "max_runtime:"},
		{"ErrMaxRuntimeTooShort", func(p *statesrv.Process) { p.MaxRuntime = statesrv.Duration(time.Millisecond) }, "max_runtime:"},
		{"ErrKeySemicolon", func(p *statesrv.Process) { p.Key = statesrv.Ptr("a;b") }, "key:"},
		{"ErrRecipientMailtoNope", func(p *statesrv.Process) { p.Alerts.Fail = []string{"mailto:nope"} }, "alerts.fail:"},
		{"ErrRecipientSMSShort", func(p *statesrv.Process) { p.Alerts.Timeout = []string{"sms:12"} }, "alerts.timeout:"},
		{"ErrRecipientFTP", func(p *statesrv.Process) { p.Alerts.OK = []string{"ftp://x"} }, "alerts.ok:"},
		{"ErrRecipientHTTPSNoHost", func(p *statesrv.Process) { p.Alerts.Late = []string{"https://"} }, "alerts.late:"},
		{"ErrRecipientEmpty", func(p *statesrv.Process) { p.Alerts.Recovered = []string{""} }, "alerts.recovered:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.edit(&p)
			err := commands.NormalizeProcess(&p)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var se *statesrv.Error
			if !errors.As(err, &se) || se.Code != statesrv.EInvalid || !strings.HasPrefix(se.Message, tt.wantErr) {
				t.Fatalf("err = %#v, want EInvalid %q...", err, tt.wantErr)
			}
			// DefineProcess refuses it too, appending nothing.
			s := newServer(t)
			if _, err := s.Service.DefineProcess(p, statesrv.ActorAdmin); statesrv.ErrorCode(err) != statesrv.EInvalid {
				t.Errorf("DefineProcess err = %v", err)
			}
			if s.Log.LastSeq() != 0 {
				t.Errorf("a refused definition appended %d events", s.Log.LastSeq())
			}
		})
	}
	t.Run("Defaults", func(t *testing.T) {
		p := statesrv.Process{ID: 4, Name: "  job  ", Schedule: "  @hourly ", Alerts: statesrv.Alerts{Fail: []string{" mailto:ops@example.com "}}}
		if err := commands.NormalizeProcess(&p); err != nil {
			t.Fatal(err)
		}
		if p.Timezone != "UTC" || time.Duration(p.MaxRuntime) != time.Hour || p.Name != "job" || p.Schedule != "@hourly" {
			t.Errorf("normalized = %+v", p)
		}
		if p.Alerts.OK == nil || p.Alerts.Timeout == nil || p.Alerts.Late == nil || p.Alerts.Recovered == nil ||
			!slices.Equal(p.Alerts.Fail, []string{"mailto:ops@example.com"}) {
			t.Errorf("alerts = %#v", p.Alerts)
		}
	})
}

func TestDismiss(t *testing.T) {
	s := newServer(t)
	if _, err := s.Report(report(9, "OK")); err != nil {
		t.Fatal(err)
	}
	u, err := s.Store.Unprocessed(0, 10)
	if err != nil || len(u) != 1 {
		t.Fatalf("unprocessed = %+v, %v", u, err)
	}
	r, err := s.Service.Dismiss(u[0].ID, statesrv.ActorAdmin)
	if err != nil {
		t.Fatal(err)
	}
	// A second dismiss before the views caught up is refused too.
	if _, err := s.Service.Dismiss(u[0].ID, statesrv.ActorAdmin); statesrv.ErrorCode(err) != statesrv.ENotFound {
		t.Errorf("second dismiss: %v, want not found", err)
	}
	seq, err := s.wait(r)
	if err != nil {
		t.Fatal(err)
	}
	s.CatchUp()
	evs := s.Events(seq)
	if got := types(evs); !slices.Equal(got, []string{"MessageDismissed"}) || evs[0].Actor != statesrv.ActorAdmin {
		t.Fatalf("dismiss appended %v", got)
	}
	if u, err := s.Store.Unprocessed(0, 10); err != nil || len(u) != 0 {
		t.Errorf("unprocessed after dismiss = %+v, %v", u, err)
	}
	s.Restart()
	if _, err := s.Service.Dismiss(u[0].ID, statesrv.ActorAdmin); statesrv.ErrorCode(err) != statesrv.ENotFound {
		t.Errorf("dismiss after a restart: %v, want not found", err)
	}
	if _, err := s.Service.Dismiss("nope", statesrv.ActorAdmin); statesrv.ErrorCode(err) != statesrv.ENotFound {
		t.Errorf("dismiss of an unknown message: %v, want not found", err)
	}
}

func TestRejectRecordsMalformedLine(t *testing.T) {
	s := newServer(t)
	line := "#id=3;state=DONE;name=n;" + strings.Repeat("é", 400)
	rep, perr := commands.ParseLine(line)
	if perr == nil {
		t.Fatal("line parsed")
	}
	rep.Transport, rep.Remote = "tcp", "[::1]:5"
	seq, err := s.wait(s.Service.Reject(rep, perr))
	s.CatchUp()
	if seq != 0 || statesrv.ErrorMessage(err) != "bad state" {
		t.Fatalf("receipt = %d, %v; want the refusal", seq, err)
	}
	evs := s.Events(1)
	if got := types(evs); !slices.Equal(got, []string{"MessageRejected"}) || evs[0].Actor != "tcp:::1" {
		t.Fatalf("reject appended %v (actor %s)", got, evs[0].Actor)
	}
	d := payload[statesrv.MessageRejectedData](t, evs[0])
	if len(d.Line) > commands.MaxRejectedLine || !strings.HasPrefix(line, d.Line) || d.Reason != statesrv.ReasonMalformed ||
		d.Detail != "bad state" || evs[0].ProcessID != 3 {
		t.Errorf("rejected = %+v", d)
	}
	u, err := s.Store.Unprocessed(0, 10)
	if err != nil || len(u) != 1 || u[0].Reason != statesrv.ReasonMalformed || u[0].Detail != "bad state" || u[0].Line != d.Line {
		t.Errorf("unprocessed = %+v, %v", u, err)
	}
}

// TestLongNamesKeepViewsUp sends, faster than the views catch up, START
// reports whose name= is as long as a line allows, of characters JSON
// escapes to six bytes: the open runs they make must still reach the
// stored views in one catch-up.
func TestLongNamesKeepViewsUp(t *testing.T) {
	s := newServer(t)
	s.MustDefine(process(1, ""))
	name := strings.Repeat("<", 4000)
	var receipts []*commands.Receipt
	for range 150 {
		rep := report(1, "START")
		rep.Name, rep.Line = name, rep.Line+";name="+name
		receipts = append(receipts, s.Service.Report(rep))
	}
	for _, r := range receipts {
		if _, err := s.wait(r); err != nil {
			t.Fatal(err)
		}
	}
	s.CatchUp()
	if got := len(s.RunnerOpenRuns()); got != 150 {
		t.Errorf("runner: %d open runs, want 150", got)
	}
	s.Restart()
	if got := len(s.Service.OpenRuns()); got != 150 {
		t.Errorf("after a restart: %d open runs, want 150", got)
	}
}

// TestTickTakesBacklogInParts lets thousands of runs pass their deadline
// while the server is down. One append of them all could be too big for
// the log to commit (a commit that fails stops the log, and the next start
// would try the same append again), so each Tick takes a part and says the
// rest is due at once; together they time out every run exactly once.
func TestTickTakesBacklogInParts(t *testing.T) {
	const runs = 1500
	s := newServer(t)
	s.MustDefine(process(1, ""))
	var receipts []*commands.Receipt
	for range runs {
		r, err := s.Service.StartRun(1, statesrv.ActorCLI)
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, r)
	}
	for _, r := range receipts {
		if _, err := s.wait(r); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s.clock.Advance(time.Hour)
	s.open()
	ticks := 0
	for ; ticks < runs; ticks++ {
		r, next := s.Service.Tick()
		if r == nil {
			break
		}
		seq, err := s.wait(r)
		if err != nil {
			t.Fatalf("tick %d: %v", ticks, err)
		}
		evs := s.Events(seq)
		if len(evs) == runs {
			t.Fatalf("tick %d timed out all %d runs in one append", ticks, runs)
		}
		if left := len(s.Service.OpenRuns()); left > 0 && (next.IsZero() || next.After(s.clock.Now())) {
			t.Fatalf("tick %d left %d runs and says the next is due at %v, now %v", ticks, left, next, s.clock.Now())
		}
	}
	s.CatchUp()
	if n := len(ofType(s.Events(1), statesrv.EventRunTimedOut)); n != runs || ticks < 2 {
		t.Errorf("%d runs timed out in %d ticks, want %d in several", n, ticks, runs)
	}
	if left := s.RunnerOpenRuns(); len(left) != 0 {
		t.Errorf("%d runs still open", len(left))
	}
}

// TestScheduleFiresInZone evaluates a schedule in the process's zone and
// records its fire times in UTC.
func TestScheduleFiresInZone(t *testing.T) {
	s := newServer(t) // t0 is 08:00 UTC, 09:00 in Prague (CET)
	p := process(1, "0 9 * * *")
	p.Timezone = "Europe/Prague"
	s.MustDefine(p)
	fire := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	s.clock.Set(fire.Add(-time.Second))
	if seq := s.Tick(); seq != 0 {
		t.Fatalf("tick before 09:00 Prague appended %v", types(s.Events(seq)))
	}
	s.clock.Set(fire)
	checkOneFire(t, s, fire)
	// After the change to summer time 09:00 Prague is 07:00 UTC.
	s.clock.Set(time.Date(2026, 3, 30, 6, 59, 59, 0, time.UTC))
	s.Tick() // the days in between: one run, missed ones recorded as a gap
	s.clock.Set(time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC))
	checkOneFire(t, s, time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC))
}
