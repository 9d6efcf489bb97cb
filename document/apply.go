package document

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
)

// Server is the API of a running server that definitions are read from
// and a Plan is applied through: an api.Client.
type Server interface {
	Processes(ctx context.Context) (api.ProcessList, error)
	ApplyDryRun(ctx context.Context, req api.ApplyRequest) (api.Applied, error)
	Apply(ctx context.Context, req api.ApplyRequest) (api.Applied, error)
}

// Fetch returns the server's definitions ordered by id.
func Fetch(ctx context.Context, s Server) ([]statesrv.Process, error) {
	procs, err := s.Processes(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(procs, func(a, b statesrv.Process) int { return cmp.Compare(a.ID, b.ID) })
	return procs, nil
}

// Run prints the plan to w and, with yes, applies it through s as one
// change (POST /api/v1/apply): all of it, or nothing.
func (pl Plan) Run(ctx context.Context, s Server, yes bool, w io.Writer) error {
	if keys := pl.KeyOnly(); len(keys) > 0 {
		// Keys are stored hashed and never shown: whether a key given in
		// clear is the one set, only the server can say.
		res, err := s.ApplyDryRun(ctx, api.ApplyRequest{Define: keys})
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
	if _, err := s.Apply(ctx, req); err != nil {
		return fmt.Errorf("nothing applied: %w", err)
	}
	fmt.Fprintf(w, "applied: %d created, %d changed, %d deleted\n", len(pl.Create), len(pl.Change), len(pl.Remove))
	return nil
}
