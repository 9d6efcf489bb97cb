package eventlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Report is the outcome of Verify.
type Report struct {
	Events   uint64
	LastSeq  uint64
	Problems []string
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds the problems a report lists.
const maxProblems = 100

// Verify reads the whole log and checks that seqs start at 1 without gaps,
// that every event's hash is the hash of the previous one and its envelope
// (for a version 2 group, whose members' hashes are not stored, that the
// chain through its members ends at the hash it stores), and that the head
// record names the last event. It returns an error only when the log
// cannot be read; damage is listed in the report.
func (l *Badger) Verify(ctx context.Context) (Report, error) {
	v := verifier{l: l, expect: 1}
	err := l.view(func(txn *badger.Txn) error {
		it := groupIterator(txn)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			keySeq := binary.BigEndian.Uint64(it.Item().Key()[1:])
			err := it.Item().Value(func(g []byte) error {
				err := v.group(g)
				if err != nil {
					// The next group chains from the hash this one stores.
					if h, herr := groupHash(g); herr == nil {
						v.prev = h
					}
					v.rep.LastSeq, v.expect = keySeq, keySeq+1
				}
				return err
			})
			if err != nil {
				v.problem("group %d: %v", keySeq, err)
				continue
			}
			if v.rep.LastSeq != keySeq {
				v.problem("group under key %d ends with seq %d", keySeq, v.rep.LastSeq)
			}
		}
		item, err := txn.Get(headKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			if v.rep.Events > 0 {
				v.problem("head record missing")
			}
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(h []byte) error {
			if len(h) != 40 {
				v.problem("head record of %d bytes", len(h))
				return nil
			}
			if s := binary.BigEndian.Uint64(h); s != v.rep.LastSeq {
				v.problem("head names seq %d, last event is %d", s, v.rep.LastSeq)
			}
			if [32]byte(h[8:]) != v.prev {
				v.problem("head hash differs from the last event's")
			}
			return nil
		})
	})
	if err != nil {
		return v.rep, fmt.Errorf("eventlog: verify: %w", err)
	}
	return v.rep, nil
}

// verifier is the state of one Verify: the chain so far and the report.
type verifier struct {
	l      *Badger
	rep    Report
	prev   [32]byte
	expect uint64
	ev     Event
	buf    []byte
}

func (v *verifier) problem(f string, a ...any) {
	if len(v.rep.Problems) < maxProblems {
		v.rep.Problems = append(v.rep.Problems, fmt.Sprintf(f, a...))
	}
}

// next checks the seq of the decoded event v.ev and returns the hash the
// chain gives it.
func (v *verifier) next() [32]byte {
	v.rep.Events++
	if v.ev.Seq != v.expect {
		v.problem("gap: expected seq %d, found %d", v.expect, v.ev.Seq)
	}
	v.rep.LastSeq, v.expect = v.ev.Seq, v.ev.Seq+1
	var h [32]byte
	h, v.buf = hashEvent(v.buf, v.prev, &v.ev)
	return h
}

// group checks one group entry. It returns an error for a group that
// cannot be decoded.
func (v *verifier) group(g []byte) error {
	if isV2(g) {
		r, err := openGroup(g, v.l.codes.names(), &v.l.types)
		if err != nil {
			return err
		}
		first := r.seq
		for r.more() {
			if err := r.next(&v.ev); err != nil {
				return err
			}
			v.prev = v.next()
		}
		if v.prev != r.hash {
			v.problem("events %d..%d: hash does not match the chain", first, v.ev.Seq)
			v.prev = r.hash
		}
		return nil
	}
	for raw, err := range members(g) {
		if err != nil {
			return err
		}
		if err := decode(raw, &v.ev, &v.l.types); err != nil {
			return err
		}
		if v.next() != v.ev.Hash {
			v.problem("event %d: hash does not match the chain", v.ev.Seq)
		}
		v.prev = v.ev.Hash
	}
	return nil
}
