package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/views"
)

// stateRows bounds each list of the time-travel page, so that the page
// stays small however many processes, runs or messages there were.
const stateRows = 200

func (h *Handler) stateRoutes() {
	h.page("GET /state", statesrv.RoleViewer, h.statePage)
}

// statePage shows the views as they stood at a moment (at) or after an
// event (seq), replayed from the log from the newest snapshot before it;
// without either, only the form.
func (h *Handler) statePage(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	now := h.cfg.Now().UTC()
	morning := now.Truncate(24 * time.Hour)
	m := views.StatePage{Page: h.pageOf(user, "Time travel", "/state"),
		At: strings.TrimSpace(q.Get("at")), Seq: strings.TrimSpace(q.Get("seq")),
		HourAgo:   now.Add(-time.Hour).Format(time.RFC3339),
		Morning:   morning.Format(time.RFC3339),
		Yesterday: now.Add(-24 * time.Hour).Format(time.RFC3339)}
	at, seq, errs := stateParams(m.At, m.Seq)
	if len(errs) > 0 {
		m.Errors = errs
		h.render(w, r, http.StatusBadRequest, views.TimeTravel(m))
		return
	}
	if !at.IsZero() || seq != 0 {
		last := h.cfg.Log.LastSeq()
		st, err := h.cfg.Runner.Store().StateAt(r.Context(), h.cfg.Log, at, seq)
		if err != nil {
			h.pageError(w, r, user, err)
			return
		}
		res := &views.StateResult{BySeq: seq != 0, At: st.At, Seq: st.Seq, LastSeq: max(last, st.Seq)}
		res.Processes, res.MoreProcesses = stateFirstRows(st.Processes)
		res.Runs, res.MoreRuns = stateFirstRows(st.Runs)
		res.Unprocessed, res.MoreUnprocessed = stateFirstRows(st.Unprocessed)
		m.Result = res
	}
	h.render(w, r, http.StatusOK, views.TimeTravel(m))
}

// stateParams reads the moment or seq asked for: at most one of them.
func stateParams(atText, seqText string) (at time.Time, seq uint64, errs views.FieldErrors) {
	errs = views.FieldErrors{}
	if atText != "" && seqText != "" {
		errs["seq"] = "give a moment or a seq, not both"
		return
	}
	if atText != "" {
		var err error
		if at, err = parseFormTime(atText); err != nil {
			errs["at"] = "not a moment: give RFC 3339 (2026-11-26T08:00:00Z) or a date and time taken as UTC (2026-11-26T08:00)"
		}
	}
	if seqText != "" {
		n, err := strconv.ParseUint(seqText, 10, 64)
		if err != nil || n == 0 {
			errs["seq"] = "a seq is a positive whole number"
		}
		seq = n
	}
	return at, seq, errs
}

// stateFirstRows returns the first stateRows of list and how many it left out.
func stateFirstRows[T any](list []T) ([]T, int) {
	if len(list) <= stateRows {
		return list, 0
	}
	return list[:stateRows], len(list) - stateRows
}
