package projections_test

import (
	"slices"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

func TestProcessEventsBefore(t *testing.T) {
	v := newViews(t)
	v.appendProcessEvents() // p1 has 1 | 3..5 | 7 | 9..10
	r := func(a, b uint64) projections.SeqRange { return projections.SeqRange{First: a, Last: b} }
	tests := []struct {
		name   string
		pid    int64
		before uint64
		limit  int
		want   []projections.SeqRange
	}{
		{name: "All", pid: 1, limit: 100, want: []projections.SeqRange{r(9, 10), r(7, 7), r(3, 5), r(1, 1)}},
		{name: "OtherProcess", pid: 2, limit: 100, want: []projections.SeqRange{r(8, 8), r(2, 2)}},
		{name: "NoEvents", pid: 3, limit: 100},
		{name: "BeforeRangeEnd", pid: 1, before: 10, limit: 100, want: []projections.SeqRange{r(9, 9), r(7, 7), r(3, 5), r(1, 1)}},
		{name: "BeforeMiddleOfRange", pid: 1, before: 5, limit: 100, want: []projections.SeqRange{r(3, 4), r(1, 1)}},
		{name: "BeforeOtherProcessEvent", pid: 1, before: 7, limit: 100, want: []projections.SeqRange{r(3, 5), r(1, 1)}},
		{name: "BeforeFirst", pid: 1, before: 1, limit: 100},
		{name: "LimitCutsRangeKeepingNewest", pid: 1, limit: 4, want: []projections.SeqRange{r(9, 10), r(7, 7), r(5, 5)}},
		{name: "LimitOne", pid: 1, before: 5, limit: 1, want: []projections.SeqRange{r(4, 4)}},
		{name: "LimitZero", pid: 1, limit: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.store.ProcessEventsBefore(tt.pid, tt.before, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ProcessEventsBefore(%d, before %d, limit %d) = %v, want %v", tt.pid, tt.before, tt.limit, got, tt.want)
			}
		})
	}
}

func TestRunStartSeq(t *testing.T) {
	v := newViews(t)
	v.append(defined(t0, 1))
	v.append(started(t0, 1, "r1"), closed(t0, 1, "r1", statesrv.StateOK))
	v.catchUp()
	v.append(started(t0, 1, "r2"))
	v.catchUp()
	for run, want := range map[string]uint64{"r1": 2, "r2": 4} {
		seq, ok, err := v.store.RunStartSeq(run)
		if err != nil || !ok || seq != want {
			t.Errorf("RunStartSeq(%s) = %d, %v, %v; want %d", run, seq, ok, err, want)
		}
	}
	if _, ok, err := v.store.RunStartSeq("nope"); ok || err != nil {
		t.Errorf("RunStartSeq(unknown) = ok %v, %v", ok, err)
	}
}
