package web

import (
	"net/http"

	"github.com/statesrv/statesrv/api"
)

func (h *Handler) listUnprocessed(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	after, err := afterParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := h.cfg.Runner.Store().Unprocessed(after, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.UnprocessedPage(out))
}

func (h *Handler) dismiss(w http.ResponseWriter, r *http.Request) {
	rc, err := h.cfg.Service.Dismiss(r.PathValue("id"), apiActor(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	seq, err := h.settle(r.Context(), rc)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Dismissed{Dismissed: r.PathValue("id"), Seq: seq})
}
