package commands_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

func TestFromJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body  string
		wantEnabled bool
		wantMax     time.Duration
		err         string
	}{
		{name: "LeftOutIsEnabled", body: `{"id": 1, "name": "a"}`, wantEnabled: true},
		{name: "NullIsEnabled", body: `{"enabled": null}`, wantEnabled: true},
		{name: "FalseStaysFalse", body: `{"enabled": false}`},
		{name: "TrueStaysTrue", body: `{"enabled": true}`, wantEnabled: true},
		{name: "MaxRuntimeNullIsLeftOut", body: `{"enabled": true, "max_runtime": null}`, wantEnabled: true},
		{name: "MaxRuntimeKept", body: `{"enabled": true, "max_runtime": "2h"}`, wantEnabled: true, wantMax: 2 * time.Hour},
		{name: "ErrMaxRuntimeZero", body: `{"max_runtime": "0s"}`, err: "max_runtime: must be positive (leave it out for the default, 1h)"},
		{name: "ErrMaxRuntimeZeroSeconds", body: `{"max_runtime": 0}`, err: "max_runtime: must be positive (leave it out for the default, 1h)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p statesrv.Process
			var given map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.body), &p); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.body), &given); err != nil {
				t.Fatal(err)
			}
			err := commands.FromJSON(&p, given)
			if tc.err != "" {
				if statesrv.ErrorCode(err) != statesrv.EInvalid || statesrv.ErrorMessage(err) != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Enabled != tc.wantEnabled || time.Duration(p.MaxRuntime) != tc.wantMax {
				t.Errorf("enabled %v, max_runtime %s; want %v, %s", p.Enabled, time.Duration(p.MaxRuntime), tc.wantEnabled, tc.wantMax)
			}
		})
	}
}
