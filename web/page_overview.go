package web

import (
	"cmp"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

// Bounds of the overview's lists: it shows what needs attention first and
// links to the full pages for the rest.
const (
	overviewFailed       = 50
	overviewOpen         = 20
	overviewUnprocessed  = 5
	overviewAlerts       = 10
	overviewNextRuns     = 10
	overviewDefaultSince = 24 * time.Hour
)

func (h *Handler) overviewRoutes() {
	h.page("GET /{$}", statesrv.RoleViewer, h.overviewPage)
}

// overviewPage shows what needs attention first. A bad since gives 400 with
// an inline error and the page as for the default (the last 24 hours).
func (h *Handler) overviewPage(w http.ResponseWriter, r *http.Request, user string) {
	m := views.OverviewPage{Page: h.livePageOf(user, "Overview", "/")}
	m.Flash = flashOf(r)
	m.Now = h.cfg.Now().UTC()
	m.SinceValue = r.URL.Query().Get("since")
	since, err := parseSince(m.SinceValue, m.Now)
	status := http.StatusOK
	if err != nil {
		m.Errors = views.FieldErrors{"since": err.Error()}
		status = http.StatusBadRequest
		since = m.Now.Add(-overviewDefaultSince)
	}
	m.Since = since
	m.Tag = strings.TrimSpace(r.URL.Query().Get("tag"))
	if msg := validTagFilter(m.Tag); msg != "" {
		if m.Errors == nil {
			m.Errors = views.FieldErrors{}
		}
		m.Errors["tag"], m.Tag, status = msg, "", http.StatusBadRequest
	}
	if err := h.overview(&m); err != nil {
		h.pageError(w, r, user, err)
		return
	}
	h.render(w, r, status, views.OverviewView(m))
}

// overview fills m's lists as of m.Now, for failures since m.Since. The
// stored views are read first and the Core once, at the end: each read of
// the Core may wait for the batch being applied.
func (h *Handler) overview(m *views.OverviewPage) error {
	store := h.cfg.Runner.Store()
	m.Events = h.cfg.Log.LastSeq()
	var tf tagFilter
	if m.Tag != "" {
		h.cfg.Runner.View(func(c *projections.Core) { tf = tagFilterOf(c, m.Tag) })
	}
	var err error
	if m.Failed, m.FailedMore, err = failedSince(store, m.Since, tf.ids); err != nil {
		return err
	}
	if m.Unprocessed, err = store.UnprocessedBefore(0, overviewUnprocessed); err != nil {
		return err
	}
	if m.FailedAlerts, err = failedAlerts(store, m.Since); err != nil {
		return err
	}
	m.FailedAlerts = slices.DeleteFunc(m.FailedAlerts, func(a statesrv.Alert) bool { return !tf.keeps(a.ProcessID) })
	m.CountsFrom = m.Now.Add(-24 * time.Hour).Truncate(time.Hour)
	counts, err := store.FinishedCounts(m.CountsFrom, m.Now)
	if err != nil {
		return err
	}
	m.CountOK, m.CountFail, m.CountTimeout = counts[statesrv.StateOK], counts[statesrv.StateFail], counts[statesrv.StateTimeout]
	m.UnprocessedTotal = h.cfg.Runner.Unprocessed()

	fires := h.cfg.Service.SoonestFires(overviewNextRuns)

	// Alerts, messages and fire times carry only the process id: look up
	// the names.
	m.Names = map[int64]string{}
	h.cfg.Runner.View(func(c *projections.Core) {
		m.Processes = len(c.Procs)
		m.Open, m.OpenTotal = earliestDeadlines(c, overviewOpen, time.Time{}, "", tf)
		for _, f := range fires {
			if ps := c.Procs[f.ProcessID]; ps != nil && tf.keeps(f.ProcessID) {
				m.NextRuns = append(m.NextRuns, views.NextRun{ProcessID: f.ProcessID, Name: ps.Name, At: f.At})
			}
		}
		for _, a := range m.FailedAlerts {
			if ps := c.Procs[a.ProcessID]; ps != nil {
				m.Names[a.ProcessID] = ps.Name
			}
		}
		for _, u := range m.Unprocessed {
			if ps := c.Procs[u.ProcessID]; ps != nil {
				m.Names[u.ProcessID] = ps.Name
			}
		}
	})
	return nil
}

// failedSince returns the runs that failed or timed out since since (of
// processes, when not nil),
// newest first, at most overviewFailed; more tells that there are others.
func failedSince(store *projections.Store, since time.Time, processes []int64) (runs []statesrv.Run, more bool, err error) {
	for _, state := range []string{statesrv.StateFail, statesrv.StateTimeout} {
		got, err := store.History(projections.HistoryQuery{State: state, Limit: overviewFailed + 1, Processes: processes})
		if err != nil {
			return nil, false, err
		}
		for _, r := range got {
			if r.FinishedAt != nil && !r.FinishedAt.Before(since) {
				runs = append(runs, r)
			}
		}
	}
	slices.SortFunc(runs, func(a, b statesrv.Run) int {
		if c := b.FinishedAt.Compare(*a.FinishedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if len(runs) > overviewFailed {
		return runs[:overviewFailed], true, nil
	}
	return runs, false, nil
}

// failedAlerts returns the newest alerts that could not be delivered,
// requested since since, at most overviewAlerts: from the index of failed
// alerts, so none is missed however many alerts came after it.
func failedAlerts(store *projections.Store, since time.Time) ([]statesrv.Alert, error) {
	all, err := store.FailedAlerts("", overviewAlerts)
	if err != nil {
		return nil, err
	}
	for i, a := range all {
		if a.RequestedAt.Before(since) {
			return all[:i], nil // newest first: the rest are older
		}
	}
	return all, nil
}

// earliestDeadlines returns the first n open runs that f keeps in
// deadline order (then by id) after the run (deadline, id) — from the
// first when id is "" — and how many such runs are open in all. It keeps only n runs aside, so a page
// costs one pass over the open runs and no sort of them all.
func earliestDeadlines(c *projections.Core, n int, deadline time.Time, id string, f tagFilter) ([]statesrv.Run, int) {
	order := func(a *statesrv.Run, d time.Time, id string) int {
		if c := a.Deadline.Compare(d); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, id)
	}
	best := make([]*statesrv.Run, 0, n+1)
	total := 0
	for _, r := range c.Runs {
		if !f.keepsRun(r) {
			continue
		}
		total++
		if id != "" && order(r, deadline, id) <= 0 {
			continue
		}
		if len(best) == n && order(r, best[n-1].Deadline, best[n-1].ID) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, r, func(x, y *statesrv.Run) int { return order(x, y.Deadline, y.ID) })
		best = slices.Insert(best, i, r)
		if len(best) > n {
			best = best[:n]
		}
	}
	out := make([]statesrv.Run, len(best))
	for i, r := range best {
		out[i] = *r
	}
	return out, total
}

var relativeSince = regexp.MustCompile(`^(\d{1,4})([mhd])$`)

// parseSince reads the overview's since: a span back from now ("1h",
// "24h", "7d", "30m") or a time in UTC (RFC 3339, or "2026-11-26 07:00").
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now.Add(-overviewDefaultSince), nil
	}
	if m := relativeSince.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
		if n == 0 || time.Duration(n)*unit > 366*24*time.Hour {
			return time.Time{}, errors.New("a span from 1m to 366d")
		}
		return now.Add(-time.Duration(n) * unit), nil
	}
	t, err := parseFormTime(s)
	switch {
	case err != nil:
		return time.Time{}, errors.New("a span such as 1h, 24h or 7d, or a UTC time such as 2026-11-26 07:00")
	case t.After(now):
		return time.Time{}, errors.New("a time in the past")
	}
	return t, nil
}
