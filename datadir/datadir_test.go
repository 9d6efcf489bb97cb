package datadir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/statesrv/statesrv/eventlog/logtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

var t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

// MustLog creates the log of data with one ProcessDefined per id, and
// closes it.
func MustLog(tb testing.TB, data string, ids ...int64) {
	tb.Helper()
	logDir, _ := Paths(data)
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: logDir})
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	for i, id := range ids {
		raw, _ := json.Marshal(statesrv.Process{ID: id, Name: "job", Timezone: "UTC", Enabled: true})
		rec := eventlog.Record{Type: statesrv.EventProcessDefined, Time: t0.Add(time.Duration(i) * time.Second),
			Actor: statesrv.ActorCLI, ProcessID: id, Data: raw}
		if _, err := eventlog.Append(context.Background(), l, rec); err != nil {
			tb.Fatal(err)
		}
	}
}

// MustOpen opens data with opt and closes it when the test ends.
func MustOpen(tb testing.TB, data string, opt Options) *Dir {
	tb.Helper()
	d, err := Open(context.Background(), data, opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("LogOnly", func(t *testing.T) {
		data := t.TempDir()
		MustLog(t, data, 1, 2)
		d := MustOpen(t, data, Options{})
		if d.Log.LastSeq() != 2 || d.Store != nil || d.Runner != nil {
			t.Errorf("opened last seq %d, store %v, runner %v; want 2 and no views", d.Log.LastSeq(), d.Store, d.Runner)
		}
		if _, viewsDir := Paths(data); exists(viewsDir) {
			t.Error("opening the log alone created the views")
		}
	})

	t.Run("Views", func(t *testing.T) {
		data := t.TempDir()
		MustLog(t, data, 1, 2, 3)
		d := MustOpen(t, data, Options{Views: true})
		if n, _, err := d.Runner.Rebuild(ctx); err != nil || n != 3 {
			t.Errorf("Rebuild = %d, %v; want 3 events", n, err)
		}
	})

	t.Run("ViewsAheadDropped", func(t *testing.T) {
		long, short := t.TempDir(), t.TempDir()
		MustLog(t, long, 1, 2, 3)
		d, err := Open(ctx, long, Options{Views: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Runner.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		d.Close()
		MustLog(t, short, 1)
		_, from := Paths(long)
		_, to := Paths(short)
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
		d = MustOpen(t, short, Options{Views: true})
		if seq := d.Runner.Seq(); seq != 0 {
			t.Errorf("views of another log kept: at seq %d, want them dropped", seq)
		}
	})

	t.Run("ReadOnly", func(t *testing.T) {
		data := t.TempDir()
		MustLog(t, data, 1, 2)
		logDir, _ := Paths(data)
		before, _ := os.ReadDir(logDir)
		d := MustOpen(t, data, Options{ReadOnly: true})
		if d.Log.LastSeq() != 2 {
			t.Errorf("read-only open: last seq %d, want 2", d.Log.LastSeq())
		}
		d.Close()
		if after, _ := os.ReadDir(logDir); len(after) != len(before) {
			t.Errorf("read-only open left %d files, had %d", len(after), len(before))
		}
	})

	t.Run("ReadOnlyRecoversACrash", func(t *testing.T) {
		data := t.TempDir()
		mustCrash(t, data)
		d := MustOpen(t, data, Options{ReadOnly: true})
		if d.Log.LastSeq() != 1 {
			t.Errorf("crashed log opened at seq %d, want 1", d.Log.LastSeq())
		}
	})

	t.Run("ErrViewsReadOnly", func(t *testing.T) {
		data := t.TempDir()
		MustLog(t, data, 1)
		if _, err := Open(ctx, data, Options{Views: true, ReadOnly: true}); err == nil {
			t.Error("Open of the views read-only = nil, want an error")
		}
	})

	t.Run("ErrNoLog", func(t *testing.T) {
		_, err := Open(ctx, filepath.Join(t.TempDir(), "none"), Options{})
		if err == nil || !strings.HasPrefix(err.Error(), "no log in ") {
			t.Errorf("Open = %v, want no log", err)
		}
	})

	t.Run("ErrLocked", func(t *testing.T) {
		data := t.TempDir()
		MustLog(t, data, 1)
		MustOpen(t, data, Options{})
		for _, ro := range []bool{false, true} {
			_, err := Open(ctx, data, Options{ReadOnly: ro})
			if !errors.Is(err, eventlog.ErrLocked) || !strings.Contains(err.Error(), "a server is running on "+data+": use --url") {
				t.Errorf("second Open (read-only %v) = %v, want ErrLocked and the hint to use --url", ro, err)
			}
		}
	})
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	MustLog(t, src, 1, 2, 3)
	d, err := Open(ctx, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	_, err = eventlog.WriteBackup(ctx, d.Log, &backup, t0)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "new")
		last, err := Restore(data, bytes.NewReader(backup.Bytes()))
		if err != nil || last != 3 {
			t.Fatalf("Restore = %d, %v; want 3", last, err)
		}
		d := MustOpen(t, data, Options{})
		if rep, err := d.Log.Verify(ctx); err != nil || !rep.OK() || rep.LastSeq != 3 {
			t.Errorf("restored log: %+v, %v", rep, err)
		}
	})

	t.Run("ViewsRemoved", func(t *testing.T) {
		data := t.TempDir()
		_, viewsDir := Paths(data)
		os.MkdirAll(viewsDir, 0o750)
		if _, err := Restore(data, bytes.NewReader(backup.Bytes())); err != nil {
			t.Fatal(err)
		}
		if exists(viewsDir) {
			t.Error("the views of before the restore are still there")
		}
	})

	t.Run("ErrNotEmpty", func(t *testing.T) {
		if err := Empty(src); err == nil {
			t.Error("Empty of a directory with a log = nil")
		}
		if _, err := Restore(src, bytes.NewReader(backup.Bytes())); err == nil ||
			!strings.Contains(err.Error(), "already holds a log") {
			t.Errorf("Restore into a directory with a log = %v", err)
		}
	})

	t.Run("ErrTruncatedLeavesNothing", func(t *testing.T) {
		cut := backup.Bytes()[:backup.Len()/2]
		cut = cut[:bytes.LastIndexByte(cut, '\n')+1]
		data := t.TempDir()
		if _, err := Restore(data, bytes.NewReader(cut)); err == nil {
			t.Fatal("a truncated backup was restored")
		}
		if logDir, _ := Paths(data); exists(logDir) {
			t.Error("a failed restore left a log behind")
		}
		if err := Empty(data); err != nil {
			t.Errorf("Empty after a failed restore = %v", err)
		}
	})
}

func TestMain(m *testing.M) {
	logtest.CrashIfAsked()
	os.Exit(m.Run())
}

// mustCrash leaves in the data directory data a log of one event whose
// process exited without closing it.
func mustCrash(t *testing.T, data string) {
	t.Helper()
	logDir, _ := Paths(data)
	logtest.MustCrash(t, logDir)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
