package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// maxBatch is how many events one checkpoint covers at most.
const maxBatch = 4096

// ErrViewsAhead is returned by NewRunner when the stored views include
// events the log does not have (they belong to another log): rebuild them.
var ErrViewsAhead = errors.New("projections: the views are ahead of the log")

// Runner keeps the stored views up to date with the log: it applies events
// in batches, each written with its checkpoint.
type Runner struct {
	log    eventlog.Log
	store  *Store
	logger *slog.Logger

	apply sync.Mutex // held while a batch is applied; Rebuild takes it too

	mu      sync.RWMutex // guards core, applied and counts
	core    *Core
	seq     atomic.Uint64 // core.Seq as of the last batch written
	unproc  atomic.Int64  // counts.unprocessed, likewise
	applied chan struct{} // closed and replaced after each batch
	counts  counts

	// Snapshots: one at the end of the first batch that reaches each
	// multiple of snapEvery; held under apply.
	snapEvery       uint64
	snapUnprocessed int
	batchTime       time.Duration
	lastSnap        uint64 // seq of the newest snapshot (0: none)
	snapGap         uint64 // events to wait after it (snapshotBytesPerEvent)
	// defs is the seq of the definitions entry that holds the Core's
	// definitions (0: none does, the next snapshot writes one).
	defs   uint64
	latest time.Time // latest event time applied

	fullMu sync.Mutex
	full   error // why the views wait for disk space, or nil
}

// roomPoll is how often the views look for disk space again while the
// disk is full.
const roomPoll = time.Second

// NewRunner loads the stored Core and returns a runner that continues from
// its checkpoint. Views written before snapshots existed make it read the
// log up to the checkpoint once, for the latest event time.
func NewRunner(log eventlog.Log, store *Store, logger *slog.Logger, opts ...RunnerOption) (*Runner, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	core, err := store.LoadCore()
	if err != nil {
		return nil, err
	}
	if core.Seq > log.LastSeq() {
		return nil, fmt.Errorf("%w: views at seq %d, log ends at %d", ErrViewsAhead, core.Seq, log.LastSeq())
	}
	unprocessed, err := store.unprocessedCount()
	if err != nil {
		return nil, err
	}
	r := &Runner{log: log, store: store, logger: logger, core: core, applied: make(chan struct{}),
		counts:    counts{upTo: core.Seq, unprocessed: unprocessed},
		snapEvery: DefaultSnapshotEvery, snapUnprocessed: DefaultSnapshotUnprocessed}
	r.seq.Store(core.Seq)
	r.unproc.Store(int64(unprocessed))
	for _, o := range opts {
		o(r)
	}
	lastSize := int64(0)
	if r.lastSnap, lastSize, err = store.lastSnapshot(); err != nil {
		return nil, err
	}
	r.snapGap = snapshotGap(int(lastSize))
	latest, found, err := store.latest()
	if err != nil {
		return nil, err
	}
	if !found && core.Seq > 0 {
		logger.Info("views: reading the log once for the latest event time", "seq", core.Seq)
		if latest, err = latestUpTo(context.Background(), log, core.Seq); err != nil {
			return nil, err
		}
	}
	r.latest = latest
	return r, nil
}

// latestUpTo returns the latest time of the events 1 to seq.
func latestUpTo(ctx context.Context, log eventlog.Log, seq uint64) (time.Time, error) {
	var latest time.Time
	if seq == 0 {
		return latest, nil
	}
	for e, err := range log.Range(ctx, 1, seq) {
		if err != nil {
			return time.Time{}, fmt.Errorf("projections: latest event time: %w", err)
		}
		if e.Time.After(latest) {
			latest = e.Time
		}
	}
	return latest, nil
}

// Store returns the runner's view store.
func (r *Runner) Store() *Store { return r.store }

// Unprocessed returns how many messages the unprocessed view holds, like
// Counts, without waiting for the batch being applied.
func (r *Runner) Unprocessed() int { return int(r.unproc.Load()) }

// Seq returns the last seq the views include. It takes no lock, so pages
// and the live stream never wait for a batch to ask.
func (r *Runner) Seq() uint64 { return r.seq.Load() }

// View calls fn with the Core under a read lock; fn must not keep it.
func (r *Runner) View(fn func(c *Core)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(r.core)
}

// WaitFor returns once the views include seq, or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, seq uint64) error {
	for {
		r.mu.RLock()
		done, ch := r.core.Seq >= seq, r.applied
		r.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run follows the log until ctx ends. On a full disk it writes nothing
// and tries again every second (Full says why it waits); it returns other
// errors.
func (r *Runner) Run(ctx context.Context) error {
	for {
		wake := r.log.Committed()
		_, err := r.CatchUp(ctx)
		var retry <-chan time.Time
		switch {
		case err == nil:
			r.setFull(nil)
		case ctx.Err() == nil && diskFull(err):
			r.setFull(err)
			retry = time.After(roomPoll)
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-retry:
		}
	}
}

// diskFull reports whether err is the lack of disk space: the head-room
// check's refusal or Badger's own write error.
func diskFull(err error) bool {
	return errors.Is(err, eventlog.ErrDiskFull) || errors.Is(err, syscall.ENOSPC)
}

func (r *Runner) setFull(err error) {
	r.fullMu.Lock()
	defer r.fullMu.Unlock()
	switch {
	case err != nil && r.full == nil:
		r.logger.Error("views: disk full; views wait for room", "error", err)
	case err == nil && r.full != nil:
		r.logger.Info("views: disk has room again; views follow the log")
	}
	r.full = err
}

// Full returns why the views are not following the log for lack of disk
// space (an error wrapping eventlog.ErrDiskFull), or nil.
func (r *Runner) Full() error {
	r.fullMu.Lock()
	defer r.fullMu.Unlock()
	return r.full
}

// CatchUp applies every committed event not yet in the views and returns
// how many it applied.
func (r *Runner) CatchUp(ctx context.Context) (uint64, error) {
	r.apply.Lock()
	defer r.apply.Unlock()
	return r.catchUp(ctx)
}

func (r *Runner) catchUp(ctx context.Context) (uint64, error) {
	return r.catchUpWithin(ctx, r.batchTime)
}

// catchUpWithin is catchUp with batches that end after about budget of
// work (0: no bound).
func (r *Runner) catchUpWithin(ctx context.Context, budget time.Duration) (uint64, error) {
	var total uint64
	limit := uint64(maxBatch)
	var f *feed
	defer func() {
		if f != nil {
			f.stop()
		}
	}()
	for r.Seq() < r.log.LastSeq() {
		if f == nil {
			f = newFeed(ctx, r.log, r.Seq()+1, 0)
		}
		n, err := r.applyBatch(f, limit, budget)
		if err != nil || f.done() {
			// After an error the feed is ahead of the Core, which is back
			// at the checkpoint: the next feed starts from there.
			f.stop()
			f = nil
		}
		if errors.Is(err, badger.ErrTxnTooBig) && n/2 < limit {
			// Nothing of the batch was written and the Core is back at the
			// checkpoint (the Core's changes are only sized roughly
			// beforehand): try again with fewer events.
			limit = max(n/2, 1)
			continue
		}
		if err != nil {
			return total, err
		}
		total += n
		limit = maxBatch
	}
	return total, nil
}

// applyBatch applies up to limit events, or fewer when their writes
// reach maxBatchBytes (but never ending on a MessageReceived, so that a
// checkpoint never separates a report from the decision that followed it),
// and writes them with the checkpoint in one transaction. When the writes
// do not fit one transaction it writes nothing, puts the Core back as
// stored and returns how many events it tried with badger.ErrTxnTooBig.
//
// A budget above 0 also ends the batch once that much time has passed since
// it began: readers of the views wait while a batch is applied.
func (r *Runner) applyBatch(f *feed, limit uint64, budget time.Duration) (uint64, error) {
	if err := r.store.Room(); err != nil {
		return 0, fmt.Errorf("projections: write: %w", err)
	}
	var deadline time.Time
	if budget > 0 {
		deadline = time.Now().Add(budget)
	}
	wb := &batch{txn: r.store.handle().NewTransaction(true), newRuns: map[string]bool{}, opened: map[string]uint64{}}
	defer wb.txn.Discard()
	added := map[string]uint64{} // unprocessed messages added in this batch
	var n uint64
	r.mu.Lock()
	from := r.core.Seq + 1
	t := newTally(r.counts.upTo)
	latest, last := r.latest, time.Time{} // last: the time of the batch's last event
	defs := r.defs
	step := func(d *decoded) error {
		e := &d.ev
		eff := r.core.applyDecoded(e, d.payload)
		if last = e.Time; last.After(latest) {
			latest = last
		}
		if e.Type == statesrv.EventProcessDefined || e.Type == statesrv.EventProcessDeleted {
			defs = 0
		}
		if eff.Opened != "" {
			wb.newRuns[eff.Opened] = true
			wb.opened[eff.Opened] = e.Seq
		}
		n++
		t.event(e, eff)
		if e.ProcessID != 0 {
			if err := wb.indexEvent(e.ProcessID, e.Seq); err != nil {
				return err
			}
		}
		if u := eff.Unprocessed; u != nil {
			added[u.ID] = u.Seq
		}
		if id := eff.Dismissed; id != "" {
			return r.dismiss(wb, added, id, t)
		}
		return wb.effect(eff)
	}
	var err error
	for {
		var d *decoded
		if d, err = f.peek(); err != nil || d == nil {
			break
		}
		if (n >= limit || wb.full(r.core) || (budget > 0 && n%64 == 0 && time.Now().After(deadline))) &&
			n > 0 && r.core.lastReceived == nil {
			break
		}
		if err = step(d); err != nil {
			break
		}
		f.pop()
	}
	if errors.Is(err, badger.ErrTxnTooBig) {
		return n, r.reload(err)
	}
	if err != nil {
		r.mu.Unlock()
		return 0, fmt.Errorf("projections: apply from %d: %w", from, err)
	}
	err = wb.core(r.core)
	if err == nil {
		err = wb.set(keyLatest, nsKey(latest))
	}
	if errors.Is(err, badger.ErrTxnTooBig) {
		return n, r.reload(err)
	}
	if err == nil {
		err = wb.txn.Commit()
	}
	if err != nil {
		// Nothing of the batch is stored: the Core goes back to the
		// checkpoint, so that a later try (once there is room) applies
		// the same events again.
		return n, r.reload(err)
	}
	r.store.written.Add(int64(wb.bytes))
	if r.snapshotDue() {
		// A snapshot that cannot be written only makes replays from the
		// one before it longer: the batch stands, and the next is due at
		// the next multiple.
		d, size, err := r.store.writeSnapshot(r.core, last, latest, r.snapUnprocessed, defs)
		if err != nil {
			r.logger.Warn("views: snapshot not written", "seq", r.core.Seq, "error", err)
		}
		defs, r.lastSnap, r.snapGap = d, r.core.Seq, snapshotGap(size)
	}
	r.seq.Store(r.core.Seq)
	r.counts.add(t)
	r.unproc.Store(int64(r.counts.unprocessed))
	r.latest, r.defs = latest, defs
	r.core.ClearDirty()
	ch := r.applied
	r.applied = make(chan struct{})
	r.mu.Unlock()
	close(ch)
	return n, nil
}

// reload puts back the Core as stored at the checkpoint, after a batch
// whose writes did not fit one transaction, and releases r.mu (which the
// caller holds). It returns cause, wrapped.
func (r *Runner) reload(cause error) error {
	defer r.mu.Unlock()
	core, err := r.store.LoadCore()
	if err != nil {
		return fmt.Errorf("projections: reload after %v: %w", cause, err)
	}
	r.core = core
	r.seq.Store(core.Seq)
	return fmt.Errorf("projections: write: %w", cause)
}

func (r *Runner) dismiss(wb *batch, added map[string]uint64, id string, t *tally) error {
	if seq, ok := added[id]; ok {
		delete(added, id)
		t.dismissed(id, false)
		if err := wb.del(key("u/", u64(seq))); err != nil {
			return err
		}
		return wb.del(key("ui/", []byte(id)))
	}
	keys, err := r.store.dismissKeys(id)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		t.dismissed(id, true)
	}
	for _, k := range keys {
		if err := wb.del(k); err != nil {
			return err
		}
	}
	return nil
}

// Rebuild drops every view and applies the whole log again. It returns the
// number of events read and the time taken.
func (r *Runner) Rebuild(ctx context.Context) (uint64, time.Duration, error) {
	start := time.Now()
	r.apply.Lock()
	defer r.apply.Unlock()
	if err := r.store.Room(); err != nil {
		return 0, 0, fmt.Errorf("projections: rebuild: %w", err)
	}
	if err := r.store.Drop(); err != nil {
		return 0, 0, err
	}
	r.mu.Lock()
	r.core = NewCore()
	r.seq.Store(0)
	r.counts.unprocessed = 0
	r.unproc.Store(0)
	r.mu.Unlock()
	r.lastSnap, r.snapGap, r.latest, r.defs = 0, 0, time.Time{}, 0
	// A rebuild takes the biggest batches: its readers see partial views
	// anyway, and fewer commits finish sooner.
	n, err := r.catchUpWithin(ctx, 0)
	return n, time.Since(start), err
}

// snapshotDue reports whether the batch just applied reached a multiple
// of snapEvery past the newest snapshot and the gap that snapshot's size
// asks for, and ends between two appends.
func (r *Runner) snapshotDue() bool {
	if r.snapEvery == 0 || r.core.lastReceived != nil {
		return false
	}
	return r.core.Seq/r.snapEvery > r.lastSnap/r.snapEvery && r.core.Seq >= r.lastSnap+r.snapGap
}

// snapshotGap is how many events must follow a snapshot of size bytes
// before the next.
func snapshotGap(size int) uint64 {
	return uint64(max(size-snapshotFreeBytes, 0) / snapshotBytesPerEvent)
}

// Applied returns a channel that is closed when the next batch has been
// applied.
func (r *Runner) Applied() <-chan struct{} {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.applied
}
