package eventlog_test

import (
	"testing"

	"github.com/statesrv/statesrv/eventlog/logtest"
)

// BenchmarkBadgerCeiling measures bare Badger's synced group commits: 1,024
// writers, one 200-byte entry per report, batched by the application into
// one synced transaction per commit. Each iteration writes 1,000,000
// entries to a fresh database; entries/s is the ceiling that the server's
// durable ACKs/s is a share of (cmd/statesrv's BenchmarkLean measures both
// in one run).
//
//	go test -run '^$' -bench BadgerCeiling -benchtime 3x ./eventlog/
func BenchmarkBadgerCeiling(b *testing.B) {
	for b.Loop() {
		c, err := logtest.BadgerCeiling(b.TempDir(), 1_000_000, 1024, 200)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(c.PerSecond, "entries/s")
		b.ReportMetric(float64(c.Entries)/float64(c.Commits), "entries/commit")
	}
}
