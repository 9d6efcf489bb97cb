package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

// BenchmarkOverviewPage renders GET / through the handler with 10,000
// processes (scheduled ones of several kinds and push-only ones), some
// runs open, failed and timed out, and a few unprocessed messages. It
// reports the page's size and the 99th percentile of the per-request
// latency.
func BenchmarkOverviewPage(b *testing.B) {
	e := newEnv(b)
	e.login(b)
	const procs = 10000
	schedules := []string{"", "*/5 * * * *", "@hourly", "0 2 * * *", "@every 90s", "*/10 * * * * *", "30 4 * * 1-5"}
	for from := 1; from <= procs; from += 1000 {
		var defs []statesrv.Process
		for id := from; id < from+1000; id++ {
			p := statesrv.Process{ID: int64(id), Name: fmt.Sprintf("job-%05d", id), Enabled: true,
				Schedule: schedules[id%len(schedules)], MaxRuntime: statesrv.Duration(time.Duration(1+id%50) * time.Minute)}
			if id%len(schedules) == 0 {
				p.MaxRuntime = statesrv.Duration(time.Minute)
			}
			if id%3 == 0 {
				p.Timezone = "Europe/Berlin"
			}
			defs = append(defs, p)
		}
		rc, _, err := e.Service.ApplyDefinitions(defs, nil, statesrv.ActorAdmin)
		if err != nil {
			b.Fatal(err)
		}
		e.wait(b, rc)
	}
	// Push-only processes are the multiples of len(schedules): 100 of them
	// time out, 100 fail, 300 stay open.
	push := func(n int) int64 { return int64(n * len(schedules)) }
	for i := 1; i <= 100; i++ {
		if _, err := e.Service.StartRun(push(i), statesrv.ActorAdmin); err != nil {
			b.Fatal(err)
		}
	}
	e.tick(b, 2*time.Minute) // the 1-minute runs time out; @every and 6-field crons fire
	for i := 101; i <= 200; i++ {
		e.report(b, fmt.Sprintf("#id=%d;state=FAIL;msg=exit status 1", push(i)))
	}
	for i := 201; i <= 500; i++ {
		e.report(b, fmt.Sprintf("#id=%d;state=START", push(i)))
	}
	for i := range 20 {
		e.report(b, fmt.Sprintf("#id=%d;state=OK;name=unknown", procs+1+i))
	}
	var open int
	e.Runner.View(func(c *projections.Core) { open = len(c.Runs) })

	u, _ := url.Parse(e.Server.URL)
	cookies := e.Client.Jar.Cookies(u)
	request := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET /: status %d", rec.Code)
		}
		return rec
	}
	size := request().Body.Len()
	b.Logf("%d processes, %d open runs, %d events", procs, open, e.Log.LastSeq())

	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		rec := request()
		durations = append(durations, time.Since(start))
		size = rec.Body.Len()
	}
	b.StopTimer()
	slices.Sort(durations)
	p99 := durations[min(len(durations)-1, len(durations)*99/100)]
	b.Logf("latency p50 %v, p90 %v, p99 %v, max %v", durations[len(durations)/2], durations[len(durations)*9/10], p99, durations[len(durations)-1])
	b.ReportMetric(float64(size), "html-bytes")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
