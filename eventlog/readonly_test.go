package eventlog_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/eventlog/logtest"
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

func TestMain(m *testing.M) {
	logtest.CrashIfAsked()
	os.Exit(m.Run())
}

func TestBadgerReadOnly(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		MustLog(t, dir, 20)
		before := logtest.Files(t, dir)
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
		logtest.SameFiles(t, before, logtest.Files(t, dir))
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
		logtest.MustCrash(t, crashed)
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
