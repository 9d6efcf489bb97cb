package web

import (
	"testing"
	"time"

	"github.com/statesrv/statesrv/clock"
)

func TestThrottle(t *testing.T) {
	t.Run("BegunCountAsFailed", func(t *testing.T) {
		th := newThrottle(clock.NewFake(t0).Now)
		for i := range freeFailures + 1 {
			if wait := th.begin("k"); wait != 0 {
				t.Fatalf("attempt %d under way: wait %v", i+1, wait)
			}
		}
		if wait := th.begin("k"); wait != time.Second {
			t.Fatalf("with %d attempts under way: wait %v, want 1s", freeFailures+1, wait)
		}
	})
	t.Run("AbandonedDoNotCount", func(t *testing.T) {
		th := newThrottle(clock.NewFake(t0).Now)
		for range 3 * freeFailures {
			if wait := th.begin("k"); wait != 0 {
				t.Fatalf("wait %v", wait)
			}
			th.abandon("k")
		}
	})
	t.Run("SequentialBackoff", func(t *testing.T) {
		clk := clock.NewFake(t0)
		th := newThrottle(clk.Now)
		for range freeFailures + 1 {
			th.begin("k")
			th.fail("k")
		}
		if wait := th.begin("k"); wait != time.Second {
			t.Fatalf("wait %v, want 1s", wait)
		}
		clk.Advance(time.Second)
		th.begin("k")
		th.fail("k")
		if wait := th.begin("k"); wait != 2*time.Second {
			t.Fatalf("wait %v, want 2s", wait)
		}
		clk.Advance(failureWindow + time.Second)
		if wait := th.begin("k"); wait != 0 {
			t.Fatalf("after the window: wait %v", wait)
		}
	})
	t.Run("UserLimitsOnlyFailedAddresses", func(t *testing.T) {
		th := newThrottle(clock.NewFake(t0).Now)
		for range freeFailures + 1 {
			th.beginLogin("10.0.0.1", "admin")
			th.fail(loginKeys("10.0.0.1", "admin")...)
		}
		if wait := th.beginLogin("10.0.0.2", "admin"); wait != 0 {
			t.Fatalf("fresh address: wait %v", wait)
		}
		th.fail(loginKeys("10.0.0.2", "admin")...)
		if wait := th.beginLogin("10.0.0.2", "admin"); wait == 0 {
			t.Fatal("an address that failed is not held back by the user's failures")
		}
		if wait := th.beginLogin("10.0.0.3", "admin"); wait != 0 {
			t.Fatalf("another fresh address: wait %v", wait)
		}
		th.succeed(loginKeys("10.0.0.3", "admin"), "ip:10.0.0.3")
		if wait := th.beginLogin("10.0.0.1", "admin"); wait == 0 {
			t.Fatal("a success elsewhere freed the guessing address")
		}
	})
	t.Run("LongUserNamesShareAKey", func(t *testing.T) {
		long := string(make([]byte, 10_000))
		if k := loginKeys("a", long)[1]; len(k) > len("user:")+maxKeyName {
			t.Fatalf("key of %d bytes", len(k))
		}
	})
}
