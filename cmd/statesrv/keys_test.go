package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

// TestKeysNeverLeaveTheServer: a key set through the API is never in a
// reply, an event, replay (--url and --data, columns and JSON), state or
// the export, nor its hash; the backup holds the hash only (new events
// never hold a key in clear); reports with it are taken before and after a
// restart.
func TestKeysNeverLeaveTheServer(t *testing.T) {
	s := MustOpenServer(t)
	p := statesrv.Process{ID: 26, Name: "Keyed", Enabled: true, Key: statesrv.Ptr("s3cret-key")}
	if out := s.MustDefine(p); !out.KeySet || out.Key != nil || out.KeyHash != "" {
		t.Errorf("PUT reply %+v", out)
	}
	s.MustReportAck("#id=26;state=OK;key=s3cret-key")
	if reply := s.MustReport("#id=26;state=OK;key=guess"); reply != "ERR bad key" {
		t.Errorf("wrong key: %q", reply)
	}
	s.Runner.WaitFor(context.Background(), s.Log.LastSeq())
	base := "http://" + s.HTTPAddr
	t.Setenv("STATESRV_API_TOKEN", testToken)
	check := func(t *testing.T, what string, out []byte) {
		t.Helper()
		for _, secret := range []string{"s3cret-key", "key_hash", "sha256:", "$argon2id"} {
			if bytes.Contains(out, []byte(secret)) {
				t.Errorf("%s shows %q:\n%s", what, secret, out)
			}
		}
	}
	for _, args := range [][]string{
		{"replay", "--url", base, "--json"},
		{"replay", "--url", base},
		{"state", "--url", base, "--at", at(time.Hour).Format(time.RFC3339)},
		{"export", "--url", base},
		{"export", "--url", base, "--format", "json"},
	} {
		res := mustCLI(t, 0, args...)
		check(t, strings.Join(args[:1], " "), []byte(res.stdout))
	}
	// A backup is the log whole, hash-chained, for a restore: it holds the
	// key's hash (a restored server still checks keys) but never the key.
	if res := mustCLI(t, 0, "backup", "--url", base); strings.Contains(res.stdout, "s3cret-key") ||
		!strings.Contains(res.stdout, "key_hash") {
		t.Errorf("backup:\n%s", res.stdout)
	}
	s.MustReportAck("#id=26;state=OK;key=s3cret-key")
	s.MustRestart(nil)
	s.MustReportAck("#id=26;state=OK;key=s3cret-key")
	s.MustClose()
	for _, args := range [][]string{
		{"replay", "--data", s.dir, "--json"},
		{"replay", "--data", s.dir},
		{"state", "--data", s.dir, "--at", at(time.Hour).Format(time.RFC3339)},
	} {
		res := mustCLI(t, 0, args...)
		check(t, strings.Join(args, " "), []byte(res.stdout))
	}
}
