package projections_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// TestVersion1LogReplays folds a log recorded by the first version into a
// Core and checks the views it gives: old logs must keep their meaning.
// The log: process 25 (scheduled every 2s) and 26 (push-only, with a key);
// a START attached to a scheduled run and its OK; a push OK with a mid and
// its retry; a bad key; an unknown process; a malformed line; a START of
// 26; a timeout of 25; a manual start of 26; a dismissal of the bad-key
// message; the deletion of 25.
func TestVersion1LogReplays(t *testing.T) {
	f, err := os.Open("../eventlog/testdata/v1-events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := projections.NewCore()
	var closed []statesrv.Run
	unprocessed := map[string]statesrv.Unprocessed{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e eventlog.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		eff, err := c.Apply(&e)
		if err != nil {
			t.Fatal(err)
		}
		if eff.Closed != nil {
			closed = append(closed, *eff.Closed)
		}
		if u := eff.Unprocessed; u != nil {
			unprocessed[u.ID] = *u
		}
		delete(unprocessed, eff.Dismissed)
	}
	// The version-1 log holds 26's key in clear; the fold keeps only its
	// hash, the same on every fold.
	if len(c.Procs) != 1 || c.Procs[26] == nil || c.Procs[26].Key != nil ||
		!statesrv.KeyMatches(c.Procs[26].KeyHash, "s3cret") {
		t.Errorf("processes = %v, want only 26 with its key, hashed", c.ProcessList())
	}
	open := c.AllOpenRuns()
	if len(open) != 2 || open[0].Source != statesrv.SourceReport || open[1].Source != statesrv.SourceManual {
		t.Errorf("open runs = %+v, want 26's START run and its manual run", open)
	}
	var states []string
	for _, r := range closed {
		states = append(states, r.State)
	}
	if len(states) != 3 || states[0] != "OK" || states[1] != "OK" || states[2] != "TIMEOUT" {
		t.Errorf("closed runs = %v, want OK (attached scheduled run), OK (push), TIMEOUT", states)
	}
	if closed[0].Reported == nil || closed[0].Message != "done" {
		t.Errorf("attached run = %+v, want reported_at and message \"done\"", closed[0])
	}
	reasons := map[string]bool{}
	for _, u := range unprocessed {
		reasons[u.Reason] = true
	}
	if len(unprocessed) != 2 || !reasons[statesrv.ReasonUnknownProcess] || !reasons[statesrv.ReasonMalformed] {
		t.Errorf("unprocessed = %+v, want the unknown process and the malformed line", unprocessed)
	}
}

func TestHistoryPagesRunsFinishedAtOneInstant(t *testing.T) {
	store, err := projections.OpenStore("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	l, err := eventlog.OpenBadger(eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	at := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	var recs []eventlog.Record
	add := func(typ string, pid int64, v any) {
		b, _ := json.Marshal(v)
		recs = append(recs, eventlog.Record{Type: typ, Time: at, ProcessID: pid, Data: b})
	}
	add(statesrv.EventProcessDefined, 1, statesrv.Process{ID: 1, Name: "p", Enabled: true})
	for i := range 5 {
		id := fmt.Sprintf("run-%d", i)
		add(statesrv.EventRunStarted, 1, statesrv.RunStartedData{RunID: id, Source: "manual", StartedAt: at, Deadline: at.Add(time.Hour)})
		add(statesrv.EventRunFinished, 1, statesrv.RunFinishedData{RunID: id, State: "OK", FinishedAt: at})
	}
	if _, err := eventlog.Append(context.Background(), l, recs...); err != nil {
		t.Fatal(err)
	}
	r, err := projections.NewRunner(l, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	var seen []string
	q := projections.HistoryQuery{Limit: 2}
	for range 5 {
		page, err := store.History(q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, run := range page {
			seen = append(seen, run.ID)
		}
		last := page[len(page)-1]
		q.Before, q.BeforeRun = *last.FinishedAt, last.ID
	}
	if strings.Join(seen, ",") != "run-4,run-3,run-2,run-1,run-0" {
		t.Fatalf("pages gave %v, want every run once, newest id first", seen)
	}
}
