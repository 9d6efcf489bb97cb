package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// views is a log with its stored views, opened in temp dirs.
type views struct {
	t      *testing.T
	log    *eventlog.Badger
	dir    string // of the store
	store  *projections.Store
	runner *projections.Runner
}

func newViews(t *testing.T) *views {
	t.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: t.TempDir(), MinFreeBytes: -1})
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	v := &views{t: t, log: l, dir: t.TempDir()}
	v.open()
	t.Cleanup(v.close)
	return v
}

func (v *views) open() {
	v.t.Helper()
	store, err := projections.OpenStore(v.dir, nil)
	if err != nil {
		v.t.Fatalf("open store: %v", err)
	}
	v.store = store
	if v.runner, err = projections.NewRunner(v.log, store, nil); err != nil {
		v.t.Fatalf("new runner: %v", err)
	}
}

func (v *views) close() {
	if v.store != nil {
		v.store.Close()
		v.store, v.runner = nil, nil
	}
}

// append appends recs in one submission and returns their events.
func (v *views) append(recs ...eventlog.Record) []eventlog.Event {
	v.t.Helper()
	evs, err := eventlog.Append(context.Background(), v.log, recs...)
	if err != nil {
		v.t.Fatalf("append: %v", err)
	}
	return evs
}

// appendEach submits each record as a submission of its own, as separate
// commands do, and waits for them all (the log commits them in groups).
func (v *views) appendEach(recs ...eventlog.Record) {
	v.t.Helper()
	var ps []*eventlog.Pending
	for _, r := range recs {
		ps = append(ps, v.log.Submit([]eventlog.Record{r}))
	}
	for _, p := range ps {
		if _, err := p.Wait(context.Background()); err != nil {
			v.t.Fatalf("append: %v", err)
		}
	}
}

// catchUp applies the log's new events to the views.
func (v *views) catchUp() {
	v.t.Helper()
	if _, err := v.runner.CatchUp(context.Background()); err != nil {
		v.t.Fatalf("catch-up: %v", err)
	}
	if v.runner.Seq() != v.log.LastSeq() {
		v.t.Fatalf("views at %d, log at %d", v.runner.Seq(), v.log.LastSeq())
	}
}

// rec returns a record of an event at at about pid.
func rec(at time.Time, typ string, pid int64, data any) eventlog.Record {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return eventlog.Record{Type: typ, Time: at, Actor: "test", ProcessID: pid, Data: raw}
}

func defined(at time.Time, id int64) eventlog.Record {
	return rec(at, statesrv.EventProcessDefined, id, &statesrv.Process{ID: id, Name: fmt.Sprintf("job%d", id),
		Timezone: "UTC", MaxRuntime: statesrv.Duration(time.Hour), Enabled: true})
}

func started(at time.Time, pid int64, run string) eventlog.Record {
	return rec(at, statesrv.EventRunStarted, pid, &statesrv.RunStartedData{RunID: run,
		Source: statesrv.SourceManual, StartedAt: at, Deadline: at.Add(time.Hour)})
}

// closed returns the event that closes run with state at at.
func closed(at time.Time, pid int64, run, state string) eventlog.Record {
	if state == statesrv.StateTimeout {
		return rec(at, statesrv.EventRunTimedOut, pid, &statesrv.RunTimedOutData{RunID: run, Deadline: at})
	}
	return rec(at, statesrv.EventRunFinished, pid, &statesrv.RunFinishedData{RunID: run, State: state,
		MessageID: "m-" + run, FinishedAt: at, Message: "done " + run})
}

// unprocessed returns the two events of a report that closed no run.
func unprocessed(at time.Time, pid int64, msg, reason string) []eventlog.Record {
	return []eventlog.Record{
		rec(at, statesrv.EventMessageReceived, pid, &statesrv.MessageReceivedData{MessageID: msg,
			Transport: "tcp", Remote: "10.0.0.5:4000", Line: fmt.Sprintf("#id=%d;state=OK;name=%s", pid, msg),
			State: "OK", Name: msg}),
		rec(at, statesrv.EventMessageUnprocessed, pid, &statesrv.MessageUnprocessedData{MessageID: msg, Reason: reason}),
	}
}

func dismissed(at time.Time, msg string) eventlog.Record {
	return rec(at, statesrv.EventMessageDismissed, 0, &statesrv.MessageDismissedData{MessageID: msg})
}

func runIDs(runs []statesrv.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

func TestHistory(t *testing.T) {
	v := newViews(t)
	v.append(defined(t0, 1), defined(t0, 2))
	// Ten runs, r0 oldest; process 1 has the even ones; outcomes cycle
	// OK, FAIL, TIMEOUT. One more stays open.
	states := []string{statesrv.StateOK, statesrv.StateFail, statesrv.StateTimeout}
	var all []string // newest first
	for i := range 10 {
		id, pid := fmt.Sprintf("r%d", i), int64(1+i%2)
		at := t0.Add(time.Duration(i) * time.Minute)
		v.append(started(at, pid, id))
		v.append(closed(at.Add(30*time.Second), pid, id, states[i%3]))
		all = append([]string{id}, all...)
	}
	v.append(started(t0.Add(time.Hour), 1, "open"))
	v.catchUp()

	finishedAt := func(i int) time.Time { return t0.Add(time.Duration(i)*time.Minute + 30*time.Second) }
	filter := func(pid int64, state string) []string {
		var out []string
		for _, id := range all {
			var i int
			fmt.Sscanf(id, "r%d", &i)
			if (pid == 0 || int64(1+i%2) == pid) && (state == "" || states[i%3] == state) {
				out = append(out, id)
			}
		}
		return out
	}
	tests := []struct {
		name string
		q    projections.HistoryQuery
		want []string
	}{
		{"All", projections.HistoryQuery{}, all},
		{"Limit", projections.HistoryQuery{Limit: 3}, all[:3]},
		{"Before", projections.HistoryQuery{Before: finishedAt(5)}, []string{"r4", "r3", "r2", "r1", "r0"}},
		{"BeforeBetween", projections.HistoryQuery{Before: finishedAt(5).Add(time.Second)}, []string{"r5", "r4", "r3", "r2", "r1", "r0"}},
		{"BeforeAndLimit", projections.HistoryQuery{Before: finishedAt(5), Limit: 2}, []string{"r4", "r3"}},
		{"BeforeOldest", projections.HistoryQuery{Before: finishedAt(0)}, nil},
		{"ByProcess", projections.HistoryQuery{ProcessID: 1}, filter(1, "")},
		{"ByProcessBefore", projections.HistoryQuery{ProcessID: 2, Before: finishedAt(7)}, []string{"r5", "r3", "r1"}},
		{"ByOtherProcess", projections.HistoryQuery{ProcessID: 3}, nil},
		{"ByState", projections.HistoryQuery{State: statesrv.StateFail}, filter(0, statesrv.StateFail)},
		{"ByStateTimeout", projections.HistoryQuery{State: statesrv.StateTimeout}, []string{"r8", "r5", "r2"}},
		{"ByStateBeforeLimit", projections.HistoryQuery{State: statesrv.StateOK, Before: finishedAt(9), Limit: 2}, []string{"r6", "r3"}},
		{"ByProcessAndState", projections.HistoryQuery{ProcessID: 1, State: statesrv.StateOK}, []string{"r6", "r0"}},
		{"ByProcessAndStateLimit", projections.HistoryQuery{ProcessID: 2, State: statesrv.StateFail, Limit: 1}, []string{"r7"}},
		{"ByProcessAndStateBefore", projections.HistoryQuery{ProcessID: 2, State: statesrv.StateFail, Before: finishedAt(7)}, []string{"r1"}},
		{"ByProcessAndNoSuchState", projections.HistoryQuery{ProcessID: 1, State: statesrv.StateRunning}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.store.History(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Error("History returned nil, want an empty slice")
			}
			if ids := runIDs(got); !slices.Equal(ids, tt.want) && len(ids)+len(tt.want) > 0 {
				t.Fatalf("History(%+v) = %v, want %v", tt.q, ids, tt.want)
			}
		})
	}
	t.Run("PagesCoverAllOnce", func(t *testing.T) {
		for _, q := range []projections.HistoryQuery{{}, {ProcessID: 1}, {State: statesrv.StateOK}, {ProcessID: 2, State: statesrv.StateTimeout}} {
			var pages []string
			q.Limit = 2
			for range 20 {
				page, err := v.store.History(q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				pages = append(pages, runIDs(page)...)
				q.Before, q.BeforeRun = *page[len(page)-1].FinishedAt, page[len(page)-1].ID
			}
			if want := filter(q.ProcessID, q.State); !slices.Equal(pages, want) {
				t.Errorf("pages of %+v = %v, want %v", q, pages, want)
			}
		}
	})
	t.Run("Runs", func(t *testing.T) {
		got, _ := v.store.History(projections.HistoryQuery{Limit: 1})
		r := got[0]
		if r.ID != "r9" || r.ProcessID != 2 || r.Name != "job2" || r.State != statesrv.StateOK ||
			r.Message != "done r9" || !r.StartedAt.Equal(t0.Add(9*time.Minute)) || !r.FinishedAt.Equal(finishedAt(9)) {
			t.Errorf("newest run = %+v", r)
		}
	})
	t.Run("FinishedRun", func(t *testing.T) {
		r, ok, err := v.store.FinishedRun("r8")
		if err != nil || !ok || r.ID != "r8" || r.State != statesrv.StateTimeout || !r.FinishedAt.Equal(finishedAt(8)) {
			t.Errorf("FinishedRun(r8) = %+v, %v, %v", r, ok, err)
		}
		for _, id := range []string{"open", "nope", ""} {
			if r, ok, err := v.store.FinishedRun(id); err != nil || ok {
				t.Errorf("FinishedRun(%q) = %+v, %v, %v; want not found", id, r, ok, err)
			}
		}
	})
}

// TestHistoryPagingSameInstant pages through runs that finished at one
// instant (a tick times out many at once): Before with BeforeRun neither
// skips nor repeats any.
func TestHistoryPagingSameInstant(t *testing.T) {
	v := newViews(t)
	v.append(defined(t0, 1), defined(t0, 2))
	end := t0.Add(time.Hour)
	var recs []eventlog.Record
	for i := range 9 {
		id, pid := fmt.Sprintf("s%d", i), int64(1+i%2)
		recs = append(recs, started(t0, pid, id))
		state := statesrv.StateTimeout
		if i%3 == 0 {
			state = statesrv.StateFail
		}
		recs = append(recs, closed(end, pid, id, state))
	}
	recs = append(recs, started(t0, 1, "early"), closed(end.Add(-time.Second), 1, "early", statesrv.StateFail))
	recs = append(recs, started(t0, 2, "late"), closed(end.Add(time.Second), 2, "late", statesrv.StateTimeout))
	v.append(recs...)
	v.catchUp()
	for _, q := range []projections.HistoryQuery{{}, {ProcessID: 1}, {State: statesrv.StateTimeout}, {ProcessID: 2, State: statesrv.StateFail}} {
		all, err := v.store.History(projections.HistoryQuery{ProcessID: q.ProcessID, State: q.State, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{1, 2, 4} {
			p := q
			p.Limit = limit
			var pages []string
			for range 20 {
				page, err := v.store.History(p)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				pages = append(pages, runIDs(page)...)
				p.Before, p.BeforeRun = *page[len(page)-1].FinishedAt, page[len(page)-1].ID
			}
			if want := runIDs(all); !slices.Equal(pages, want) {
				t.Errorf("pages of %d of %+v = %v, want %v", limit, q, pages, want)
			}
		}
	}
}

func TestUnprocessed(t *testing.T) {
	v := newViews(t)
	v.append(defined(t0, 1))
	var recs []eventlog.Record
	recs = append(recs, unprocessed(t0.Add(1*time.Second), 9, "a", statesrv.ReasonUnknownProcess)...)
	recs = append(recs, unprocessed(t0.Add(2*time.Second), 1, "b", statesrv.ReasonNoOpenRun)...)
	recs = append(recs, rec(t0.Add(3*time.Second), statesrv.EventMessageRejected, 1, &statesrv.MessageRejectedData{
		MessageID: "c", Transport: "tcp", Remote: "10.0.0.6:1", Line: "#id=1;state=OK;key=***",
		Reason: statesrv.ReasonBadKey, Detail: "bad key", State: "OK"}))
	recs = append(recs, unprocessed(t0.Add(4*time.Second), 1, "d", statesrv.ReasonNoOpenRun)...)
	evs := v.append(recs...)
	v.catchUp()
	seqA, seqB, seqC, seqD := evs[0].Seq, evs[2].Seq, evs[4].Seq, evs[5].Seq

	all, err := v.store.Unprocessed(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []statesrv.Unprocessed{
		{ID: "a", Seq: seqA, ReceivedAt: t0.Add(time.Second), Remote: "10.0.0.5:4000", Line: "#id=9;state=OK;name=a",
			ProcessID: 9, State: "OK", Name: "a", Reason: statesrv.ReasonUnknownProcess},
		{ID: "b", Seq: seqB, ReceivedAt: t0.Add(2 * time.Second), Remote: "10.0.0.5:4000", Line: "#id=1;state=OK;name=b",
			ProcessID: 1, State: "OK", Name: "b", Reason: statesrv.ReasonNoOpenRun},
		{ID: "c", Seq: seqC, ReceivedAt: t0.Add(3 * time.Second), Remote: "10.0.0.6:1", Line: "#id=1;state=OK;key=***",
			ProcessID: 1, State: "OK", Reason: statesrv.ReasonBadKey, Detail: "bad key"},
		{ID: "d", Seq: seqD, ReceivedAt: t0.Add(4 * time.Second), Remote: "10.0.0.5:4000", Line: "#id=1;state=OK;name=d",
			ProcessID: 1, State: "OK", Name: "d", Reason: statesrv.ReasonNoOpenRun},
	}
	sameJSON(t, "unprocessed", all, want)

	t.Run("Paged", func(t *testing.T) {
		page, err := v.store.Unprocessed(seqA, 2)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "after a, limit 2", page, want[1:3])
		page, _ = v.store.Unprocessed(seqC, 2)
		sameJSON(t, "after c", page, want[3:])
		page, _ = v.store.Unprocessed(seqD, 2)
		sameJSON(t, "after d", page, []statesrv.Unprocessed{})
	})
	t.Run("Lookup", func(t *testing.T) {
		u, ok, err := v.store.UnprocessedMessage("c")
		if err != nil || !ok {
			t.Fatalf("UnprocessedMessage(c) = %v, %v", ok, err)
		}
		sameJSON(t, "c", u, want[2])
		if _, ok, err := v.store.UnprocessedMessage("nope"); ok || err != nil {
			t.Errorf("UnprocessedMessage(nope) = %v, %v", ok, err)
		}
	})
	t.Run("DismissLater", func(t *testing.T) {
		v.append(dismissed(t0.Add(time.Minute), "b"), dismissed(t0.Add(time.Minute), "c"))
		v.catchUp()
		got, _ := v.store.Unprocessed(0, 100)
		sameJSON(t, "after dismissing b and c", got, []statesrv.Unprocessed{want[0], want[3]})
		for _, id := range []string{"b", "c"} {
			if _, ok, err := v.store.UnprocessedMessage(id); ok || err != nil {
				t.Errorf("UnprocessedMessage(%s) after dismiss = %v, %v", id, ok, err)
			}
		}
	})
	t.Run("AddAndDismissInOneBatch", func(t *testing.T) {
		recs := unprocessed(t0.Add(2*time.Minute), 1, "e", statesrv.ReasonNoOpenRun)
		recs = append(recs, rec(t0.Add(2*time.Minute), statesrv.EventMessageRejected, 0,
			&statesrv.MessageRejectedData{MessageID: "f", Line: "junk", Reason: statesrv.ReasonMalformed, Detail: "not a report"}))
		v.append(recs...)
		v.append(dismissed(t0.Add(2*time.Minute), "e"), dismissed(t0.Add(2*time.Minute), "f"), dismissed(t0.Add(2*time.Minute), "a"))
		v.catchUp() // one batch: added and dismissed before anything was stored
		got, _ := v.store.Unprocessed(0, 100)
		sameJSON(t, "after adding and dismissing e, f and dismissing a", got, []statesrv.Unprocessed{want[3]})
		for _, id := range []string{"a", "e", "f"} {
			if _, ok, err := v.store.UnprocessedMessage(id); ok || err != nil {
				t.Errorf("UnprocessedMessage(%s) = %v, %v", id, ok, err)
			}
		}
	})
	t.Run("SameAfterRebuild", func(t *testing.T) {
		live := dumpStore(t, v.store)
		if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "rebuilt views", dumpStore(t, v.store), live)
	})
}

// appendProcessEvents appends a log whose events belong to processes 1 and
// 2 in turns, and applies it: seq 1 p1 | 2 p2 | 3..5 p1 (a report and its
// decision) | 6 p0 | 7 p1 | 8 p2 | 9..10 p1.
func (v *views) appendProcessEvents() {
	v.t.Helper()
	recs := []eventlog.Record{defined(t0, 1), defined(t0, 2)}
	recs = append(recs, unprocessed(t0, 1, "m1", statesrv.ReasonNoOpenRun)...)
	recs = append(recs, started(t0, 1, "r1"))
	recs = append(recs, rec(t0, statesrv.EventUserPasswordSet, 0, &statesrv.UserPasswordSetData{User: "admin", Hash: "x"}))
	recs = append(recs, closed(t0, 1, "r1", statesrv.StateOK))
	recs = append(recs, started(t0, 2, "r2"))
	recs = append(recs, unprocessed(t0, 1, "m2", statesrv.ReasonNoOpenRun)...)
	v.append(recs...)
	v.catchUp()
}

// freshRunner returns a Runner caught up on v's log in a store of its own,
// to compare with views built another way.
func (v *views) freshRunner(t *testing.T) *projections.Runner {
	t.Helper()
	fresh, err := projections.OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fresh.Close() })
	other, err := projections.NewRunner(v.log, fresh, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return other
}

func TestProcessEvents(t *testing.T) {
	v := newViews(t)
	v.appendProcessEvents()
	r := func(a, b uint64) projections.SeqRange { return projections.SeqRange{First: a, Last: b} }
	tests := []struct {
		name         string
		pid          int64
		after        uint64
		limit        int
		want         []projections.SeqRange
		splitBatches bool
	}{
		{name: "All", pid: 1, limit: 100, want: []projections.SeqRange{r(1, 1), r(3, 5), r(7, 7), r(9, 10)}},
		{name: "OtherProcess", pid: 2, limit: 100, want: []projections.SeqRange{r(2, 2), r(8, 8)}},
		{name: "NoEvents", pid: 3, limit: 100},
		{name: "AfterFirst", pid: 1, after: 1, limit: 100, want: []projections.SeqRange{r(3, 5), r(7, 7), r(9, 10)}},
		{name: "AfterRangeStart", pid: 1, after: 3, limit: 100, want: []projections.SeqRange{r(4, 5), r(7, 7), r(9, 10)}},
		{name: "AfterMiddleOfRange", pid: 1, after: 4, limit: 100, want: []projections.SeqRange{r(5, 5), r(7, 7), r(9, 10)}},
		{name: "AfterRangeEnd", pid: 1, after: 5, limit: 100, want: []projections.SeqRange{r(7, 7), r(9, 10)}},
		{name: "AfterOtherProcessEvent", pid: 1, after: 6, limit: 100, want: []projections.SeqRange{r(7, 7), r(9, 10)}},
		{name: "AfterLast", pid: 1, after: 10, limit: 100},
		{name: "LimitCutsRange", pid: 1, limit: 3, want: []projections.SeqRange{r(1, 1), r(3, 4)}},
		{name: "LimitAfterMiddle", pid: 1, after: 3, limit: 3, want: []projections.SeqRange{r(4, 5), r(7, 7)}},
		{name: "LimitOne", pid: 1, after: 4, limit: 1, want: []projections.SeqRange{r(5, 5)}},
		{name: "LimitZero", pid: 1, limit: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.store.ProcessEvents(tt.pid, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ProcessEvents(%d, after %d, limit %d) = %v, want %v", tt.pid, tt.after, tt.limit, got, tt.want)
			}
		})
	}
	t.Run("RangeCutByCheckpoint", func(t *testing.T) {
		// 11..13 p1, applied as two batches (11..12, then 13..14 with 14 p1).
		v.append(unprocessed(t0, 1, "m3", statesrv.ReasonNoOpenRun)...)
		v.append(started(t0, 1, "r3"))
		v.catchUp()
		v.append(closed(t0, 1, "r3", statesrv.StateFail))
		v.catchUp()
		got, err := v.store.ProcessEvents(1, 9, 100)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, r := range got {
			for s := r.First; s <= r.Last; s++ {
				seqs = append(seqs, s)
			}
		}
		if !slices.Equal(seqs, []uint64{10, 11, 12, 13, 14}) {
			t.Errorf("ProcessEvents(1, after 9) = %v, want seqs 10..14", got)
		}
		got, _ = v.store.ProcessEvents(1, 12, 1)
		if !slices.Equal(got, []projections.SeqRange{r(13, 13)}) {
			t.Errorf("ProcessEvents(1, after 12, limit 1) = %v", got)
		}
	})
}

func TestRestartContinuesFromCheckpoint(t *testing.T) {
	v := newViews(t)
	// Before the stop: definitions, runs open and closed, messages.
	v.append(defined(t0, 1), defined(t0, 2))
	v.append(started(t0, 1, "a"), started(t0.Add(time.Second), 1, "b"), started(t0, 2, "c"))
	v.append(closed(t0.Add(time.Minute), 1, "a", statesrv.StateOK))
	v.append(unprocessed(t0.Add(time.Minute), 9, "m1", statesrv.ReasonUnknownProcess)...)
	v.append(unprocessed(t0.Add(time.Minute), 2, "m2", statesrv.ReasonNoOpenRun)...)
	v.catchUp()
	checkpoint := v.runner.Seq()
	v.close()

	// While the views are closed the log goes on.
	v.append(closed(t0.Add(2*time.Minute), 1, "b", statesrv.StateTimeout))
	v.append(unprocessed(t0.Add(2*time.Minute), 1, "m3", statesrv.ReasonLate)...)
	v.append(dismissed(t0.Add(3*time.Minute), "m1"))
	v.append(rec(t0.Add(3*time.Minute), statesrv.EventProcessDeleted, 2, &statesrv.ProcessDeletedData{Name: "job2"}))
	v.append(defined(t0.Add(4*time.Minute), 3), started(t0.Add(4*time.Minute), 3, "d"))

	v.open()
	if got := v.runner.Seq(); got != checkpoint {
		t.Fatalf("reopened runner at %d, want the checkpoint %d", got, checkpoint)
	}
	if cp, err := v.store.Checkpoint(); err != nil || cp != checkpoint {
		t.Fatalf("Checkpoint() = %d, %v", cp, err)
	}
	n, err := v.runner.CatchUp(context.Background())
	if err != nil || n != v.log.LastSeq()-checkpoint {
		t.Fatalf("CatchUp applied %d, %v; want %d", n, err, v.log.LastSeq()-checkpoint)
	}
	live := dumpRunner(t, v.runner)
	if runs := live.Runs; len(runs) != 1 || runs[0].ID != "d" {
		t.Errorf("open runs = %+v, want only d", runs)
	}
	if len(live.History) != 2 || len(live.Unprocessed) != 2 {
		t.Errorf("history %d runs, unprocessed %d messages; want 2 and 2", len(live.History), len(live.Unprocessed))
	}

	// A rebuild into a fresh store, and one in place, give the same views.
	sameJSON(t, "views of a fresh store", dumpRunner(t, v.freshRunner(t)), live)
	if n, _, err := v.runner.Rebuild(context.Background()); err != nil || n != v.log.LastSeq() {
		t.Fatalf("Rebuild = %d, %v", n, err)
	}
	sameJSON(t, "views rebuilt in place", dumpRunner(t, v.runner), live)
	// And so does the stored Core, as the next start loads it.
	v.close()
	v.open()
	sameJSON(t, "views reopened", dumpRunner(t, v.runner), live)
}

func TestBatchNeverEndsOnReport(t *testing.T) {
	v := newViews(t)
	// A batch holds 4096 events: put a report's MessageReceived last in the
	// first one, its decision first in the next.
	const maxBatch = 4096
	recs := []eventlog.Record{defined(t0, 1)}
	for len(recs) < maxBatch-1 {
		recs = append(recs, rec(t0, statesrv.EventUserPasswordSet, 0, &statesrv.UserPasswordSetData{User: "u", Hash: fmt.Sprint(len(recs))}))
	}
	recs = append(recs, unprocessed(t0.Add(time.Second), 1, "m", statesrv.ReasonNoOpenRun)...)
	recs = append(recs, started(t0.Add(time.Second), 1, "r"))
	evs := v.append(recs...)
	// A runner told the log ends at the MessageReceived applies one batch,
	// which must take the decision with it.
	first, err := projections.NewRunner(shortLog{v.log, maxBatch}, v.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := first.CatchUp(context.Background()); err != nil || n != maxBatch+1 {
		t.Fatalf("first batch: %d events, %v; want %d", n, err, maxBatch+1)
	}
	if cp, err := v.store.Checkpoint(); err != nil || cp != maxBatch+1 {
		t.Fatalf("checkpoint after the first batch = %d, %v; want %d", cp, err, maxBatch+1)
	}
	v.close()
	v.open()
	v.catchUp()
	u, ok, err := v.store.UnprocessedMessage("m")
	if err != nil || !ok || u.Seq != evs[maxBatch-1].Seq || u.Line != "#id=1;state=OK;name=m" || u.Remote == "" {
		t.Errorf("unprocessed m = %+v, %v, %v; want seq %d with its line", u, ok, err, evs[maxBatch-1].Seq)
	}
	if runs := dumpRunner(t, v.runner).Runs; len(runs) != 1 || runs[0].ID != "r" {
		t.Errorf("open runs = %+v", runs)
	}
}

// TestBatchFitsOneTransaction applies, in one catch-up, events whose Core
// changes are too big for one Badger transaction together: definitions
// with long descriptions, runs with long names (from a report's name=,
// where JSON escapes each '<' to six bytes). The views must still come up to
// date, and equal a rebuild.
func TestBatchFitsOneTransaction(t *testing.T) {
	t.Run("Definitions", func(t *testing.T) {
		v := newViews(t)
		var recs []eventlog.Record
		for id := int64(1); id <= 600; id++ {
			recs = append(recs, rec(t0, statesrv.EventProcessDefined, id, &statesrv.Process{ID: id, Name: "job",
				Description: strings.Repeat("é", 2000), Timezone: "UTC", MaxRuntime: statesrv.Duration(time.Hour), Enabled: true}))
		}
		v.appendEach(recs...)
		v.catchUp()
		var got int
		v.runner.View(func(c *projections.Core) { got = len(c.Procs) })
		if got != 600 {
			t.Errorf("%d processes, want 600", got)
		}
	})
	t.Run("RunNames", func(t *testing.T) {
		v := newViews(t)
		v.append(defined(t0, 1))
		name := strings.Repeat("<", 4000)
		var recs []eventlog.Record
		for i := range 150 {
			recs = append(recs, rec(t0, statesrv.EventRunStarted, 1, &statesrv.RunStartedData{RunID: fmt.Sprintf("r%03d", i),
				Source: statesrv.SourceReport, StartedAt: t0, Deadline: t0.Add(time.Hour), Name: name}))
		}
		v.appendEach(recs...)
		if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		v.close()
		v.open() // the stored Core has them
		var got int
		v.runner.View(func(c *projections.Core) { got = len(c.Runs) })
		if got != 150 || v.runner.Seq() != v.log.LastSeq() {
			t.Errorf("%d open runs at seq %d, want 150 at %d", got, v.runner.Seq(), v.log.LastSeq())
		}
	})
}

func TestStateAt(t *testing.T) {
	v := newViews(t)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	v.append(defined(at(0), 1), defined(at(0), 2))                                                    // 1, 2
	v.append(started(at(1), 1, "a"))                                                                  // 3
	v.append(unprocessed(at(2), 9, "m1", statesrv.ReasonUnknownProcess)...)                           // 4, 5
	v.append(closed(at(3), 1, "a", statesrv.StateOK), started(at(3), 2, "b"))                         // 6, 7
	v.append(dismissed(at(4), "m1"))                                                                  // 8
	v.append(rec(at(5), statesrv.EventProcessDeleted, 2, &statesrv.ProcessDeletedData{Name: "job2"})) // 9

	tests := []struct {
		name     string
		at       time.Time
		upTo     uint64
		seq      uint64
		procs    []int64
		runs     []string
		messages []string
	}{
		{name: "BeforeEverything", at: t0.Add(-time.Second), procs: nil},
		{name: "AtDefinitions", at: at(0), seq: 2, procs: []int64{1, 2}},
		{name: "RunOpen", at: at(1).Add(30 * time.Second), seq: 3, procs: []int64{1, 2}, runs: []string{"a"}},
		{name: "MessageUnprocessed", at: at(2), seq: 5, procs: []int64{1, 2}, runs: []string{"a"}, messages: []string{"m1"}},
		{name: "RunClosedOtherOpen", at: at(3), seq: 7, procs: []int64{1, 2}, runs: []string{"b"}, messages: []string{"m1"}},
		{name: "Dismissed", at: at(4), seq: 8, procs: []int64{1, 2}, runs: []string{"b"}},
		{name: "Deleted", at: at(9), seq: 9, procs: []int64{1}},
		{name: "UpToReceived", upTo: 4, seq: 4, procs: []int64{1, 2}, runs: []string{"a"}},
		{name: "UpToUnprocessed", upTo: 5, seq: 5, procs: []int64{1, 2}, runs: []string{"a"}, messages: []string{"m1"}},
		{name: "UpToMiddleOfAppend", upTo: 6, seq: 6, procs: []int64{1, 2}, messages: []string{"m1"}},
		{name: "UpToPastEnd", upTo: 99, seq: 9, procs: []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := projections.StateAt(context.Background(), v.log, tt.at, tt.upTo)
			if err != nil {
				t.Fatal(err)
			}
			var procs []int64
			for _, p := range st.Processes {
				procs = append(procs, p.ID)
			}
			var msgs []string
			for _, u := range st.Unprocessed {
				msgs = append(msgs, u.ID)
			}
			if st.Seq != tt.seq || !slices.Equal(procs, tt.procs) || !slices.Equal(runIDs(st.Runs), tt.runs) || !slices.Equal(msgs, tt.messages) {
				t.Errorf("StateAt = seq %d, processes %v, runs %v, unprocessed %v; want %d, %v, %v, %v",
					st.Seq, procs, runIDs(st.Runs), msgs, tt.seq, tt.procs, tt.runs, tt.messages)
			}
			if st.Processes == nil || st.Runs == nil || st.Unprocessed == nil {
				t.Errorf("StateAt has nil lists: %+v", st)
			}
			if tt.upTo != 0 {
				var last eventlog.Event
				for e := range v.log.Range(context.Background(), st.Seq, st.Seq) {
					last = *e
				}
				if !st.At.Equal(last.Time) {
					t.Errorf("At = %v, want the time of event %d, %v", st.At, st.Seq, last.Time)
				}
			} else if !st.At.Equal(tt.at) {
				t.Errorf("At = %v, want %v", st.At, tt.at)
			}
		})
	}
	t.Run("UnprocessedHasReport", func(t *testing.T) {
		st, err := projections.StateAt(context.Background(), v.log, at(2), 0)
		if err != nil || len(st.Unprocessed) != 1 {
			t.Fatalf("StateAt = %+v, %v", st, err)
		}
		if u := st.Unprocessed[0]; u.Seq != 4 || u.Line != "#id=9;state=OK;name=m1" || u.Reason != statesrv.ReasonUnknownProcess {
			t.Errorf("unprocessed = %+v", u)
		}
	})
}

// shortLog is a log whose LastSeq says it ends at last, so that a runner's
// CatchUp stops after the batch that reaches it.
type shortLog struct {
	eventlog.Log
	last uint64
}

func (l shortLog) LastSeq() uint64 { return l.last }

// dump is every view of a store and its runner, for comparisons.
type dump struct {
	Procs       []projections.ProcessState
	Runs        []statesrv.Run
	History     []statesrv.Run
	Unprocessed []statesrv.Unprocessed
	Events      map[int64][]uint64
}

func dumpRunner(t *testing.T, r *projections.Runner) dump {
	t.Helper()
	d := dumpStore(t, r.Store())
	r.View(func(c *projections.Core) { d.Procs, d.Runs = c.ProcessList(), c.AllOpenRuns() })
	return d
}

// dumpStore reads the stored views, the Core as stored included.
func dumpStore(t *testing.T, s *projections.Store) dump {
	t.Helper()
	c, err := s.LoadCore()
	if err != nil {
		t.Fatal(err)
	}
	d := dump{Procs: c.ProcessList(), Runs: c.AllOpenRuns(), Events: map[int64][]uint64{}}
	if d.History, err = s.History(projections.HistoryQuery{Limit: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if d.Unprocessed, err = s.Unprocessed(0, 1<<20); err != nil {
		t.Fatal(err)
	}
	for pid := int64(1); pid <= 9; pid++ {
		ranges, err := s.ProcessEvents(pid, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ranges {
			for seq := r.First; seq <= r.Last; seq++ {
				d.Events[pid] = append(d.Events[pid], seq)
			}
		}
	}
	return d
}

// sameJSON compares got and want by their JSON.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}
