package eventlog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestVerifyFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		tamper     func(t *testing.T, txn *badger.Txn)
	}{
		{"ChangedDataBreaksChain", "hash does not match", func(t *testing.T, txn *badger.Txn) {
			rewriteGroup(t, txn, 5, func(e *Event) { e.Data = json.RawMessage(`{"i":999}`) })
		}},
		{"RemovedEventLeavesGap", "gap", func(t *testing.T, txn *badger.Txn) {
			if err := txn.Delete(eventKey(5)); err != nil {
				t.Fatal(err)
			}
		}},
		{"HeadAheadOfLastEvent", "head names seq", func(t *testing.T, txn *badger.Txn) {
			if err := txn.Delete(eventKey(10)); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := OpenBadger(Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			for i := range 10 {
				rec := Record{Type: "T", Data: json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`)}
				if _, err := Append(context.Background(), l, rec); err != nil {
					t.Fatal(err)
				}
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

// rewriteGroup decodes the one-event group of seq, changes it and stores
// it again without fixing the hash.
func rewriteGroup(t *testing.T, txn *badger.Txn, seq uint64, change func(*Event)) {
	item, err := txn.Get(eventKey(seq))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := item.ValueCopy(nil)
	var e Event
	for raw, err := range members(v) {
		if err == nil {
			err = decode(raw, &e, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	change(&e)
	if err := txn.Set(eventKey(seq), appendGroupMember(nil, encode(nil, &e))); err != nil {
		t.Fatal(err)
	}
}
