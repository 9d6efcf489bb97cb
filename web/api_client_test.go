package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/eventlog"
)

// apiClient returns a client of e's API with the test token.
func (e *env) apiClient() *api.Client {
	return &api.Client{BaseURL: e.Server.URL, Token: "test-token", Timeout: 10 * time.Second}
}

// TestAPIClient calls every route of the client against the real handler.
func TestAPIClient(t *testing.T) {
	e := newEnv(t)
	c := e.apiClient()
	ctx := t.Context()

	p, err := c.PutProcess(ctx, statesrv.Process{ID: 7, Name: "backup", Enabled: true})
	if err != nil || p.ID != 7 || p.Name != "backup" {
		t.Fatalf("PutProcess: %+v, %v", p, err)
	}
	if got, err := c.Process(ctx, 7); err != nil || got.Name != "backup" {
		t.Fatalf("Process: %+v, %v", got, err)
	}
	if list, err := c.Processes(ctx); err != nil || len(list) != 1 || list[0].ID != 7 {
		t.Fatalf("Processes: %+v, %v", list, err)
	}
	run, err := c.StartRun(ctx, 7)
	if err != nil || run.ProcessID != 7 || run.ID == "" {
		t.Fatalf("StartRun: %+v, %v", run, err)
	}
	if runs, err := c.Runs(ctx); err != nil || len(runs) != 1 || runs[0].ID != run.ID {
		t.Fatalf("Runs: %+v, %v", runs, err)
	}
	if got, err := c.Run(ctx, run.ID); err != nil || got.ID != run.ID {
		t.Fatalf("Run: %+v, %v", got, err)
	}
	e.report(t, "#id=7;state=OK;run="+run.ID)
	if h, err := c.History(ctx, api.HistoryQuery{ProcessID: 7, State: "OK", Limit: 10}); err != nil || len(h) != 1 {
		t.Fatalf("History: %+v, %v", h, err)
	}
	e.report(t, "#id=99;state=OK")
	unp, err := c.Unprocessed(ctx, 0, 10)
	if err != nil || len(unp) != 1 {
		t.Fatalf("Unprocessed: %+v, %v", unp, err)
	}
	if d, err := c.Dismiss(ctx, unp[0].ID); err != nil || d.Dismissed != unp[0].ID || d.Seq == 0 {
		t.Fatalf("Dismiss: %+v, %v", d, err)
	}
	evs, err := c.Events(ctx, api.EventsQuery{Type: "RunStarted"})
	if err != nil || len(evs) != 1 || evs[0].ProcessID != 7 || len(evs[0].Hash) != 64 {
		t.Fatalf("Events: %+v, %v", evs, err)
	}
	st, err := c.State(ctx, time.Time{}, evs[0].Seq)
	if err != nil || st.Seq != evs[0].Seq || len(st.Runs) != 1 {
		t.Fatalf("State: %+v, %v", st, err)
	}
	applied, err := c.Apply(ctx, api.ApplyRequest{Define: []statesrv.Process{{ID: 8, Name: "other"}}, Delete: []int64{7}})
	if err != nil || len(applied.Created) != 1 || len(applied.Deleted) != 1 || len(applied.Changed) != 0 {
		t.Fatalf("Apply: %+v, %v", applied, err)
	}
	if err := c.DeleteProcess(ctx, 8); err != nil {
		t.Fatalf("DeleteProcess: %v", err)
	}
	if _, err := c.Alerts(ctx, 5); err != nil {
		t.Fatalf("Alerts: %v", err)
	}
	if r, err := c.Rebuild(ctx); err != nil || r.Events == 0 {
		t.Fatalf("Rebuild: %+v, %v", r, err)
	}
	body, err := c.Backup(ctx)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	n, err := eventlog.ReadBackup(body, func(*eventlog.Event) error { return nil })
	body.Close()
	if err != nil || n == 0 {
		t.Fatalf("Backup: %d events, %v", n, err)
	}
}

// TestAPIClientRefusal checks that the server's refusals reach the client
// as *statesrv.Error with the server's code and message.
func TestAPIClientRefusal(t *testing.T) {
	e := newEnv(t)
	c := e.apiClient()
	for _, tt := range []struct {
		name, code, msg string
		call            func(*api.Client) error
	}{
		{"ErrBadToken", statesrv.EAuth, "a valid bearer token is required", func(c *api.Client) error {
			bad := *c
			bad.Token = "wrong"
			_, err := bad.Processes(t.Context())
			return err
		}},
		{"ErrUnknownProcess", statesrv.ENotFound, "process 999 not found", func(c *api.Client) error {
			_, err := c.StartRun(t.Context(), 999)
			return err
		}},
		{"ErrInvalidDefinition", statesrv.EInvalid, "", func(c *api.Client) error {
			_, err := c.PutProcess(t.Context(), statesrv.Process{ID: 1, Name: "x", Schedule: "not a schedule"})
			return err
		}},
		{"ErrNoSuchEndpoint", statesrv.ENotFound, "no such endpoint: GET /api/v1/nothing", func(c *api.Client) error {
			return c.Do(t.Context(), http.MethodGet, "/api/v1/nothing", nil, nil)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(c)
			var se *statesrv.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *statesrv.Error", err, err)
			}
			if se.Code != tt.code || (tt.msg != "" && se.Message != tt.msg) {
				t.Errorf("error %+v, want code %s, message %q", se, tt.code, tt.msg)
			}
		})
	}
}

// TestAPIShapes checks that the named answers encode as the server
// encoded them before they had names: events as eventlog.Event's own
// JSON, the small answers as objects with their keys in sorted order.
func TestAPIShapes(t *testing.T) {
	e := newEnv(t)
	e.define(t, statesrv.Process{ID: 7, Name: "backup", Enabled: true, Alerts: statesrv.Alerts{Fail: []string{"mailto:ops@example.com"}}})
	e.report(t, "#id=7;state=OK;mid=m1;msg=<b>&")
	e.report(t, "#id=99;state=OK")
	raw := func(method, path, body string) []byte {
		t.Helper()
		res := e.do(t, method, path, strings.NewReader(body), http.Header{"Authorization": {"Bearer test-token"}})
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		return b
	}

	t.Run("Events", func(t *testing.T) {
		var want bytes.Buffer
		evs := e.loggedEvents(t, "MessageReceived")
		for i := range evs { // the API shows data as JSON, whatever its stored form
			var err error
			if evs[i].Data, err = statesrv.PayloadJSON(evs[i].Type, evs[i].Time, evs[i].Data); err != nil {
				t.Fatal(err)
			}
		}
		json.NewEncoder(&want).Encode(evs)
		if got := raw("GET", "/api/v1/events?type=MessageReceived", ""); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("events:\n got %s\nwant %s", got, want.Bytes())
		}
	})

	unp := raw("GET", "/api/v1/unprocessed", "")
	var msgs []statesrv.Unprocessed
	json.Unmarshal(unp, &msgs)
	for _, tt := range []struct{ method, path, body, keys string }{
		{"POST", "/api/v1/rebuild", "", "events seconds"},
		{"POST", "/api/v1/apply", `{"define":[{"id":8,"name":"x"}]}`, "changed created deleted seq"},
		{"POST", "/api/v1/processes/7/pause", `{"until":"2027-01-01T00:00:00Z"}`, "paused process_id until"},
		{"POST", "/api/v1/alerts/pause", "", "paused process_id"}, // until resumed: no "until"
		{"POST", "/api/v1/processes/7/resume", "", "paused process_id"},
		{"POST", "/api/v1/processes/7/test-alert", `{"recipient":"mailto:ops@example.com"}`, "process_id recipient requested"},
		{"POST", "/api/v1/unprocessed/" + msgs[0].ID + "/dismiss", "", "dismissed seq"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			got := raw(tt.method, tt.path, tt.body)
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range m {
				keys = append(keys, k)
			}
			want, _ := json.Marshal(m) // a map encodes its keys sorted
			if !bytes.Equal(bytes.TrimSpace(got), want) || len(keys) != len(strings.Fields(tt.keys)) {
				t.Errorf("answer %s, want the keys %s in that order", got, tt.keys)
			}
		})
	}
}
