package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

const (
	benchEvents    = 1_000_000
	benchProcesses = 10_000
)

// newStateLog imports a log of about events events straight into a new log
// on disk: benchProcesses definitions, then reports that each finish a
// process's open run and start its next one (so every process has one run
// open), one in fifty a report with no run, dismissed some time later.
func newStateLog(b *testing.B, events int) *eventlog.Badger {
	b.Helper()
	log, err := eventlog.OpenBadger(eventlog.Options{Dir: b.TempDir(), MinFreeBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { log.Close() })
	im, err := log.Import()
	if err != nil {
		b.Fatal(err)
	}
	var (
		seq  uint64
		prev [32]byte
	)
	add := func(typ string, pid int64, at time.Time, data any) {
		raw, err := json.Marshal(data)
		if err != nil {
			b.Fatal(err)
		}
		seq++
		ev := eventlog.Event{Seq: seq, ID: uuid.New(), Type: typ, Time: at, Actor: "tcp:10.0.0.5", ProcessID: pid, Data: raw}
		ev.Hash = ev.ChainHash(prev)
		prev = ev.Hash
		if err := im.Add(&ev); err != nil {
			b.Fatal(err)
		}
	}
	for pid := int64(1); pid <= benchProcesses; pid++ {
		add(statesrv.EventProcessDefined, pid, t0, &statesrv.Process{ID: pid, Name: fmt.Sprintf("job-%05d", pid),
			Schedule: "*/5 * * * *", Timezone: "Europe/Zurich", MaxRuntime: statesrv.Duration(time.Hour), Enabled: true,
			Alerts: statesrv.Alerts{Fail: []string{"ops@example.com"}}})
	}
	open := map[int64]string{}
	at := t0
	var msgs []string
	for i := 0; int(seq) < events; i++ {
		if i%10 == 0 {
			at = at.Add(time.Second)
		}
		pid := int64(i%benchProcesses) + 1
		switch {
		case i%50 == 49:
			id := uuid.NewString()
			msgs = append(msgs, id)
			add(statesrv.EventMessageReceived, pid, at, &statesrv.MessageReceivedData{MessageID: id, Transport: "tcp",
				Remote: "10.0.0.5:4000", Line: fmt.Sprintf("#id=%d;state=OK", pid+benchProcesses), State: "OK"})
			add(statesrv.EventMessageUnprocessed, pid, at, &statesrv.MessageUnprocessedData{MessageID: id, Reason: statesrv.ReasonUnknownProcess})
			if len(msgs) > 100 {
				add(statesrv.EventMessageDismissed, 0, at, &statesrv.MessageDismissedData{MessageID: msgs[0]})
				msgs = msgs[1:]
			}
			continue
		}
		if run := open[pid]; run != "" {
			code := 0
			add(statesrv.EventRunFinished, pid, at, &statesrv.RunFinishedData{RunID: run, State: statesrv.StateOK,
				MessageID: uuid.NewString(), FinishedAt: at, Message: "copied 120 files", Code: &code})
		}
		run := uuid.Must(uuid.NewV7()).String()
		open[pid] = run
		add(statesrv.EventRunStarted, pid, at, &statesrv.RunStartedData{RunID: run, Source: statesrv.SourceReport,
			StartedAt: at, Deadline: at.Add(time.Hour), Name: fmt.Sprintf("job-%05d", pid)})
	}
	if _, err := im.Finish(); err != nil {
		b.Fatal(err)
	}
	return log
}

// BenchmarkStateAt compares the replay from seq 1 with the replay from a
// snapshot, on a log of a million events about ten thousand processes,
// each with a run open: at the worst seq for the snapshots (just before
// one), at a moment just as far from the snapshot before it, and at a
// snapshot (its load alone).
func BenchmarkStateAt(b *testing.B) {
	start := time.Now()
	log := newStateLog(b, benchEvents)
	imported := time.Since(start)
	store, err := projections.OpenStore(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	runner, err := projections.NewRunner(log, store, nil)
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if _, err := runner.CatchUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	caughtUp := time.Since(start)
	list, err := store.Snapshots()
	if err != nil || len(list) == 0 {
		b.Fatalf("snapshots: %v, %v", list, err)
	}
	var bytes int64
	for _, s := range list {
		bytes += s.Bytes
	}
	b.Logf("%d events imported in %s, views caught up in %s; %d snapshots, %.1f MB each on average",
		log.LastSeq(), imported.Round(time.Millisecond), caughtUp.Round(time.Millisecond), len(list), float64(bytes)/float64(len(list))/1e6)
	// The worst seq: the last before a snapshot, replayed from the one
	// before it.
	worst := list[len(list)-1].Seq - 1
	var at time.Time
	for e := range log.Range(context.Background(), worst, worst) {
		at = e.Time
	}
	cases := []struct {
		name string
		at   time.Time
		seq  uint64
	}{{"seq", time.Time{}, worst}, {"time", at.Add(-time.Second), 0}, {"at-snapshot", time.Time{}, worst + 1}}
	var end time.Time
	for e := range log.Range(context.Background(), log.LastSeq(), 0) {
		end = e.Time
	}
	b.Run("snapshot/random", func(b *testing.B) { benchStateAtRandom(b, log, store, t0, end) })
	for _, c := range cases {
		b.Run("pure/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := projections.StateAt(context.Background(), log, c.at, c.seq); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("snapshot/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := store.StateAt(context.Background(), log, c.at, c.seq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchStateAtRandom asks the store for the state at STATESRV_STATE_SAMPLES
// (default 50) random instants between from and to, as /state does, each
// iteration, and reports the percentiles of the time one answer took.
func benchStateAtRandom(b *testing.B, log eventlog.Log, store *projections.Store, from, to time.Time) {
	samples := 50
	if n, err := strconv.Atoi(os.Getenv("STATESRV_STATE_SAMPLES")); err == nil && n > 0 {
		samples = n
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var took []time.Duration
	for b.Loop() {
		for range samples {
			at := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)))))
			start := time.Now()
			if _, err := store.StateAt(context.Background(), log, at, 0); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
	}
	slices.Sort(took)
	pct := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(len(took)), "instants")
}
