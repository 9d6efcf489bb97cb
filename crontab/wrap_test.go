package crontab

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ids      map[int]int64
		opt      WrapOptions
		want     string
	}{
		{name: "PlainProgram", in: "0 2 * * * /usr/local/bin/backup.sh --full\n", ids: map[int]int64{1: 25},
			want: "0 2 * * * statesrv exec --id 25 -- /usr/local/bin/backup.sh --full\n"},
		{name: "ShellCommand", in: "0 2 * * * cd /srv/app && ./backup.sh > /var/log/backup-$(date +\\%F).log 2>&1\n",
			ids:  map[int]int64{1: 25},
			want: "0 2 * * * statesrv exec --id 25 -- /bin/sh -c 'cd /srv/app && ./backup.sh > /var/log/backup-$(date +\\%F).log 2>&1'\n"},
		{name: "PercentIsInput", in: `30 6 1,15 * * mail -s "statement" accounts@example.com%Statements are ready.%`,
			ids:  map[int]int64{1: 7},
			want: `30 6 1,15 * * statesrv exec --id 7 -- /bin/sh -c 'mail -s "statement" accounts@example.com'%Statements are ready.%`},
		{name: "BackslashBeforePercent", in: "* * * * * printf 'a\\\\%b' x\n", ids: map[int]int64{1: 8},
			// cron reads \\% as two backslashes and then the job's input.
			want: "* * * * * statesrv exec --id 8 -- /bin/sh -c 'printf '\\''a\\\\'%b' x\n"},
		{name: "EscapedPercentInProgramWords", in: "*/5 * * * * /usr/bin/date +\\%F\n", ids: map[int]int64{1: 9},
			want: "*/5 * * * * statesrv exec --id 9 -- /usr/bin/date +\\%F\n"},
		{name: "SystemFormat", in: "17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly\n",
			ids: map[int]int64{1: 3}, opt: WrapOptions{System: true},
			want: "17 *\t* * *\troot    statesrv exec --id 3 -- /bin/sh -c 'cd / && run-parts --report /etc/cron.hourly'\n"},
		{name: "OtherLinesUntouched",
			in: "SHELL=/bin/bash\nMAILTO=ops@example.com\n# a comment  \n\n@daily   /usr/bin/logrotate /etc/logrotate.conf\n" +
				"@reboot /usr/local/bin/agent\n61 * * * * /bin/broken\n  15 8 * * mon-fri  [ -f /x ] && report \"a; b\"  \n" +
				"0 3 * * * /usr/bin/not-imported\n",
			ids: map[int]int64{5: 1000, 8: 1001},
			want: "SHELL=/bin/bash\nMAILTO=ops@example.com\n# a comment  \n\n@daily   statesrv exec --id 1000 -- /usr/bin/logrotate /etc/logrotate.conf\n" +
				"@reboot /usr/local/bin/agent\n61 * * * * /bin/broken\n  15 8 * * mon-fri  statesrv exec --id 1001 -- /bin/bash -c '[ -f /x ] && report \"a; b\"'\n" +
				"0 3 * * * /usr/bin/not-imported\n"},
		{name: "BinAndServer", in: "@hourly /usr/bin/true\n", ids: map[int]int64{1: 4},
			opt:  WrapOptions{Bin: "/opt/state srv/statesrv", Server: "monitor.example.com:2020"},
			want: "@hourly '/opt/state srv/statesrv' exec --id 4 --server monitor.example.com:2020 -- /usr/bin/true\n"},
		{name: "ProgramWithoutPathGoesThroughTheShell", in: "@hourly backup --full\n", ids: map[int]int64{1: 4},
			want: "@hourly statesrv exec --id 4 -- /bin/sh -c 'backup --full'\n"},
		{name: "CRLFAndNoFinalNewline", in: "@daily /usr/bin/a\r\n@daily /usr/bin/b", ids: map[int]int64{1: 1, 2: 2},
			want: "@daily statesrv exec --id 1 -- /usr/bin/a\r\n@daily statesrv exec --id 2 -- /usr/bin/b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Wrap([]byte(tc.in), tc.ids, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("Wrap:\n%s\nwant:\n%s", got, tc.want)
			}
			res, err := Parse(strings.NewReader(string(got)), Options{System: tc.opt.System, Zone: "UTC"})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Proposals {
				if _, wrapped := tc.ids[p.Line]; wrapped {
					t.Errorf("line %d proposed again after wrapping: %+v", p.Line, p)
				}
			}
		})
	}

	t.Run("ErrNotAJob", func(t *testing.T) {
		for _, in := range []string{"MAILTO=x\n", "# comment\n", "@reboot /bin/x\n", ""} {
			if _, err := Wrap([]byte(in), map[int]int64{1: 5}, WrapOptions{}); err == nil || !strings.Contains(err.Error(), "line 1: not a job line") {
				t.Errorf("Wrap(%q): error %v", in, err)
			}
		}
	})
}

func TestParseLeavesWrappedLinesOut(t *testing.T) {
	in := "0 2 * * * statesrv exec --id 25 -- /usr/local/bin/backup.sh\n" +
		"0 3 * * * /usr/local/bin/statesrv exec --server h:2020 --id=26 --tail 5 -- /bin/sh -c 'x'\n" +
		"0 4 * * * /usr/bin/find / -exec --id 3 -- {} \\;\n"
	res, err := Parse(strings.NewReader(in), Options{Zone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Proposals) != 1 || res.Proposals[0].Line != 3 {
		t.Errorf("proposals %+v, want line 3 only", res.Proposals)
	}
	for i, w := range []string{"line 1: already runs through statesrv exec (process 25), left out",
		"line 2: already runs through statesrv exec (process 26), left out"} {
		if len(res.Warnings) != 2 || !strings.HasPrefix(res.Warnings[i], w) {
			t.Errorf("warnings %q, want %q", res.Warnings, w)
		}
	}
}

// FuzzWrap wraps one fuzzed job line. Read back by Parse, the wrapped line
// must keep its schedule and be left out as already wrapped; cron must
// read its command as "BIN exec --id 7 [--server S] --" followed by the
// original command, run by the shell with -c or, word for word, directly;
// and the job's input must be the same.
func FuzzWrap(f *testing.F) {
	f.Add("0 2 * * *", "cd /srv && ./backup.sh > /var/log/b-$(date +\\%F).log 2>&1", "statesrv", "", false, false)
	f.Add("@daily", "mail -s x a@example.com%Ready.%Bye", "/usr/local/bin/statesrv", "h:2020", false, true)
	f.Add("17 * * * *", "root cd / && run-parts --report /etc/cron.hourly", `C:\x%y\statesrv`, "", true, false)
	f.Add("* * * * *", "printf 'a\\\\%b\\%c' \\\\", "s'q", "a b", false, true)
	f.Add("*/5 * * * *", "/usr/bin/date +\\%F", "statesrv", "", false, false)
	f.Fuzz(func(t *testing.T, spec, cmd, bin, server string, system, bash bool) {
		for _, s := range []string{spec, cmd, bin, server} {
			if strings.ContainsFunc(s, unicode.IsControl) {
				t.Skip("a line break would make more than one line")
			}
		}
		if strings.Contains(bin+server, "#") || bin == "" || len(cmd) > 1000 {
			t.Skip("'#' starts a comment in the reading below; \"\" is the default")
		}
		shell, head := "/bin/sh", ""
		if bash {
			shell, head = "/bin/bash", "SHELL=/bin/bash\n"
		}
		in := head + spec + " " + cmd + "\n"
		opt := Options{Zone: "UTC", System: system}
		before, err := Parse(strings.NewReader(in), opt)
		if err != nil || len(before.Proposals) != 1 {
			return
		}
		p := before.Proposals[0]
		out, err := Wrap([]byte(in), map[int]int64{p.Line: 7}, WrapOptions{Bin: bin, Server: server, System: system})
		if err != nil {
			t.Fatalf("Wrap(%q): %v", in, err)
		}
		lines := strings.Split(string(out), "\n")
		if !strings.HasPrefix(string(out), head) || len(lines) != p.Line+1 || lines[p.Line] != "" {
			t.Fatalf("Wrap(%q) = %q: other lines changed", in, out)
		}
		after, err := Parse(strings.NewReader(string(out)), opt)
		if err != nil || len(after.Proposals) != 0 || len(after.Warnings) != 1 ||
			!strings.Contains(after.Warnings[0], "already runs through statesrv exec (process 7)") {
			t.Fatalf("Wrap(%q) = %q, read back as %+v, %v", in, out, after, err)
		}
		wrapped, wrappedCmd, problem := cronJob(strings.TrimSpace(lines[p.Line-1]), system)
		// The commands as written, not the descriptions (cut for display).
		_, originalCmd, _ := cronJob(strings.TrimSpace(strings.Split(in, "\n")[p.Line-1]), system)
		if problem != "" || wrapped.Schedule != p.Schedule {
			t.Fatalf("wrapped line %q: schedule %q (%s), want %q", lines[p.Line-1], wrapped.Schedule, problem, p.Schedule)
		}
		original := cronCommand(originalCmd)
		args := shellArgs(t, cronCommand(wrappedCmd))
		want := []string{bin, "exec", "--id", "7"}
		if server != "" {
			want = append(want, "--server", server)
		}
		want = append(want, "--")
		if !slices.Equal(args[:min(len(want), len(args))], want) {
			t.Fatalf("wrapped line %q: the shell runs %q, want it to start with %q", lines[p.Line-1], args, want)
		}
		job := args[len(want):]
		switch {
		case len(job) == 3 && job[0] == shell && job[1] == "-c":
			if strings.TrimSpace(job[2]) != strings.TrimSpace(original) {
				t.Errorf("wrapped line %q: the shell runs %q, want %q", lines[p.Line-1], job[2], original)
			}
		case !slices.Equal(job, strings.Fields(original)) || !direct(original):
			t.Errorf("wrapped line %q: exec runs %q, want %q", lines[p.Line-1], job, original)
		}
		if got, want := input(wrappedCmd), input(originalCmd); got != want {
			t.Errorf("wrapped line %q: the job's input is %q, want %q", lines[p.Line-1], got, want)
		}
	})
}

// input returns the job's input cron reads from a command: what follows
// the first unescaped '%', if any.
func input(cmd string) string {
	if i := inputAt(cmd); i >= 0 {
		return cmd[i:]
	}
	return ""
}
