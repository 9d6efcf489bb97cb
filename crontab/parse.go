package crontab

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/textfmt"
)

// Options are the settings of Parse.
type Options struct {
	// Zone is the zone of times that name none ("" means UTC, noted).
	Zone string
	// System reads the system crontab format (a user field).
	System bool
}

var envLine = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$`)

// maxCrontabLine bounds a crontab line.
const maxCrontabLine = 64 << 10

// Parse reads a crontab: the user format (five time fields and a
// command) or, with opt.System, the system one (/etc/crontab,
// /etc/cron.d: five fields, a user, a command). CRON_TZ= and TZ= lines set
// the zone of the lines after them; other VAR=value lines, comments and
// blank lines are skipped. Each job line becomes a proposal, or a warning
// naming the line when it cannot be mapped (@reboot, a bad schedule) or
// already runs through "statesrv exec" (see Wrap). The error is one of
// reading r.
func Parse(r io.Reader, opt Options) (Result, error) {
	var res Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxCrontabLine)
	zone := ""
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := envLine.FindStringSubmatch(line); m != nil {
			if m[1] == "CRON_TZ" || m[1] == "TZ" {
				zone = unquote(strings.TrimSpace(m[2]))
			}
			continue
		}
		p, cmd, problem := cronJob(line, opt.System)
		if problem != "" {
			res.Warn("line %d: not mapped, %s: %s", n, problem, clipLine(line))
			continue
		}
		if zone != "" {
			p.Timezone = zone
		} else {
			p.Timezone = res.ZoneOr(opt.Zone)
		}
		if err := schedule.Validate(p.Schedule, p.Timezone); err != nil {
			res.Warn("line %d: not mapped, %s: %s", n, statesrv.ErrorMessage(err), clipLine(line))
			continue
		}
		if id, ok := wrappedID(cronCommand(cmd)); ok {
			res.Warn("line %d: already runs through statesrv exec (process %d), left out: %s", n, id, clipLine(line))
			continue
		}
		if p.Name == "" {
			p.Name = fmt.Sprintf("crontab line %d", n)
		}
		res.Proposals = append(res.Proposals, Proposal{Process: p, From: fmt.Sprintf("line %d: %s", n, clipLine(line)), Line: n})
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("read crontab: %w", err)
	}
	return res, nil
}

// SystemFile reports whether file lies under /etc (/etc/crontab,
// /etc/cron.d/...), where crontabs have a user field.
func SystemFile(file string) bool {
	abs, err := filepath.Abs(file)
	return err == nil && strings.HasPrefix(filepath.ToSlash(abs), "/etc/")
}

// cronJob reads one job line: its schedule and command (and, in the
// system format, user). problem says why a line cannot be mapped.
func cronJob(line string, system bool) (p statesrv.Process, cmd, problem string) {
	var spec string
	rest := line
	if strings.HasPrefix(line, "@") {
		spec, rest = nextField(line)
		switch spec {
		case "@reboot":
			return p, "", "@reboot runs at boot, which no schedule expresses"
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
		default:
			return p, "", fmt.Sprintf("unknown descriptor %s", spec)
		}
	} else {
		var fields []string
		for range 5 {
			var f string
			f, rest = nextField(rest)
			fields = append(fields, f)
		}
		if fields[4] == "" {
			return p, "", "fewer than five time fields"
		}
		fields[4] = sundaySeven(fields[4])
		spec = strings.Join(fields, " ")
	}
	if system {
		user, r := nextField(rest)
		if user == "" {
			return p, "", "no user field (system crontab format)"
		}
		rest = r
	}
	cmd = strings.TrimSpace(rest)
	if cmd == "" {
		return p, "", "no command"
	}
	p.Schedule = spec
	p.Name = nameFromCommand(cronCommand(cmd))
	p.Description = Description(cmd)
	p.Enabled = true
	return p, cmd, ""
}

var toSeven = regexp.MustCompile(`^([0-6])-7$`)

// sundaySeven rewrites cron's day of week 7 (Sunday, as 0) where it
// stands alone or ends a range without a step ("7", "5-7"), which the
// schedule parser does not read. Other uses stay and are reported.
func sundaySeven(dow string) string {
	items := strings.Split(dow, ",")
	for i, it := range items {
		if it == "7" {
			items[i] = "0"
		} else if m := toSeven.FindStringSubmatch(it); m != nil {
			items[i] = m[1] + "-6,0"
		}
	}
	return strings.Join(items, ",")
}

// nextField returns the first blank-separated field of s and the rest.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// cronCommand returns the command cron runs for cmd: up to the first '%'
// not escaped (after it comes the job's input). As cron reads it, a
// backslash escapes the character after it: "\%" is a '%', any other pair
// stays as it is ("\\%" is two backslashes, and the '%' ends the command).
func cronCommand(cmd string) string {
	var b strings.Builder
	for i := 0; i < len(cmd); i++ {
		switch {
		case cmd[i] == '\\' && i+1 < len(cmd):
			i++
			if cmd[i] != '%' {
				b.WriteByte('\\')
			}
			b.WriteByte(cmd[i])
		case cmd[i] == '%':
			return b.String()
		default:
			b.WriteByte(cmd[i])
		}
	}
	return b.String()
}

var (
	assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	separators = strings.NewReplacer("&&", ";", "||", ";", "|", ";")
)

// nameFromCommand derives a process name from a command line: the base
// name of its program. Leading VAR=value words are passed over, and so are
// leading "cd DIR", "test ..." and "[ ... ]" parts joined by "&&", "||" or
// ";". The name has no ';' or control characters and at most 200
// characters; it is "" when nothing is left.
func nameFromCommand(cmd string) string {
	for part := range strings.SplitSeq(separators.Replace(cmd), ";") {
		part = strings.TrimLeft(strings.TrimSpace(part), "({ ")
		prog, rest := firstWord(part)
		for assignment.MatchString(prog) {
			prog, rest = firstWord(rest)
		}
		switch prog {
		case "", "cd", "test", "[", "[[":
			continue
		}
		prog = path.Base(strings.ReplaceAll(prog, `\`, "/"))
		if prog == "." || prog == "/" {
			return ""
		}
		return Name(prog)
	}
	return ""
}

// firstWord returns the first word of s, without its quotes when it is
// quoted as a whole ("C:\Program Files\x.exe"), and the rest.
func firstWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t")
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		if i := strings.IndexByte(s[1:], s[0]); i >= 0 {
			return s[1 : i+1], s[i+2:]
		}
	}
	return nextField(s)
}

// clipLine cuts a source line for a message.
func clipLine(s string) string {
	return textfmt.Fit(textfmt.OneLine(s), 120, "…")
}

// unquote strips one pair of matching quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
