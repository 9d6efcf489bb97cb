package main

import (
	"context"
	"fmt"
	"io"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/document"
)

// The document and the plan of apply live in package document; these
// names are the ones the import command reads them by.

// commented is a definition with comment lines written above it in YAML.
type commented = document.Entry

// writeDocument writes the definitions as a document (document.Write).
func writeDocument(w io.Writer, format, header string, procs []commented) error {
	if format != "yaml" && format != "json" {
		return fmt.Errorf("%w: --format: want yaml or json", errUsage)
	}
	return document.Write(w, format, header, procs)
}

// readDocument reads a document (document.Read).
func readDocument(r io.Reader, name string) ([]statesrv.Process, error) {
	return document.Read(r, name)
}

// validateAll normalizes every definition and lists the invalid ones
// (document.Validate).
func validateAll(procs []statesrv.Process) []string { return document.Validate(procs) }

// plan is a document.Plan that the command line can send.
type plan struct{ document.Plan }

// makePlan plans the changes from current to desired (document.NewPlan).
func makePlan(desired, current []statesrv.Process, prune bool) plan {
	return plan{document.NewPlan(desired, current, prune)}
}

// run prints the plan and, with yes, applies it at base (runPlan).
func (pl plan) run(ctx context.Context, base string, yes bool, w io.Writer) error {
	return runPlan(ctx, base, pl.Plan, yes, w)
}
