package main

import (
	"context"
	"fmt"
	"io"

	"github.com/statesrv/statesrv/document"
	"github.com/statesrv/statesrv/textfmt"
)

const exportUsage = `usage: statesrv export [--url URL] [--format yaml|json]

Prints the server's process definitions as a document {"processes": [...]}
in YAML (the default) or JSON: the fields of the API's process JSON, ordered
by id. "statesrv apply -f FILE" reads it back. Definitions are read from the
API (token from --token or STATESRV_API_TOKEN).
`

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("export", exportUsage, stderr)
	base := fs.String("url", "http://localhost:8080", "base URL of the running server (token from --token or STATESRV_API_TOKEN)")
	token := tokenFlag(fs)
	format := fs.String("format", "yaml", "yaml or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *format != "yaml" && *format != "json" {
		return fmt.Errorf("%w: --format: want yaml or json", errUsage)
	}
	procs, err := document.Fetch(ctx, apiClient(*base, *token))
	if err != nil {
		return err
	}
	list := make([]document.Entry, len(procs))
	for i, p := range procs {
		list[i] = document.Entry{Process: p}
	}
	header := "statesrv process definitions, exported from " + textfmt.OneLine(*base) +
		"\nEdit them and apply with: statesrv apply -f FILE --url URL --yes"
	return document.Write(stdout, *format, header, list)
}

const applyUsage = `usage: statesrv apply -f FILE [--url URL] [--prune] [--yes | --dry-run]

Makes the server's process definitions those of FILE, a document as
"statesrv export" writes it (YAML or JSON, by the extension .yaml, .yml or
.json, otherwise by its first character; - reads stdin).

Every definition is validated first; if anything is wrong (an unknown
field, a value of the wrong type, an invalid definition), every error is
listed with its entry and line, and nothing is applied. Then the changes are printed:
  + 27 NewJob                                          to create
  ~ 25 JajaBackupData: schedule "0 2 * * *" → "0 3 * * *"  to change
  - 30 OldJob                                          to delete (--prune only)
and applied only with --yes, as one change: one atomic append of all the
events (POST /api/v1/apply), or none if anything is refused. Definitions
that do not change are not sent, so applying the same file twice records
nothing the second time. Token from --token or STATESRV_API_TOKEN.
`

func cmdApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("apply", applyUsage, stderr)
	file := fs.String("f", "", "the document to apply (- reads stdin)")
	base := fs.String("url", "http://localhost:8080", "base URL of the running server (token from --token or STATESRV_API_TOKEN)")
	token := tokenFlag(fs)
	prune := fs.Bool("prune", false, "also delete the server's definitions the document does not list")
	yes := fs.Bool("yes", false, "apply the changes (without it they are only printed)")
	dry := fs.Bool("dry-run", false, "only print the changes")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *file == "":
		return fmt.Errorf("%w: -f FILE is required", errUsage)
	case *yes && *dry:
		return fmt.Errorf("%w: --yes and --dry-run exclude each other", errUsage)
	}
	doc, err := readFile(*file, document.Load)
	if err != nil {
		return err
	}
	if problems := doc.Check(); len(problems) > 0 {
		errs := "errors"
		if len(problems) == 1 {
			errs = "error"
		}
		fmt.Fprintf(stderr, "statesrv apply: %s: %d %s, nothing applied:\n", *file, len(problems), errs)
		for _, p := range problems {
			fmt.Fprintln(stderr, "  "+p.String())
		}
		return errSilent
	}
	c := apiClient(*base, *token)
	current, err := document.Fetch(ctx, c)
	if err != nil {
		return err
	}
	return document.NewPlan(doc.Processes, current, *prune).Run(ctx, c, *yes, stdout)
}
