package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
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
	procs, err := fetchProcesses(ctx, apiClient(*base, *token))
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

// fetchProcesses returns the server's definitions ordered by id.
func fetchProcesses(ctx context.Context, c *api.Client) ([]statesrv.Process, error) {
	procs, err := c.Processes(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(procs, func(a, b statesrv.Process) int { return cmp.Compare(a.ID, b.ID) })
	return procs, nil
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
	current, err := fetchProcesses(ctx, c)
	if err != nil {
		return err
	}
	return runPlan(ctx, c, document.NewPlan(doc.Processes, current, *prune), *yes, stdout)
}

// runPlan prints the plan and, with yes, applies it through the API of c
// as one change (POST /api/v1/apply): all of it, or nothing.
func runPlan(ctx context.Context, c *api.Client, pl document.Plan, yes bool, w io.Writer) error {
	if keys := pl.KeyOnly(); len(keys) > 0 {
		// Keys are stored hashed and never shown: whether a key given in
		// clear is the one set, only the server can say.
		res, err := c.ApplyDryRun(ctx, api.ApplyRequest{Define: keys})
		if err != nil {
			return fmt.Errorf("nothing applied: %w", err)
		}
		pl.Settle(res.Changed)
	}
	pl.Print(w)
	switch {
	case pl.Empty():
		return nil
	case !yes:
		fmt.Fprintln(w, "nothing applied: re-run with --yes to apply")
		return nil
	}
	req := api.ApplyRequest{Define: pl.Define(), Delete: pl.Delete()}
	if _, err := c.Apply(ctx, req); err != nil {
		return fmt.Errorf("nothing applied: %w", err)
	}
	fmt.Fprintf(w, "applied: %d created, %d changed, %d deleted\n", len(pl.Create), len(pl.Change), len(pl.Remove))
	return nil
}
