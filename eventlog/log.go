package eventlog

import (
	"context"
	"errors"
	"iter"
)

// Errors returned by logs.
var (
	// ErrClosed is returned for appends after Close.
	ErrClosed = errors.New("eventlog: closed")
	// ErrStopped is returned for appends after a commit failed: the log
	// does not know what reached the disk and takes nothing more until it
	// is reopened.
	ErrStopped = errors.New("eventlog: stopped after a failed commit")
	// ErrNotFound is returned by Get for a seq not in the log.
	ErrNotFound = errors.New("eventlog: no such event")
	// ErrDiskFull is returned when the disk has less free space than the
	// log's head-room; nothing of that append was written, and a Badger
	// log refuses appends until Resume.
	ErrDiskFull = errors.New("eventlog: disk full")
)

// Log is an append-only, gap-free, hash-chained sequence of events. It is
// small on purpose, so that other storage can implement it; the behaviour
// every implementation must show is in package eventlog/logtest.
type Log interface {
	// Submit queues recs to be appended atomically after everything
	// submitted before, and returns at once. The events are durable when
	// the Pending resolves without error. An empty recs resolves at once
	// with no events.
	Submit(recs []Record) *Pending
	// Existing returns a resolved or in-flight Pending for the first event
	// appended under the idempotency key, or nil when there is none.
	Existing(key string) (*Pending, error)
	// Range returns the committed events with from <= seq <= to, in order;
	// to 0 means up to the end of the log (from 0 is taken as 1). It ends
	// early when the consumer breaks off. A read failure, or ctx ending
	// (checked before the first event and now and then after), is yielded
	// once as a nil event with the error, and ends the range. The event is
	// only valid until the next one is yielded: keep a copy (*e), not e.
	Range(ctx context.Context, from, to uint64) iter.Seq2[*Event, error]
	// LastSeq is the seq of the last committed event (0 when empty).
	LastSeq() uint64
	// Committed returns a channel that is closed at the next commit.
	Committed() <-chan struct{}
	// Close waits for submitted appends to finish and releases the log.
	Close() error
}

// Append submits recs and waits until they are durable.
func Append(ctx context.Context, l Log, recs ...Record) ([]Event, error) {
	return l.Submit(recs).Wait(ctx)
}

// Follow calls fn for every event from seq from on, first those already in
// the log and then each new one as it is committed, until ctx ends or fn
// fails. It returns ctx's error or fn's.
func Follow(ctx context.Context, l Log, from uint64, fn func(*Event) error) error {
	next := max(from, 1)
	for {
		wake := l.Committed()
		if l.LastSeq() >= next {
			for e, err := range l.Range(ctx, next, 0) {
				if err == nil {
					err = fn(e)
				}
				if err != nil {
					return err
				}
				next = e.Seq + 1
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// Pending is an append in flight.
type Pending struct {
	done   chan struct{}
	events []Event
	err    error
	dup    bool
}

func newPending() *Pending { return &Pending{done: make(chan struct{})} }

// Resolved returns a Pending that is already done.
func Resolved(events []Event, dup bool, err error) *Pending {
	p := &Pending{done: make(chan struct{}), events: events, dup: dup, err: err}
	close(p.done)
	return p
}

// Finish resolves p; logs call it exactly once.
func (p *Pending) Finish(events []Event, err error) {
	p.events, p.err = events, err
	close(p.done)
}

// Done is closed when the append is durable or failed.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Wait returns the appended events once they are durable. For a Pending
// from Existing it returns the first event stored under the key. It returns
// ctx's error if ctx ends first (the append may still complete).
func (p *Pending) Wait(ctx context.Context) ([]Event, error) {
	select {
	case <-p.done:
		return p.events, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Duplicate reports whether p stands for an earlier append with the same
// idempotency key.
func (p *Pending) Duplicate() bool { return p.dup }
