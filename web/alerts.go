package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
)

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
	writeJSON(w, http.StatusOK, api.AlertList(out))
}

// pauseAlerts answers POST /api/v1/processes/{id}/pause and
// POST /api/v1/alerts/pause (every process), with an optional body
// {"until": "RFC 3339 time"}; without it the pause lasts until resumed,
// and the answer has no "until".
func (h *Handler) pauseAlerts(w http.ResponseWriter, r *http.Request) {
	pid, ok := h.pausePID(w, r)
	if !ok {
		return
	}
	var body api.PauseRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			writeError(w, statesrv.Errorf(statesrv.EInvalid, "body: %s", jsonProblem(err)))
			return
		}
	}
	rc, err := h.cfg.Service.PauseAlerts(pid, body.Until, apiActor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	st := api.PauseState{Paused: true, ProcessID: pid}
	if !body.Until.IsZero() {
		st.Until = &body.Until
	}
	h.settleReply(w, r, rc, st)
}

// resumeAlerts answers POST /api/v1/processes/{id}/resume and
// POST /api/v1/alerts/resume.
func (h *Handler) resumeAlerts(w http.ResponseWriter, r *http.Request) {
	pid, ok := h.pausePID(w, r)
	if !ok {
		return
	}
	rc, err := h.cfg.Service.ResumeAlerts(pid, apiActor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	h.settleReply(w, r, rc, api.PauseState{ProcessID: pid})
}

// pausePID is the process a pause is about: the path's id, or 0 (every
// process) on the /alerts routes.
func (h *Handler) pausePID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if r.PathValue("id") == "" {
		return 0, true
	}
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return 0, false
	}
	return id, true
}

func (h *Handler) settleReply(w http.ResponseWriter, r *http.Request, rc *commands.Receipt, body any) {
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// testAlert answers POST /api/v1/processes/{id}/test-alert with the body
// {"recipient": "mailto:..."}: a test alert to one of the process's
// recipients, listed by /api/v1/alerts with its delivery status.
func (h *Handler) testAlert(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var body api.TestAlertRequest
	if err := decodeBody(r, 4096, false, &body); err != nil {
		writeError(w, err)
		return
	}
	rc, err := h.cfg.Service.TestAlert(id, body.Recipient, apiActor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	h.settleReply(w, r, rc, api.TestAlertRequested{ProcessID: id, Recipient: body.Recipient, Requested: true})
}
