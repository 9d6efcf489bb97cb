package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/projections"
)

func (h *Handler) listRuns(w http.ResponseWriter, r *http.Request) {
	tag, err := tagParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var out []statesrv.Run
	h.cfg.Runner.View(func(c *projections.Core) {
		f := tagFilterOf(c, tag)
		out = slices.DeleteFunc(c.AllOpenRuns(), func(r statesrv.Run) bool { return !f.keeps(r.ProcessID) })
	})
	writeJSON(w, http.StatusOK, api.RunList(out))
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
	if q.ProcessID, err = processParam(r); err != nil {
		writeError(w, err)
		return
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
	tag, err := tagParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if tag != "" {
		h.cfg.Runner.View(func(c *projections.Core) { q.Processes = tagFilterOf(c, tag).ids })
	}
	runs, err := h.cfg.Runner.Store().History(q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.HistoryPage(runs))
}
