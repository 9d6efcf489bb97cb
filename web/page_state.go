package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv/views"
)

// stateRows bounds each list of the time-travel page, so that the page
// stays small however many processes, runs or messages there were.
const stateRows = 200

func (h *Handler) stateRoutes() {
	h.handle("GET /state", h.page(h.statePage))
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
		var ok bool
		if at, ok = parseStateMoment(atText); !ok {
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

// stateMomentLayouts are the forms of a moment without a zone, read as UTC; the
// first is what a datetime-local input sends.
var stateMomentLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"}

// parseStateMoment reads an RFC 3339 time, or a date and time without a zone as
// UTC.
func parseStateMoment(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, l := range stateMomentLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// stateFirstRows returns the first stateRows of list and how many it left out.
func stateFirstRows[T any](list []T) ([]T, int) {
	if len(list) <= stateRows {
		return list, 0
	}
	return list[:stateRows], len(list) - stateRows
}
