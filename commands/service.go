// Package commands is the write side: from the current state and one input
// (a report, a definition, the clock reaching a deadline or a fire time) it
// decides which events happen and appends them to the log.
//
// Decisions are serialized by one mutex and applied at once to the
// Service's own projections.Core, so the next decision sees them even
// before the group commit has synced them; the caller waits for durability
// on the Receipt. If the disk is full the log refuses every append until
// the Service has re-read its state from the log (Recover); if a commit
// fails the log stops until a restart. Either way the state never runs
// ahead of what is written for longer than the refusal.
package commands

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// Service decides and appends events.
type Service struct {
	log    eventlog.Log
	clock  clock.Clock
	logger *slog.Logger
	// started is when this Service began: fire times before it passed while
	// the server was down.
	started time.Time
	// unprocessed finds a message that may be dismissed (it reads the
	// stored views).
	unprocessed func(id string) (statesrv.Unprocessed, bool, error)
	// finishedRun finds a run in history (the stored views).
	finishedRun func(id string) (statesrv.Run, bool, error)

	// skew is how long before a fire time a report may come and still
	// belong to that fire time's run (0: off).
	skew time.Duration
	// reload rebuilds the state from the log after a full disk.
	reload func(ctx context.Context) (*projections.Core, error)

	mu        sync.Mutex
	core      *projections.Core
	deadlines deadlineHeap
	// graces holds the scheduled runs waiting for their first report, by
	// fire time plus start_grace.
	graces    deadlineHeap
	fires     fireHeap
	scheds    map[int64]*schedule.Schedule
	dismissed map[string]bool // dismissed since start, not yet in the views
	wake      chan struct{}
	// sleepUntil is the next wake-up the last Tick asked for (zero: none).
	sleepUntil time.Time
	// limits counts refused and unprocessed lines per address.
	limits *limiter
	// used keeps when each API token was last used, in memory only.
	used tokenUse
}

// Config wires a Service.
type Config struct {
	Log    eventlog.Log
	Clock  clock.Clock
	Logger *slog.Logger
	// Core is the state as of the end of the log (the caller builds it from
	// the stored views and the log's tail); the Service owns it afterwards.
	Core *projections.Core
	// Unprocessed finds a message in the unprocessed view.
	Unprocessed func(id string) (statesrv.Unprocessed, bool, error)
	// FinishedRun finds a run in history, so that a report naming a run
	// that timed out long ago is still "late".
	FinishedRun func(id string) (statesrv.Run, bool, error)
	// ClockSkew is how long before one of its fire times a report of a
	// scheduled process still belongs to that fire time's run (SPEC §9);
	// 0 turns it off.
	ClockSkew time.Duration
	// Reload returns the state as of the end of the log, as Core was
	// built; the Service calls it when the log takes appends again after a
	// full disk. Nil folds the whole log.
	Reload func(ctx context.Context) (*projections.Core, error)
	// UnprocessedRate is how many refused and unprocessed lines of one
	// address are stored a minute (SPEC §10); 0 takes
	// DefaultUnprocessedRate.
	UnprocessedRate int
}

// New returns a Service over cfg.Core.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Unprocessed == nil {
		cfg.Unprocessed = func(string) (statesrv.Unprocessed, bool, error) {
			return statesrv.Unprocessed{}, false, nil
		}
	}
	if cfg.FinishedRun == nil {
		cfg.FinishedRun = func(string) (statesrv.Run, bool, error) { return statesrv.Run{}, false, nil }
	}
	s := &Service{
		log: cfg.Log, clock: cfg.Clock, logger: cfg.Logger,
		started: cfg.Clock.Now(), unprocessed: cfg.Unprocessed, finishedRun: cfg.FinishedRun,
		wake: make(chan struct{}, 1), skew: max(cfg.ClockSkew, 0), reload: cfg.Reload,
		limits: newLimiter(cfg.UnprocessedRate),
	}
	if s.reload == nil {
		s.reload = s.reloadFromLog
	}
	s.load(cfg.Core)
	return s
}

// Load returns the function that builds the write side's state as of the
// end of l: the core store holds, caught up with the events it has not
// seen (Config.Core at a start, Config.Reload after a full disk).
func Load(store *projections.Store, l eventlog.Log) func(ctx context.Context) (*projections.Core, error) {
	return func(ctx context.Context) (*projections.Core, error) {
		core, err := store.LoadCore()
		if err == nil {
			err = CatchUp(ctx, l, core)
		}
		return core, err
	}
}

// CatchUp applies to c every event of l after c.Seq: the tail the stored
// views have not seen yet.
func CatchUp(ctx context.Context, l eventlog.Log, c *projections.Core) error {
	for e, err := range l.Range(ctx, c.Seq+1, 0) {
		if err == nil {
			_, err = c.Apply(e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Receipt is a decision on its way to disk.
type Receipt struct {
	p *eventlog.Pending
	// refused is the error the client is told even though the line was
	// recorded (a malformed line, a bad key).
	refused error
	// run is the run a command opened, for callers that return it.
	run *statesrv.Run
}

// Wait returns the seq of the first event of the decision once it is
// durable. For a refused report it returns the refusal (an *statesrv.Error)
// after the rejection is recorded. A storage failure is an *statesrv.Error
// with code EFull ("storage full") or EUnavail.
func (r *Receipt) Wait(ctx context.Context) (uint64, error) {
	evs, err := r.p.Wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return 0, err
		}
		return 0, storageError(err)
	}
	if r.refused != nil {
		return 0, r.refused
	}
	if len(evs) == 0 {
		return 0, nil
	}
	return evs[0].Seq, nil
}

// Done is closed when Wait will not block.
func (r *Receipt) Done() <-chan struct{} { return r.p.Done() }

// Run returns the run the command opened, if any.
func (r *Receipt) Run() *statesrv.Run { return r.run }

// Duplicate reports whether the receipt stands for an earlier report with
// the same mid.
func (r *Receipt) Duplicate() bool { return r.p.Duplicate() }

// decision collects the records of one command and applies each to the
// Service's state as it is added. It is used with s.mu held.
type decision struct {
	s     *Service
	at    time.Time
	actor string
	recs  []eventlog.Record
	err   error
}

func (s *Service) decide(actor string) *decision {
	return &decision{s: s, at: s.clock.Now().UTC(), actor: actor}
}

// add appends one event of type typ about process pid with payload data.
// It returns what the event changed in the views (the closed run, say).
func (d *decision) add(typ string, pid int64, data any) projections.Effect {
	raw, err := statesrv.EncodePayload(typ, d.at, data)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("commands: encode %s: %w", typ, err)
	}
	d.recs = append(d.recs, eventlog.Record{Type: typ, Time: d.at, Actor: d.actor, ProcessID: pid, Data: raw})
	if m, ok := data.(*statesrv.MessageReceivedData); ok {
		d.s.core.ReceivedPending(d.at, pid, m)
		return projections.Effect{}
	}
	eff := d.s.core.ApplyPayload(0, d.at, pid, data)
	d.s.core.ClearDirty()
	switch v := data.(type) {
	case *statesrv.RunStartedData:
		d.s.deadlines.push(v.Deadline, v.RunID)
		d.s.awaitStart(d.s.core.Runs[v.RunID])
		if v.Early {
			d.s.reschedule(d.s.core.Procs[pid]) // its fire time is taken
		}
	case *statesrv.RunAttachedData:
		d.s.graces.remove(v.RunID)
	case *statesrv.RunStartMissedData:
		d.s.graces.remove(v.RunID)
	case *statesrv.RunFinishedData:
		d.s.deadlines.remove(v.RunID)
		d.s.graces.remove(v.RunID)
	case *statesrv.RunTimedOutData:
		d.s.deadlines.remove(v.RunID)
		d.s.graces.remove(v.RunID)
	case *statesrv.Process:
		d.s.reschedule(d.s.core.Procs[v.ID])
		for _, r := range d.s.core.OpenRuns(v.ID) {
			d.s.graces.remove(r.ID) // start_grace may have changed
			d.s.awaitStart(r)
		}
		d.s.signal()
	case *statesrv.ProcessDeletedData:
		delete(d.s.scheds, pid)
		d.s.signal()
	case *statesrv.ScheduleGapData:
		d.s.reschedule(d.s.core.Procs[pid])
	}
	return eff
}

// submit sends the records to the log. key, if set, is the idempotency key
// of the first record.
func (d *decision) submit(key string) *Receipt {
	if d.err != nil {
		return &Receipt{p: eventlog.Resolved(nil, false, d.err)}
	}
	if key != "" && len(d.recs) > 0 {
		d.recs[0].Key = key
	}
	// Wake the scheduler only when a run opened by this decision (and still
	// open) falls due before the wake-up it already has: a report that opens
	// and closes a run at once wakes nobody.
	for _, head := range []time.Time{d.s.deadlines.next(), d.s.graces.next()} {
		if !head.IsZero() && (d.s.sleepUntil.IsZero() || head.Before(d.s.sleepUntil)) {
			d.s.signal()
		}
	}
	return &Receipt{p: d.s.log.Submit(d.recs)}
}

// signal wakes the Run loop to recompute its next wake-up.
func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// Now returns the Service's clock reading.
func (s *Service) Now() time.Time { return s.clock.Now() }
