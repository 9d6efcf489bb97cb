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
const DefaultSnapshotEvery = 100_000

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

// snapshot is the Runner's Core after the batch ending at Seq, with the
// unprocessed messages as StateAt folds them.
type snapshot struct {
	Seq uint64 `json:"seq"`
	// At is the time of event Seq; Latest the latest time of events 1 to
	// Seq.
	At     time.Time `json:"at"`
	Latest time.Time `json:"latest"`
	// Complete is false when the messages were left out (too many).
	Complete    bool                   `json:"complete"`
	Procs       []*ProcessState        `json:"procs"`
	Runs        []*statesrv.Run        `json:"runs"`
	Users       map[string]string      `json:"users,omitempty"`
	Tokens      []statesrv.APIToken    `json:"tokens,omitempty"`
	Alerts      []*PendingAlert        `json:"alerts,omitempty"`
	Pauses      map[int64]time.Time    `json:"pauses,omitempty"`
	Unprocessed []statesrv.Unprocessed `json:"unprocessed,omitempty"`
}

// SnapshotInfo describes one stored snapshot.
type SnapshotInfo struct {
	Seq      uint64
	Complete bool
	Bytes    int64 // the size of its value
}

func snapshotKey(seq uint64, kind byte) []byte {
	return append(key(string(prefixSnapshot), u64(seq)), kind)
}

// snapshot writes c, which must be between two appends (no report waiting
// for its decision), as the snapshot at c.Seq. It reads the unprocessed
// messages through the batch's transaction; more than limit of them make
// the snapshot partial.
func (b *batch) snapshot(c *Core, at, latest time.Time, limit int) (complete bool, err error) {
	s := snapshot{Seq: c.Seq, At: at.UTC(), Latest: latest.UTC(), Users: c.Users, Pauses: c.Pauses,
		// Procs and runs are written as [] when there are none, the others
		// are left out.
		Procs:  slices.AppendSeq(make([]*ProcessState, 0, len(c.Procs)), maps.Values(c.Procs)),
		Runs:   slices.AppendSeq(make([]*statesrv.Run, 0, len(c.Runs)), maps.Values(c.Runs)),
		Tokens: slices.Collect(maps.Values(c.Tokens)),
		Alerts: slices.Collect(maps.Values(c.Alerts)),
	}
	s.Unprocessed, s.Complete, err = b.unprocessed(limit)
	if err != nil {
		return false, err
	}
	v, err := json.Marshal(s)
	if err != nil {
		return false, err
	}
	kind := byte(snapPartial)
	if s.Complete {
		kind = snapComplete
		if err := b.set(key(string(prefixSnapshotTime), nsKey(latest), u64(c.Seq)), nil); err != nil {
			return false, err
		}
	}
	return s.Complete, b.set(snapshotKey(c.Seq, kind), v)
}

// unprocessed returns the messages of the unprocessed view, one per id as
// StateAt keeps them (ui/ points at the latest message of an id), or false
// when there are more than limit.
func (b *batch) unprocessed(limit int) ([]statesrv.Unprocessed, bool, error) {
	var seqs [][]byte
	opts := iterOptions()
	opts.Prefix = []byte("ui/")
	it := b.txn.NewIterator(opts)
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
	out := make([]statesrv.Unprocessed, len(seqs))
	for i, seq := range seqs {
		item, err := b.txn.Get(key("u/", seq))
		if err != nil {
			return nil, false, fmt.Errorf("message at seq %d: %w", binary.BigEndian.Uint64(seq), err)
		}
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &out[i]) }); err != nil {
			return nil, false, err
		}
	}
	return out, true, nil
}

// core returns the Core the snapshot holds.
func (s *snapshot) core() *Core {
	c := NewCore()
	c.Seq = s.Seq
	byID(c.Procs, s.Procs, func(p *ProcessState) int64 { return p.ID })
	byID(c.Runs, s.Runs, func(r *statesrv.Run) string { return r.ID })
	byID(c.Tokens, s.Tokens, func(t statesrv.APIToken) string { return t.ID })
	byID(c.Alerts, s.Alerts, func(a *PendingAlert) string { return a.AlertID })
	maps.Copy(c.Users, s.Users)
	maps.Copy(c.Pauses, s.Pauses)
	c.rebuildIndex()
	return c
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
			out = append(out, SnapshotInfo{Seq: seq, Complete: kind == snapComplete, Bytes: it.Item().ValueSize()})
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
// (0: none).
func (s *Store) lastSnapshot() (uint64, error) {
	var seq uint64
	err := s.view(func(txn *badger.Txn) error {
		it := keysOnly(txn, prefixSnapshot, true)
		defer it.Close()
		if it.Seek(append(append([]byte(nil), prefixSnapshot...), 0xff)); it.Valid() {
			seq, _ = snapshotKeyParts(it.Item().Key())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("projections: last snapshot: %w", err)
	}
	return seq, nil
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
// stepped back). It returns nil when there is none.
func (s *Store) snapshotFor(at time.Time, upTo uint64) (*snapshot, error) {
	var snap *snapshot
	err := s.view(func(txn *badger.Txn) error {
		seq, found, err := findSnapshot(txn, at, upTo)
		if err != nil || !found {
			return err
		}
		snap, err = getJSON[*snapshot](txn, snapshotKey(seq, snapComplete))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("projections: snapshot: %w", err)
	}
	return snap, nil
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
	snap, err := s.snapshotFor(at, upTo)
	if err != nil {
		return State{}, err
	}
	if snap == nil {
		return StateAt(ctx, log, at, upTo)
	}
	unp := make(map[string]statesrv.Unprocessed, len(snap.Unprocessed))
	for _, u := range snap.Unprocessed {
		unp[u.ID] = u
	}
	if upTo != 0 {
		at = snap.At
	}
	return replay(ctx, log, snap.core(), unp, at, upTo)
}
