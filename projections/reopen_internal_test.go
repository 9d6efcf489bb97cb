package projections

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv/eventlog"
)

// TestReopenWaitsForReaders: views opened read-only on a full disk are not
// closed under a reader; Room gives up (still full, ErrBusy) while one
// reads, and reopens them writable once it is done.
func TestReopenWaitsForReaders(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var free atomic.Int64
	free.Store(1 << 20)
	probe := func(string) (int64, error) { return free.Load(), nil }
	s, err = OpenStoreWith(StoreOptions{Dir: dir, FreeBytes: probe, ReadOnlyIfFull: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Room(); !errors.Is(err, eventlog.ErrDiskFull) || !s.ReadOnly() {
		t.Fatalf("Room on a full disk = %v, ReadOnly %v; want ErrDiskFull and read-only", err, s.ReadOnly())
	}
	free.Store(1 << 40)
	err = s.view(func(*badger.Txn) error {
		err := s.Room()
		if !errors.Is(err, eventlog.ErrBusy) || !errors.Is(err, eventlog.ErrDiskFull) {
			t.Errorf("Room during a read = %v, want ErrBusy and ErrDiskFull", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !s.ReadOnly() {
		t.Fatal("a reopen that gave up left the views writable")
	}
	if err := s.Room(); err != nil || s.ReadOnly() {
		t.Fatalf("Room with room = %v, ReadOnly %v; want writable views", err, s.ReadOnly())
	}
	if _, err := s.Checkpoint(); err != nil {
		t.Fatalf("read after the reopen: %v", err)
	}
}
