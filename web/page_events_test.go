package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// shownEvent is what an event row of the audit log shows.
type shownEvent struct {
	seq         uint64
	typ, actor  string
	process     string
	json, hash  string
	linkProcess string
}

// eventRows returns the event rows of a page, in order.
func eventRows(doc *goquery.Document) []shownEvent {
	var out []shownEvent
	testid(doc, "event-row").Each(func(_ int, s *goquery.Selection) {
		seq, _ := strconv.ParseUint(s.AttrOr("data-seq", ""), 10, 64)
		cells := s.Children()
		out = append(out, shownEvent{seq: seq, typ: s.AttrOr("data-type", ""), actor: cells.Eq(3).Text(),
			process: strings.TrimSpace(cells.Eq(4).Text()), linkProcess: cells.Eq(4).Find("a").AttrOr("href", ""),
			json: s.Find(`[data-testid="event-json"]`).Text(), hash: s.Find(`[data-testid="event-hash"]`).Text()})
	})
	return out
}

func TestEventsPage(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushOnly(25, "backup")) // seq 2
	e.define(t, pushOnly(26, "report")) // 3
	e.Clock.Advance(time.Minute)
	e.report(t, "#id=25;state=OK;msg=fine") // 4..6 at 08:01
	e.Clock.Advance(time.Minute)
	e.report(t, "#id=26;state=FAIL") // 7..9 at 08:02
	last := e.Log.LastSeq()

	t.Run("NewestFirst", func(t *testing.T) {
		rows := eventRows(e.page(t, "/events"))
		if len(rows) != int(last) || rows[0].seq != last || rows[len(rows)-1].seq != 1 {
			t.Fatalf("%d rows from %d, want %d newest first", len(rows), rows[0].seq, last)
		}
		r := rows[0] // 26's RunFinished
		if r.typ != statesrv.EventRunFinished || r.actor != "tcp:127.0.0.1" || r.process != "26" || r.linkProcess != "/processes/26" {
			t.Errorf("row %+v", r)
		}
		var ev eventlog.Event
		if err := json.Unmarshal([]byte(r.json), &ev); err != nil || ev.Seq != last || ev.Type != statesrv.EventRunFinished {
			t.Errorf("event JSON %q: %v", r.json, err)
		}
		if len(r.hash) != 64 || !strings.Contains(r.json, r.hash) {
			t.Errorf("hash %q", r.hash)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		tests := []struct {
			name, query string
			want        []uint64
		}{
			{"Process", "process=25", []uint64{6, 5, 4, 2}},
			{"Type", "type=MessageReceived", []uint64{7, 4}},
			{"Actor", "actor=admin", []uint64{3, 2}},
			{"ProcessAndType", "process=26&type=RunStarted", []uint64{8}},
			{"From", "from=2026-11-26T08:01", []uint64{9, 8, 7, 6, 5, 4}},
			{"To", "to=2026-11-26T08:01:00Z", []uint64{3, 2, 1}},
			{"FromTo", "from=2026-11-26T08:01&to=2026-11-26T08:02", []uint64{6, 5, 4}},
			{"ProcessFromTo", "process=26&from=2026-11-26T08:00:30&to=2026-11-26T09:00", []uint64{9, 8, 7}},
			{"Before", "before=5", []uint64{4, 3, 2, 1}},
			{"ProcessBefore", "process=25&before=6", []uint64{5, 4, 2}},
			{"NoMatch", "actor=nobody", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got []uint64
				for _, r := range eventRows(e.page(t, "/events?"+tt.query)) {
					got = append(got, r.seq)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("seqs %v, want %v", got, tt.want)
				}
			})
		}
	})
	t.Run("Errors", func(t *testing.T) {
		tests := []struct{ name, query, field string }{
			{"ErrProcess", "process=x", "process"},
			{"ErrType", "type=RunExploded", "type"},
			{"ErrActorTooLong", "actor=" + strings.Repeat("a", 201), "actor"},
			{"ErrFrom", "from=soon", "from"},
			{"ErrToBeforeFrom", "from=2026-11-26T09:00&to=2026-11-26T08:00", "to"},
			{"ErrCursor", "before=-1", "before"},
			{"ErrCursorZero", "before=0", "before"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, doc := e.get(t, "/events?"+tt.query)
				if res.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", res.StatusCode)
				}
				if testid(doc, "error-"+tt.field).Length() != 1 || testid(doc, "events-filter").Length() != 1 {
					t.Errorf("no inline error for %s with the form in %q", tt.field, doc.Find("main").Text())
				}
			})
		}
	})
	t.Run("OneEvent", func(t *testing.T) {
		doc := e.page(t, "/events/4")
		rows := eventRows(doc)
		if len(rows) != 1 || rows[0].typ != statesrv.EventMessageReceived || !strings.Contains(rows[0].json, "msg=fine") {
			t.Fatalf("rows %+v", rows)
		}
		for path, status := range map[string]int{"/events/99": 404, "/events/abc": 400, "/events/0": 400} {
			if res, _ := e.get(t, path); res.StatusCode != status {
				t.Errorf("GET %s: status %d, want %d", path, res.StatusCode, status)
			}
		}
	})
	t.Run("Verify", func(t *testing.T) {
		res, doc := e.postFormDoc(t, "/events/verify", url.Values{})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		v := testid(doc, "verify-result")
		if v.AttrOr("data-ok", "") != "true" || testid(doc, "verify-events").Text() != strconv.FormatUint(last, 10) {
			t.Fatalf("verify result %q", v.Text())
		}
		if head := testid(doc, "verify-head").Text(); head != eventRows(doc)[0].hash {
			t.Errorf("head hash %q, want the newest event's", head)
		}
		if testid(doc, "verify-chain").Length() != 1 || testid(doc, "event-row").Length() == 0 {
			t.Error("want the audit log below the result")
		}
	})
}

// TestEventsPaging pages through more events than a page holds, and
// through more than one request searches.
func TestEventsPaging(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushOnly(25, "backup"))
	for range 3 {
		e.report(t, "#id=25;state=OK") // 3 events each
	}
	first := e.Log.LastSeq() // 11
	// Filler no page filter matches: resumptions of alerts of no process.
	recs := make([]eventlog.Record, 0, 1000)
	for range 1000 {
		recs = append(recs, eventlog.Record{Type: statesrv.EventAlertsResumed, Time: t0, Actor: "filler", Data: json.RawMessage("{}")})
	}
	for range 25 {
		if _, err := eventlog.Append(context.Background(), e.Log, recs...); err != nil {
			t.Fatal(err)
		}
	}
	e.report(t, "#id=25;state=OK")
	last := e.Log.LastSeq()
	if err := e.Runner.WaitFor(context.Background(), last); err != nil {
		t.Fatal(err)
	}

	t.Run("Older", func(t *testing.T) {
		var seqs []uint64
		path := "/events?actor=filler"
		for pages := 0; pages < 3; pages++ {
			doc := e.page(t, path)
			rows := eventRows(doc)
			if len(rows) != eventsPageSize {
				t.Fatalf("page %d: %d rows", pages, len(rows))
			}
			for _, r := range rows {
				seqs = append(seqs, r.seq)
			}
			path = testid(doc, "next-page").AttrOr("href", "")
			if !strings.Contains(path, "actor=filler") || !strings.Contains(path, "before=") {
				t.Fatalf("next page %q", path)
			}
		}
		for i, s := range seqs {
			if want := last - 3 - uint64(i); s != want {
				t.Fatalf("row %d: seq %d, want %d (no gaps, no repeats)", i, s, want)
			}
		}
	})
	t.Run("ContinueSearch", func(t *testing.T) {
		doc := e.page(t, "/events?type=RunFinished")
		rows := eventRows(doc)
		if len(rows) != 1 || rows[0].seq != last {
			t.Fatalf("first request: rows %+v, want only the newest RunFinished", rows)
		}
		cont := testid(doc, "continue-search").AttrOr("href", "")
		searched := testid(doc, "searched-to").Text()
		wantTo := last - eventsBudget + 1
		if !strings.Contains(searched, "seq "+strconv.FormatUint(wantTo, 10)) || !strings.Contains(cont, "type=RunFinished") {
			t.Fatalf("searched %q, continue %q; want seq %d", searched, cont, wantTo)
		}
		doc = e.page(t, cont)
		var got []uint64
		for _, r := range eventRows(doc) {
			got = append(got, r.seq)
		}
		if fmt.Sprint(got) != fmt.Sprint([]uint64{first, first - 3, first - 6}) {
			t.Fatalf("continued: seqs %v", got)
		}
		if testid(doc, "continue-search").Length() != 0 || testid(doc, "next-page").Length() != 0 {
			t.Error("the search reached seq 1: no more links")
		}
	})
	t.Run("ProcessSkipsOtherEvents", func(t *testing.T) {
		rows := eventRows(e.page(t, "/events?process=25"))
		if len(rows) != 13 || rows[0].seq != last || rows[3].seq != first {
			t.Fatalf("%d rows, first %v", len(rows), rows[:min(4, len(rows))])
		}
	})
}

// TestEventsPageSize keeps a page of the largest reports under 100 KB.
func TestEventsPageSize(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushOnly(25, "backup"))
	msg := strings.Repeat("<\"é", 333)
	for range eventsPageSize / 2 {
		e.report(t, "#id=25;state=OK;msg="+msg)
	}
	for _, path := range []string{"/events", "/events?type=MessageReceived", "/history"} {
		res := e.do(t, http.MethodGet, path, nil, nil)
		body, _ := io.ReadAll(res.Body)
		t.Logf("GET %s: %d bytes", path, len(body))
		if res.StatusCode != http.StatusOK || len(body) > 100_000 {
			t.Errorf("GET %s: status %d, %d bytes (at most 100,000)", path, res.StatusCode, len(body))
		}
	}
}
