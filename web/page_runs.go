package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

// runsPerPage bounds the running page; the next page starts after the last
// run shown.
const runsPerPage = 100

func (h *Handler) runRoutes() {
	h.page("GET /runs", statesrv.RoleViewer, h.runsPage)
}

// runsPage lists the open runs, earliest deadline first, a page at a time.
func (h *Handler) runsPage(w http.ResponseWriter, r *http.Request, user string) {
	m := views.RunningPage{Page: h.livePageOf(user, "Running", "/runs")}
	m.Flash = flashOf(r)
	m.Now = h.cfg.Now().UTC()
	after, afterRun, ok := parseRunCursor(r.URL.Query().Get("after"))
	status := http.StatusOK
	if !ok {
		m.Error = "after: not a page of this list; showing the first page"
		status = http.StatusBadRequest
	}
	m.Tag = strings.TrimSpace(r.URL.Query().Get("tag"))
	if err := validTagFilter(m.Tag); err != "" {
		m.TagError, m.Tag, status = views.FieldErrors{"tag": err}, "", http.StatusBadRequest
	}
	h.cfg.Runner.View(func(c *projections.Core) {
		m.Runs, m.Total = earliestDeadlines(c, runsPerPage+1, after, afterRun, tagFilterOf(c, m.Tag))
	})
	m.Paged = afterRun != ""
	if len(m.Runs) > runsPerPage {
		m.Runs = m.Runs[:runsPerPage]
		last := m.Runs[runsPerPage-1]
		m.Next = "/runs?after=" + url.QueryEscape(runCursor(last.Deadline, last.ID))
		if m.Tag != "" {
			m.Next += "&tag=" + url.QueryEscape(m.Tag)
		}
	}
	h.render(w, r, status, views.RunningView(m))
}

// runCursor is the position of a run in deadline order: deadline ns and
// run id.
func runCursor(deadline time.Time, id string) string {
	return strconv.FormatInt(deadline.UnixNano(), 10) + "_" + id
}

// parseRunCursor reads a runCursor; "" is the start. ok is false for a
// value that is no cursor (then it is the start too).
func parseRunCursor(s string) (deadline time.Time, id string, ok bool) {
	if s == "" {
		return time.Time{}, "", true
	}
	ns, id, found := strings.Cut(s, "_")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !found || err != nil || id == "" || len(id) > 100 {
		return time.Time{}, "", false
	}
	return time.Unix(0, n).UTC(), id, true
}
