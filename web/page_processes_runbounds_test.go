package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestProcessRunBounds checks that the form and the API take start_grace
// and min_runtime, and refuse them out of bounds with the field named.
func TestProcessRunBounds(t *testing.T) {
	e := newEnv(t)
	e.login(t)

	t.Run("FormOK", func(t *testing.T) {
		res := e.postForm(t, "/processes", with(processForm(), "start_grace", "5m", "min_runtime", "30s"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", res.StatusCode)
		}
		ps, ok := e.Service.Process(25)
		if !ok || time.Duration(ps.StartGrace) != 5*time.Minute || time.Duration(ps.MinRuntime) != 30*time.Second {
			t.Fatalf("defined %+v", ps.Process)
		}
		form := testid(e.page(t, "/processes/25/edit"), "process-form")
		for field, want := range map[string]string{"start_grace": "5m", "min_runtime": "30s"} {
			if got := form.Find(`input[name="`+field+`"]`).AttrOr("value", ""); got != want {
				t.Errorf("edit form %s = %q, want %q", field, got, want)
			}
		}
	})
	for _, tt := range []struct {
		name, field, value, want string
	}{
		{"ErrGraceOverMaxRuntime", "start_grace", "2h", "at most the max_runtime (1h30m)"},
		{"ErrGraceNotADuration", "start_grace", "soon", "not a duration"},
		{"ErrMinRuntimeNotLess", "min_runtime", "90m", "less than the max_runtime"},
		{"ErrMinRuntimeNegative", "min_runtime", "-5s", "not a duration"},
	} {
		t.Run("Form"+tt.name, func(t *testing.T) {
			before := e.Log.LastSeq()
			res, doc := e.postFormDoc(t, "/processes", with(processForm(), "id", "26", tt.field, tt.value))
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", res.StatusCode)
			}
			if msg := testid(doc, "error-"+tt.field).Text(); !strings.Contains(msg, tt.want) {
				t.Errorf("error-%s = %q, want it to say %q", tt.field, msg, tt.want)
			}
			if e.Log.LastSeq() != before {
				t.Errorf("the log grew from %d to %d", before, e.Log.LastSeq())
			}
		})
	}

	put := func(t *testing.T, body string) (int, string) {
		t.Helper()
		res := e.do(t, http.MethodPut, "/api/v1/processes/30", strings.NewReader(body),
			http.Header{"Authorization": {"Bearer test-token"}})
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	t.Run("APIOK", func(t *testing.T) {
		status, body := put(t, `{"name":"job","schedule":"@hourly","max_runtime":"10m","start_grace":"2m","min_runtime":"1m"}`)
		if status != http.StatusCreated {
			t.Fatalf("status %d: %s", status, body)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if got["start_grace"] != "2m0s" || got["min_runtime"] != "1m0s" {
			t.Errorf("process = %s", body)
		}
		status, body = put(t, `{"name":"job","schedule":"@hourly","max_runtime":"10m"}`)
		if status != http.StatusOK || strings.Contains(body, "start_grace") || strings.Contains(body, "min_runtime") {
			t.Errorf("without the fields: status %d, %s (want them left out)", status, body)
		}
	})
	t.Run("APIErrGraceOverMaxRuntime", func(t *testing.T) {
		status, body := put(t, `{"name":"job","max_runtime":"10m","start_grace":"11m"}`)
		if status != http.StatusBadRequest || !strings.Contains(body, "start_grace: at most the max_runtime (10m)") {
			t.Errorf("status %d, %s", status, body)
		}
	})
	t.Run("APIErrMinRuntimeNegative", func(t *testing.T) {
		status, body := put(t, `{"name":"job","min_runtime":"-1s"}`)
		if status != http.StatusBadRequest || !strings.Contains(body, "min_runtime:") {
			t.Errorf("status %d, %s", status, body)
		}
	})
}
