package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
)

// tagEnv defines processes 1 (nightly, db), 2 (db) and 3 (no tag), each
// with finished runs, interleaved in time, and an open run of each.
func tagEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	for id, tags := range map[int64][]string{1: {"nightly", "db"}, 2: {"db"}, 3: nil} {
		e.define(t, statesrv.Process{ID: id, Name: fmt.Sprint("job", id), Enabled: true, Tags: tags})
	}
	for i := range 4 {
		for id := 1; id <= 3; id++ {
			state := []string{"OK", "FAIL"}[i%2]
			e.report(t, fmt.Sprintf("#id=%d;state=%s", id, state))
			e.Clock.Advance(time.Second)
		}
	}
	for id := 1; id <= 3; id++ {
		e.report(t, fmt.Sprintf("#id=%d;state=START", id))
	}
	return e
}

func TestTagFiltersAPI(t *testing.T) {
	e := tagEnv(t)
	ids := func(path string, out any, pid func(i int) int64, n func() int) []int64 {
		t.Helper()
		status, body := e.apiCall(t, http.MethodGet, path, "", nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		if err := json.Unmarshal([]byte(body), out); err != nil {
			t.Fatal(err)
		}
		var got []int64
		for i := range n() {
			got = append(got, pid(i))
		}
		return got
	}
	processes := func(q string) []int64 {
		var ps []statesrv.Process
		return ids("/api/v1/processes"+q, &ps, func(i int) int64 { return ps[i].ID }, func() int { return len(ps) })
	}
	runs := func(path string) []int64 {
		var rs []statesrv.Run
		got := ids(path, &rs, func(i int) int64 { return rs[i].ProcessID }, func() int { return len(rs) })
		slices.Sort(got)
		return slices.Compact(got)
	}
	for _, tc := range []struct {
		tag  string
		want []int64
	}{{"", []int64{1, 2, 3}}, {"db", []int64{1, 2}}, {"nightly", []int64{1}}, {"none", nil}} {
		q := ""
		if tc.tag != "" {
			q = "?tag=" + tc.tag
		}
		if got := processes(q); !slices.Equal(got, tc.want) {
			t.Errorf("processes%s: %v, want %v", q, got, tc.want)
		}
		if got := runs("/api/v1/runs" + q); !slices.Equal(got, tc.want) {
			t.Errorf("runs%s: %v, want %v", q, got, tc.want)
		}
		if got := runs("/api/v1/history" + q); !slices.Equal(got, tc.want) {
			t.Errorf("history%s: %v, want %v", q, got, tc.want)
		}
	}
	t.Run("HistoryPagesNewestFirst", func(t *testing.T) {
		// 8 runs of the db processes, 3 a page, as the unfiltered history
		// orders them.
		var all []statesrv.Run
		if status, body := e.apiCall(t, http.MethodGet, "/api/v1/history?limit=100", "", nil); status != 200 || json.Unmarshal([]byte(body), &all) != nil {
			t.Fatal(body)
		}
		all = slices.DeleteFunc(all, func(r statesrv.Run) bool { return r.ProcessID == 3 })
		var paged []statesrv.Run
		q := url.Values{"tag": {"db"}, "limit": {"3"}}
		for range 5 {
			var page []statesrv.Run
			_, body := e.apiCall(t, http.MethodGet, "/api/v1/history?"+q.Encode(), "", nil)
			json.Unmarshal([]byte(body), &page)
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			last := page[len(page)-1]
			q.Set("before", last.FinishedAt.Format(time.RFC3339Nano))
			q.Set("before_run", last.ID)
		}
		if len(all) != 8 || len(paged) != 8 {
			t.Fatalf("paged %d runs, want 8 of %d", len(paged), len(all))
		}
		for i := range all {
			if paged[i].ID != all[i].ID {
				t.Fatalf("run %d: %s, want %s", i, paged[i].ID, all[i].ID)
			}
		}
		var fails []statesrv.Run
		_, body := e.apiCall(t, http.MethodGet, "/api/v1/history?tag=nightly&state=FAIL", "", nil)
		json.Unmarshal([]byte(body), &fails)
		if len(fails) != 2 || fails[0].ProcessID != 1 || fails[0].State != "FAIL" {
			t.Fatalf("nightly failures: %+v", fails)
		}
	})
	t.Run("ErrBadTag", func(t *testing.T) {
		for _, p := range []string{"/api/v1/processes", "/api/v1/runs", "/api/v1/history"} {
			status, body := e.apiCall(t, http.MethodGet, p+"?tag=No%20Tag", "", nil)
			if status != http.StatusBadRequest || !strings.Contains(body, `tag: \"No Tag\" is not a tag`) {
				t.Errorf("%s: %d %s", p, status, body)
			}
		}
	})
}

func TestTagsDefinition(t *testing.T) {
	e := newEnv(t)
	t.Run("OKSortedWithoutDuplicates", func(t *testing.T) {
		status, body := e.apiCall(t, http.MethodPut, "/api/v1/processes/5",
			`{"name":"x","tags":["web","backup","web"]}`, nil)
		if status != http.StatusCreated || !strings.Contains(body, `"tags":["backup","web"]`) {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("ErrBadTagChangesNothing", func(t *testing.T) {
		before := e.Log.LastSeq()
		status, body := e.apiCall(t, http.MethodPatch, "/api/v1/processes/5", `{"tags":["ok","Not-OK"]}`, nil)
		if status != http.StatusBadRequest || !strings.Contains(body, `tags: \"Not-OK\" is not a tag`) {
			t.Fatalf("%d %s", status, body)
		}
		if e.Log.LastSeq() != before {
			t.Fatal("a refused definition was appended")
		}
	})
	t.Run("Form", func(t *testing.T) {
		e.login(t)
		doc := e.page(t, "/processes/5/edit")
		if v, _ := doc.Find(`input[name="tags"]`).Attr("value"); v != "backup, web" {
			t.Fatalf("the form shows tags %q", v)
		}
		res := e.postForm(t, "/processes/5", url.Values{"name": {"x"}, "timezone": {"UTC"}, "max_runtime": {"1h"},
			"enabled": {"on"}, "tags": {"db,  nightly web"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", res.StatusCode)
		}
		ps, _ := e.Service.Process(5)
		if !slices.Equal(ps.Tags, []string{"db", "nightly", "web"}) {
			t.Fatalf("tags %q", ps.Tags)
		}
		doc = e.page(t, "/processes/5")
		if got := doc.Find(`[data-testid="process-tags"] [data-testid="tag"]`).Text(); got != "dbnightlyweb" {
			t.Fatalf("the process page shows tags %q", got)
		}
		before := e.Log.LastSeq()
		res, doc = e.postFormDoc(t, "/processes/5", url.Values{"name": {"x"}, "timezone": {"UTC"}, "max_runtime": {"1h"},
			"tags": {"db Nope!"}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find("#err-tags").Text()+doc.Text(), `"Nope!" is not a tag`) {
			t.Fatalf("bad tag in the form: %d", res.StatusCode)
		}
		if e.Log.LastSeq() != before {
			t.Fatal("a refused form was saved")
		}
	})
}

func TestTagFiltersPages(t *testing.T) {
	e := tagEnv(t)
	e.login(t)
	rows := func(path, sel, attr string) []string {
		t.Helper()
		var got []string
		e.page(t, path).Find(sel).Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr(attr)
			got = append(got, v)
		})
		return got
	}
	if got := rows("/processes?tag=db", `[data-testid="process-row"]`, "data-id"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("processes tagged db: %v", got)
	}
	if got := rows("/runs?tag=nightly", `[data-testid="run-row"] a[data-testid="run-link"]`, "href"); len(got) != 1 {
		t.Errorf("open runs tagged nightly: %v", got)
	}
	doc := e.page(t, "/history?tag=nightly")
	if n := doc.Find(`tbody tr`).Length(); n != 4 {
		t.Errorf("history tagged nightly: %d rows, want 4", n)
	}
	if v, _ := doc.Find(`input[name="tag"]`).Attr("value"); v != "nightly" {
		t.Errorf("the history filter shows tag %q", v)
	}
	doc = e.page(t, "/?tag=nightly")
	if n := doc.Find(`[data-testid="failed-runs"] tbody tr`).Length(); n != 2 {
		t.Errorf("overview tagged nightly: %d failed runs, want 2", n)
	}
	if doc.Find(`[data-testid="tag-note"]`).Length() != 1 {
		t.Error("the overview does not say it is filtered")
	}
	for _, p := range []string{"/processes", "/runs", "/history", "/"} {
		res, doc := e.get(t, p+"?tag=BAD")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Text(), `"BAD" is not a tag`) {
			t.Errorf("%s?tag=BAD: %d", p, res.StatusCode)
		}
	}
}
