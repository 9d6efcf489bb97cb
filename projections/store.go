package projections

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// Store keeps the persisted views in a Badger database of their own (not
// synced: everything in it can be rebuilt from the log). The key layout:
//
//	vf                                  format version (uvarint): views of
//	                                    another version are dropped at open
//	                                    and rebuilt from the log
//	cp                                  checkpoint: last applied seq (8 bytes)
//	c/p/<pid 8>                         ProcessState JSON
//	c/r/<run>                           open run JSON
//	c/u/<user>                          user JSON (statesrv.User); views
//	                                    older than roles hold the bare
//	                                    password hash of an admin
//	c/t/<token id>                      API token JSON (statesrv.APIToken)
//	h/<finished ns 8><run>              finished run: a binary history
//	                                    record (encodeFinished)
//	hp/<pid 8><finished ns 8><run>      history by process; value: the state
//	hs/<state>\x00<finished ns 8><run>  history by outcome, FAIL and TIMEOUT only
//	r/<run>                             the seq of the event that opened the
//	                                    run (uvarint), then, once it
//	                                    finished, its finished ns (8): where
//	                                    to find it in history; written once
//	                                    per batch
//	hc/<hour 8><state>                  runs finished in the hour starting at
//	                                    <hour> (unix seconds) with <state>:
//	                                    a count (8 bytes), written with h/
//	u/<seq 8>                           unprocessed message JSON
//	ui/<message id>                     its seq
//	dr/<remote address>                 lines of that address dropped past the rate (Dropped JSON)
//	c/a/<alert id>                      alert waiting for delivery (PendingAlert JSON)
//	c/z/<pid 8>                         alert pause of a process (0: all), until (RFC 3339; empty: until resumed)
//	al/<requested ns 8><alert id>       alert and its status (statesrv.Alert JSON)
//	ai/<alert id>                       its requested ns
//	as/<status>\x00<requested ns 8><alert id>  alerts by their status now
//	                                    (the entry moves when a delivery
//	                                    ends): as/failed\x00 is the exact
//	                                    index of alerts not delivered
//	ap/<pid 8><requested ns 8><alert id>  alerts of a process; value: status
//	ep/<pid 8><seq 8>                   events about a process: a run of
//	                                    consecutive ones from seq (value: count)
//	sm                                  latest event time applied (ns 8, the
//	                                    running maximum), with the checkpoint
//	sn/<seq 8><c|p>                     snapshot after the batch ending at
//	                                    <seq>: the open runs and the
//	                                    unprocessed messages (binary, see
//	                                    snapshotVersion); p: partial, written
//	                                    without the messages (too many), never
//	                                    read by StateAt
//	sd/<seq 8>                          the definitions (JSON) as of the
//	                                    snapshot at <seq>, shared by the
//	                                    snapshots after it until they change
//	st/<latest ns 8><seq 8>             a complete snapshot by the latest event
//	                                    time up to it
//
// <run> is a run id as runKey writes it: 16 bytes for the UUIDs the server
// makes. Numbers are big-endian so that keys sort as the numbers do.
type Store struct {
	// db is swapped once, under mu, when views opened read-only on a full
	// disk are reopened writable (Room); readers hold mu shared.
	db     *badger.DB
	mu     sync.RWMutex
	opts   badger.Options
	room   eventlog.HeadRoom
	logger *slog.Logger
	// readOnly: opened on a full disk; nothing is written until Room
	// finds room and reopens the views writable.
	readOnly atomic.Bool
	// written counts the bytes of the batches committed (keys, values and
	// a rough per-entry overhead), for measurements.
	written atomic.Int64
	// defs holds the definitions entry of snapshots decoded last (seq 0
	// with a nil list: none).
	defs struct {
		sync.Mutex
		seq  uint64
		list []statesrv.Process
	}
}

var keyCheckpoint = []byte("cp")

// StoreOptions configure the views database.
type StoreOptions struct {
	// Dir is the directory ("" for memory).
	Dir    string
	Logger *slog.Logger
	// FreeBytes measures the free space under Dir (nil: the file system's
	// count); writes need eventlog.DefaultHeadRoom free.
	FreeBytes func(dir string) (int64, error)
	// ReadOnlyIfFull opens the views read-only when the disk is full at
	// open: they are read but not brought up to date until a restart.
	ReadOnlyIfFull bool
	// Tuning sizes the Badger database; zero fields take DefaultTuning.
	Tuning eventlog.Tuning
}

// DefaultTuning is the views database's Tuning: blocks compressed with
// ZSTD (JSON records and snapshots shrink to about a quarter) behind a
// 16 MiB block cache, and smaller memtables than the log's (its writes are
// not synced, so they need no large batches). BENCHMARKS.md has the
// measurements.
var DefaultTuning = eventlog.Tuning{
	Compression:        eventlog.CompressionZSTD,
	BlockCacheBytes:    16 << 20,
	MemTableBytes:      16 << 20,
	NumMemtables:       2,
	NumLevelZeroTables: 4,
	BaseTableBytes:     2 << 20,
	NumCompactors:      2,
	ValueLogFileBytes:  16 << 20,
}

// OpenStore opens the views database in dir ("" for memory).
func OpenStore(dir string, logger *slog.Logger) (*Store, error) {
	return OpenStoreWith(StoreOptions{Dir: dir, Logger: logger})
}

// OpenStoreWith opens the views database as o says. On a full disk it
// returns an error wrapping eventlog.ErrDiskFull, unless o.ReadOnlyIfFull.
func OpenStoreWith(o StoreOptions) (*Store, error) {
	dir, logger := o.Dir, o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{logger: logger,
		room: eventlog.HeadRoom{Dir: dir, Min: eventlog.DefaultHeadRoom, Free: o.FreeBytes}}
	if err := s.room.Check(0); err != nil {
		if !o.ReadOnlyIfFull || eventlog.UnflushedWAL(dir) {
			return nil, fmt.Errorf("projections: open %s: %w", dir, err)
		}
		logger.Warn("views: disk full at open; the views are read-only", "error", err)
		s.readOnly.Store(true)
	}
	opts, err := o.Tuning.Or(DefaultTuning).Apply(badger.DefaultOptions(dir).
		WithInMemory(dir == "").
		WithSyncWrites(false).
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithLogger(eventlog.BadgerLogger(logger)))
	if err != nil {
		return nil, fmt.Errorf("projections: open %s: %w", dir, err)
	}
	s.opts = opts
	db, err := badger.Open(opts.WithReadOnly(s.readOnly.Load()))
	if err != nil {
		return nil, fmt.Errorf("projections: open %s: %w", dir, err)
	}
	s.db = db
	if err := s.checkFormat(dir); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// formatVersion is the version of the views' layout and records, stored
// under keyFormat. Views are rebuilt from the log, so a store of another
// version (or of none: the first layout) is dropped at open and rebuilt.
const formatVersion = 2

var keyFormat = []byte("vf")

// checkFormat drops views of another format version than formatVersion
// and marks an empty store with it. Views opened read-only cannot be
// dropped: another version then is an error wrapping eventlog.ErrDiskFull.
// It uses s.db without mu: it runs at open, before any reader, or from
// reopen, which holds mu.
func (s *Store) checkFormat(dir string) error {
	version, empty := uint64(1), true
	err := s.db.View(func(txn *badger.Txn) error {
		v, found, err := value(txn, keyFormat)
		if found {
			version, _ = binary.Uvarint(v)
		}
		it := keysOnly(txn, nil, false)
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("projections: open %s: format: %w", dir, err)
	case version == formatVersion:
		return nil
	case !empty && s.readOnly.Load():
		return fmt.Errorf("projections: open %s: views of format %d need a rebuild to format %d: %w",
			dir, version, formatVersion, eventlog.ErrDiskFull)
	case !empty:
		s.logger.Info("views: stored in an older format; dropping them to rebuild from the log",
			"format", version, "want", formatVersion)
		return s.drop(s.db)
	case s.readOnly.Load():
		return nil // empty: marked once writable (reopen checks again)
	}
	return s.markFormat()
}

func (s *Store) markFormat() error {
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(keyFormat, binary.AppendUvarint(nil, formatVersion))
	})
	if err != nil {
		return fmt.Errorf("projections: format: %w", err)
	}
	return nil
}

// ReadOnly reports whether the views are read-only: opened on a full disk,
// and not reopened by Room since.
func (s *Store) ReadOnly() bool { return s.readOnly.Load() }

// Room returns an error wrapping eventlog.ErrDiskFull when the views may
// not be written: the disk lacks head-room, or the views opened read-only
// on a full disk could not be reopened writable yet (reopen; readers busy
// is eventlog.ErrBusy). Only their writer calls it, before it writes.
func (s *Store) Room() error {
	if err := s.room.Check(0); err != nil {
		return err
	}
	if s.readOnly.Load() {
		if err := s.reopen(); err != nil {
			// Still read-only: the Runner waits and tries again.
			return fmt.Errorf("%w: the views are still read-only: %w", eventlog.ErrDiskFull, err)
		}
	}
	return nil
}

// Close closes the database. Closing flushes the memtable, which on a full
// disk would die of SIGBUS: there it leaves the database open and returns
// an error wrapping eventlog.ErrDiskFull (the views can be rebuilt, and the
// next start replays what the memtable's log holds).
func (s *Store) Close() error {
	if !s.readOnly.Load() {
		if err := s.room.Check(0); err != nil {
			s.logger.Warn("views: disk full; closing without flushing", "error", err)
			return fmt.Errorf("projections: close: left unflushed: %w", err)
		}
	}
	return s.handle().Close()
}

// Drop deletes every view, the snapshots and the checkpoint.
func (s *Store) Drop() error { return s.drop(s.handle()) }

// drop is Drop on db (the current database: checkFormat, which may run
// with mu held, passes it in).
func (s *Store) drop(db *badger.DB) error {
	if err := db.DropAll(); err != nil {
		return fmt.Errorf("projections: drop: %w", err)
	}
	s.defs.Lock()
	s.defs.seq, s.defs.list = 0, nil
	s.defs.Unlock()
	return s.markFormat()
}

// Checkpoint returns the last seq applied to the stored views.
func (s *Store) Checkpoint() (uint64, error) {
	var seq uint64
	err := s.view(func(txn *badger.Txn) error {
		v, found, err := value(txn, keyCheckpoint)
		if found {
			seq = binary.BigEndian.Uint64(v)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("projections: checkpoint: %w", err)
	}
	return seq, nil
}

// LoadCore reads the stored Core as of the checkpoint.
func (s *Store) LoadCore() (*Core, error) {
	c := NewCore()
	seq, err := s.Checkpoint()
	if err != nil {
		return nil, err
	}
	c.Seq = seq
	err = s.view(func(txn *badger.Txn) error {
		if err := scanJSON(txn, "c/p/", func(ps *ProcessState) {
			// Views of an older version hold a key in clear.
			ps.FoldLegacyKey(binary.BigEndian.AppendUint64([]byte("views"), uint64(ps.ID)))
			c.Procs[ps.ID] = ps
		}); err != nil {
			return err
		}
		if err := scanJSON(txn, "c/r/", func(r *statesrv.Run) { c.Runs[r.ID] = r }); err != nil {
			return err
		}
		if err := scanJSON(txn, "c/a/", func(a *PendingAlert) { c.Alerts[a.AlertID] = a }); err != nil {
			return err
		}
		if err := scan(txn, []byte("c/z/"), func(k, v []byte) error {
			var t time.Time
			if err := t.UnmarshalText(v); err != nil {
				return err
			}
			c.Pauses[int64(binary.BigEndian.Uint64(k[4:]))] = t
			return nil
		}); err != nil {
			return err
		}
		if err := scanJSON(txn, "c/t/", func(t statesrv.APIToken) { c.Tokens[t.ID] = t }); err != nil {
			return err
		}
		return scan(txn, []byte("c/u/"), func(k, v []byte) error {
			name := string(k[4:])
			u := statesrv.User{Name: name, Role: statesrv.RoleAdmin, Hash: string(v)}
			if len(v) > 0 && v[0] == '{' {
				if err := json.Unmarshal(v, &u); err != nil {
					return fmt.Errorf("user %s: %w", name, err)
				}
			}
			c.Users[name] = u
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("projections: load: %w", err)
	}
	c.rebuildIndex()
	return c, nil
}

// batch collects the writes of one checkpoint in one transaction, so that
// views, Core and checkpoint reach the disk together or not at all.
type batch struct {
	txn   *badger.Txn
	bytes int // written so far, to keep under Badger's transaction limit
	// The open range of the per-process event index.
	rangePID               int64
	rangeFirst, rangeCount uint64
	// Runs opened in this batch: one closed in it too was never stored.
	newRuns map[string]bool
	// opened holds the start seq of the runs opened in this batch and not
	// closed in it: their r/ entry is written when the batch ends, so that
	// a run that opens and closes in one batch writes it once.
	opened map[string]uint64
	// finished counts the runs that finished in this batch by hourKey.
	finished map[string]uint64
}

// entryOverhead is a rough count of Badger's bytes per entry beyond key and
// value.
const entryOverhead = 24

func (b *batch) set(k, v []byte) error {
	b.bytes += len(k) + len(v) + entryOverhead
	return b.txn.Set(k, v)
}

func (b *batch) del(k []byte) error {
	b.bytes += len(k) + entryOverhead
	return b.txn.Delete(k)
}

// full reports whether the batch should end before another event: its
// writes so far plus what persisting c's changes will add come near the
// budget.
func (b *batch) full(c *Core) bool {
	pending := (len(c.dirtyRuns) + len(c.dirtyProcs) + len(c.dirtyUsers) + len(c.dirtyTokens) + len(c.dirtyAlerts)) * 1024
	return b.bytes+pending > maxBatchBytes
}

// maxBatchBytes is the budget of one checkpoint's transaction: well under
// Badger's limit of 15% of the 16 MiB memtable.
const maxBatchBytes = 1 << 20

// indexEvent records that event seq is about process pid. Consecutive
// events about one process (the events of one report) share one entry:
// ep/<pid><first seq> holding the count.
func (b *batch) indexEvent(pid int64, seq uint64) error {
	if pid == b.rangePID && seq == b.rangeFirst+b.rangeCount {
		b.rangeCount++
		return nil
	}
	if err := b.flushRange(); err != nil {
		return err
	}
	b.rangePID, b.rangeFirst, b.rangeCount = pid, seq, 1
	return nil
}

func (b *batch) flushRange() error {
	if b.rangeCount == 0 {
		return nil
	}
	v := binary.AppendUvarint(nil, b.rangeCount)
	b.rangeCount = 0
	return b.set(key("ep/", u64(uint64(b.rangePID)), u64(b.rangeFirst)), v)
}

// effect writes what one event changed in history and unprocessed.
func (b *batch) effect(e Effect) error {
	if r := e.Closed; r != nil && r.FinishedAt != nil {
		if err := b.history(r); err != nil {
			return err
		}
	}
	if a := e.Alert; a != nil {
		if err := b.alert(a); err != nil {
			return err
		}
	}
	if a := e.Attempt; a != nil {
		if err := b.alertAttempt(a); err != nil {
			return err
		}
	}
	if d := e.Dropped; d != nil {
		if err := b.dropped(d); err != nil {
			return err
		}
	}
	if u := e.Unprocessed; u != nil {
		if err := b.setJSON(key("u/", u64(u.Seq)), u); err != nil {
			return err
		}
		if err := b.set(key("ui/", []byte(u.ID)), u64(u.Seq)); err != nil {
			return err
		}
	}
	return nil
}

// history writes a run that moved to history: its record, its entries in
// the indexes by process and (unless OK) by outcome, its run index entry
// (start seq and finish time) and its hour's count.
func (b *batch) history(r *statesrv.Run) error {
	ns, rk := nsKey(*r.FinishedAt), runKey(r.ID)
	start, opened := b.opened[r.ID]
	if opened {
		delete(b.opened, r.ID)
	} else {
		v, _, err := value(b.txn, key("r/", rk))
		if err != nil {
			return err
		}
		start, _ = runIndex(v)
	}
	if err := b.set(key("h/", ns, rk), encodeFinished(r, start)); err != nil {
		return err
	}
	if err := b.set(key("hp/", u64(uint64(r.ProcessID)), ns, rk), []byte(r.State)); err != nil {
		return err
	}
	// Only the rare outcomes get an outcome index: OK runs are most of
	// the history, so a query for them reads h/ and skips the others.
	if r.State != statesrv.StateOK {
		if err := b.set(key("hs/", []byte(r.State), []byte{0}, ns, rk), nil); err != nil {
			return err
		}
	}
	if err := b.set(key("r/", rk), append(binary.AppendUvarint(nil, start), ns...)); err != nil {
		return err
	}
	return b.countFinished(*r.FinishedAt, r.State)
}

// runIndex parses the value of a run's r/ entry: the seq of the event that
// opened it (0: unknown) and, once it finished, the finish time (ns key).
func runIndex(v []byte) (start uint64, finished []byte) {
	start, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, nil
	}
	if rest := v[n:]; len(rest) == 8 {
		finished = rest
	}
	return start, finished
}

// countFinished adds one to the count of runs that finished with state in
// the hour of at. The counts are summed in memory and added to the stored
// ones once per batch (flushCounts): a batch of reports touches one or two
// hours, not one key per run.
func (b *batch) countFinished(at time.Time, state string) error {
	if b.finished == nil {
		b.finished = map[string]uint64{}
	}
	b.finished[string(hourKey(at, state))]++
	return nil
}

// flushCounts adds the batch's counts of finished runs to the stored ones.
func (b *batch) flushCounts() error {
	for k, add := range b.finished {
		var n uint64
		v, found, err := value(b.txn, []byte(k))
		if err != nil {
			return err
		}
		if found {
			n = binary.BigEndian.Uint64(v)
		}
		if err := b.set([]byte(k), u64(n+add)); err != nil {
			return err
		}
	}
	clear(b.finished)
	return nil
}

// hourKey is the key of the count of runs that finished with state in the
// hour of at.
func hourKey(at time.Time, state string) []byte {
	return key("hc/", u64(uint64(at.Truncate(time.Hour).Unix())), []byte(state))
}

// alert records a requested alert, or the end of its delivery on the row
// written when it was requested (read through the batch's own
// transaction, which sees the batch's writes too).
func (b *batch) alert(a *statesrv.Alert) error {
	if a.Status == statesrv.AlertPending || a.Status == statesrv.AlertSuppressed {
		ns, id := nsKey(a.RequestedAt), []byte(a.ID)
		if err := b.setJSON(key("al/", ns, id), a); err != nil {
			return err
		}
		if err := b.set(key("ai/", id), ns); err != nil {
			return err
		}
		return b.alertStatus(a.ProcessID, ns, id, "", a.Status)
	}
	ns, found, err := value(b.txn, key("ai/", []byte(a.ID)))
	if err != nil || !found {
		return err
	}
	k := key("al/", ns, []byte(a.ID))
	row, err := getJSON[statesrv.Alert](b.txn, k)
	if err != nil {
		return err
	}
	was := row.Status
	row.Status, row.DoneAt, row.Attempts, row.Error = a.Status, a.DoneAt, a.Attempts, a.Error
	row.LastAttemptAt, row.RetryAt = a.DoneAt, nil
	if err := b.setJSON(k, row); err != nil {
		return err
	}
	return b.alertStatus(row.ProcessID, ns, []byte(a.ID), was, a.Status)
}

// alertAttempt adds a failed attempt to the row of its pending alert:
// the count, the last error and when the next attempt is due, and the
// attempt itself to the row's latest ones.
func (b *batch) alertAttempt(a *AlertAttempt) error {
	ns, found, err := value(b.txn, key("ai/", []byte(a.AlertID)))
	if err != nil || !found {
		return err
	}
	k := key("al/", ns, []byte(a.AlertID))
	row, err := getJSON[statesrv.Alert](b.txn, k)
	if err != nil {
		return err
	}
	at := a.At
	row.Attempts, row.Error, row.LastAttemptAt, row.RetryAt = a.Attempt, a.Error, &at, a.RetryAt
	row.FailedAttempts = append(row.FailedAttempts, a.AlertAttempt)
	if n := len(row.FailedAttempts) - statesrv.MaxAlertAttempts; n > 0 {
		row.FailedAttempts = slices.Delete(row.FailedAttempts, 0, n)
	}
	return b.setJSON(k, row)
}

// alertStatus moves the alert (ns, id) of process pid in the status
// indexes from status was ("" for a new alert) to status now.
func (b *batch) alertStatus(pid int64, ns, id []byte, was, now string) error {
	if was != "" && was != now {
		if err := b.del(alertStatusKey(was, ns, id)); err != nil {
			return err
		}
	}
	if err := b.set(alertStatusKey(now, ns, id), nil); err != nil {
		return err
	}
	return b.set(key("ap/", u64(uint64(pid)), ns, id), []byte(now))
}

// alertStatusKey is the key of the alert (ns, id) in the index of status.
func alertStatusKey(status string, ns, id []byte) []byte {
	return key("as/", []byte(status), []byte{0}, ns, id)
}

// dismiss removes a message from the unprocessed view; the store is read
// because the message's seq is only known there.
func (s *Store) dismissKeys(id string) ([][]byte, error) {
	var keys [][]byte
	err := s.view(func(txn *badger.Txn) error {
		seq, found, err := value(txn, key("ui/", []byte(id)))
		if found {
			keys = append(keys, key("u/", seq), key("ui/", []byte(id)))
		}
		return err
	})
	return keys, err
}

// core writes the parts of c that changed, then the checkpoint.
func (b *batch) core(c *Core) error {
	if err := b.flushRange(); err != nil {
		return err
	}
	if err := b.flushCounts(); err != nil {
		return err
	}
	if err := persist(b, c.dirtyProcs, c.Procs, pidKey("c/p/"), jsonOf); err != nil {
		return err
	}
	for id := range c.dirtyRuns {
		r, ok := c.Runs[id]
		if !ok && b.newRuns[id] {
			continue // opened and closed within this batch
		}
		if err := putOrDelete(b, key("c/r/", runKey(id)), r, ok, jsonOf); err != nil {
			return err
		}
	}
	for id, start := range b.opened {
		if err := b.set(key("r/", runKey(id)), binary.AppendUvarint(nil, start)); err != nil {
			return err
		}
	}
	clear(b.opened)
	if err := persist(b, c.dirtyAlerts, c.Alerts, idKey("c/a/"), jsonOf); err != nil {
		return err
	}
	if err := persist(b, c.dirtyPauses, c.Pauses, pidKey("c/z/"), func(until time.Time) ([]byte, error) {
		v, _ := until.MarshalText()
		return v, nil
	}); err != nil {
		return err
	}
	if err := persist(b, c.dirtyUsers, c.Users, idKey("c/u/"), jsonOf); err != nil {
		return err
	}
	if err := persist(b, c.dirtyTokens, c.Tokens, idKey("c/t/"), jsonOf); err != nil {
		return err
	}
	return b.set(keyCheckpoint, u64(c.Seq))
}
