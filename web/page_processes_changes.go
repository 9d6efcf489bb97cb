package web

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

const (
	// maxChanges is how many changes the process page shows.
	maxChanges = 50
	// maxChangeScan bounds the events of a process the page looks through
	// for its changes, newest first: a busy process has many run events
	// between two changes of its definition.
	maxChangeScan = 20_000
	// changeScanStep is how many seqs one step back asks the index for.
	changeScanStep = 1_000
)

// definition is a ProcessDefined or ProcessDeleted event of one process.
type definition struct {
	seq     uint64
	at      time.Time
	actor   string
	deleted bool
	p       statesrv.Process
}

// processChanges returns the newest changes of process id's definition,
// newest first, each compared with the definition before it. It walks back
// through the process's event index and reads only those events, at most
// maxChangeScan of them; cut tells that older changes may exist.
func (h *Handler) processChanges(ctx context.Context, id int64) (changes []views.ProcessChange, cut bool, err error) {
	defs, complete, err := h.definitions(ctx, id)
	if err != nil {
		return nil, false, err
	}
	// defs is newest first and may hold one more than is shown, as the
	// base of the oldest shown change.
	for i := 0; i < len(defs) && i < maxChanges; i++ {
		d := defs[i]
		c := views.ProcessChange{Seq: d.seq, At: d.at, Actor: d.actor}
		var prev *definition
		if i+1 < len(defs) {
			prev = &defs[i+1]
		}
		switch {
		case d.deleted:
			c.Kind = "deleted"
		case prev == nil && !complete:
			c.Kind = "defined"
			c.Lines = diffProcess(nil, &d.p)
		case prev == nil || prev.deleted:
			c.Kind = "created"
			c.Lines = diffProcess(nil, &d.p)
		default:
			c.Kind = "changed"
			c.Lines = diffProcess(&prev.p, &d.p)
		}
		changes = append(changes, c)
	}
	return changes, !complete || len(defs) > maxChanges, nil
}

// definitions collects up to maxChanges+1 definition events of process id,
// newest first; complete is false when it stopped before the first event
// of the process.
func (h *Handler) definitions(ctx context.Context, id int64) (defs []definition, complete bool, err error) {
	store := h.cfg.Runner.Store()
	before := h.cfg.Runner.Seq() + 1
	scanned := 0
	for len(defs) <= maxChanges {
		if scanned >= maxChangeScan {
			return defs, false, nil
		}
		ranges, err := store.ProcessEventsBefore(id, before, min(changeScanStep, maxChangeScan-scanned))
		if err != nil {
			return nil, false, err
		}
		if len(ranges) == 0 {
			return defs, true, nil
		}
		for _, rg := range ranges {
			found, err := h.readDefinitions(ctx, rg)
			if err != nil {
				return nil, false, err
			}
			slices.Reverse(found)
			defs = append(defs, found...)
			scanned += int(rg.Last - rg.First + 1)
			before = rg.First
		}
	}
	return defs, false, nil
}

// readDefinitions reads the events of one seq range, in log order, and
// keeps the definition events.
func (h *Handler) readDefinitions(ctx context.Context, rg projections.SeqRange) ([]definition, error) {
	var out []definition
	for e, err := range h.cfg.Log.Range(ctx, rg.First, rg.Last) {
		if err != nil {
			return out, err
		}
		switch e.Type {
		case statesrv.EventProcessDefined:
			d := definition{seq: e.Seq, at: e.Time, actor: e.Actor}
			if err := statesrv.DecodePayload(e.Type, e.Time, e.Data, &d.p); err != nil {
				return out, fmt.Errorf("web: event %d: %w", e.Seq, err)
			}
			d.p.FoldLegacyKey(e.ID[:]) // as the Core folds it: a key in clear goes no further
			out = append(out, d)
		case statesrv.EventProcessDeleted:
			out = append(out, definition{seq: e.Seq, at: e.Time, actor: e.Actor, deleted: true})
		}
	}
	return out, nil
}

// diffProcess lists the fields of b that differ from a, as "field: old →
// new" ("(none)" for an empty value); with a nil a, every field b sets, as
// "field: value". The report key is a secret: only that it is set or
// changed is shown.
func diffProcess(a, b *statesrv.Process) []string {
	var out []string
	for _, c := range statesrv.Diff(a, b) {
		name := c.Field.Name
		switch {
		case c.Field.Kind == statesrv.KindSecret && a == nil:
			out = append(out, name+": set")
		case c.Field.Kind == statesrv.KindSecret:
			out = append(out, name+": changed")
		case a == nil:
			out = append(out, name+": "+c.New)
		default:
			out = append(out, name+": "+orNone(c.Old)+" → "+orNone(c.New))
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
