package eventlog

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// fakeDisk is a free-space probe that tests fill and empty.
type fakeDisk struct{ free atomic.Int64 }

func newFakeDisk() *fakeDisk {
	d := &fakeDisk{}
	d.free.Store(1 << 40)
	return d
}

func (d *fakeDisk) Free(string) (int64, error) { return d.free.Load(), nil }
func (d *fakeDisk) fill()                      { d.free.Store(1 << 20) }
func (d *fakeDisk) empty()                     { d.free.Store(1 << 40) }

func TestFullDisk(t *testing.T) {
	rec := Record{Type: "T", Data: []byte(`{}`)}
	t.Run("OpenRefused", func(t *testing.T) {
		disk := newFakeDisk()
		disk.fill()
		_, err := OpenBadger(Options{Dir: t.TempDir(), FreeBytes: disk.Free})
		if !errors.Is(err, ErrDiskFull) {
			t.Fatalf("open on a 'full' disk = %v, want ErrDiskFull", err)
		}
	})
	t.Run("OpenReadOnlyIfFull", func(t *testing.T) {
		dir := t.TempDir()
		disk := newFakeDisk()
		l, err := OpenBadger(Options{Dir: dir, FreeBytes: disk.Free})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Append(context.Background(), l, rec); err != nil {
			t.Fatal(err)
		}
		l.Close()
		disk.fill()
		l, err = OpenBadger(Options{Dir: dir, FreeBytes: disk.Free, ReadOnlyIfFull: true})
		if err != nil {
			t.Fatalf("open read-only on a full disk: %v", err)
		}
		if l.LastSeq() != 1 || !errors.Is(l.Full(), ErrDiskFull) {
			t.Fatalf("LastSeq %d, Full %v; want 1 and ErrDiskFull", l.LastSeq(), l.Full())
		}
		if _, err := l.Get(1); err != nil {
			t.Fatalf("read on a full disk: %v", err)
		}
		if _, err := Append(context.Background(), l, rec); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("append = %v, want ErrDiskFull", err)
		}
		if err := l.Resume(); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("Resume on the still full disk = %v, want ErrDiskFull", err)
		}
		disk.empty()
		if err := l.Room(); err != nil {
			t.Fatalf("Room with room: %v", err)
		}
		// A reader in the middle of a read holds the read-only database:
		// Resume gives up after ReopenWait instead of closing it under it.
		for _, err := range l.Range(context.Background(), 1, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Resume(); !errors.Is(err, ErrBusy) {
				t.Fatalf("Resume during a read = %v, want ErrBusy", err)
			}
		}
		if !l.ReadOnly() || l.Full() == nil {
			t.Fatal("a Resume that gave up left the log writable")
		}
		if err := l.Resume(); err != nil {
			t.Fatalf("Resume of a log opened read-only, with room: %v", err)
		}
		if l.ReadOnly() || l.Full() != nil {
			t.Fatalf("after Resume: ReadOnly %v, Full %v; want a writable log", l.ReadOnly(), l.Full())
		}
		evs, err := Append(context.Background(), l, rec)
		if err != nil || evs[0].Seq != 2 {
			t.Fatalf("append after Resume = %v, %v; want seq 2", evs, err)
		}
		if _, err := l.Get(1); err != nil {
			t.Fatalf("read after Resume: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("close after Resume: %v", err)
		}
		l, err = OpenBadger(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if rep, err := l.Verify(context.Background()); err != nil || !rep.OK() || l.LastSeq() != 2 {
			t.Fatalf("verify after a reopen: %+v, %v, LastSeq %d; want 2 events chained", rep, err, l.LastSeq())
		}
	})
	t.Run("AppendRefusedUntilResume", func(t *testing.T) {
		dir := t.TempDir()
		disk := newFakeDisk()
		l, err := OpenBadger(Options{Dir: dir, FreeBytes: disk.Free})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Append(context.Background(), l, rec); err != nil {
			t.Fatal(err)
		}
		disk.fill()
		_, err = Append(context.Background(), l, rec)
		if !errors.Is(err, ErrDiskFull) || errors.Is(err, ErrStopped) {
			t.Fatalf("append on a full disk = %v, want ErrDiskFull, not ErrStopped", err)
		}
		if !errors.Is(l.Full(), ErrDiskFull) || l.Err() != nil {
			t.Fatalf("Full %v, Err %v; want ErrDiskFull and nil", l.Full(), l.Err())
		}
		if err := l.Resume(); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("Resume on a full disk = %v, want ErrDiskFull", err)
		}
		disk.empty() // room comes back: still refused until Resume
		if _, err := Append(context.Background(), l, rec); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("append before Resume = %v, want ErrDiskFull", err)
		}
		if l.LastSeq() != 1 {
			t.Fatalf("LastSeq = %d, want 1: nothing refused may count", l.LastSeq())
		}
		if err := l.Resume(); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		evs, err := Append(context.Background(), l, rec)
		if err != nil || evs[0].Seq != 2 {
			t.Fatalf("append after Resume = %v, %v; want seq 2", evs, err)
		}
		l.Close()
		l, err = OpenBadger(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if rep, err := l.Verify(context.Background()); err != nil || !rep.OK() {
			t.Fatalf("verify: %+v, %v", rep, err)
		}
		if l.LastSeq() != 2 {
			t.Fatalf("LastSeq after reopen = %d, want 2", l.LastSeq())
		}
	})
	t.Run("CloseOnFullDiskLeavesTheLogToReplay", func(t *testing.T) {
		dir := t.TempDir()
		disk := newFakeDisk()
		l, err := OpenBadger(Options{Dir: dir, FreeBytes: disk.Free})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Append(context.Background(), l, rec); err != nil {
			t.Fatal(err)
		}
		disk.fill()
		if err := l.Close(); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("close on a full disk = %v, want ErrDiskFull (not flushed)", err)
		}
		// The directory stays locked by this process: a real restart is a
		// new process. The synced write-ahead log holds the event.
		l.db.Close() // release it here (the disk is not really full)
		l, err = OpenBadger(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if l.LastSeq() != 1 {
			t.Fatalf("LastSeq after reopen = %d, want 1", l.LastSeq())
		}
	})
}
