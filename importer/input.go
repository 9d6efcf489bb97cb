package importer

import (
	"fmt"
	"io"
)

// MaxInput bounds the source an import reads.
const MaxInput = 64 << 20

// ReadInput reads the source of Propose from r. It returns an error, naming
// the source name, when it is larger than MaxInput, and the error of r.
func ReadInput(r io.Reader, name string) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err == nil && len(raw) > MaxInput {
		err = fmt.Errorf("%s: larger than %d MiB", name, MaxInput>>20)
	}
	return raw, err
}

// Taken returns the id of the first proposal that the server already
// defines (see Options.Defined), and false when there is none: applying
// the proposals would replace that definition.
func (r Result) Taken() (int64, bool) {
	for _, p := range r.Proposals {
		for _, d := range r.Defined {
			if d.ID == p.ID {
				return p.ID, true
			}
		}
	}
	return 0, false
}
