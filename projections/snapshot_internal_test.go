package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// Snapshots share one definitions entry until a definition changes; a
// restart writes it again at the first snapshot.
func TestSnapshotDefinitionsShared(t *testing.T) {
	log, err := eventlog.OpenBadger(eventlog.Options{Dir: t.TempDir(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	dir := t.TempDir()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	appendEvent := func(typ string, pid int64, data any) {
		raw, _ := json.Marshal(data)
		if _, err := eventlog.Append(context.Background(), log, eventlog.Record{Type: typ, Time: at, Actor: "test", ProcessID: pid, Data: raw}); err != nil {
			t.Fatal(err)
		}
	}
	define := func(pid int64, name string) {
		appendEvent(statesrv.EventProcessDefined, pid, &statesrv.Process{ID: pid, Name: name, Timezone: "UTC", Enabled: true})
	}
	runs := func(n int) {
		for i := range n {
			id := string(rune('a'+i%26)) + at.Format("150405.000000000")
			at = at.Add(time.Millisecond)
			appendEvent(statesrv.EventRunStarted, 1, &statesrv.RunStartedData{RunID: id, Source: "manual", StartedAt: at, Deadline: at.Add(time.Hour)})
			appendEvent(statesrv.EventRunFinished, 1, &statesrv.RunFinishedData{RunID: id, State: "OK", FinishedAt: at})
		}
	}
	var s *Store
	var r *Runner
	open := func() {
		if s, err = OpenStore(dir, nil); err != nil {
			t.Fatal(err)
		}
		if r, err = NewRunner(log, s, nil, SnapshotEvery(2)); err != nil {
			t.Fatal(err)
		}
	}
	catchUp := func() {
		for log.LastSeq() > r.Seq() {
			f := newFeed(context.Background(), log, r.Seq()+1, 0)
			_, err := r.applyBatch(f, 2, 0)
			f.stop()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	defsEntries := func() (seqs []uint64) {
		err := s.db.View(func(txn *badger.Txn) error {
			return scan(txn, prefixDefs, func(k, _ []byte) error {
				seqs = append(seqs, u64Of(k[len(prefixDefs):]))
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return seqs
	}
	open()
	define(1, "one")
	define(2, "two")
	runs(5)
	catchUp()
	if got := defsEntries(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("definitions entries after 6 snapshots of unchanged definitions = %v, want one at seq 2", got)
	}
	define(2, "two, renamed")
	runs(2)
	catchUp()
	if got := defsEntries(); len(got) != 2 || got[1] != 14 {
		t.Fatalf("definitions entries after a change = %v, want a second one at seq 14", got)
	}
	s.Close()
	open()
	defer s.Close()
	runs(1)
	catchUp()
	if got := defsEntries(); len(got) != 3 || got[2] != 19 {
		t.Fatalf("definitions entries after a restart = %v, want a third one at seq 19", got)
	}
	st, err := s.StateAt(context.Background(), log, time.Time{}, 18)
	if err != nil || len(st.Processes) != 2 || st.Processes[1].Name != "two, renamed" {
		t.Fatalf("state at seq 18 = %+v, %v; want both processes, 2 renamed", st.Processes, err)
	}
}

func u64Of(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// A large snapshot (many open runs) is followed by the next only after
// enough events that snapshots cost about snapshotBytesPerEvent per event.
func TestLargeSnapshotWidensTheGap(t *testing.T) {
	log, err := eventlog.OpenBadger(eventlog.Options{Dir: t.TempDir(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var recs []eventlog.Record
	add := func(typ string, data any) {
		raw, _ := json.Marshal(data)
		recs = append(recs, eventlog.Record{Type: typ, Time: at, Actor: "test", ProcessID: 1, Data: raw})
	}
	add(statesrv.EventProcessDefined, &statesrv.Process{ID: 1, Name: "one", Timezone: "UTC", Enabled: true})
	long := string(make([]byte, 200))
	for i := range 1000 {
		add(statesrv.EventRunStarted, &statesrv.RunStartedData{RunID: fmt.Sprintf("run-%04d", i), Source: "manual",
			Name: long, StartedAt: at, Deadline: at.Add(time.Hour)})
	}
	if _, err := eventlog.Append(context.Background(), log, recs...); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := NewRunner(log, s, nil, SnapshotEvery(10))
	if err != nil {
		t.Fatal(err)
	}
	catchUp := func() []SnapshotInfo {
		if _, err := r.CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		list, err := s.Snapshots()
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	list := catchUp()
	if len(list) != 1 || list[0].Bytes < 200_000 {
		t.Fatalf("snapshots = %+v, want one of about 200 kB", list)
	}
	gap := snapshotGap(int(list[0].Bytes))
	users := func(n int) {
		recs = recs[:0]
		for i := range n {
			add(statesrv.EventUserPasswordSet, &statesrv.UserPasswordSetData{User: "u", Hash: fmt.Sprint(i)})
		}
		if _, err := eventlog.Append(context.Background(), log, recs...); err != nil {
			t.Fatal(err)
		}
	}
	users(int(gap) - 20)
	if list := catchUp(); len(list) != 1 {
		t.Fatalf("snapshots %d events after a large one = %+v, want none more before %d events", gap-20, list, gap)
	}
	users(40)
	if list := catchUp(); len(list) != 2 {
		t.Fatalf("snapshots %d events after a large one = %+v, want a second", gap+20, list)
	}
}
