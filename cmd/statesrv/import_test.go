package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/document"
)

// userCrontab is a user crontab as found on real machines.
const userCrontab = `# Edit this file to introduce tasks to be run by cron.
# m h  dom mon dow   command
MAILTO=ops@example.com
SHELL=/bin/bash

*/5 * * * * /usr/local/bin/poll-queue --fast >/dev/null 2>&1
0 2 * * * cd /srv/app && ./backup.sh > /var/log/backup-$(date +\%F).log 2>&1
@daily   /usr/bin/logrotate /etc/logrotate.conf
@reboot  /usr/local/bin/start-agent
15 8-18/2 * * mon-fri PATH=/opt/bin:/usr/bin report.py "daily; summary"
CRON_TZ=Europe/Prague
30 6 1,15 * * mail -s "statement" accounts@example.com%Statements are ready.%
TZ="America/New_York"
0 0 * * 7   /home/ops/weekly.sh
61 * * * * /bin/broken
this is not a cron line at all
* * * *
`

// systemCrontab is /etc/crontab or a file of /etc/cron.d.
const systemCrontab = `SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
# m h dom mon dow user	command
17 *	* * *	root    cd / && run-parts --report /etc/cron.hourly
25 6	* * *	root	test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )
30 3 * * 1 backup [ -x /usr/lib/backup/run ] && /usr/lib/backup/run --weekly
0 4 * * *
`

// importDoc runs an import and reads back the document it prints.
func importDoc(t *testing.T, args ...string) ([]statesrv.Process, string) {
	t.Helper()
	res := mustCLI(t, 0, args...)
	procs, err := document.Read(strings.NewReader(res.stdout), "out.yaml")
	if err != nil {
		t.Fatalf("the import's document does not read back: %v\n%s", err, res.stdout)
	}
	if problems := document.Validate(procs); len(problems) > 0 {
		t.Fatalf("the import's document is not valid: %v", problems)
	}
	return procs, res.stderr
}

// proposed is a proposal as a test expects it.
func proposed(id int64, name, desc, sched, tz string, maxRuntime time.Duration) statesrv.Process {
	p := statesrv.Process{ID: id, Name: name, Description: desc, Schedule: sched, Timezone: tz,
		MaxRuntime: statesrv.Duration(maxRuntime), Enabled: true}
	if err := commands.NormalizeProcess(&p); err != nil {
		panic(err)
	}
	return p
}

func TestImportCrontab(t *testing.T) {
	t.Run("UserFormat", func(t *testing.T) {
		file := writeFile(t, "crontab", userCrontab)
		procs, stderr := importDoc(t, "import", "crontab", file, "--max-runtime", "30m")
		m := 30 * time.Minute
		want := []statesrv.Process{
			proposed(1000, "poll-queue", "/usr/local/bin/poll-queue --fast >/dev/null 2>&1", "*/5 * * * *", "UTC", m),
			proposed(1001, "backup.sh", `cd /srv/app && ./backup.sh > /var/log/backup-$(date +\%F).log 2>&1`, "0 2 * * *", "UTC", m),
			proposed(1002, "logrotate", "/usr/bin/logrotate /etc/logrotate.conf", "@daily", "UTC", m),
			proposed(1003, "report.py", `PATH=/opt/bin:/usr/bin report.py "daily; summary"`, "15 8-18/2 * * mon-fri", "UTC", m),
			proposed(1004, "mail", `mail -s "statement" accounts@example.com%Statements are ready.%`, "30 6 1,15 * *", "Europe/Prague", m),
			proposed(1005, "weekly.sh", "/home/ops/weekly.sh", "0 0 * * 0", "America/New_York", m),
		}
		if !reflect.DeepEqual(procs, want) {
			t.Errorf("proposals:\n%+v\nwant:\n%+v", procs, want)
		}
		for _, w := range []string{
			file + ": line 9: not mapped, @reboot runs at boot, which no schedule expresses: @reboot  /usr/local/bin/start-agent\n",
			file + `: line 15: not mapped, bad schedule "61 * * * *": minute field "61"`,
			file + `: line 16: not mapped, bad schedule "this is not a cron": minute field "this"`,
			file + ": line 17: not mapped, fewer than five time fields: * * * *\n",
			file + ": times that name no zone were read in UTC",
		} {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr)
			}
		}
		if n := strings.Count(stderr, "\n"+file+": ") + 1; n != 5 || !strings.HasPrefix(stderr, file+": ") {
			t.Errorf("%d warnings, want 5:\n%s", n, stderr)
		}
		if !strings.HasSuffix(stderr, "\nstatesrv import: the imported jobs must report through \"statesrv exec\", or each of their runs "+
			"times out: add --out NEW to write the crontab rewritten to run them so\n") {
			t.Errorf("stderr does not end saying how to wrap the jobs:\n%s", stderr)
		}
	})

	t.Run("Timezone", func(t *testing.T) {
		file := writeFile(t, "crontab", userCrontab)
		procs, stderr := importDoc(t, "import", "crontab", "--timezone", "Europe/Berlin", "--start-id", "7", file)
		if procs[0].ID != 7 || procs[0].Timezone != "Europe/Berlin" || procs[4].Timezone != "Europe/Prague" {
			t.Errorf("proposals: %+v", procs)
		}
		if time.Duration(procs[0].MaxRuntime) != time.Hour {
			t.Errorf("max_runtime %v, want the default 1h", procs[0].MaxRuntime)
		}
		if strings.Contains(stderr, "UTC") {
			t.Errorf("UTC warning with --timezone:\n%s", stderr)
		}
		mustCLI(t, 2, "import", "crontab", "--timezone", "Local", file)
	})

	t.Run("SystemFormat", func(t *testing.T) {
		file := writeFile(t, "crontab", systemCrontab)
		procs, stderr := importDoc(t, "import", "crontab", "--system", "--timezone", "UTC", file)
		want := []statesrv.Process{
			proposed(1000, "run-parts", "cd / && run-parts --report /etc/cron.hourly", "17 * * * *", "UTC", time.Hour),
			proposed(1001, "run-parts", "test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )", "25 6 * * *", "UTC", time.Hour),
			proposed(1002, "run", "[ -x /usr/lib/backup/run ] && /usr/lib/backup/run --weekly", "30 3 * * 1", "UTC", time.Hour),
		}
		if !reflect.DeepEqual(procs, want) {
			t.Errorf("proposals:\n%+v\nwant:\n%+v", procs, want)
		}
		if !strings.Contains(stderr, "line 7: not mapped, no user field (system crontab format): 0 4 * * *") {
			t.Errorf("stderr:\n%s", stderr)
		}
		// Read as a user crontab, the user becomes the command's name.
		procs, _ = importDoc(t, "import", "crontab", "--timezone", "UTC", file)
		if procs[0].Name != "root" {
			t.Errorf("user format: name %q", procs[0].Name)
		}
	})

	t.Run("CommentNamesTheLine", func(t *testing.T) {
		res := mustCLI(t, 0, "import", "crontab", writeFile(t, "crontab", "@hourly /bin/true\n"))
		if !strings.Contains(res.stdout, "  # line 1: @hourly /bin/true\n  - id: 1000\n    name: \"true\"\n") {
			t.Errorf("stdout:\n%s", res.stdout)
		}
	})
}

func TestImportCrontabApply(t *testing.T) {
	s, base := onboardServer(t)
	file := writeFile(t, "crontab", "CRON_TZ=Europe/Prague\n*/5 * * * * /usr/bin/poll\n@reboot /usr/bin/agent\n0 3 * * * /usr/bin/nightly\n")

	before := s.eventCount()
	res := mustCLI(t, 0, "import", "crontab", file, "--apply", "--url", base)
	if res.stdout != "+ 31 poll\n+ 32 nightly\n2 to create, 0 to change, 0 to delete\n"+
		"3 definitions on the server are not in the document and are kept (--prune deletes them)\n"+
		"nothing applied: re-run with --yes to apply\n" {
		t.Errorf("plan:\n%s", res.stdout)
	}
	if !strings.Contains(res.stderr, "line 3: not mapped, @reboot") {
		t.Errorf("stderr:\n%s", res.stderr)
	}
	if n := s.eventCount(); n != before {
		t.Errorf("%d events appended without --yes", n-before)
	}

	res = mustCLI(t, 0, "import", "crontab", file, "--apply", "--url", base, "--yes")
	if !strings.Contains(res.stdout, "applied: 2 created, 0 changed, 0 deleted\n") {
		t.Errorf("stdout:\n%s", res.stdout)
	}
	var p statesrv.Process
	s.MustGet("/api/v1/processes/31", &p)
	if p.Schedule != "*/5 * * * *" || p.Timezone != "Europe/Prague" || p.Description != "/usr/bin/poll" {
		t.Errorf("process 31: %+v", p)
	}

	// Again: the server has these jobs, so nothing is proposed.
	count := s.eventCount()
	res = mustCLI(t, 0, "import", "crontab", file, "--apply", "--url", base, "--yes")
	if !strings.HasPrefix(res.stdout, "0 to create, 0 to change, 0 to delete\n") {
		t.Errorf("second import:\n%s", res.stdout)
	}
	if !strings.Contains(res.stderr, "already defined as process 31 (poll), left out") {
		t.Errorf("stderr:\n%s", res.stderr)
	}
	if n := s.eventCount(); n != count {
		t.Errorf("second import appended %d events", n-count)
	}

	// An explicit id the server has is refused, not overwritten.
	other := writeFile(t, "crontab", "0 1 * * * /usr/bin/other\n")
	res = mustCLI(t, 1, "import", "crontab", other, "--apply", "--url", base, "--yes", "--start-id", "25")
	if !strings.Contains(res.stderr, "process 25 exists on the server") {
		t.Errorf("stderr:\n%s", res.stderr)
	}
	mustCLI(t, 2, "import", "crontab", other, "--apply")
}

func TestImportSchtasks(t *testing.T) {
	t.Run("Daily", func(t *testing.T) {
		procs, stderr := importDoc(t, "import", "schtasks", "testdata/schtasks-daily.xml", "--timezone", "Europe/Prague")
		want := []statesrv.Process{proposed(1000, "JajaBackupData", `"C:\Program Files\Jaja\backup.exe" /data D:\Data /full`,
			"0 2 * * *", "Europe/Prague", 2*time.Hour)}
		if !reflect.DeepEqual(procs, want) {
			t.Errorf("proposals:\n%+v\nwant:\n%+v", procs, want)
		}
		// Nothing to warn of; only how to wrap the task's action.
		if want := "statesrv import: each task's action must run through \"statesrv exec\", or each of its runs times out. " +
			"Once the definitions are applied, change the actions (program, then arguments; a task with several actions: each):\n" +
			`  task \Backup\JajaBackupData, process 1000: statesrv   exec --id 1000 -- "C:\Program Files\Jaja\backup.exe" /data D:\Data /full` + "\n"; stderr != want {
			t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
		}
	})

	t.Run("UTF16", func(t *testing.T) {
		raw, err := os.ReadFile("testdata/schtasks-daily.xml")
		if err != nil {
			t.Fatal(err)
		}
		u := utf16.Encode([]rune(string(raw)))
		enc := []byte{0xFF, 0xFE}
		for _, c := range u {
			enc = append(enc, byte(c), byte(c>>8))
		}
		procs, stderr := importDoc(t, "import", "schtasks", writeFile(t, "tasks.xml", string(enc)))
		if len(procs) != 1 || procs[0].Schedule != "0 2 * * *" || procs[0].Timezone != "UTC" {
			t.Errorf("proposals: %+v", procs)
		}
		if !strings.Contains(stderr, "read in UTC") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})

	t.Run("Several", func(t *testing.T) {
		file := "testdata/schtasks-several.xml"
		procs, stderr := importDoc(t, "import", "schtasks", file, "--timezone", "Europe/Prague", "--max-runtime", "45m")
		weekly := proposed(1000, "WeeklyReport", `C:\Reports\weekly.cmd`, "30 6 * * mon,wed,fri", "Europe/Prague", 30*time.Minute)
		weekly.Enabled = false
		want := []statesrv.Process{
			weekly,
			proposed(1001, "MonthEnd", `powershell.exe -File C:\Billing\close.ps1`, "0 23 1,15 1,4,7,10 *", "Europe/Prague", 45*time.Minute),
			proposed(1002, "PollQueue", `C:\Sync\poll.exe`, "5-59/15 * * * *", "Europe/Prague", 10*time.Minute),
			proposed(1003, "Utc", `C:\Sync\utc.exe`, "45 4 * * *", "Europe/Prague", 45*time.Minute),
		}
		if !reflect.DeepEqual(procs, want) {
			t.Errorf("proposals:\n%+v\nwant:\n%+v", procs, want)
		}
		for _, w := range []string{
			`\Billing\MonthEnd: no execution time limit; max_runtime 45m`,
			`\Sync\OfficeHours: not mapped, CalendarTrigger: repeats every 15m for 10h only, which cron cannot express exactly; task skipped`,
			`\OneOff\Migrate: not mapped, TimeTrigger: a one-time trigger is not a schedule; task skipped`,
			`\Sync\Twice: not mapped, 2 triggers (0 6 * * *; 0 18 * * *) but a process has one schedule`,
			`\Sync\Utc: CalendarTrigger: StartBoundary has offset +01:00; times read in --timezone Europe/Prague`,
			`tasks under \Microsoft\ (Windows' own) skipped: 1`,
		} {
			if !strings.Contains(stderr, file+": "+w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr)
			}
		}
	})

	t.Run("OffsetWithoutTimezone", func(t *testing.T) {
		procs, stderr := importDoc(t, "import", "schtasks", "testdata/schtasks-several.xml", "--microsoft")
		var utc, defrag statesrv.Process
		for _, p := range procs {
			switch p.Name {
			case "Utc":
				utc = p
			case "ScheduledDefrag":
				defrag = p
			}
		}
		if utc.Timezone != "Etc/GMT-1" || utc.Schedule != "45 4 * * *" {
			t.Errorf("task with offset: %+v", utc)
		}
		if defrag.Schedule != "0 1 * * sun" || defrag.Description != `%windir%\system32\defrag.exe -c -h -o -$` {
			t.Errorf("--microsoft: %+v", defrag)
		}
		if !strings.Contains(stderr, "StartBoundary has offset +01:00 (a fixed UTC offset, no daylight saving): zone Etc/GMT-1") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})

	t.Run("ErrNoTask", func(t *testing.T) {
		res := mustCLI(t, 1, "import", "schtasks", writeFile(t, "x.xml", "<Tasks></Tasks>"))
		if !strings.Contains(res.stderr, "no <Task> element") {
			t.Errorf("stderr:\n%s", res.stderr)
		}
	})
}

// mustReadFile returns the content of file.
func mustReadFile(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImportCrontabOut(t *testing.T) {
	t.Run("UserFormat", func(t *testing.T) {
		file := writeFile(t, "crontab", userCrontab)
		plain := mustCLI(t, 0, "import", "crontab", file)
		out := filepath.Join(t.TempDir(), "crontab.new")
		res := mustCLI(t, 0, "import", "crontab", file, "--out", out, "--bin", "/usr/local/bin/statesrv", "--server", "monitor:2020")
		if res.stdout != plain.stdout {
			t.Errorf("--out changed the document:\n%s\nwant:\n%s", res.stdout, plain.stdout)
		}
		exec := "/usr/local/bin/statesrv exec --id %d --server monitor:2020 -- "
		want := strings.NewReplacer(
			"*/5 * * * * /usr/local/bin/poll-queue --fast >/dev/null 2>&1",
			"*/5 * * * * "+fmt.Sprintf(exec, 1000)+"/bin/bash -c '/usr/local/bin/poll-queue --fast >/dev/null 2>&1'",
			`0 2 * * * cd /srv/app && ./backup.sh > /var/log/backup-$(date +\%F).log 2>&1`,
			`0 2 * * * `+fmt.Sprintf(exec, 1001)+`/bin/bash -c 'cd /srv/app && ./backup.sh > /var/log/backup-$(date +\%F).log 2>&1'`,
			"@daily   /usr/bin/logrotate /etc/logrotate.conf",
			"@daily   "+fmt.Sprintf(exec, 1002)+"/usr/bin/logrotate /etc/logrotate.conf",
			`15 8-18/2 * * mon-fri PATH=/opt/bin:/usr/bin report.py "daily; summary"`,
			`15 8-18/2 * * mon-fri `+fmt.Sprintf(exec, 1003)+`/bin/bash -c 'PATH=/opt/bin:/usr/bin report.py "daily; summary"'`,
			`30 6 1,15 * * mail -s "statement" accounts@example.com%Statements are ready.%`,
			`30 6 1,15 * * `+fmt.Sprintf(exec, 1004)+`/bin/bash -c 'mail -s "statement" accounts@example.com'%Statements are ready.%`,
			"0 0 * * 7   /home/ops/weekly.sh",
			"0 0 * * 7   "+fmt.Sprintf(exec, 1005)+"/home/ops/weekly.sh",
		).Replace(userCrontab)
		if got := mustReadFile(t, out); got != want {
			t.Errorf("rewritten crontab:\n%s\nwant:\n%s", got, want)
		}
		for _, w := range []string{
			"statesrv import: wrote " + out + ", the crontab with 6 job lines running through \"statesrv exec --id N --\".\n",
			"  1. the definitions: statesrv apply -f DOC --url URL --yes",
			"  2. the crontab: crontab " + out + "   (as the user",
		} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
			}
		}
		if strings.Contains(res.stderr, "short PATH") {
			t.Errorf("PATH hint with a full --bin:\n%s", res.stderr)
		}
		// The rewritten crontab imports as nothing new.
		again := mustCLI(t, 0, "import", "crontab", out, "--timezone", "UTC")
		if !strings.Contains(again.stdout, "processes: []") ||
			strings.Count(again.stderr, "already runs through statesrv exec") != 6 {
			t.Errorf("import of the rewritten crontab:\n%s\n%s", again.stdout, again.stderr)
		}
	})

	t.Run("SystemFormat", func(t *testing.T) {
		file := writeFile(t, "backup", systemCrontab)
		out := filepath.Join(t.TempDir(), "backup.new")
		res := mustCLI(t, 0, "import", "crontab", file, "--system", "--timezone", "UTC", "--out", out)
		want := strings.Replace(systemCrontab, "root    cd / && run-parts --report /etc/cron.hourly",
			"root    statesrv exec --id 1000 -- /bin/sh -c 'cd / && run-parts --report /etc/cron.hourly'", 1)
		want = strings.Replace(want, "root\ttest -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )",
			"root\tstatesrv exec --id 1001 -- /bin/sh -c 'test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )'", 1)
		want = strings.Replace(want, "backup [ -x /usr/lib/backup/run ] && /usr/lib/backup/run --weekly",
			"backup statesrv exec --id 1002 -- /bin/sh -c '[ -x /usr/lib/backup/run ] && /usr/lib/backup/run --weekly'", 1)
		if got := mustReadFile(t, out); got != want {
			t.Errorf("rewritten crontab:\n%s\nwant:\n%s", got, want)
		}
		for _, w := range []string{"  2. the crontab, in place of /etc/crontab or /etc/cron.d/NAME",
			"sudo install -m 644 " + out + " " + file, "give --bin with its full path"} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
			}
		}
	})

	t.Run("Apply", func(t *testing.T) {
		_, base := onboardServer(t)
		file := writeFile(t, "crontab", "CRON_TZ=Europe/Prague\n*/5 * * * * /usr/bin/poll\n@reboot /usr/bin/agent\n0 3 * * * /usr/bin/nightly\n")
		out := filepath.Join(t.TempDir(), "crontab.new")
		res := mustCLI(t, 0, "import", "crontab", file, "--apply", "--url", base, "--out", out)
		if !strings.Contains(res.stderr, "  1. the definitions: re-run this import with --yes\n") {
			t.Errorf("stderr:\n%s", res.stderr)
		}
		res = mustCLI(t, 0, "import", "crontab", file, "--apply", "--url", base, "--yes", "--out", out)
		want := "CRON_TZ=Europe/Prague\n*/5 * * * * statesrv exec --id 31 -- /usr/bin/poll\n@reboot /usr/bin/agent\n" +
			"0 3 * * * statesrv exec --id 32 -- /usr/bin/nightly\n"
		if got := mustReadFile(t, out); got != want {
			t.Errorf("rewritten crontab:\n%s\nwant:\n%s", got, want)
		}
		if !strings.Contains(res.stderr, "  1. the definitions: applied above\n") {
			t.Errorf("stderr:\n%s", res.stderr)
		}
		// Imported again, the jobs the server has are left out of the
		// document, and their lines are still wrapped with their ids.
		res = mustCLI(t, 0, "import", "crontab", file, "--url", base, "--out", out)
		if got := mustReadFile(t, out); got != want || !strings.Contains(res.stdout, "processes: []") {
			t.Errorf("second import wrote:\n%s\nand printed:\n%s", got, res.stdout)
		}
		if !strings.Contains(res.stderr, "  1. the definitions: statesrv apply -f DOC --url "+base+" --yes") {
			t.Errorf("stderr:\n%s", res.stderr)
		}
	})

	t.Run("ErrUsage", func(t *testing.T) {
		file := writeFile(t, "crontab", "@daily /bin/true\n")
		mustCLI(t, 2, "import", "crontab", file, "--out", "-")
		mustCLI(t, 2, "import", "crontab", file, "--bin", "")
		mustCLI(t, 2, "import", "schtasks", "testdata/schtasks-daily.xml", "--out", filepath.Join(t.TempDir(), "x"))
	})
}
