package commands

import (
	"container/heap"
	"iter"
	"time"
)

// timeQueue is a queue of keys in time order: the deadline heap (run ids)
// and the fire heap (process ids).
type timeQueue[K any] interface {
	peek() (time.Time, K, bool)
	pop()
}

// due takes from q, in time order, the entries due at d's time, while d
// has room for more events (maxTickEvents). Each entry leaves q before it
// is yielded.
func due[K any](d *decision, q timeQueue[K]) iter.Seq2[time.Time, K] {
	return func(yield func(time.Time, K) bool) {
		for len(d.recs) < maxTickEvents {
			at, k, ok := q.peek()
			if !ok || at.After(d.at) {
				return
			}
			q.pop()
			if !yield(at, k) {
				return
			}
		}
	}
}

// deadlineHeap orders open runs by deadline; a run that closes leaves it,
// so it holds exactly the open runs.
type deadlineHeap struct{ h deadlines }

type deadlineEntry struct {
	at time.Time
	id string
}

type deadlines struct {
	list  []deadlineEntry
	index map[string]int
}

func (d *deadlines) Len() int           { return len(d.list) }
func (d *deadlines) Less(i, j int) bool { return d.list[i].at.Before(d.list[j].at) }
func (d *deadlines) Swap(i, j int) {
	d.list[i], d.list[j] = d.list[j], d.list[i]
	d.index[d.list[i].id], d.index[d.list[j].id] = i, j
}
func (d *deadlines) Push(x any) {
	e := x.(deadlineEntry)
	d.index[e.id] = len(d.list)
	d.list = append(d.list, e)
}
func (d *deadlines) Pop() any {
	e := d.list[len(d.list)-1]
	d.list = d.list[:len(d.list)-1]
	delete(d.index, e.id)
	return e
}

func (d *deadlineHeap) push(at time.Time, id string) {
	if d.h.index == nil {
		d.h.index = map[string]int{}
	}
	if _, ok := d.h.index[id]; ok {
		return
	}
	heap.Push(&d.h, deadlineEntry{at, id})
}

// remove drops the run id, if present.
func (d *deadlineHeap) remove(id string) {
	if i, ok := d.h.index[id]; ok {
		heap.Remove(&d.h, i)
	}
}

func (d *deadlineHeap) peek() (time.Time, string, bool) {
	if len(d.h.list) == 0 {
		return time.Time{}, "", false
	}
	return d.h.list[0].at, d.h.list[0].id, true
}

func (d *deadlineHeap) pop() { heap.Pop(&d.h) }

func (d *deadlineHeap) next() time.Time {
	at, _, _ := d.peek()
	return at
}

// fireHeap orders processes by next fire time; set replaces a process's
// time, leaving the old entry to be skipped as stale.
type fireHeap struct {
	h    fires
	curr map[int64]time.Time
}

type fireEntry struct {
	at  time.Time
	pid int64
}

type fires []fireEntry

func (f fires) Len() int           { return len(f) }
func (f fires) Less(i, j int) bool { return f[i].at.Before(f[j].at) }
func (f fires) Swap(i, j int)      { f[i], f[j] = f[j], f[i] }
func (f *fires) Push(x any)        { *f = append(*f, x.(fireEntry)) }
func (f *fires) Pop() any {
	old := *f
	e := old[len(old)-1]
	*f = old[:len(old)-1]
	return e
}

func (f *fireHeap) set(pid int64, at time.Time) {
	if f.curr == nil {
		f.curr = map[int64]time.Time{}
	}
	if at.IsZero() {
		delete(f.curr, pid)
		return
	}
	if cur, ok := f.curr[pid]; ok && cur.Equal(at) {
		return
	}
	f.curr[pid] = at
	heap.Push(&f.h, fireEntry{at, pid})
}

// current reports whether at is still the process's next fire time.
func (f *fireHeap) current(pid int64, at time.Time) bool {
	cur, ok := f.curr[pid]
	return ok && cur.Equal(at)
}

func (f *fireHeap) peek() (time.Time, int64, bool) {
	for len(f.h) > 0 {
		e := f.h[0]
		if f.current(e.pid, e.at) {
			return e.at, e.pid, true
		}
		heap.Pop(&f.h)
	}
	return time.Time{}, 0, false
}

// pop removes the entry peek returned; the process has no next fire time
// until set again.
func (f *fireHeap) pop() {
	e := heap.Pop(&f.h).(fireEntry)
	delete(f.curr, e.pid)
}

func (f *fireHeap) next() time.Time {
	at, _, _ := f.peek()
	return at
}
