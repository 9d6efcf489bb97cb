package commands_test

import (
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
	"github.com/statesrv/statesrv/projections"
)

// step is one moment of a scripted scenario: the clock is set to t0+at,
// the scheduler ticks, and then the report (if any) of state is taken.
type step struct {
	at    time.Duration
	state string
}

// play runs the steps on s in order, then ticks at t0+end.
func play(t *testing.T, s *server, steps []step, end time.Duration) {
	t.Helper()
	for _, st := range steps {
		s.clock.Set(t0.Add(st.at))
		s.Tick()
		switch st.state {
		case "":
		case "restart":
			s.Restart()
			s.Tick()
		default:
			if _, err := s.Report(report(1, st.state)); err != nil {
				t.Fatalf("report %s at +%v: %v", st.state, st.at, err)
			}
		}
	}
	s.clock.Set(t0.Add(end))
	s.Tick()
}

// history returns the finished runs, oldest first.
func history(t *testing.T, s *server) []statesrv.Run {
	t.Helper()
	s.CatchUp()
	h, err := s.Store.History(projections.HistoryQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(h)-1; i < j; i, j = i+1, j-1 {
		h[i], h[j] = h[j], h[i]
	}
	return h
}

// alertsOf returns the outcome of every AlertRequested in the log.
func alertsOf(t *testing.T, s *server) []string {
	t.Helper()
	var out []string
	for _, e := range ofType(s.Events(1), statesrv.EventAlertRequested) {
		out = append(out, payload[statesrv.AlertRequestedData](t, e).Outcome)
	}
	return out
}

func TestMinRuntime(t *testing.T) {
	const fast = "finished in 10s, expected at least 30s"
	tests := []struct {
		name     string
		schedule string
		steps    []step
		state    string // of the one finished run
		message  string
	}{
		{"TooFastFromStart", "1 * * * *",
			[]step{{time.Minute, "START"}, {time.Minute + 10*time.Second, "OK"}}, "FAIL", fast},
		{"TooFastFromFireTime", "1 * * * *", []step{{time.Minute + 10*time.Second, "OK"}}, "FAIL", fast},
		{"TooFastStartOpened", "", []step{{0, "START"}, {10 * time.Second, "OK"}}, "FAIL", fast},
		{"LongEnoughOK", "1 * * * *",
			[]step{{time.Minute, "START"}, {time.Minute + 30*time.Second, "OK"}}, "OK", ""},
		{"FailStaysFail", "1 * * * *", []step{{time.Minute + 10*time.Second, "FAIL"}}, "FAIL", ""},
		{"PushOKNotJudged", "", []step{{10 * time.Second, "OK"}}, "OK", ""},
		{"SubSecondShown", "", []step{{0, "START"}, {250 * time.Millisecond, "OK"}}, "FAIL",
			"finished in 250ms, expected at least 30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			p := process(1, tt.schedule)
			p.MinRuntime = statesrv.Duration(30 * time.Second)
			p.Alerts = statesrv.Alerts{OK: []string{"mailto:ok@example.com"}, Fail: []string{"mailto:fail@example.com"}}
			s.MustDefine(p)
			play(t, s, tt.steps, 2*time.Minute)
			h := history(t, s)
			if len(h) != 1 || h[0].State != tt.state || h[0].Message != tt.message || h[0].TooFast != (tt.message != "") {
				t.Fatalf("history = %+v, want one %s run with message %q", h, tt.state, tt.message)
			}
			want := map[string]string{"OK": statesrv.OutcomeOK, "FAIL": statesrv.OutcomeFail}[tt.state]
			if got := alertsOf(t, s); len(got) != 1 || got[0] != want {
				t.Errorf("alerts %v, want [%s]", got, want)
			}
		})
	}
}

func TestNormalizeRunBounds(t *testing.T) {
	tests := []struct {
		name         string
		grace, least time.Duration
		wantErr      string
	}{
		{"OKOff", 0, 0, ""},
		{"OKGraceIsMaxRuntime", time.Hour, 0, ""},
		{"OKMinRuntime", 0, 59 * time.Minute, ""},
		{"ErrGraceOverMaxRuntime", time.Hour + time.Second, 0, "start_grace: at most the max_runtime (1h), got 1h0m1s"},
		{"ErrGraceNegative", -time.Second, 0, "start_grace: must be positive"},
		{"ErrMinRuntimeIsMaxRuntime", 0, time.Hour, "min_runtime: less than the max_runtime (1h), got 1h"},
		{"ErrMinRuntimeNegative", 0, -time.Second, "min_runtime: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := statesrv.Process{ID: 1, Name: "job", Schedule: "@hourly", StartGrace: statesrv.Duration(tt.grace),
				MinRuntime: statesrv.Duration(tt.least)}
			err := commands.NormalizeProcess(&p)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var se *statesrv.Error
			if !errors.As(err, &se) || se.Code != statesrv.EInvalid || !strings.HasPrefix(se.Message, tt.wantErr) {
				t.Fatalf("err = %v, want EInvalid %q", err, tt.wantErr)
			}
		})
	}
}

// newSkewServer opens a server like newServer, with the clock-skew
// tolerance skew.
func newSkewServer(t *testing.T, skew time.Duration) *server {
	t.Helper()
	s := &server{tb: t, clock: clock.NewFake(t0), logDir: t.TempDir(), viewsDir: t.TempDir(), ClockSkew: skew}
	s.open()
	t.Cleanup(s.Close)
	return s
}

// runsFor returns the ids of the runs opened for the fire time t0+at.
func runsFor(t *testing.T, s *server, at time.Duration) []string {
	t.Helper()
	var ids []string
	for _, e := range ofType(s.Events(1), statesrv.EventRunStarted) {
		if d := payload[statesrv.RunStartedData](t, e); d.ScheduledAt != nil && d.ScheduledAt.Equal(t0.Add(at)) {
			ids = append(ids, d.RunID)
		}
	}
	return ids
}

// runText describes a run by what the clock-skew tests compare: state,
// source, fire time and start as offsets from t0, and whether it is early.
func runText(r statesrv.Run) string {
	sched := "-"
	if r.ScheduledAt != nil {
		sched = r.ScheduledAt.Sub(t0).String()
	}
	return fmt.Sprintf("%s %s sched=%s start=%s deadline=%s early=%v", r.State, r.Source, sched,
		r.StartedAt.Sub(t0), r.Deadline.Sub(t0), r.Early)
}

func runTexts(runs []statesrv.Run) []string {
	out := []string{}
	for _, r := range runs {
		out = append(out, runText(r))
	}
	return out
}

func TestClockSkew(t *testing.T) {
	const (
		sec = time.Second
		min = time.Minute
	)
	tests := []struct {
		name        string
		skew        time.Duration
		schedule    string
		maxRuntime  time.Duration
		steps       []step // "restart" restarts the server
		end         time.Duration
		history     []string // runText of each finished run, oldest first
		open        []string // runText of each open run, earliest deadline first
		unprocessed []string // reasons
	}{
		{name: "SpecExample", skew: min, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{57 * sec, "START"}, {80 * sec, "OK"}}, end: 90 * sec,
			history: []string{"OK schedule sched=1m0s start=57s deadline=3m0s early=true"}},
		{name: "StartEarlyFireTimeFindsIt", skew: min, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{50 * sec, "START"}}, end: 70 * sec,
			open: []string{"RUNNING schedule sched=1m0s start=50s deadline=3m0s early=true"}},
		{name: "StartEarlyThenRestart", skew: min, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{50 * sec, "START"}, {55 * sec, "restart"}}, end: 70 * sec,
			open: []string{"RUNNING schedule sched=1m0s start=50s deadline=3m0s early=true"}},
		{name: "SecondStartOpensAReportRun", skew: min, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{50 * sec, "START"}, {52 * sec, "START"}}, end: 55 * sec,
			open: []string{"RUNNING report sched=- start=52s deadline=2m52s early=false",
				"RUNNING schedule sched=1m0s start=50s deadline=3m0s early=true"}},
		{name: "OKEarlyNoOpenRun", skew: min, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{45 * sec, "OK"}}, end: 70 * sec,
			history: []string{"OK schedule sched=1m0s start=45s deadline=3m0s early=true"}},
		{name: "FAILEarlyNoOpenRun", skew: min, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{45 * sec, "FAIL"}, {50 * sec, "restart"}}, end: 70 * sec,
			history: []string{"FAIL schedule sched=1m0s start=45s deadline=3m0s early=true"}},
		{name: "StartAttachesFirst", skew: min, schedule: "*/2 * * * *", maxRuntime: 5 * min,
			steps: []step{{2 * min, ""}, {3*min + 50*sec, "START"}}, end: 4 * min,
			open: []string{"RUNNING schedule sched=2m0s start=2m0s deadline=7m0s early=false",
				"RUNNING schedule sched=4m0s start=4m0s deadline=9m0s early=false"}},
		{name: "OKClosesOpenRunFirst", skew: min, schedule: "*/2 * * * *", maxRuntime: 5 * min,
			steps: []step{{2 * min, ""}, {3*min + 50*sec, "OK"}}, end: 4 * min,
			history: []string{"OK schedule sched=2m0s start=2m0s deadline=7m0s early=false"},
			open:    []string{"RUNNING schedule sched=4m0s start=4m0s deadline=9m0s early=false"}},
		{name: "HalvedToleranceWithin", skew: min, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{30 * sec, "OK"}}, end: 70 * sec,
			history: []string{"OK schedule sched=1m0s start=30s deadline=3m0s early=true"}},
		{name: "HalvedToleranceOutside", skew: min, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{29 * sec, "OK"}, {29 * sec, "START"}}, end: 30 * sec,
			open:        []string{"RUNNING report sched=- start=29s deadline=2m29s early=false"},
			unprocessed: []string{"no open run"}},
		{name: "FullToleranceForLongIntervals", skew: min, schedule: "*/5 * * * *", maxRuntime: 2 * min,
			steps: []step{{4 * min, "OK"}}, end: 5 * min,
			history: []string{"OK schedule sched=5m0s start=4m0s deadline=7m0s early=true"}},
		{name: "BeyondTheSkew", skew: min, schedule: "*/5 * * * *", maxRuntime: 2 * min,
			steps: []step{{4*min - sec, "OK"}}, end: 5 * min,
			open:        []string{"RUNNING schedule sched=5m0s start=5m0s deadline=7m0s early=false"},
			unprocessed: []string{"no open run"}},
		{name: "EarlyBeforeLate", skew: min, schedule: "* * * * *", maxRuntime: 20 * sec,
			steps: []step{{min, ""}, {110 * sec, "OK"}}, end: 2 * min,
			history: []string{"TIMEOUT schedule sched=1m0s start=1m0s deadline=1m20s early=false",
				"OK schedule sched=2m0s start=1m50s deadline=2m20s early=true"}},
		{name: "OffWhenZero", skew: 0, schedule: "* * * * *", maxRuntime: 2 * min,
			steps: []step{{57 * sec, "START"}, {58 * sec, "OK"}, {59 * sec, "OK"}}, end: 70 * sec,
			history:     []string{"OK report sched=- start=57s deadline=2m57s early=false"},
			open:        []string{"RUNNING schedule sched=1m0s start=1m0s deadline=3m0s early=false"},
			unprocessed: []string{"no open run"}},
		{name: "PushOnlyUnchanged", skew: min, schedule: "", maxRuntime: 2 * min,
			steps: []step{{57 * sec, "OK"}}, end: 70 * sec,
			history: []string{"OK report sched=- start=57s deadline=2m57s early=false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSkewServer(t, tt.skew)
			p := process(1, tt.schedule)
			p.MaxRuntime = statesrv.Duration(tt.maxRuntime)
			s.MustDefine(p)
			play(t, s, tt.steps, tt.end)
			if got := runTexts(history(t, s)); !slices.Equal(got, tt.history) {
				t.Errorf("history:\n got  %q\n want %q", got, tt.history)
			}
			if got := runTexts(s.RunnerOpenRuns()); !slices.Equal(got, tt.open) {
				t.Errorf("open runs:\n got  %q\n want %q", got, tt.open)
			}
			var reasons []string
			for _, e := range ofType(s.Events(1), statesrv.EventMessageUnprocessed) {
				reasons = append(reasons, payload[statesrv.MessageUnprocessedData](t, e).Reason)
			}
			if !slices.Equal(reasons, tt.unprocessed) {
				t.Errorf("unprocessed %q, want %q", reasons, tt.unprocessed)
			}
			checkSameOpenRuns(t, s)
		})
	}
}

// TestClockSkewSpecExample plays the example of SPEC §9 through to the
// deadline: one OK run for 10:01, and no run of that fire time times out.
func TestClockSkewSpecExample(t *testing.T) {
	s := newSkewServer(t, time.Minute)
	p := process(1, "* * * * *")
	p.MaxRuntime = statesrv.Duration(2 * time.Minute)
	s.MustDefine(p)
	play(t, s, []step{{57 * time.Second, "START"}, {80 * time.Second, "OK"}}, 10*time.Minute)
	ids := runsFor(t, s, time.Minute)
	if len(ids) != 1 {
		t.Fatalf("runs for the fire time: %v, want one", ids)
	}
	for _, e := range ofType(s.Events(1), statesrv.EventRunTimedOut) {
		if payload[statesrv.RunTimedOutData](t, e).RunID == ids[0] {
			t.Fatalf("the early run timed out")
		}
	}
	run, ok, err := s.Store.FinishedRun(ids[0])
	if err != nil || !ok || run.State != statesrv.StateOK || !run.Early {
		t.Fatalf("run = %+v, %v, %v", run, ok, err)
	}
	var got map[string]any
	b, _ := json.Marshal(run)
	json.Unmarshal(b, &got)
	if got["early"] != true || got["source"] != "schedule" || got["scheduled_at"] != "2026-03-02T08:01:00Z" {
		t.Errorf("run JSON %s", b)
	}
}

func TestStartGrace(t *testing.T) {
	const (
		sec = time.Second
		min = time.Minute
	)
	// Process 1 fires at minute 1 of each hour (t0+1m), may run 10m, and
	// must report within 2m of its fire time.
	tests := []struct {
		name   string
		skew   time.Duration
		steps  []step
		end    time.Duration
		missed int      // RunStartMissed events
		alerts []string // outcomes requested, in order
		final  string   // the run's state at the end
	}{
		{name: "MissedThenLateStartAttaches", steps: []step{{3 * min, ""}, {4 * min, "START"}, {5 * min, "OK"}},
			end: 6 * min, missed: 1, alerts: []string{"start_missed", "ok"}, final: "OK"},
		{name: "MissedRunStaysOpenUntilDeadline", steps: []step{{3 * min, ""}}, end: 11 * min,
			missed: 1, alerts: []string{"start_missed", "timeout"}, final: "TIMEOUT"},
		{name: "StartInTime", steps: []step{{2*min + 59*sec, "START"}}, end: 5 * min, final: "RUNNING"},
		{name: "OKInTime", steps: []step{{90 * sec, "OK"}}, end: 5 * min, alerts: []string{"ok"}, final: "OK"},
		{name: "DueExactlyAtGrace", steps: []step{{3*min - sec, ""}}, end: 3 * min, missed: 1,
			alerts: []string{"start_missed"}, final: "RUNNING"},
		{name: "NoSecondAfterRestart", steps: []step{{3 * min, ""}, {4 * min, "restart"}}, end: 5 * min,
			missed: 1, alerts: []string{"start_missed"}, final: "RUNNING"},
		{name: "RestartBeforeGrace", steps: []step{{2 * min, "restart"}}, end: 3 * min,
			missed: 1, alerts: []string{"start_missed"}, final: "RUNNING"},
		{name: "DueWhileDown", steps: []step{{90 * sec, ""}, {4 * min, "restart"}}, end: 5 * min,
			missed: 1, alerts: []string{"start_missed"}, final: "RUNNING"},
		{name: "EarlyStartIsAStart", skew: min, steps: []step{{50 * sec, "START"}}, end: 5 * min, final: "RUNNING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSkewServer(t, tt.skew)
			p := process(1, "1 * * * *")
			p.MaxRuntime = statesrv.Duration(10 * min)
			p.StartGrace = statesrv.Duration(2 * min)
			p.Alerts = statesrv.Alerts{OK: []string{"mailto:ok@example.com"}, Timeout: []string{"mailto:t@example.com"}}
			s.MustDefine(p)
			play(t, s, tt.steps, tt.end)
			ids := runsFor(t, s, min)
			if len(ids) != 1 {
				t.Fatalf("runs of the fire time: %v, want one", ids)
			}
			evs := ofType(s.Events(1), statesrv.EventRunStartMissed)
			if len(evs) != tt.missed {
				t.Fatalf("%d RunStartMissed, want %d", len(evs), tt.missed)
			}
			for _, e := range evs {
				d := payload[statesrv.RunStartMissedData](t, e)
				if d.RunID != ids[0] || !d.ScheduledAt.Equal(t0.Add(min)) || !d.Due.Equal(t0.Add(3*min)) ||
					time.Duration(d.Grace) != 2*min || e.Actor != statesrv.ActorScheduler {
					t.Errorf("RunStartMissed %s by %s", e.Data, e.Actor)
				}
			}
			if got := alertsOf(t, s); !slices.Equal(got, tt.alerts) {
				t.Errorf("alerts %v, want %v", got, tt.alerts)
			}
			for _, e := range ofType(s.Events(1), statesrv.EventAlertRequested) {
				if a := payload[statesrv.AlertRequestedData](t, e); a.Outcome == statesrv.OutcomeStartMissed &&
					(a.Recipient != "mailto:t@example.com" || a.Run == nil || !a.Run.StartMissed) {
					t.Errorf("start_missed alert %s", e.Data)
				}
			}
			state := "RUNNING"
			if run, ok, _ := s.Store.FinishedRun(ids[0]); ok {
				state = run.State
				if run.StartMissed != (tt.missed > 0) {
					t.Errorf("finished run start_missed = %v", run.StartMissed)
				}
			}
			if state != tt.final {
				t.Errorf("run %s, want %s", state, tt.final)
			}
			checkSameOpenRuns(t, s)
		})
	}
}
