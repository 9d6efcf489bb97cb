package commands

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// refusing is a log that refuses appends while its disk is full and takes
// them again when told (eventlog.Badger). Other logs never refuse.
type refusing interface {
	// Full returns why appends are refused, or nil.
	Full() error
	// Room returns an error while the disk still lacks head-room.
	Room() error
	// Resume takes appends again.
	Resume() error
}

// ResumePoll is how often Recover looks for room on a full disk: ingest
// resumes within about this long (SPEC §10 promises 5 s).
const ResumePoll = time.Second

// errStorageFull is what a client is told while the disk is full.
var errStorageFull = &statesrv.Error{Code: statesrv.EFull, Message: "storage full"}

// storageError turns the log's refusal into the client's error.
func storageError(err error) error {
	if errors.Is(err, eventlog.ErrDiskFull) || errors.Is(err, syscall.ENOSPC) {
		return errStorageFull
	}
	return &statesrv.Error{Code: statesrv.EUnavail, Message: "storage unavailable"}
}

// Degraded returns why the write side takes no appends (a full disk, a
// stopped log), or nil.
func (s *Service) Degraded() error {
	if r, ok := s.log.(refusing); ok {
		if err := r.Full(); err != nil {
			return err
		}
	}
	if r, ok := s.log.(interface{ Err() error }); ok {
		return r.Err()
	}
	return nil
}

// Recover runs until ctx ends: while the log refuses appends for a full
// disk it looks for room every ResumePoll, and once there is room it
// re-reads its state from the log and lets the log take appends again.
func (s *Service) Recover(ctx context.Context) {
	r, ok := s.log.(refusing)
	if !ok {
		return
	}
	t := time.NewTicker(ResumePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.Full() == nil || r.Room() != nil {
			continue
		}
		if err := s.resume(ctx, r); err != nil && ctx.Err() == nil {
			s.logger.Warn("commands: resume after a full disk", "error", err)
		}
	}
}

// resume rebuilds the Service's state from the log, under s.mu so that no
// decision comes between, and then tells the log to take appends. The
// state held the refused decisions, which are not in the log.
func (s *Service) resume(ctx context.Context, r refusing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	core, err := s.reload(ctx)
	if err != nil {
		return err
	}
	s.load(core)
	s.signal() // the scheduler's next wake-up may have changed
	if err := r.Resume(); err != nil {
		return err
	}
	s.logger.Info("commands: storage has room again; taking reports", "seq", core.Seq)
	return nil
}

// reloadFromLog is the Reload of a Service configured without one: the
// whole log, folded.
func (s *Service) reloadFromLog(ctx context.Context) (*projections.Core, error) {
	c := projections.NewCore()
	return c, CatchUp(ctx, s.log, c)
}

// load makes core the Service's state, with the deadlines, start graces
// and fire times it implies. s.mu is held (or the Service is new).
func (s *Service) load(core *projections.Core) {
	s.core = core
	s.core.Untrack()
	s.deadlines, s.graces, s.fires = deadlineHeap{}, deadlineHeap{}, fireHeap{}
	s.scheds = map[int64]*schedule.Schedule{}
	s.dismissed = map[string]bool{}
	s.sleepUntil = time.Time{}
	for _, r := range s.core.Runs {
		s.deadlines.push(r.Deadline, r.ID)
		s.awaitStart(r)
	}
	for _, ps := range s.core.Procs {
		s.reschedule(ps)
	}
}
