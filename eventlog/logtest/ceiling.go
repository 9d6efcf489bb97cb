package logtest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Ceiling is what BadgerCeiling measured.
type Ceiling struct {
	Entries   int
	Elapsed   time.Duration
	PerSecond float64 // entries synced per second
	Commits   int     // synced transactions
}

func (c Ceiling) String() string {
	return fmt.Sprintf("%.0f entries/s (%d entries in %v, %d synced commits, %.0f entries each)",
		c.PerSecond, c.Entries, c.Elapsed.Round(time.Millisecond), c.Commits,
		float64(c.Entries)/float64(max(c.Commits, 1)))
}

// BadgerCeiling measures the ceiling of synced group commits on the disk
// under dir with bare Badger (its default options, synced writes, no
// conflict detection) and nothing of ours: writers goroutines each put one
// entry of entryBytes at a time and wait until it is synced; one committer
// takes every entry queued while the previous commit synced and writes
// them in one synced transaction (capped at 4 MiB, a sixteenth of a
// memtable). It is the figure the server's durable ACKs/s is compared
// with, measured in the same run. It returns Badger's errors.
func BadgerCeiling(dir string, entries, writers, entryBytes int) (Ceiling, error) {
	db, err := badger.Open(badger.DefaultOptions(dir).
		WithSyncWrites(true).WithDetectConflicts(false).
		WithMetricsEnabled(false).WithLogger(nil))
	if err != nil {
		return Ceiling{}, fmt.Errorf("logtest: ceiling: %w", err)
	}
	defer db.Close()
	type put struct {
		key, val []byte
		done     chan error
	}
	queue := make(chan put, writers)
	commits := 0
	committed := make(chan error, 1)
	go func() {
		const maxBatch = 4 << 20
		var err error
		for p := range queue {
			batch := []put{p}
			size := len(p.key) + len(p.val)
		drain:
			for size < maxBatch {
				select {
				case p, ok := <-queue:
					if !ok {
						break drain
					}
					batch = append(batch, p)
					size += len(p.key) + len(p.val)
				default:
					break drain
				}
			}
			txn := db.NewTransaction(true)
			for _, p := range batch {
				if err == nil {
					err = txn.Set(p.key, p.val)
				}
			}
			if err == nil {
				err = txn.Commit()
			}
			txn.Discard()
			commits++
			for _, p := range batch {
				p.done <- err
			}
		}
		committed <- err
	}()
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	vals := make([][]byte, writers)
	for i := range vals {
		vals[i] = make([]byte, entryBytes)
		for j := range vals[i] {
			// Printable and about as compressible as a report's text.
			vals[i][j] = byte('a' + rng.IntN(26))
		}
	}
	start := time.Now()
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		werr    error
	)
	for w := range writers {
		wg.Go(func() {
			done := make(chan error, 1)
			for i := w; i < entries; i += writers {
				key := binary.BigEndian.AppendUint64([]byte{'e'}, uint64(i))
				queue <- put{key: key, val: vals[w], done: done}
				if err := <-done; err != nil {
					errOnce.Do(func() { werr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(queue)
	if err := <-committed; err != nil {
		return Ceiling{}, fmt.Errorf("logtest: ceiling: %w", err)
	}
	if werr != nil {
		return Ceiling{}, fmt.Errorf("logtest: ceiling: %w", werr)
	}
	return Ceiling{Entries: entries, Elapsed: elapsed, Commits: commits,
		PerSecond: float64(entries) / elapsed.Seconds()}, nil
}
