package textfmt

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    time.Duration
		want string
	}{
		{"Zero", 0, "0s"},
		{"Milliseconds", 350*time.Millisecond + 400*time.Microsecond, "350ms"},
		{"WholeSeconds", 45*time.Second + 300*time.Millisecond, "45s"},
		{"WholeHours", 2 * time.Hour, "2h"},
		{"HoursAndMinutes", 90 * time.Minute, "1h30m"},
		{"NoZeroMinutes", time.Hour + 30*time.Second, "1h30s"},
		{"Negative", -90 * time.Second, "-1m30s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Duration(tc.d); got != tc.want {
				t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestRough(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{45 * time.Second, "45s"},
		{59*time.Second + 600*time.Millisecond, "1m"},
		{12*time.Minute + 30*time.Second, "12m30s"},
		{time.Hour, "1h"},
		{3*time.Hour + 12*time.Minute + 20*time.Second, "3h12m"},
		{50 * time.Hour, "2d2h"},
		{72 * time.Hour, "3d"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := Rough(tc.d); got != tc.want {
				t.Errorf("Rough(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestGoDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{2 * time.Hour, "2h"},
		{90 * time.Minute, "1h30m"},
		{90 * time.Second, "1m30s"},
		{time.Hour + time.Second, "1h0m1s"},
		{45 * time.Second, "45s"},
		{10 * time.Minute, "10m"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			got := GoDuration(tc.d)
			if got != tc.want {
				t.Errorf("GoDuration(%v) = %q, want %q", tc.d, got, tc.want)
			}
			if back, err := time.ParseDuration(got); err != nil || back != tc.d {
				t.Errorf("time.ParseDuration(%q) = %v, %v; want %v", got, back, err, tc.d)
			}
		})
	}
}

func TestElapsed(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    time.Duration
		want string
	}{
		{"MillisecondsUnderAMinute", 1250*time.Millisecond + 400*time.Microsecond, "1.25s"},
		{"SecondsFromAMinute", 2*time.Minute + 3*time.Second + 400*time.Millisecond, "2m3s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Elapsed(tc.d); got != tc.want {
				t.Errorf("Elapsed(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}
