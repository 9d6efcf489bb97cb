package importer_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/importer"
)

const jobs = "CRON_TZ=Europe/Prague\n*/5 * * * * /usr/bin/poll\n@reboot /usr/bin/agent\n0 3 * * * /usr/bin/nightly\n"

// ids returns the ids of the proposals.
func ids(res importer.Result) []int64 {
	var out []int64
	for _, p := range res.Proposals {
		out = append(out, p.ID)
	}
	return out
}

func TestPropose(t *testing.T) {
	opt := importer.Options{Name: "crontab", MaxRuntime: time.Hour}

	t.Run("OK", func(t *testing.T) {
		res, err := importer.Propose(importer.Crontab, []byte(jobs), opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res); !slices.Equal(got, []int64{importer.DefaultStartID, importer.DefaultStartID + 1}) {
			t.Errorf("ids %v, want two from %d", got, importer.DefaultStartID)
		}
		p := res.Proposals[0]
		if p.Name != "poll" || p.Timezone != "Europe/Prague" || time.Duration(p.MaxRuntime) != time.Hour ||
			p.From != "line 2: */5 * * * * /usr/bin/poll" {
			t.Errorf("first proposal %+v", p)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "line 3: not mapped, @reboot") {
			t.Errorf("warnings %q, want the @reboot line's", res.Warnings)
		}
	})

	t.Run("DefinedLeftOutAndCountedPast", func(t *testing.T) {
		defined := []statesrv.Process{
			{ID: 7, Name: "poll", Description: "/usr/bin/poll", Schedule: "*/5 * * * *", Timezone: "Europe/Prague"},
			{ID: 40, Name: "other"},
		}
		o := opt
		o.Defined = func() ([]statesrv.Process, error) { return defined, nil }
		res, err := importer.Propose(importer.Crontab, []byte(jobs), o)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res); !slices.Equal(got, []int64{41}) || res.Proposals[0].Name != "nightly" {
			t.Errorf("proposals %+v, want nightly as 41", res.Proposals)
		}
		if !slices.ContainsFunc(res.Warnings, func(w string) bool {
			return strings.HasSuffix(w, "already defined as process 7 (poll), left out")
		}) {
			t.Errorf("warnings %q", res.Warnings)
		}
		if len(res.Defined) != 2 {
			t.Errorf("Defined %+v, want the server's two", res.Defined)
		}
		if len(res.Known) != 1 || res.Known[0].ID != 7 || res.Known[0].Line != 2 || res.Proposals[0].Line != 4 {
			t.Errorf("Known %+v, want line 2 as process 7; proposals %+v", res.Known, res.Proposals)
		}
	})

	t.Run("EmptyServerCountsFromOne", func(t *testing.T) {
		o := opt
		o.Defined = func() ([]statesrv.Process, error) { return nil, nil }
		res, err := importer.Propose(importer.Crontab, []byte(jobs), o)
		if err != nil || !slices.Equal(ids(res), []int64{1, 2}) {
			t.Errorf("ids %v, %v; want 1, 2", ids(res), err)
		}
	})

	t.Run("StartID", func(t *testing.T) {
		o := opt
		o.StartID = 5
		o.Defined = func() ([]statesrv.Process, error) { return []statesrv.Process{{ID: 40}}, nil }
		res, err := importer.Propose(importer.Crontab, []byte(jobs), o)
		if err != nil || !slices.Equal(ids(res), []int64{5, 6}) {
			t.Errorf("ids %v, %v; want 5, 6", ids(res), err)
		}
	})

	t.Run("InvalidLeftOut", func(t *testing.T) {
		o := opt
		o.MaxRuntime = time.Millisecond
		res, err := importer.Propose(importer.Crontab, []byte(jobs), o)
		if err != nil || len(res.Proposals) != 0 {
			t.Fatalf("proposals %+v, %v; want none", res.Proposals, err)
		}
		if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "max_runtime: at least 1s, left out") }) {
			t.Errorf("warnings %q", res.Warnings)
		}
	})

	t.Run("DefaultZoneWarned", func(t *testing.T) {
		res, err := importer.Propose(importer.Crontab, []byte("@daily /bin/true\n"), opt)
		if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "read in UTC") {
			t.Errorf("warnings %q, %v", res.Warnings, err)
		}
	})

	t.Run("ErrSourceNamed", func(t *testing.T) {
		o := opt
		o.Name = "tasks.xml"
		o.Defined = func() ([]statesrv.Process, error) {
			t.Error("the server was asked about a source that does not read")
			return nil, nil
		}
		_, err := importer.Propose(importer.Schtasks, []byte("<Tasks></Tasks>"), o)
		if err == nil || !strings.HasPrefix(err.Error(), "tasks.xml: ") || !strings.Contains(err.Error(), "no <Task> element") {
			t.Errorf("error %v, want it to name tasks.xml", err)
		}
	})

	t.Run("ErrDefined", func(t *testing.T) {
		down := errors.New("server down")
		o := opt
		o.Defined = func() ([]statesrv.Process, error) { return nil, down }
		if _, err := importer.Propose(importer.Crontab, []byte(jobs), o); !errors.Is(err, down) {
			t.Errorf("error %v, want the server's", err)
		}
	})

	t.Run("ErrUnknownSource", func(t *testing.T) {
		if _, err := importer.Propose("launchd", nil, opt); err == nil {
			t.Error("no error")
		}
	})
}
