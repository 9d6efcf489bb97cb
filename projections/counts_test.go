package projections_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

func TestCounts(t *testing.T) {
	v := newViews(t)
	v.append(defined(t0, 1))
	v.append(started(t0, 1, "a"), started(t0, 1, "b"), started(t0, 1, "c"))
	v.append(closed(t0.Add(time.Minute), 1, "a", statesrv.StateOK), closed(t0.Add(time.Minute), 1, "b", statesrv.StateFail))
	v.append(closed(t0.Add(2*time.Minute), 1, "c", statesrv.StateTimeout))
	var recs []eventlog.Record
	recs = append(recs, unprocessed(t0.Add(3*time.Minute), 9, "m1", statesrv.ReasonUnknownProcess)...)
	recs = append(recs, unprocessed(t0.Add(3*time.Minute), 9, "m2", statesrv.ReasonUnknownProcess)...)
	recs = append(recs, unprocessed(t0.Add(3*time.Minute), 9, "m3", statesrv.ReasonUnknownProcess)...)
	v.append(recs...)
	v.catchUp()
	// Dismissed from the store, twice in one batch; and added and dismissed
	// within one batch.
	v.append(dismissed(t0.Add(4*time.Minute), "m1"), dismissed(t0.Add(4*time.Minute), "m1"))
	v.append(unprocessed(t0.Add(5*time.Minute), 9, "m4", statesrv.ReasonUnknownProcess)...)
	v.append(dismissed(t0.Add(5*time.Minute), "m4"))
	v.catchUp()

	wantEvents := map[string]uint64{
		statesrv.EventProcessDefined: 1, statesrv.EventRunStarted: 3, statesrv.EventRunFinished: 2,
		statesrv.EventRunTimedOut: 1, statesrv.EventMessageReceived: 4, statesrv.EventMessageUnprocessed: 4,
		statesrv.EventMessageDismissed: 3,
	}
	wantFinished := map[string]uint64{statesrv.StateOK: 1, statesrv.StateFail: 1, statesrv.StateTimeout: 1}
	check := func(t *testing.T) {
		t.Helper()
		c := v.runner.Counts()
		if !maps.Equal(c.Events, wantEvents) {
			t.Errorf("Events = %v, want %v", c.Events, wantEvents)
		}
		if !maps.Equal(c.Finished, wantFinished) {
			t.Errorf("Finished = %v, want %v", c.Finished, wantFinished)
		}
		if c.Unprocessed != 2 {
			t.Errorf("Unprocessed = %d, want 2 (m2, m3)", c.Unprocessed)
		}
	}
	t.Run("OK", check)

	t.Run("RebuildCountsNothingTwice", func(t *testing.T) {
		if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t)
	})

	t.Run("RestartCountsUnprocessedFromStore", func(t *testing.T) {
		v.close()
		v.open()
		c := v.runner.Counts()
		if len(c.Events) != 0 || c.Unprocessed != 2 {
			t.Errorf("after a restart: Events %v, Unprocessed %d; want none and 2", c.Events, c.Unprocessed)
		}
		v.append(closed(t0.Add(6*time.Minute), 1, "zz", statesrv.StateOK)) // closes nothing
		v.catchUp()
		if got := v.runner.Counts().Events[statesrv.EventRunFinished]; got != 1 {
			t.Errorf("RunFinished after restart = %d, want 1", got)
		}
	})
}
