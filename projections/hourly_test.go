package projections_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

func TestFinishedCounts(t *testing.T) {
	v := newViews(t)
	v.append(defined(t0, 1))
	// Runs finishing at 07:59, 08:00, 08:30 (two in one batch), 09:10 and
	// 10:00 sharp.
	ends := []struct {
		at    time.Time
		state string
	}{
		{t0.Add(-time.Minute), statesrv.StateOK},
		{t0, statesrv.StateFail},
		{t0.Add(30 * time.Minute), statesrv.StateOK},
		{t0.Add(30 * time.Minute), statesrv.StateOK},
		{t0.Add(70 * time.Minute), statesrv.StateTimeout},
		{t0.Add(2 * time.Hour), statesrv.StateFail},
	}
	for i := range ends {
		v.append(started(t0.Add(-2*time.Hour), 1, fmt.Sprintf("r%d", i)))
	}
	v.catchUp()
	for i, e := range ends {
		v.append(closed(e.at, 1, fmt.Sprintf("r%d", i), e.state))
		if i == 0 {
			v.catchUp() // the rest in one batch
		}
	}
	v.catchUp()

	cases := []struct {
		name     string
		from, to time.Time
		want     map[string]uint64
	}{
		{"WholeHoursAtBothEnds", t0.Add(15 * time.Minute), t0.Add(70 * time.Minute),
			map[string]uint64{"OK": 2, "FAIL": 1, "TIMEOUT": 1}},
		{"OneHour", t0.Add(-time.Second), t0.Add(-time.Second), map[string]uint64{"OK": 1}},
		{"Everything", t0.Add(-24 * time.Hour), t0.Add(24 * time.Hour),
			map[string]uint64{"OK": 3, "FAIL": 2, "TIMEOUT": 1}},
		{"NothingBefore", t0.Add(-24 * time.Hour), t0.Add(-2 * time.Hour), map[string]uint64{}},
		{"NothingAfter", t0.Add(3 * time.Hour), t0.Add(24 * time.Hour), map[string]uint64{}},
	}
	check := func(t *testing.T) {
		for _, c := range cases {
			got, err := v.store.FinishedCounts(c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, c.want) {
				t.Errorf("%s: counts = %v, want %v", c.name, got, c.want)
			}
		}
	}
	t.Run("OK", check)
	t.Run("RebuildGivesTheSame", func(t *testing.T) {
		if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
	t.Run("RestartKeepsThem", func(t *testing.T) {
		v.close()
		v.open()
		check(t)
	})
}

func TestUnprocessedBefore(t *testing.T) {
	v := newViews(t)
	for i := range 5 {
		v.append(unprocessed(t0.Add(time.Duration(i)*time.Minute), 9, fmt.Sprintf("m%d", i), statesrv.ReasonUnknownProcess)...)
	}
	v.append(dismissed(t0.Add(time.Hour), "m3"))
	v.catchUp()
	ids := func(us []statesrv.Unprocessed) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	first, err := v.store.UnprocessedBefore(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(first)); got != "[m4 m2]" {
		t.Fatalf("first page = %s, want [m4 m2]", got)
	}
	next, err := v.store.UnprocessedBefore(first[1].Seq, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(next)); got != "[m1 m0]" {
		t.Errorf("next page = %s, want [m1 m0]", got)
	}
	none, err := v.store.UnprocessedBefore(next[1].Seq, 10)
	if err != nil || len(none) != 0 {
		t.Errorf("after the oldest = %v, %v; want none", ids(none), err)
	}
}
