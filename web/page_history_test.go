package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

// pushOnly is a process without a schedule: each report opens and closes
// a run of its own.
func pushOnly(id int64, name string) statesrv.Process {
	return statesrv.Process{ID: id, Name: name, Enabled: true, MaxRuntime: statesrv.Duration(time.Hour)}
}

// historyIDs returns the run ids of a history page's rows, in order.
func historyIDs(doc *goquery.Document) []string {
	var ids []string
	testid(doc, "history-row").Each(func(_ int, s *goquery.Selection) {
		ids = append(ids, s.AttrOr("data-run-id", ""))
	})
	return ids
}

// allHistory returns every finished run in the views, newest first.
func allHistory(t *testing.T, e *env, q projections.HistoryQuery) []statesrv.Run {
	t.Helper()
	q.Limit = 100_000
	runs, err := e.Store.History(q)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestHistoryPage(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushOnly(25, "backup"))
	e.define(t, pushOnly(26, "report"))
	e.report(t, "#id=25;state=OK;msg=first")
	e.Clock.Advance(time.Minute) // 08:01
	e.report(t, "#id=26;state=FAIL;msg=disk full;code=3")
	e.Clock.Advance(time.Minute) // 08:02
	e.report(t, "#id=25;state=FAIL;msg=boom")
	all := allHistory(t, e, projections.HistoryQuery{})

	t.Run("OK", func(t *testing.T) {
		doc := e.page(t, "/history")
		ids := historyIDs(doc)
		if len(ids) != 3 || ids[0] != all[0].ID || ids[2] != all[2].ID {
			t.Fatalf("rows %v, want %v newest first", ids, runIDsOf(all))
		}
		row := testid(doc, "history-row").Eq(1) // 26's failure
		if href := row.Find(`[data-testid="run-link"]`).AttrOr("href", ""); href != "/runs/"+all[1].ID {
			t.Errorf("run link %q", href)
		}
		if row.Find(`a[href="/processes/26"]`).Length() != 1 {
			t.Errorf("no link to process 26 in %q", row.Text())
		}
		for _, want := range []string{"FAIL", "disk full", "report"} {
			if !strings.Contains(row.Text(), want) {
				t.Errorf("row %q lacks %q", row.Text(), want)
			}
		}
		if row.Find("td.num").Eq(1).Text() != "3" {
			t.Errorf("code cell %q", row.Find("td.num").Eq(1).Text())
		}
		if testid(doc, "history-filter").Length() != 1 || testid(doc, "next-page").Length() != 0 {
			t.Error("want the filter form and no next page")
		}
	})
	t.Run("Filters", func(t *testing.T) {
		tests := []struct {
			name, query string
			want        []string
		}{
			{"Process", "process=25", []string{all[0].ID, all[2].ID}},
			{"Outcome", "outcome=FAIL", []string{all[0].ID, all[1].ID}},
			{"OutcomeLowerCase", "outcome=ok", []string{all[2].ID}},
			{"ProcessAndOutcome", "process=25&outcome=FAIL", []string{all[0].ID}},
			{"From", "from=2026-11-26T08:01", []string{all[0].ID, all[1].ID}},
			{"To", "to=2026-11-26T08:01", []string{all[2].ID}},
			{"FromToRFC3339", "from=2026-11-26T09:00:30%2B01:00&to=2026-11-26T08:01:30Z", []string{all[1].ID}},
			{"None", "process=99", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				doc := e.page(t, "/history?"+tt.query)
				if got := historyIDs(doc); strings.Join(got, ",") != strings.Join(tt.want, ",") {
					t.Errorf("rows %v, want %v", got, tt.want)
				}
			})
		}
	})
	t.Run("ShowsTimesBackAsUTC", func(t *testing.T) {
		doc := e.page(t, "/history?from=2026-11-26T09:00:30%2B01:00")
		if v := doc.Find(`input[name="from"]`).AttrOr("value", ""); v != "2026-11-26T08:00:30" {
			t.Errorf("from shown as %q", v)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		tests := []struct{ name, query, field string }{
			{"ErrProcessNotANumber", "process=abc", "process"},
			{"ErrProcessNegative", "process=-2", "process"},
			{"ErrOutcome", "outcome=MAYBE", "outcome"},
			{"ErrFrom", "from=yesterday", "from"},
			{"ErrTo", "to=2026-13-01T00:00", "to"},
			{"ErrToBeforeFrom", "from=2026-11-26T09:00&to=2026-11-26T08:00", "to"},
			{"ErrCursor", "before=garbage&before_run=x", "before"},
			{"ErrCursorHalf", "before_run=x", "before"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, doc := e.get(t, "/history?"+tt.query)
				if res.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", res.StatusCode)
				}
				if testid(doc, "error-"+tt.field).Length() != 1 {
					t.Errorf("no inline error for %s in %q", tt.field, doc.Find("main").Text())
				}
				if testid(doc, "history-filter").Length() != 1 || testid(doc, "history-row").Length() != 0 {
					t.Error("want the form re-shown and no rows")
				}
			})
		}
	})
}

func runIDsOf(runs []statesrv.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

// TestHistoryPaging pages through runs of which many finished at one
// instant: every run appears once, in order.
func TestHistoryPaging(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushOnly(25, "backup"))
	e.define(t, pushOnly(26, "other"))
	for i := range 130 {
		if i == 70 || i == 120 {
			e.Clock.Advance(time.Second)
		}
		pid := 25
		if i%4 == 0 {
			pid = 26
		}
		e.report(t, fmt.Sprintf("#id=%d;state=OK;msg=n%d", pid, i))
	}
	for _, query := range []string{"", "process=25", "outcome=OK&from=2026-11-26T08:00:00"} {
		t.Run("Query"+query, func(t *testing.T) {
			q, _ := url.ParseQuery(query)
			hq := projections.HistoryQuery{State: q.Get("outcome")}
			if q.Get("process") != "" {
				hq.ProcessID = 25
			}
			want := runIDsOf(allHistory(t, e, hq))
			var got []string
			path := "/history?" + query
			for pages := 0; path != ""; pages++ {
				if pages > 10 {
					t.Fatal("paging does not end")
				}
				doc := e.page(t, path)
				ids := historyIDs(doc)
				if len(ids) > historyPageSize {
					t.Fatalf("%d rows on a page", len(ids))
				}
				got = append(got, ids...)
				path = testid(doc, "next-page").AttrOr("href", "")
				if pages > 0 && testid(doc, "newest-page").Length() != 1 {
					t.Error("no link back to the newest page")
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("paged %d runs, want %d in history order", len(got), len(want))
			}
		})
	}
	t.Run("ToBoundsTheCursor", func(t *testing.T) {
		// Only the 70 runs of the first instant finished before 08:00:01.
		var got []string
		for path := "/history?to=2026-11-26T08:00:01"; path != ""; {
			doc := e.page(t, path)
			got = append(got, historyIDs(doc)...)
			path = testid(doc, "next-page").AttrOr("href", "")
		}
		if len(got) != 70 {
			t.Fatalf("%d runs before 08:00:01, want 70", len(got))
		}
	})
	t.Run("FromEndsPaging", func(t *testing.T) {
		doc := e.page(t, "/history?from=2026-11-26T08:00:01")
		if n := len(historyIDs(doc)); n != 50 {
			t.Fatalf("%d rows, want 50", n)
		}
		doc = e.page(t, testid(doc, "next-page").AttrOr("href", ""))
		if n := len(historyIDs(doc)); n != 10 || testid(doc, "next-page").Length() != 0 {
			t.Fatalf("second page: %d rows (want 10) and next link %v", n, testid(doc, "next-page").Length())
		}
	})
}
