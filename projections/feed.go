package projections

import (
	"bytes"
	"context"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// decoded is an event of the log with its payload as Decode returns it.
// Its Data is kept only for a MessageReceived, whose payload Decode leaves
// to the fold.
type decoded struct {
	ev      eventlog.Event
	payload any
}

// feed reads the log in a goroutine of its own and decodes the payloads
// there, handing the events over in order, a chunk at a time: a long
// catch-up (a rebuild) or replay then reads and decodes on one core while
// it folds and writes on the other.
type feed struct {
	ch     chan feedChunk
	cancel context.CancelFunc
	buf    []decoded
	err    error
	ended  bool
}

type feedChunk struct {
	events []decoded
	err    error // after the events
}

const (
	feedChunkLen = 256
	feedChunks   = 8 // read ahead at most this many chunks
)

// newFeed starts reading the events from to (0: the end of the log).
func newFeed(ctx context.Context, log eventlog.Log, from, to uint64) *feed {
	ctx, cancel := context.WithCancel(ctx)
	f := &feed{ch: make(chan feedChunk, feedChunks), cancel: cancel}
	go f.read(ctx, log, from, to)
	return f
}

func (f *feed) read(ctx context.Context, log eventlog.Log, from, to uint64) {
	defer close(f.ch)
	send := func(c feedChunk) bool {
		select {
		case f.ch <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	chunk := make([]decoded, 0, feedChunkLen)
	for e, err := range log.Range(ctx, from, to) {
		var payload any
		if err == nil {
			payload, err = Decode(e)
		}
		if err != nil {
			send(feedChunk{events: chunk, err: err})
			return
		}
		d := decoded{ev: *e, payload: payload}
		d.ev.Data = nil // it points into the log's buffer
		if e.Type == statesrv.EventMessageReceived {
			d.ev.Data = bytes.Clone(e.Data)
		}
		if chunk = append(chunk, d); len(chunk) == feedChunkLen {
			if !send(feedChunk{events: chunk}) {
				return
			}
			chunk = make([]decoded, 0, feedChunkLen)
		}
	}
	if len(chunk) > 0 {
		send(feedChunk{events: chunk})
	}
}

// peek returns the next event without taking it, nil at the end, or the
// error that ended the reading.
func (f *feed) peek() (*decoded, error) {
	for len(f.buf) == 0 {
		if f.err != nil || f.ended {
			return nil, f.err
		}
		c, ok := <-f.ch
		if !ok {
			f.ended = true
			continue
		}
		f.buf, f.err = c.events, c.err
	}
	return &f.buf[0], nil
}

// done reports whether every event was taken.
func (f *feed) done() bool { return f.ended && len(f.buf) == 0 }

// pop takes the event peek returned.
func (f *feed) pop() { f.buf = f.buf[1:] }

// stop ends the reading and waits for the goroutine to finish.
func (f *feed) stop() {
	f.cancel()
	for range f.ch {
	}
}
