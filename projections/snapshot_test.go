package projections_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// reopen closes the store and opens it again with a runner made with opts.
func (v *views) reopen(opts ...projections.RunnerOption) {
	v.t.Helper()
	v.close()
	store, err := projections.OpenStore(v.dir, nil)
	if err != nil {
		v.t.Fatalf("open store: %v", err)
	}
	v.store = store
	if v.runner, err = projections.NewRunner(v.log, store, nil, opts...); err != nil {
		v.t.Fatalf("new runner: %v", err)
	}
}

// snapshots returns the seqs of the stored snapshots, the partial ones
// negated.
func snapshots(t testing.TB, s *projections.Store) []int64 {
	t.Helper()
	list, err := s.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, i := range list {
		if i.Complete {
			out = append(out, int64(i.Seq))
		} else {
			out = append(out, -int64(i.Seq))
		}
	}
	return out
}

// sameState checks that the snapshot StateAt equals the pure one, by JSON.
func sameState(t interface {
	Helper()
	Fatalf(string, ...any)
}, l eventlog.Log, s *projections.Store, at time.Time, upTo uint64) {
	t.Helper()
	want, err := projections.StateAt(context.Background(), l, at, upTo)
	if err != nil {
		t.Fatalf("StateAt(%s, %d): %v", at.Format(time.RFC3339Nano), upTo, err)
	}
	got, err := s.StateAt(context.Background(), l, at, upTo)
	if err != nil {
		t.Fatalf("Store.StateAt(%s, %d): %v", at.Format(time.RFC3339Nano), upTo, err)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("Store.StateAt(%s, %d):\n got  %s\n want %s", at.Format(time.RFC3339Nano), upTo, g, w)
	}
}

func TestSnapshots(t *testing.T) {
	v := newViews(t)
	v.reopen(projections.SnapshotEvery(4))
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	v.append(defined(at(0), 1), defined(at(0), 2))                                                  // 1, 2
	v.append(started(at(1), 1, "a"))                                                                // 3
	v.catchUp()                                                                                     // 3: no snapshot yet
	v.append(unprocessed(at(2), 9, "m1", statesrv.ReasonUnknownProcess)...)                         // 4, 5
	v.catchUp()                                                                                     // snapshot at 5
	v.append(closed(at(3), 1, "a", statesrv.StateOK), started(at(3), 2, "b"))                       // 6, 7
	v.append(dismissed(at(4), "m1"))                                                                // 8
	v.catchUp()                                                                                     // snapshot at 8
	v.append(rec(at(5), statesrv.EventProcessDeleted, 2, &statesrv.ProcessDeletedData{}))           // 9
	v.append(unprocessed(at(6), 1, "m2", statesrv.ReasonNoOpenRun)...)                              // 10, 11
	v.append(started(at(7), 1, "c"), unprocessed(at(7), 9, "m3", statesrv.ReasonUnknownProcess)[0]) // 12, 13
	v.catchUp()                                                                                     // the batch ends on a report without its decision: no snapshot yet
	if got := snapshots(t, v.store); !slices.Equal(got, []int64{5, 8}) {
		t.Fatalf("snapshots at %v, want [5 8]", got)
	}
	v.append(unprocessed(at(7), 9, "m3", statesrv.ReasonUnknownProcess)[1]) // 14
	v.catchUp()                                                             // snapshot at 14
	want := []int64{5, 8, 14}
	if got := snapshots(t, v.store); !slices.Equal(got, want) {
		t.Fatalf("snapshots at %v, want %v", got, want)
	}
	check := func(t *testing.T) {
		for seq := uint64(1); seq <= v.log.LastSeq()+1; seq++ {
			sameState(t, v.log, v.store, time.Time{}, seq)
		}
		for m := -1; m <= 8; m++ {
			for _, d := range []time.Duration{-time.Nanosecond, 0, time.Second} {
				sameState(t, v.log, v.store, at(m).Add(d), 0)
			}
		}
	}
	t.Run("SameAsReplay", check)

	t.Run("Drop", func(t *testing.T) {
		if err := v.store.Drop(); err != nil {
			t.Fatal(err)
		}
		if got := snapshots(t, v.store); len(got) != 0 {
			t.Fatalf("snapshots after Drop: %v", got)
		}
		check(t) // falls back to the replay
	})
	t.Run("Rebuild", func(t *testing.T) {
		v.reopen(projections.SnapshotEvery(4))
		if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		// One batch: one snapshot at its end.
		if got := snapshots(t, v.store); !slices.Equal(got, []int64{14}) {
			t.Fatalf("snapshots after Rebuild at %v, want [14]", got)
		}
		check(t)
	})
	t.Run("Restart", func(t *testing.T) {
		v.append(defined(at(8), 3)) // 15
		v.append(started(at(8), 3, "d"), started(at(8), 3, "e"))
		v.reopen(projections.SnapshotEvery(4))
		v.catchUp()
		if got := snapshots(t, v.store); !slices.Equal(got, []int64{14, 17}) {
			t.Fatalf("snapshots after the restart at %v, want [14 17]", got)
		}
		check(t)
	})
	t.Run("Partial", func(t *testing.T) {
		// Two messages open at the snapshot, one allowed: it is partial,
		// and a request past it uses the one before.
		v.reopen(projections.SnapshotEvery(4), projections.SnapshotUnprocessed(1))
		v.append(unprocessed(at(9), 9, "m4", statesrv.ReasonUnknownProcess)...) // 18, 19
		v.append(unprocessed(at(9), 9, "m5", statesrv.ReasonUnknownProcess)...) // 20, 21
		v.catchUp()
		if got := snapshots(t, v.store); !slices.Equal(got, []int64{14, 17, -21}) {
			t.Fatalf("snapshots at %v, want [14 17 -21]", got)
		}
		check(t)
		st, err := v.store.StateAt(context.Background(), v.log, time.Time{}, 21)
		if err != nil || len(st.Unprocessed) != 4 {
			t.Errorf("StateAt(21) = %d messages, %v; want m2, m3, m4, m5", len(st.Unprocessed), err)
		}
	})
}

// TestSnapshotsClockBack has a clock step back between snapshots: a
// moment before the step must not start from a snapshot after events
// stamped later than it.
func TestSnapshotsClockBack(t *testing.T) {
	v := newViews(t)
	v.reopen(projections.SnapshotEvery(2))
	v.append(defined(t0, 1), defined(t0, 2))                                       // 1, 2
	v.catchUp()                                                                    // snapshot at 2
	v.append(started(t0.Add(time.Hour), 1, "a"))                                   // 3
	v.append(started(t0.Add(time.Minute), 2, "b"))                                 // 4: the clock stepped back
	v.catchUp()                                                                    // snapshot at 4
	v.append(defined(t0.Add(2*time.Minute), 3), defined(t0.Add(2*time.Minute), 4)) // 5, 6
	v.catchUp()                                                                    // snapshot at 6
	for m := -1; m <= 70; m++ {
		sameState(t, v.log, v.store, t0.Add(time.Duration(m)*time.Minute), 0)
	}
}

// TestSnapshotStateAtEqualsReplay appends random events (reports, runs,
// messages and their dismissal, deletions, a clock that sometimes steps
// back) with runners that catch up, restart and rebuild at random, and
// checks that the snapshot StateAt equals the replay at every seq and at
// every event time.
func TestSnapshotStateAtEqualsReplay(t *testing.T) {
	// Each check opens two Badger databases: fewer checks than rapid's
	// default 100 unless -rapid.checks or RAPID_CHECKS asks.
	chosen := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { chosen = chosen || f.Name == "rapid.checks" })
	if f := flag.Lookup("rapid.checks"); f != nil && !chosen {
		old := f.Value.String()
		f.Value.Set("30")
		t.Cleanup(func() { f.Value.Set(old) })
	}
	base := t.TempDir()
	checks := 0
	rapid.Check(t, func(rt *rapid.T) {
		checks++
		dir := fmt.Sprintf("%s/%d", base, checks)
		l, err := eventlog.OpenBadger(eventlog.Options{Dir: dir + "/log", MinFreeBytes: -1})
		if err != nil {
			rt.Fatalf("open log: %v", err)
		}
		defer l.Close()
		opts := []projections.RunnerOption{
			projections.SnapshotEvery(uint64(rapid.IntRange(1, 8).Draw(rt, "every"))),
			projections.SnapshotUnprocessed(rapid.IntRange(0, 4).Draw(rt, "cap")),
		}
		var store *projections.Store
		var runner *projections.Runner
		open := func() {
			if store, err = projections.OpenStore(dir+"/views", nil); err != nil {
				rt.Fatalf("open store: %v", err)
			}
			if runner, err = projections.NewRunner(l, store, nil, opts...); err != nil {
				rt.Fatalf("new runner: %v", err)
			}
		}
		open()
		defer func() { store.Close() }()
		g := &randomLog{rt: rt, now: t0}
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			switch rapid.SampledFrom([]string{"append", "append", "append", "catchup", "restart", "rebuild"}).Draw(rt, "action") {
			case "append":
				if _, err := eventlog.Append(context.Background(), l, g.records()...); err != nil {
					rt.Fatalf("append: %v", err)
				}
			case "catchup":
				if _, err := runner.CatchUp(context.Background()); err != nil {
					rt.Fatalf("catch-up: %v", err)
				}
			case "restart":
				store.Close()
				open()
			case "rebuild":
				if _, _, err := runner.Rebuild(context.Background()); err != nil {
					rt.Fatalf("rebuild: %v", err)
				}
			}
		}
		if _, err := runner.CatchUp(context.Background()); err != nil {
			rt.Fatalf("catch-up: %v", err)
		}
		last := l.LastSeq()
		for seq := uint64(1); seq <= last+1; seq++ {
			sameState(rt, l, store, time.Time{}, seq)
		}
		times := []time.Time{t0.Add(-time.Hour)}
		for e := range l.Range(context.Background(), 1, 0) {
			times = append(times, e.Time, e.Time.Add(-time.Nanosecond))
		}
		for _, at := range times {
			sameState(rt, l, store, at, 0)
		}
	})
}

// randomLog draws the events of one append at a time.
type randomLog struct {
	rt   *rapid.T
	now  time.Time
	n    int
	open []openRun
	msgs []string
}

type openRun struct {
	id  string
	pid int64
}

func (g *randomLog) records() []eventlog.Record {
	rt := g.rt
	g.now = g.now.Add(time.Duration(rapid.IntRange(-30, 120).Draw(rt, "step_s")) * time.Second)
	at := g.now
	pid := int64(rapid.IntRange(1, 3).Draw(rt, "pid"))
	g.n++
	id := fmt.Sprintf("x%03d", g.n)
	switch rapid.SampledFrom([]string{"define", "start", "close", "report", "reject", "dismiss", "delete"}).Draw(rt, "event") {
	case "define":
		return []eventlog.Record{defined(at, pid)}
	case "start":
		g.open = append(g.open, openRun{id, pid})
		return []eventlog.Record{started(at, pid, id)}
	case "close":
		if len(g.open) == 0 {
			return []eventlog.Record{defined(at, pid)}
		}
		i := rapid.IntRange(0, len(g.open)-1).Draw(rt, "run")
		r := g.open[i]
		g.open = slices.Delete(g.open, i, i+1)
		state := rapid.SampledFrom([]string{statesrv.StateOK, statesrv.StateFail, statesrv.StateTimeout}).Draw(rt, "state")
		return []eventlog.Record{closed(at, r.pid, r.id, state)}
	case "report":
		g.msgs = append(g.msgs, id)
		return unprocessed(at, pid, id, rapid.SampledFrom([]string{statesrv.ReasonNoOpenRun, statesrv.ReasonUnknownProcess}).Draw(rt, "reason"))
	case "reject":
		g.msgs = append(g.msgs, id)
		return []eventlog.Record{rec(at, statesrv.EventMessageRejected, 0, &statesrv.MessageRejectedData{MessageID: id,
			Remote: "10.0.0.5:4000", Line: "junk", Reason: statesrv.ReasonMalformed})}
	case "dismiss":
		if len(g.msgs) == 0 {
			return []eventlog.Record{dismissed(at, "none")}
		}
		return []eventlog.Record{dismissed(at, rapid.SampledFrom(g.msgs).Draw(rt, "message"))}
	default:
		g.open = slices.DeleteFunc(g.open, func(r openRun) bool { return r.pid == pid })
		return []eventlog.Record{rec(at, statesrv.EventProcessDeleted, pid, &statesrv.ProcessDeletedData{})}
	}
}
