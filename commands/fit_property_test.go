package commands_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/projections"
)

// fitSchedules are the schedules the clock-skew property draws from, with
// the interval between their fire times.
var fitSchedules = []struct {
	spec     string
	interval time.Duration
}{
	{"*/10 * * * * *", 10 * time.Second},
	{"@every 45s", 45 * time.Second},
	{"* * * * *", time.Minute},
	{"*/2 * * * *", 2 * time.Minute},
	{"*/5 * * * *", 5 * time.Minute},
}

// fitEvent is one moment of a drawn timeline: a scheduler tick (state ""),
// a restart, or a job's report.
type fitEvent struct {
	at    time.Time
	order int // among events at one instant: ticks, then reports in job order, then restarts
	pid   int64
	state string
}

// TestClockSkewProperty draws schedules, clock-skew tolerances, jobs whose
// clocks are off by up to the tolerance (either way), whether each job
// reports START, how long it runs and how it ends, and restarts at random
// moments (the Service reopened from the same log). Every fire time that a
// job ran for must end with exactly one run, closed by the job's report
// (none times out, none is unprocessed, none opens a second run), and the
// live views must equal a rebuild from the log.
func TestClockSkewProperty(t *testing.T) {
	checkWorlds(t, 30, func(rt *rapid.T, dir string, rebuild *projections.Store) {
		skew := time.Duration(rapid.SampledFrom([]int{5, 30, 60, 90}).Draw(rt, "skew_s")) * time.Second
		m := &propModel{rt: rt, rebuild: rebuild, skew: skew}
		m.s = &server{tb: rt, clock: clock.NewFake(t0), logDir: dir + "/log", viewsDir: dir + "/views", ClockSkew: skew}
		m.s.open()
		defer func() { m.s.Close() }()

		var timeline []fitEvent
		fires := map[int64][]time.Time{}
		procs := rapid.IntRange(1, 2).Draw(rt, "processes")
		end := t0
		for pid := int64(1); pid <= int64(procs); pid++ {
			sch := rapid.SampledFrom(fitSchedules).Draw(rt, "schedule")
			tol := min(skew, sch.interval/2)
			p := process(pid, sch.spec)
			p.MaxRuntime = statesrv.Duration(2*sch.interval + 2*skew)
			m.s.MustDefine(p)
			// The job's clock is off by offset: negative runs ahead, so its
			// reports come early.
			offset := time.Duration(rapid.Int64Range(-int64(tol/time.Millisecond), int64(tol/time.Millisecond)).
				Draw(rt, "offset_ms")) * time.Millisecond
			jobs := rapid.IntRange(1, 4).Draw(rt, "jobs")
			for k := 1; k <= jobs; k++ {
				fire := t0.Add(time.Duration(k) * sch.interval)
				fires[pid] = append(fires[pid], fire)
				start := fire.Add(offset)
				// A job ends before the next one starts.
				ran := time.Duration(rapid.Int64Range(0, int64((sch.interval-time.Second)/time.Millisecond)).
					Draw(rt, "ran_ms")) * time.Millisecond
				timeline = append(timeline, fitEvent{at: fire, order: 0, state: ""})
				if rapid.Bool().Draw(rt, "sends_start") {
					timeline = append(timeline, fitEvent{at: start, order: 1, pid: pid, state: statesrv.StateStart})
				}
				state := rapid.SampledFrom([]string{statesrv.StateOK, statesrv.StateFail}).Draw(rt, "end_state")
				timeline = append(timeline, fitEvent{at: start.Add(ran), order: 2, pid: pid, state: state})
				end = maxTime(end, start.Add(ran))
			}
		}
		for range rapid.IntRange(0, 3).Draw(rt, "restarts") {
			at := t0.Add(time.Duration(rapid.Int64Range(0, int64(end.Sub(t0)/time.Millisecond)).Draw(rt, "restart_ms")) * time.Millisecond)
			timeline = append(timeline, fitEvent{at: at, order: 3, state: "restart"})
		}
		slices.SortStableFunc(timeline, func(a, b fitEvent) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return cmp.Compare(a.order, b.order)
		})

		for _, e := range timeline {
			m.s.clock.Set(e.at)
			m.s.Tick()
			switch e.state {
			case "":
			case "restart":
				m.s.Restart()
				m.s.Tick()
				m.rebind = true
				m.s.CatchUp()
				m.check()
			default:
				if _, err := m.s.wait(m.s.Service.Report(report(e.pid, e.state))); err != nil {
					rt.Fatalf("report %d %s at %v: %v", e.pid, e.state, e.at.Sub(t0), err)
				}
			}
		}
		m.s.clock.Set(end)
		m.s.Tick()
		m.s.CatchUp()
		m.full = true
		m.check()

		// Every fire time a job ran for has exactly one run, closed by the
		// job's report; nothing is unprocessed and no report opened a run
		// of its own. Fire times after a process's last job are no one's.
		jobFire := func(pid int64, at time.Time) bool {
			return slices.ContainsFunc(fires[pid], at.Equal)
		}
		runsOf := map[string]time.Time{}
		count := map[string]int{}
		key := func(pid int64, at time.Time) string { return fmt.Sprint(pid, " ", at.Sub(t0)) }
		for _, e := range m.events {
			switch e.Type {
			case statesrv.EventRunStarted:
				d := payload[statesrv.RunStartedData](rt, e)
				if d.ScheduledAt == nil {
					rt.Fatalf("a report opened a run of its own: %s", e.Data)
				}
				runsOf[d.RunID] = *d.ScheduledAt
				count[key(e.ProcessID, *d.ScheduledAt)]++
			case statesrv.EventRunTimedOut:
				d := payload[statesrv.RunTimedOutData](rt, e)
				if at := runsOf[d.RunID]; jobFire(e.ProcessID, at) {
					rt.Fatalf("run %s of process %d for %v timed out", d.RunID, e.ProcessID, at.Sub(t0))
				}
			case statesrv.EventMessageUnprocessed:
				rt.Fatalf("a report was unprocessed: %s", e.Data)
			}
		}
		finished := map[string]int{}
		for _, e := range ofType(m.events, statesrv.EventRunFinished) {
			d := payload[statesrv.RunFinishedData](rt, e)
			finished[key(e.ProcessID, runsOf[d.RunID])]++
		}
		for pid, list := range fires {
			for _, f := range list {
				if n, done := count[key(pid, f)], finished[key(pid, f)]; n != 1 || done != 1 {
					rt.Fatalf("process %d, fire time %v: %d runs, %d finished; want one run, finished", pid, f.Sub(t0), n, done)
				}
			}
		}
		if n := len(ofType(m.events, statesrv.EventRunFinished)); n != len(fires[1])+len(fires[2]) {
			rt.Fatalf("%d runs finished, want one per job", n)
		}
	})
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
