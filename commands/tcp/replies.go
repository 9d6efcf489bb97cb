package tcp

import (
	"bufio"
	"io"
	"sync"
)

// replyQueue holds the replies owed to one client, in line order. Its
// memory grows with the replies pending and is given back once they are
// written, so that an idle connection costs almost nothing; push waits
// while window replies are pending, which is back-pressure on that client
// only.
type replyQueue struct {
	mu     sync.Mutex
	cond   sync.Cond
	items  []reply
	head   int // items[head:] are pending
	window int
	closed bool
}

// keptCap is the most reply slots a queue keeps once it has been emptied;
// a larger slice (after a burst of pipelined lines) is released.
const keptCap = 16

func newReplyQueue(window int) *replyQueue {
	q := &replyQueue{window: window}
	q.cond.L = &q.mu
	return q
}

// push queues r, waiting while the window is full.
func (q *replyQueue) push(r reply) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items)-q.head >= q.window {
		q.cond.Wait()
	}
	q.items = append(q.items, r)
	q.cond.Broadcast()
}

// pop returns the oldest pending reply, waiting for one; ok is false once
// the queue is closed and empty.
func (q *replyQueue) pop() (r reply, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head == len(q.items) && !q.closed {
		q.cond.Wait()
	}
	if q.head == len(q.items) {
		return reply{}, false
	}
	r = q.items[q.head]
	q.items[q.head] = reply{}
	q.head++
	switch {
	case q.head == len(q.items):
		q.head = 0
		if cap(q.items) > keptCap {
			q.items = nil
		} else {
			q.items = q.items[:0]
		}
	case q.head >= keptCap && 2*q.head >= len(q.items):
		// A client that never lets the queue empty: move the pending
		// replies down so that the slice does not grow without end.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.cond.Broadcast()
	return r, true
}

// pending is how many replies wait to be popped.
func (q *replyQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// close tells pop that no more replies come.
func (q *replyQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// writerPool holds the write buffers of connections that owe no reply.
type writerPool struct{ p sync.Pool }

func (wp *writerPool) get(w io.Writer) *bufio.Writer {
	b, _ := wp.p.Get().(*bufio.Writer)
	if b == nil {
		return bufio.NewWriterSize(w, 16<<10)
	}
	b.Reset(w)
	return b
}

func (wp *writerPool) put(b *bufio.Writer) {
	b.Reset(nil)
	wp.p.Put(b)
}
