package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

// fakeDisk is a free-space probe that a test fills and empties.
type fakeDisk struct{ free atomic.Int64 }

func newFakeDisk() *fakeDisk {
	d := &fakeDisk{}
	d.empty()
	return d
}

func (d *fakeDisk) Free(string) (int64, error) { return d.free.Load(), nil }
func (d *fakeDisk) fill()                      { d.free.Store(1 << 20) }
func (d *fakeDisk) empty()                     { d.free.Store(1 << 40) }

// TestStorageFull: SPEC §10 "Storage full" with the disk's free space
// simulated. The tmpfs test does the same on a real full disk.
func TestStorageFull(t *testing.T) {
	disk := newFakeDisk()
	s := &testServer{tb: t, dir: t.TempDir(), clk: nil}
	s.configure = func(c *Config) { c.FreeBytes = disk.Free; c.Clock = nil }
	s.MustOpen()
	t.Cleanup(func() {
		if s.Main != nil {
			disk.empty()
			s.Main.Close()
		}
	})
	s.MustDefine(pushOnly(1, time.Hour))
	acked := []uint64{s.MustReportAck("#id=1;state=START")}

	disk.fill()
	checkStorageFull(t, s, "reports are refused")
	disk.empty()
	acked = append(acked, checkIngestResumes(t, s)...)
	checkAcked(t, s, acked)

	// A restart on a full disk comes up read-only and degraded, and takes
	// reports again by itself once there is room: no restart.
	s.MustClose()
	disk.fill()
	s.MustOpen()
	checkStorageFull(t, s, "read-only")
	checkAcked(t, s, acked)
	disk.empty()
	acked = append(acked, checkIngestResumes(t, s)...)
	checkAcked(t, s, acked)
	checkViewsEqualRebuild(t, s)
	s.MustClose()
	s.MustOpen()
	checkIngestResumes(t, s)
}

// checkViewsEqualRebuild waits for the views to follow the log, then
// compares the processes, open runs and history the API shows with what
// it shows after a rebuild of the views from the log.
func checkViewsEqualRebuild(t *testing.T, s *testServer) {
	t.Helper()
	eventually(t, func() error {
		if v, l := s.Runner.Seq(), s.Log.LastSeq(); v != l {
			return fmt.Errorf("views at %d, log at %d", v, l)
		}
		return nil
	})
	read := func() string {
		var b strings.Builder
		for _, p := range []string{"/api/v1/processes", "/api/v1/runs", "/api/v1/history?limit=1000", "/api/v1/alerts"} {
			_, body := s.MustDo("GET", p, nil)
			b.Write(body)
		}
		return b.String()
	}
	live := read()
	if status, body := s.MustDo("POST", "/api/v1/rebuild", nil); status != http.StatusOK {
		t.Fatalf("rebuild: %d %s", status, body)
	}
	if rebuilt := read(); rebuilt != live {
		t.Fatalf("views differ from a rebuild:\nlive    %s\nrebuilt %s", live, rebuilt)
	}
}

// checkStorageFull checks the degraded server: reports, pings and API
// writes refused as storage full, reads and pages served, /healthz 503.
func checkStorageFull(t *testing.T, s *testServer, reason string) {
	t.Helper()
	c := s.MustDial()
	for _, line := range []string{"#id=1;state=OK", "#id=1;state=START", "garbage", "#id=99;state=OK"} {
		if got := c.MustSend(line); got != "ERR storage full" {
			t.Fatalf("TCP %q on a full disk: %q, want ERR storage full", line, got)
		}
	}
	status, body := s.MustDo("GET", "/ping/1/OK", nil)
	if status != http.StatusServiceUnavailable || strings.TrimSpace(string(body)) != "ERR storage full" {
		t.Fatalf("ping on a full disk: %d %q, want 503 ERR storage full", status, body)
	}
	status, body = s.MustDo("PUT", "/api/v1/processes/2", pushOnly(2, time.Hour))
	if status != http.StatusServiceUnavailable || strings.TrimSpace(string(body)) != `{"error":"storage full"}` {
		t.Fatalf("API write on a full disk: %d %s, want 503 storage full", status, body)
	}
	status, body = s.MustDo("POST", "/api/v1/rebuild", nil)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("rebuild on a full disk: %d %s, want 503", status, body)
	}
	var procs []statesrv.Process
	s.MustGet("/api/v1/processes", &procs)
	if len(procs) != 1 {
		t.Fatalf("processes on a full disk: %d, want 1", len(procs))
	}
	if status, body := s.MustDo("GET", "/api/v1/events?limit=5", nil); status != http.StatusOK {
		t.Fatalf("events on a full disk: %d %s", status, body)
	}
	mustPage(t, s, "/")
	mustPage(t, s, "/processes/1")
	status, body = s.MustDo("GET", "/healthz", nil, "Authorization", "")
	var h struct{ Status, Reason string }
	json.Unmarshal(body, &h)
	if status != http.StatusServiceUnavailable || h.Status != "degraded" || !strings.Contains(h.Reason, reason) {
		t.Fatalf("healthz on a full disk: %d %s, want 503 degraded with a reason saying %q", status, body, reason)
	}
}

// checkIngestResumes waits (at most 5 s) for the first ACK once there is
// room, then checks writes and /healthz; it returns the seqs ACKed.
func checkIngestResumes(t *testing.T, s *testServer) []uint64 {
	t.Helper()
	start := time.Now()
	var acked []uint64
	for {
		reply := s.MustReport("#id=1;state=OK")
		if seq, ok := strings.CutPrefix(reply, "ACK "); ok {
			var n uint64
			fmt.Sscan(seq, &n)
			acked = append(acked, n)
			break
		}
		if reply != "ERR storage full" || time.Since(start) > 5*time.Second {
			t.Fatalf("after %v with room: %q, want an ACK within 5 s", time.Since(start), reply)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("ingest resumed %v after room came back", time.Since(start).Round(10*time.Millisecond))
	acked = append(acked, s.MustReportAck("#id=1;state=START"))
	eventually(t, func() error {
		status, body, err := s.do("GET", "/healthz", nil, "Authorization", "")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("healthz %d %s", status, body)
		}
		return err
	})
	return acked
}

// checkAcked checks that every ACKed report is in the log, as the
// MessageReceived it was answered with, and that the chain verifies.
func checkAcked(t *testing.T, s *testServer, acked []uint64) {
	t.Helper()
	for _, seq := range acked {
		if e := s.MustEvent(seq); e.Type != statesrv.EventMessageReceived {
			t.Fatalf("ACK %d is a %s, want MessageReceived", seq, e.Type)
		}
	}
	rep, err := s.Log.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// mustPage logs in (sessions live in memory, so this works on a full
// disk) and fetches a page.
func mustPage(t *testing.T, s *testServer, path string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: ioWait}
	base := "http://" + s.HTTPAddr
	res, err := c.PostForm(base+"/login", url.Values{"user": {"admin"}, "password": {"admin-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res, err = c.Get(base + path); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != path {
		t.Fatalf("page %s: %d at %s, want 200", path, res.StatusCode, res.Request.URL.Path)
	}
}
