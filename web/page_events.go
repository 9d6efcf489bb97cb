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
	"github.com/statesrv/statesrv/views"
)

// Bounds of the audit log page. The log reads only forward, so the page
// reads it backwards in windows; one request reads at most eventsBudget
// events (of the process, with a process filter) and then offers to search
// further back.
const (
	eventsPageSize = 50
	eventsBudget   = 20_000
	eventsWindow   = 512
	// eventJSONMax bounds an event's JSON in the list (a report's line may
	// be 4 KB); the event's own page shows it whole.
	eventJSONMax = 700
	// verifyTimeout bounds a chain check from the page.
	verifyTimeout = 50 * time.Second
	maxActor      = 200
)

// eventTypes are the types the audit log's type filter offers.
var eventTypes = []string{
	statesrv.EventProcessDefined, statesrv.EventProcessDeleted, statesrv.EventRunStarted,
	statesrv.EventRunAttached, statesrv.EventMessageReceived, statesrv.EventMessageRejected,
	statesrv.EventRunFinished, statesrv.EventRunTimedOut, statesrv.EventMessageUnprocessed,
	statesrv.EventMessageDismissed, statesrv.EventScheduleGap, statesrv.EventAlertRequested,
	statesrv.EventAlertDelivered, statesrv.EventAlertFailed, statesrv.EventAlertSuppressed,
	statesrv.EventAlertsPaused, statesrv.EventAlertsResumed, statesrv.EventUserPasswordSet,
	statesrv.EventAPITokenCreated, statesrv.EventAPITokenRevoked,
}

func (h *Handler) eventRoutes() {
	h.handle("GET /events", h.page(h.eventsPage))
	h.handle("GET /events/{seq}", h.page(h.eventPage))
	h.handle("POST /events/verify", h.page(h.verifyEvents))
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
		q := url.Values{}
		for k, v := range f.filterQuery {
			q[k] = v
		}
		q.Set("before", strconv.FormatUint(before, 10))
		return "/events?" + q.Encode()
	}
	if res.older != 0 {
		m.Older = link(res.older)
	}
	if res.searchedTo != 0 {
		m.SearchedTo, m.Continue = res.searchedTo, link(res.searchedTo)
	}
	if !f.fromNewest {
		m.Newest = "/events"
		if len(f.filterQuery) > 0 {
			m.Newest += "?" + f.filterQuery.Encode()
		}
	}
	h.render(w, r, http.StatusOK, views.Events(m))
}

// parseEventsFilter reads the filter and cursor of /events into f and form
// (the values to show back); it returns what is wrong with each bad field.
func parseEventsFilter(q url.Values, form *views.EventsFilter) (eventsFilter, views.FieldErrors) {
	f := eventsFilter{filterQuery: url.Values{}}
	errs := views.FieldErrors{}
	form.Process = strings.TrimSpace(q.Get("process"))
	form.Type = strings.TrimSpace(q.Get("type"))
	form.Actor = strings.TrimSpace(q.Get("actor"))
	form.From, form.To = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	if form.Process != "" {
		id, err := strconv.ParseInt(form.Process, 10, 64)
		if err != nil || id <= 0 {
			errs["process"] = "Process: a process id, a positive whole number."
		}
		f.pid = id
	}
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
	for k, v := range map[string]string{"process": form.Process, "type": form.Type, "actor": form.Actor, "from": form.From, "to": form.To} {
		if v != "" {
			f.filterQuery.Set(k, v)
		}
	}
	return f, errs
}

func (f *eventsFilter) match(e *eventlog.Event) bool {
	return (f.pid == 0 || e.ProcessID == f.pid) &&
		(f.typ == "" || e.Type == f.typ) &&
		(f.actor == "" || e.Actor == f.actor) &&
		(f.from.IsZero() || !e.Time.Before(f.from)) &&
		(f.to.IsZero() || e.Time.Before(f.to))
}

// eventsResult is one page of the audit log: the events newest first;
// older, when set, the cursor of the next page; searchedTo, when set, the
// seq the search stopped at when its budget ran out.
type eventsResult struct {
	events            []eventlog.Event
	older, searchedTo uint64
}

// searchEvents finds one page of events matching f, newest first, reading
// at most eventsBudget events. A time range is turned into a seq range
// first (events are appended in time order), so a range far back costs no
// more than one near the head.
func (h *Handler) searchEvents(ctx context.Context, f eventsFilter) (eventsResult, error) {
	var res eventsResult
	hi, lo := h.cfg.Log.LastSeq(), uint64(1)
	if f.before != 0 {
		hi = min(hi, f.before-1)
	}
	if !f.to.IsZero() {
		s, err := firstSeqAt(ctx, h.cfg.Log, f.to)
		if err != nil {
			return res, err
		}
		hi = min(hi, s-1)
	}
	if !f.from.IsZero() {
		s, err := firstSeqAt(ctx, h.cfg.Log, f.from)
		if err != nil {
			return res, err
		}
		lo = s
	}
	scanned := 0
	// take reads the events of [first, last] and adds the matching ones,
	// newest first, until the page is full.
	take := func(first, last uint64) error {
		var win []eventlog.Event
		err := readRange(ctx, h.cfg.Log, rangeOf(first, last), func(e *eventlog.Event) error {
			scanned++
			if f.match(e) {
				win = append(win, *e)
			}
			return nil
		})
		for i := len(win) - 1; i >= 0 && len(res.events) < eventsPageSize; i-- {
			res.events = append(res.events, win[i])
		}
		return err
	}
	full := func() bool { return len(res.events) >= eventsPageSize }
	for hi >= lo && !full() {
		if scanned >= eventsBudget {
			res.searchedTo = hi + 1
			break
		}
		budget := eventsBudget - scanned
		if f.pid == 0 {
			first := hi - min(uint64(eventsWindow), uint64(budget), hi-lo+1) + 1
			if err := take(first, hi); err != nil {
				return res, err
			}
			hi = first - 1
			continue
		}
		ranges, err := h.cfg.Runner.Store().ProcessEventsBefore(f.pid, hi+1, min(eventsWindow, budget))
		if err != nil {
			return res, err
		}
		if len(ranges) == 0 {
			break
		}
		for _, rg := range ranges {
			if full() || rg.Last < lo {
				break
			}
			if err := take(max(rg.First, lo), rg.Last); err != nil {
				return res, err
			}
			hi = max(rg.First, lo) - 1
		}
		if ranges[len(ranges)-1].Last < lo {
			break
		}
	}
	if full() {
		if last := res.events[len(res.events)-1].Seq; last > lo {
			res.older = last
		}
	}
	return res, nil
}

func rangeOf(first, last uint64) projections.SeqRange {
	return projections.SeqRange{First: first, Last: last}
}

// eventRowOf is an event as the audit log shows it, its JSON cut at limit
// bytes (0: whole).
func eventRowOf(e eventlog.Event, limit int) views.EventRow {
	row := views.EventRow{Seq: e.Seq, Time: e.Time, Type: e.Type, Actor: e.Actor, ProcessID: e.ProcessID,
		Hash: hex.EncodeToString(e.Hash[:])}
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
		err = readRange(r.Context(), h.cfg.Log, rangeOf(seq, seq), func(e *eventlog.Event) error {
			cp := *e
			ev = &cp
			return nil
		})
		if err != nil {
			h.pageError(w, r, user, err)
			return
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
		res.Error = "The check did not finish within " + views.Dur(verifyTimeout) + "; run statesrv verify on a stopped server."
	case err != nil:
		h.pageError(w, r, user, err)
		return
	case rep.OK():
		res.OK = true
	default:
		res.Problems, res.Problem = len(rep.Problems), rep.Problems[0]
	}
	if err == nil && rep.LastSeq > 0 {
		readRange(ctx, h.cfg.Log, rangeOf(rep.LastSeq, rep.LastSeq), func(e *eventlog.Event) error {
			res.HeadHash = hex.EncodeToString(e.Hash[:])
			return nil
		})
	}
	h.renderEvents(w, r, user, res)
}
