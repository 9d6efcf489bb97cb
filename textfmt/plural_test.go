package textfmt

import "testing"

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		name string
		got  string
		want string
	}{
		{"Zero", Count(0, "run", "runs"), "0 runs"},
		{"One", Count(1, "run", "runs"), "1 run"},
		{"Two", Count(2, "run", "runs"), "2 runs"},
		{"Uint64", Count(uint64(1), "event", "events"), "1 event"},
		{"Negative", Count(int64(-1), "run", "runs"), "-1 runs"},
		{"Irregular", Count(3, "process", "processes"), "3 processes"},
		{"NounAlone", Noun(1, "run", "runs") + "/" + Noun(uint64(5), "run", "runs"), "run/runs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
