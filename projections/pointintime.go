package projections

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// State is every view as it stood at one moment of the log, as it may be
// shown: the definitions are redacted (key_set, never a key or its hash).
type State struct {
	// At is the moment asked for; Seq the last event at or before it.
	At          time.Time              `json:"at"`
	Seq         uint64                 `json:"seq"`
	Processes   []statesrv.Process     `json:"processes"`
	Runs        []statesrv.Run         `json:"runs"`
	Unprocessed []statesrv.Unprocessed `json:"unprocessed"`
}

// StateAt replays the log from the start into fresh views and stops at the
// first event after at (or after seq upTo, when upTo is not 0). It reads
// only the log, so it shows what the log says whatever the stored views
// hold. Store.StateAt gives the same answer from a snapshot.
func StateAt(ctx context.Context, log eventlog.Log, at time.Time, upTo uint64) (State, error) {
	return replay(ctx, log, NewCore(), map[string]statesrv.Unprocessed{}, at, upTo)
}

// replay continues StateAt's fold from c (at c.Seq, between two appends)
// and unp, the unprocessed messages at that seq by id.
func replay(ctx context.Context, log eventlog.Log, c *Core, unp map[string]statesrv.Unprocessed, at time.Time, upTo uint64) (State, error) {
	var err error
	f := newFeed(ctx, log, c.Seq+1, upTo)
	defer f.stop()
	for {
		var d *decoded
		if d, err = f.peek(); err != nil || d == nil {
			break
		}
		e := &d.ev
		if upTo == 0 && e.Time.After(at) {
			break
		}
		f.pop()
		eff := c.applyDecoded(e, d.payload)
		if u := eff.Unprocessed; u != nil {
			unp[u.ID] = *u
		}
		if eff.Dismissed != "" {
			delete(unp, eff.Dismissed)
		}
		if upTo != 0 {
			at = e.Time
		}
	}
	if err != nil {
		return State{}, fmt.Errorf("projections: state at %s: %w", at.Format(time.RFC3339), err)
	}
	st := State{At: at.UTC(), Seq: c.Seq, Runs: c.AllOpenRuns(),
		Processes: make([]statesrv.Process, 0, len(c.Procs)), Unprocessed: make([]statesrv.Unprocessed, 0, len(unp))}
	for _, id := range slices.Sorted(maps.Keys(c.Procs)) {
		st.Processes = append(st.Processes, c.Procs[id].Process.Redacted()) // shown: no key hash
	}
	for _, u := range unp {
		st.Unprocessed = append(st.Unprocessed, u)
	}
	slices.SortFunc(st.Unprocessed, func(a, b statesrv.Unprocessed) int { return int(sign(int64(a.Seq) - int64(b.Seq))) })
	return st, nil
}
