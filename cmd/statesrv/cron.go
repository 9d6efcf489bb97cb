package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
)

const cronUsage = `usage: statesrv cron export [--url URL] [--bin PATH]

Prints a crontab whose lines open runs of the server's processes at their
scheduled times ("statesrv start --url URL ID"), for sites that keep cron
in charge. Definitions are read from the API (token from STATESRV_API_TOKEN).
`

func cmdCron(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: give a subcommand: export", errUsage)
	}
	switch args[0] {
	case "export":
		return cmdCronExport(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, cronUsage)
		return nil
	}
	return fmt.Errorf("%w: unknown subcommand %q (want export)", errUsage, args[0])
}

func cmdCronExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("cron export", cronUsage, stderr)
	base := fs.String("url", "http://localhost:8080", "base URL of the running server (token from STATESRV_API_TOKEN)")
	bin := fs.String("bin", "statesrv", "the statesrv command as cron should run it, e.g. /usr/local/bin/statesrv")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	var procs []statesrv.Process
	if err := api(ctx, "GET", *base, "/api/v1/processes", nil, &procs); err != nil {
		return err
	}
	slices.SortFunc(procs, func(a, b statesrv.Process) int { return cmp.Compare(a.ID, b.ID) })
	_, err := io.WriteString(stdout, crontab(procs, *base, *bin))
	return err
}

// crontab renders the processes as crontab lines.
func crontab(procs []statesrv.Process, base, bin string) string {
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
`, oneLine(base))
	cmd := cronEscape(shellQuote(bin)) + " start --url " + cronEscape(shellQuote(base))
	zone := ""
	for _, p := range procs {
		about := strconv.FormatInt(p.ID, 10) + " " + oneLine(p.Name)
		spec, why := cronSpec(p)
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
		fmt.Fprintf(&b, "%s %s %d  # %s\n", spec, cmd, p.ID, cronEscape(oneLine(p.Name)))
	}
	return b.String()
}

// cronSpec returns the five crontab fields of p's schedule, or why p gets
// no crontab line.
func cronSpec(p statesrv.Process) (spec, why string) {
	text := strings.Join(strings.Fields(p.Schedule), " ")
	switch {
	case !p.Enabled:
		return "", "disabled, skipped"
	case p.FiredBy != statesrv.FiredByCron && p.Schedule != "":
		return "", `fired by the server, skipped (set "fired_by": "cron" to hand it to cron)`
	case text == "":
		return "", "push-only (no schedule), skipped"
	case schedule.Validate(text, p.Timezone) != nil:
		return "", fmt.Sprintf("schedule %q is not valid, skipped", oneLine(text))
	case strings.HasPrefix(text, "@every"):
		return "", fmt.Sprintf("schedule %q cannot be expressed in crontab (cron has no fixed interval)", text)
	case strings.HasPrefix(text, "@"):
		// Spelled out, so that every cron reads them.
		return map[string]string{
			"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
			"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
		}[text], ""
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

// oneLine replaces control characters (line breaks among them) by spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for sh where it needs quoting.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cronEscape escapes '%', which cron turns into a line break in a command.
func cronEscape(s string) string {
	return strings.ReplaceAll(s, "%", `\%`)
}
