package web

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/textfmt"
	"github.com/statesrv/statesrv/views"
)

// Bounds of the audit log page. The log reads only forward, so the page
// reads it backwards in windows; one request reads at most eventsBudget
// events (of the process, with a process filter) and then offers to search
// further back.
const (
	eventsPageSize = 50
	eventsBudget   = 20_000
	// eventJSONMax bounds an event's JSON in the list (a report's line may
	// be 4 KB); the event's own page shows it whole.
	eventJSONMax = 700
	// verifyTimeout bounds a chain check from the page.
	verifyTimeout = 50 * time.Second
	maxActor      = 200
)

// eventTypes are the types the audit log's type filter offers: every
// registered type.
var eventTypes = statesrv.EventTypeNames()

func (h *Handler) eventRoutes() {
	h.page("GET /events", statesrv.RoleViewer, h.eventsPage)
	h.page("GET /events/{seq}", statesrv.RoleViewer, h.eventPage)
	// Verifying the chain reads and changes nothing: auditors may.
	h.page("POST /events/verify", statesrv.RoleViewer, h.verifyEvents)
}

// eventsFilter is a parsed /events query.
type eventsFilter struct {
	pid         int64
	typ, actor  string
	from, to    time.Time
	before      uint64 // 0: from the newest
	fromNewest  bool
	filterQuery url.Values // the filter alone, for links
}

func (h *Handler) eventsPage(w http.ResponseWriter, r *http.Request, user string) {
	h.renderEvents(w, r, user, nil)
}

// renderEvents answers the audit log page for r's query, with the result
// of a chain check when v is set.
func (h *Handler) renderEvents(w http.ResponseWriter, r *http.Request, user string, v *views.VerifyResult) {
	m := views.EventsPage{Page: h.pageOf(user, "Audit log", "/events"), Types: eventTypes, Verify: v, Budget: eventsBudget}
	m.Flash = flashOf(r)
	f, errs := parseEventsFilter(r.URL.Query(), &m.Filter)
	if len(errs) > 0 {
		m.Errs = errs
		h.render(w, r, http.StatusBadRequest, views.Events(m))
		return
	}
	res, err := h.searchEvents(r.Context(), f)
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	for _, e := range res.events {
		m.Events = append(m.Events, eventRowOf(e, eventJSONMax))
	}
	link := func(before uint64) string {
		return cursorLink("/events", f.filterQuery, url.Values{"before": {strconv.FormatUint(before, 10)}})
	}
	if res.older != 0 {
		m.Older = link(res.older)
	}
	if res.searchedTo != 0 {
		m.SearchedTo, m.Continue = res.searchedTo, link(res.searchedTo)
	}
	if !f.fromNewest {
		m.Newest = pageLink("/events", f.filterQuery)
	}
	h.render(w, r, http.StatusOK, views.Events(m))
}

// parseEventsFilter reads the filter and cursor of /events into f and form
// (the values to show back); it returns what is wrong with each bad field.
func parseEventsFilter(q url.Values, form *views.EventsFilter) (eventsFilter, views.FieldErrors) {
	var f eventsFilter
	errs := views.FieldErrors{}
	form.Process = strings.TrimSpace(q.Get("process"))
	form.Type = strings.TrimSpace(q.Get("type"))
	form.Actor = strings.TrimSpace(q.Get("actor"))
	form.From, form.To = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	f.pid = formProcessID(form.Process, errs)
	if form.Type != "" && !slices.Contains(eventTypes, form.Type) {
		errs["type"] = "Type: one of the event types listed."
	}
	f.typ = form.Type
	if len(form.Actor) > maxActor {
		errs["actor"] = "Actor: at most " + strconv.Itoa(maxActor) + " characters."
	}
	f.actor = form.Actor
	f.from = formTimeField(&form.From, "from", "From", errs)
	f.to = formTimeField(&form.To, "to", "To", errs)
	if !f.from.IsZero() && !f.to.IsZero() && !f.to.After(f.from) {
		errs["to"] = "To: must be later than from."
	}
	if s := q.Get("before"); s != "" {
		seq, err := strconv.ParseUint(s, 10, 64)
		if err != nil || seq == 0 {
			errs["before"] = "The page link is damaged (before: not a seq); start again from the newest."
		}
		f.before = seq
	}
	f.fromNewest = f.before == 0
	f.filterQuery = filterValues(map[string]string{"process": form.Process, "type": form.Type, "actor": form.Actor, "from": form.From, "to": form.To})
	return f, errs
}

// eventsResult is one page of the audit log: the events newest first;
// older, when set, the cursor of the next page; searchedTo, when set, the
// seq the search stopped at when its budget ran out.
type eventsResult struct {
	events            []eventlog.Event
	older, searchedTo uint64
}

// searchEvents finds one page of events matching f, newest first, reading
// at most eventsBudget events.
func (h *Handler) searchEvents(ctx context.Context, f eventsFilter) (eventsResult, error) {
	page, err := projections.Events(ctx, h.cfg.Log, h.cfg.Runner.Store(), projections.EventFilter{
		ProcessID: f.pid, Type: f.typ, Actor: f.actor, From: f.from, To: f.to, Before: f.before,
		Limit: eventsPageSize, Budget: eventsBudget, NewestFirst: true,
	})
	return eventsResult{events: page.Events, older: page.Next, searchedTo: page.SearchedTo}, err
}

// eventRowOf is an event as the audit log shows it, its data redacted and
// its JSON cut at limit bytes (0: whole).
func eventRowOf(e eventlog.Event, limit int) views.EventRow {
	row := views.EventRow{Seq: e.Seq, Time: e.Time, Type: e.Type, Actor: e.Actor, ProcessID: e.ProcessID,
		Hash: hex.EncodeToString(e.Hash[:])}
	e.Data = statesrv.RedactEvent(e.Type, e.Time, e.Data) // no key or password hash on a page
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		b = e.Data
	}
	if limit > 0 && len(b) > limit {
		b, row.Truncated = b[:limit], true
	}
	row.JSON = strings.ToValidUTF8(string(b), "")
	return row
}

// eventPage shows one event whole.
func (h *Handler) eventPage(w http.ResponseWriter, r *http.Request, user string) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		h.pageError(w, r, user, statesrv.Errorf(statesrv.EInvalid, "An event is named by its seq, a positive whole number."))
		return
	}
	var ev *eventlog.Event
	if seq <= h.cfg.Log.LastSeq() {
		for e, err := range h.cfg.Log.Range(r.Context(), seq, seq) {
			if err != nil {
				h.pageError(w, r, user, err)
				return
			}
			cp := *e
			ev = &cp
		}
	}
	if ev == nil {
		h.pageError(w, r, user, statesrv.Errorf(statesrv.ENotFound, "There is no event %d.", seq))
		return
	}
	m := views.EventsPage{Page: h.pageOf(user, "Event "+strconv.FormatUint(seq, 10), "/events"), Single: true,
		Events: []views.EventRow{eventRowOf(*ev, 0)}}
	h.render(w, r, http.StatusOK, views.Events(m))
}

// chainVerifier is a log that can check its own hash chain, as `statesrv
// verify` does.
type chainVerifier interface {
	Verify(ctx context.Context) (eventlog.Report, error)
}

// verifyEvents checks the whole log's hash chain and shows the result above
// the audit log.
func (h *Handler) verifyEvents(w http.ResponseWriter, r *http.Request, user string) {
	v, ok := h.cfg.Log.(chainVerifier)
	if !ok {
		h.renderEvents(w, r, user, &views.VerifyResult{Error: "This log cannot check its hash chain."})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), verifyTimeout)
	defer cancel()
	start := time.Now()
	rep, err := v.Verify(ctx)
	res := &views.VerifyResult{Events: rep.Events, LastSeq: rep.LastSeq, Took: time.Since(start)}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		res.Error = "The check did not finish within " + textfmt.Duration(verifyTimeout) + "; run statesrv verify on a stopped server."
	case err != nil:
		h.pageError(w, r, user, err)
		return
	case rep.OK():
		res.OK = true
	default:
		res.Problems, res.Problem = len(rep.Problems), rep.Problems[0]
	}
	if err == nil && rep.LastSeq > 0 {
		for e, err := range h.cfg.Log.Range(ctx, rep.LastSeq, rep.LastSeq) {
			if err == nil {
				res.HeadHash = hex.EncodeToString(e.Hash[:])
			}
		}
	}
	h.renderEvents(w, r, user, res)
}
