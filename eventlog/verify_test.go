package eventlog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func TestVerifyFindsTampering(t *testing.T) {
	for _, version := range []int{groupV1, groupV2} {
		for _, tc := range []struct {
			name, want string
			tamper     func(t *testing.T, txn *badger.Txn)
		}{
			{"ChangedDataBreaksChain", "hash does not match", func(t *testing.T, txn *badger.Txn) {
				rewriteGroup(t, txn, 5, func(e *Event) { e.Data = json.RawMessage(`{"i":999}`) })
			}},
			{"ChangedFirstMemberBreaksChain", "hash does not match", func(t *testing.T, txn *badger.Txn) {
				rewriteGroup(t, txn, 13, func(e *Event) { e.Actor = "someone else" })
			}},
			{"ChangedMiddleMemberBreaksChain", "hash does not match", func(t *testing.T, txn *badger.Txn) {
				rewriteGroup(t, txn, 14, func(e *Event) { e.Time = e.Time.Add(time.Nanosecond) })
			}},
			{"RemovedEventLeavesGap", "gap", func(t *testing.T, txn *badger.Txn) {
				if err := txn.Delete(eventKey(5)); err != nil {
					t.Fatal(err)
				}
			}},
			{"HeadAheadOfLastEvent", "head names seq", func(t *testing.T, txn *badger.Txn) {
				if err := txn.Delete(eventKey(15)); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(fmt.Sprintf("v%d/%s", version, tc.name), func(t *testing.T) {
				l, err := OpenBadger(Options{Dir: t.TempDir(), EnvelopeVersion: version, TypeCodes: map[string]uint64{"T": 1}})
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				// Ten groups of one event, then one of five (seqs 11..15).
				rec := func(i int) Record {
					return Record{Type: "T", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
				}
				for i := range 10 {
					if _, err := Append(context.Background(), l, rec(i)); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := Append(context.Background(), l, rec(10), rec(11), rec(12), rec(13), rec(14)); err != nil {
					t.Fatal(err)
				}
				if rep, err := l.Verify(context.Background()); err != nil || !rep.OK() {
					t.Fatalf("before tampering: %+v, %v", rep, err)
				}
				if err := l.db.Update(func(txn *badger.Txn) error { tc.tamper(t, txn); return nil }); err != nil {
					t.Fatal(err)
				}
				rep, err := l.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), tc.want) {
					t.Fatalf("problems = %q, want one containing %q", rep.Problems, tc.want)
				}
			})
		}
	}
}

// rewriteGroup decodes the group holding seq, changes that event and
// stores the group again, in its version, without fixing any hash.
func rewriteGroup(t *testing.T, txn *badger.Txn, seq uint64, change func(*Event)) {
	it := groupIterator(txn)
	defer it.Close()
	it.Seek(eventKey(seq))
	if !it.Valid() {
		t.Fatalf("no group holds seq %d", seq)
	}
	key := it.Item().KeyCopy(nil)
	v, _ := it.Item().ValueCopy(nil)
	w := groupWriter{version: groupV1, codes: map[string]uint64{"T": 1}}
	var evs []Event
	if isV2(v) {
		w.version = groupV2
		r, err := openGroup(v, map[uint64]string{1: "T"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for r.more() {
			var e Event
			if err := r.next(&e); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
		evs[len(evs)-1].Hash = r.hash
	} else {
		for raw, err := range members(v) {
			var e Event
			if err == nil {
				err = decode(raw, &e, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
	}
	for i := range evs {
		if evs[i].Seq == seq {
			change(&evs[i])
		}
		w.add(&evs[i])
	}
	if err := txn.Set(key, w.take()); err != nil {
		t.Fatal(err)
	}
}
