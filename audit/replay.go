package audit

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// Filter selects the events Replay prints. Zero fields select everything.
type Filter struct {
	After     uint64 // only events after this seq
	ProcessID int64  // only events about this process
	Type      string // only events of this type
	// Since and Until bound the events' times, both included.
	Since, Until time.Time
}

// page is how many events a replay holds at once.
const page = 1000

// Replay prints the events of l that f selects, oldest first. It returns
// the first error of reading the log or of printing.
func Replay(ctx context.Context, l eventlog.Log, f Filter, p *Printer) error {
	q := projections.EventFilter{ProcessID: f.ProcessID, Type: f.Type, From: f.Since, After: f.After, Limit: page}
	if !f.Until.IsZero() {
		q.To = f.Until.Add(time.Nanosecond) // Until includes its moment
	}
	for {
		pg, err := projections.Events(ctx, l, nil, q)
		if err != nil {
			return err
		}
		for i := range pg.Events {
			if err := p.Print(&pg.Events[i]); err != nil {
				return err
			}
		}
		if pg.Next == 0 {
			return p.Flush()
		}
		q.After = pg.Next
	}
}

// ReplayRemote prints the events that f selects of the log of the server
// c calls (GET /api/v1/events), oldest first. It returns the first error
// of the API (a refusal as the server's *statesrv.Error), of an event that
// does not read as the log's, or of printing.
func ReplayRemote(ctx context.Context, c *api.Client, f Filter, p *Printer) error {
	keep := func(e *eventlog.Event) bool {
		return (f.ProcessID == 0 || e.ProcessID == f.ProcessID) && (f.Type == "" || e.Type == f.Type) &&
			(f.Since.IsZero() || !e.Time.Before(f.Since))
	}
	after := f.After
	for {
		// The type is filtered here: the server bounds how far one
		// filtered request scans, and an empty page would end the replay.
		evs, err := remoteEvents(ctx, c, after, f.ProcessID, page)
		if err != nil {
			return err
		}
		for i := range evs {
			if !f.Until.IsZero() && evs[i].Time.After(f.Until) {
				return p.Flush()
			}
			if keep(&evs[i]) {
				if err := p.Print(&evs[i]); err != nil {
					return err
				}
			}
			after = evs[i].Seq
		}
		if len(evs) < page {
			return p.Flush()
		}
	}
}

// remoteEvents reads one page of up to limit events after seq after (of
// process pid, unless 0) from the server, as events of the log.
func remoteEvents(ctx context.Context, c *api.Client, after uint64, pid int64, limit int) ([]eventlog.Event, error) {
	pg, err := c.Events(ctx, api.EventsQuery{After: after, ProcessID: pid, Limit: limit})
	if err != nil {
		return nil, err
	}
	evs := make([]eventlog.Event, len(pg))
	for i, a := range pg {
		if evs[i], err = logEvent(a); err != nil {
			return nil, fmt.Errorf("GET /api/v1/events: event %d: %w", a.Seq, err)
		}
	}
	return evs, nil
}

// logEvent reads an event of the API's shape as the log's event.
func logEvent(a api.Event) (eventlog.Event, error) {
	id, err := uuid.Parse(a.ID)
	if err != nil {
		return eventlog.Event{}, fmt.Errorf("id: %w", err)
	}
	h, err := hex.DecodeString(a.Hash)
	if err != nil || len(h) != 32 {
		return eventlog.Event{}, fmt.Errorf("hash: not 32 bytes of hex")
	}
	e := eventlog.Event{Seq: a.Seq, ID: id, Type: a.Type, Time: a.Time, Actor: a.Actor,
		ProcessID: a.ProcessID, Key: a.Key, Data: a.Data}
	copy(e.Hash[:], h)
	return e, nil
}
