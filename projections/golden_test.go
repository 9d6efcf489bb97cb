package projections_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
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

// goldenEvents reads the log recorded by the first version.
func goldenEvents(t *testing.T) []eventlog.Event {
	t.Helper()
	b, err := os.ReadFile("../eventlog/testdata/v1-events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out []eventlog.Event
	for line := range strings.Lines(string(b)) {
		var e eventlog.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// foldSummary folds events into a Core and returns, as JSON, the views it
// gives: processes, open runs, the runs closed and the unprocessed
// messages left, in order.
func foldSummary(t *testing.T, events func(yield func(*eventlog.Event) bool)) string {
	t.Helper()
	c := projections.NewCore()
	var closed []statesrv.Run
	var unprocessed []statesrv.Unprocessed
	for e := range events {
		eff, err := c.Apply(e)
		if err != nil {
			t.Fatalf("apply %d: %v", e.Seq, err)
		}
		if eff.Closed != nil {
			closed = append(closed, *eff.Closed)
		}
		if eff.Unprocessed != nil {
			unprocessed = append(unprocessed, *eff.Unprocessed)
		}
		if eff.Dismissed != "" {
			unprocessed = slices.DeleteFunc(unprocessed, func(u statesrv.Unprocessed) bool { return u.ID == eff.Dismissed })
		}
	}
	procs := c.ProcessList()
	for i := range procs {
		// A key a definition held in clear is hashed salted from the
		// event's id, which a log written again does not keep.
		procs[i].KeyHash = fmt.Sprint(procs[i].KeyHash != "")
	}
	b, err := json.Marshal(map[string]any{"procs": procs, "open": c.AllOpenRuns(), "closed": closed, "unprocessed": unprocessed})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func rangeAll(t *testing.T, l eventlog.Log) func(yield func(*eventlog.Event) bool) {
	return func(yield func(*eventlog.Event) bool) {
		for e, err := range l.Range(context.Background(), 1, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if !yield(e) {
				return
			}
		}
	}
}

// TestMixedLogFoldsAsVersion1 writes the first version's log again: its
// first half as that version stored it (version 1 groups, JSON payloads),
// the rest as a server stores it now (version 2 groups, compact payloads
// where the type has them). The log verifies, folds into the same views as
// the recorded log, and comes back from a backup with the same events,
// stored forms and hashes.
func TestMixedLogFoldsAsVersion1(t *testing.T) {
	golden := goldenEvents(t)
	want := foldSummary(t, slices.Values(ptrs(golden)))
	ctx := context.Background()
	dir := t.TempDir()
	current := eventlog.Options{Dir: dir, TypeCodes: statesrv.EventTypeCodes(), Payloads: statesrv.Payloads{}}
	old := eventlog.Options{Dir: dir, EnvelopeVersion: 1}
	half := len(golden) / 2
	compact := 0
	for i, opt := range []eventlog.Options{old, current} {
		l, err := eventlog.OpenBadger(opt)
		if err != nil {
			t.Fatal(err)
		}
		part := golden[:half]
		if i == 1 {
			part = golden[half:]
		}
		for _, e := range part {
			data := []byte(e.Data)
			if i == 1 {
				if data, err = (statesrv.Payloads{}).Compact(e.Type, e.Time, data); err != nil {
					t.Fatal(err)
				}
				if statesrv.IsCompactPayload(data) {
					compact++
				}
			}
			rec := eventlog.Record{Type: e.Type, Time: e.Time, Actor: e.Actor, ProcessID: e.ProcessID, Key: e.Key, Data: data}
			if _, err := eventlog.Append(ctx, l, rec); err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 {
			l.Close()
			continue
		}
		defer l.Close()
		if compact == 0 {
			t.Fatal("no payload of the second half took the compact form")
		}
		if rep, err := l.Verify(ctx); err != nil || !rep.OK() || rep.Events != uint64(len(golden)) {
			t.Fatalf("verify = %+v, %v", rep, err)
		}
		if got := foldSummary(t, rangeAll(t, l)); got != want {
			t.Fatalf("the mixed log folds into\n%s\nthe recorded one into\n%s", got, want)
		}

		var backup bytes.Buffer
		if _, err := eventlog.WriteBackup(ctx, l, &backup, time.Now()); err != nil {
			t.Fatal(err)
		}
		dst, err := eventlog.OpenBadger(eventlog.Options{Dir: t.TempDir(), TypeCodes: statesrv.EventTypeCodes(), Payloads: statesrv.Payloads{}})
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		im, err := dst.Import()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eventlog.ReadBackup(&backup, im.Add); err != nil {
			t.Fatal(err)
		}
		if _, err := im.Finish(); err != nil {
			t.Fatal(err)
		}
		var orig []eventlog.Event
		for e := range rangeAll(t, l) {
			orig = append(orig, *e)
		}
		n := 0
		for e := range rangeAll(t, dst) {
			o := orig[n]
			if e.Seq != o.Seq || e.Hash != o.Hash || !bytes.Equal(e.Data, o.Data) {
				t.Fatalf("restored event %d = %+v, want %+v", e.Seq, e, o)
			}
			n++
		}
		if rep, err := dst.Verify(ctx); err != nil || !rep.OK() || n != len(golden) {
			t.Fatalf("restored: %d events, verify = %+v, %v", n, rep, err)
		}
	}
}

func ptrs(evs []eventlog.Event) []*eventlog.Event {
	out := make([]*eventlog.Event, len(evs))
	for i := range evs {
		out[i] = &evs[i]
	}
	return out
}
