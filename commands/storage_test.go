package commands_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/eventlog"
)

// TestStorageFull: on a full disk reports are refused with "storage full"
// and the server keeps its state as the log has it; once there is room the
// Service re-reads the log and takes reports again, and the refused
// decisions left nothing behind.
func TestStorageFull(t *testing.T) {
	var free atomic.Int64
	free.Store(1 << 40)
	s := &server{tb: t, clock: clock.NewFake(t0), logDir: t.TempDir(), viewsDir: t.TempDir(),
		FreeBytes: func(string) (int64, error) { return free.Load(), nil }}
	s.open()
	t.Cleanup(s.Close)
	s.MustDefine(process(1, ""))
	if _, err := s.Report(report(1, "START")); err != nil {
		t.Fatal(err)
	}
	last := s.Log.LastSeq()

	free.Store(1 << 20) // the disk fills
	for _, rep := range []string{"OK", "START", "FAIL"} {
		_, err := s.wait(s.Service.Report(report(1, rep)))
		if statesrv.ErrorCode(err) != statesrv.EFull || err.Error() != "storage full" {
			t.Fatalf("%s on a full disk = %v, want storage full", rep, err)
		}
	}
	if _, err := s.wait(s.Service.Reject(report(2, "OK"), statesrv.Errorf(statesrv.EInvalid, "bad"))); statesrv.ErrorCode(err) != statesrv.EFull {
		t.Fatalf("a refused line on a full disk = %v, want storage full", err)
	}
	if !errors.Is(s.Service.Degraded(), eventlog.ErrDiskFull) {
		t.Fatalf("Degraded = %v, want ErrDiskFull", s.Service.Degraded())
	}
	if s.Log.LastSeq() != last {
		t.Fatalf("the log grew on a full disk: %d, want %d", s.Log.LastSeq(), last)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Service.Recover(ctx)
	time.Sleep(1500 * time.Millisecond) // still full: still refused
	if _, err := s.wait(s.Service.Report(report(1, "OK"))); statesrv.ErrorCode(err) != statesrv.EFull {
		t.Fatalf("OK while still full = %v, want storage full", err)
	}
	free.Store(1 << 40) // room comes back
	deadline := time.Now().Add(5 * time.Second)
	for s.Service.Degraded() != nil {
		if time.Now().After(deadline) {
			t.Fatal("reports not taken again within 5 s of room coming back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The refused OK, START and FAIL never happened: the run opened before
	// the disk filled is still the one open, and this OK ends it.
	open := s.Service.OpenRuns()
	if len(open) != 1 {
		t.Fatalf("open runs after resuming: %d, want 1", len(open))
	}
	if _, err := s.Report(report(1, "OK")); err != nil {
		t.Fatalf("OK after resuming: %v", err)
	}
	checkFinished(t, s, open[0].ID, "OK")
	checkSameOpenRuns(t, s)
	rep, err := s.Log.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}
