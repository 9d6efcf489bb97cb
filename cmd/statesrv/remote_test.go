package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// TestURLCommands runs the audit commands against a running server through
// the API, and checks that the server's refusals reach the user.
func TestURLCommands(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(statesrv.Process{ID: 26, Name: "NightlyExport", Enabled: true})
	s.MustReportAck("#id=26;state=OK;msg=done")
	base := "http://" + s.HTTPAddr
	t.Setenv("STATESRV_API_TOKEN", testToken)
	cli := func(t *testing.T, code int, args ...string) cliResult {
		t.Helper()
		res := runCLI(args...)
		if res.code != code {
			t.Fatalf("statesrv %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s",
				strings.Join(args, " "), res.code, code, res.stdout, res.stderr)
		}
		return res
	}

	t.Run("Start", func(t *testing.T) {
		res := cli(t, 0, "start", "--url", base, "26")
		if !strings.Contains(res.stdout, "of process 26 opened at") {
			t.Errorf("stdout %q", res.stdout)
		}
	})

	t.Run("ReplayJSONAsTheLog", func(t *testing.T) {
		s.Runner.WaitFor(context.Background(), s.Log.LastSeq())
		res := cli(t, 0, "replay", "--url", base, "--process", "26", "--type", "RunFinished", "--json")
		var want []eventlog.Event
		for e, err := range s.Log.Range(context.Background(), 1, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if e.ProcessID == 26 && e.Type == "RunFinished" {
				w := *e
				if w.Data, err = statesrv.PayloadJSON(e.Type, e.Time, e.Data); err != nil { // shown as JSON
					t.Fatal(err)
				}
				want = append(want, w)
			}
		}
		var b strings.Builder
		for _, e := range want {
			line, _ := json.Marshal(e)
			b.Write(line)
			b.WriteByte('\n')
		}
		if len(want) != 1 || res.stdout != b.String() {
			t.Errorf("replay printed\n%s\nwant\n%s", res.stdout, b.String())
		}
	})

	t.Run("StateAtSeq", func(t *testing.T) {
		seq := strconv.FormatUint(s.Log.LastSeq(), 10)
		res := cli(t, 0, "state", "--url", base, "--seq", seq)
		if !strings.Contains(res.stdout, "(through event "+seq+")") || !strings.Contains(res.stdout, "NightlyExport") {
			t.Errorf("stdout %q", res.stdout)
		}
	})

	t.Run("Rebuild", func(t *testing.T) {
		res := cli(t, 0, "rebuild", "--url", base)
		if !strings.HasPrefix(res.stdout, "rebuilt every view from ") {
			t.Errorf("stdout %q", res.stdout)
		}
	})

	t.Run("ErrUnknownProcess", func(t *testing.T) {
		res := cli(t, 1, "start", "--url", base, "999")
		if !strings.Contains(res.stderr, "404 Not Found: process 999 not found") {
			t.Errorf("stderr %q, want the server's message", res.stderr)
		}
	})

	t.Run("ErrBadToken", func(t *testing.T) {
		t.Setenv("STATESRV_API_TOKEN", "wrong")
		for _, args := range [][]string{
			{"start", "--url", base, "26"},
			{"replay", "--url", base},
			{"state", "--url", base, "--seq", "1"},
			{"rebuild", "--url", base},
			{"backup", "--url", base},
			{"cron", "export", "--url", base},
		} {
			res := cli(t, 1, args...)
			if !strings.Contains(res.stderr, "401 Unauthorized: a valid bearer token is required") || res.stdout != "" {
				t.Errorf("%q: stdout %q, stderr %q; want the server's message only", args, res.stdout, res.stderr)
			}
		}
	})

	t.Run("ErrNotTheAPI", func(t *testing.T) {
		res := cli(t, 1, "state", "--url", base+"/nothing-here", "--seq", "1")
		if !strings.Contains(res.stderr, "GET /api/v1/state: 404 Not Found: not an answer of the statesrv API") {
			t.Errorf("stderr %q", res.stderr)
		}
	})
}
