package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/crontab"
	"github.com/statesrv/statesrv/document"
	"github.com/statesrv/statesrv/envflag"
	"github.com/statesrv/statesrv/importer"
	"github.com/statesrv/statesrv/textfmt"
)

const importUsage = `usage: statesrv import crontab FILE [flags]
       statesrv import schtasks FILE.xml [flags]

Reads existing schedules and proposes process definitions for them, printed
as a document in the shape "statesrv export" writes, to review, edit and
feed to "statesrv apply -f". Lines or tasks that cannot be mapped exactly
are reported on stderr and left out, never guessed.

crontab: a user crontab (five time fields and a command) or, with --system
or a FILE under /etc, the system format (five fields, a user, a command).
CRON_TZ= and TZ= lines set the zone of the lines after them.
schtasks: the XML of "schtasks /query /xml" (one task or several).

Ids count up from --start-id (default: one past the server's highest id
with --url, else 1000). With --url, jobs the server already has (same
description, schedule and zone) are left out. With --apply the proposals
are created through the API as "statesrv apply" does, with --yes only.

An imported job must report, or each of its runs times out. crontab: --out
NEW writes the crontab rewritten so that each imported job's line runs
"statesrv exec --id N -- <its command>" (--bin, --server); every other line
stays as it was. Apply the definitions first, then install NEW (crontab NEW,
or in place of a system crontab). The document stays on stdout, so that it
can be piped into "statesrv apply -f -". schtasks: stderr says how to change
each task's action.
`

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: give a source: crontab or schtasks", errUsage)
	}
	switch args[0] {
	case "crontab", "schtasks":
		return runImport(ctx, args[0], args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, importUsage)
		return nil
	}
	return fmt.Errorf("%w: unknown source %q (want crontab or schtasks)", errUsage, args[0])
}

func runImport(ctx context.Context, kind string, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("import "+kind, importUsage, stderr)
	base := fs.String("url", "", "base URL of a running server (token from --token or STATESRV_API_TOKEN)")
	token := tokenFlag(fs)
	apply := fs.Bool("apply", false, "create the proposed definitions through the API (needs --url; writes only with --yes)")
	yes := fs.Bool("yes", false, "with --apply: write (without it the changes are only printed)")
	startID := fs.Int64("start-id", 0, "id of the first proposal (default: server's highest + 1 with --url, else 1000)")
	zone := fs.String("timezone", "", "IANA zone of times that name none (default UTC, with a warning)")
	maxRuntime := fs.Duration("max-runtime", time.Hour, "max_runtime of the proposals (schtasks: when a task has no time limit)")
	format := fs.String("format", "yaml", "yaml or json")
	system := fs.Bool("system", false, "crontab: the system format, with a user field (default for files under /etc)")
	microsoft := fs.Bool("microsoft", false, `schtasks: include the tasks under \Microsoft\`)
	out := fs.String("out", "", "crontab: write the crontab rewritten to run the imported jobs through statesrv exec to this file")
	bin := fs.String("bin", "statesrv", "the statesrv command as cron or the task runs it, e.g. /usr/local/bin/statesrv")
	server := fs.String("server", "", "HOST:PORT of the report port for exec (default: exec's, localhost:2020)")
	files, err := envflag.ParseInterspersed(fs, args, envPrefix)
	if err != nil {
		return usageError(err)
	}
	switch {
	case len(files) != 1:
		return fmt.Errorf("%w: give one FILE (- reads stdin)", errUsage)
	case *apply && *base == "":
		return fmt.Errorf("%w: --apply needs --url", errUsage)
	case *startID < 0:
		return fmt.Errorf("%w: --start-id must be positive", errUsage)
	case *maxRuntime < time.Second:
		return fmt.Errorf("%w: --max-runtime: at least 1s", errUsage)
	case *format != "yaml" && *format != "json":
		return fmt.Errorf("%w: --format: want yaml or json", errUsage)
	case *out != "" && kind != importer.Crontab:
		return fmt.Errorf("%w: --out is for crontab (stderr says how to wrap each task's action)", errUsage)
	case *out == "-":
		return fmt.Errorf("%w: --out: give a file (stdout carries the document)", errUsage)
	case *bin == "":
		return fmt.Errorf("%w: --bin: give the statesrv command", errUsage)
	}
	if *zone != "" {
		if err := schedule.Validate("@daily", *zone); err != nil {
			return fmt.Errorf("%w: --timezone: %s", errUsage, statesrv.ErrorMessage(err))
		}
	}
	raw, err := readFile(files[0], importer.ReadInput)
	if err != nil {
		return err
	}
	opt := importer.Options{Name: files[0], Zone: *zone, MaxRuntime: *maxRuntime, StartID: *startID,
		System: *system || crontab.SystemFile(files[0]), Microsoft: *microsoft}
	if *base != "" {
		opt.Defined = func() ([]statesrv.Process, error) { return document.Fetch(ctx, apiClient(*base, *token)) }
	}
	res, err := importer.Propose(kind, raw, opt)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "%s: %s\n", files[0], w)
	}
	wrap := importer.Wrapping{File: files[0], Out: *out, Bin: *bin, Server: *server, System: opt.System, URL: *base, Apply: *apply, Yes: *yes}
	var rewritten []byte
	if *out != "" {
		if rewritten, err = wrap.Crontab(raw, res); err != nil {
			return err
		}
	}
	procs := make([]document.Entry, len(res.Proposals))
	for i, p := range res.Proposals {
		procs[i] = document.Entry{Process: p.Process, Comment: p.From}
	}
	if !*apply {
		header := fmt.Sprintf("statesrv process definitions proposed from %s %s\n"+
			"Review them, then: statesrv apply -f FILE --url URL --yes", kind, textfmt.OneLine(files[0]))
		if err := document.Write(stdout, *format, header, procs); err != nil {
			return err
		}
		return wrap.Finish(kind, rewritten, res, stderr)
	}
	if id, taken := res.Taken(); taken {
		return fmt.Errorf("process %d exists on the server: choose another --start-id; nothing applied", id)
	}
	desired := make([]statesrv.Process, len(procs))
	for i, p := range procs {
		desired[i] = p.Process
	}
	if err := document.NewPlan(desired, res.Defined, false).Run(ctx, apiClient(*base, *token), *yes, stdout); err != nil {
		return err
	}
	return wrap.Finish(kind, rewritten, res, stderr)
}
