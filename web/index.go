package web

import (
	"net/http"

	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

// apiLinks lists the JSON API on the index page.
var apiLinks = []views.Link{
	{Method: "GET", Path: "/api/v1/processes", What: "list definitions"},
	{Method: "PUT", Path: "/api/v1/processes/{id}", What: "create or replace a definition"},
	{Method: "GET", Path: "/api/v1/processes/{id}", What: "read a definition"},
	{Method: "DELETE", Path: "/api/v1/processes/{id}", What: "delete a definition"},
	{Method: "POST", Path: "/api/v1/processes/{id}/start", What: "open a run now"},
	{Method: "GET", Path: "/api/v1/runs", What: "open runs"},
	{Method: "GET", Path: "/api/v1/runs/{id}", What: "one run, open or finished"},
	{Method: "GET", Path: "/api/v1/history?process=&state=&before=&limit=", What: "finished runs, newest first"},
	{Method: "GET", Path: "/api/v1/unprocessed", What: "unprocessed messages"},
	{Method: "POST", Path: "/api/v1/unprocessed/{message_id}/dismiss", What: "dismiss one"},
	{Method: "GET", Path: "/api/v1/events?after=&limit=&process=&type=", What: "the event log, oldest first"},
	{Method: "GET", Path: "/api/v1/state?at=TIME", What: "the views as they stood at TIME"},
	{Method: "GET", Path: "/api/v1/alerts?limit=", What: "alerts and their delivery status, newest first"},
	{Method: "POST", Path: "/api/v1/apply", What: "define and delete many processes as one change"},
	{Method: "POST", Path: "/api/v1/rebuild", What: "rebuild every view from the log"},
	{Method: "GET", Path: "/api/v1/backup", What: "the whole log as a backup stream"},
	{Method: "POST", Path: "/api/v1/processes/{id}/pause", What: "hold back a process's alerts (body {\"until\": TIME}, optional)"},
	{Method: "POST", Path: "/api/v1/processes/{id}/resume", What: "end that pause"},
	{Method: "POST", Path: "/api/v1/processes/{id}/test-alert", What: "send a test alert to one of its recipients (body {\"recipient\": URI})"},
	{Method: "POST", Path: "/api/v1/alerts/pause", What: "hold back every alert (body {\"until\": TIME}, optional)"},
	{Method: "POST", Path: "/api/v1/alerts/resume", What: "end that pause"},
}

// index renders the start page.
func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	m := views.IndexPage{Version: h.cfg.Version, LastSeq: h.cfg.Log.LastSeq(),
		TCPAddr: h.cfg.TCPAddr, APIEndpoint: apiLinks}
	h.cfg.Runner.View(func(c *projections.Core) {
		m.Processes, m.OpenRuns = len(c.Procs), len(c.Runs)
	})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := views.Index(m).Render(r.Context(), w); err != nil {
		h.cfg.Logger.Warn("http: render index", "error", err)
	}
}
