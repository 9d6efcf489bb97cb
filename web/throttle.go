package web

import (
	"sync"
	"time"
)

// throttle slows down repeated failed password checks: after freeFailures
// failures of one key (a remote address, a user name) within failureWindow,
// each further attempt must wait twice as long as the one before, up to
// maxWait.
//
// An attempt is counted when it begins, before the password is checked, and
// counts as a failure until it ends: attempts sent in parallel are limited
// as much as attempts sent one after the other.
type throttle struct {
	mu  sync.Mutex
	m   map[string]*failures
	now func() time.Time
}

type failures struct {
	n       int // failed attempts within failureWindow of last
	pending int // attempts begun and not yet ended
	last    time.Time
	until   time.Time
}

const (
	freeFailures  = 5
	failureWindow = 15 * time.Minute
	maxWait       = time.Minute
	maxThrottled  = 100_000
	// maxKeyName is how much of a user name makes its key: longer names
	// are no one's, and must not make the table large.
	maxKeyName = 128
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{m: map[string]*failures{}, now: now}
}

// backoff is the wait after the nth failure in a row.
func backoff(n int) time.Duration {
	if n <= freeFailures {
		return 0
	}
	return min(time.Second<<min(n-freeFailures-1, 6), maxWait)
}

// begin counts an attempt of each key and returns 0, or, when one of them
// must still wait, counts nothing and returns how long.
func (t *throttle) begin(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.beginLocked(keys, keys)
}

// beginLogin counts a login attempt of user from the address addr, as
// begin does. The user's failures hold back only addresses that have failed
// themselves (or have an attempt under way): someone guessing one user's
// password from elsewhere does not lock out the user's own browser.
func (t *throttle) beginLogin(addr, user string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := loginKeys(addr, user)
	check := keys
	if f := t.live(keys[0], t.now()); f == nil || f.n+f.pending == 0 {
		check = keys[:1]
	}
	return t.beginLocked(keys, check)
}

// loginKeys are the keys of a login attempt: its address first.
func loginKeys(addr, user string) []string {
	if len(user) > maxKeyName {
		user = user[:maxKeyName]
	}
	return []string{"ip:" + addr, "user:" + user}
}

// live returns the failures of k within the window, or nil.
func (t *throttle) live(k string, now time.Time) *failures {
	f := t.m[k]
	if f != nil && f.pending == 0 && now.Sub(f.last) > failureWindow {
		delete(t.m, k)
		return nil
	}
	return f
}

func (t *throttle) beginLocked(keys, check []string) time.Duration {
	now := t.now()
	var longest time.Duration
	for _, k := range check {
		f := t.live(k, now)
		if f == nil {
			continue
		}
		longest = max(longest, f.until.Sub(now))
		if f.pending > 0 {
			// Attempts under way count as failures already.
			longest = max(longest, backoff(f.n+f.pending))
		}
	}
	if longest > 0 {
		return longest
	}
	if len(t.m) >= maxThrottled {
		for k := range t.m {
			t.live(k, now)
		}
	}
	for _, k := range keys {
		f := t.live(k, now)
		if f == nil {
			f = &failures{last: now}
			t.m[k] = f
		}
		f.pending++
	}
	return 0
}

// fail ends the attempts of the keys begun with begin as failures.
func (t *throttle) fail(keys ...string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		f := t.m[k]
		if f == nil {
			continue
		}
		f.pending = max(f.pending-1, 0)
		if now.Sub(f.last) > failureWindow {
			f.n = 0
		}
		f.n++
		f.last = now
		if d := backoff(f.n); d > 0 {
			f.until = now.Add(d)
		}
	}
}

// abandon ends the attempts of the keys begun with begin without counting
// them: the password was not checked.
func (t *throttle) abandon(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if f := t.m[k]; f != nil {
			f.pending = max(f.pending-1, 0)
		}
	}
}

// succeed ends the attempts of the keys begun with begin and forgets the
// failures of forget, a subset of keys.
func (t *throttle) succeed(keys []string, forget ...string) {
	t.abandon(keys...)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range forget {
		if f := t.m[k]; f != nil && f.pending == 0 {
			delete(t.m, k)
		} else if f != nil {
			f.n, f.until = 0, time.Time{}
		}
	}
}
