// Package datadir is a server's data directory: the log under log/ and the
// views under views/. Open opens the directory of a stopped server for the
// command line's --data tools (replay, rebuild, state, verify, backup);
// Restore creates the log of an empty one from a backup.
package datadir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// Paths returns the log's and the views' directories under data.
func Paths(data string) (logDir, viewsDir string) {
	return filepath.Join(data, "log"), filepath.Join(data, "views")
}

// Options says what Open opens besides the log.
type Options struct {
	// Views opens the views too, with a Runner that folds the log into
	// them. Views ahead of the log (made from another log, such as the
	// one before a restore) are dropped, to be rebuilt: they are derived
	// data.
	Views bool
	// ReadOnly opens the log without writing to data (verify, replay,
	// state, backup), so that a read-only copy can be audited. A log left
	// by a crash is recovered first where data can be written, as the
	// server's next start would; on read-only media it is refused.
	// ReadOnly does not go with Views.
	ReadOnly bool
}

// Dir is the storage of a stopped server's data directory.
type Dir struct {
	Log *eventlog.Badger
	// Store and Runner are the views, with Options.Views only.
	Store  *projections.Store
	Runner *projections.Runner
}

// Open opens the storage in data that opt asks for. It returns an error
// when data holds no log, and when the log is locked: Badger locks its
// directory, so Open fails while a server runs on it (the error is
// eventlog.ErrLocked, and says to use --url). A file it may not read or
// write is named in the error.
func Open(ctx context.Context, data string, opt Options) (*Dir, error) {
	if opt.Views && opt.ReadOnly {
		return nil, errors.New("datadir: the views cannot be opened read-only")
	}
	logDir, viewsDir := Paths(data)
	if _, err := os.Stat(logDir); err != nil {
		return nil, fmt.Errorf("no log in %s: %w", data, err)
	}
	l, err := openLog(logDir, opt.ReadOnly)
	if errors.Is(err, eventlog.ErrLocked) {
		return nil, fmt.Errorf("%w (a server is running on %s: use --url, or stop it first)", err, data)
	}
	if err != nil {
		return nil, err
	}
	d := &Dir{Log: l}
	if !opt.Views {
		return d, nil
	}
	if d.Store, err = projections.OpenStore(viewsDir, nil); err != nil {
		l.Close()
		return nil, err
	}
	d.Runner, err = projections.NewRunner(l, d.Store, nil)
	if errors.Is(err, projections.ErrViewsAhead) {
		if err = d.Store.Drop(); err == nil {
			d.Runner, err = projections.NewRunner(l, d.Store, nil)
		}
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// openLog opens the log in dir, read-only if asked. A read-only open of a
// log left by a crash tries the recovery of a writable open, and says so
// when that fails too.
func openLog(dir string, readOnly bool) (*eventlog.Badger, error) {
	l, err := eventlog.OpenBadger(logOptions(eventlog.Options{Dir: dir, ReadOnly: readOnly}))
	if !errors.Is(err, eventlog.ErrNeedsRecovery) {
		return l, err
	}
	l, rerr := eventlog.OpenBadger(logOptions(eventlog.Options{Dir: dir}))
	if rerr != nil {
		return nil, fmt.Errorf("%w; recovering it failed: %w", err, rerr)
	}
	return l, nil
}

// Close closes the views, if open, and the log.
func (d *Dir) Close() error {
	var errs []error
	if d.Store != nil {
		errs = append(errs, d.Store.Close())
	}
	return errors.Join(append(errs, d.Log.Close())...)
}

// logOptions are o with what the log must know of statesrv's events: the
// codes of their types, and their payloads' JSON for backups.
func logOptions(o eventlog.Options) eventlog.Options {
	o.TypeCodes = statesrv.EventTypeCodes()
	o.Payloads = statesrv.Payloads{}
	return o
}
