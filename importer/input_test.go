package importer

import (
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/crontab"
)

func TestReadInput(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		raw, err := ReadInput(strings.NewReader("0 2 * * * backup\n"), "crontab")
		if err != nil || string(raw) != "0 2 * * * backup\n" {
			t.Errorf("ReadInput = %q, %v", raw, err)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		_, err := ReadInput(strings.NewReader(strings.Repeat("#", MaxInput+1)), "big.xml")
		if err == nil || err.Error() != "big.xml: larger than 64 MiB" {
			t.Errorf("ReadInput = %v, want too large", err)
		}
	})
}

func TestTaken(t *testing.T) {
	proposal := func(id int64) crontab.Proposal {
		return crontab.Proposal{Process: statesrv.Process{ID: id}}
	}
	defined := []statesrv.Process{{ID: 5}, {ID: 7}}
	for name, tc := range map[string]struct {
		r    Result
		id   int64
		want bool
	}{
		"None":       {Result{Proposals: []crontab.Proposal{proposal(8), proposal(9)}, Defined: defined}, 0, false},
		"FirstTaken": {Result{Proposals: []crontab.Proposal{proposal(6), proposal(7), proposal(5)}, Defined: defined}, 7, true},
		"NoServer":   {Result{Proposals: []crontab.Proposal{proposal(5)}}, 0, false},
	} {
		t.Run(name, func(t *testing.T) {
			if id, ok := tc.r.Taken(); id != tc.id || ok != tc.want {
				t.Errorf("Taken = %d, %v; want %d, %v", id, ok, tc.id, tc.want)
			}
		})
	}
}
