package web

import (
	"net/http"
	"strconv"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

func (h *Handler) startProcessRun(w http.ResponseWriter, r *http.Request, user string) {
	h.processAction(w, r, user, func(id int64) (*commands.Receipt, string, error) {
		rc, err := h.cfg.Service.StartRun(id, user)
		if err != nil {
			return nil, "", err
		}
		return rc, "Started run " + rc.Run().ID + ".", nil
	})
}

// pauseProcessAlerts holds back the process's alerts for the duration in
// the form field "for" (empty: until resumed).
func (h *Handler) pauseProcessAlerts(w http.ResponseWriter, r *http.Request, user string) {
	h.processAction(w, r, user, func(id int64) (*commands.Receipt, string, error) {
		until, ok := pauseUntil(r.PostFormValue("for"), h.cfg.Now())
		if !ok {
			return nil, "", statesrv.Errorf(statesrv.EInvalid, "Pause for a duration such as 4h.")
		}
		rc, err := h.cfg.Service.PauseAlerts(id, until, user)
		return rc, "Alerts paused.", err
	})
}

func (h *Handler) resumeProcessAlerts(w http.ResponseWriter, r *http.Request, user string) {
	h.processAction(w, r, user, func(id int64) (*commands.Receipt, string, error) {
		rc, err := h.cfg.Service.ResumeAlerts(id, user)
		return rc, "Alerts resumed.", err
	})
}

func (h *Handler) deleteProcessPage(w http.ResponseWriter, r *http.Request, user string) {
	id, err := pathID(r)
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	rc, err := h.cfg.Service.DeleteProcess(id, user)
	h.commandDone(w, r, user, rc, err, "/processes", "Process "+strconv.FormatInt(id, 10)+" deleted.")
}

// processAction runs a command on the process the path names, as the
// session's user, waits for it and goes back to the process's page with
// the command's notice.
func (h *Handler) processAction(w http.ResponseWriter, r *http.Request, user string,
	do func(id int64) (*commands.Receipt, string, error)) {
	id, err := pathID(r)
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	rc, flash, err := do(id)
	h.commandDone(w, r, user, rc, err, "/processes/"+strconv.FormatInt(id, 10), flash)
}
