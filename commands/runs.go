package commands

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/projections"
)

// StartRun opens a run of process id now (the API's start call, `statesrv
// start`). It returns ENotFound for an unknown process.
func (s *Service) StartRun(id int64, actor string) (*Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.core.Procs[id] == nil {
		return nil, statesrv.Errorf(statesrv.ENotFound, "process %d not found", id)
	}
	d := s.decide(actor)
	data := s.openRun(d, id, statesrv.SourceManual, "", "")
	r := d.submit("")
	run := *s.core.Runs[data.RunID]
	r.run = &run
	return r, nil
}

// OpenRuns returns copies of every open run, earliest deadline first, as
// the write side sees them.
func (s *Service) OpenRuns() []statesrv.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.AllOpenRuns()
}

// Tick does what is due at the clock's current time: it opens the runs of
// due fire times and times out runs past their deadline, in one append of
// at most about maxTickEvents events (the rest stays due at once). It
// returns the receipt (nil when nothing was due) and when the next thing
// falls due (zero when nothing is waiting).
func (s *Service) Tick() (*Receipt, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.decide(statesrv.ActorScheduler)
	s.fire(d)
	s.startsMissed(d)
	s.timeOut(d)
	repeat := s.repeatAlerts(d)
	s.dropsDue(d)
	var r *Receipt
	if len(d.recs) > 0 {
		r = d.submit("")
	}
	next := s.deadlines.next()
	for _, t := range []time.Time{s.fires.next(), s.graces.next(), repeat, s.limits.due.next()} {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	s.sleepUntil = next
	return r, next
}

// maxTickEvents bounds the events of one Tick's append: a backlog (many
// runs past their deadline after a long stop) in one append could be too
// big for the log to commit, and would be tried again at every start. What
// is left stays due, so the next Tick comes at once and takes it.
const maxTickEvents = 1000

// timeOut adds a RunTimedOut for every open run whose deadline has passed,
// up to maxTickEvents in the decision. The deadline heap may hold entries
// for runs already closed; they are skipped, so a run times out at most
// once.
func (s *Service) timeOut(d *decision) {
	for at, id := range due[string](d, &s.deadlines) {
		r := s.core.Runs[id]
		if r == nil || !r.Deadline.Equal(at) {
			continue
		}
		var prev projections.ProcessState
		if ps := s.core.Procs[r.ProcessID]; ps != nil {
			prev = *ps
		}
		eff := d.add(statesrv.EventRunTimedOut, r.ProcessID, &statesrv.RunTimedOutData{RunID: r.ID, Deadline: r.Deadline})
		s.requestAlerts(d, r.ProcessID, statesrv.OutcomeTimeout, eff.Closed, "", prev)
	}
}

// awaitStart puts a scheduled run that has had no report yet into the
// graces heap, due at its fire time plus the process's start_grace. Runs
// already reported, opened early, or already past their grace (a
// RunStartMissed in the log) are left out, so a restart declares a missed
// start at most once. s.mu is held.
func (s *Service) awaitStart(r *statesrv.Run) {
	if r == nil || r.ScheduledAt == nil || r.Reported != nil || r.Early || r.StartMissed {
		return
	}
	ps := s.core.Procs[r.ProcessID]
	if ps == nil || ps.StartGrace <= 0 {
		return
	}
	s.graces.push(r.ScheduledAt.Add(time.Duration(ps.StartGrace)), r.ID)
}

// startsMissed adds a RunStartMissed, with start_missed alerts to the
// timeout recipients, for every scheduled run with no report by its fire
// time plus start_grace. The run stays open until its deadline.
func (s *Service) startsMissed(d *decision) {
	for len(d.recs) < maxTickEvents {
		at, id, ok := s.graces.peek()
		if !ok || at.After(d.at) {
			return
		}
		s.graces.pop()
		r := s.core.Runs[id]
		if r == nil || r.ScheduledAt == nil || r.Reported != nil || r.StartMissed {
			continue
		}
		ps := s.core.Procs[r.ProcessID]
		if ps == nil || ps.StartGrace <= 0 {
			continue
		}
		d.add(statesrv.EventRunStartMissed, r.ProcessID, &statesrv.RunStartMissedData{
			RunID: r.ID, ScheduledAt: *r.ScheduledAt, Grace: ps.StartGrace, Due: at})
		run := *r
		s.requestAlerts(d, r.ProcessID, statesrv.OutcomeStartMissed, &run, "", *ps)
	}
}

// fire opens a run for each process whose next fire time has come. A
// process with several due fire times, or one that fell due before this
// Service started (the server was down), opens only the latest, marked
// missed, and records the gap. It stops at maxTickEvents events.
func (s *Service) fire(d *decision) {
	for _, pid := range due[int64](d, &s.fires) {
		ps := s.core.Procs[pid]
		sch := s.scheds[pid]
		if ps == nil || sch == nil || !ps.Enabled {
			continue
		}
		latest, count, ok := sch.Latest(ps.Fired, d.at)
		if !ok {
			s.reschedule(ps)
			continue
		}
		missed := count > 1 || latest.Before(s.started)
		fireAt := latest
		data := &statesrv.RunStartedData{
			RunID: newID(), Source: statesrv.SourceSchedule, StartedAt: latest, ScheduledAt: &fireAt,
			Deadline: latest.Add(time.Duration(ps.MaxRuntime)), Missed: missed,
		}
		if missed {
			first := sch.Next(ps.Fired)
			d.add(statesrv.EventScheduleGap, pid, &statesrv.ScheduleGapData{
				From: first, To: latest, Missed: count, RunID: data.RunID})
		}
		d.add(statesrv.EventRunStarted, pid, data)
		s.reschedule(ps)
	}
}

// reschedule computes the next fire time of a process after its Fired mark.
// s.mu is held.
func (s *Service) reschedule(ps *projections.ProcessState) {
	if ps == nil {
		return
	}
	if ps.Schedule == "" || !ps.Enabled || ps.FiredBy == statesrv.FiredByCron {
		delete(s.scheds, ps.ID)
		s.fires.set(ps.ID, time.Time{})
		return
	}
	sch, err := schedule.Parse(ps.Schedule, ps.Timezone)
	if err != nil {
		s.logger.Error("commands: stored schedule does not parse", "process_id", ps.ID, "error", err)
		delete(s.scheds, ps.ID)
		s.fires.set(ps.ID, time.Time{})
		return
	}
	s.scheds[ps.ID] = sch
	s.fires.set(ps.ID, sch.Next(ps.Fired))
}

// NextFires returns the next n fire times of process id from now (for the
// schedule page and the API).
func (s *Service) NextFires(id int64, n int) []time.Time {
	s.mu.Lock()
	sch := s.scheds[id]
	s.mu.Unlock()
	if sch == nil {
		return nil
	}
	out := make([]time.Time, 0, n)
	t := s.clock.Now()
	for range n {
		t = sch.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// Fire is a time at which the scheduler will open a run of a process.
type Fire struct {
	ProcessID int64
	At        time.Time
}

// SoonestFires returns the n soonest fire times the scheduler waits for,
// soonest first (by process id at one instant): the processes it fires
// itself, enabled, with a schedule.
func (s *Service) SoonestFires(n int) []Fire {
	s.mu.Lock()
	defer s.mu.Unlock()
	order := func(a, b Fire) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.ProcessID, b.ProcessID)
	}
	out := make([]Fire, 0, n+1)
	for pid, at := range s.fires.curr {
		f := Fire{ProcessID: pid, At: at}
		if len(out) == n && order(f, out[n-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(out, f, order)
		out = slices.Insert(out, i, f)
		if len(out) > n {
			out = out[:n]
		}
	}
	return out
}

// Run ticks whenever something falls due, until ctx ends. It waits for each
// tick's append before the next, and logs (but survives) append failures:
// the log then refuses everything and the server stops.
func (s *Service) Run(ctx context.Context) error {
	for {
		r, next := s.Tick()
		if r != nil {
			if _, err := r.Wait(ctx); err != nil && ctx.Err() == nil && statesrv.ErrorCode(err) != statesrv.EFull {
				s.logger.Error("commands: scheduled append failed", "error", err)
			}
		}
		var timer <-chan time.Time
		if !next.IsZero() {
			timer = s.clock.At(next)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-timer:
		case <-s.wake:
		}
	}
}
