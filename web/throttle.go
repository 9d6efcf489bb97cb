package web

import (
	"sync"
	"time"
)

// throttle slows down repeated failed logins: after freeFailures failures
// of one key (a remote address, or a user name) within failureWindow, each
// further attempt must wait twice as long as the one before, up to maxWait.
type throttle struct {
	mu  sync.Mutex
	m   map[string]*failures
	now func() time.Time
}

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

const (
	freeFailures  = 5
	failureWindow = 15 * time.Minute
	maxWait       = time.Minute
	maxThrottled  = 100_000
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{m: map[string]*failures{}, now: now}
}

// wait returns how long the keys must still wait before another attempt.
func (t *throttle) wait(keys ...string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		if f := t.m[k]; f != nil {
			if d := f.until.Sub(now); d > longest {
				longest = d
			}
		}
	}
	return longest
}

// fail records a failed attempt of each key.
func (t *throttle) fail(keys ...string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxThrottled {
		for k, f := range t.m {
			if now.Sub(f.last) > failureWindow {
				delete(t.m, k)
			}
		}
	}
	for _, k := range keys {
		f := t.m[k]
		if f == nil || now.Sub(f.last) > failureWindow {
			f = &failures{}
			t.m[k] = f
		}
		f.n++
		f.last = now
		if f.n > freeFailures {
			d := time.Second << min(f.n-freeFailures-1, 6)
			f.until = now.Add(min(d, maxWait))
		}
	}
}

// succeed forgets the failures of the keys.
func (t *throttle) succeed(keys ...string) {
	t.mu.Lock()
	for _, k := range keys {
		delete(t.m, k)
	}
	t.mu.Unlock()
}
