package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/commands/schedule"
)

const exportUsage = `usage: statesrv export [--url URL] [--format yaml|json]

Prints the server's process definitions as a document {"processes": [...]}
in YAML (the default) or JSON: the fields of the API's process JSON, ordered
by id. "statesrv apply -f FILE" reads it back. Definitions are read from the
API (token from STATESRV_API_TOKEN).
`

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("export", exportUsage, stderr)
	base := fs.String("url", "http://localhost:8080", "base URL of the running server (token from STATESRV_API_TOKEN)")
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
	procs, err := fetchProcesses(ctx, *base)
	if err != nil {
		return err
	}
	list := make([]commented, len(procs))
	for i, p := range procs {
		list[i] = commented{Process: p}
	}
	header := "statesrv process definitions, exported from " + schedule.OneLine(*base) +
		"\nEdit them and apply with: statesrv apply -f FILE --url URL --yes"
	return writeDocument(stdout, *format, header, list)
}

// fetchProcesses returns the server's definitions ordered by id.
func fetchProcesses(ctx context.Context, base string) ([]statesrv.Process, error) {
	var procs []statesrv.Process
	if err := api(ctx, "GET", base, "/api/v1/processes", nil, &procs); err != nil {
		return nil, err
	}
	slices.SortFunc(procs, func(a, b statesrv.Process) int { return cmp.Compare(a.ID, b.ID) })
	return procs, nil
}

const applyUsage = `usage: statesrv apply -f FILE [--url URL] [--prune] [--yes | --dry-run]

Makes the server's process definitions those of FILE, a document as
"statesrv export" writes it (YAML or JSON, by the extension .yaml, .yml or
.json, otherwise by its first character; - reads stdin).

Every definition is validated first; if any is invalid, all errors are
listed and nothing is applied. Then the changes are printed:
  + 27 NewJob                                          to create
  ~ 25 JajaBackupData: schedule "0 2 * * *" → "0 3 * * *"  to change
  - 30 OldJob                                          to delete (--prune only)
and applied only with --yes, as one change: one atomic append of all the
events (POST /api/v1/apply), or none if anything is refused. Definitions
that do not change are not sent, so applying the same file twice records
nothing the second time. Token from STATESRV_API_TOKEN.
`

func cmdApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("apply", applyUsage, stderr)
	file := fs.String("f", "", "the document to apply (- reads stdin)")
	base := fs.String("url", "http://localhost:8080", "base URL of the running server (token from STATESRV_API_TOKEN)")
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
	desired, err := readDocumentFile(*file)
	if err != nil {
		return err
	}
	if problems := validateAll(desired); len(problems) > 0 {
		fmt.Fprintf(stderr, "statesrv apply: %s: %d invalid definitions, nothing applied:\n", *file, len(problems))
		for _, p := range problems {
			fmt.Fprintln(stderr, "  "+p)
		}
		return errSilent
	}
	current, err := fetchProcesses(ctx, *base)
	if err != nil {
		return err
	}
	pl := makePlan(desired, current, *prune)
	return pl.run(ctx, *base, *yes, stdout)
}

// readDocumentFile reads the document in file ("-": stdin).
func readDocumentFile(file string) ([]statesrv.Process, error) {
	if file == "-" {
		return readDocument(os.Stdin, "-")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readDocument(f, file)
}

// validateAll normalizes every definition (commands.NormalizeProcess, as
// the server does) and returns one line per invalid one, and per id given
// twice.
func validateAll(procs []statesrv.Process) []string {
	var problems []string
	seen := map[int64]int{}
	for i := range procs {
		p := &procs[i]
		about := fmt.Sprintf("process %d (entry %d)", p.ID, i+1)
		if p.ID == 0 {
			about = fmt.Sprintf("entry %d (no id)", i+1)
		}
		if err := commands.NormalizeProcess(p); err != nil {
			problems = append(problems, about+": "+statesrv.ErrorMessage(err))
			continue
		}
		if j, dup := seen[p.ID]; dup {
			problems = append(problems, fmt.Sprintf("%s: id %d is also entry %d", about, p.ID, j+1))
			continue
		}
		seen[p.ID] = i
	}
	return problems
}

// step is one change of a plan.
type step struct {
	proc statesrv.Process
	// what lists the changed fields of a changed definition.
	what []string
}

// plan is what apply changes: definitions to create, to change and to
// delete, each ordered by id.
type plan struct {
	create, change, remove []step
	// unlisted counts the server's definitions the document lacks and
	// that are kept (no --prune).
	unlisted int
}

// makePlan compares the desired definitions (normalized) with the
// server's. A definition that normalizes to the server's own is left
// alone, as the server would append nothing for it.
func makePlan(desired, current []statesrv.Process, prune bool) plan {
	var pl plan
	have := map[int64]statesrv.Process{}
	for _, p := range current {
		commands.NormalizeProcess(&p)
		have[p.ID] = p
	}
	want := map[int64]bool{}
	for _, p := range desired {
		want[p.ID] = true
		cur, ok := have[p.ID]
		switch {
		case !ok:
			pl.create = append(pl.create, step{proc: p})
		case !reflect.DeepEqual(cur, p):
			pl.change = append(pl.change, step{proc: p, what: changes(cur, p)})
		}
	}
	for _, p := range current {
		switch {
		case want[p.ID]:
		case prune:
			pl.remove = append(pl.remove, step{proc: p})
		default:
			pl.unlisted++
		}
	}
	for _, l := range [][]step{pl.create, pl.change, pl.remove} {
		slices.SortFunc(l, func(a, b step) int { return cmp.Compare(a.proc.ID, b.proc.ID) })
	}
	return pl
}

// changes describes, field by field, how want differs from cur. The key
// is a secret: only its change is shown.
func changes(cur, want statesrv.Process) []string {
	var out []string
	text := func(field, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %s → %s", field, clip(a), clip(b)))
		}
	}
	text("name", cur.Name, want.Name)
	text("description", cur.Description, want.Description)
	text("schedule", cur.Schedule, want.Schedule)
	text("timezone", cur.Timezone, want.Timezone)
	if cur.MaxRuntime != want.MaxRuntime {
		out = append(out, fmt.Sprintf("max_runtime %s → %s", schedule.ShortDuration(time.Duration(cur.MaxRuntime)),
			schedule.ShortDuration(time.Duration(want.MaxRuntime))))
	}
	if cur.Enabled != want.Enabled {
		out = append(out, fmt.Sprintf("enabled %v → %v", cur.Enabled, want.Enabled))
	}
	if cur.Key != want.Key {
		out = append(out, "key changed")
	}
	if cur.RepeatEvery != want.RepeatEvery {
		out = append(out, fmt.Sprintf("repeat_every %s → %s", repeatText(cur.RepeatEvery), repeatText(want.RepeatEvery)))
	}
	text("fired_by", cur.FiredBy, want.FiredBy)
	if cur.AlertAfter != want.AlertAfter {
		out = append(out, fmt.Sprintf("alert_after %d → %d", cur.AlertAfter, want.AlertAfter))
	}
	if !slices.Equal(cur.Maintenance, want.Maintenance) {
		out = append(out, fmt.Sprintf("maintenance %s → %s", maintenanceText(cur.Maintenance), maintenanceText(want.Maintenance)))
	}
	for _, f := range []struct {
		name string
		a, b []string
	}{{"ok", cur.Alerts.OK, want.Alerts.OK}, {"fail", cur.Alerts.Fail, want.Alerts.Fail},
		{"timeout", cur.Alerts.Timeout, want.Alerts.Timeout}, {"late", cur.Alerts.Late, want.Alerts.Late},
		{"recovered", cur.Alerts.Recovered, want.Alerts.Recovered}} {
		if !slices.Equal(f.a, f.b) {
			out = append(out, fmt.Sprintf("alerts.%s [%s] → [%s]", f.name,
				schedule.OneLine(strings.Join(f.a, ", ")), schedule.OneLine(strings.Join(f.b, ", "))))
		}
	}
	if len(out) == 0 {
		out = append(out, "other fields changed")
	}
	return out
}

// maintenanceText writes maintenance windows for a diff line.
func maintenanceText(ws []statesrv.Window) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%q for %s", w.Schedule, schedule.ShortDuration(time.Duration(w.Duration)))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// clip quotes s for a diff line, cut to 60 characters.
func clip(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:59]) + "…"
	}
	return strconv.Quote(s)
}

func (pl plan) empty() bool { return len(pl.create)+len(pl.change)+len(pl.remove) == 0 }

// print writes the plan: one line per change and a summary.
func (pl plan) print(w io.Writer) {
	for _, s := range pl.create {
		fmt.Fprintf(w, "+ %d %s\n", s.proc.ID, schedule.OneLine(s.proc.Name))
	}
	for _, s := range pl.change {
		fmt.Fprintf(w, "~ %d %s: %s\n", s.proc.ID, schedule.OneLine(s.proc.Name), strings.Join(s.what, ", "))
	}
	for _, s := range pl.remove {
		fmt.Fprintf(w, "- %d %s\n", s.proc.ID, schedule.OneLine(s.proc.Name))
	}
	fmt.Fprintf(w, "%d to create, %d to change, %d to delete\n", len(pl.create), len(pl.change), len(pl.remove))
	if pl.unlisted > 0 {
		fmt.Fprintf(w, "%d definitions on the server are not in the document and are kept (--prune deletes them)\n", pl.unlisted)
	}
}

// run prints the plan and, with yes, applies it through the API at base as
// one change (POST /api/v1/apply): all of it, or nothing.
func (pl plan) run(ctx context.Context, base string, yes bool, w io.Writer) error {
	pl.print(w)
	switch {
	case pl.empty():
		return nil
	case !yes:
		fmt.Fprintln(w, "nothing applied: re-run with --yes to apply")
		return nil
	}
	var req struct {
		Define []statesrv.Process `json:"define"`
		Delete []int64            `json:"delete"`
	}
	for _, s := range slices.Concat(pl.create, pl.change) {
		req.Define = append(req.Define, s.proc)
	}
	for _, s := range pl.remove {
		req.Delete = append(req.Delete, s.proc.ID)
	}
	var res struct {
		Seq uint64 `json:"seq"`
	}
	if err := api(ctx, "POST", base, "/api/v1/apply", req, &res); err != nil {
		return fmt.Errorf("nothing applied: %w", err)
	}
	fmt.Fprintf(w, "applied: %d created, %d changed, %d deleted\n", len(pl.create), len(pl.change), len(pl.remove))
	return nil
}
