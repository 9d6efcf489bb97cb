// Package dispatch delivers the alerts the log holds: it takes the alerts
// whose AlertRequested is committed (from the projections, so an alert is
// never sent for an event that might not be written), delivers them with
// retries and back-off, and records each failed attempt (AlertAttemptFailed)
// and each outcome (AlertDelivered or AlertFailed) through the write side.
// What it has not recorded it sends again after a restart, continuing from
// the recorded attempts: their count, the back-off and the time of the
// first one, from which the retries are bounded. Replaying or rebuilding
// the log sends nothing, because only requested-and-unrecorded alerts are
// ever delivered.
//
// The window: an alert delivered just before a crash, and not yet recorded,
// is delivered again after the restart. Every attempt carries the alert id
// as its idempotency key (Message-ID, Idempotency-Key) so a receiver can
// drop the copy.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
)

// Config wires a Dispatcher.
type Config struct {
	Service *commands.Service
	Runner  *projections.Runner
	// Deliver sends one alert; Permanent tells whether a failure is final.
	Deliver   func(ctx context.Context, a projections.PendingAlert) error
	Permanent func(err error) bool
	Clock     clock.Clock
	Logger    *slog.Logger
	// GiveUpAfter: temporary failures are retried until this long after
	// the first failed attempt (default 24 hours), then the alert fails.
	GiveUpAfter time.Duration
	// Initial and Max bound the back-off between attempts (default 5 s and
	// 10 minutes); each wait is doubled and jittered by ±20%.
	Initial, Max time.Duration
	// Workers is how many deliveries run at once (default 8).
	Workers int
}

// Dispatcher is the alert sender loop.
type Dispatcher struct {
	cfg Config

	// known holds every pending alert the loop has seen and not yet seen
	// leave the views: ready to send, in flight, waiting for a retry, or
	// recorded.
	known    map[string]bool
	ready    []projections.PendingAlert // oldest first
	retry    map[string]projections.PendingAlert
	attempts map[string]int
	first    map[string]time.Time // when the first attempt failed
	next     map[string]time.Time
	inflight int
	recorded map[string]bool
}

// New returns a dispatcher; call Run.
func New(cfg Config) *Dispatcher {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = 24 * time.Hour
	}
	if cfg.Initial <= 0 {
		cfg.Initial = 5 * time.Second
	}
	if cfg.Max <= 0 {
		cfg.Max = 10 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	return &Dispatcher{cfg: cfg, known: map[string]bool{}, retry: map[string]projections.PendingAlert{},
		attempts: map[string]int{}, first: map[string]time.Time{}, next: map[string]time.Time{}, recorded: map[string]bool{}}
}

type result struct {
	alert projections.PendingAlert
	err   error
}

// Run delivers alerts until ctx ends; deliveries in flight then end with
// ctx and are not recorded (they are sent again after a restart).
func (d *Dispatcher) Run(ctx context.Context) error {
	results := make(chan result)
	var wg sync.WaitGroup
	defer wg.Wait()
	wake := d.cfg.Runner.Applied()
	d.discover()
	for {
		due := d.start(ctx, results, &wg)
		var timer <-chan time.Time
		if !due.IsZero() {
			timer = d.cfg.Clock.At(due)
		}
		select {
		case <-ctx.Done():
			go func() { // let the workers finish sending their results
				for range results {
				}
			}()
			wg.Wait()
			close(results)
			return nil
		case r := <-results:
			d.finish(ctx, r)
		case <-wake:
			wake = d.cfg.Runner.Applied()
			d.discover()
		case <-timer:
		}
	}
}

// discover takes the pending alerts of the views: new ones join the ready
// queue, or wait for their recorded retry time when attempts failed before
// (a restart), and recorded ones that have left the views are forgotten.
func (d *Dispatcher) discover() {
	var fresh []projections.PendingAlert
	live := map[string]bool{}
	d.cfg.Runner.View(func(c *projections.Core) {
		for id, a := range c.Alerts {
			live[id] = true
			if !d.known[id] {
				fresh = append(fresh, *a)
			}
		}
	})
	slices.SortFunc(fresh, func(a, b projections.PendingAlert) int { return a.RequestedAt.Compare(b.RequestedAt) })
	now := d.cfg.Clock.Now()
	for _, a := range fresh {
		// Views being rebuilt show an alert pending between its request
		// and its recorded delivery: only the write side, which knows the
		// whole log, may say it is still due, and how many attempts of it
		// failed.
		rec, pending := d.cfg.Service.PendingAlert(a.AlertID)
		if !pending {
			continue
		}
		d.known[rec.AlertID] = true
		if rec.Attempts > 0 {
			d.attempts[rec.AlertID], d.first[rec.AlertID] = rec.Attempts, rec.FirstAttemptAt
		}
		if rec.RetryAt.After(now) {
			d.next[rec.AlertID] = rec.RetryAt
			d.retry[rec.AlertID] = rec
			continue
		}
		d.ready = append(d.ready, rec)
	}
	for id := range d.recorded {
		if !live[id] {
			delete(d.recorded, id)
			delete(d.known, id)
			delete(d.attempts, id)
			delete(d.first, id)
		}
	}
}

// start launches deliveries from the ready queue and of retries that have
// come due, and returns when the next retry falls due (zero when none
// waits).
func (d *Dispatcher) start(ctx context.Context, results chan<- result, wg *sync.WaitGroup) time.Time {
	now := d.cfg.Clock.Now()
	var due time.Time
	for id, a := range d.retry {
		if t := d.next[id]; !t.After(now) {
			delete(d.retry, id)
			d.ready = append(d.ready, a)
		} else if due.IsZero() || t.Before(due) {
			due = t
		}
	}
	for len(d.ready) > 0 && d.inflight < d.cfg.Workers {
		a := d.ready[0]
		d.ready = d.ready[1:]
		d.inflight++
		wg.Go(func() {
			err := d.cfg.Deliver(ctx, a)
			results <- result{alert: a, err: err}
		})
	}
	return due
}

// finish records a delivery's outcome, or the failed attempt and when the
// next one is due.
func (d *Dispatcher) finish(ctx context.Context, r result) {
	id := r.alert.AlertID
	d.inflight--
	if ctx.Err() != nil {
		return // shutting down: not recorded, sent again after the restart
	}
	d.attempts[id]++
	n := d.attempts[id]
	log := d.cfg.Logger.With("alert_id", id, "process_id", r.alert.ProcessID, "recipient", r.alert.Recipient, "attempts", n)
	now := d.cfg.Clock.Now()
	if r.err != nil && d.first[id].IsZero() {
		d.first[id] = now
	}
	var rc *commands.Receipt
	switch {
	case r.err == nil:
		log.Info("alert delivered")
		rc = d.cfg.Service.AlertDelivered(id, n)
	case d.cfg.Permanent(r.err):
		log.Warn("alert failed", "error", r.err)
		rc = d.cfg.Service.AlertGaveUp(id, n, r.err.Error(), false)
	case now.Sub(d.first[id]) >= d.cfg.GiveUpAfter:
		log.Warn("alert failed", "error", r.err)
		rc = d.cfg.Service.AlertGaveUp(id, n, r.err.Error(), true)
	default:
		wait := backoff(d.cfg.Initial, d.cfg.Max, n)
		var asked interface{ RetryDelay() time.Duration }
		if errors.As(r.err, &asked) && asked.RetryDelay() > wait {
			wait = min(asked.RetryDelay(), d.cfg.GiveUpAfter) // the receiver's Retry-After
		}
		log.Info("alert delivery will be retried", "error", r.err, "in", wait.Round(time.Millisecond))
		d.next[id] = now.Add(wait)
		d.retry[id] = r.alert
		d.settle(ctx, log, d.cfg.Service.AlertAttemptFailed(id, n, r.err.Error(), true, d.next[id]))
		return
	}
	d.recorded[id] = true
	delete(d.next, id)
	d.settle(ctx, log, rc)
}

// settle waits, aside from the loop, for the record of an attempt or an
// outcome (rc, nil when nothing was appended) to be durable. The loop does
// not wait for the sync: records made meanwhile share a group commit, and
// a failed commit stops the log (and the server) anyway.
func (d *Dispatcher) settle(ctx context.Context, log *slog.Logger, rc *commands.Receipt) {
	if rc == nil {
		return
	}
	go func() {
		if _, err := rc.Wait(ctx); err != nil && ctx.Err() == nil {
			log.Error("recording an alert attempt or outcome failed", "error", err)
		}
	}()
}

// backoff is the wait before attempt n+1: initial doubled n-1 times, at
// most max, jittered by ±20%.
func backoff(initial, max time.Duration, n int) time.Duration {
	w := initial
	for i := 1; i < n && w < max; i++ {
		w *= 2
	}
	w = min(w, max)
	return time.Duration(float64(w) * (0.8 + 0.4*rand.Float64()))
}
