package main

import (
	"strings"
	"testing"
	"time"
)

func TestReportCommand(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(1, time.Hour))

	t.Run("SendsAMID", func(t *testing.T) {
		res := runCLI("report", "--server", s.TCPAddr, "--id", "1", "--state", "OK")
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if e := s.MustEvent(MustAckSeq(t, res.stdout)); e.field("mid") == "" {
			t.Errorf("event %+v has no mid", e)
		}
	})

	t.Run("GivenMIDStoredOnce", func(t *testing.T) {
		args := []string{"report", "--server", s.TCPAddr, "--id", "1", "--state", "OK", "--mid", "nightly-1"}
		first, again := runCLI(args...), runCLI(args...)
		if first.code != 0 || first.stdout != again.stdout {
			t.Fatalf("replies %q and %q, want the same ACK twice", first.stdout, again.stdout)
		}
		if e := s.MustEvent(MustAckSeq(t, first.stdout)); e.field("mid") != "nightly-1" {
			t.Errorf("stored mid %q, want nightly-1", e.field("mid"))
		}
	})

	t.Run("ErrReplyIsNotRetried", func(t *testing.T) {
		res := runCLI("report", "--server", s.TCPAddr, "--id", "1", "--state", "BAD")
		if res.code != 1 || !strings.Contains(res.stderr, "ERR bad state") {
			t.Errorf("exit %d, stderr %q; want 1 and the ERR", res.code, res.stderr)
		}
	})

	t.Run("RetryForZeroTriesOnce", func(t *testing.T) {
		res := runCLI("report", "--server", freeAddr(t), "--id", "1", "--state", "OK", "--retry-for", "0")
		if res.code != 1 || strings.Contains(res.stderr, "gave up after") {
			t.Errorf("exit %d, stderr %q; want 1 after one attempt", res.code, res.stderr)
		}
	})

	t.Run("RetriesAreAnnouncedOnce", func(t *testing.T) {
		res := runCLI("report", "--server", freeAddr(t), "--id", "1", "--state", "OK", "--retry-for", "1s")
		if res.code != 1 || strings.Count(res.stderr, "not delivered yet, retrying for up to 1s") != 1 ||
			!strings.Contains(res.stderr, "gave up after") {
			t.Errorf("exit %d, stderr %q; want 1, one retry notice and the final error", res.code, res.stderr)
		}
	})
}
