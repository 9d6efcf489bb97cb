package eventlog

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Footprint is what the events of a log take in Badger, before Badger's own
// per-entry overhead and before compression.
type Footprint struct {
	Groups     uint64 // group entries
	KeyBytes   uint64 // bytes of their keys
	ValueBytes uint64 // bytes of their values (the stored events)
}

// Footprint reads every group entry of the log and sums its sizes. It
// returns an error only when the log cannot be read.
func (l *Badger) Footprint(ctx context.Context) (Footprint, error) {
	var f Footprint
	err := l.db.View(func(txn *badger.Txn) error {
		it := groupIterator(txn)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if f.Groups%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			f.Groups++
			f.KeyBytes += uint64(len(it.Item().Key()))
			f.ValueBytes += uint64(it.Item().ValueSize())
		}
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("eventlog: footprint: %w", err)
	}
	return f, nil
}
