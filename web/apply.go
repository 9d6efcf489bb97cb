package web

import (
	"net/http"

	"github.com/statesrv/statesrv/api"
)

// applyDefinitions answers POST /api/v1/apply with the body
// {"define": [process, ...], "delete": [id, ...]}: every change in one
// atomic append, or none (see commands.Service.ApplyDefinitions). The
// reply names the ids created, changed and deleted, and the seq of the
// first event ("seq": 0 when nothing changed).
func (h *Handler) applyDefinitions(w http.ResponseWriter, r *http.Request) {
	var body api.ApplyRequest
	if err := decodeBody(r, 8*maxBody, true, &body); err != nil {
		writeError(w, err)
		return
	}
	rc, done, err := h.cfg.Service.ApplyDefinitions(body.Define, body.Delete, apiActor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	var seq uint64
	if rc != nil {
		if seq, err = h.settle(r.Context(), rc); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	list := func(ids []int64) []int64 {
		if ids == nil {
			return []int64{}
		}
		return ids
	}
	writeJSON(w, http.StatusOK, api.Applied{Created: list(done[0]), Changed: list(done[1]),
		Deleted: list(done[2]), Seq: seq})
}
