package logtest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/statesrv/statesrv/eventlog"
)

// Files describes every file under dir: mode, size, modification time and
// a hash of the contents, so that a test can prove a read-only open
// changed nothing.
func Files(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h := sha256.New()
		if d.Type().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
		}
		files[path] = fmt.Sprintf("%v %d %v %x", info.Mode(), info.Size(), info.ModTime().UnixNano(), h.Sum(nil))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// SameFiles fails the test unless every file of before is there unchanged
// and none was added.
func SameFiles(tb testing.TB, before, after map[string]string) {
	tb.Helper()
	for _, p := range slices.Sorted(maps.Keys(after)) {
		if b, ok := before[p]; !ok {
			tb.Errorf("%s was created", p)
		} else if b != after[p] {
			tb.Errorf("%s changed: %s, now %s", p, b, after[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			tb.Errorf("%s was removed", p)
		}
	}
}

// crashEnv names the log directory in which a test binary run again by
// MustCrash appends one event and exits without closing the log.
const crashEnv = "STATESRV_TEST_CRASH_LOG"

// CrashIfAsked, called first in a TestMain, makes the test binary that
// MustCrash runs again append one event to the log it names and exit
// without closing it. Otherwise it returns at once.
func CrashIfAsked() {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		return
	}
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: dir})
	if err == nil {
		_, err = eventlog.Append(context.Background(), l, eventlog.Record{Type: "T", Data: []byte(`{}`)})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0) // no Close: what a crash leaves behind
}

// MustCrash leaves in the log directory dir one event whose process exited
// without closing the log. The test binary's TestMain must call
// CrashIfAsked.
func MustCrash(tb testing.TB, dir string) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("crashing writer: %v: %s", err, out)
	}
}
