package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
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
		if st.state != "" {
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
