package web

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
			if err := json.Unmarshal(e.Data, &d.p); err != nil {
				return out, fmt.Errorf("web: event %d: %w", e.Seq, err)
			}
			out = append(out, d)
		case statesrv.EventProcessDeleted:
			out = append(out, definition{seq: e.Seq, at: e.Time, actor: e.Actor, deleted: true})
		}
	}
	return out, nil
}

// diffProcess lists the fields of b that differ from a, as "field: old →
// new"; with a nil a, every field b sets, as "field: value". The report key
// is a secret: only that it changed is shown.
func diffProcess(a, b *statesrv.Process) []string {
	var out []string
	for _, f := range processFields(b) {
		if a == nil {
			switch {
			case f.value == "(none)" || f.value == unsetField[f.name]:
			case f.name == "key":
				out = append(out, "key: set")
			default:
				out = append(out, f.name+": "+f.value)
			}
			continue
		}
		old := fieldValue(processFields(a), f.name)
		if old == f.value {
			continue
		}
		if f.name == "key" {
			out = append(out, "key: changed")
			continue
		}
		out = append(out, f.name+": "+old+" → "+f.value)
	}
	return out
}

// unsetField holds the values of fields left at their default, which a
// new definition's entry does not list.
var unsetField = map[string]string{"fired_by": "server", "alert_after": "0", "repeat_every": "0s"}

type processField struct{ name, value string }

func fieldValue(fs []processField, name string) string {
	for _, f := range fs {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// processFields renders each field of p as text, in the order the form
// shows them.
func processFields(p *statesrv.Process) []processField {
	orNone := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	list := func(l []string) string { return orNone(strings.Join(l, ", ")) }
	key := "(none)"
	if p.Key != "" {
		key = "set:" + p.Key // compared only; never shown
	}
	var windows []string
	for _, w := range p.Maintenance {
		windows = append(windows, w.Schedule+" for "+views.Dur(time.Duration(w.Duration)))
	}
	firedBy := p.FiredBy
	if firedBy == "" {
		firedBy = "server"
	}
	return []processField{
		{"name", p.Name},
		{"description", orNone(p.Description)},
		{"schedule", orNone(p.Schedule)},
		{"timezone", p.Timezone},
		{"max_runtime", views.Dur(time.Duration(p.MaxRuntime))},
		{"enabled", strconv.FormatBool(p.Enabled)},
		{"alerts.fail", list(p.Alerts.Fail)},
		{"alerts.timeout", list(p.Alerts.Timeout)},
		{"alerts.late", list(p.Alerts.Late)},
		{"alerts.recovered", list(p.Alerts.Recovered)},
		{"alerts.ok", list(p.Alerts.OK)},
		{"key", key},
		{"fired_by", firedBy},
		{"alert_after", strconv.Itoa(p.AlertAfter)},
		{"repeat_every", views.Dur(time.Duration(p.RepeatEvery))},
		{"maintenance", list(windows)},
	}
}
