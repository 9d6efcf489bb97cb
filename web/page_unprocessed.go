package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/views"
)

const (
	// unprocessedPerPage bounds the unprocessed page.
	unprocessedPerPage = 50
	// maxDismiss is how many messages one form may dismiss.
	maxDismiss = 500
	// maxDroppedShown bounds the addresses whose dropped lines the page
	// names (the most recent first).
	maxDroppedShown = 10
)

func (h *Handler) unprocessedRoutes() {
	h.page("GET /unprocessed", statesrv.RoleViewer, h.unprocessedPage)
	h.page("POST /unprocessed/dismiss", statesrv.RoleEditor, h.dismissUnprocessed)
}

// unprocessedPage lists the messages that closed no run, newest first, a
// page at a time: the cursor is the seq of the last message shown.
func (h *Handler) unprocessedPage(w http.ResponseWriter, r *http.Request, user string) {
	m := views.UnprocessedPage{Page: h.livePageOf(user, "Unprocessed", "/unprocessed")}
	m.Flash = flashOf(r)
	status := http.StatusOK
	before, ok := parseBefore(r.URL.Query().Get("before"))
	if !ok {
		m.Error = "before: not a page of this list; showing the first page"
		status = http.StatusBadRequest
	}
	m.Before = before
	msgs, err := h.cfg.Runner.Store().UnprocessedBefore(before, unprocessedPerPage+1)
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	if len(msgs) > unprocessedPerPage {
		msgs = msgs[:unprocessedPerPage]
		m.Next = "/unprocessed?before=" + strconv.FormatUint(msgs[len(msgs)-1].Seq, 10)
	}
	m.Total = h.cfg.Runner.Unprocessed()
	dropped, err := h.cfg.Runner.Store().Dropped()
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	for _, d := range dropped[:min(len(dropped), maxDroppedShown)] {
		m.Dropped = append(m.Dropped, views.DroppedFrom{Remote: d.Remote, Count: d.Count, LastAt: d.LastAt})
	}
	h.cfg.Runner.View(func(c *projections.Core) {
		for _, u := range msgs {
			row := views.UnprocessedRow{Message: u}
			if ps := c.Procs[u.ProcessID]; ps != nil {
				row.ProcessName, row.Defined = ps.Name, true
			} else if u.ProcessID > 0 && u.Reason == statesrv.ReasonUnknownProcess {
				row.DefineURL = "/processes/new?" + url.Values{
					"id": {strconv.FormatInt(u.ProcessID, 10)}, "name": {u.Name}}.Encode()
			}
			m.Rows = append(m.Rows, row)
		}
	})
	h.render(w, r, status, views.UnprocessedView(m))
}

// parseBefore reads the unprocessed page's cursor; "" is the first page.
func parseBefore(s string) (uint64, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// dismissUnprocessed dismisses the messages named by the form's id values
// as the session's user, and goes back to the page with a notice of what
// was done. Ids no longer unprocessed (dismissed meanwhile, say) are
// counted and named in the notice; the others are still dismissed.
func (h *Handler) dismissUnprocessed(w http.ResponseWriter, r *http.Request, user string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		h.pageError(w, r, user, statesrv.Errorf(statesrv.EInvalid, "the form could not be read"))
		return
	}
	back := "/unprocessed"
	if before, ok := parseBefore(r.PostForm.Get("before")); ok && before > 0 {
		back += "?before=" + strconv.FormatUint(before, 10)
	}
	var ids []string
	seen := map[string]bool{}
	for _, id := range r.PostForm["id"] {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		redirect(w, r, back, "Select at least one message to dismiss.")
		return
	case len(ids) > maxDismiss:
		redirect(w, r, back, "At most "+strconv.Itoa(maxDismiss)+" messages at once: nothing was dismissed.")
		return
	}
	dismissed, missing, err := h.dismissAll(r.Context(), ids, user)
	if err != nil {
		h.pageError(w, r, user, err)
		return
	}
	redirect(w, r, back, dismissNotice(dismissed, missing))
}

// dismissAll dismisses each id, waits until the dismissals are durable and
// (briefly) in the views, and counts those done and those not found.
func (h *Handler) dismissAll(ctx context.Context, ids []string, user string) (done, missing int, err error) {
	var receipts []*commands.Receipt
	for _, id := range ids {
		rc, err := h.cfg.Service.Dismiss(id, user)
		if statesrv.ErrorCode(err) == statesrv.ENotFound {
			missing++
			continue
		}
		if err != nil {
			return done, missing, err
		}
		receipts = append(receipts, rc)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var last uint64
	for _, rc := range receipts {
		seq, err := rc.Wait(wctx)
		if err != nil {
			return done, missing, err
		}
		done++
		last = max(last, seq)
	}
	vctx, cancel2 := context.WithTimeout(ctx, viewsWait)
	defer cancel2()
	h.cfg.Runner.WaitFor(vctx, last)
	return done, missing, nil
}

// dismissNotice says what a dismissal did.
func dismissNotice(done, missing int) string {
	var msg string
	switch done {
	case 0:
		msg = "No message was dismissed."
	case 1:
		msg = "Dismissed 1 message."
	default:
		msg = "Dismissed " + strconv.Itoa(done) + " messages."
	}
	switch {
	case missing == 1:
		msg += " 1 message was not found: it is no longer unprocessed (dismissed meanwhile?)."
	case missing > 1:
		msg += " " + strconv.Itoa(missing) + " messages were not found: they are no longer unprocessed (dismissed meanwhile?)."
	}
	return msg
}
