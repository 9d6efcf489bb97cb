package projections

import (
	"fmt"
	"maps"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv/eventlog"
)

// Counts is what the Runner has applied since it started, for metrics.
type Counts struct {
	// Events counts the events applied, by type. An event is counted once
	// per process: a Rebuild applies the log again but counts nothing
	// twice.
	Events map[string]uint64
	// Finished counts the runs that moved to history, by outcome (OK,
	// FAIL, TIMEOUT), with the same rule.
	Finished map[string]uint64
	// Unprocessed is how many messages the unprocessed view holds now.
	Unprocessed int
}

// counts is the Runner's running total; the Runner's mu guards it.
type counts struct {
	upTo        uint64 // the last seq counted in events and finished
	events      map[string]uint64
	finished    map[string]uint64
	unprocessed int
}

// tally collects one batch's counts, added to the totals only when the
// batch's transaction commits.
type tally struct {
	upTo        uint64
	events      map[string]uint64
	finished    map[string]uint64
	unprocessed int
	gone        map[string]bool // messages dismissed from the store in this batch
}

func newTally(upTo uint64) *tally {
	return &tally{upTo: upTo, events: map[string]uint64{}, finished: map[string]uint64{}}
}

// event counts e and what it closed, unless an earlier batch counted it.
func (t *tally) event(e *eventlog.Event, eff Effect) {
	if eff.Unprocessed != nil {
		t.unprocessed++
	}
	if e.Seq <= t.upTo {
		return
	}
	t.upTo = e.Seq
	t.events[e.Type]++
	if r := eff.Closed; r != nil {
		t.finished[r.State]++
	}
}

// dismissed counts a message that left the unprocessed view. A message
// found in the store is counted once even when dismissed twice in one batch
// (the store is read outside the batch's transaction).
func (t *tally) dismissed(id string, fromStore bool) {
	if fromStore {
		if t.gone[id] {
			return
		}
		if t.gone == nil {
			t.gone = map[string]bool{}
		}
		t.gone[id] = true
	}
	t.unprocessed--
}

func (c *counts) add(t *tally) {
	if c.events == nil {
		c.events, c.finished = map[string]uint64{}, map[string]uint64{}
	}
	c.upTo = max(c.upTo, t.upTo)
	for k, n := range t.events {
		c.events[k] += n
	}
	for k, n := range t.finished {
		c.finished[k] += n
	}
	c.unprocessed = max(c.unprocessed+t.unprocessed, 0)
}

// Counts returns a copy of the Runner's counts.
func (r *Runner) Counts() Counts {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return Counts{Events: maps.Clone(r.counts.events), Finished: maps.Clone(r.counts.finished),
		Unprocessed: r.counts.unprocessed}
}

// unprocessedCount counts the messages in the unprocessed view, reading
// keys only. The Runner calls it once at start and keeps the count up to
// date from then on.
func (s *Store) unprocessedCount() (int, error) {
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		opts := iterOptions()
		opts.Prefix, opts.PrefetchValues = []byte("ui/"), false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("projections: count unprocessed: %w", err)
	}
	return n, nil
}
