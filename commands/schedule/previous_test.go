package schedule

import (
	"testing"
	"time"
)

func TestPrevious(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 1, 0, 0, time.UTC)
	tests := []struct {
		name, spec string
		within     time.Duration
		want       time.Time // zero: none
	}{
		{"EveryMinute", "* * * * *", 2 * time.Minute, at.Add(-time.Minute)},
		{"EveryMinuteExactlyWithin", "* * * * *", time.Minute, at.Add(-time.Minute)},
		{"EveryMinuteTooFarBack", "* * * * *", 59 * time.Second, time.Time{}},
		{"SecondsField", "*/10 * * * * *", time.Minute, at.Add(-10 * time.Second)},
		{"Hourly", "1 * * * *", 2 * time.Minute, time.Time{}},
		{"Every", "@every 45s", 2 * time.Minute, at.Add(-45 * time.Second)},
		{"EveryTooFarBack", "@every 45s", 30 * time.Second, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.spec, "UTC")
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.Previous(at, tt.within)
			if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
				t.Errorf("Previous = %v, %v; want %v", got, ok, tt.want)
			}
		})
	}
}
