package projections_test

import (
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

// TestBatchTime checks that a time bound splits a catch-up into many
// batches, never between a report and its decision, and leaves the views
// as one batch would; a rebuild ignores the bound.
func TestBatchTime(t *testing.T) {
	v := newViews(t)
	const reports = 300
	for i := range reports {
		v.append(unprocessed(t0, 1, "m"+string(rune('a'+i%26)), statesrv.ReasonUnknownProcess)...)
	}
	// A snapshot after every batch makes the batches countable.
	v.reopen(projections.BatchTime(time.Nanosecond), projections.SnapshotEvery(1))
	v.catchUp()
	batches := len(snapshots(t, v.store))
	if batches < 2*reports/64-1 {
		t.Fatalf("%d batches for %d events, want one about every 64 events", batches, 2*reports)
	}
	for _, seq := range snapshots(t, v.store) {
		if seq < 0 || seq%2 != 0 {
			t.Fatalf("a batch ended at seq %d, between a report and its decision", seq)
		}
	}
	got, err := v.store.Unprocessed(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != reports || v.runner.Unprocessed() != reports {
		t.Fatalf("%d unprocessed messages stored, %d counted, want %d", len(got), v.runner.Unprocessed(), reports)
	}
	for _, u := range got {
		if u.Line == "" || u.Remote == "" {
			t.Fatalf("message %+v lost its report's details", u)
		}
	}

	if _, _, err := v.runner.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(snapshots(t, v.store)); n != 1 {
		t.Fatalf("a rebuild wrote %d batches, want one", n)
	}
}
