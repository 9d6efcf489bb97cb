package web

import (
	"context"
	"sync/atomic"
	"time"
)

// Password hashes: each costs 19 MiB and a core for tens of milliseconds,
// so only passwordHashSlots are computed at once; a further check waits up
// to hashWait for a slot and is then refused with 429.
const (
	passwordHashSlots = 2
	hashWait          = 2 * time.Second
)

// hashSlots bounds the password hashes computed at once.
type hashSlots struct {
	c chan struct{}
	// active and peak count the slots taken now and at most, for tests.
	active, peak atomic.Int64
}

func newHashSlots(n int) *hashSlots {
	return &hashSlots{c: make(chan struct{}, n)}
}

// acquire takes a slot, waiting up to wait; it reports false when none
// freed in time or ctx ended. A true answer must be followed by release.
func (s *hashSlots) acquire(ctx context.Context, wait time.Duration) bool {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case s.c <- struct{}{}:
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
	n := s.active.Add(1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	return true
}

func (s *hashSlots) release() {
	s.active.Add(-1)
	<-s.c
}
