package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

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
	evs, err := apiEvents(r.Context(), h.cfg.Log, h.cfg.Runner.Store(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventsPage(evs))
}

func parseEventFilter(r *http.Request) (projections.EventFilter, error) {
	var f projections.EventFilter
	var err error
	if f.After, err = afterParam(r); err != nil {
		return f, err
	}
	if f.ProcessID, err = processParam(r); err != nil {
		return f, err
	}
	if f.Type, err = eventTypeParam(r); err != nil {
		return f, err
	}
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

// maxScan bounds how many events one API request without a process filter
// reads.
const maxScan = 1_000_000

// apiEvents returns the events of /api/v1/events: oldest first after
// f.After. A process filter uses the per-process index; a type filter
// alone scans the log (at most maxScan events a call).
func apiEvents(ctx context.Context, l eventlog.Log, store *projections.Store, f projections.EventFilter) ([]eventlog.Event, error) {
	if f.Limit <= 0 {
		f.Limit = defaultLimit
	}
	if f.ProcessID == 0 {
		f.Budget = maxScan
	}
	page, err := projections.Events(ctx, l, store, f)
	return page.Events, err
}

// eventTypeParam reads the query parameter type, a registered event type:
// "" when absent. An unknown type is an EInvalid error that lists the
// types (and names the one meant when only the case differs), rather than
// an empty page.
func eventTypeParam(r *http.Request) (string, error) {
	s := r.URL.Query().Get("type")
	if s == "" || slices.Contains(eventTypes, s) {
		return s, nil
	}
	msg := fmt.Sprintf("type: unknown event type %q", s)
	for _, t := range eventTypes {
		if strings.EqualFold(t, s) {
			msg += " (did you mean " + t + "?)"
		}
	}
	return "", statesrv.Errorf(statesrv.EInvalid, "%s; one of %s", msg, strings.Join(eventTypes, ", "))
}
