package commands

import (
	"bytes"
	"encoding/json"

	"github.com/statesrv/statesrv"
)

// FromJSON completes p, just decoded from a JSON object whose members are
// given, as the API and documents take a definition. A field the object
// leaves out (or gives as null) takes its default: NormalizeProcess fills
// in most, but "enabled", whose zero value would mean disabled, is set
// here: a definition that does not say is enabled, as on the dashboard's
// form. A "max_runtime" given as zero is an EInvalid error naming the
// field: in p it could not be told from one left out, and would silently
// become the default. The log's payloads, which hold every field, never
// need this.
func FromJSON(p *statesrv.Process, given map[string]json.RawMessage) error {
	if !isGiven(given, "enabled") {
		p.Enabled = true
	}
	if isGiven(given, "max_runtime") && p.MaxRuntime == 0 {
		return statesrv.Errorf(statesrv.EInvalid, "max_runtime: must be positive (leave it out for the default, %s)",
			statesrv.Duration(DefaultMaxRuntime).Text())
	}
	return nil
}

// isGiven reports whether the JSON object whose members are given has the
// member name with a value other than null.
func isGiven(given map[string]json.RawMessage, name string) bool {
	v, ok := given[name]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}
