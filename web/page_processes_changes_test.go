package web

import (
	"slices"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

func TestDiffProcess(t *testing.T) {
	old := statesrv.Process{ID: 25, Name: "backup", Schedule: "0 2 * * *", Timezone: "UTC",
		MaxRuntime: statesrv.Duration(time.Hour), Enabled: true, Key: statesrv.Ptr("k"),
		Alerts: statesrv.Alerts{Fail: []string{"mailto:a@example.com"}}}
	for _, tc := range []struct {
		name   string
		change func(p *statesrv.Process)
		want   []string
	}{
		{"ValueChanged", func(p *statesrv.Process) { p.Schedule = "0 3 * * *" }, []string{"schedule: 0 2 * * * → 0 3 * * *"}},
		{"ClearedShowsNone", func(p *statesrv.Process) { p.Alerts.Fail = nil }, []string{"alerts.fail: mailto:a@example.com → (none)"}},
		{"KeyOnlyChanged", func(p *statesrv.Process) { p.Key = statesrv.Ptr("other") }, []string{"key: changed"}},
		{"FiredByUnsetIsServer", func(p *statesrv.Process) { p.FiredBy = statesrv.FiredByCron }, []string{"fired_by: server → cron"}},
		{"RepeatFromZero", func(p *statesrv.Process) { p.RepeatEvery = statesrv.Duration(4 * time.Hour) }, []string{"repeat_every: 0s → 4h"}},
		{"WindowAdded", func(p *statesrv.Process) {
			p.Maintenance = []statesrv.Window{{Schedule: "@daily", Duration: statesrv.Duration(time.Hour)}}
		}, []string{"maintenance: (none) → @daily for 1h"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := old
			p.Alerts.Fail = slices.Clone(old.Alerts.Fail)
			tc.change(&p)
			if got := diffProcess(&old, &p); !slices.Equal(got, tc.want) {
				t.Errorf("diff %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("CreatedListsWhatIsSet", func(t *testing.T) {
		want := []string{"name: backup", "schedule: 0 2 * * *", "timezone: UTC", "max_runtime: 1h", "enabled: true",
			"key: set", "alerts.fail: mailto:a@example.com"}
		if got := diffProcess(nil, &old); !slices.Equal(got, want) {
			t.Errorf("diff %q, want %q", got, want)
		}
	})
}
