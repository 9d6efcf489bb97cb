package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/crontab"
)

func TestCronExport(t *testing.T) {
	s := MustOpenServer(t)
	inZone := func(p statesrv.Process, tz string) statesrv.Process { p.Timezone = tz; return p }
	named := func(p statesrv.Process, name string) statesrv.Process { p.Name = name; return p }
	byCron := func(p statesrv.Process) statesrv.Process { p.FiredBy = statesrv.FiredByCron; return p }
	disabled := scheduled(9, "0 3 * * *", time.Hour)
	disabled.Enabled = false
	for _, p := range []statesrv.Process{
		byCron(inZone(scheduled(1, "0 2 * * *", time.Hour), "Europe/Prague")),
		byCron(inZone(scheduled(2, "30  6 * * 1-5", time.Hour), "Europe/Prague")),
		byCron(scheduled(3, "@daily", time.Hour)),
		byCron(scheduled(4, "*/10 * * * * *", time.Hour)),
		byCron(inZone(scheduled(5, "0 */5 * * * *", time.Hour), "America/New_York")),
		byCron(scheduled(6, "@every 90s", time.Hour)),
		pushOnly(7, time.Hour),
		byCron(named(scheduled(8, "15 4 1 * ?", time.Hour), "50% done")),
		disabled,
		scheduled(10, "0 5 * * *", time.Hour),
	} {
		s.MustDefine(p)
	}
	// The list is read from the views, which follow the log.
	eventually(t, func() error {
		var procs []statesrv.Process
		if err := s.getJSON("/api/v1/processes", &procs); err != nil {
			return err
		}
		if len(procs) != 10 {
			return fmt.Errorf("%d processes listed, want 10", len(procs))
		}
		return nil
	})
	base := "http://" + s.HTTPAddr
	t.Setenv("STATESRV_API_TOKEN", testToken)

	t.Run("OK", func(t *testing.T) {
		res := runCLI("cron", "export", "--url", base, "--bin", "/usr/local/bin/statesrv")
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		cmd := "/usr/local/bin/statesrv start --url " + base
		want := []string{
			"CRON_TZ=Europe/Prague",
			"0 2 * * * " + cmd + " 1  # job1",
			"30 6 * * 1-5 " + cmd + " 2  # job2",
			"CRON_TZ=UTC",
			"0 0 * * * " + cmd + " 3  # job3",
			`# 4 job4: schedule "*/10 * * * * *" cannot be expressed in crontab (it has a seconds field)`,
			"CRON_TZ=America/New_York",
			"*/5 * * * * " + cmd + " 5  # job5",
			`# 6 job6: schedule "@every 90s" cannot be expressed in crontab (cron has no fixed interval)`,
			"# 7 job7: push-only (no schedule), skipped",
			"CRON_TZ=UTC",
			"15 4 1 * * " + cmd + ` 8  # 50\% done`,
			"# 9 job9: disabled, skipped",
			`# 10 job10: fired by the server, skipped (set "fired_by": "cron" to hand it to cron)`,
		}
		var got []string
		for line := range strings.Lines(res.stdout) {
			line = strings.TrimSuffix(line, "\n")
			if len(got) == 0 && strings.HasPrefix(line, "# ") && !strings.HasPrefix(line, "# 4 ") {
				continue // the header
			}
			got = append(got, line)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("crontab lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !strings.HasPrefix(res.stdout, "# statesrv: crontab exported from "+base+"\n") ||
			!strings.Contains(res.stdout, "STATESRV_API_TOKEN") {
			t.Errorf("header missing or incomplete:\n%s", res.stdout)
		}
	})

	t.Run("BinAndURLQuotedForTheShell", func(t *testing.T) {
		got := crontab.Export([]statesrv.Process{byCron(scheduled(1, "@hourly", time.Hour))}, "http://h/a%20b", "/opt/my tools/statesrv")
		want := `0 * * * * '/opt/my tools/statesrv' start --url http://h/a\%20b 1  # job1`
		if !strings.Contains(got, "\n"+want+"\n") {
			t.Errorf("crontab:\n%s\nwant the line %s", got, want)
		}
	})

	t.Run("CronFiredProcessesAreNotFiredByTheServer", func(t *testing.T) {
		s.clk.Advance(30 * time.Second) // three fire times of process 4's "*/10 * * * * *"
		// Make the clock's decisions for this instant here rather than wait
		// for the server's loop: decisions hold the Service's lock, so
		// whatever either makes is in the Service's open runs afterwards.
		if rc, _ := s.Service.Tick(); rc != nil {
			if _, err := rc.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range s.Service.OpenRuns() {
			if r.ProcessID == 4 {
				t.Fatalf("the server opened run %+v of a cron-fired process", r)
			}
		}
		if err := s.Runner.WaitFor(t.Context(), s.Log.LastSeq()); err != nil {
			t.Fatal(err)
		}
		var runs []statesrv.Run
		s.MustGet("/api/v1/runs", &runs)
		for _, r := range runs {
			if r.ProcessID == 4 {
				t.Fatalf("the server opened run %+v of a cron-fired process", r)
			}
		}
	})

	t.Run("ErrUnauthorized", func(t *testing.T) {
		t.Setenv("STATESRV_API_TOKEN", "wrong")
		if res := runCLI("cron", "export", "--url", base); res.code != 1 || !strings.Contains(res.stderr, "401") {
			t.Errorf("exit %d, stderr %q; want 1 and the status", res.code, res.stderr)
		}
	})

	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range [][]string{{"cron"}, {"cron", "import"}, {"cron", "export", "extra"}} {
			if res := runCLI(args...); res.code != 2 {
				t.Errorf("%q: exit %d, want 2", args, res.code)
			}
		}
	})
}

// TestCronExportTag: --tag keeps only the processes with the tag; a value
// that is no tag is a usage error.
func TestCronExportTag(t *testing.T) {
	s := MustOpenServer(t)
	for id, tags := range map[int64][]string{1: {"nightly", "db"}, 2: {"db"}, 3: nil} {
		p := scheduled(id, "0 2 * * *", time.Hour)
		p.FiredBy, p.Tags = statesrv.FiredByCron, tags
		s.MustDefine(p)
	}
	base := "http://" + s.HTTPAddr
	t.Setenv("STATESRV_API_TOKEN", testToken)
	eventually(t, func() error {
		var procs []statesrv.Process
		if err := s.getJSON("/api/v1/processes", &procs); err != nil || len(procs) != 3 {
			return fmt.Errorf("%d processes listed, want 3 (%v)", len(procs), err)
		}
		return nil
	})
	for tag, want := range map[string][]string{"nightly": {"1"}, "db": {"1", "2"}, "none": {}} {
		res := runCLI("cron", "export", "--url", base, "--tag", tag)
		if res.code != 0 {
			t.Fatalf("--tag %s: exit %d: %s", tag, res.code, res.stderr)
		}
		var got []string
		for _, line := range strings.Split(res.stdout, "\n") {
			if f := strings.Fields(line); len(f) > 9 && f[5] == "statesrv" {
				got = append(got, f[9])
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("--tag %s: lines for %v, want %v\n%s", tag, got, want, res.stdout)
		}
	}
	if res := runCLI("cron", "export", "--url", base, "--tag", "Bad Tag"); res.code != 2 || !strings.Contains(res.stderr, `"Bad Tag" is not a tag`) {
		t.Errorf("bad tag: exit %d, stderr %q", res.code, res.stderr)
	}
}
