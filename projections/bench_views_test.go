package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// pushLog imports, into a new log on disk, procs definitions and then
// reports push reports as the server records them (MessageReceived,
// RunStarted, RunFinished with the payloads the server writes), one in
// fifty a FAIL.
func pushLog(tb testing.TB, procs, reports int) *eventlog.Badger {
	tb.Helper()
	log, err := eventlog.OpenBadger(eventlog.Options{Dir: tb.TempDir(), MinFreeBytes: -1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { log.Close() })
	im, err := log.Import()
	if err != nil {
		tb.Fatal(err)
	}
	var (
		seq  uint64
		prev [32]byte
	)
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	add := func(typ string, pid int64, data any) {
		raw, err := json.Marshal(data)
		if err != nil {
			tb.Fatal(err)
		}
		seq++
		ev := eventlog.Event{Seq: seq, ID: uuid.Must(uuid.NewV7()), Type: typ, Time: at, Actor: "tcp:127.0.0.1",
			ProcessID: pid, Data: raw}
		ev.Hash = ev.ChainHash(prev)
		prev = ev.Hash
		if err := im.Add(&ev); err != nil {
			tb.Fatal(err)
		}
	}
	for pid := int64(1); pid <= int64(procs); pid++ {
		add(statesrv.EventProcessDefined, pid, &statesrv.Process{ID: pid, Name: fmt.Sprintf("job-%05d", pid),
			Timezone: "UTC", MaxRuntime: statesrv.Duration(time.Hour), Enabled: true})
	}
	for i := range reports {
		at = at.Add(3 * time.Millisecond)
		pid := int64(i%procs) + 1
		name := fmt.Sprintf("job-%05d", pid)
		state := statesrv.StateOK
		if i%50 == 49 {
			state = statesrv.StateFail
		}
		msg, run := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
		line := fmt.Sprintf("#id=%d;state=%s;name=%s;msg=load %d", pid, state, name, i)
		add(statesrv.EventMessageReceived, pid, &statesrv.MessageReceivedData{MessageID: msg, Transport: "tcp",
			Remote: "127.0.0.1:60960", Line: line, State: state, Name: name, Msg: fmt.Sprintf("load %d", i)})
		add(statesrv.EventRunStarted, pid, &statesrv.RunStartedData{RunID: run, Source: statesrv.SourceReport,
			StartedAt: at, Deadline: at.Add(time.Hour), MessageID: msg, Name: name})
		add(statesrv.EventRunFinished, pid, &statesrv.RunFinishedData{RunID: run, State: state, MessageID: msg,
			FinishedAt: at, Message: fmt.Sprintf("load %d", i), Name: name})
	}
	if _, err := im.Finish(); err != nil {
		tb.Fatal(err)
	}
	return log
}

// viewsUsage counts the live entries of the views and their bytes (key
// and value) by key prefix (what precedes the first '/', or the whole
// key when it has none).
func viewsUsage(tb testing.TB, s *Store) (entries, bytes map[string]int64) {
	tb.Helper()
	entries, bytes = map[string]int64{}, map[string]int64{}
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key())
			p := k
			if i := strings.IndexByte(k, '/'); i >= 0 {
				p = k[:i+1]
				if p == "c/" && len(k) > 3 {
					p = k[:4]
				}
			}
			entries[p]++
			bytes[p] += int64(len(k)) + it.Item().ValueSize()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return entries, bytes
}

// BenchmarkViewsPerReport measures what a push report costs in the views:
// live entries and their bytes (keys and values) per report once the
// views caught up with 100 processes' 30,000 reports, and the bytes the
// batches wrote per report (overwritten and deleted entries included).
//
//	go test -run '^$' -bench ViewsPerReport -benchtime 1x ./projections/
func BenchmarkViewsPerReport(b *testing.B) {
	const procs, reports = 100, 30_000
	log := pushLog(b, procs, reports)
	for b.Loop() {
		store, err := OpenStore(b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		runner, err := NewRunner(log, store, nil, SnapshotEvery(0))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := runner.CatchUp(context.Background()); err != nil {
			b.Fatal(err)
		}
		entries, bytes := viewsUsage(b, store)
		var n, size int64
		var rows []string
		for p := range entries {
			n += entries[p]
			size += bytes[p]
			rows = append(rows, fmt.Sprintf("%s %d entries %d bytes", p, entries[p], bytes[p]))
		}
		sort.Strings(rows)
		b.Logf("views by prefix:\n%s", strings.Join(rows, "\n"))
		b.ReportMetric(float64(n)/reports, "entries/report")
		b.ReportMetric(float64(size)/reports, "bytes/report")
		b.ReportMetric(float64(store.written.Load())/reports, "written-bytes/report")
		store.Close()
	}
}
