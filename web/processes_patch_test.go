package web

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
)

// apiCall sends an API request with the test token and returns the status
// and the body.
func (e *env) apiCall(t *testing.T, method, path, body string, header http.Header) (int, string) {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer test-token"}}
	for k, v := range header {
		h[k] = v
	}
	res := e.do(t, method, path, strings.NewReader(body), h)
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// patchProcess PATCHes process 25 with a merge patch.
func (e *env) patchProcess(t *testing.T, patch string) (int, string) {
	t.Helper()
	return e.apiCall(t, http.MethodPatch, "/api/v1/processes/25", patch,
		http.Header{"Content-Type": {"application/merge-patch+json"}})
}

func TestPatchProcess(t *testing.T) {
	e := newEnv(t)
	full := statesrv.Process{ID: 25, Name: "JajaBackupData", Schedule: "0 2 * * *", Timezone: "Europe/Prague",
		MaxRuntime: statesrv.Duration(2 * time.Hour), Enabled: true,
		Alerts: statesrv.Alerts{Fail: []string{"mailto:ops@example.com", "sms:+420600000000"},
			Timeout: []string{"mailto:ops@example.com"}}}
	reset := func(t *testing.T) {
		t.Helper()
		e.define(t, full)
	}
	stored := func(t *testing.T) statesrv.Process {
		t.Helper()
		ps, ok := e.Service.Process(25)
		if !ok {
			t.Fatal("process 25 is gone")
		}
		return ps.Process
	}
	// unchanged fails the test when the log grew since before.
	unchanged := func(t *testing.T, before uint64) {
		t.Helper()
		if got := e.Log.LastSeq(); got != before {
			t.Errorf("the log grew from %d to %d", before, got)
		}
	}

	t.Run("OnlyTheFieldsNamed", func(t *testing.T) {
		reset(t)
		status, body := e.patchProcess(t, `{"enabled": false, "name": "NewJob"}`)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		want := full
		want.Enabled, want.Name = false, "NewJob"
		if got := stored(t); !sameDefinition(got, want) {
			t.Errorf("stored %+v\nwant %+v", got, want)
		}
		var answered statesrv.Process
		if err := json.Unmarshal([]byte(body), &answered); err != nil || !sameDefinition(answered, want) {
			t.Errorf("answer %s, %v", body, err)
		}
	})
	t.Run("AlertsMergeListByList", func(t *testing.T) {
		reset(t)
		status, body := e.patchProcess(t, `{"alerts": {"fail": ["mailto:x@example.com"]}}`)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		got := stored(t)
		if !slices.Equal(got.Alerts.Fail, []string{"mailto:x@example.com"}) ||
			!slices.Equal(got.Alerts.Timeout, full.Alerts.Timeout) || got.Schedule != full.Schedule {
			t.Errorf("stored %+v", got)
		}
	})
	t.Run("NullIsTheDefault", func(t *testing.T) {
		reset(t)
		e.patchProcess(t, `{"enabled": false}`)
		status, body := e.patchProcess(t, `{"max_runtime": null, "timezone": null, "enabled": null, "alerts": {"timeout": null}}`)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		got := stored(t)
		if got.MaxRuntime != statesrv.Duration(time.Hour) || got.Timezone != "UTC" || !got.Enabled ||
			len(got.Alerts.Timeout) != 0 || len(got.Alerts.Fail) != 2 {
			t.Errorf("stored %+v", got)
		}
	})
	t.Run("ApplicationJSONToo", func(t *testing.T) {
		reset(t)
		status, body := e.apiCall(t, http.MethodPatch, "/api/v1/processes/25", `{"description": "nightly"}`,
			http.Header{"Content-Type": {"application/json"}})
		if status != http.StatusOK || stored(t).Description != "nightly" {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("NothingChangedAppendsNothing", func(t *testing.T) {
		reset(t)
		before := e.Log.LastSeq()
		for _, patch := range []string{`{}`, `{"name": "JajaBackupData", "alerts": {"ok": []}}`} {
			if status, body := e.patchProcess(t, patch); status != http.StatusOK {
				t.Errorf("%s: status %d: %s", patch, status, body)
			}
		}
		unchanged(t, before)
	})
	t.Run("Client", func(t *testing.T) {
		reset(t)
		p, err := e.apiClient().PatchProcess(t.Context(), 25, api.MergePatch{
			"schedule": "0 3 * * *", "alerts": api.MergePatch{"fail": nil}})
		if err != nil || p.Schedule != "0 3 * * *" || len(p.Alerts.Fail) != 0 || len(p.Alerts.Timeout) != 1 {
			t.Errorf("PatchProcess: %+v, %v", p, err)
		}
		_, err = e.apiClient().PatchProcess(t.Context(), 999, api.MergePatch{"enabled": false})
		if statesrv.ErrorCode(err) != statesrv.ENotFound {
			t.Errorf("unknown id: %v, want not found", err)
		}
	})

	for _, tt := range []struct {
		name, patch string
		status      int
		want        string
	}{
		{"ErrBadValue", `{"max_runtime": "soon"}`, http.StatusBadRequest, "max_runtime: bad duration"},
		{"ErrMaxRuntimeZero", `{"max_runtime": "0s"}`, http.StatusBadRequest, "max_runtime: must be positive"},
		{"ErrInvalidSchedule", `{"schedule": "every day"}`, http.StatusBadRequest, "schedule:"},
		{"ErrBadRecipient", `{"alerts": {"fail": ["ops@example.com"]}}`, http.StatusBadRequest, "alerts.fail:"},
		{"ErrWrongType", `{"enabled": "yes"}`, http.StatusBadRequest, "field enabled: wrong type: want true or false, got string"},
		{"ErrTagsNotAList", `{"tags": "backup"}`, http.StatusBadRequest, "field tags: wrong type: want a list, got string"},
		{"ErrUnknownField", `{"colour": "red"}`, http.StatusBadRequest, `unknown field \"colour\"`},
		{"ErrUnknownFieldRemoved", `{"colour": null}`, http.StatusBadRequest, `unknown field \"colour\"`},
		{"ErrUnknownAlert", `{"alerts": {"sometimes": []}}`, http.StatusBadRequest, `unknown field \"alerts.sometimes\"`},
		{"ErrUnknownInWindow", `{"maintenance": [{"schedule": "0 1 * * 0", "duration": "1h", "x": 1}]}`, http.StatusBadRequest, `unknown field \"x\"`},
		{"ErrOtherID", `{"id": 26}`, http.StatusBadRequest, "id: the body says 26, the path 25"},
		{"ErrNotAnObject", `["enabled"]`, http.StatusBadRequest, "a JSON object"},
		{"ErrNull", `null`, http.StatusBadRequest, "a JSON object"},
		{"ErrEmpty", ``, http.StatusBadRequest, "body: empty"},
		{"ErrNotJSON", `{"enabled": fals}`, http.StatusBadRequest, "not valid JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			before := e.Log.LastSeq()
			status, body := e.patchProcess(t, tt.patch)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("status %d: %s, want %d saying %q", status, body, tt.status, tt.want)
			}
			unchanged(t, before)
			if got := stored(t); !sameDefinition(got, full) {
				t.Errorf("stored %+v, want it unchanged", got)
			}
		})
	}
	t.Run("ErrUnknownProcess", func(t *testing.T) {
		status, body := e.apiCall(t, http.MethodPatch, "/api/v1/processes/999", `{"enabled": false}`,
			http.Header{"Content-Type": {"application/merge-patch+json"}})
		if status != http.StatusNotFound || !strings.Contains(body, "process 999 not found") {
			t.Errorf("status %d: %s", status, body)
		}
		if _, ok := e.Service.Process(999); ok {
			t.Error("a PATCH created process 999")
		}
	})
	t.Run("ErrMediaType", func(t *testing.T) {
		res := e.do(t, http.MethodPatch, "/api/v1/processes/25", strings.NewReader(`{"enabled": false}`),
			http.Header{"Authorization": {"Bearer test-token"}, "Content-Type": {"application/x-www-form-urlencoded"}})
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusUnsupportedMediaType || res.Header.Get("Accept-Patch") != "application/merge-patch+json" ||
			!strings.Contains(string(b), "application/merge-patch+json") {
			t.Errorf("status %d, Accept-Patch %q: %s", res.StatusCode, res.Header.Get("Accept-Patch"), b)
		}
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		res := e.do(t, http.MethodPatch, "/api/v1/processes/25", strings.NewReader(`{"enabled": false}`),
			http.Header{"Content-Type": {"application/merge-patch+json"}})
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", res.StatusCode)
		}
	})
}

// sameDefinition compares two stored definitions field by field.
func sameDefinition(a, b statesrv.Process) bool {
	for i := range statesrv.ProcessFields {
		if !statesrv.ProcessFields[i].Equal(&a, &b) {
			return false
		}
	}
	return true
}
