package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/statesrv/statesrv/eventlog"
)

// EventFilter selects events of the audit log: the API's /events, the
// dashboard's audit log and `statesrv replay` ask through it. Zero fields
// select everything.
type EventFilter struct {
	ProcessID int64
	Type      string
	Actor     string
	// From and To bound the events' times, From included and To not.
	// Events are appended in time order, so they are turned into a seq
	// range first (see FirstSeqAt).
	From, To time.Time
	// After and Before bound the seqs, neither included (Before 0: none).
	After, Before uint64
	// Limit caps the events returned (0: no cap).
	Limit int
	// Budget caps the events read (0: no cap); the search then stops
	// short and says where in EventPage.SearchedTo.
	Budget int
	// NewestFirst pages back from Before (or the newest event), in windows
	// of eventsWindow, instead of forward from After.
	NewestFirst bool
}

// EventPage is one page of events matching an EventFilter.
type EventPage struct {
	// Events in the filter's order, oldest first or newest first.
	Events []eventlog.Event
	// Next, when the page is full and the range holds more seqs, is the
	// cursor of the next page: its Before newest first, its After oldest
	// first.
	Next uint64
	// SearchedTo, when the budget ran out before the page was full, is
	// where the search stopped, as a cursor like Next.
	SearchedTo uint64
}

// eventsWindow is how many seqs a newest-first search reads at once.
const eventsWindow = 512

// Events returns one page of the events of l that match f. A process
// filter reads the per-process index of store (which lags the log by the
// projection delay); with a nil store, or without a process filter, it
// scans the log. It returns the log's or store's read errors.
func Events(ctx context.Context, l eventlog.Log, store *Store, f EventFilter) (EventPage, error) {
	lo, hi, err := seqBounds(ctx, l, f)
	if err != nil || hi < lo {
		return EventPage{Events: []eventlog.Event{}}, err
	}
	q := &eventQuery{ctx: ctx, log: l, store: store, f: f, lo: lo, hi: hi, events: []eventlog.Event{}}
	if f.NewestFirst {
		err = q.backward()
	} else {
		err = q.forward()
	}
	page := EventPage{Events: q.events, SearchedTo: q.searchedTo}
	if err != nil {
		return page, err
	}
	if q.full() {
		last := q.events[len(q.events)-1].Seq
		if f.NewestFirst && last > lo || !f.NewestFirst && last < hi {
			page.Next = last
		}
	}
	return page, nil
}

// seqBounds turns f's seq and time bounds into the seq range [lo, hi]
// (empty when hi < lo).
func seqBounds(ctx context.Context, l eventlog.Log, f EventFilter) (lo, hi uint64, err error) {
	lo, hi = f.After+1, l.LastSeq()
	if f.Before != 0 {
		hi = min(hi, f.Before-1)
	}
	if !f.To.IsZero() {
		s, err := FirstSeqAt(ctx, l, f.To)
		if err != nil {
			return 0, 0, err
		}
		hi = min(hi, s-1)
	}
	if !f.From.IsZero() {
		s, err := FirstSeqAt(ctx, l, f.From)
		if err != nil {
			return 0, 0, err
		}
		lo = max(lo, s)
	}
	return lo, hi, nil
}

// eventQuery is one run of Events over the seqs [lo, hi].
type eventQuery struct {
	ctx        context.Context
	log        eventlog.Log
	store      *Store
	f          EventFilter
	lo, hi     uint64
	events     []eventlog.Event
	scanned    int
	searchedTo uint64
}

func (q *eventQuery) match(e *eventlog.Event) bool {
	f := &q.f
	return (f.ProcessID == 0 || e.ProcessID == f.ProcessID) &&
		(f.Type == "" || e.Type == f.Type) &&
		(f.Actor == "" || e.Actor == f.Actor) &&
		(f.From.IsZero() || !e.Time.Before(f.From)) &&
		(f.To.IsZero() || e.Time.Before(f.To))
}

func (q *eventQuery) full() bool { return q.f.Limit > 0 && len(q.events) >= q.f.Limit }

// budget returns how many more events the search may read.
func (q *eventQuery) budget() int {
	if q.f.Budget <= 0 {
		return int(^uint(0) >> 1)
	}
	return q.f.Budget - q.scanned
}

// forwardRange reads [first, last] oldest first, adding the matching
// events until the page is full or the budget ends. It returns false when
// the search must stop.
func (q *eventQuery) forwardRange(first, last uint64) (bool, error) {
	for e, err := range q.log.Range(q.ctx, first, last) {
		if err != nil {
			return false, err
		}
		if q.full() {
			return false, nil
		}
		if q.budget() <= 0 {
			q.searchedTo = e.Seq - 1
			return false, nil
		}
		q.scanned++
		if q.match(e) {
			q.events = append(q.events, *e)
		}
	}
	return !q.full(), nil
}

// forward pages oldest first from lo.
func (q *eventQuery) forward() error {
	if q.f.ProcessID == 0 || q.store == nil {
		_, err := q.forwardRange(q.lo, q.hi)
		return err
	}
	chunk := q.f.Limit
	if chunk <= 0 {
		chunk = eventsWindow
	}
	after := q.lo - 1
	for {
		ranges, err := q.store.ProcessEvents(q.f.ProcessID, after, chunk)
		if err != nil || len(ranges) == 0 {
			return err
		}
		for _, rg := range ranges {
			if rg.First > q.hi {
				return nil
			}
			more, err := q.forwardRange(rg.First, min(rg.Last, q.hi))
			if err != nil || !more {
				return err
			}
			after = rg.Last
		}
	}
}

// backward pages newest first from hi, a window at a time: the log reads
// only forward, so each window is read in order and taken in reverse.
func (q *eventQuery) backward() error {
	hi, lo := q.hi, q.lo
	for hi >= lo && !q.full() {
		budget := q.budget()
		if budget <= 0 {
			q.searchedTo = hi + 1
			return nil
		}
		if q.f.ProcessID == 0 || q.store == nil {
			first := hi - min(uint64(eventsWindow), uint64(budget), hi-lo+1) + 1
			if err := q.backwardRange(first, hi); err != nil {
				return err
			}
			hi = first - 1
			continue
		}
		ranges, err := q.store.ProcessEventsBefore(q.f.ProcessID, hi+1, min(eventsWindow, budget))
		if err != nil {
			return err
		}
		if len(ranges) == 0 {
			return nil
		}
		for _, rg := range ranges {
			if q.full() || rg.Last < lo {
				break
			}
			if err := q.backwardRange(max(rg.First, lo), rg.Last); err != nil {
				return err
			}
			hi = max(rg.First, lo) - 1
		}
		if ranges[len(ranges)-1].Last < lo {
			return nil
		}
	}
	return nil
}

// backwardRange reads the window [first, last] whole and adds its matching
// events, newest first, until the page is full.
func (q *eventQuery) backwardRange(first, last uint64) error {
	var win []eventlog.Event
	var err error
	for e, rerr := range q.log.Range(q.ctx, first, last) {
		if err = rerr; err != nil {
			break
		}
		q.scanned++
		if q.match(e) {
			win = append(win, *e)
		}
	}
	for i := len(win) - 1; i >= 0 && !q.full(); i-- {
		q.events = append(q.events, win[i])
	}
	return err
}

// FirstSeqAt returns the seq of the first event of l at or after t, or the
// seq after the last when there is none. Events are appended in time
// order, so it searches by halves (a clock that stepped back makes the
// answer approximate, never wrong by more than the step). It returns the
// log's read errors.
func FirstSeqAt(ctx context.Context, l eventlog.Log, t time.Time) (uint64, error) {
	lo, hi := uint64(1), l.LastSeq()+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		var at time.Time
		found := false
		for e, err := range l.Range(ctx, mid, mid) {
			if err != nil {
				return 0, fmt.Errorf("projections: first seq at %s: %w", t.Format(time.RFC3339), err)
			}
			at, found = e.Time, true
		}
		if !found || !at.Before(t) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}
