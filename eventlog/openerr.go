package eventlog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// Errors of OpenBadger that the command line explains. Badger's own errors
// keep only their text (it wraps with %+v), so OpenBadger finds out what
// went wrong itself after Badger refused to open (openError).
var (
	// ErrLocked is returned when another process has the log open: a
	// running server, or, for a writable open, any other open.
	ErrLocked = errors.New("eventlog: locked by another process")
	// ErrNeedsRecovery is returned by a read-only open of a log that was
	// not closed (its process crashed or was killed): Badger replays and
	// truncates its write-ahead log only in a writable open.
	ErrNeedsRecovery = errors.New("eventlog: not closed cleanly (a crash?); only a writable open recovers it")
)

// openError says why Badger refused to open opt.Dir: the lock held by
// another process, a log that needs recovery, or the first path that the
// open needs and may not read (or write); else Badger's error.
func openError(opt Options, err error) error {
	switch {
	case lockHeld(opt.Dir, !opt.ReadOnly, err):
		return fmt.Errorf("%w: %s", ErrLocked, opt.Dir)
	case opt.ReadOnly && strings.Contains(err.Error(), badger.ErrTruncateNeeded.Error()):
		return fmt.Errorf("%w: %s", ErrNeedsRecovery, opt.Dir)
	}
	if perr := access(opt.Dir, !opt.ReadOnly); perr != nil {
		return fmt.Errorf("eventlog: open %s: %w", opt.Dir, perr)
	}
	return fmt.Errorf("eventlog: open %s: %w", opt.Dir, err)
}

// readOnlyUnsupported reports Badger's refusal of a read-only open on a
// system where it cannot share its directory lock (Windows, Plan 9).
func readOnlyUnsupported(err error) bool {
	return errors.Is(err, badger.ErrWindowsNotSupported) || errors.Is(err, badger.ErrPlan9NotSupported)
}
