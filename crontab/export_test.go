package crontab_test

import (
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/crontab"
)

func TestExport(t *testing.T) {
	byCron := func(id int64, spec, tz string) statesrv.Process {
		return statesrv.Process{ID: id, Name: "job", Schedule: spec, Timezone: tz, Enabled: true, FiredBy: statesrv.FiredByCron}
	}
	t.Run("InOrderOfID", func(t *testing.T) {
		procs := []statesrv.Process{byCron(3, "@daily", "UTC"), byCron(1, "0 2 * * *", "UTC")}
		got := crontab.Export(procs, "http://h", "statesrv")
		if i, j := strings.Index(got, " 1  # job"), strings.Index(got, " 3  # job"); i < 0 || j < i {
			t.Errorf("lines out of order:\n%s", got)
		}
		if procs[0].ID != 3 {
			t.Error("the caller's slice was sorted")
		}
	})
	t.Run("NameOnOneLine", func(t *testing.T) {
		p := byCron(1, "0 2 * * *", "")
		p.Name = "a\nb"
		got := crontab.Export([]statesrv.Process{p}, "http://h", "statesrv")
		if !strings.Contains(got, "CRON_TZ=UTC\n0 2 * * * statesrv start --url http://h 1  # a b\n") {
			t.Errorf("crontab:\n%s", got)
		}
	})
	t.Run("SpecOfASecondsField", func(t *testing.T) {
		if spec, why := crontab.Spec(byCron(1, "0 */5 * * * ?", "UTC")); spec != "*/5 * * * *" || why != "" {
			t.Errorf("Spec = %q, %q", spec, why)
		}
	})
}
