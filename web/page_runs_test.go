package web

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

func TestRunsPage(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushProcess(1, "slow", 3*time.Hour))
	e.define(t, pushProcess(2, "quick", 5*time.Minute))
	e.define(t, pushProcess(3, "medium", 90*time.Minute))
	e.define(t, statesrv.Process{ID: 4, Name: "hourly", Schedule: "@hourly", Enabled: true,
		MaxRuntime: statesrv.Duration(2 * time.Hour)})
	for _, id := range []int{1, 2, 3} {
		e.report(t, fmt.Sprintf("#id=%d;state=START", id))
	}
	e.tick(t, time.Hour) // 09:00: 4 fires; 2 timed out

	doc := e.page(t, "/runs")
	if doc.Find("main[data-live]").Length() != 1 {
		t.Error("the running page is not live")
	}
	rows := testid(doc, "run-row")
	var names []string
	for i := range rows.Length() {
		names = append(names, strings.Fields(rows.Eq(i).Find("td").First().Text())[1])
	}
	if got := strings.Join(names, " "); got != "medium slow hourly" {
		t.Errorf("runs = %s, want medium (09:30) slow (11:00) hourly (11:00, started later)", got)
	}
	run := rows.Eq(0)
	id := run.AttrOr("data-run-id", "")
	if id == "" || run.Find(`a[href="/runs/`+id+`"]`).Length() != 1 {
		t.Errorf("row without its run id or link: %q", id)
	}
	if d := run.Find("[data-deadline]").AttrOr("data-deadline", ""); d != "2026-11-26T09:30:00Z" {
		t.Errorf("countdown deadline = %q, want 2026-11-26T09:30:00Z", d)
	}
	if rows.Eq(2).Find(`[data-testid="flag-scheduled"]`).Length() != 1 || rows.Eq(0).Find(`[data-testid="flag-scheduled"]`).Length() != 0 {
		t.Error("only the scheduled run should be flagged scheduled")
	}
}

func TestRunsPagePaged(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	var defs []statesrv.Process
	for i := range runsPerPage + 5 {
		defs = append(defs, pushProcess(int64(i+1), fmt.Sprintf("job%d", i+1), time.Duration(i+1)*time.Minute))
	}
	rc, _, err := e.Service.ApplyDefinitions(defs, nil, statesrv.ActorAdmin)
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, rc)
	for i := range runsPerPage + 5 {
		if _, err := e.Service.StartRun(int64(i+1), statesrv.ActorAdmin); err != nil {
			t.Fatal(err)
		}
	}
	e.report(t, "#id=1;state=OK") // closes job1's run, and waits for the views
	res := e.do(t, http.MethodGet, "/runs", nil, nil)
	body, _ := io.ReadAll(res.Body)
	if len(body) > 100<<10 {
		t.Errorf("a page of %d runs is %d bytes, want at most 100 KB", runsPerPage, len(body))
	}
	t.Logf("a page of %d runs: %d bytes", runsPerPage, len(body))
	doc := e.page(t, "/runs")
	if n := testid(doc, "run-row").Length(); n != runsPerPage {
		t.Fatalf("first page: %d rows, want %d", n, runsPerPage)
	}
	if !strings.Contains(testid(doc, "open-total").Text(), fmt.Sprintf("%d open runs", runsPerPage+4)) {
		t.Errorf("total = %q", testid(doc, "open-total").Text())
	}
	next, ok := testid(doc, "next-page").Attr("href")
	if !ok {
		t.Fatal("no next page")
	}
	doc = e.page(t, next)
	rows := testid(doc, "run-row")
	if rows.Length() != 4 || !strings.Contains(rows.First().Text(), "job102") || testid(doc, "next-page").Length() != 0 {
		t.Errorf("second page: %d rows from %q, want job102 to job105 and no next page", rows.Length(), rows.First().Text())
	}
	t.Run("BadCursor", func(t *testing.T) {
		res, doc := e.get(t, "/runs?after=nonsense")
		if res.StatusCode != http.StatusBadRequest || testid(doc, "error-after").Length() != 1 {
			t.Errorf("status %d, want 400 with an inline error", res.StatusCode)
		}
	})
}
