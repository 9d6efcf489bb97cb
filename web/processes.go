package web

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
)

func (h *Handler) listProcesses(w http.ResponseWriter, r *http.Request) {
	tag, err := tagParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	out := api.ProcessList{}
	h.cfg.Runner.View(func(c *projections.Core) {
		for _, p := range c.ProcessList() {
			if tag == "" || p.HasTag(tag) {
				out = append(out, p.Process.Redacted())
			}
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
			cp := ps.Process.Redacted()
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
	raw, err := readBody(r, maxBody)
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := decodeProcess(raw, id)
	if err != nil {
		writeError(w, err)
		return
	}
	status := http.StatusOK
	if _, existed := h.cfg.Service.Process(id); !existed {
		status = http.StatusCreated
	}
	h.define(w, r, p, status)
}

// define stores p, waits until the views show it, and answers status with
// the definition as stored (redacted).
func (h *Handler) define(w http.ResponseWriter, r *http.Request, p statesrv.Process, status int) {
	rc, err := h.cfg.Service.DefineProcess(p, apiActor(r))
	if !h.settled(w, r, rc, err) {
		return
	}
	ps, _ := h.cfg.Service.Process(p.ID)
	writeJSON(w, status, ps.Process.Redacted())
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

// decodeProcess decodes the definition of process id from raw, a JSON
// object: a field that Process does not have is refused, as is an id other
// than the path's; fields left out or null take their defaults (enabled:
// true); and a max_runtime given as zero is refused, since a zero there
// would read as left out and silently become the default. Errors are
// EInvalid and name the field.
func decodeProcess(raw []byte, id int64) (statesrv.Process, error) {
	var p statesrv.Process
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, statesrv.Errorf(statesrv.EInvalid, "body: %s", jsonProblem(err))
	}
	var given map[string]json.RawMessage
	if err := json.Unmarshal(raw, &given); err != nil {
		return p, statesrv.Errorf(statesrv.EInvalid, "body: a JSON object (a process)")
	}
	if err := commands.FromJSON(&p, given); err != nil {
		return p, err
	}
	if p.ID != 0 && p.ID != id {
		return p, statesrv.Errorf(statesrv.EInvalid, "id: the body says %d, the path %d", p.ID, id)
	}
	p.ID = id
	return p, nil
}
