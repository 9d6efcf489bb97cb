package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// Defaults of Retry.
const (
	DefaultRetryInitial = 200 * time.Millisecond
	DefaultRetryMax     = 5 * time.Second
	DefaultAttempt      = 10 * time.Second
)

// Retry says how SendRetry retries a report that did not get through. Zero
// fields other than For take their defaults.
type Retry struct {
	// For is how long after the first attempt a new attempt may still
	// start; 0 makes one attempt only.
	For time.Duration
	// Initial is the first pause between attempts; each later pause
	// doubles, up to Max. Every pause is drawn at random between half and
	// all of its value, so that many clients cut off by one outage do not
	// come back in step.
	Initial, Max time.Duration
	// Attempt bounds one attempt: dial, write and waiting for the reply.
	Attempt time.Duration
	// OnRetry, if set, is called after a failed attempt that will be
	// retried, with the attempt's number (from 1), its error and the pause
	// before the next one.
	OnRetry func(attempt int, err error, pause time.Duration)
}

func (p Retry) withDefaults() Retry {
	if p.Initial <= 0 {
		p.Initial = DefaultRetryInitial
	}
	if p.Max <= 0 {
		p.Max = DefaultRetryMax
	}
	p.Max = max(p.Max, p.Initial)
	if p.Attempt <= 0 {
		p.Attempt = DefaultAttempt
	}
	return p
}

// SendRetry sends r like Send and retries, with exponential back-off and
// jitter, while the server cannot be reached, closes the connection without
// a reply or does not reply within policy.Attempt. It returns the seq of the
// first "ACK <seq>".
//
// An "ERR <reason>" reply is final: SendRetry returns its *ReplyError at
// once. So that a report whose reply was lost is stored once however often
// it is sent, every attempt carries the same mid: r.MID, or a random UUID
// when r.MID is empty (the server answers a mid it has stored with the first
// copy's seq).
//
// SendRetry starts no attempt after policy.For has passed since the first
// one began, so it returns within about For + Attempt; the error is then the
// last attempt's. Once ctx is done it stops and returns an error wrapping
// ctx.Err().
func SendRetry(ctx context.Context, addr string, r Report, policy Retry) (uint64, error) {
	policy = policy.withDefaults()
	if r.MID == "" {
		r.MID = uuid.NewString()
	}
	start := time.Now()
	backoff := policy.Initial
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, policy.Attempt)
		seq, err := Send(actx, addr, r)
		cancel()
		var replyErr *ReplyError
		switch {
		case err == nil, errors.As(err, &replyErr):
			return seq, err
		case ctx.Err() != nil:
			return 0, fmt.Errorf("client: send: %w (after %d attempts)", ctx.Err(), attempt)
		}
		left := policy.For - time.Since(start)
		if left <= 0 {
			if attempt == 1 {
				return 0, err
			}
			return 0, fmt.Errorf("%w (gave up after %d attempts in %v)", err, attempt,
				time.Since(start).Round(time.Millisecond))
		}
		pause := min(jitter(backoff), left)
		if policy.OnRetry != nil {
			policy.OnRetry(attempt, err, pause)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("client: send: %w (after %d attempts, last error: %v)", ctx.Err(), attempt, err)
		case <-t.C:
		}
		backoff = min(2*backoff, policy.Max)
	}
}

// jitter returns a random duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}
