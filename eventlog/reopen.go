package eventlog

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// ErrBusy is returned by Resume when readers of a log opened read-only on
// a full disk did not finish within ReopenWait: the caller tries again.
var ErrBusy = errors.New("eventlog: readers busy; reopen later")

// ReopenWait bounds how long Resume waits for the readers of a read-only
// database before it gives up for this time.
const ReopenWait = 2 * time.Second

// view runs fn in a read transaction of the current database. The shared
// hold on dbMu keeps the database open until fn returns, across the one
// swap of reopen.
func (l *Badger) view(fn func(txn *badger.Txn) error) error {
	l.dbMu.RLock()
	defer l.dbMu.RUnlock()
	return l.db.View(fn)
}

// reopen replaces the database opened read-only on a full disk by a
// writable one, now that there is room, and starts the committer. l.mu is
// held, and nothing is queued (the log refused every append).
//
// Badger's read-only open holds the directory's lock shared, so it must be
// closed before the writable open. Readers (Range, Existing, Verify) hold
// dbMu shared for a whole read; reopen takes it exclusively by trying, not
// by waiting in Lock, so that a reader that reads again inside its read
// never deadlocks with it: after ReopenWait it gives up with ErrBusy. While
// it holds dbMu, new readers wait, at most for a close and an open.
func (l *Badger) reopen() error {
	deadline := time.Now().Add(ReopenWait)
	for !l.dbMu.TryLock() {
		if time.Now().After(deadline) {
			return ErrBusy
		}
		time.Sleep(time.Millisecond)
	}
	defer l.dbMu.Unlock()
	if err := l.db.Close(); err != nil {
		return l.reopenFailed(fmt.Errorf("eventlog: reopen: close the read-only database: %w", err))
	}
	opt := l.opt
	opt.ReadOnly = false
	wo, err := badgerOptions(opt)
	if err != nil {
		return err // the options did not change since the open, which took them
	}
	ro, err := badgerOptions(l.opt)
	if err != nil {
		return err
	}
	db, err := badger.Open(wo)
	if err != nil {
		werr := fmt.Errorf("eventlog: reopen writable: %w", err)
		// Reads go on from the database as it was.
		ro, err := badger.Open(ro)
		if err != nil {
			return l.reopenFailed(errors.Join(werr, err))
		}
		l.db = ro
		return werr
	}
	l.db = db
	l.opt.ReadOnly = false
	l.closed = false
	l.stopped = make(chan struct{})
	go l.commitLoop()
	l.logger.Info("eventlog: disk has room; the log opened read-only is writable now", "seq", l.lastSeq.Load())
	return nil
}

// reopenFailed stops the log: no database is open any more. l.mu is held.
func (l *Badger) reopenFailed(err error) error {
	err = fmt.Errorf("%w: %w", ErrStopped, err)
	l.logger.Error("eventlog: reopen failed; the log is stopped", "error", err)
	l.failed = err
	close(l.failedCh)
	return err
}
