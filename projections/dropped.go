package projections

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv"
)

// Dropped is how many refused and unprocessed lines of one address were
// answered but not stored, because they came past the per-address rate
// (the sum of its MessagesDropped events).
type Dropped struct {
	Remote string    `json:"remote"`
	Count  int       `json:"count"`
	LastAt time.Time `json:"last_at"`
}

// dropped adds a MessagesDropped to its address's total (key "dr/<remote>").
func (b *batch) dropped(d *statesrv.MessagesDroppedData) error {
	k := key("dr/", []byte(d.Remote))
	total, err := getJSON[Dropped](b.txn, k)
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	total.Remote, total.Count = d.Remote, total.Count+d.Count
	if d.LastAt.After(total.LastAt) {
		total.LastAt = d.LastAt
	}
	return b.setJSON(k, total)
}

// Dropped returns the addresses whose lines were dropped, most recent
// first, with their totals.
func (s *Store) Dropped() ([]Dropped, error) {
	out := []Dropped{}
	err := s.view(func(txn *badger.Txn) error {
		opts := iterOptions()
		opts.Prefix = []byte("dr/")
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var d Dropped
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &d) }); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projections: dropped: %w", err)
	}
	slices.SortFunc(out, func(a, b Dropped) int { return b.LastAt.Compare(a.LastAt) })
	return out, nil
}
