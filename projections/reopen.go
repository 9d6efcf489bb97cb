package projections

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv/eventlog"
)

// view runs fn in a read transaction of the current database; the shared
// hold on mu keeps it open until fn returns, across the one swap of reopen.
func (s *Store) view(fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(fn)
}

// handle returns the current database, for the writer (which alone
// reopens it) and Close.
func (s *Store) handle() *badger.DB {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db
}

// reopen replaces the views opened read-only on a full disk by writable
// ones, as eventlog's reopen does for the log: Badger's read-only open
// holds the directory's lock shared, so it is closed first; readers hold
// mu shared for a whole read, and reopen tries to take it for at most
// eventlog.ReopenWait (waiting in Lock would deadlock with a reader that
// reads again inside its read), then returns eventlog.ErrBusy and the
// writer tries again later.
func (s *Store) reopen() error {
	deadline := time.Now().Add(eventlog.ReopenWait)
	for !s.mu.TryLock() {
		if time.Now().After(deadline) {
			return eventlog.ErrBusy
		}
		time.Sleep(time.Millisecond)
	}
	defer s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("projections: reopen: close the read-only views: %w", err)
	}
	db, err := badger.Open(s.opts.WithReadOnly(false))
	if err != nil {
		werr := fmt.Errorf("projections: reopen writable: %w", err)
		// Reads go on from the views as they were.
		ro, err := badger.Open(s.opts.WithReadOnly(true))
		if err != nil {
			return errors.Join(werr, err) // reads get badger.ErrDBClosed
		}
		s.db = ro
		return werr
	}
	s.db = db
	s.readOnly.Store(false)
	s.logger.Info("views: disk has room; the views opened read-only are writable now")
	// Views of an older format are dropped now, to be rebuilt (OpenStoreWith
	// skipped the check read-only); s.mu is held, so checkFormat uses s.db.
	return s.checkFormat(s.opts.Dir)
}
