package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv"
)

// HistoryQuery selects finished runs, newest first.
type HistoryQuery struct {
	ProcessID int64     // 0: every process
	State     string    // "": every outcome
	Before    time.Time // zero: from the newest; else finished strictly before
	// BeforeRun, with Before, pages exactly: runs that finished at Before
	// are included when their id sorts before BeforeRun (the last run of
	// the previous page), so runs finishing at one instant are not skipped.
	BeforeRun string
	Limit     int
	// Processes, when not nil, keeps only the runs of these processes (the
	// processes of a tag); an empty list keeps none.
	Processes []int64
}

// History returns finished runs matching q, newest first. It reads only as
// many index entries as it returns (plus skipped ones when both a process
// and a state are given), so the size of the history does not matter.
func (s *Store) History(q HistoryQuery) ([]statesrv.Run, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Processes != nil {
		if q.ProcessID == 0 {
			return s.historyOf(q)
		}
		if !slices.Contains(q.Processes, q.ProcessID) {
			return []statesrv.Run{}, nil
		}
	}
	var prefix []byte
	switch {
	case q.ProcessID != 0:
		prefix = key("hp/", u64(uint64(q.ProcessID)))
	case q.State != "" && q.State != statesrv.StateOK:
		prefix = key("hs/", []byte(q.State), []byte{0})
	default:
		prefix = []byte("h/")
	}
	out := []statesrv.Run{}
	err := s.view(func(txn *badger.Txn) error {
		it := keysOnly(txn, prefix, true)
		defer it.Close()
		seek := append([]byte(nil), prefix...)
		switch {
		case q.Before.IsZero():
			seek = append(seek, 0xff)
		case q.BeforeRun != "":
			seek = append(append(seek, nsKey(q.Before)...), runKey(q.BeforeRun)...)
		default:
			seek = append(seek, nsKey(q.Before)...)
		}
		for it.Seek(seek); it.Valid() && len(out) < q.Limit; it.Next() {
			item := it.Item()
			if bytes.Equal(item.Key(), seek) {
				continue // the last run of the previous page
			}
			rest := item.Key()[len(prefix):] // finished ns + run id
			if q.ProcessID != 0 && q.State != "" {
				if match, err := valueIs(item, q.State); err != nil || !match {
					if err != nil {
						return err
					}
					continue
				}
			}
			run, err := finishedRun(txn, rest[:8], rest[8:])
			if err != nil {
				return err
			}
			if q.ProcessID == 0 && q.State == statesrv.StateOK && run.State != statesrv.StateOK {
				continue // OK runs have no outcome index: filter h/
			}
			out = append(out, run)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: history: %w", err)
	}
	return out, nil
}

// FinishedRun returns a run from history by id; ok is false when it is not
// there.
func (s *Store) FinishedRun(id string) (run statesrv.Run, ok bool, err error) {
	err = s.view(func(txn *badger.Txn) error {
		rk := runKey(id)
		v, found, err := value(txn, key("r/", rk))
		if err != nil || !found {
			return err
		}
		_, ns := runIndex(v)
		if ns == nil {
			return nil // open
		}
		run, err = finishedRun(txn, ns, rk)
		ok = err == nil
		return err
	})
	if err != nil {
		return run, false, fmt.Errorf("projections: run %s: %w", id, err)
	}
	return run, ok, nil
}

// finishedRun reads the history record of the run rk (runKey) finished
// at ns (nsKey).
func finishedRun(txn *badger.Txn, ns, rk []byte) (run statesrv.Run, err error) {
	item, err := txn.Get(key("h/", ns, rk))
	if err != nil {
		return run, err
	}
	err = item.Value(func(v []byte) error {
		run, _, err = decodeFinished(rk, int64(binary.BigEndian.Uint64(ns)), v)
		return err
	})
	return run, err
}

// Unprocessed returns up to limit unprocessed messages, oldest first, with
// seq greater than after.
func (s *Store) Unprocessed(after uint64, limit int) ([]statesrv.Unprocessed, error) {
	return s.unprocessed(key("u/", u64(after+1)), false, limit)
}

// UnprocessedBefore returns up to limit unprocessed messages, newest
// first, with seq less than before (0: from the newest).
func (s *Store) UnprocessedBefore(before uint64, limit int) ([]statesrv.Unprocessed, error) {
	seek := []byte("u/\xff")
	if before > 0 {
		seek = key("u/", u64(before-1))
	}
	return s.unprocessed(seek, true, limit)
}

// unprocessed reads up to limit messages of the unprocessed view from seek
// on, in seq order or (reverse) against it.
func (s *Store) unprocessed(seek []byte, reverse bool, limit int) ([]statesrv.Unprocessed, error) {
	if limit <= 0 {
		limit = 100
	}
	out := []statesrv.Unprocessed{}
	err := s.view(func(txn *badger.Txn) error {
		opts := iterOptions()
		opts.Prefix, opts.Reverse = []byte("u/"), reverse
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(seek); it.Valid() && len(out) < limit; it.Next() {
			var u statesrv.Unprocessed
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &u) }); err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: unprocessed: %w", err)
	}
	return out, nil
}

// UnprocessedMessage returns one unprocessed message by id.
func (s *Store) UnprocessedMessage(id string) (u statesrv.Unprocessed, ok bool, err error) {
	u, ok, err = follow[statesrv.Unprocessed](s, key("ui/", []byte(id)), func(seq []byte) []byte {
		return key("u/", seq)
	})
	if err != nil {
		return u, false, fmt.Errorf("projections: unprocessed %s: %w", id, err)
	}
	return u, ok, nil
}

// SeqRange is an inclusive range of seqs.
type SeqRange struct{ First, Last uint64 }

// ProcessEvents returns the seqs of events about process pid after seq
// after, oldest first, as ranges holding at most limit seqs in all.
func (s *Store) ProcessEvents(pid int64, after uint64, limit int) ([]SeqRange, error) {
	var out []SeqRange
	total := 0
	prefix := key("ep/", u64(uint64(pid)))
	add := func(k, v []byte) {
		first := binary.BigEndian.Uint64(k[len(prefix):])
		n, _ := binary.Uvarint(v)
		last := first + n - 1
		if last <= after || n == 0 || total >= limit {
			return
		}
		first = max(first, after+1)
		last = min(last, first+uint64(limit-total)-1)
		out = append(out, SeqRange{first, last})
		total += int(last - first + 1)
	}
	err := s.view(func(txn *badger.Txn) error {
		// The range that starts at or before after may reach past it.
		opts := iterOptions()
		opts.Prefix, opts.Reverse = prefix, true
		it := txn.NewIterator(opts)
		if it.Seek(key("ep/", u64(uint64(pid)), u64(after))); it.Valid() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				it.Close()
				return err
			}
			add(it.Item().KeyCopy(nil), v)
		}
		it.Close()
		opts.Reverse = false
		it = txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(key("ep/", u64(uint64(pid)), u64(after+1))); it.Valid() && total < limit; it.Next() {
			item := it.Item()
			if err := item.Value(func(v []byte) error { add(item.Key(), v); return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: process events: %w", err)
	}
	return out, nil
}

// Alerts returns up to limit alerts with their delivery status, newest
// first.
func (s *Store) Alerts(limit int) ([]statesrv.Alert, error) {
	return s.AlertsBefore(AlertQuery{Limit: limit})
}

// RunStartSeq returns the seq of the event that opened run id; ok is false
// when the views do not know it (the run is unknown, or the views were
// built before they recorded it: a rebuild fills it in).
func (s *Store) RunStartSeq(id string) (seq uint64, ok bool, err error) {
	err = s.view(func(txn *badger.Txn) error {
		v, _, err := value(txn, key("r/", runKey(id)))
		seq, _ = runIndex(v)
		ok = seq != 0
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("projections: start of run %s: %w", id, err)
	}
	return seq, ok, nil
}

// ProcessEventsBefore returns the seqs of events about process pid before
// seq before (0: the end of the log), newest first, as ranges holding at
// most limit seqs in all; each range still runs First ≤ Last.
func (s *Store) ProcessEventsBefore(pid int64, before uint64, limit int) ([]SeqRange, error) {
	var out []SeqRange
	if before == 0 {
		before = ^uint64(0)
	}
	if before <= 1 || limit <= 0 {
		return out, nil
	}
	total := 0
	prefix := key("ep/", u64(uint64(pid)))
	err := s.view(func(txn *badger.Txn) error {
		opts := iterOptions()
		opts.Prefix, opts.Reverse = prefix, true
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(key("ep/", u64(uint64(pid)), u64(before-1))); it.Valid() && total < limit; it.Next() {
			item := it.Item()
			first := binary.BigEndian.Uint64(item.Key()[len(prefix):])
			var n uint64
			if err := item.Value(func(v []byte) error { n, _ = binary.Uvarint(v); return nil }); err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			last := min(first+n-1, before-1)
			if left := uint64(limit - total); last-first+1 > left {
				first = last - left + 1
			}
			out = append(out, SeqRange{first, last})
			total += int(last - first + 1)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: process events before %d: %w", before, err)
	}
	return out, nil
}

// FinishedCounts returns how many runs finished with each outcome (OK,
// FAIL, TIMEOUT) in the hours from the hour of from to the hour of to, both
// included: the counts are kept per hour, so the span is widened to whole
// hours. It reads one entry per hour and outcome, however long the history.
func (s *Store) FinishedCounts(from, to time.Time) (map[string]uint64, error) {
	out := map[string]uint64{}
	last := uint64(to.Truncate(time.Hour).Unix())
	err := s.view(func(txn *badger.Txn) error {
		opts := iterOptions()
		opts.Prefix = []byte("hc/")
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(hourKey(from, "")); it.Valid(); it.Next() {
			k := it.Item().Key()
			if binary.BigEndian.Uint64(k[3:11]) > last {
				break
			}
			state := string(k[11:])
			if err := it.Item().Value(func(v []byte) error {
				out[state] += binary.BigEndian.Uint64(v)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: finished counts: %w", err)
	}
	return out, nil
}

// AlertQuery selects alerts, newest first: by the time they were
// requested, then by id.
type AlertQuery struct {
	ProcessID int64  // 0: every process
	Status    string // "": every status
	// Before continues a list after the alert with this id (the last one of
	// the previous page); "" starts from the newest.
	Before string
	Limit  int
}

// ErrNoSuchAlert is returned for a query that continues after an alert the
// views do not hold.
var ErrNoSuchAlert = errors.New("no such alert")

// AlertsBefore returns the alerts matching q, newest first. With a status
// or a process (or neither) it reads only the index entries it returns;
// with both, it reads the process's entries and skips those of other
// statuses, as History does for a process and an outcome.
func (s *Store) AlertsBefore(q AlertQuery) ([]statesrv.Alert, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var prefix []byte
	switch {
	case q.ProcessID != 0:
		prefix = key("ap/", u64(uint64(q.ProcessID)))
	case q.Status != "":
		prefix = alertStatusKey(q.Status, nil, nil)
	default:
		prefix = []byte("al/")
	}
	out := []statesrv.Alert{}
	err := s.view(func(txn *badger.Txn) error {
		seek := key(string(prefix), []byte{0xff})
		var cursor []byte
		if q.Before != "" {
			ns, found, err := value(txn, key("ai/", []byte(q.Before)))
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("%w: %q", ErrNoSuchAlert, q.Before)
			}
			cursor = key(string(prefix), ns, []byte(q.Before))
			seek = cursor
		}
		it := keysOnly(txn, prefix, true)
		defer it.Close()
		for it.Seek(seek); it.Valid() && len(out) < q.Limit; it.Next() {
			item := it.Item()
			if cursor != nil && bytes.Equal(item.Key(), cursor) {
				continue // the last alert of the previous page
			}
			if q.ProcessID != 0 && q.Status != "" {
				if match, err := valueIs(item, q.Status); err != nil || !match {
					if err != nil {
						return err
					}
					continue
				}
			}
			var a statesrv.Alert
			row := item
			if q.ProcessID != 0 || q.Status != "" {
				var err error
				if row, err = txn.Get(key("al/", item.Key()[len(prefix):])); err != nil {
					return err
				}
			}
			if err := row.Value(func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: alerts: %w", err)
	}
	return out, nil
}

// FailedAlerts returns up to limit alerts that could not be delivered,
// newest first, after the alert with id before ("": from the newest). It
// reads only the index of failed alerts, however many alerts there are.
func (s *Store) FailedAlerts(before string, limit int) ([]statesrv.Alert, error) {
	return s.AlertsBefore(AlertQuery{Status: statesrv.AlertFailed, Before: before, Limit: limit})
}

// historyOf answers History for q.Processes: it merges the processes'
// own indexes, newest first, so that it reads only the entries it returns
// (and those of other outcomes when q.State is given).
func (s *Store) historyOf(q HistoryQuery) ([]statesrv.Run, error) {
	out := []statesrv.Run{}
	err := s.view(func(txn *badger.Txn) error {
		type cursor struct {
			it     *badger.Iterator
			prefix int
		}
		var cs []cursor
		defer func() {
			for _, c := range cs {
				c.it.Close()
			}
		}()
		for _, pid := range q.Processes {
			prefix := key("hp/", u64(uint64(pid)))
			it := keysOnly(txn, prefix, true)
			seek := append([]byte(nil), prefix...)
			switch {
			case q.Before.IsZero():
				seek = append(seek, 0xff)
			case q.BeforeRun != "":
				seek = append(append(seek, nsKey(q.Before)...), runKey(q.BeforeRun)...)
			default:
				seek = append(seek, nsKey(q.Before)...)
			}
			it.Seek(seek)
			if it.Valid() && bytes.Equal(it.Item().Key(), seek) {
				it.Next() // the last run of the previous page
			}
			cs = append(cs, cursor{it, len(prefix)})
		}
		for len(out) < q.Limit {
			best := -1
			for i, c := range cs {
				if c.it.Valid() && (best < 0 ||
					bytes.Compare(c.it.Item().Key()[c.prefix:], cs[best].it.Item().Key()[cs[best].prefix:]) > 0) {
					best = i
				}
			}
			if best < 0 {
				return nil
			}
			c := cs[best]
			item := c.it.Item()
			rest := append([]byte(nil), item.Key()[c.prefix:]...) // finished ns + run id
			match := true
			if q.State != "" {
				var err error
				if match, err = valueIs(item, q.State); err != nil {
					return err
				}
			}
			c.it.Next()
			if !match {
				continue
			}
			run, err := finishedRun(txn, rest[:8], rest[8:])
			if err != nil {
				return err
			}
			out = append(out, run)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: history: %w", err)
	}
	return out, nil
}
