package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/document"
)

// writeFile writes content to name in a fresh temp directory and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// eventCount returns how many events the server's log holds.
func (s *testServer) eventCount() int {
	s.tb.Helper()
	n, after := 0, 0
	for {
		evs := s.MustEvents("after=" + strconv.Itoa(after))
		n += len(evs)
		if len(evs) < 1000 {
			return n
		}
		after = int(evs[len(evs)-1].Seq)
	}
}

// mustCLI runs the command line and fails unless it exits with code.
func mustCLI(t *testing.T, code int, args ...string) cliResult {
	t.Helper()
	res := runCLI(args...)
	if res.code != code {
		t.Fatalf("statesrv %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "),
			res.code, code, res.stdout, res.stderr)
	}
	return res
}

// onboardServer starts a server with three definitions and sets the CLI's
// token.
func onboardServer(t *testing.T) (*testServer, string) {
	t.Helper()
	s := MustOpenServer(t)
	backup := scheduled(25, "0 2 * * *", 2*time.Hour)
	backup.Name, backup.Timezone = "JajaBackupData", "Europe/Prague"
	backup.Description = "nightly backup; see wiki"
	backup.Alerts.Fail = []string{"mailto:ops@example.com", "sms:+420600000000"}
	backup.Alerts.Timeout = []string{"mailto:ops@example.com"}
	push := pushOnly(26, 90*time.Second)
	push.Key = statesrv.Ptr("s3cret")
	old := scheduled(30, "@weekly", time.Hour)
	old.Name, old.Enabled = "OldJob", false
	for _, p := range []statesrv.Process{backup, push, old} {
		s.MustDefine(p)
	}
	t.Setenv("STATESRV_API_TOKEN", testToken)
	return s, "http://" + s.HTTPAddr
}

func TestExportApplyRoundTrip(t *testing.T) {
	s, base := onboardServer(t)
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			s := withTB(s, t)
			out := mustCLI(t, 0, "export", "--url", base, "--format", format)
			file := writeFile(t, "procs."+format, out.stdout)
			got, err := document.Read(strings.NewReader(out.stdout), file)
			if err != nil {
				t.Fatal(err)
			}
			var want []statesrv.Process
			s.MustGet("/api/v1/processes", &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("export read back:\n%+v\nwant:\n%+v", got, want)
			}
			if !strings.Contains(out.stdout, "max_runtime") || !strings.Contains(out.stdout, "2h") ||
				strings.Contains(out.stdout, "2h0m0s") {
				t.Errorf("max_runtime not written as short text:\n%s", out.stdout)
			}
			before := s.eventCount()
			res := mustCLI(t, 0, "apply", "-f", file, "--url", base, "--yes", "--prune")
			if res.stdout != "0 to create, 0 to change, 0 to delete\n" {
				t.Errorf("apply of the export:\n%s", res.stdout)
			}
			if n := s.eventCount(); n != before {
				t.Errorf("%d events after applying the export, %d before", n, before)
			}
		})
	}
}

func TestExportYAML(t *testing.T) {
	_, base := onboardServer(t)
	out := mustCLI(t, 0, "export", "--url", base)
	for _, want := range []string{
		"processes:\n  - id: 25\n    name: JajaBackupData\n    description: nightly backup; see wiki\n" +
			"    schedule: 0 2 * * *\n    timezone: Europe/Prague\n    max_runtime: 2h\n    enabled: true\n",
		"    alerts:\n      ok: []\n      fail:\n        - mailto:ops@example.com\n        - sms:+420600000000\n",
		"max_runtime: 1m30s",
		"key_set: true",
	} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("export lacks %q:\n%s", want, out.stdout)
		}
	}
	// The key is stored hashed: neither it nor its hash is exported.
	if strings.Contains(out.stdout, "s3cret") || strings.Contains(out.stdout, "key_hash") || strings.Contains(out.stdout, "sha256") {
		t.Errorf("export shows the key:\n%s", out.stdout)
	}
}

func TestApply(t *testing.T) {
	s, base := onboardServer(t)
	doc := `processes:
  - id: 25
    name: JajaBackupData
    description: nightly backup; see wiki
    schedule: "0 3 * * *"
    timezone: Europe/Prague
    max_runtime: 2h
    enabled: true
    alerts:
      fail: [mailto:ops@example.com, sms:+420600000000]
      timeout: [mailto:ops@example.com]
  - id: 26
    name: job26
    max_runtime: 90
    enabled: true
    key: s3cret
  - id: 27
    name: NewJob
    schedule: "@daily"
    enabled: true
`
	file := writeFile(t, "procs.yaml", doc)

	t.Run("WithoutYesWritesNothing", func(t *testing.T) {
		s := withTB(s, t)
		before := s.eventCount()
		res := mustCLI(t, 0, "apply", "-f", file, "--url", base)
		want := "+ 27 NewJob\n" +
			"~ 25 JajaBackupData: schedule \"0 2 * * *\" → \"0 3 * * *\"\n" +
			"1 to create, 1 to change, 0 to delete\n" +
			"1 definitions on the server are not in the document and are kept (--prune deletes them)\n" +
			"nothing applied: re-run with --yes to apply\n"
		if res.stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
		}
		mustCLI(t, 0, "apply", "-f", file, "--url", base, "--dry-run")
		if n := s.eventCount(); n != before {
			t.Errorf("%d events after a plan without --yes, %d before", n, before)
		}
	})

	t.Run("UsageErrors", func(t *testing.T) {
		mustCLI(t, 2, "apply", "-f", file, "--url", base, "--yes", "--dry-run")
		mustCLI(t, 2, "apply", "--url", base)
	})

	t.Run("CreatesAndChanges", func(t *testing.T) {
		s := withTB(s, t)
		before := len(s.MustEvents("type=ProcessDefined"))
		res := mustCLI(t, 0, "apply", "-f", file, "--url", base, "--yes")
		if !strings.HasSuffix(res.stdout, "applied: 1 created, 1 changed, 0 deleted\n") {
			t.Errorf("stdout:\n%s", res.stdout)
		}
		if n := len(s.MustEvents("type=ProcessDefined")); n != before+2 {
			t.Errorf("%d ProcessDefined events, want %d", n, before+2)
		}
		var p statesrv.Process
		s.MustGet("/api/v1/processes/25", &p)
		if p.Schedule != "0 3 * * *" {
			t.Errorf("process 25: schedule %q", p.Schedule)
		}
		s.MustGet("/api/v1/processes/27", &p)
		if p.Name != "NewJob" || p.Timezone != "UTC" || time.Duration(p.MaxRuntime) != time.Hour {
			t.Errorf("process 27: %+v", p)
		}

		// The same file again: nothing to do, nothing recorded.
		count := s.eventCount()
		res = mustCLI(t, 0, "apply", "-f", file, "--url", base, "--yes")
		if !strings.HasPrefix(res.stdout, "0 to create, 0 to change, 0 to delete\n") {
			t.Errorf("second apply:\n%s", res.stdout)
		}
		if n := s.eventCount(); n != count {
			t.Errorf("second apply appended %d events", n-count)
		}
	})

	t.Run("PrunesOnlyWithPrune", func(t *testing.T) {
		s := withTB(s, t)
		res := mustCLI(t, 0, "apply", "-f", file, "--url", base, "--prune")
		if !strings.Contains(res.stdout, "- 30 OldJob\n0 to create, 0 to change, 1 to delete\n") {
			t.Errorf("plan with --prune:\n%s", res.stdout)
		}
		s.MustCall("GET", "/api/v1/processes/30", nil, 200, nil)
		res = mustCLI(t, 0, "apply", "-f", file, "--url", base, "--prune", "--yes")
		if !strings.HasSuffix(res.stdout, "applied: 0 created, 0 changed, 1 deleted\n") {
			t.Errorf("stdout:\n%s", res.stdout)
		}
		s.MustCall("GET", "/api/v1/processes/30", nil, 404, nil)
	})

	t.Run("ShowsEveryChangedField", func(t *testing.T) {
		changed := strings.NewReplacer("name: job26", "name: Job 26", "key: s3cret", "key: other",
			"max_runtime: 90", "max_runtime: 2m", "timeout: [mailto:ops@example.com]", "timeout: []").Replace(doc)
		res := mustCLI(t, 0, "apply", "-f", writeFile(t, "changed.yml", changed), "--url", base)
		want := `~ 25 JajaBackupData: alerts.timeout [mailto:ops@example.com] → []` + "\n" +
			`~ 26 Job 26: name "job26" → "Job 26", max_runtime 1m30s → 2m, key changed` + "\n"
		if !strings.HasPrefix(res.stdout, want) {
			t.Errorf("stdout:\n%s\nwant prefix:\n%s", res.stdout, want)
		}
		if strings.Contains(res.stdout, "other") {
			t.Errorf("the key's value is shown:\n%s", res.stdout)
		}
	})

	t.Run("RefusesAnInvalidFile", func(t *testing.T) {
		s := withTB(s, t)
		before := s.eventCount()
		bad := `{"processes": [
  {"id": 40, "name": "ok job", "schedule": "@hourly"},
  {"id": 41, "name": "BadSchedule", "schedule": "0 2 * *"},
  {"id": 42, "name": "BadZone", "timezone": "Mars/Olympus"},
  {"name": "NoID"},
  {"id": 40, "name": "again"},
  {"id": 43, "name": "a;b"}
]}`
		res := mustCLI(t, 1, "apply", "-f", writeFile(t, "bad.json", bad), "--url", base, "--yes")
		for _, want := range []string{
			"5 errors, nothing applied",
			`processes[1] (id 41), line 3: schedule: bad schedule "0 2 * *": expected 5 or 6 fields`,
			`processes[2] (id 42), line 4: timezone: unknown time zone "Mars/Olympus"`,
			"processes[3], line 5: id: must be a positive integer",
			"processes[4] (id 40), line 6: id 40 is also processes[0]",
			"processes[5] (id 43), line 7: name: at most 200 characters, no ';' or line breaks",
		} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
			}
		}
		if res.stdout != "" {
			t.Errorf("stdout: %s", res.stdout)
		}
		if n := s.eventCount(); n != before {
			t.Errorf("an invalid file appended %d events", n-before)
		}
	})

	t.Run("RefusesUnknownFields", func(t *testing.T) {
		res := mustCLI(t, 1, "apply", "-f", writeFile(t, "typo.yaml", "processes:\n  - id: 1\n    name: x\n    schedul: '@daily'\n"), "--url", base)
		if !strings.Contains(res.stderr, `unknown field "schedul"`) {
			t.Errorf("stderr: %s", res.stderr)
		}
		res = mustCLI(t, 1, "apply", "-f", writeFile(t, "dup.yaml", "processes:\n  - id: 1\n    name: x\n    name: y\n"), "--url", base)
		if !strings.Contains(res.stderr, `line 4: key "name" given twice`) {
			t.Errorf("stderr: %s", res.stderr)
		}
	})

	t.Run("ListsEveryError", func(t *testing.T) {
		s := withTB(s, t)
		before := s.eventCount()
		doc := "processes:\n" +
			"  - id: 5\n    name: a\n    max_runtime: [1h]\n" +
			"  - id: 6\n    name: b\n    colour: red\n    schedule: nope\n" +
			"  - id: 7\n    name: c\n    alerts:\n      fail: mailto:ops@example.com\n"
		file := writeFile(t, "bad.yaml", doc)
		res := mustCLI(t, 1, "apply", "-f", file, "--url", base, "--yes")
		want := "statesrv apply: " + file + ": 4 errors, nothing applied:\n" +
			"  processes[0] (id 5), line 4: max_runtime: want a duration like \"1h30m\", got a list\n" +
			"  processes[1] (id 6), line 7: unknown field \"colour\"\n" +
			"  processes[1] (id 6), line 8: schedule: bad schedule \"nope\": expected 5 or 6 fields\n" +
			"  processes[2] (id 7), line 12: alerts.fail: want a list, got \"mailto:ops@example.com\"\n"
		if res.stderr != want {
			t.Errorf("stderr:\n%s\nwant:\n%s", res.stderr, want)
		}
		if n := s.eventCount(); n != before {
			t.Errorf("an invalid file appended %d events", n-before)
		}
	})

	t.Run("ReadsStdin", func(t *testing.T) {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		stdin := os.Stdin
		os.Stdin = f
		defer func() { os.Stdin = stdin }()
		res := mustCLI(t, 0, "apply", "-f", "-", "--url", base)
		if !strings.HasPrefix(res.stdout, "0 to create, 0 to change, 0 to delete\n") {
			t.Errorf("stdout:\n%s", res.stdout)
		}
	})
}

// TestApplyIsOneChange checks POST /api/v1/apply: every change in one
// append (consecutive seqs, one time), and nothing at all when one
// definition is invalid.
func TestApplyIsOneChange(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(statesrv.Process{ID: 5, Name: "old", Enabled: true})
	first := s.Log.LastSeq() + 1
	var res struct {
		Seq     uint64  `json:"seq"`
		Created []int64 `json:"created"`
		Changed []int64 `json:"changed"`
		Deleted []int64 `json:"deleted"`
	}
	body := map[string]any{
		"define": []statesrv.Process{{ID: 6, Name: "a", Enabled: true}, {ID: 7, Name: "b", Enabled: true}},
		"delete": []int64{5},
	}
	s.MustCall("POST", "/api/v1/apply", body, 200, &res)
	if res.Seq != first || len(res.Created) != 2 || len(res.Deleted) != 1 {
		t.Fatalf("apply = %+v, want two created and one deleted from seq %d", res, first)
	}
	var times []time.Time
	for e, err := range s.Log.Range(context.Background(), first, 0) {
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, e.Time)
	}
	if len(times) != 3 || !times[0].Equal(times[2]) {
		t.Fatalf("apply appended %d events at %v, want 3 decided together", len(times), times)
	}
	bad := map[string]any{"define": []statesrv.Process{{ID: 8, Name: "c"}, {ID: 9, Name: "d", Schedule: "nope"}}}
	s.MustCall("POST", "/api/v1/apply", bad, 400, nil)
	if s.Log.LastSeq() != first+2 {
		t.Fatal("a refused apply appended events")
	}
}
