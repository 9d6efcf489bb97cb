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
// that every event's hash is the hash of the previous one and its envelope,
// and that the head record names the last event. It returns an error only
// when the log cannot be read; damage is listed in the report.
func (l *Badger) Verify(ctx context.Context) (Report, error) {
	var rep Report
	problem := func(f string, a ...any) {
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(f, a...))
		}
	}
	var prev [32]byte
	var buf []byte
	expect := uint64(1)
	err := l.view(func(txn *badger.Txn) error {
		it := groupIterator(txn)
		defer it.Close()
		var ev Event
		for it.Rewind(); it.Valid(); it.Next() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			keySeq := binary.BigEndian.Uint64(it.Item().Key()[1:])
			err := it.Item().Value(func(v []byte) error {
				for raw, err := range members(v) {
					if err != nil {
						return err
					}
					rep.Events++
					if err := decode(raw, &ev, &l.types); err != nil {
						problem("group %d: %v", keySeq, err)
						continue
					}
					if ev.Seq != expect {
						problem("gap: expected seq %d, found %d", expect, ev.Seq)
					}
					buf = appendEnvelope(buf[:0], &ev)
					if want := chainHash(prev, buf); want != ev.Hash {
						problem("event %d: hash does not match the chain", ev.Seq)
					}
					prev = ev.Hash
					rep.LastSeq = ev.Seq
					expect = ev.Seq + 1
				}
				return nil
			})
			if err != nil {
				problem("group %d: %v", keySeq, err)
				continue
			}
			if rep.LastSeq != keySeq {
				problem("group under key %d ends with seq %d", keySeq, rep.LastSeq)
			}
		}
		item, err := txn.Get(headKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			if rep.Events > 0 {
				problem("head record missing")
			}
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 40 {
				problem("head record of %d bytes", len(v))
				return nil
			}
			if s := binary.BigEndian.Uint64(v); s != rep.LastSeq {
				problem("head names seq %d, last event is %d", s, rep.LastSeq)
			}
			if [32]byte(v[8:]) != prev {
				problem("head hash differs from the last event's")
			}
			return nil
		})
	})
	if err != nil {
		return rep, fmt.Errorf("eventlog: verify: %w", err)
	}
	return rep, nil
}
