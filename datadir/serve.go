package datadir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// ServerOptions says how OpenServer opens a server's storage.
type ServerOptions struct {
	Logger *slog.Logger
	// Now is the log's clock.
	Now func() time.Time
	// FreeBytes measures the free space under the directory (nil: the file
	// system's count).
	FreeBytes func(dir string) (int64, error)
	// Serving opens the storage of a running server: on a full disk it
	// comes up read-only (degraded), its pages and reads work, and reports
	// are refused as storage full until there is room (then the Service's
	// Recover reopens the log writable, and the Runner the views). Without
	// it (the CLI's offline commands) a full disk fails the open.
	Serving bool
	// BatchTime bounds the work of one batch of the views' Runner.
	BatchTime time.Duration
}

// OpenServer creates data if need be, opens the log and the views in it
// and brings the views up to the end of the log. It returns how many
// events the views caught up. On an error it closes what it opened.
func OpenServer(ctx context.Context, data string, opt ServerOptions) (*Dir, uint64, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	logDir, viewsDir := Paths(data)
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, 0, fmt.Errorf("data directory: %w", err)
	}
	l, err := eventlog.OpenBadger(logOptions(eventlog.Options{Dir: logDir, Logger: opt.Logger, Now: opt.Now,
		FreeBytes: opt.FreeBytes, ReadOnlyIfFull: opt.Serving}))
	if errors.Is(err, eventlog.ErrLocked) {
		return nil, 0, fmt.Errorf("%w (another server is running on %s: stop it, or give this one its own --data)", err, data)
	}
	if err != nil {
		return nil, 0, err
	}
	d := &Dir{Log: l}
	n, err := d.openViews(ctx, viewsDir, opt)
	if err != nil {
		d.Close()
		return nil, 0, err
	}
	return d, n, nil
}

func (d *Dir) openViews(ctx context.Context, viewsDir string, opt ServerOptions) (uint64, error) {
	var err error
	if d.Store, err = projections.OpenStoreWith(projections.StoreOptions{Dir: viewsDir, Logger: opt.Logger,
		FreeBytes: opt.FreeBytes, ReadOnlyIfFull: opt.Serving}); err != nil {
		return 0, err
	}
	if d.Runner, err = projections.NewRunner(d.Log, d.Store, opt.Logger, projections.BatchTime(opt.BatchTime)); err != nil {
		return 0, err
	}
	n, err := d.Runner.CatchUp(ctx)
	if opt.Serving && errors.Is(err, eventlog.ErrDiskFull) {
		opt.Logger.Warn("views: disk full; pages show the views as stored", "views_seq", d.Runner.Seq(), "error", err)
		err = nil
	}
	return n, err
}

// Degraded returns why a server on d is degraded, for /healthz: a full
// disk (reports refused, or the views not following the log), a log opened
// read-only on a full disk, or a log stopped by a failed commit.
func (d *Dir) Degraded() error {
	if err := d.Log.Err(); err != nil {
		return statesrv.Errorf(statesrv.EUnavail, "storage unavailable: a commit failed; restart the server")
	}
	if d.Log.ReadOnly() {
		return statesrv.Errorf(statesrv.EFull, "storage full at start: read-only; reports are refused until the disk holding the data has room")
	}
	if d.Log.Full() != nil || errors.Is(d.Log.Room(), eventlog.ErrDiskFull) {
		return statesrv.Errorf(statesrv.EFull, "storage full: reports are refused until the disk holding the data has room")
	}
	if err := d.Runner.Full(); err != nil {
		if d.Store.ReadOnly() {
			return statesrv.Errorf(statesrv.EFull, "storage full at start: the views are read-only until the disk holding the data has room")
		}
		return statesrv.Errorf(statesrv.EFull, "storage full: the views wait for room on the disk holding the data")
	}
	return nil
}
