package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// benchSite is a handler over a log of many finished runs, with a logged-in
// session, for page benchmarks.
type benchSite struct {
	handler *Handler
	cookie  *http.Cookie
	// deep is the query of a history page far from the newest.
	deep string
}

// benchProcesses is how many processes the benchmark's runs belong to.
const benchProcesses = 100

// newBenchSite writes runs finished runs straight into a new log (one in
// thirteen FAIL, one in a hundred TIMEOUT, many finishing at one instant), lets
// the views catch up, and logs in.
func newBenchSite(b *testing.B, runs int) *benchSite {
	b.Helper()
	dir := b.TempDir()
	clk := clock.NewFake(t0)
	// The log is only read once, to build the views, which the pages read:
	// it may stay in memory; the views are on disk.
	log, err := eventlog.OpenBadger(eventlog.Options{Now: clk.Now, MinFreeBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { log.Close() })
	im, err := log.Import()
	if err != nil {
		b.Fatal(err)
	}
	var (
		seq  uint64
		prev [32]byte
	)
	add := func(typ, actor string, pid int64, at time.Time, data any) {
		raw, err := json.Marshal(data)
		if err != nil {
			b.Fatal(err)
		}
		seq++
		ev := eventlog.Event{Seq: seq, ID: uuid.New(), Type: typ, Time: at, Actor: actor, ProcessID: pid, Data: raw}
		ev.Hash = ev.ChainHash(prev)
		prev = ev.Hash
		if err := im.Add(&ev); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	add(statesrv.EventUserPasswordSet, statesrv.ActorCLI, 0, t0,
		&statesrv.UserPasswordSetData{User: statesrv.ActorAdmin, Hash: commands.HashPassword(testPassword)})
	for pid := int64(1); pid <= benchProcesses; pid++ {
		add(statesrv.EventProcessDefined, statesrv.ActorAdmin, pid, t0, &statesrv.Process{ID: pid,
			Name: fmt.Sprintf("job-%03d", pid), Timezone: "UTC", MaxRuntime: statesrv.Duration(time.Hour), Enabled: true})
	}
	at := t0
	deepAt := runs / 10 // 90% of the runs are newer
	site := &benchSite{}
	for i := range runs {
		if i%7 != 0 { // runs of one instant, seven at a time
			at = at.Add(time.Second)
		}
		pid := int64(i%benchProcesses) + 1
		id := uuid.Must(uuid.NewV7()).String()
		began := at.Add(-time.Duration(30+i%300) * time.Second)
		add(statesrv.EventRunStarted, "tcp:10.0.0.5", pid, began, &statesrv.RunStartedData{RunID: id,
			Source: statesrv.SourceReport, StartedAt: began, Deadline: began.Add(time.Hour), Name: fmt.Sprintf("job-%03d", pid)})
		switch {
		case i%100 == 99:
			add(statesrv.EventRunTimedOut, statesrv.ActorScheduler, pid, at, &statesrv.RunTimedOutData{RunID: id, Deadline: at})
		default:
			state, code := statesrv.StateOK, 0
			if i%13 == 3 {
				state, code = statesrv.StateFail, 2
			}
			add(statesrv.EventRunFinished, "tcp:10.0.0.5", pid, at, &statesrv.RunFinishedData{RunID: id, State: state,
				MessageID: uuid.NewString(), FinishedAt: at, Message: fmt.Sprintf("copied %d files in %d s", i%5000, 30+i%300), Code: &code})
		}
		if i == deepAt {
			site.deep = url.Values{"before": {at.Format(time.RFC3339Nano)}, "before_run": {id}}.Encode()
		}
	}
	if _, err := im.Finish(); err != nil {
		b.Fatal(err)
	}
	imported := time.Since(start)
	store, err := projections.OpenStore(dir+"/views", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	runner, err := projections.NewRunner(log, store, nil)
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if _, err := runner.CatchUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: %d runs, %d events imported in %s, views caught up in %s", runs, seq, imported.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond))
	core, err := store.LoadCore()
	if err != nil {
		b.Fatal(err)
	}
	clk.Set(at.Add(time.Minute))
	svc := commands.New(commands.Config{Log: log, Clock: clk, Core: core,
		Unprocessed: store.UnprocessedMessage, FinishedRun: store.FinishedRun})
	site.handler = NewHandler(Config{Service: svc, Runner: runner, Log: log, Version: "bench"})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/login",
		strings.NewReader(url.Values{"user": {"admin"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	site.handler.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		site.cookie = c
	}
	if rec.Code != http.StatusSeeOther || site.cookie == nil {
		b.Fatalf("login: status %d", rec.Code)
	}
	return site
}

// get renders path through the handler and returns the response.
func (s *benchSite) get(b *testing.B, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(s.cookie)
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: status %d", path, rec.Code)
	}
	return rec
}

// BenchmarkHistoryPage renders /history over a million finished runs:
// the newest page, a page 900,000 runs deep, and a page filtered by
// process and outcome. It reports the page's size and the 99th percentile
// of the requests' durations.
func BenchmarkHistoryPage(b *testing.B) {
	site := newBenchSite(b, 1_000_000)
	for _, bc := range []struct{ name, path string }{
		{"First", "/history"},
		{"Deep", "/history?" + site.deep},
		{"Filtered", "/history?process=7&outcome=FAIL"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if rows := strings.Count(site.get(b, bc.path).Body.String(), `data-testid="history-row"`); rows != historyPageSize {
				b.Fatalf("GET %s: %d rows, want %d", bc.path, rows, historyPageSize)
			}
			durations := make([]time.Duration, 0, b.N)
			var size int
			for b.Loop() {
				start := time.Now()
				rec := site.get(b, bc.path)
				durations = append(durations, time.Since(start))
				size = rec.Body.Len()
			}
			b.StopTimer()
			slices.Sort(durations)
			p99 := durations[min(len(durations)-1, len(durations)*99/100)]
			b.ReportMetric(float64(size), "html-bytes")
			b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
		})
	}
}
