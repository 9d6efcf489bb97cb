package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

// TestPutProcessDefaults checks the defaults of a definition given through
// the API: enabled unless it says otherwise, a max_runtime of 0 refused
// rather than silently made 1h.
func TestPutProcessDefaults(t *testing.T) {
	e := newEnv(t)
	put := func(t *testing.T, id, body string) (int, statesrv.Process, string) {
		t.Helper()
		status, text := e.apiCall(t, http.MethodPut, "/api/v1/processes/"+id, body, nil)
		var p statesrv.Process
		json.Unmarshal([]byte(text), &p)
		return status, p, text
	}
	t.Run("NewIsEnabled", func(t *testing.T) {
		status, p, body := put(t, "40", `{"name": "NewJob", "schedule": "@hourly"}`)
		if status != http.StatusCreated || !p.Enabled {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("RedefinitionWithoutItIsEnabled", func(t *testing.T) {
		e.define(t, statesrv.Process{ID: 41, Name: "Paused"})
		status, p, body := put(t, "41", `{"name": "Paused"}`)
		if status != http.StatusOK || !p.Enabled {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("FalseIsKept", func(t *testing.T) {
		status, p, body := put(t, "42", `{"name": "Off", "enabled": false}`)
		if status != http.StatusCreated || p.Enabled {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("MaxRuntimeLeftOutIsOneHour", func(t *testing.T) {
		for _, body := range []string{`{"name": "a"}`, `{"name": "a", "max_runtime": null}`} {
			if status, p, text := put(t, "43", body); status >= 300 || p.MaxRuntime != statesrv.Duration(time.Hour) {
				t.Errorf("%s: status %d: %s", body, status, text)
			}
		}
	})
	for _, tt := range []struct{ name, body string }{
		{"ErrMaxRuntimeZero", `{"name": "a", "max_runtime": "0s"}`},
		{"ErrMaxRuntimeZeroSeconds", `{"name": "a", "max_runtime": 0}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.Log.LastSeq()
			status, _, body := put(t, "44", tt.body)
			if status != http.StatusBadRequest || !strings.Contains(body, "max_runtime: must be positive (leave it out for the default, 1h)") {
				t.Errorf("status %d: %s", status, body)
			}
			if e.Log.LastSeq() != before {
				t.Error("the log grew")
			}
		})
	}
	t.Run("ApplyTheSame", func(t *testing.T) {
		status, body := e.apiCall(t, http.MethodPost, "/api/v1/apply",
			`{"define": [{"id": 45, "name": "a"}, {"id": 46, "name": "b", "enabled": false}]}`, nil)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		a, _ := e.Service.Process(45)
		b, _ := e.Service.Process(46)
		if !a.Enabled || b.Enabled {
			t.Errorf("45 enabled %v, 46 enabled %v; want true, false", a.Enabled, b.Enabled)
		}
		status, body = e.apiCall(t, http.MethodPost, "/api/v1/apply",
			`{"define": [{"id": 47, "name": "a"}, {"id": 48, "name": "b", "max_runtime": "0s"}]}`, nil)
		if status != http.StatusBadRequest || !strings.Contains(body, "define[1]: max_runtime: must be positive") {
			t.Errorf("status %d: %s", status, body)
		}
		if _, ok := e.Service.Process(47); ok {
			t.Error("a refused apply created process 47")
		}
	})
}

func TestAuthSchemeAnyCase(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		header string
		status int
	}{
		{"Bearer test-token", http.StatusOK},
		{"bearer test-token", http.StatusOK},
		{"BEARER test-token", http.StatusOK},
		{"  bearer   test-token ", http.StatusOK},
		{"Basic test-token", http.StatusUnauthorized},
		{"bearer wrong", http.StatusUnauthorized},
		{"bearertest-token", http.StatusUnauthorized},
		{"test-token", http.StatusUnauthorized},
	} {
		res := e.do(t, http.MethodGet, "/api/v1/processes", nil, http.Header{"Authorization": {tt.header}})
		if res.StatusCode != tt.status {
			t.Errorf("Authorization %q: status %d, want %d", tt.header, res.StatusCode, tt.status)
		}
	}
}

func TestPauseAnswer(t *testing.T) {
	e := newEnv(t)
	e.define(t, statesrv.Process{ID: 7, Name: "backup", Enabled: true})
	t.Run("UntilResumedHasNoUntil", func(t *testing.T) {
		for _, path := range []string{"/api/v1/alerts/pause", "/api/v1/processes/7/pause"} {
			for _, body := range []string{"", "{}"} {
				status, text := e.apiCall(t, http.MethodPost, path, body, nil)
				if status != http.StatusOK || strings.Contains(text, "until") {
					t.Errorf("POST %s %q: status %d: %s", path, body, status, text)
				}
			}
		}
	})
	t.Run("UntilATime", func(t *testing.T) {
		status, text := e.apiCall(t, http.MethodPost, "/api/v1/processes/7/pause", `{"until":"2027-01-01T00:00:00Z"}`, nil)
		if status != http.StatusOK || !strings.Contains(text, `"until":"2027-01-01T00:00:00Z"`) {
			t.Errorf("status %d: %s", status, text)
		}
	})
}

func TestEventsUnknownType(t *testing.T) {
	e := newEnv(t)
	e.define(t, statesrv.Process{ID: 7, Name: "backup", Enabled: true})
	for _, tt := range []struct{ name, typ, want string }{
		{"ErrCase", "runtimedout", `unknown event type \"runtimedout\" (did you mean RunTimedOut?); one of ProcessDefined, `},
		{"ErrUnknown", "RunExploded", `unknown event type \"RunExploded\"; one of ProcessDefined, `},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.apiCall(t, http.MethodGet, "/api/v1/events?type="+tt.typ, "", nil)
			if status != http.StatusBadRequest || !strings.Contains(body, tt.want) || !strings.Contains(body, "RunTimedOut") {
				t.Errorf("status %d: %s", status, body)
			}
		})
	}
	t.Run("KnownType", func(t *testing.T) {
		status, body := e.apiCall(t, http.MethodGet, "/api/v1/events?type=ProcessDefined", "", nil)
		if status != http.StatusOK || !strings.Contains(body, `"type":"ProcessDefined"`) {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("PageShowsTheError", func(t *testing.T) {
		e.login(t)
		res, doc := e.get(t, "/events?type=runtimedout")
		if res.StatusCode != http.StatusBadRequest || testid(doc, "error-type").Text() == "" {
			t.Errorf("status %d, error %q; want 400 with the error under the type filter",
				res.StatusCode, testid(doc, "error-type").Text())
		}
	})
}

func TestWebhookScheme(t *testing.T) {
	e := newEnv(t)
	for i, tt := range []struct {
		name, hook string
		status     int
	}{
		{"HTTPS", "https://hooks.example.com/x", http.StatusCreated},
		{"HTTPLocalhost", "http://localhost:9000/hook", http.StatusCreated},
		{"HTTPLoopback", "http://127.0.0.1:9000/hook", http.StatusCreated},
		{"HTTPLoopbackV6", "http://[::1]:9000/hook", http.StatusCreated},
		{"ErrHTTP", "http://hooks.example.com/x", http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := strconv.Itoa(50 + i)
			status, body := e.apiCall(t, http.MethodPut, "/api/v1/processes/"+id,
				`{"name": "a", "alerts": {"fail": ["`+tt.hook+`"]}}`, nil)
			if status != tt.status {
				t.Errorf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.status == http.StatusBadRequest && !strings.Contains(body, "use https://") {
				t.Errorf("the refusal does not say https is wanted: %s", body)
			}
		})
	}
}
