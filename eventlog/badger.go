package eventlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"
)

// groupMax is how many events one group entry holds at most.
const groupMax = 64

// Key prefixes (doc.go describes the layout).
const (
	prefixEvent = 'e'
	prefixKey   = 'k'
)

var headKey = []byte("m/head")

// Options configure a Badger log.
type Options struct {
	// Dir is the directory of the Badger database; empty opens it in memory
	// (tests only: nothing is durable).
	Dir string
	// Logger receives Badger's warnings and the log's own; nil discards.
	Logger *slog.Logger
	// Now stamps records whose Time is zero; nil means time.Now.
	Now func() time.Time
	// Tuning sizes the Badger database; zero fields take DefaultLogTuning.
	Tuning Tuning
	// MaxBatchBytes caps one group commit (default a sixteenth of a
	// memtable, well under Badger's transaction limit of 15% of one).
	MaxBatchBytes int
	// MinFreeBytes is the disk head-room below which appends are refused
	// with ErrDiskFull (default DefaultHeadRoom; 0 keeps the default, -1
	// disables).
	MinFreeBytes int64
	// FreeBytes measures the free space under Dir (nil: the file system's
	// count). Tests fill the disk here.
	FreeBytes func(dir string) (int64, error)
	// ReadOnlyIfFull opens the log read-only when the disk is full at open,
	// instead of refusing to open: Full then reports ErrDiskFull and every
	// append is refused with it until the log is reopened.
	ReadOnlyIfFull bool
	// ReadOnly opens the log for reading (verify, replay of a stopped
	// server's directory): nothing in Dir is written, so it works on
	// read-only media, and Dir is locked shared, so readers may overlap but
	// not a writer. A log that was not closed cleanly cannot be opened so
	// (ErrNeedsRecovery). On Windows and Plan 9, where Badger cannot open
	// read-only, the log is opened as usual and only appends are refused.
	ReadOnly bool
	// TypeCodes gives event type names a number, stored in their place (a
	// byte instead of a dozen). A code stands for its name forever: a log
	// is read with the codes it was written with, and a code is never
	// given to another name. A name without a code is stored as it is.
	TypeCodes map[string]uint64
	// Payloads shows data stored in a compact form as JSON and turns it
	// back, for backups; nil when every payload is JSON.
	Payloads Payloads
	// EnvelopeVersion is the form new groups are written in: 0 the
	// current one (2); 1 the first, for tests of logs that older versions
	// wrote.
	EnvelopeVersion int
}

// Payloads converts the data of events between the form their writer
// stores and JSON. Data that is JSON already is returned as it is.
type Payloads interface {
	// JSON returns the data of an event of type typ at time at as JSON.
	JSON(typ string, at time.Time, data []byte) ([]byte, error)
	// Compact returns the form a writer stores the JSON data of an event
	// of type typ at time at in (data itself when the type has none).
	Compact(typ string, at time.Time, data []byte) ([]byte, error)
}

// Badger is a Log stored in a Badger database, with group commit: every
// submission that arrives while a commit is syncing joins the next one.
type Badger struct {
	// db is swapped once, under dbMu, when a log opened read-only on a
	// full disk is reopened writable (reopen.go); readers hold dbMu shared.
	db     *badger.DB
	dbMu   sync.RWMutex
	opt    Options
	logger *slog.Logger

	mu      sync.Mutex
	queue   []submission
	pending map[string]*Pending // idempotency keys queued, not yet committed
	closed  bool
	// shut is set by Close: a read-only log is closed from the start, and
	// must not be reopened once its owner closes it.
	shut   bool
	failed error
	// full, when set, refuses every append: a commit found the disk full.
	// Only Resume clears it, once the writer has re-read the log.
	full     error
	notify   chan struct{} // closed and replaced at each commit
	wake     chan struct{} // tells the committer there is work
	stopped  chan struct{} // closed when the committer exits
	failedCh chan struct{} // closed when a commit failed

	// Owned by the committer goroutine.
	nextSeq  uint64
	lastHash [32]byte
	buf      []byte

	lastSeq atomic.Uint64
	types   typeNames
	codes   codeTable
	group   groupWriter
	stats   Stats
	room    HeadRoom

	closeOnce sync.Once
	closeErr  error
}

type submission struct {
	recs []Record
	p    *Pending
}

// Stats counts group commits, for benchmarks and metrics.
type Stats struct {
	Batches atomic.Uint64
	Events  atomic.Uint64
	// CommitNanos is the time spent in synced commits; SlowCommits counts
	// those over 50 ms and MaxCommitNanos is the longest.
	CommitNanos    atomic.Uint64
	SlowCommits    atomic.Uint64
	MaxCommitNanos atomic.Uint64
}

// OpenBadger opens (or creates) the log in opt.Dir. Besides Badger's own
// errors it returns ErrDiskFull, ErrLocked while another process has the
// log open, ErrNeedsRecovery (read-only), and an error wrapping a
// *fs.PathError for a file it may not read or write.
func OpenBadger(opt Options) (*Badger, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Tuning = opt.Tuning.Or(DefaultLogTuning)
	if opt.MaxBatchBytes <= 0 {
		// Badger refuses a transaction over 15% of a memtable.
		opt.MaxBatchBytes = int(opt.Tuning.MemTableBytes / 16)
	}
	if opt.MinFreeBytes == 0 {
		opt.MinFreeBytes = DefaultHeadRoom
	}
	if opt.EnvelopeVersion == 0 {
		opt.EnvelopeVersion = currentGroup
	}
	if opt.EnvelopeVersion != groupV1 && opt.EnvelopeVersion != groupV2 {
		return nil, fmt.Errorf("eventlog: open: no envelope version %d", opt.EnvelopeVersion)
	}
	names := make(map[uint64]string, len(opt.TypeCodes)) // to find a code given twice
	for name, code := range opt.TypeCodes {
		if other, dup := names[code]; dup {
			return nil, fmt.Errorf("eventlog: open: type code %d given to both %s and %s", code, other, name)
		}
		names[code] = name
	}
	l := &Badger{
		opt:      opt,
		logger:   opt.Logger,
		pending:  map[string]*Pending{},
		notify:   make(chan struct{}),
		wake:     make(chan struct{}, 1),
		stopped:  make(chan struct{}),
		failedCh: make(chan struct{}),
		group:    groupWriter{version: opt.EnvelopeVersion, codes: opt.TypeCodes},
	}
	l.room = HeadRoom{Dir: opt.Dir, Min: opt.MinFreeBytes, Free: opt.FreeBytes}
	if opt.Dir != "" && !opt.ReadOnly {
		// Opening writes: Badger replays and flushes the memtables a crash
		// left behind and starts compactions.
		if err := l.room.Check(0); err != nil {
			if !opt.ReadOnlyIfFull {
				return nil, fmt.Errorf("eventlog: open %s: %w", opt.Dir, err)
			}
			if UnflushedWAL(opt.Dir) {
				return nil, fmt.Errorf("eventlog: open %s: %w (its write-ahead log was left unflushed: make room before starting)", opt.Dir, err)
			}
			opt.ReadOnly = true
			l.opt.ReadOnly = true
			l.full = fmt.Errorf("%w (opened read-only until there is room)", err)
			l.logger.Warn("eventlog: disk full at open; the log is read-only", "error", err)
		}
	}
	bo, err := badgerOptions(opt)
	if err != nil {
		return nil, err
	}
	db, err := badger.Open(bo)
	if opt.ReadOnly && readOnlyUnsupported(err) {
		db, err = badger.Open(bo.WithReadOnly(false))
	}
	if err != nil {
		return nil, openError(opt, err)
	}
	l.db = db
	if err := db.View(func(txn *badger.Txn) error { return l.codes.load(txn, opt.TypeCodes) }); err != nil {
		db.Close()
		return nil, err
	}
	if err := l.loadHead(); err != nil {
		db.Close()
		return nil, err
	}
	if opt.ReadOnly {
		l.closed = true
		close(l.stopped)
	} else {
		go l.commitLoop()
	}
	return l, nil
}

// badgerOptions are chosen for a small machine and a write-once log; doc.go
// gives the reasons.
func badgerOptions(opt Options) (badger.Options, error) {
	o := badger.DefaultOptions(opt.Dir).
		WithInMemory(opt.Dir == "").
		WithSyncWrites(opt.Dir != "").
		WithDetectConflicts(false).
		WithCompactL0OnClose(true).
		WithMetricsEnabled(false).
		WithReadOnly(opt.ReadOnly).
		WithLogger(BadgerLogger(opt.Logger))
	o, err := opt.Tuning.Apply(o)
	if err != nil {
		return o, fmt.Errorf("eventlog: open %s: %w", opt.Dir, err)
	}
	return o, nil
}

// loadHead reads the last seq and hash, and checks that nothing follows it.
func (l *Badger) loadHead() error {
	return l.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(headKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			l.nextSeq = 1
			return nil
		}
		if err != nil {
			return fmt.Errorf("eventlog: read head: %w", err)
		}
		err = item.Value(func(v []byte) error {
			if len(v) != 40 {
				return fmt.Errorf("%w: head of %d bytes", ErrCorrupt, len(v))
			}
			l.nextSeq = binary.BigEndian.Uint64(v) + 1
			copy(l.lastHash[:], v[8:])
			return nil
		})
		if err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixEvent}})
		defer it.Close()
		if it.Seek(eventKey(l.nextSeq)); it.Valid() {
			return fmt.Errorf("%w: events follow the head (seq %d)", ErrCorrupt, l.nextSeq-1)
		}
		l.lastSeq.Store(l.nextSeq - 1)
		return nil
	})
}

func eventKey(seq uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixEvent
	binary.BigEndian.PutUint64(k[1:], seq)
	return k
}

func idemKey(key string) []byte {
	return append([]byte{prefixKey}, key...)
}

// Submit implements Log.
func (l *Badger) Submit(recs []Record) *Pending {
	if len(recs) == 0 {
		return Resolved(nil, false, nil)
	}
	p := newPending()
	l.mu.Lock()
	switch {
	case l.failed != nil:
		l.mu.Unlock()
		return Resolved(nil, false, l.failed)
	case l.full != nil:
		l.mu.Unlock()
		return Resolved(nil, false, l.full)
	case l.closed:
		l.mu.Unlock()
		return Resolved(nil, false, ErrClosed)
	}
	if k := recs[0].Key; k != "" {
		l.pending[k] = p
	}
	l.queue = append(l.queue, submission{recs: recs, p: p})
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return p
}

// Existing implements Log.
func (l *Badger) Existing(key string) (*Pending, error) {
	l.mu.Lock()
	inflight := l.pending[key]
	l.mu.Unlock()
	if inflight != nil {
		p := newPending()
		go func() {
			<-inflight.done
			if inflight.err != nil {
				p.Finish(nil, inflight.err)
				return
			}
			p.Finish(inflight.events[:1], nil)
		}()
		p.dup = true
		return p, nil
	}
	var seq uint64
	err := l.view(func(txn *badger.Txn) error {
		item, err := txn.Get(idemKey(key))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			seq = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog: existing: %w", err)
	}
	ev, err := l.Get(seq)
	if err != nil {
		return nil, err
	}
	return Resolved([]Event{ev}, true, nil), nil
}

// Get returns the event with the given seq.
func (l *Badger) Get(seq uint64) (Event, error) {
	if seq == 0 {
		return Event{}, fmt.Errorf("eventlog: get %d: %w", seq, ErrNotFound)
	}
	for e, err := range l.Range(context.Background(), seq, seq) {
		if err != nil {
			return Event{}, fmt.Errorf("eventlog: get %d: %w", seq, err)
		}
		return *e, nil
	}
	return Event{}, fmt.Errorf("eventlog: get %d: %w", seq, ErrNotFound)
}

// commitLoop is the single appender: it takes everything queued, commits it
// in one synced transaction, and resolves the submissions in order.
func (l *Badger) commitLoop() {
	defer close(l.stopped)
	for {
		l.mu.Lock()
		for len(l.queue) == 0 {
			if l.closed {
				l.mu.Unlock()
				return
			}
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		batch := l.takeBatch()
		l.mu.Unlock()
		l.commit(batch)
	}
}

// takeBatch removes from the queue the submissions of the next commit,
// capped by bytes (at least one submission). l.mu is held.
func (l *Badger) takeBatch() []submission {
	size, n := 0, 0
	for n < len(l.queue) {
		s := 0
		for _, r := range l.queue[n].recs {
			s += len(r.Data) + len(r.Type) + len(r.Actor) + len(r.Key) + 96
		}
		if n > 0 && size+s > l.opt.MaxBatchBytes {
			break
		}
		size += s
		n++
	}
	batch := make([]submission, n)
	copy(batch, l.queue)
	rest := copy(l.queue, l.queue[n:])
	clear(l.queue[rest:])
	l.queue = l.queue[:rest]
	return batch
}

func (l *Badger) commit(batch []submission) {
	seq, hash := l.nextSeq, l.lastHash
	results := make([][]Event, len(batch))
	l.group.reset()
	txn := l.db.NewTransaction(true)
	defer txn.Discard()
	if err := l.room.Check(0); err != nil {
		l.refuse(batch, err)
		return
	}
	var err error
	for i, s := range batch {
		if err != nil {
			break
		}
		evs := make([]Event, len(s.recs))
		for j, r := range s.recs {
			e := &evs[j]
			*e = Event{Seq: seq, Type: r.Type, Time: r.Time.UTC(), Actor: r.Actor,
				ProcessID: r.ProcessID, Key: r.Key, Data: r.Data}
			if r.Time.IsZero() {
				e.Time = l.opt.Now().UTC()
			}
			e.Time = time.Unix(0, e.Time.UnixNano()).UTC() // what decode gives back
			e.ID = newID()
			e.Hash, l.buf = hashEvent(l.buf, hash, e)
			hash = e.Hash
			l.group.add(e)
			if err = l.codes.record(e, l.opt.TypeCodes, txn.Set); err != nil {
				break
			}
			if j == 0 && r.Key != "" {
				if err = txn.Set(idemKey(r.Key), eventKey(seq)[1:]); err != nil {
					break
				}
			}
			// A submission is stored as group entries of at most
			// groupMax events, keyed by their last seq.
			if j == len(s.recs)-1 || (j+1)%groupMax == 0 {
				if err = txn.Set(eventKey(seq), l.group.take()); err != nil {
					break
				}
			}
			seq++
		}
		results[i] = evs
	}
	if err == nil {
		head := make([]byte, 40)
		binary.BigEndian.PutUint64(head, seq-1)
		copy(head[8:], hash[:])
		if err = txn.Set(headKey, head); err == nil {
			start := time.Now()
			err = txn.Commit()
			l.stats.observe(time.Since(start))
		}
	}
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrStopped, err)
		l.logger.Error("eventlog: commit failed; appends stopped", "error", err)
		l.mu.Lock()
		l.failed = err
		queued := l.queue
		l.queue = nil
		close(l.failedCh)
		l.mu.Unlock()
		l.resolve(batch, nil, err)
		l.resolve(queued, nil, err)
		return
	}
	l.stats.Batches.Add(1)
	l.stats.Events.Add(seq - l.nextSeq)
	l.nextSeq, l.lastHash = seq, hash
	l.lastSeq.Store(seq - 1)
	l.resolve(batch, results, nil)
}

// refuse answers batch and everything queued behind it with err (a full
// disk) and refuses every append until Resume: the writer decided them on
// state that will not be written, so it must re-read the log before it
// decides again. Nothing of them reached Badger, so the log stays usable.
func (l *Badger) refuse(batch []submission, err error) {
	l.mu.Lock()
	if l.full == nil {
		l.logger.Error("eventlog: disk full; appends refused until there is room", "error", err)
	}
	l.full = err
	queued := l.queue
	l.queue = nil
	l.mu.Unlock()
	l.resolve(batch, nil, err)
	l.resolve(queued, nil, err)
}

// Full returns why appends are refused for lack of disk space (an error
// wrapping ErrDiskFull), or nil.
func (l *Badger) Full() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.full
}

// ReadOnly reports whether the log is read-only: asked for, or because the
// disk was full at open and Resume has not reopened it yet.
func (l *Badger) ReadOnly() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.opt.ReadOnly
}

// Room returns an error wrapping ErrDiskFull while the disk lacks the
// head-room appends need, and ErrClosed for a log opened read-only on
// purpose.
func (l *Badger) Room() error {
	l.mu.Lock()
	readOnly, full := l.opt.ReadOnly, l.full
	l.mu.Unlock()
	if readOnly && full == nil {
		return ErrClosed
	}
	return l.room.Check(0)
}

// Resume takes appends again after a full disk, once there is head-room.
// The caller must have re-read the log since the refusal (its state held
// decisions that were not written), and must submit nothing while Resume
// runs. A log opened read-only on a full disk is reopened writable
// (reopen.go). It returns an error wrapping ErrDiskFull while the disk is
// still full, ErrBusy while readers hold the read-only database too long,
// and ErrStopped after a failed commit.
func (l *Badger) Resume() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.failed != nil:
		return l.failed
	case l.full == nil:
		return nil
	case l.shut:
		return ErrClosed
	}
	if err := l.room.Check(0); err != nil {
		return err
	}
	if l.opt.ReadOnly {
		if err := l.reopen(); err != nil {
			return err
		}
	}
	l.full = nil
	l.logger.Info("eventlog: disk has room again; appends resumed")
	return nil
}

// resolve finishes the submissions, forgets their keys and wakes readers.
func (l *Badger) resolve(batch []submission, results [][]Event, err error) {
	l.mu.Lock()
	for _, s := range batch {
		if k := s.recs[0].Key; k != "" && l.pending[k] == s.p {
			delete(l.pending, k)
		}
	}
	var notify chan struct{}
	if err == nil {
		notify = l.notify
		l.notify = make(chan struct{})
	}
	l.mu.Unlock()
	for i, s := range batch {
		if err != nil {
			s.p.Finish(nil, err)
		} else {
			s.p.Finish(results[i], nil)
		}
	}
	if notify != nil {
		close(notify)
	}
}

// Range implements Log. It reads from one Badger read transaction, so it
// sees the log as it was when the iteration began.
func (l *Badger) Range(ctx context.Context, from, to uint64) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		from = max(from, 1)
		if to != 0 && to < from {
			return
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		stopped := false // the consumer broke off, or the range ended
		err := l.view(func(txn *badger.Txn) error {
			it := groupIterator(txn)
			defer it.Close()
			rd := rangeReader{l: l, txn: txn}
			n := 0
			for it.Seek(eventKey(from)); it.Valid() && !stopped; it.Next() {
				if n++; n%1024 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				err := it.Item().Value(func(v []byte) error {
					return rd.group(v, func(e *Event) bool {
						switch {
						case e.Seq < from:
						case to != 0 && e.Seq > to:
							stopped = true
						default:
							stopped = !yield(e, nil)
						}
						return !stopped
					})
				})
				if err != nil {
					return fmt.Errorf("eventlog: read: %w", err)
				}
			}
			return nil
		})
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// rangeReader decodes the groups of one read in order, with the hash of
// every event: stored for version 1 members and for the last member of a
// version 2 group, computed along the chain for the others.
type rangeReader struct {
	l   *Badger
	txn *badger.Txn
	ev  Event
	g   groupReader
	buf []byte
	// prev is the hash of the last event of the group read before, once
	// known (havePrev).
	prev     [32]byte
	havePrev bool
}

// group calls fn for each event of the group entry v until fn returns
// false.
func (r *rangeReader) group(v []byte, fn func(*Event) bool) error {
	e := &r.ev
	if !isV2(v) {
		for len(v) > 0 {
			raw, rest, err := nextMember(v)
			if err == nil {
				err = decode(raw, e, &r.l.types)
			}
			if err != nil {
				return err
			}
			v = rest
			r.prev, r.havePrev = e.Hash, true
			if !fn(e) {
				return nil
			}
		}
		return nil
	}
	var err error
	g := &r.g
	if *g, err = openGroup(v, r.l.codes.names(), &r.l.types); err != nil {
		return err
	}
	for g.more() {
		if err := g.next(e); err != nil {
			return err
		}
		if !g.more() {
			e.Hash = g.hash
		} else if err := r.chain(e); err != nil {
			return err
		}
		r.prev, r.havePrev = e.Hash, true
		if !fn(e) {
			return nil
		}
	}
	return nil
}

// chain sets e's hash, computed from the previous event's; the first
// group of a range that starts past seq 1 reads that from the group before.
func (r *rangeReader) chain(e *Event) error {
	if !r.havePrev {
		if e.Seq > 1 {
			item, err := r.txn.Get(eventKey(e.Seq - 1))
			if err != nil {
				return fmt.Errorf("%w: the group before seq %d: %v", ErrCorrupt, e.Seq, err)
			}
			if err := item.Value(func(v []byte) error {
				r.prev, err = groupHash(v)
				return err
			}); err != nil {
				return err
			}
		}
		r.havePrev = true
	}
	e.Hash, r.buf = hashEvent(r.buf, r.prev, e)
	return nil
}

// groupIterator iterates over the event groups of txn in seq order; it
// fetches each value only when it is read.
func groupIterator(txn *badger.Txn) *badger.Iterator {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = []byte{prefixEvent}
	return txn.NewIterator(opts)
}

// LastSeq implements Log.
func (l *Badger) LastSeq() uint64 { return l.lastSeq.Load() }

// Committed implements Log.
func (l *Badger) Committed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notify
}

func (s *Stats) observe(d time.Duration) {
	n := uint64(d)
	s.CommitNanos.Add(n)
	if d > 50*time.Millisecond {
		s.SlowCommits.Add(1)
	}
	for {
		m := s.MaxCommitNanos.Load()
		if n <= m || s.MaxCommitNanos.CompareAndSwap(m, n) {
			return
		}
	}
}

// Failed is closed when the log stopped after a failed commit; Err then
// says why.
func (l *Badger) Failed() <-chan struct{} { return l.failedCh }

// Err returns why the log stopped, or nil.
func (l *Badger) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// Stats returns the commit counters.
func (l *Badger) Stats() *Stats { return &l.stats }

// Close implements Log: it waits for queued appends and closes Badger.
func (l *Badger) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed, l.shut = true, true
		stopped, readOnly := l.stopped, l.opt.ReadOnly
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
		<-stopped
		if !readOnly {
			// Closing flushes the memtable and compacts level 0: on a full
			// disk that would die of SIGBUS. The write-ahead log is synced,
			// so the next start replays it instead.
			if err := l.room.Check(levelsBytes(l.db, 1)); err != nil {
				l.logger.Warn("eventlog: disk full; closing without flushing", "error", err)
				l.closeErr = fmt.Errorf("eventlog: close: left unflushed: %w", err)
				return
			}
		}
		if err := l.db.Close(); err != nil {
			l.closeErr = fmt.Errorf("eventlog: close: %w", err)
		}
	})
	return l.closeErr
}

// levelsBytes is the size of db's tables in levels 0 to maxLevel: what a
// compaction of level 0 on close may rewrite.
func levelsBytes(db *badger.DB, maxLevel int) int64 {
	var n int64
	for _, t := range db.Tables() {
		if t.Level <= maxLevel {
			n += int64(t.OnDiskSize)
		}
	}
	return n
}

// The pool of random bytes for ids is switched on before any goroutine can
// make a UUID: uuid.EnableRandPool must not run while others call uuid.New
// (switched on at the first commit, it raced with the write side's ids).
func init() { uuid.EnableRandPool() }

func newID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}
