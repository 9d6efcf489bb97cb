package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

// historyPageSize is how many runs one page of /history shows.
const historyPageSize = 50

func (h *Handler) historyRoutes() {
	h.page("GET /history", statesrv.RoleViewer, h.historyPage)
	h.page("GET /runs/{id}", statesrv.RoleViewer, h.runPage)
}

// historyFilter is a parsed /history query.
type historyFilter struct {
	query    projections.HistoryQuery
	from, to time.Time
	// cursor is set when the page continues an earlier one.
	cursor bool
}

// historyPage lists finished runs newest first. It pages by cursor (the
// finish time and id of the last run shown), so a page costs the same
// however deep it is; a from bound just ends the paging.
func (h *Handler) historyPage(w http.ResponseWriter, r *http.Request, user string) {
	m := views.HistoryPage{Page: h.pageOf(user, "History", "/history")}
	m.Flash = flashOf(r)
	f, errs := parseHistoryFilter(r.URL.Query(), &m.Filter)
	if len(errs) > 0 {
		m.Errs = errs
		h.render(w, r, http.StatusBadRequest, views.History(m))
		return
	}
	f.query.Limit = historyPageSize + 1
	if m.Filter.Tag != "" {
		h.cfg.Runner.View(func(c *projections.Core) { f.query.Processes = tagFilterOf(c, m.Filter.Tag).ids })
	}
	runs, err := h.cfg.Runner.Store().History(f.query)
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	more := len(runs) > historyPageSize
	runs = runs[:min(len(runs), historyPageSize)]
	if !f.from.IsZero() {
		for i, run := range runs {
			if run.FinishedAt != nil && run.FinishedAt.Before(f.from) {
				runs, more = runs[:i], false
				break
			}
		}
	}
	m.Runs = runs
	if more {
		last := runs[len(runs)-1]
		m.Older = cursorLink("/history", historyValues(m.Filter), url.Values{
			"before": {last.FinishedAt.UTC().Format(time.RFC3339Nano)}, "before_run": {last.ID}})
	}
	if f.cursor {
		m.Newest = pageLink("/history", historyValues(m.Filter))
	}
	h.render(w, r, http.StatusOK, views.History(m))
}

// parseHistoryFilter reads the filter and cursor of /history into f and
// form (the values to show back); it returns what is wrong with each bad
// field.
func parseHistoryFilter(q url.Values, form *views.HistoryFilter) (historyFilter, views.FieldErrors) {
	var f historyFilter
	errs := views.FieldErrors{}
	form.Process = strings.TrimSpace(q.Get("process"))
	form.Outcome = strings.ToUpper(strings.TrimSpace(q.Get("outcome")))
	form.From, form.To = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	if form.Tag = strings.TrimSpace(q.Get("tag")); form.Tag != "" {
		if err := commands.ValidTag("Tag", form.Tag); err != nil {
			errs["tag"] = statesrv.ErrorMessage(err) + "."
		}
	}
	f.query.ProcessID = formProcessID(form.Process, errs)
	switch form.Outcome {
	case "", statesrv.StateOK, statesrv.StateFail, statesrv.StateTimeout:
		f.query.State = form.Outcome
	default:
		errs["outcome"] = "Outcome: OK, FAIL or TIMEOUT."
	}
	f.from = formTimeField(&form.From, "from", "From", errs)
	f.to = formTimeField(&form.To, "to", "To", errs)
	if !f.from.IsZero() && !f.to.IsZero() && !f.to.After(f.from) {
		errs["to"] = "To: must be later than from."
	}
	if s := q.Get("before"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			errs["before"] = "The page link is damaged (before: not a time); start again from the newest."
		}
		f.query.Before, f.query.BeforeRun, f.cursor = t, q.Get("before_run"), true
	} else if q.Get("before_run") != "" {
		errs["before"] = "The page link is damaged (before_run without before); start again from the newest."
	}
	// A to bound before the cursor replaces it: nothing at or after to is
	// wanted.
	if !f.to.IsZero() && (f.query.Before.IsZero() || !f.query.Before.Before(f.to)) {
		f.query.Before, f.query.BeforeRun = f.to, ""
	}
	return f, errs
}

// historyValues is the query of a /history link with the filter f.
func historyValues(f views.HistoryFilter) url.Values {
	return filterValues(map[string]string{"process": f.Process, "outcome": f.Outcome, "from": f.From, "to": f.To, "tag": f.Tag})
}

// formTimeField parses the time field *s, noting in errs under field what
// is wrong with it; a good value is rewritten in the form a datetime-local
// input shows (UTC), a bad one is left as given.
func formTimeField(s *string, field, label string, errs views.FieldErrors) time.Time {
	t, err := parseFormTime(*s)
	if err != nil {
		errs[field] = label + ": " + err.Error()
		return time.Time{}
	}
	if !t.IsZero() {
		*s = formTimeText(t)
	}
	return t
}

// formTimeText writes t as a datetime-local input shows it, in UTC, with
// fractions of a second only when it has them.
func formTimeText(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() != 0 {
		return t.Format("2006-01-02T15:04:05.999999999")
	}
	return t.Format("2006-01-02T15:04:05")
}
