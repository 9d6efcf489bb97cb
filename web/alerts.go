package web

import "net/http"

// listAlerts answers GET /api/v1/alerts?limit=N: alerts and their delivery
// status, newest first.
func (h *Handler) listAlerts(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := h.cfg.Runner.Store().Alerts(limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
