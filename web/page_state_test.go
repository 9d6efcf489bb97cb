package web

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

// pushJob is an enabled push-only process.
func pushJob(id int64) statesrv.Process {
	return statesrv.Process{ID: id, Name: "job" + strconv.FormatInt(id, 10), Timezone: "UTC",
		MaxRuntime: statesrv.Duration(time.Hour), Enabled: true}
}

func TestStatePage(t *testing.T) {
	e := newEnv(t)
	// seq 1 at 08:00 is the admin password; at 09:00 process 1 is defined
	// (seq 2) and a run of it opened (seq 3); a report of an unknown
	// process (seqs 4 and 5) stays unprocessed.
	e.Clock.Advance(time.Hour)
	e.define(t, pushJob(1))
	rc, err := e.Service.StartRun(1, statesrv.ActorAdmin)
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, rc)
	e.report(t, "#id=99;state=OK;name=nobody")
	e.Clock.Advance(time.Hour)
	e.login(t)

	rows := func(t *testing.T, path string) (procs, runs, msgs int, asOf string) {
		t.Helper()
		doc := e.page(t, path)
		for _, id := range []string{"state-processes", "state-runs", "state-unprocessed"} {
			if testid(doc, id).Length() != 1 {
				t.Fatalf("%s: no section %s", path, id)
			}
		}
		return testid(doc, "state-process").Length(), testid(doc, "state-run").Length(),
			testid(doc, "state-message").Length(), strings.Join(strings.Fields(testid(doc, "state-as-of").Text()), " ")
	}

	t.Run("FormOnly", func(t *testing.T) {
		doc := e.page(t, "/state")
		if testid(doc, "state-form").Find(`input[name="at"]`).Length() != 1 || testid(doc, "state-form").Find(`input[name="seq"]`).Length() != 1 {
			t.Fatal("no state form with at and seq")
		}
		if testid(doc, "state-processes").Length() != 0 {
			t.Fatal("a state shown without a moment")
		}
		href, _ := testid(doc, "state-hour-ago").Attr("href")
		if want := "/state?at=" + url.QueryEscape("2026-11-26T09:00:00Z"); href != want {
			t.Errorf("hour-ago link %q, want %q", href, want)
		}
		href, _ = testid(doc, "state-morning").Attr("href")
		if want := "/state?at=" + url.QueryEscape("2026-11-26T00:00:00Z"); href != want {
			t.Errorf("morning link %q, want %q", href, want)
		}
	})
	t.Run("BeforeDefined", func(t *testing.T) {
		p, r, m, asOf := rows(t, "/state?at=2026-11-26T08:30:00Z")
		if p != 0 || r != 0 || m != 0 {
			t.Errorf("at 08:30: %d processes, %d runs, %d messages; want none", p, r, m)
		}
		if !strings.Contains(asOf, "2026-11-26 08:30:00 UTC") || !strings.Contains(asOf, "seq 1") {
			t.Errorf("as of %q", asOf)
		}
	})
	t.Run("AfterDefined", func(t *testing.T) {
		p, r, m, _ := rows(t, "/state?at="+url.QueryEscape("2026-11-26T10:30:00+01:00"))
		if p != 1 || r != 1 || m != 1 {
			t.Errorf("at 09:30 UTC: %d processes, %d runs, %d messages; want 1 each", p, r, m)
		}
	})
	t.Run("LocalInputIsUTC", func(t *testing.T) {
		if p, _, _, _ := rows(t, "/state?at=2026-11-26T08:59"); p != 0 {
			t.Errorf("at 08:59 UTC: %d processes", p)
		}
		if p, _, _, _ := rows(t, "/state?at=2026-11-26T09:00"); p != 1 {
			t.Errorf("at 09:00 UTC: %d processes", p)
		}
	})
	t.Run("BySeq", func(t *testing.T) {
		if p, r, _, asOf := rows(t, "/state?seq=2"); p != 1 || r != 0 || !strings.Contains(asOf, "seq 2") {
			t.Errorf("seq 2: %d processes, %d runs, as of %q", p, r, asOf)
		}
		if p, r, m, _ := rows(t, "/state?seq=3"); p != 1 || r != 1 || m != 0 {
			t.Errorf("seq 3: %d processes, %d runs, %d messages", p, r, m)
		}
		doc := e.page(t, "/state?seq=2")
		prev, _ := testid(doc, "state-prev").Attr("href")
		next, _ := testid(doc, "state-next").Attr("href")
		if prev != "/state?seq=1" || next != "/state?seq=3" {
			t.Errorf("prev %q, next %q", prev, next)
		}
	})
	t.Run("DeletedLater", func(t *testing.T) {
		rc, err := e.Service.DeleteProcess(1, statesrv.ActorAdmin)
		if err != nil {
			t.Fatal(err)
		}
		e.wait(t, rc)
		if p, _, _, _ := rows(t, "/state?seq=3"); p != 1 {
			t.Errorf("before the deletion: %d processes", p)
		}
		if p, _, _, _ := rows(t, "/state?at="+url.QueryEscape(e.Clock.Now().Format(time.RFC3339))); p != 0 {
			t.Errorf("after the deletion: %d processes", p)
		}
	})
	for _, tt := range []struct{ name, query, field string }{
		{"ErrBadMoment", "at=yesterday", "at"},
		{"ErrBadSeq", "seq=-3", "seq"},
		{"ErrZeroSeq", "seq=0", "seq"},
		{"ErrBoth", "at=2026-11-26T08:00:00Z&seq=2", "seq"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, doc := e.get(t, "/state?"+tt.query)
			if res.StatusCode != 400 || testid(doc, "error-"+tt.field).Length() != 1 {
				t.Fatalf("status %d, error %q", res.StatusCode, testid(doc, "error-"+tt.field).Text())
			}
			if testid(doc, "state-form").Length() != 1 || testid(doc, "state-processes").Length() != 0 {
				t.Fatal("want the form alone")
			}
		})
	}
}

func TestStatePageBounded(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	const n = stateRows + 30
	procs := make([]statesrv.Process, n)
	for i := range procs {
		procs[i] = pushJob(int64(i + 1))
		procs[i].Name = strings.Repeat("long name ", 10) + strconv.Itoa(i)
	}
	rc, _, err := e.Service.ApplyDefinitions(procs, nil, statesrv.ActorAdmin)
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, rc)
	res, doc := e.get(t, "/state?seq="+strconv.FormatUint(e.Log.LastSeq(), 10))
	if got := testid(doc, "state-process").Length(); got != stateRows {
		t.Fatalf("%d process rows, want %d", got, stateRows)
	}
	if got := testid(doc, "state-more").Text(); !strings.Contains(got, "and 30 more") {
		t.Errorf("more note %q", got)
	}
	if res.ContentLength > 100<<10 {
		t.Errorf("page of %d bytes", res.ContentLength)
	}
}
