package commands_test

import (
	"slices"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// TestSoonestFires checks that the next runs due are the scheduler's own
// fire times: soonest first, only processes it fires itself.
func TestSoonestFires(t *testing.T) {
	s := newServer(t)
	for _, p := range []statesrv.Process{
		{ID: 1, Name: "daily", Schedule: "0 9 * * *", Enabled: true},      // 09:00
		{ID: 2, Name: "quarter", Schedule: "*/15 * * * *", Enabled: true}, // 08:15
		{ID: 3, Name: "same time", Schedule: "15 8 * * *", Enabled: true}, // 08:15 too
		{ID: 4, Name: "off", Schedule: "1 8 * * *", Enabled: false},       // disabled
		{ID: 5, Name: "by cron", Schedule: "2 8 * * *", Enabled: true, FiredBy: statesrv.FiredByCron},
		{ID: 6, Name: "push", Enabled: true},                                                      // no schedule
		{ID: 7, Name: "prague", Schedule: "0 10 * * *", Timezone: "Europe/Prague", Enabled: true}, // 09:00 UTC
	} {
		s.MustDefine(p)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	want := []commands.Fire{{2, at(8, 15)}, {3, at(8, 15)}, {1, at(9, 0)}, {7, at(9, 0)}}
	if got := s.Service.SoonestFires(10); !slices.Equal(got, want) {
		t.Fatalf("SoonestFires(10) = %v, want %v", got, want)
	}
	if got := s.Service.SoonestFires(3); !slices.Equal(got, want[:3]) {
		t.Fatalf("SoonestFires(3) = %v, want %v", got, want[:3])
	}
	// Once 08:15 has fired, those processes wait for their next times.
	s.clock.Advance(16 * time.Minute)
	s.Tick()
	want = []commands.Fire{{2, at(8, 30)}, {1, at(9, 0)}, {7, at(9, 0)}}
	if got := s.Service.SoonestFires(3); !slices.Equal(got, want) {
		t.Fatalf("after 08:15 SoonestFires(3) = %v, want %v", got, want)
	}
}
