package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

func (h *Handler) processRoutes() {
	h.page("GET /processes", statesrv.RoleViewer, h.processesPage)
	h.page("GET /processes/new", statesrv.RoleEditor, h.newProcessForm)
	h.page("GET /processes/preview", statesrv.RoleViewer, h.schedulePreview)
	h.page("POST /processes", statesrv.RoleEditor, h.createProcess)
	h.page("GET /processes/{id}", statesrv.RoleViewer, h.processPage)
	h.page("GET /processes/{id}/edit", statesrv.RoleEditor, h.editProcessForm)
	h.page("POST /processes/{id}", statesrv.RoleEditor, h.updateProcess)
	h.page("POST /processes/{id}/start", statesrv.RoleEditor, h.startProcessRun)
	h.page("POST /processes/{id}/pause", statesrv.RoleEditor, h.pauseProcessAlerts)
	h.page("POST /processes/{id}/resume", statesrv.RoleEditor, h.resumeProcessAlerts)
	h.page("POST /processes/{id}/delete", statesrv.RoleEditor, h.deleteProcessPage)
}

// processesPerPage is the length of one page of the process list.
const processesPerPage = 100

// maxQueryLen bounds the search text of the process list.
const maxQueryLen = 200

func (h *Handler) processesPage(w http.ResponseWriter, r *http.Request, user string) {
	m := views.ProcessesPage{Page: h.livePageOf(user, "Processes", "/processes"), Errors: views.FieldErrors{}}
	m.Flash = flashOf(r)
	m.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(m.Query)) > maxQueryLen {
		m.Errors["q"] = "Search for at most 200 characters."
	}
	if m.Tag = strings.TrimSpace(r.URL.Query().Get("tag")); m.Tag != "" {
		if err := commands.ValidTag("Tag", m.Tag); err != nil {
			m.Errors["tag"] = statesrv.ErrorMessage(err) + "."
		}
	}
	if s := r.URL.Query().Get("after"); s != "" {
		after, err := strconv.ParseInt(s, 10, 64)
		if err != nil || after < 0 {
			m.Errors["after"] = "The page cursor must be a process id."
		}
		m.After = after
	}
	if len(m.Errors) > 0 {
		h.render(w, r, http.StatusBadRequest, views.Processes(m))
		return
	}
	now := h.cfg.Now()
	match := processMatcher(m.Query)
	h.cfg.Runner.View(func(c *projections.Core) {
		m.Defined = len(c.Procs)
		ids := make([]int64, 0, min(len(c.Procs), 1024))
		for id, ps := range c.Procs {
			if id > m.After && match(ps) && (m.Tag == "" || ps.HasTag(m.Tag)) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		if len(ids) > processesPerPage {
			m.NextAfter = ids[processesPerPage-1]
			ids = ids[:processesPerPage]
		}
		for _, id := range ids {
			m.Rows = append(m.Rows, processRow(c, c.Procs[id], now))
		}
	})
	for i := range m.Rows {
		if f := h.cfg.Service.NextFires(m.Rows[i].ID, 1); len(f) > 0 {
			m.Rows[i].NextFire = f[0]
		}
	}
	h.render(w, r, http.StatusOK, views.Processes(m))
}

// processMatcher selects the processes a search names: by id when the text
// is a number, and by a part of the name in any case.
func processMatcher(q string) func(*projections.ProcessState) bool {
	if q == "" {
		return func(*projections.ProcessState) bool { return true }
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64)
	if err != nil {
		id = 0
	}
	lower := strings.ToLower(q)
	return func(ps *projections.ProcessState) bool {
		return ps.ID == id || strings.Contains(strings.ToLower(ps.Name), lower)
	}
}

func processRow(c *projections.Core, ps *projections.ProcessState, now time.Time) views.ProcessRow {
	row := views.ProcessRow{ID: ps.ID, Name: ps.Name, Cron: ps.Schedule, Timezone: ps.Timezone,
		MaxRuntime: time.Duration(ps.MaxRuntime), LastState: ps.LastState, LastAt: ps.LastAt, Enabled: ps.Enabled,
		Tags: ps.Tags}
	if ps.Schedule != "" {
		row.Words = commands.DescribeSchedule(ps.Schedule)
	}
	row.PausedUntil, row.Paused = c.Paused(ps.ID, now)
	return row
}

// recentRuns is how many finished runs the process page shows.
const recentRuns = 20

func (h *Handler) processPage(w http.ResponseWriter, r *http.Request, user string) {
	id, err := pathID(r)
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	now := h.cfg.Now()
	var m views.ProcessPage
	m.Page = h.livePageOf(user, "", "/processes")
	found := false
	h.cfg.Runner.View(func(c *projections.Core) {
		ps := c.Procs[id]
		if ps == nil {
			return
		}
		found = true
		m.Process = ps.Process
		m.Process.Alerts = copyAlerts(ps.Alerts)
		m.Process.Maintenance = slices.Clone(ps.Maintenance)
		m.DefinedAt, m.LastState, m.LastAt = ps.DefinedAt, ps.LastState, ps.LastAt
		m.PausedUntil, m.Paused = c.Paused(id, now)
		if _, own := c.Pauses[id]; m.Paused && !own {
			m.PausedAll = true
		}
		for _, run := range c.OpenRuns(id) {
			m.OpenRuns = append(m.OpenRuns, *run)
		}
	})
	if !found {
		h.pageError(w, r, user, statesrv.Errorf(statesrv.ENotFound, "Process %d is not defined.", id))
		return
	}
	m.Title = m.Process.Name
	m.Flash = flashOf(r)
	m.Now = now
	if m.Process.Schedule != "" {
		m.Words = commands.DescribeSchedule(m.Process.Schedule)
	}
	m.NextFires = h.cfg.Service.NextFires(id, 5)
	if m.Runs, err = h.cfg.Runner.Store().History(projections.HistoryQuery{ProcessID: id, Limit: recentRuns}); err != nil {
		h.pageError(w, r, user, err)
		return
	}
	if m.Changes, m.ChangesCut, err = h.processChanges(r.Context(), id); err != nil {
		h.pageError(w, r, user, err)
		return
	}
	h.render(w, r, http.StatusOK, views.ProcessView(m))
}

func copyAlerts(a statesrv.Alerts) statesrv.Alerts {
	return statesrv.Alerts{OK: slices.Clone(a.OK), Fail: slices.Clone(a.Fail), Timeout: slices.Clone(a.Timeout),
		Late: slices.Clone(a.Late), Recovered: slices.Clone(a.Recovered)}
}
