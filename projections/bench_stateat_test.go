package projections_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/statesrv/statesrv/projections"
)

// BenchmarkStateAtRandom asks Store.StateAt for the views at random seqs
// of a log of a million events about ten thousand processes, each with a
// run open (newStateLog), and reports the 50th and 99th percentile and the
// longest of the answers' times, with what the snapshots cost on disk.
//
//	go test -run '^$' -bench StateAtRandom -benchtime 1x ./projections/
func BenchmarkStateAtRandom(b *testing.B) {
	log := newStateLog(b, benchEvents)
	store, err := projections.OpenStore(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	runner, err := projections.NewRunner(log, store, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := runner.CatchUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	list, err := store.Snapshots()
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, s := range list {
		bytes += s.Bytes
	}
	const asks = 200
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		type ask struct {
			seq  uint64
			took time.Duration
		}
		all := make([]ask, 0, asks)
		for range asks {
			seq := 1 + rng.Uint64N(log.LastSeq())
			start := time.Now()
			if _, err := store.StateAt(context.Background(), log, time.Time{}, seq); err != nil {
				b.Fatal(err)
			}
			all = append(all, ask{seq, time.Since(start)})
		}
		slices.SortFunc(all, func(a, b ask) int { return int(a.took - b.took) })
		b.Logf("slowest: %+v", all[asks-3:])
		took := make([]time.Duration, asks)
		for i, a := range all {
			took[i] = a.took
		}
		ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
		b.ReportMetric(ms(took[asks/2]), "p50-ms")
		b.ReportMetric(ms(took[asks*99/100]), "p99-ms")
		b.ReportMetric(ms(took[asks-1]), "max-ms")
	}
	b.ReportMetric(float64(len(list)), "snapshots")
	b.ReportMetric(float64(bytes)/float64(log.LastSeq()), "snapshot-bytes/event")
}
