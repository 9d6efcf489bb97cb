package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	f, err := parseEventFilter(r)
	if err != nil {
		writeError(w, err)
		return
	}
	evs, err := FilterEvents(r.Context(), h.cfg.Log, h.cfg.Runner.Store(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventsPage(evs))
}

func parseEventFilter(r *http.Request) (EventFilter, error) {
	var f EventFilter
	var err error
	q := r.URL.Query()
	if s := q.Get("after"); s != "" {
		if f.After, err = strconv.ParseUint(s, 10, 64); err != nil {
			return f, statesrv.Errorf(statesrv.EInvalid, "after: a seq number")
		}
	}
	if s := q.Get("process"); s != "" {
		if f.ProcessID, err = strconv.ParseInt(s, 10, 64); err != nil || f.ProcessID <= 0 {
			return f, statesrv.Errorf(statesrv.EInvalid, "process: must be a positive integer")
		}
	}
	f.Type = q.Get("type")
	if f.Limit, err = limitParam(r); err != nil {
		return f, err
	}
	return f, nil
}

func (h *Handler) state(w http.ResponseWriter, r *http.Request) {
	at, err := timeParam(r, "at")
	if err != nil {
		writeError(w, err)
		return
	}
	var seq uint64
	if s := r.URL.Query().Get("seq"); s != "" {
		if seq, err = strconv.ParseUint(s, 10, 64); err != nil || seq == 0 {
			writeError(w, statesrv.Errorf(statesrv.EInvalid, "seq: a positive seq number"))
			return
		}
	}
	if at.IsZero() && seq == 0 {
		writeError(w, statesrv.Errorf(statesrv.EInvalid, "at: required (an RFC 3339 time), or seq"))
		return
	}
	st, err := h.cfg.Runner.Store().StateAt(r.Context(), h.cfg.Log, at, seq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.State(st))
}

func (h *Handler) rebuild(w http.ResponseWriter, r *http.Request) {
	n, took, err := h.cfg.Runner.Rebuild(context.WithoutCancel(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Rebuilt{Events: n, Seconds: took.Seconds()})
}

// EventFilter selects events of the log, oldest first.
type EventFilter struct {
	After     uint64
	Limit     int
	ProcessID int64
	Type      string
}

// maxScan bounds how many events one filtered read looks at.
const maxScan = 1_000_000

// FilterEvents returns the events matching f. A process filter uses the
// per-process index; a type filter alone scans the log (at most maxScan
// events a call).
func FilterEvents(ctx context.Context, l eventlog.Log, store *projections.Store, f EventFilter) ([]eventlog.Event, error) {
	if f.Limit <= 0 {
		f.Limit = defaultLimit
	}
	out := []eventlog.Event{}
	if f.ProcessID != 0 {
		after := f.After
		for len(out) < f.Limit {
			ranges, err := store.ProcessEvents(f.ProcessID, after, f.Limit)
			if err != nil || len(ranges) == 0 {
				return out, err
			}
			for _, r := range ranges {
				after = r.Last
				err := readRange(ctx, l, r, func(e *eventlog.Event) error {
					if len(out) >= f.Limit {
						return errStop
					}
					if f.Type == "" || e.Type == f.Type {
						out = append(out, *e)
					}
					return nil
				})
				if err != nil {
					return out, err
				}
			}
		}
		return out, nil
	}
	scanned := 0
	err := l.Read(ctx, f.After+1, func(e *eventlog.Event) error {
		if scanned++; scanned > maxScan || len(out) >= f.Limit {
			return errStop
		}
		if f.Type == "" || e.Type == f.Type {
			out = append(out, *e)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return out, err
	}
	return out, nil
}

var errStop = errors.New("stop")

// readRange calls fn for each event of rg, in order, until fn returns an
// error (which it returns). The event is only valid during the call.
func readRange(ctx context.Context, l eventlog.Log, rg projections.SeqRange, fn func(*eventlog.Event) error) error {
	err := l.Read(ctx, rg.First, func(e *eventlog.Event) error {
		if e.Seq > rg.Last {
			return errStop
		}
		return fn(e)
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// firstSeqAt returns the seq of the first event at or after t, or the seq
// after the last when there is none. Events are appended in time order,
// so it searches by halves (a clock that stepped back makes the answer
// approximate, never wrong by more than the step).
func firstSeqAt(ctx context.Context, l eventlog.Log, t time.Time) (uint64, error) {
	lo, hi := uint64(1), l.LastSeq()+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		var at time.Time
		found := false
		err := l.Read(ctx, mid, func(e *eventlog.Event) error {
			at, found = e.Time, true
			return errStop
		})
		if err != nil && !errors.Is(err, errStop) {
			return 0, err
		}
		if !found || !at.Before(t) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}
