package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
)

func (h *Handler) listProcesses(w http.ResponseWriter, r *http.Request) {
	out := api.ProcessList{}
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
	if err := decodeBody(r, maxBody, true, &p); err != nil {
		writeError(w, err)
		return
	}
	if p.ID != 0 && p.ID != id {
		writeError(w, statesrv.Errorf(statesrv.EInvalid, "id: the body says %d, the path %d", p.ID, id))
		return
	}
	p.ID = id
	_, existed := h.cfg.Service.Process(id)
	rc, err := h.cfg.Service.DefineProcess(p, apiActor(r))
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

func (h *Handler) deleteProcess(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.processCommand(w, r, h.cfg.Service.DeleteProcess); ok {
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) startRun(w http.ResponseWriter, r *http.Request) {
	if rc, ok := h.processCommand(w, r, h.cfg.Service.StartRun); ok {
		writeJSON(w, http.StatusCreated, rc.Run())
	}
}

// processCommand runs a command on the process the path names, as the
// request's actor, and waits for it to settle. When ok is false the error reply is written.
func (h *Handler) processCommand(w http.ResponseWriter, r *http.Request,
	do func(id int64, actor string) (*commands.Receipt, error)) (rc *commands.Receipt, ok bool) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return nil, false
	}
	if rc, err = do(id, apiActor(r)); err != nil {
		writeError(w, err)
		return nil, false
	}
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return rc, true
}
