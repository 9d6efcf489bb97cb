//go:build linux

package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestStorageFullTmpfs is TestStorageFull on a really full disk: the data
// directory on a 256 MiB tmpfs that another file fills while reports keep
// coming over TCP. It needs root (to mount) and says so when it skips.
func TestStorageFullTmpfs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256m"); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs here (%v); run as root on Linux to fill a real disk", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	s := &testServer{tb: t, dir: filepath.Join(mnt, "data")}
	s.configure = func(c *Config) { c.Clock = nil }
	s.MustOpen()
	t.Cleanup(func() {
		if s.Main != nil {
			s.Main.Close()
		}
	})
	s.MustDefine(pushOnly(1, time.Hour))
	filler := filepath.Join(mnt, "filler")

	// Reports over TCP all along: every ACK must be in the log at the end.
	stop := make(chan struct{})
	var mu sync.Mutex
	var acked []uint64
	var refused int
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := net.Dial("tcp", s.TCPAddr)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		rd := bufio.NewReader(conn)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			conn.SetDeadline(time.Now().Add(ioWait))
			if _, err := conn.Write([]byte("#id=1;state=OK;msg=load " + strconv.Itoa(i) + "\n")); err != nil {
				t.Error(err)
				return
			}
			reply, err := rd.ReadString('\n')
			if err != nil {
				t.Error(err)
				return
			}
			reply = strings.TrimSpace(reply)
			mu.Lock()
			if seq, ok := strings.CutPrefix(reply, "ACK "); ok {
				n, _ := strconv.ParseUint(seq, 10, 64)
				acked = append(acked, n)
			} else if reply == "ERR storage full" {
				refused++
			} else {
				t.Errorf("reply %q", reply)
			}
			mu.Unlock()
		}
	})
	time.Sleep(300 * time.Millisecond)
	fill(t, filler)
	time.Sleep(300 * time.Millisecond)
	checkStorageFull(t, s, "reports are refused")
	os.Remove(filler)
	more := checkIngestResumes(t, s)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	mu.Lock()
	t.Logf("load: %d ACKed, %d refused as storage full", len(acked), refused)
	if refused == 0 {
		t.Error("no report was refused while the disk was full")
	}
	all := append(acked, more...)
	mu.Unlock()
	checkAcked(t, s, all)

	// A restart on the full disk comes up read-only and degraded, and
	// takes reports again by itself once the file is removed.
	s.MustClose()
	fill(t, filler)
	s.MustOpen()
	checkStorageFull(t, s, "read-only")
	checkAcked(t, s, all)
	os.Remove(filler)
	all = append(all, checkIngestResumes(t, s)...)
	checkAcked(t, s, all)
	checkViewsEqualRebuild(t, s)
	s.MustClose()
	s.MustOpen()
	checkIngestResumes(t, s)
}

// fill writes path until the disk is full, 4 MiB at a time with a pause
// between (a steady writer, not a burst faster than the head-room).
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
