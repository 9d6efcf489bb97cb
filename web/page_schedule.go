package web

import (
	"container/heap"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/crontab"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

// Bounds of the schedule page: fire times a page, push-only processes
// named, and bytes of the crontab shown inline.
const (
	fireRows      = 200
	pushOnlyShown = 50
	crontabShown  = 40 << 10
)

// scheduleWindows are the windows the schedule page offers.
var scheduleWindows = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

func (h *Handler) scheduleRoutes() {
	h.page("GET /schedule", statesrv.RoleViewer, h.schedulePage)
	h.page("GET /schedule/crontab", statesrv.RoleViewer, h.crontabFile)
}

// schedulePage lists the fire times of the processes over the chosen window,
// earliest first, a page at a time (from is the last fire time of the page
// before), and the crontab export below.
func (h *Handler) schedulePage(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	now := h.cfg.Now().UTC()
	m := views.SchedulePage{Page: h.pageOf(user, "Schedule", "/schedule"), Windows: []string{"1h", "24h", "7d"},
		Window: q.Get("window"), Process: strings.TrimSpace(q.Get("process")), ExportURL: h.baseURL(r)}
	if m.Window == "" {
		m.Window = "24h"
	}
	var procs []projections.ProcessState
	h.cfg.Runner.View(func(c *projections.Core) { procs = c.ProcessList() })
	m.Crontab = crontabOf(procs, m.ExportURL)
	if len(m.Crontab) > crontabShown {
		m.Crontab, m.CrontabCut = cutLines(m.Crontab, crontabShown), true
	}

	errs := views.FieldErrors{}
	window, ok := scheduleWindows[m.Window]
	if !ok {
		errs["window"] = "choose 1h, 24h or 7d"
	}
	var pid int64
	if m.Process != "" {
		n, err := strconv.ParseInt(m.Process, 10, 64)
		if err != nil || n <= 0 {
			errs["process"] = "a process ID is a positive whole number"
		}
		pid = n
	}
	m.From, m.Until = now, now.Add(window)
	if s := q.Get("from"); s != "" {
		from, err := time.Parse(time.RFC3339Nano, s)
		switch {
		case err != nil:
			errs["from"] = "the page's start must be an RFC 3339 time, e.g. 2026-11-26T08:00:00Z"
		case from.After(now):
			m.From = from.UTC()
		}
	}
	if pid != 0 && len(errs) == 0 {
		procs = onlyProcess(procs, pid)
		if len(procs) == 0 {
			errs["process"] = "no process has this ID"
		}
	}
	if len(errs) > 0 {
		m.Errors = errs
		h.render(w, r, http.StatusBadRequest, views.Schedule(m))
		return
	}
	fireTimes(&m, procs)
	h.render(w, r, http.StatusOK, views.Schedule(m))
}

// crontabFile is the whole crontab export as text, as the CLI prints it.
func (h *Handler) crontabFile(w http.ResponseWriter, r *http.Request, user string) {
	var procs []projections.ProcessState
	h.cfg.Runner.View(func(c *projections.Core) { procs = c.ProcessList() })
	text := crontabOf(procs, h.baseURL(r))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="statesrv.crontab"`)
	w.Write([]byte(text))
}

// baseURL is the server's address as the browser reached it.
func (h *Handler) baseURL(r *http.Request) string {
	scheme := "http"
	if h.cfg.TLS {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// crontabOf is the crontab export of procs, as "statesrv cron export --url
// base" prints it.
func crontabOf(procs []projections.ProcessState, base string) string {
	defs := make([]statesrv.Process, len(procs))
	for i, p := range procs {
		defs[i] = p.Process
	}
	return crontab.Export(defs, base, "statesrv")
}

// cutLines cuts text to at most n bytes, at the end of a line.
func cutLines(text string, n int) string {
	if i := strings.LastIndexByte(text[:n], '\n'); i >= 0 {
		return text[:i+1]
	}
	return ""
}

func onlyProcess(procs []projections.ProcessState, id int64) []projections.ProcessState {
	for _, p := range procs {
		if p.ID == id {
			return []projections.ProcessState{p}
		}
	}
	return nil
}

// fireTimes fills m with the fire times in (m.From, m.Until] of procs,
// earliest first (the same instant by process id), at most fireRows of
// them. It merges the processes' schedules through a heap, so the cost
// grows with the rows shown, not with the fire times in the window.
func fireTimes(m *views.SchedulePage, procs []projections.ProcessState) {
	var fh fireHeap
	for i := range procs {
		p := &procs[i]
		switch {
		case !p.Enabled:
			m.Disabled++
			continue
		case p.PushOnly():
			if len(m.PushOnly) < pushOnlyShown {
				m.PushOnly = append(m.PushOnly, views.FireProcess{ID: p.ID, Name: p.Name})
			} else {
				m.MorePushOnly++
			}
			continue
		}
		sch, err := schedule.Parse(p.Schedule, p.Timezone)
		if err != nil {
			m.Invalid++
			continue
		}
		start := fireStart(p, sch, m.From)
		_, total := sch.Between(start, m.Until, 0)
		m.Total += total
		m.Capped = m.Capped || total >= schedule.CountLimit
		if next := sch.Next(start); !next.IsZero() && !next.After(m.Until) {
			fh = append(fh, &firing{at: next, p: p, sch: sch})
		}
	}
	heap.Init(&fh)
	var rows []views.FireRow
	for len(fh) > 0 && len(rows) <= fireRows {
		f := fh[0]
		loc := f.sch.Location()
		rows = append(rows, views.FireRow{At: f.at, Local: f.at.In(loc).Format("Mon 15:04:05 MST"), Zone: loc.String(),
			FireProcess: views.FireProcess{ID: f.p.ID, Name: f.p.Name, ByCron: f.p.FiredBy == statesrv.FiredByCron}})
		if next := f.sch.Next(f.at); !next.IsZero() && next.After(f.at) && !next.After(m.Until) {
			f.at = next
			heap.Fix(&fh, 0)
		} else {
			heap.Pop(&fh)
		}
	}
	if len(rows) > fireRows {
		// More than a page: end it before the instant it would cut in
		// two, so that the next page (after the last time shown) has
		// every process of that instant.
		cut := rows[fireRows].At
		rows = rows[:fireRows]
		for len(rows) > 1 && rows[len(rows)-1].At.Equal(cut) {
			rows = rows[:len(rows)-1]
		}
		q := url.Values{"window": {m.Window}, "from": {rows[len(rows)-1].At.Format(time.RFC3339Nano)}}
		if m.Process != "" {
			q.Set("process", m.Process)
		}
		m.Later = "/schedule?" + q.Encode()
	}
	m.Shown = len(rows)
	for _, r := range rows {
		day := r.At.Truncate(24 * time.Hour)
		if n := len(m.Days); n == 0 || !m.Days[n-1].Day.Equal(day) {
			m.Days = append(m.Days, views.FireDay{Day: day})
		}
		d := &m.Days[len(m.Days)-1]
		d.Rows = append(d.Rows, r)
	}
}

// fireStart is the instant after which p's coming fire times are counted.
// A cron schedule has fixed times: from itself. "@every d" has the phase
// the scheduler gave it: the fire times go on from the last one it handled.
func fireStart(p *projections.ProcessState, sch *schedule.Schedule, from time.Time) time.Time {
	if !strings.HasPrefix(strings.TrimSpace(p.Schedule), "@every") || p.Fired.IsZero() || !p.Fired.Before(from) {
		return from
	}
	if latest, _, ok := sch.Latest(p.Fired, from); ok {
		return latest
	}
	return p.Fired
}

// firing is a process's next fire time in the merge.
type firing struct {
	at  time.Time
	p   *projections.ProcessState
	sch *schedule.Schedule
}

type fireHeap []*firing

func (h fireHeap) Len() int { return len(h) }
func (h fireHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].p.ID < h[j].p.ID
}
func (h fireHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *fireHeap) Push(x any)   { *h = append(*h, x.(*firing)) }
func (h *fireHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	*h = old[:len(old)-1]
	return f
}
