package eventlog_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/statesrv/statesrv/eventlog"
)

// MustLog writes n events into a new log in dir and closes it.
func MustLog(t *testing.T, dir string, n int) {
	t.Helper()
	l := openBadger(t, dir)
	for range n {
		if _, err := eventlog.Append(context.Background(), l, eventlog.Record{Type: "T", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// openReadOnly opens the log in dir read-only.
func openReadOnly(dir string) (*eventlog.Badger, error) {
	return eventlog.OpenBadger(eventlog.Options{Dir: dir, ReadOnly: true})
}

// snapshot describes every file under dir: name, mode, size, modification
// time and a hash of the contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
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
		t.Fatal(err)
	}
	return files
}

// sameFiles fails the test unless every file of before is there unchanged
// and no file was added.
func sameFiles(t *testing.T, before, after map[string]string) {
	t.Helper()
	for _, p := range slices.Sorted(maps.Keys(after)) {
		if b, ok := before[p]; !ok {
			t.Errorf("%s was created", p)
		} else if b != after[p] {
			t.Errorf("%s changed: %s, now %s", p, b, after[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s was removed", p)
		}
	}
}

// crashEnv names the directory in which the test binary, run again by
// mustCrash, appends one event and exits without closing the log.
const crashEnv = "EVENTLOG_TEST_CRASH"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
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
	os.Exit(m.Run())
}

// mustCrash leaves in dir a log of one event whose process exited without
// closing it.
func mustCrash(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crashing writer: %v: %s", err, out)
	}
}

func TestBadgerReadOnly(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		MustLog(t, dir, 20)
		before := snapshot(t, dir)
		l, err := openReadOnly(dir)
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := l.Verify(ctx); err != nil || !rep.OK() || rep.LastSeq != 20 {
			t.Errorf("verify = %+v, %v", rep, err)
		}
		if _, err := eventlog.Append(ctx, l, eventlog.Record{Type: "T", Data: []byte(`{}`)}); !errors.Is(err, eventlog.ErrClosed) {
			t.Errorf("append to a read-only log = %v, want ErrClosed", err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		sameFiles(t, before, snapshot(t, dir))
	})

	t.Run("ReadersShare", func(t *testing.T) {
		dir := t.TempDir()
		MustLog(t, dir, 1)
		a, err := openReadOnly(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := openReadOnly(dir)
		if err != nil {
			t.Fatalf("second reader: %v", err)
		}
		b.Close()
	})

	t.Run("ErrLocked", func(t *testing.T) {
		dir := t.TempDir()
		w := openBadger(t, dir)
		defer w.Close()
		for _, ro := range []bool{false, true} {
			_, err := eventlog.OpenBadger(eventlog.Options{Dir: dir, ReadOnly: ro})
			if !errors.Is(err, eventlog.ErrLocked) || !strings.Contains(err.Error(), dir) {
				t.Errorf("open (read-only %v) beside a writer = %v, want ErrLocked naming %s", ro, err, dir)
			}
		}
		r := t.TempDir()
		MustLog(t, r, 1)
		reader, err := openReadOnly(r)
		if err != nil {
			t.Fatal(err)
		}
		defer reader.Close()
		if _, err := eventlog.OpenBadger(eventlog.Options{Dir: r}); !errors.Is(err, eventlog.ErrLocked) {
			t.Errorf("writable open beside a reader = %v, want ErrLocked", err)
		}
	})

	t.Run("ErrNeedsRecovery", func(t *testing.T) {
		crashed := t.TempDir()
		mustCrash(t, crashed)
		if _, err := openReadOnly(crashed); !errors.Is(err, eventlog.ErrNeedsRecovery) {
			t.Fatalf("read-only open of a crashed log = %v, want ErrNeedsRecovery", err)
		}
		MustLog(t, crashed, 0) // a writable open recovers it
		l, err := openReadOnly(crashed)
		if err != nil {
			t.Fatalf("read-only open after recovery: %v", err)
		}
		defer l.Close()
		if l.LastSeq() != 1 {
			t.Errorf("recovered log ends at %d, want 1", l.LastSeq())
		}
	})

	t.Run("ErrPermission", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes whatever the permission bits say; cmd/statesrv tests a read-only mount")
		}
		dir := t.TempDir()
		MustLog(t, dir, 1)
		os.Chmod(dir, 0o555)
		defer os.Chmod(dir, 0o755)
		_, err := eventlog.OpenBadger(eventlog.Options{Dir: dir})
		var perr *fs.PathError
		if !errors.Is(err, fs.ErrPermission) || !errors.As(err, &perr) || perr.Path != dir || perr.Op != "write" {
			t.Fatalf("writable open of a read-only directory = %v, want permission denied to write %s", err, dir)
		}
		l, err := openReadOnly(dir)
		if err != nil {
			t.Fatalf("read-only open of a read-only directory: %v", err)
		}
		l.Close()
	})
}
