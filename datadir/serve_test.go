package datadir

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

func TestOpenServer(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "new")
	// A directory that does not exist yet is created, with an empty log.
	d, n, err := OpenServer(ctx, data, ServerOptions{Serving: true, BatchTime: time.Millisecond})
	if err != nil || n != 0 {
		t.Fatalf("OpenServer of a new directory: %d events, %v", n, err)
	}
	if err := d.Degraded(); err != nil {
		t.Errorf("a new server is degraded: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// The views catch up with what the log holds.
	data = t.TempDir()
	MustLog(t, data, 1, 2, 3)
	d, n, err = OpenServer(ctx, data, ServerOptions{})
	if err != nil || n != 3 || d.Runner.Seq() != d.Log.LastSeq() {
		t.Fatalf("OpenServer: %d events caught up, %v; want 3", n, err)
	}
	// The log is locked while open.
	if _, _, err := OpenServer(ctx, data, ServerOptions{}); !errors.Is(err, eventlog.ErrLocked) ||
		!strings.Contains(err.Error(), "another server is running on "+data) {
		t.Errorf("a second OpenServer of an open directory = %v, want ErrLocked and the hint", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDegradedFullDisk(t *testing.T) {
	data := t.TempDir()
	MustLog(t, data, 1)
	d, _, err := OpenServer(context.Background(), data, ServerOptions{Serving: true})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	full := func(string) (int64, error) { return 0, nil }
	d, _, err = OpenServer(context.Background(), data, ServerOptions{Serving: true, FreeBytes: full})
	if err != nil {
		t.Fatalf("a server's open on a full disk: %v, want it up read-only", err)
	}
	defer d.Close()
	if err := d.Degraded(); statesrv.ErrorCode(err) != statesrv.EFull {
		t.Errorf("Degraded on a full disk: %v, want %s", err, statesrv.EFull)
	}
}
