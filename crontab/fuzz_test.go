package crontab

import (
	"strings"
	"testing"
	"unicode"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/textfmt"
)

// FuzzParse reads arbitrary bytes as a crontab, in the user and the system
// format. Parse must not panic, and every proposal it returns must be a
// definition the server accepts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CRON_TZ=Europe/Prague\n*/5 * * * * /usr/bin/poll\n@reboot /usr/bin/agent\n0 3 * * * /usr/bin/nightly\n",
		"MAILTO=ops@example.com\n0 2 * * * cd /srv/app && ./backup.sh > /var/log/backup-$(date +\\%F).log 2>&1\n" +
			"15 8-18/2 * * mon-fri PATH=/opt/bin:/usr/bin report.py \"daily; summary\"\n" +
			"TZ=\"America/New_York\"\n0 0 * * 7   /home/ops/weekly.sh\n30 6 1,15 * * mail -s x a@example.com%Ready.%\n",
		"17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly\n" +
			"25 6\t* * *\troot\ttest -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )\n",
		"@daily /bin/true\n0 0 * * 5-7 ;\n",
		"61 * * * * /bin/broken\n* * * *\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, opt := range []Options{{}, {Zone: "Europe/Prague", System: true}} {
			res, err := Parse(strings.NewReader(string(raw)), opt)
			if err != nil {
				continue
			}
			for _, p := range res.Proposals {
				if strings.ContainsFunc(p.From, unicode.IsControl) {
					t.Errorf("proposal from %q: not one line", p.From)
				}
				def := p.Process
				def.ID = 1
				if err := commands.NormalizeProcess(&def); err != nil {
					t.Errorf("proposal %+v (from %q) is refused: %v", p.Process, p.From, err)
				}
			}
		}
	})
}

// FuzzExport exports a process fired by cron with a fuzzed name, schedule,
// zone and program. The crontab must keep one line per process and cron
// must read each as it was meant: the schedule and zone of the process, the
// command up to the id whole (no '%' that cron would cut it at), the name
// only in the shell comment after it.
func FuzzExport(f *testing.F) {
	f.Add("backup", "0 2 * * *", "Europe/Prague", "statesrv")
	f.Add("50% done; a\nb", "0 */5 * * * ?", "", `C:\x%y\statesrv`)
	f.Add("six", "30 0 1 * * mon-fri", "America/New_York", "")
	f.Fuzz(func(t *testing.T, name, spec, zone, bin string) {
		if strings.ContainsFunc(bin, unicode.IsControl) || strings.Contains(bin, "#") {
			t.Skip("a program path with a line break cannot be a crontab line ('#': see the comment below)")
		}
		const base = "http://h/x?a=1%20b"
		p := statesrv.Process{ID: 7, Name: name, Schedule: spec, Timezone: zone, Enabled: true, FiredBy: statesrv.FiredByCron}
		out := Export([]statesrv.Process{p}, base, bin)
		if strings.ContainsFunc(strings.ReplaceAll(out, "\n", ""), unicode.IsControl) {
			t.Fatalf("control characters in the crontab:\n%q", out)
		}
		want, why := Spec(p)
		if why != "" {
			if !strings.HasSuffix(out, "\n# 7 "+textfmt.OneLine(name)+": "+why+"\n") {
				t.Fatalf("crontab %q: want the comment %q last", out, why)
			}
			return
		}
		res, err := Parse(strings.NewReader(out), Options{})
		if err != nil || len(res.Proposals) != 1 || len(res.Warnings) != 0 {
			t.Fatalf("crontab %q read back as %+v, %v", out, res, err)
		}
		got := res.Proposals[0]
		if wantZone := cmpOr(zone, "UTC"); got.Schedule != want || got.Timezone != wantZone {
			t.Errorf("crontab %q read back as %q in %q, want %q in %q", out, got.Schedule, got.Timezone, want, wantZone)
		}
		cmd := cronCommand(got.Description)
		head := shellWords(t, cmd)
		if wantHead := bin + " start --url " + base + " 7"; head != wantHead {
			t.Errorf("crontab %q: the shell runs %q, want %q", out, head, wantHead)
		}
		_, comment, _ := strings.Cut(cmd, " 7  # ")
		if strip(strings.TrimSpace(comment)) != strip(strings.TrimSpace(textfmt.OneLine(name))) {
			t.Errorf("crontab %q: cron reads the name as %q, want %q", out, comment, name)
		}
	})
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// strip drops backslashes, which cron keeps or drops around a '%' (the
// name is only shown).
func strip(s string) string { return strings.ReplaceAll(s, `\`, "") }

// shellWords reads cmd as sh would up to a comment: words split on blanks,
// single quotes taken literally. It returns the words joined by one space.
func shellWords(t *testing.T, cmd string) string {
	return strings.Join(shellArgs(t, cmd), " ")
}

// shellArgs reads cmd as sh would up to a comment, as shellWords does,
// and returns the words.
func shellArgs(t *testing.T, cmd string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			w.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words
		case c == '\\' && i+1 < len(cmd):
			i++
			w.WriteByte(cmd[i])
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", cmd)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}
