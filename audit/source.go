package audit

import (
	"context"
	"io"
	"time"

	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/datadir"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// Source is where the audit commands read: a running server's API when API
// is set, else the data directory of a stopped server (datadir.Open), whose
// log Replay, State and Backup open read-only.
// Errors of the API are the server's own (a *statesrv.Error for a refusal).
type Source struct {
	Data string      // a stopped server's data directory
	API  *api.Client // a running server
}

// Replay prints the events that f selects, oldest first (Replay or
// ReplayRemote).
func (s Source) Replay(ctx context.Context, f Filter, p *Printer) error {
	if s.API != nil {
		return ReplayRemote(ctx, s.API, f, p)
	}
	d, err := datadir.Open(ctx, s.Data, datadir.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer d.Close()
	return Replay(ctx, d.Log, f, p)
}

// State returns the definitions, open runs and unprocessed messages as
// they stood after event seq, or at the moment at when seq is 0. A stopped
// server's state is replayed from the start of its log.
func (s Source) State(ctx context.Context, at time.Time, seq uint64) (projections.State, error) {
	if s.API != nil {
		st, err := s.API.State(ctx, at, seq)
		return projections.State(st), err
	}
	d, err := datadir.Open(ctx, s.Data, datadir.Options{ReadOnly: true})
	if err != nil {
		return projections.State{}, err
	}
	defer d.Close()
	return projections.StateAt(ctx, d.Log, at, seq)
}

// Rebuild drops every view and rebuilds it from the log, and says from how
// many events and how long it took.
func (s Source) Rebuild(ctx context.Context) (api.Rebuilt, error) {
	if s.API != nil {
		return s.API.Rebuild(ctx)
	}
	d, err := datadir.Open(ctx, s.Data, datadir.Options{Views: true})
	if err != nil {
		return api.Rebuilt{}, err
	}
	n, took, err := d.Runner.Rebuild(ctx)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return api.Rebuilt{}, err
	}
	return api.Rebuilt{Events: n, Seconds: took.Seconds()}, nil
}

// Backup writes a backup of the log to w (eventlog.WriteBackup's format):
// a running server's, checked as it is received (CopyBackup), or a stopped
// server's, made at now, of which it returns the number of events (0 from
// the API, which does not say).
func (s Source) Backup(ctx context.Context, w io.Writer, now time.Time) (uint64, error) {
	if s.API != nil {
		body, err := s.API.Backup(ctx)
		if err != nil {
			return 0, err
		}
		defer body.Close()
		return 0, CopyBackup(w, body)
	}
	d, err := datadir.Open(ctx, s.Data, datadir.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return eventlog.WriteBackup(ctx, d.Log, w, now)
}
