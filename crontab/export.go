// Package crontab reads and writes crontabs, the schedules of the system cron.
//
// Export writes process definitions as a crontab, for sites that keep cron in
// charge of starting jobs: "statesrv cron export" and the dashboard's schedule
// page print the same text from here. Parse reads a crontab (the user format
// or the system one with a user field) and proposes a process definition for
// each job line, as "statesrv import crontab" does; a line it cannot map
// exactly is a warning, never a guess. Proposal and Result are shared with the
// other importers.
package crontab

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/textfmt"
)

// Export renders procs, in order of id, as crontab lines that run
// "bin start --url base ID". Processes that cron should not fire (disabled,
// push-only, fired by the server, or with a schedule cron cannot express)
// get a comment saying why instead.
func Export(procs []statesrv.Process, base, bin string) string {
	procs = slices.Clone(procs)
	slices.SortFunc(procs, func(a, b statesrv.Process) int { return cmp.Compare(a.ID, b.ID) })
	var b strings.Builder
	fmt.Fprintf(&b, `# statesrv: crontab exported from %s
# Each line opens a run of a process at its scheduled times; the job itself
# still reports its end. "statesrv start --url" needs STATESRV_API_TOKEN:
# set it in cron's environment or in a line STATESRV_API_TOKEN=... above.
# CRON_TZ lines need a cron that honours them (cronie does); other crons
# read every time in the system's zone.
# Only processes with "fired_by": "cron" get a line: the server's scheduler
# leaves them to cron (the others it fires itself, and a line would open a
# second run at each fire time).
`, textfmt.OneLine(base))
	cmd := cronEscape(shellQuote(bin)) + " start --url " + cronEscape(shellQuote(base))
	zone := ""
	for _, p := range procs {
		about := strconv.FormatInt(p.ID, 10) + " " + textfmt.OneLine(p.Name)
		spec, why := Spec(p)
		if why != "" {
			fmt.Fprintf(&b, "# %s: %s\n", about, why)
			continue
		}
		tz := p.Timezone
		if tz == "" {
			tz = "UTC"
		}
		if tz != zone {
			zone = tz
			fmt.Fprintf(&b, "CRON_TZ=%s\n", zone)
		}
		fmt.Fprintf(&b, "%s %s %d  # %s\n", spec, cmd, p.ID, cronEscape(textfmt.OneLine(p.Name)))
	}
	return b.String()
}

// Spec returns the five crontab fields of p's schedule, or why p gets no
// crontab line.
func Spec(p statesrv.Process) (spec, why string) {
	text := strings.Join(strings.Fields(p.Schedule), " ")
	switch {
	case !p.Enabled:
		return "", "disabled, skipped"
	case p.FiredBy != statesrv.FiredByCron && p.Schedule != "":
		return "", `fired by the server, skipped (set "fired_by": "cron" to hand it to cron)`
	case text == "":
		return "", "push-only (no schedule), skipped"
	case schedule.Validate(text, p.Timezone) != nil:
		return "", fmt.Sprintf("schedule %q is not valid, skipped", textfmt.OneLine(text))
	case strings.HasPrefix(text, "@every"):
		return "", fmt.Sprintf("schedule %q cannot be expressed in crontab (cron has no fixed interval)", text)
	case strings.HasPrefix(text, "@"):
		// Spelled out, so that every cron reads them.
		return descriptors[text], ""
	}
	fields := strings.Fields(text)
	if len(fields) == 6 {
		if fields[0] != "0" {
			return "", fmt.Sprintf("schedule %q cannot be expressed in crontab (it has a seconds field)", text)
		}
		// Second 0 of every matching minute is what cron does.
		fields = fields[1:]
	}
	for i, f := range fields {
		// robfig reads "?" as "*" in the day fields; cron knows no "?".
		fields[i] = strings.ReplaceAll(f, "?", "*")
	}
	return strings.Join(fields, " "), ""
}

var descriptors = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for sh where it needs quoting. Between a backslash
// and a '%' after it, the quote is closed and opened again: cron would
// otherwise read the pair as its escape of the '%' (see cronEscape).
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	q := "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	return strings.ReplaceAll(q, `\%`, `\''%`)
}

// cronEscape escapes '%', which cron turns into a line break in a command.
// Cron reads a backslash as escaping the character after it, so a '%'
// after an odd run of backslashes is escaped already (and shows without
// its last backslash), and one after an even run gets one more.
func cronEscape(s string) string {
	var b strings.Builder
	run := 0 // backslashes just before s[i]
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			run++
		case '%':
			if run%2 == 0 {
				b.WriteByte('\\')
			}
			run = 0
		default:
			run = 0
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
