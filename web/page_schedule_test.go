package web

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/crontab"
)

// scheduledJob is an enabled process with a schedule in zone tz.
func scheduledJob(id int64, spec, tz string) statesrv.Process {
	p := pushJob(id)
	p.Schedule, p.Timezone = spec, tz
	return p
}

// fireRows returns the fire rows of doc as "id@RFC3339" strings.
func fireRowsOf(doc *goquery.Document) []string {
	var out []string
	testid(doc, "fire-row").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-id")
		at, _ := s.Attr("data-at")
		out = append(out, id+"@"+at)
	})
	return out
}

func TestSchedulePage(t *testing.T) {
	e := newEnv(t)
	// The week in which Europe/Prague springs forward (2027-03-28, 02:00
	// CET becomes 03:00 CEST).
	e.Clock.Advance(time.Date(2027, 3, 27, 12, 0, 0, 0, time.UTC).Sub(t0))
	e.define(t, scheduledJob(1, "30 2 * * *", "Europe/Prague"))
	e.define(t, scheduledJob(2, "0 3 * * *", "Europe/Prague"))
	cron := scheduledJob(3, "0 13 * * *", "UTC")
	cron.FiredBy = statesrv.FiredByCron
	e.define(t, cron)
	e.define(t, pushJob(4))
	off := scheduledJob(5, "* * * * *", "UTC")
	off.Enabled = false
	e.define(t, off)
	e.login(t)

	t.Run("DSTWeek", func(t *testing.T) {
		doc := e.page(t, "/schedule?window=7d&process=1")
		// 02:30 does not exist on the 28th: no fire that day.
		want := []string{"1@2027-03-29T00:30:00Z", "1@2027-03-30T00:30:00Z", "1@2027-03-31T00:30:00Z",
			"1@2027-04-01T00:30:00Z", "1@2027-04-02T00:30:00Z", "1@2027-04-03T00:30:00Z"}
		if got := fireRowsOf(doc); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("fire times of 30 2 * * *:\n got %v\nwant %v", got, want)
		}
		doc = e.page(t, "/schedule?window=7d&process=2")
		want = []string{"2@2027-03-28T01:00:00Z", "2@2027-03-29T01:00:00Z", "2@2027-03-30T01:00:00Z", "2@2027-03-31T01:00:00Z",
			"2@2027-04-01T01:00:00Z", "2@2027-04-02T01:00:00Z", "2@2027-04-03T01:00:00Z"}
		if got := fireRowsOf(doc); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("fire times of 0 3 * * *:\n got %v\nwant %v", got, want)
		}
		first := testid(doc, "fire-row").First().Text()
		if !strings.Contains(first, "Sun 03:00:00 CEST") || !strings.Contains(first, "Europe/Prague") || !strings.Contains(first, "2027-03-28 01:00:00 UTC") {
			t.Errorf("first row %q", strings.Join(strings.Fields(first), " "))
		}
		if n := testid(doc, "fire-day").Length(); n != 7 {
			t.Errorf("%d days, want 7", n)
		}
	})
	t.Run("AllSortedAndMarked", func(t *testing.T) {
		doc := e.page(t, "/schedule")
		want := []string{"3@2027-03-27T13:00:00Z", "2@2027-03-28T01:00:00Z"}
		if got := fireRowsOf(doc); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("next 24h:\n got %v\nwant %v", got, want)
		}
		if rows := testid(doc, "fire-row"); rows.First().Find(`[data-testid="fired-by-cron"]`).Length() != 1 ||
			rows.Last().Find(`[data-testid="fired-by-cron"]`).Length() != 0 {
			t.Error("the cron-fired process is not marked, or another is")
		}
		if got := testid(doc, "push-only").Text(); !strings.Contains(got, "job4") {
			t.Errorf("push-only %q", got)
		}
		if !strings.Contains(testid(doc, "not-scheduled").Text(), "1 disabled") {
			t.Errorf("not scheduled: %q", testid(doc, "not-scheduled").Text())
		}
		if got := strings.Join(strings.Fields(testid(doc, "schedule-summary").Text()), " "); !strings.Contains(got, "2 fire times") {
			t.Errorf("summary %q", got)
		}
		doc = e.page(t, "/schedule?window=1h")
		if got := fireRowsOf(doc); strings.Join(got, " ") != "3@2027-03-27T13:00:00Z" {
			t.Errorf("next hour: %v", got)
		}
	})
	t.Run("CronExportAsTheCLI", func(t *testing.T) {
		doc := e.page(t, "/schedule")
		var defs []statesrv.Process
		for id := int64(1); id <= 5; id++ {
			ps, _ := e.Service.Process(id)
			defs = append(defs, ps.Process)
		}
		want := crontab.Export(defs, e.Server.URL, "statesrv")
		if got := testid(doc, "cron-export").Text(); got != want {
			t.Errorf("export:\n%s\nwant:\n%s", got, want)
		}
		if !strings.Contains(want, "0 13 * * * statesrv start --url "+e.Server.URL+" 3  # job3") {
			t.Errorf("no line for process 3 in\n%s", want)
		}
		res := e.do(t, http.MethodGet, "/schedule/crontab", nil, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || string(body) != want || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("download: status %d, %q\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	})
	for _, tt := range []struct{ name, query, field string }{
		{"ErrWindow", "window=3d", "window"},
		{"ErrProcess", "process=abc", "process"},
		{"ErrUnknownProcess", "process=99", "process"},
		{"ErrFrom", "from=soon", "from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, doc := e.get(t, "/schedule?"+tt.query)
			if res.StatusCode != http.StatusBadRequest || testid(doc, "error-"+tt.field).Length() != 1 {
				t.Fatalf("status %d, error %q", res.StatusCode, testid(doc, "error-"+tt.field).Text())
			}
			if testid(doc, "fire-row").Length() != 0 {
				t.Error("fire times listed despite the error")
			}
		})
	}
}

func TestSchedulePaged(t *testing.T) {
	e := newEnv(t)
	e.define(t, scheduledJob(1, "*/10 * * * * *", "UTC"))
	e.define(t, scheduledJob(2, "@every 7s", "UTC"))
	e.login(t)
	doc := e.page(t, "/schedule?window=1h&process=1")
	if n := testid(doc, "fire-row").Length(); n != fireRows {
		t.Fatalf("%d rows, want %d", n, fireRows)
	}
	if got := strings.Join(strings.Fields(testid(doc, "schedule-summary").Text()), " "); !strings.Contains(got, "360 fire times") {
		t.Errorf("summary %q", got)
	}
	next, _ := testid(doc, "next-page").Attr("href")
	doc = e.page(t, next)
	rows := fireRowsOf(doc)
	first := "1@" + t0.Add((fireRows+1)*10*time.Second).Format(time.RFC3339)
	if len(rows) != 360-fireRows || rows[0] != first || rows[len(rows)-1] != "1@2026-11-26T09:00:00Z" {
		t.Fatalf("second page: %d rows, %v … %v", len(rows), rows[0], rows[len(rows)-1])
	}
	if testid(doc, "next-page").Length() != 0 {
		t.Error("a third page")
	}

	// Both together: no instant is split between pages, none lost.
	seen := map[string]bool{}
	path := "/schedule?window=1h"
	for range 10 {
		doc := e.page(t, path)
		for _, r := range fireRowsOf(doc) {
			if seen[r] {
				t.Fatalf("%s listed twice", r)
			}
			seen[r] = true
		}
		var ok bool
		if path, ok = testid(doc, "next-page").Attr("href"); !ok {
			break
		}
	}
	if len(seen) != 360+514 {
		t.Errorf("%d fire times over the pages, want %d", len(seen), 360+514)
	}
	res, _ := e.get(t, "/schedule?window=7d")
	if res.ContentLength > 100<<10 {
		t.Errorf("page of %d bytes", res.ContentLength)
	}
}

// BenchmarkSchedulePage renders the next 7 days of 10,000 processes.
func BenchmarkSchedulePage(b *testing.B) {
	e := newEnv(b)
	specs := []string{"0 2 * * *", "*/5 * * * *", "@hourly", "30 6 * * 1-5", "@every 90s", "0 */10 * * * *"}
	zones := []string{"UTC", "Europe/Prague", "America/New_York"}
	procs := make([]statesrv.Process, 10_000)
	for i := range procs {
		procs[i] = scheduledJob(int64(i+1), specs[i%len(specs)], zones[i%len(zones)])
	}
	for chunk := range slices.Chunk(procs, 1000) {
		rc, _, err := e.Service.ApplyDefinitions(chunk, nil, statesrv.ActorAdmin)
		if err != nil {
			b.Fatal(err)
		}
		e.wait(b, rc)
	}
	e.login(b)
	b.ResetTimer()
	for b.Loop() {
		res := e.do(b, http.MethodGet, "/schedule?window=7d", nil, nil)
		io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusOK || res.ContentLength > 100<<10 {
			b.Fatalf("status %d, %d bytes", res.StatusCode, res.ContentLength)
		}
	}
}
