package eventlog_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/statesrv/statesrv/eventlog"
)

// reportRecords are the three events of one report on a push-only process,
// sized like the real ones.
func reportRecords(i int) []eventlog.Record {
	now := time.Now()
	msg := fmt.Sprintf(`{"message_id":"01a21540-7a0c-71ef-90fa-16989fc68deb","transport":"tcp","remote":"127.0.0.1:35404","line":"#id=26;state=OK;name=load;msg=load %d","state":"OK","name":"load","msg":"load %d"}`, i, i)
	start := `{"run_id":"01a21540-7a0c-727a-9315-25f47af3ba1e","source":"report","started_at":"2026-11-26T00:27:56.812125382Z","deadline":"2026-11-26T01:27:56.812125382Z","message_id":"01a21540-7a0c-71ef-90fa-16989fc68deb","name":"load"}`
	fin := `{"run_id":"01a21540-7a0c-727a-9315-25f47af3ba1e","state":"OK","message_id":"01a21540-7a0c-71ef-90fa-16989fc68deb","finished_at":"2026-11-26T00:27:56.812125382Z","message":"load","name":"load"}`
	return []eventlog.Record{
		{Type: "MessageReceived", Time: now, Actor: "tcp:127.0.0.1", ProcessID: 26, Data: []byte(msg)},
		{Type: "RunStarted", Time: now, Actor: "tcp:127.0.0.1", ProcessID: 26, Data: []byte(start)},
		{Type: "RunFinished", Time: now, Actor: "tcp:127.0.0.1", ProcessID: 26, Data: []byte(fin)},
	}
}

// compactReportRecords are the three events of one report as a server
// stores them now: type codes, and payloads of the sizes their compact
// form takes (61, 46 and 40 bytes: TestPayloadCompactForWriters), each
// beginning with the compact form's byte.
func compactReportRecords(i int) []eventlog.Record {
	recs := reportRecords(i)
	for j, n := range []int{61, 46, 40} {
		data := make([]byte, n)
		data[0] = 1
		for k := 1; k < n; k++ {
			data[k] = byte(i*31 + j*7 + k)
		}
		recs[j].Data = data
	}
	return recs
}

// benchCodes are the codes a server gives a report's types.
var benchCodes = map[string]uint64{"RunStarted": 3, "MessageReceived": 6, "RunFinished": 8}

// BenchmarkGroupCommit measures synced appends of report-sized submissions
// from many concurrent writers; reports/s is the figure to compare with the
// server's ingest.
func BenchmarkGroupCommit(b *testing.B) {
	for _, writers := range []int{64, 1024} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			l, err := eventlog.OpenBadger(eventlog.Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := b.N/writers + 1
			for w := range writers {
				wg.Go(func() {
					for i := range per {
						if _, err := l.Submit(reportRecords(w*per + i)).Wait(context.Background()); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			st := l.Stats()
			b.ReportMetric(float64(per*writers)/el.Seconds(), "reports/s")
			b.ReportMetric(float64(st.Events.Load())/float64(st.Batches.Load()), "events/batch")
		})
	}
}
