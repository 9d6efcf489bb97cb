package projections

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// DefaultSnapshotEvery is how many events apart the Runner writes
// snapshots unless told otherwise.
const DefaultSnapshotEvery = 10_000

// A snapshot of size bytes is followed by the next no sooner than
// (size − snapshotFreeBytes) / snapshotBytesPerEvent events later: this
// bounds what snapshots cost on disk to about snapshotBytesPerEvent per
// event of the log when they are large (many open runs or unprocessed
// messages), and leaves small ones at every DefaultSnapshotEvery.
const (
	snapshotBytesPerEvent = 64
	snapshotFreeBytes     = 64 << 10
)

// DefaultSnapshotUnprocessed is the most unprocessed messages a snapshot
// holds: beyond it the snapshot is stored partial (without them), as the
// messages would make it larger than the events it saves replaying.
const DefaultSnapshotUnprocessed = 50_000

// RunnerOption changes a Runner's defaults.
type RunnerOption func(*Runner)

// SnapshotEvery makes the Runner write a snapshot at the end of the first
// batch that reaches each multiple of n events (0 writes none).
func SnapshotEvery(n uint64) RunnerOption { return func(r *Runner) { r.snapEvery = n } }

// BatchTime bounds the work of one batch applied while following the log
// (not in a rebuild): readers of the views wait while a batch is applied,
// so a bound keeps pages quick under a heavy stream of reports, at the
// cost of more, smaller commits. 0 (the default) bounds batches only by
// events and bytes.
func BatchTime(d time.Duration) RunnerOption { return func(r *Runner) { r.batchTime = d } }

// SnapshotUnprocessed sets the most unprocessed messages a complete
// snapshot holds.
func SnapshotUnprocessed(n int) RunnerOption { return func(r *Runner) { r.snapUnprocessed = n } }

var (
	// keyLatest holds the latest event time applied (ns), written with the
	// checkpoint: the running maximum, not the time of the last event, as
	// a clock may step back.
	keyLatest = []byte("sm")
	// prefixSnapshot is followed by the seq (8) and snapComplete or
	// snapPartial, so that a seq lookup skips partial snapshots on keys.
	prefixSnapshot = []byte("sn/")
	// prefixSnapshotTime indexes the complete snapshots by the latest event
	// time up to them (ns 8) and their seq (8).
	prefixSnapshotTime = []byte("st/")
)

const (
	snapComplete = 'c'
	snapPartial  = 'p'
)

// snapshot is what StateAt needs of the Runner's Core after the batch
// ending at Seq: the definitions, the open runs and the unprocessed
// messages. The rest of the Core (users, tokens, alerts, pauses, what each
// process last did) shows nowhere in a State and changes nothing of what
// does, so it is left out.
type snapshot struct {
	Seq uint64
	// At is the time of event Seq; Latest the latest time of events 1 to
	// Seq.
	At, Latest time.Time
	// Complete is false when the messages were left out (too many).
	Complete bool
	// Defs is the seq of the definitions entry (sd/) the snapshot uses:
	// the definitions change rarely, so snapshots share one entry until
	// they do.
	Defs        uint64
	Runs        []*statesrv.Run
	Unprocessed [][]byte // JSON, as the unprocessed view holds them
}

// snapshotVersion is the first byte of a snapshot record: a snapshot is
//
//	version 2 | flags (1: complete) | seq uvarint | at ns varint |
//	latest ns varint | defs seq uvarint | runs uvarint, then each: id str,
//	started ns varint and the fields as the history record has them
//	(appendRun, times from the start) | messages uvarint, then each: its
//	JSON as a str
//
// and the definitions entry sd/<seq 8> a JSON array of statesrv.Process,
// ordered by id.
const snapshotVersion = 2

// prefixDefs is followed by the seq (8) of the snapshot that wrote the
// definitions.
var prefixDefs = []byte("sd/")

func (s *snapshot) encode() []byte {
	b := []byte{snapshotVersion, 0}
	if s.Complete {
		b[1] = 1
	}
	b = binary.AppendUvarint(b, s.Seq)
	b = binary.AppendVarint(b, s.At.UnixNano())
	b = binary.AppendVarint(b, s.Latest.UnixNano())
	b = binary.AppendUvarint(b, s.Defs)
	b = binary.AppendUvarint(b, uint64(len(s.Runs)))
	for _, r := range s.Runs {
		var ref int64
		if !r.StartedAt.IsZero() {
			ref = r.StartedAt.UnixNano()
		}
		b = appendStr(b, string(runKey(r.ID)))
		b = binary.AppendVarint(b, ref)
		b = appendRun(b, r, 0, ref)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Unprocessed)))
	for _, u := range s.Unprocessed {
		b = appendStr(b, string(u))
	}
	return b
}

func decodeSnapshot(v []byte) (*snapshot, error) {
	if len(v) < 2 || v[0] != snapshotVersion {
		return nil, fmt.Errorf("snapshot of version %v: %w", v[:min(len(v), 1)], errRecord)
	}
	s := &snapshot{Complete: v[1]&1 != 0}
	rd := &recordReader{b: v[2:]}
	s.Seq = rd.uvarint()
	s.At, s.Latest = nsUTC(rd.varint()), nsUTC(rd.varint())
	s.Defs = rd.uvarint()
	n := rd.uvarint()
	if n > uint64(len(rd.b)) {
		return nil, errRecord
	}
	s.Runs = make([]*statesrv.Run, 0, n)
	for range n {
		id := runID([]byte(rd.str()))
		ref := rd.varint()
		r, _ := rd.run(ref)
		if rd.err != nil {
			return nil, rd.err
		}
		r.ID = id
		s.Runs = append(s.Runs, &r)
	}
	n = rd.uvarint()
	if n > uint64(len(rd.b)) {
		return nil, errRecord
	}
	for range n {
		s.Unprocessed = append(s.Unprocessed, []byte(rd.str()))
	}
	return s, rd.err
}

// SnapshotInfo describes one stored snapshot.
type SnapshotInfo struct {
	Seq      uint64
	Complete bool
	Bytes    int64 // the size of its value and of the definitions written with it
}

func snapshotKey(seq uint64, kind byte) []byte {
	return append(key(string(prefixSnapshot), u64(seq)), kind)
}

// writeSnapshot writes c, which must be between two appends (no report
// waiting for its decision) and stored up to c.Seq, as the snapshot at
// c.Seq, with the definitions entry defs (0: none yet for these
// definitions, which it then writes at c.Seq). It returns the definitions
// entry it used. More than limit unprocessed messages make the snapshot
// partial. A snapshot is written apart from the batch, in a write batch of
// its own (Badger splits it as it needs): with many open runs it may be
// larger than a transaction can hold, and its entries go in the order that
// keeps a half-written one unseen (the time index last).
func (s *Store) writeSnapshot(c *Core, at, latest time.Time, limit int, defs uint64) (_ uint64, size int, err error) {
	if err := s.Room(); err != nil {
		return 0, 0, err
	}
	wb := s.handle().NewWriteBatch()
	defer wb.Cancel()
	if defs == 0 {
		list := make([]statesrv.Process, 0, len(c.Procs))
		for _, ps := range c.Procs {
			list = append(list, ps.Process)
		}
		slices.SortFunc(list, func(a, b statesrv.Process) int { return int(sign(a.ID - b.ID)) })
		v, err := json.Marshal(list)
		size += len(v)
		if err != nil {
			return 0, 0, err
		}
		if err := wb.Set(key(string(prefixDefs), u64(c.Seq)), v); err != nil {
			return 0, 0, err
		}
		defs = c.Seq
	}
	snap := snapshot{Seq: c.Seq, At: at.UTC(), Latest: latest.UTC(), Defs: defs,
		Runs: slices.AppendSeq(make([]*statesrv.Run, 0, len(c.Runs)), maps.Values(c.Runs))}
	err = s.view(func(txn *badger.Txn) (err error) {
		snap.Unprocessed, snap.Complete, err = unprocessedJSON(txn, limit)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	kind := byte(snapPartial)
	if snap.Complete {
		kind = snapComplete
	}
	v := snap.encode()
	size += len(v)
	if err := wb.Set(snapshotKey(c.Seq, kind), v); err != nil {
		return 0, 0, err
	}
	if snap.Complete {
		if err := wb.Set(key(string(prefixSnapshotTime), nsKey(latest), u64(c.Seq)), nil); err != nil {
			return 0, 0, err
		}
	}
	if err := wb.Flush(); err != nil {
		return 0, 0, err
	}
	return defs, size, nil
}

// unprocessedJSON returns the messages of the unprocessed view (JSON), one
// per id as StateAt keeps them (ui/ points at the latest message of an
// id), or false when there are more than limit.
func unprocessedJSON(txn *badger.Txn, limit int) ([][]byte, bool, error) {
	var seqs [][]byte
	opts := iterOptions()
	opts.Prefix = []byte("ui/")
	it := txn.NewIterator(opts)
	for it.Rewind(); it.Valid(); it.Next() {
		if len(seqs) == limit {
			it.Close()
			return nil, false, nil
		}
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			it.Close()
			return nil, false, err
		}
		seqs = append(seqs, v)
	}
	it.Close()
	out := make([][]byte, len(seqs))
	for i, seq := range seqs {
		v, found, err := value(txn, key("u/", seq))
		if err == nil && !found {
			err = badger.ErrKeyNotFound
		}
		if err != nil {
			return nil, false, fmt.Errorf("message at seq %d: %w", binary.BigEndian.Uint64(seq), err)
		}
		out[i] = v
	}
	return out, true, nil
}

// core returns the Core the snapshot holds, with the definitions defs
// (which it does not change), and its unprocessed messages by id.
func (s *snapshot) core(defs []statesrv.Process) (*Core, map[string]statesrv.Unprocessed, error) {
	c := NewCore()
	c.Seq = s.Seq
	c.Procs = make(map[int64]*ProcessState, len(defs))
	c.Runs = make(map[string]*statesrv.Run, len(s.Runs))
	c.byProc = make(map[int64][]*statesrv.Run, len(s.Runs))
	states := make([]ProcessState, len(defs)) // one allocation for all
	for i, p := range defs {
		states[i].Process = p
		c.Procs[p.ID] = &states[i]
	}
	byID(c.Runs, s.Runs, func(r *statesrv.Run) string { return r.ID })
	c.rebuildIndex()
	unp := make(map[string]statesrv.Unprocessed, len(s.Unprocessed))
	for _, v := range s.Unprocessed {
		var u statesrv.Unprocessed
		if err := json.Unmarshal(v, &u); err != nil {
			return nil, nil, err
		}
		unp[u.ID] = u
	}
	return c, unp, nil
}

// byID adds each of vs to m under its id.
func byID[K comparable, V any](m map[K]V, vs []V, id func(V) K) {
	for _, v := range vs {
		m[id(v)] = v
	}
}

// Snapshots lists the stored snapshots, oldest first.
func (s *Store) Snapshots() ([]SnapshotInfo, error) {
	var out []SnapshotInfo
	err := s.view(func(txn *badger.Txn) error {
		it := keysOnly(txn, prefixSnapshot, false)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			seq, kind := snapshotKeyParts(it.Item().Key())
			size := it.Item().ValueSize()
			if defs, err := txn.Get(key(string(prefixDefs), u64(seq))); err == nil {
				size += defs.ValueSize()
			}
			out = append(out, SnapshotInfo{Seq: seq, Complete: kind == snapComplete, Bytes: size})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: snapshots: %w", err)
	}
	return out, nil
}

func snapshotKeyParts(k []byte) (uint64, byte) {
	k = k[len(prefixSnapshot):]
	return binary.BigEndian.Uint64(k), k[8]
}

// lastSnapshot returns the seq of the newest snapshot, complete or not
// (0: none), and its size (SnapshotInfo.Bytes).
func (s *Store) lastSnapshot() (uint64, int64, error) {
	var (
		seq  uint64
		size int64
	)
	err := s.view(func(txn *badger.Txn) error {
		it := keysOnly(txn, prefixSnapshot, true)
		defer it.Close()
		if it.Seek(append(append([]byte(nil), prefixSnapshot...), 0xff)); it.Valid() {
			seq, _ = snapshotKeyParts(it.Item().Key())
			size = it.Item().ValueSize()
			if defs, err := txn.Get(key(string(prefixDefs), u64(seq))); err == nil {
				size += defs.ValueSize()
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("projections: last snapshot: %w", err)
	}
	return seq, size, nil
}

// latest returns the latest event time the views include, and false when
// they were written before it was kept.
func (s *Store) latest() (time.Time, bool, error) {
	var t time.Time
	found := false
	err := s.view(func(txn *badger.Txn) error {
		v, ok, err := value(txn, keyLatest)
		if ok {
			t, found = nsTime(v), true
		}
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("projections: latest: %w", err)
	}
	return t, found, nil
}

func nsTime(v []byte) time.Time { return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC() }

// snapshotFor loads the newest complete snapshot that StateAt(at, upTo)
// would pass through: for a seq (upTo != 0), the newest at or before it;
// for a moment, the newest whose events are all at or before it (so the
// replay from it stops where a replay from seq 1 does, even after a clock
// stepped back). It returns nil when there is none, and the definitions
// the snapshot uses.
func (s *Store) snapshotFor(at time.Time, upTo uint64) (*snapshot, []statesrv.Process, error) {
	var (
		snap *snapshot
		defs []statesrv.Process
	)
	err := s.view(func(txn *badger.Txn) error {
		seq, found, err := findSnapshot(txn, at, upTo)
		if err != nil || !found {
			return err
		}
		item, err := txn.Get(snapshotKey(seq, snapComplete))
		if err != nil {
			return err
		}
		if err := item.Value(func(v []byte) (err error) {
			snap, err = decodeSnapshot(v)
			return err
		}); err != nil {
			return err
		}
		defs, err = s.definitions(txn, snap.Defs)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("projections: snapshot: %w", err)
	}
	return snap, defs, nil
}

// definitions returns the definitions entry written at seq, decoded once
// and kept for the next snapshot that uses it. The slice is shared: do not
// change it.
func (s *Store) definitions(txn *badger.Txn, seq uint64) ([]statesrv.Process, error) {
	s.defs.Lock()
	defer s.defs.Unlock()
	if s.defs.list != nil && s.defs.seq == seq {
		return s.defs.list, nil
	}
	list, err := getJSON[[]statesrv.Process](txn, key(string(prefixDefs), u64(seq)))
	if err != nil {
		return nil, fmt.Errorf("definitions at %d: %w", seq, err)
	}
	if list == nil {
		list = []statesrv.Process{}
	}
	s.defs.seq, s.defs.list = seq, list
	return list, nil
}

func findSnapshot(txn *badger.Txn, at time.Time, upTo uint64) (uint64, bool, error) {
	if upTo != 0 {
		it := keysOnly(txn, prefixSnapshot, true)
		defer it.Close()
		for it.Seek(append(key(string(prefixSnapshot), u64(upTo)), 0xff)); it.Valid(); it.Next() {
			if seq, kind := snapshotKeyParts(it.Item().Key()); kind == snapComplete {
				return seq, true, nil
			}
		}
		return 0, false, nil
	}
	if at.Before(time.Unix(0, 0)) {
		return 0, false, nil // before any event time a key can hold
	}
	it := keysOnly(txn, prefixSnapshotTime, true)
	defer it.Close()
	it.Seek(append(key(string(prefixSnapshotTime), nsKey(at)), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	if !it.Valid() {
		return 0, false, nil
	}
	k := it.Item().Key()[len(prefixSnapshotTime):]
	return binary.BigEndian.Uint64(k[8:]), true, nil
}

// StateAt returns what the pure StateAt returns, replaying the log from the
// newest complete snapshot that the pure replay would pass through, or
// from seq 1 when there is none. The snapshots are written every so many
// events, so a request replays at most about that many, however long the
// log.
func (s *Store) StateAt(ctx context.Context, log eventlog.Log, at time.Time, upTo uint64) (State, error) {
	snap, defs, err := s.snapshotFor(at, upTo)
	if err != nil {
		return State{}, err
	}
	if snap == nil {
		return StateAt(ctx, log, at, upTo)
	}
	c, unp, err := snap.core(defs)
	if err != nil {
		return State{}, fmt.Errorf("projections: snapshot at %d: %w", snap.Seq, err)
	}
	if upTo != 0 {
		at = snap.At
	}
	return replay(ctx, log, c, unp, at, upTo)
}
