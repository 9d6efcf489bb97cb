package eventlog_test

import (
	"context"
	"testing"

	"github.com/statesrv/statesrv/eventlog"
)

// BenchmarkRange measures a replay: every event of a log of 100,000
// reports (300,000 events, three a group), read and decoded in order,
// with JSON payloads and with payloads of the sizes a server stores now.
func BenchmarkRange(b *testing.B) {
	for _, tc := range []struct {
		name string
		recs func(int) []eventlog.Record
	}{
		{"json", reportRecords},
		{"compact", compactReportRecords},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := benchLog(b, 100_000, tc.recs)
			b.ResetTimer()
			var n int
			for b.Loop() {
				n = 0
				for _, err := range l.Range(context.Background(), 1, 0) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// benchLog returns a log of reports appended in submissions of 256, as the
// group commit batches them under load.
func benchLog(b *testing.B, reports int, recs func(int) []eventlog.Record) *eventlog.Badger {
	b.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: b.TempDir(), TypeCodes: benchCodes})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	var ps []*eventlog.Pending
	for i := range reports {
		ps = append(ps, l.Submit(recs(i)))
		if len(ps) == 256 || i == reports-1 {
			for _, p := range ps {
				if _, err := p.Wait(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			ps = ps[:0]
		}
	}
	return l
}
