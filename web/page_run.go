package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

// Bounds of the run page's search of the log. It reads only events about
// the run's process, from the one that opened the run on: at most
// runEventsRead of them, and once the run has closed, at most
// runRangesAfterClose further appends about the process unless an alert of
// the run is still undecided (alerts are requested in the append that
// closes the run and delivered, normally, within the next few).
const (
	runEventsRead       = 1000
	runRangesAfterClose = 4
	runLeadIn           = 8
)

// runPage shows one run, open or finished, and every event about it in
// order.
func (h *Handler) runPage(w http.ResponseWriter, r *http.Request, user string) {
	id := r.PathValue("id")
	m := views.RunPage{Page: h.livePageOf(user, "Run", "/history"), Now: h.cfg.Now()}
	h.cfg.Runner.View(func(c *projections.Core) {
		if o := c.Runs[id]; o != nil {
			m.Run, m.Open = *o, true
		}
	})
	if m.Open {
		m.Section = "/runs"
	} else {
		m.Page.Live = false
		run, ok, err := h.cfg.Runner.Store().FinishedRun(id)
		if err != nil {
			h.pageError(w, r, user, err)
			return
		}
		if !ok {
			h.pageError(w, r, user, statesrv.Errorf(statesrv.ENotFound, "There is no run %q.", id))
			return
		}
		m.Run = run
	}
	m.Title = "Run of " + m.Run.Name
	evs, complete, err := h.runEvents(r.Context(), m.Run)
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	for _, e := range evs {
		m.Events = append(m.Events, runEventOf(e))
	}
	m.Complete = complete
	m.Limit = runEventsRead
	h.render(w, r, http.StatusOK, views.RunView(m))
}

// runEventOf is an event as the run page shows it: a report's line apart,
// the data pretty-printed.
func runEventOf(e eventlog.Event) views.RunEvent {
	v := views.RunEvent{Seq: e.Seq, Time: e.Time, Type: e.Type, Actor: e.Actor}
	e.Data = statesrv.RedactEvent(e.Type, e.Time, e.Data)
	if e.Type == statesrv.EventMessageReceived || e.Type == statesrv.EventMessageRejected {
		var d struct {
			Line string `json:"line"`
		}
		if json.Unmarshal(e.Data, &d) == nil {
			v.Line = d.Line
		}
	}
	var buf bytes.Buffer
	if json.Indent(&buf, e.Data, "", "  ") == nil {
		v.Data = buf.String()
	} else {
		v.Data = string(e.Data)
	}
	return v
}

// eventRefs are the fields by which an event names a run, a report or an
// alert.
type eventRefs struct {
	RunID     string `json:"run_id"`
	MessageID string `json:"message_id"`
	AlertID   string `json:"alert_id"`
}

// runEvents returns the events about run, oldest first: those naming it
// (opened, attached, finished or timed out, alerts requested or held
// back, a late report), the reports that opened, attached to or closed it,
// and the delivery attempts and outcomes of its alerts. It reads the run's process's events
// through the per-process index from the run's opening on and stops after
// the run closed and its alerts were decided (see the bounds above);
// complete is false when it stopped at runEventsRead instead.
func (h *Handler) runEvents(ctx context.Context, run statesrv.Run) (evs []eventlog.Event, complete bool, err error) {
	store := h.cfg.Runner.Store()
	start, ok, err := store.RunStartSeq(run.ID)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		// Views built before they recorded where runs open: look the start
		// up by time, a minute early for clocks that stepped back.
		if start, err = projections.FirstSeqAt(ctx, h.cfg.Log, run.StartedAt.Add(-time.Minute)); err != nil {
			return nil, false, err
		}
	}
	s := &runSearch{run: run.ID, messages: map[string]bool{}, alerts: map[string]bool{}, rangesAfter: -1}
	// A few events early: the report that opened the run comes just before
	// the event that opened it.
	after := max(start, runLeadIn+1) - runLeadIn - 1
	for len(s.read) < runEventsRead && !s.settled() {
		ranges, err := store.ProcessEvents(run.ProcessID, after, runEventsRead-len(s.read))
		if err != nil {
			return nil, false, err
		}
		if len(ranges) == 0 {
			break // the end of what the views know
		}
		for _, rg := range ranges {
			if s.settled() {
				break
			}
			if s.closed {
				s.rangesAfter++
			}
			for e, err := range h.cfg.Log.Range(ctx, rg.First, rg.Last) {
				if err != nil {
					return nil, false, err
				}
				s.note(e)
			}
			after = rg.Last
			if s.closed && s.rangesAfter < 0 {
				s.rangesAfter = 0
			}
		}
	}
	return s.events(), len(s.read) < runEventsRead || s.settled(), nil
}

// runSearch is what the run page learns while it reads a process's events.
type runSearch struct {
	run  string
	read []eventlog.Event
	refs []eventRefs // of each event read
	// The reports that opened, attached to or closed the run; its alerts,
	// true while undecided.
	messages, alerts map[string]bool
	closed           bool
	// rangesAfter counts the index ranges read after the one that closed
	// the run (-1 until it closed).
	rangesAfter int
}

func (s *runSearch) note(e *eventlog.Event) {
	var ref eventRefs
	if data, err := statesrv.PayloadJSON(e.Type, e.Time, e.Data); err == nil {
		json.Unmarshal(data, &ref)
	}
	s.read, s.refs = append(s.read, *e), append(s.refs, ref)
	switch {
	case ref.RunID == s.run:
		if ref.MessageID != "" {
			s.messages[ref.MessageID] = true
		}
		switch e.Type {
		case statesrv.EventAlertRequested:
			s.alerts[ref.AlertID] = true
		case statesrv.EventAlertSuppressed:
			s.alerts[ref.AlertID] = false
		case statesrv.EventRunFinished, statesrv.EventRunTimedOut:
			s.closed = true
		}
	case e.Type == statesrv.EventAlertDelivered || e.Type == statesrv.EventAlertFailed:
		if _, ok := s.alerts[ref.AlertID]; ok {
			s.alerts[ref.AlertID] = false
		}
	}
}

// settled reports whether nothing more about the run is to be expected:
// it closed a few appends ago and every alert of it was decided.
func (s *runSearch) settled() bool {
	if !s.closed || s.rangesAfter < runRangesAfterClose {
		return false
	}
	for _, undecided := range s.alerts {
		if undecided {
			return false
		}
	}
	return true
}

// events returns the events read that are about the run, in order.
func (s *runSearch) events() []eventlog.Event {
	var out []eventlog.Event
	for i, e := range s.read {
		ref := s.refs[i]
		_, alert := s.alerts[ref.AlertID]
		switch {
		case ref.RunID == s.run,
			(e.Type == statesrv.EventMessageReceived || e.Type == statesrv.EventMessageRejected) && s.messages[ref.MessageID],
			(e.Type == statesrv.EventAlertAttemptFailed || e.Type == statesrv.EventAlertDelivered ||
				e.Type == statesrv.EventAlertFailed) && alert:
			out = append(out, e)
		}
	}
	return out
}
