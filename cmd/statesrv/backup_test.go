package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
)

// TestBackupRestoreRoundTrip backs up a running server through the API,
// restores the file into a new directory, and checks that the restored
// log verifies and rebuilds to the same views.
func TestBackupRestoreRoundTrip(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(statesrv.Process{ID: 26, Name: "NightlyExport", Enabled: true})
	s.MustDefine(statesrv.Process{ID: 27, Name: "Other", Enabled: true, Schedule: "0 * * * *"})
	c := s.MustDial()
	c.MustAck("#id=26;state=OK;mid=a")
	c.MustAck("#id=26;state=FAIL;msg=disk full")
	c.MustAck("#id=99;state=OK")
	c.MustAck("#id=27;state=START")
	if reply := c.MustSend("garbage"); !strings.HasPrefix(reply, "ERR") {
		t.Fatalf("garbage got %q", reply)
	}
	s.Runner.WaitFor(context.Background(), s.Log.LastSeq())

	t.Setenv("STATESRV_API_TOKEN", testToken)
	var backup, stderr bytes.Buffer
	if code := run([]string{"backup", "--url", "http://" + s.HTTPAddr}, &backup, &stderr); code != 0 {
		t.Fatalf("backup exited %d: %s", code, stderr.String())
	}
	want := viewsOf(s)
	s.MustClose()

	file := filepath.Join(t.TempDir(), "backup.jsonl")
	if err := os.WriteFile(file, backup.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	if code := run([]string{"restore", "--data", dir, file}, &out, &stderr); code != 0 {
		t.Fatalf("restore exited %d: %s", code, stderr.String())
	}
	if code := run([]string{"restore", "--data", dir, file}, &out, &stderr); code == 0 {
		t.Fatal("a second restore into the same directory succeeded")
	}
	out.Reset()
	if code := run([]string{"verify", "--data", dir}, &out, &stderr); code != 0 {
		t.Fatalf("verify of the restored log exited %d: %s", code, out.String())
	}

	r := &testServer{tb: t, dir: dir, clk: s.clk}
	r.MustOpen()
	defer r.Main.Close()
	if got := viewsOf(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored views differ:\n got %+v\nwant %+v", got, want)
	}

	// A truncated backup is refused and leaves no log behind.
	cut := backup.Bytes()[:backup.Len()/2]
	cut = cut[:bytes.LastIndexByte(cut, '\n')+1]
	os.WriteFile(file, cut, 0o600)
	dir2 := t.TempDir()
	if code := run([]string{"restore", "--data", dir2, file}, &out, &stderr); code == 0 {
		t.Fatal("a truncated backup was restored")
	}
	if _, err := os.Stat(filepath.Join(dir2, "log")); err == nil {
		t.Fatal("a failed restore left a log behind")
	}
}

// views is what a server shows through the API: definitions, open runs,
// history and unprocessed messages.
type views struct {
	procs []statesrv.Process
	runs  []statesrv.Run
	hist  []statesrv.Run
	unp   []statesrv.Unprocessed
}

func viewsOf(s *testServer) views {
	var v views
	s.MustGet("/api/v1/processes", &v.procs)
	s.MustGet("/api/v1/runs", &v.runs)
	s.MustGet("/api/v1/history", &v.hist)
	s.MustGet("/api/v1/unprocessed", &v.unp)
	return v
}
