package web

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
)

func TestPingHead(t *testing.T) {
	e := newEnv(t)
	e.define(t, statesrv.Process{ID: 5, Name: "job5", Enabled: true})

	t.Run("RecordsNothing", func(t *testing.T) {
		before := e.Log.LastSeq()
		for _, path := range []string{"/ping/5/OK", "/ping/5/FAIL?msg=x", "/ping/abc/MAYBE"} {
			res := e.do(t, http.MethodHead, path, nil, nil)
			if res.StatusCode != http.StatusOK {
				t.Errorf("HEAD %s: status %d, want 200", path, res.StatusCode)
			}
		}
		if after := e.Log.LastSeq(); after != before {
			t.Errorf("HEAD grew the log from seq %d to %d", before, after)
		}
	})
	t.Run("GetStillReports", func(t *testing.T) {
		before := e.Log.LastSeq()
		res := e.do(t, http.MethodGet, "/ping/5/OK", nil, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "ACK ") {
			t.Fatalf("GET: %d %q, want 200 ACK", res.StatusCode, body)
		}
		if after := e.Log.LastSeq(); after <= before {
			t.Errorf("GET left the log at seq %d", after)
		}
	})
}
