package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

// alertsPageSize is how many alerts one page of /alerts shows.
const alertsPageSize = 50

func (h *Handler) alertRoutes() {
	h.page("GET /alerts", statesrv.RoleViewer, h.alertsPage)
	h.page("POST /alerts/pause", statesrv.RoleEditor, h.pauseAllAlerts)
	h.page("POST /alerts/resume", statesrv.RoleEditor, h.resumeAllAlerts)
	h.page("POST /alerts/test", statesrv.RoleEditor, h.sendTestAlert)
}

// alertsPage lists every alert newest first, filtered by status and
// process, a page at a time: the cursor is the id of the last alert shown,
// so a page costs the same however deep it is. A bad filter gives 400 with
// inline errors and no list.
func (h *Handler) alertsPage(w http.ResponseWriter, r *http.Request, user string) {
	m := views.AlertsPage{Page: h.pageOf(user, "Alerts", "/alerts")}
	m.Flash = flashOf(r)
	q, cursor := parseAlertsFilter(r.URL.Query(), &m)
	status := http.StatusOK
	if len(m.Errs) > 0 {
		status = http.StatusBadRequest
	} else if err := h.alertList(&m, q, cursor); err != nil {
		if !errors.Is(err, projections.ErrNoSuchAlert) {
			h.pageError(w, r, user, err)
			return
		}
		m.Errs["before"] = "The page link is damaged (before: no such alert); start again from the newest."
		status = http.StatusBadRequest
	}
	h.alertsPause(&m)
	h.render(w, r, status, views.AlertsView(m))
}

// parseAlertsFilter reads the filter and cursor of /alerts into a query,
// keeping the values as given in m.Filter and what is wrong in m.Errs.
func parseAlertsFilter(v url.Values, m *views.AlertsPage) (q projections.AlertQuery, cursor bool) {
	m.Errs = views.FieldErrors{}
	m.Filter.Status = strings.ToLower(strings.TrimSpace(v.Get("status")))
	m.Filter.Process = strings.TrimSpace(v.Get("process"))
	switch m.Filter.Status {
	case "", statesrv.AlertPending, statesrv.AlertDelivered, statesrv.AlertFailed, statesrv.AlertSuppressed:
		q.Status = m.Filter.Status
	default:
		m.Errs["status"] = "Status: pending, delivered, failed or suppressed."
	}
	q.ProcessID = formProcessID(m.Filter.Process, m.Errs)
	if q.Before = v.Get("before"); q.Before != "" {
		cursor = true
		if len(q.Before) > 200 {
			m.Errs["before"] = "The page link is damaged (before: too long); start again from the newest."
		}
	}
	return q, cursor
}

// alertList fills m's rows and page links for q.
func (h *Handler) alertList(m *views.AlertsPage, q projections.AlertQuery, cursor bool) error {
	q.Limit = alertsPageSize + 1
	alerts, err := h.cfg.Runner.Store().AlertsBefore(q)
	if err != nil {
		return err
	}
	more := len(alerts) > alertsPageSize
	alerts = alerts[:min(len(alerts), alertsPageSize)]
	h.cfg.Runner.View(func(c *projections.Core) {
		for _, a := range alerts {
			row := views.AlertRow{Alert: a}
			if ps := c.Procs[a.ProcessID]; ps != nil {
				row.ProcessName = ps.Name
			}
			m.Rows = append(m.Rows, row)
		}
	})
	filter := filterValues(map[string]string{"status": m.Filter.Status, "process": m.Filter.Process})
	if more {
		m.Older = cursorLink("/alerts", filter, url.Values{"before": {alerts[len(alerts)-1].ID}})
	}
	if cursor {
		m.Newest = pageLink("/alerts", filter)
	}
	return nil
}

// alertsPause fills in the pause of every process's alerts as of now, and
// how many processes have one of their own.
func (h *Handler) alertsPause(m *views.AlertsPage) {
	now := h.cfg.Now()
	h.cfg.Runner.View(func(c *projections.Core) {
		for pid, until := range c.Pauses {
			if !until.IsZero() && !now.Before(until) {
				continue // over
			}
			if pid == 0 {
				m.Paused, m.PausedUntil = true, until
			} else {
				m.ProcessPauses++
			}
		}
	})
}

// pauseAllAlerts holds back the alerts of every process for the duration
// in the form field "for" (empty: until resumed), as the session's user.
func (h *Handler) pauseAllAlerts(w http.ResponseWriter, r *http.Request, user string) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	m := views.AlertsPage{FormErrs: views.FieldErrors{}}
	m.PauseFor = strings.TrimSpace(r.PostFormValue("for"))
	until, ok := pauseUntil(m.PauseFor, h.cfg.Now())
	if !ok {
		m.FormErrs["for"] = "Pause for a duration such as 1h or 4h30m, or leave it empty to pause until resumed."
		h.alertsFormError(w, r, user, m)
		return
	}
	rc, err := h.cfg.Service.PauseAlerts(0, until, user)
	if statesrv.ErrorCode(err) == statesrv.EInvalid {
		m.FormErrs["for"] = statesrv.ErrorMessage(err)
		h.alertsFormError(w, r, user, m)
		return
	}
	flash := "Alerts of every process paused until resumed."
	if !until.IsZero() {
		flash = "Alerts of every process paused until " + views.UTC(until) + "."
	}
	h.commandDone(w, r, user, rc, err, "/alerts", flash)
}

// resumeAllAlerts ends the pause of every process's alerts, as the
// session's user.
func (h *Handler) resumeAllAlerts(w http.ResponseWriter, r *http.Request, user string) {
	rc, err := h.cfg.Service.ResumeAlerts(0, user)
	if statesrv.ErrorCode(err) == statesrv.ENotFound {
		m := views.AlertsPage{FormErrs: views.FieldErrors{"resume": "The alerts of every process are not paused: nothing to resume."}}
		h.alertsFormError(w, r, user, m)
		return
	}
	h.commandDone(w, r, user, rc, err, "/alerts", "Alerts of every process resumed.")
}

// sendTestAlert asks for a test alert to one recipient of a process, as
// the session's user.
func (h *Handler) sendTestAlert(w http.ResponseWriter, r *http.Request, user string) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	m := views.AlertsPage{FormErrs: views.FieldErrors{}}
	m.TestProcess = strings.TrimSpace(r.PostFormValue("process"))
	m.TestRecipient = strings.TrimSpace(r.PostFormValue("recipient"))
	pid, err := strconv.ParseInt(m.TestProcess, 10, 64)
	if err != nil || pid <= 0 {
		m.FormErrs["process"] = "Process: the id of a defined process, a positive whole number."
	}
	if m.TestRecipient == "" {
		m.FormErrs["recipient"] = "Recipient: one of the process's recipients, such as mailto:ops@example.com."
	}
	if len(m.FormErrs) > 0 {
		h.alertsFormError(w, r, user, m)
		return
	}
	rc, err := h.cfg.Service.TestAlert(pid, m.TestRecipient, user)
	switch statesrv.ErrorCode(err) {
	case statesrv.ENotFound:
		m.FormErrs["process"] = "Process " + strconv.FormatInt(pid, 10) + " is not defined."
	case statesrv.EInvalid:
		m.FormErrs["recipient"] = statesrv.ErrorMessage(err)
	}
	if len(m.FormErrs) > 0 {
		h.alertsFormError(w, r, user, m)
		return
	}
	h.commandDone(w, r, user, rc, err, "/alerts", "Test alert to "+m.TestRecipient+" requested; it is listed below.")
}

// alertsFormError shows the page again, unfiltered, with the posted form's
// values and errors in m, and 400.
func (h *Handler) alertsFormError(w http.ResponseWriter, r *http.Request, user string, m views.AlertsPage) {
	m.Page = h.pageOf(user, "Alerts", "/alerts")
	m.Errs = views.FieldErrors{}
	if err := h.alertList(&m, projections.AlertQuery{}, false); err != nil {
		h.pageError(w, r, user, err)
		return
	}
	h.alertsPause(&m)
	h.render(w, r, http.StatusBadRequest, views.AlertsView(m))
}
