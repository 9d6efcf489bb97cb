package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	maxBody      = 1 << 20
)

// settle waits until the decision is durable and then, for a little while,
// until the views include it, so that a client normally reads its own
// writes. A durable write is a success even if the views lag further behind
// (under heavy ingest they may): they will include it.
func (h *Handler) settle(ctx context.Context, rc *commands.Receipt) (uint64, error) {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	seq, err := rc.Wait(wctx)
	if err != nil {
		return 0, err
	}
	if seq != 0 {
		vctx, cancel := context.WithTimeout(ctx, viewsWait)
		defer cancel()
		h.cfg.Runner.WaitFor(vctx, seq)
	}
	return seq, nil
}

// viewsWait bounds how long a write waits for the views to include it.
const viewsWait = 2 * time.Second

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, statesrv.Errorf(statesrv.EInvalid, "id: must be a positive integer")
	}
	return id, nil
}

func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, statesrv.Errorf(statesrv.EInvalid, "limit: a positive number (at most %d is used)", maxLimit)
	}
	return min(n, maxLimit), nil
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, statesrv.Errorf(statesrv.EInvalid, "%s: an RFC 3339 time, e.g. 2026-11-26T08:00:00Z", name)
	}
	return t, nil
}

func (h *Handler) listProcesses(w http.ResponseWriter, r *http.Request) {
	out := []statesrv.Process{}
	h.cfg.Runner.View(func(c *projections.Core) {
		for _, p := range c.ProcessList() {
			out = append(out, p.Process)
		}
	})
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getProcess(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var p *statesrv.Process
	h.cfg.Runner.View(func(c *projections.Core) {
		if ps := c.Procs[id]; ps != nil {
			cp := ps.Process
			p = &cp
		}
	})
	if p == nil {
		writeError(w, statesrv.Errorf(statesrv.ENotFound, "process %d not found", id))
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (h *Handler) putProcess(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var p statesrv.Process
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		writeError(w, statesrv.Errorf(statesrv.EInvalid, "body: %s", jsonProblem(err)))
		return
	}
	if p.ID != 0 && p.ID != id {
		writeError(w, statesrv.Errorf(statesrv.EInvalid, "id: the body says %d, the path %d", p.ID, id))
		return
	}
	p.ID = id
	_, existed := h.cfg.Service.Process(id)
	rc, err := h.cfg.Service.DefineProcess(p, statesrv.ActorAdmin)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.fail(w, r, err)
		return
	}
	ps, _ := h.cfg.Service.Process(id)
	status := http.StatusOK
	if !existed {
		status = http.StatusCreated
	}
	writeJSON(w, status, ps.Process)
}

// jsonProblem turns a decoding error into a short message.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "empty"
	case errors.As(err, &se):
		return "not valid JSON"
	case errors.As(err, &te):
		return "field " + te.Field + ": wrong type"
	case strings.Contains(err.Error(), "bad duration"):
		return "max_runtime: " + err.Error()
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

func (h *Handler) deleteProcess(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	rc, err := h.cfg.Service.DeleteProcess(id, statesrv.ActorAdmin)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) startRun(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	rc, err := h.cfg.Service.StartRun(id, statesrv.ActorAdmin)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rc.Run())
}

func (h *Handler) listRuns(w http.ResponseWriter, r *http.Request) {
	var out []statesrv.Run
	h.cfg.Runner.View(func(c *projections.Core) { out = c.AllOpenRuns() })
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var run *statesrv.Run
	h.cfg.Runner.View(func(c *projections.Core) {
		if o := c.Runs[id]; o != nil {
			cp := *o
			run = &cp
		}
	})
	if run == nil {
		fin, ok, err := h.cfg.Runner.Store().FinishedRun(id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if !ok {
			writeError(w, statesrv.Errorf(statesrv.ENotFound, "run %s not found", id))
			return
		}
		run = &fin
	}
	writeJSON(w, http.StatusOK, run)
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	q := projections.HistoryQuery{}
	var err error
	if s := r.URL.Query().Get("process"); s != "" {
		if q.ProcessID, err = strconv.ParseInt(s, 10, 64); err != nil || q.ProcessID <= 0 {
			writeError(w, statesrv.Errorf(statesrv.EInvalid, "process: must be a positive integer"))
			return
		}
	}
	if s := strings.ToUpper(r.URL.Query().Get("state")); s != "" {
		if s != statesrv.StateOK && s != statesrv.StateFail && s != statesrv.StateTimeout {
			writeError(w, statesrv.Errorf(statesrv.EInvalid, "state: OK, FAIL or TIMEOUT"))
			return
		}
		q.State = s
	}
	if q.Before, err = timeParam(r, "before"); err != nil {
		writeError(w, err)
		return
	}
	if q.BeforeRun = r.URL.Query().Get("before_run"); q.BeforeRun != "" && q.Before.IsZero() {
		writeError(w, statesrv.Errorf(statesrv.EInvalid, "before_run: goes with before"))
		return
	}
	if q.Limit, err = limitParam(r); err != nil {
		writeError(w, err)
		return
	}
	runs, err := h.cfg.Runner.Store().History(q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, runs)
}

func (h *Handler) listUnprocessed(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var after uint64
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			writeError(w, statesrv.Errorf(statesrv.EInvalid, "after: a seq number"))
			return
		}
	}
	out, err := h.cfg.Runner.Store().Unprocessed(after, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) dismiss(w http.ResponseWriter, r *http.Request) {
	rc, err := h.cfg.Service.Dismiss(r.PathValue("id"), statesrv.ActorAdmin)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	seq, err := h.settle(r.Context(), rc)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dismissed": r.PathValue("id"), "seq": seq})
}

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
	writeJSON(w, http.StatusOK, evs)
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
	st, err := projections.StateAt(r.Context(), h.cfg.Log, at, seq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *Handler) rebuild(w http.ResponseWriter, r *http.Request) {
	n, took, err := h.cfg.Runner.Rebuild(context.WithoutCancel(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": n, "seconds": took.Seconds()})
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
				err := l.Read(ctx, r.First, func(e *eventlog.Event) error {
					if e.Seq > r.Last || len(out) >= f.Limit {
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
