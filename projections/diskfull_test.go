package projections_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// TestViewsWaitForRoom: on a full disk the views write nothing and say so;
// the Runner keeps running and follows the log again once there is room.
func TestViewsWaitForRoom(t *testing.T) {
	var free atomic.Int64
	free.Store(1 << 40)
	probe := func(string) (int64, error) { return free.Load(), nil }
	v := newViews(t)
	v.close()
	store, err := projections.OpenStoreWith(projections.StoreOptions{Dir: v.dir, FreeBytes: probe})
	if err != nil {
		t.Fatal(err)
	}
	v.store = store
	if v.runner, err = projections.NewRunner(v.log, store, nil); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	v.append(defined(at, 1))
	v.catchUp()

	free.Store(1 << 20) // the disk fills
	v.append(defined(at, 2))
	if _, err := v.runner.CatchUp(context.Background()); !errors.Is(err, eventlog.ErrDiskFull) {
		t.Fatalf("catch-up on a full disk = %v, want ErrDiskFull", err)
	}
	if _, _, err := v.runner.Rebuild(context.Background()); !errors.Is(err, eventlog.ErrDiskFull) {
		t.Fatalf("rebuild on a full disk = %v, want ErrDiskFull", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.runner.Run(ctx) }()
	checkFor(t, 3*time.Second, func() bool { return errors.Is(v.runner.Full(), eventlog.ErrDiskFull) })
	if v.runner.Seq() != 1 {
		t.Fatalf("views at %d on a full disk, want 1", v.runner.Seq())
	}
	v.runner.View(func(c *projections.Core) {
		if len(c.Procs) != 1 {
			t.Errorf("the Core holds %d processes, want 1 (the stored state)", len(c.Procs))
		}
	})

	free.Store(1 << 40) // room comes back
	checkFor(t, 3*time.Second, func() bool { return v.runner.Seq() == 2 && v.runner.Full() == nil })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	free.Store(1 << 20)
	if err := v.store.Close(); !errors.Is(err, eventlog.ErrDiskFull) {
		t.Fatalf("close on a full disk = %v, want ErrDiskFull (not flushed)", err)
	}
	free.Store(1 << 40)
	if err := v.store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	v.store = nil
}

// checkFor polls fn until it holds or wait passes.
func checkFor(t *testing.T, wait time.Duration, fn func() bool) {
	t.Helper()
	for end := time.Now().Add(wait); !fn(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition not met in time")
		}
	}
}

// TestViewsOpenedReadOnlyFollowOnceThereIsRoom: views opened read-only on a
// full disk are read as stored; once there is room the Runner reopens them
// writable and follows the log, and they equal a rebuild.
func TestViewsOpenedReadOnlyFollowOnceThereIsRoom(t *testing.T) {
	var free atomic.Int64
	free.Store(1 << 40)
	probe := func(string) (int64, error) { return free.Load(), nil }
	v := newViews(t)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	v.append(defined(at, 1))
	v.catchUp()
	v.close()
	v.append(defined(at, 2)) // the views lag the log

	free.Store(1 << 20)
	store, err := projections.OpenStoreWith(projections.StoreOptions{Dir: v.dir, FreeBytes: probe, ReadOnlyIfFull: true})
	if err != nil {
		t.Fatal(err)
	}
	v.store = store
	if !store.ReadOnly() {
		t.Fatal("views opened on a full disk are not read-only")
	}
	if v.runner, err = projections.NewRunner(v.log, store, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.runner.Run(ctx) }()
	checkFor(t, 3*time.Second, func() bool { return errors.Is(v.runner.Full(), eventlog.ErrDiskFull) })
	if v.runner.Seq() != 1 {
		t.Fatalf("views at %d on a full disk, want 1 (as stored)", v.runner.Seq())
	}
	if _, err := store.Checkpoint(); err != nil {
		t.Fatalf("read of read-only views: %v", err)
	}

	free.Store(1 << 40) // room comes back
	checkFor(t, 3*time.Second, func() bool { return v.runner.Seq() == 2 && v.runner.Full() == nil })
	if store.ReadOnly() {
		t.Fatal("the views follow the log but say they are read-only")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if cp, err := store.Checkpoint(); err != nil || cp != 2 {
		t.Fatalf("stored checkpoint %d, %v; want 2", cp, err)
	}
	live := dumpRunner(t, v.runner)
	if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dumpRunner(t, v.runner); !reflect.DeepEqual(live, rebuilt) {
		t.Fatalf("views after the reopen differ from a rebuild:\n%+v\n%+v", live, rebuilt)
	}
}
