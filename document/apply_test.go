package document_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/document"
)

// fakeServer is a Server that records what it is asked to apply.
type fakeServer struct {
	procs   api.ProcessList
	changed []int64 // ApplyDryRun's answer
	applied []api.ApplyRequest
	err     error
}

func (f *fakeServer) Processes(context.Context) (api.ProcessList, error) { return f.procs, f.err }

func (f *fakeServer) ApplyDryRun(context.Context, api.ApplyRequest) (api.Applied, error) {
	return api.Applied{Changed: f.changed}, f.err
}

func (f *fakeServer) Apply(_ context.Context, req api.ApplyRequest) (api.Applied, error) {
	f.applied = append(f.applied, req)
	return api.Applied{}, f.err
}

func proc(id int64, desc string) statesrv.Process {
	return statesrv.Process{ID: id, Name: "job", Description: desc, Schedule: "@daily", Timezone: "UTC", Enabled: true}
}

func TestFetchOrdersByID(t *testing.T) {
	s := &fakeServer{procs: api.ProcessList{proc(3, "c"), proc(1, "a"), proc(2, "b")}}
	got, err := document.Fetch(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, p := range got {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []int64{1, 2, 3}) {
		t.Errorf("Fetch: ids %v, want 1 2 3", ids)
	}
}

func TestPlanRun(t *testing.T) {
	ctx := context.Background()
	desired := []statesrv.Process{proc(1, "a")}
	t.Run("without yes nothing is applied", func(t *testing.T) {
		s := &fakeServer{}
		var out strings.Builder
		if err := document.NewPlan(desired, nil, false).Run(ctx, s, false, &out); err != nil {
			t.Fatal(err)
		}
		if len(s.applied) != 0 || !strings.Contains(out.String(), "re-run with --yes") {
			t.Errorf("applied %v, said %q", s.applied, out.String())
		}
	})
	t.Run("with yes one change", func(t *testing.T) {
		s := &fakeServer{}
		var out strings.Builder
		if err := document.NewPlan(desired, nil, false).Run(ctx, s, true, &out); err != nil {
			t.Fatal(err)
		}
		if len(s.applied) != 1 || !strings.Contains(out.String(), "applied: 1 created, 0 changed, 0 deleted") {
			t.Errorf("applied %v, said %q", s.applied, out.String())
		}
	})
	t.Run("a refused change applies nothing", func(t *testing.T) {
		s := &fakeServer{err: errors.New("refused")}
		err := document.NewPlan(desired, nil, false).Run(ctx, s, true, &strings.Builder{})
		if err == nil || !strings.HasPrefix(err.Error(), "nothing applied: ") {
			t.Errorf("Run: %v, want nothing applied", err)
		}
	})
}
