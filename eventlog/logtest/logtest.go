// Package logtest is the conformance suite of eventlog.Log: every storage
// backend runs it from its own tests.
package logtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/statesrv/statesrv/eventlog"
)

// Opener opens the log kept in dir; the suite calls it again on the same dir
// to test reopening.
type Opener func(t *testing.T, dir string) eventlog.Log

// Run runs every conformance test against logs opened by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"AppendAssignsGapFreeSeqs", testAppendSeqs},
		{"SubmissionIsAtomicAndContiguous", testAtomic},
		{"ConcurrentSubmitsKeepOrder", testConcurrent},
		{"HashChainHolds", testHashChain},
		{"IdempotencyKeyStoresOnce", testIdempotent},
		{"RangeFromMiddle", testRangeFrom},
		{"RangeFromEverySeqGivesTheSameEvents", testRangeEverySeq},
		{"RangeBounded", testRangeBounded},
		{"RangeStopsWhenConsumerBreaks", testRangeBreak},
		{"RangeFromPastTheEnd", testRangePastTheEnd},
		{"RangeContextCancelled", testRangeCancelled},
		{"FollowCatchesUpThenFollows", testFollow},
		{"ReopenContinues", testReopen},
		{"SubmitAfterCloseFails", testClosed},
		{"EmptySubmitResolves", testEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

var t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

// rec is the i-th test record; its type alternates between two names, so
// that a log given a code for one of them stores both a code and a name.
func rec(i int) eventlog.Record {
	typ := "Test"
	if i%3 == 2 {
		typ = "Other"
	}
	return eventlog.Record{
		Type: typ, Time: t0.Add(time.Duration(i) * time.Millisecond), Actor: "test",
		ProcessID: int64(i % 7), Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
	}
}

func mustAppend(t *testing.T, l eventlog.Log, recs ...eventlog.Record) []eventlog.Event {
	t.Helper()
	evs, err := eventlog.Append(context.Background(), l, recs...)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return evs
}

func readAll(t *testing.T, l eventlog.Log, from uint64) []eventlog.Event {
	t.Helper()
	return readRange(t, l, from, 0)
}

func readRange(t *testing.T, l eventlog.Log, from, to uint64) []eventlog.Event {
	t.Helper()
	var out []eventlog.Event
	for e, err := range l.Range(context.Background(), from, to) {
		if err != nil {
			t.Fatalf("range %d..%d: %v", from, to, err)
		}
		c := *e
		c.Data = append(json.RawMessage(nil), e.Data...)
		out = append(out, c)
	}
	return out
}

// seqs returns the seqs of evs.
func seqs(evs []eventlog.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func openTemp(t *testing.T, open Opener) eventlog.Log {
	l := open(t, t.TempDir())
	t.Cleanup(func() { l.Close() })
	return l
}

func testAppendSeqs(t *testing.T, open Opener) {
	l := openTemp(t, open)
	for i := 1; i <= 5; i++ {
		evs := mustAppend(t, l, rec(i))
		if evs[0].Seq != uint64(i) {
			t.Fatalf("append %d got seq %d", i, evs[0].Seq)
		}
	}
	if l.LastSeq() != 5 {
		t.Fatalf("LastSeq = %d, want 5", l.LastSeq())
	}
	got := readAll(t, l, 1)
	if len(got) != 5 {
		t.Fatalf("read %d events, want 5", len(got))
	}
	for i, e := range got {
		want := rec(i + 1)
		if e.Seq != uint64(i+1) || e.Type != want.Type || e.Actor != want.Actor ||
			e.ProcessID != want.ProcessID || string(e.Data) != string(want.Data) ||
			!e.Time.Equal(want.Time) {
			t.Fatalf("event %d = %+v, want fields of %+v", i+1, e, want)
		}
		if e.ID.Version() != 7 {
			t.Fatalf("event %d id %s is not a UUID v7", i+1, e.ID)
		}
	}
}

func testAtomic(t *testing.T, open Opener) {
	l := openTemp(t, open)
	mustAppend(t, l, rec(1))
	evs := mustAppend(t, l, rec(2), rec(3), rec(4))
	for i, e := range evs {
		if e.Seq != uint64(2+i) {
			t.Fatalf("record %d of a submission got seq %d", i, e.Seq)
		}
	}
}

func testConcurrent(t *testing.T, open Opener) {
	l := openTemp(t, open)
	const writers, each = 32, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				evs, err := eventlog.Append(context.Background(), l, rec(w*1000+i), rec(w*1000+i))
				if err != nil {
					errs <- err
					return
				}
				if evs[1].Seq != evs[0].Seq+1 {
					errs <- fmt.Errorf("submission split: %d then %d", evs[0].Seq, evs[1].Seq)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := readAll(t, l, 1)
	if len(got) != writers*each*2 {
		t.Fatalf("read %d events, want %d", len(got), writers*each*2)
	}
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("position %d holds seq %d", i, e.Seq)
		}
	}
}

func testHashChain(t *testing.T, open Opener) {
	l := openTemp(t, open)
	for i := range 10 {
		mustAppend(t, l, rec(i), rec(i+100))
	}
	var prev [32]byte
	for _, e := range readAll(t, l, 1) {
		if e.ChainHash(prev) != e.Hash {
			t.Fatalf("event %d: hash does not chain", e.Seq)
		}
		prev = e.Hash
	}
	// A changed field must change the hash.
	e := readAll(t, l, 3)[0]
	before := readAll(t, l, 2)[0].Hash
	e.Actor = "someone else"
	if e.ChainHash(before) == e.Hash {
		t.Fatal("hash does not cover the actor")
	}
}

func testIdempotent(t *testing.T, open Opener) {
	l := openTemp(t, open)
	if p, err := l.Existing("mid/1/a"); err != nil || p != nil {
		t.Fatalf("Existing before append = %v, %v", p, err)
	}
	r := rec(1)
	r.Key = "mid/1/a"
	first := mustAppend(t, l, r, rec(2))
	p, err := l.Existing("mid/1/a")
	if err != nil || p == nil {
		t.Fatalf("Existing after append = %v, %v", p, err)
	}
	evs, err := p.Wait(context.Background())
	if err != nil || len(evs) != 1 || evs[0].Seq != first[0].Seq || !p.Duplicate() {
		t.Fatalf("Existing resolved to %v, %v (dup %v); want seq %d", evs, err, p.Duplicate(), first[0].Seq)
	}
	// In flight: a key submitted but perhaps not committed is found too.
	r2 := rec(3)
	r2.Key = "mid/1/b"
	sub := l.Submit([]eventlog.Record{r2})
	p2, err := l.Existing("mid/1/b")
	if err != nil || p2 == nil {
		t.Fatalf("Existing while in flight = %v, %v", p2, err)
	}
	want, err := sub.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := p2.Wait(context.Background())
	if err != nil || got[0].Seq != want[0].Seq {
		t.Fatalf("in-flight Existing = %v, %v; want seq %d", got, err, want[0].Seq)
	}
}

func testRangeFrom(t *testing.T, open Opener) {
	l := openTemp(t, open)
	for i := range 20 {
		mustAppend(t, l, rec(i))
	}
	got := readAll(t, l, 15)
	if len(got) != 6 || got[0].Seq != 15 || got[5].Seq != 20 {
		t.Fatalf("range from 15: seqs %v, want 15..20", seqs(got))
	}
	if got := readAll(t, l, 0); len(got) != 20 || got[0].Seq != 1 {
		t.Fatalf("range from 0: seqs %v, want 1..20", seqs(got))
	}
}

// testRangeBounded reads ranges that start and end inside one append of
// many events as well as across appends.
func testRangeBounded(t *testing.T, open Opener) {
	l := openTemp(t, open)
	mustAppend(t, l, rec(1), rec(2), rec(3))
	var many []eventlog.Record
	for i := range 100 {
		many = append(many, rec(10+i))
	}
	mustAppend(t, l, many...) // seqs 4..103
	mustAppend(t, l, rec(200), rec(201))
	tests := []struct {
		name              string
		from, to          uint64
		first, last, size uint64
	}{
		{"OneEvent", 5, 5, 5, 5, 1},
		{"InsideOneAppend", 10, 80, 10, 80, 71},
		{"AcrossAppends", 2, 104, 2, 104, 103},
		{"ToPastTheEnd", 100, 1000, 100, 105, 6},
		{"ToZeroIsTheEnd", 103, 0, 103, 105, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readRange(t, l, tt.from, tt.to)
			if uint64(len(got)) != tt.size || got[0].Seq != tt.first || got[len(got)-1].Seq != tt.last {
				t.Fatalf("range %d..%d: seqs %v, want %d..%d", tt.from, tt.to, seqs(got), tt.first, tt.last)
			}
		})
	}
	t.Run("ToBeforeFromIsEmpty", func(t *testing.T) {
		if got := readRange(t, l, 50, 49); len(got) != 0 {
			t.Fatalf("range 50..49: seqs %v, want none", seqs(got))
		}
	})
}

func testRangeBreak(t *testing.T, open Opener) {
	l := openTemp(t, open)
	for i := range 5 {
		mustAppend(t, l, rec(i), rec(100+i))
	}
	n := 0
	for e, err := range l.Range(context.Background(), 2, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			if e.Seq != 4 {
				t.Fatalf("third event has seq %d, want 4", e.Seq)
			}
			break
		}
	}
	if n != 3 {
		t.Fatalf("range yielded %d events before the break, want 3", n)
	}
	// The log still reads after a consumer broke off.
	if got := readAll(t, l, 1); len(got) != 10 {
		t.Fatalf("after a break: %d events, want 10", len(got))
	}
}

func testRangePastTheEnd(t *testing.T, open Opener) {
	l := openTemp(t, open)
	if got := readAll(t, l, 1); len(got) != 0 {
		t.Fatalf("empty log gave seqs %v", seqs(got))
	}
	for i := range 3 {
		mustAppend(t, l, rec(i))
	}
	if got := readAll(t, l, 4); len(got) != 0 {
		t.Fatalf("range past the end gave seqs %v", seqs(got))
	}
	if got := readRange(t, l, 10, 20); len(got) != 0 {
		t.Fatalf("range 10..20 of 3 events gave seqs %v", seqs(got))
	}
}

func testRangeCancelled(t *testing.T, open Opener) {
	l := openTemp(t, open)
	for i := range 3 {
		mustAppend(t, l, rec(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	var got error
	for e, err := range l.Range(ctx, 1, 0) {
		if n++; err == nil {
			t.Fatalf("a cancelled range yielded seq %d", e.Seq)
		}
		got = err
	}
	if n != 1 || !errors.Is(got, context.Canceled) {
		t.Fatalf("cancelled range yielded %d times, last error %v; want context.Canceled once", n, got)
	}
}

func testFollow(t *testing.T, open Opener) {
	l := openTemp(t, open)
	for i := range 3 {
		mustAppend(t, l, rec(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := make(chan uint64, 100)
	done := make(chan error, 1)
	go func() {
		done <- eventlog.Follow(ctx, l, 2, func(e *eventlog.Event) error {
			seen <- e.Seq
			return nil
		})
	}()
	for i := range 4 {
		mustAppend(t, l, rec(10+i))
	}
	for want := uint64(2); want <= 7; want++ {
		select {
		case s := <-seen:
			if s != want {
				t.Fatalf("followed seq %d, want %d", s, want)
			}
		case <-ctx.Done():
			t.Fatalf("timed out waiting for seq %d", want)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow returned %v, want context.Canceled", err)
	}
}

func testReopen(t *testing.T, open Opener) {
	dir := t.TempDir()
	l := open(t, dir)
	mustAppend(t, l, rec(1), rec(2))
	r := rec(3)
	r.Key = "k"
	mustAppend(t, l, r)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, dir)
	defer l.Close()
	if l.LastSeq() != 3 {
		t.Fatalf("reopened LastSeq = %d, want 3", l.LastSeq())
	}
	evs := mustAppend(t, l, rec(4))
	if evs[0].Seq != 4 {
		t.Fatalf("append after reopen got seq %d", evs[0].Seq)
	}
	all := readAll(t, l, 1)
	if evs[0].ChainHash(all[2].Hash) != evs[0].Hash {
		t.Fatal("chain broken across reopen")
	}
	if p, err := l.Existing("k"); err != nil || p == nil {
		t.Fatalf("key forgotten across reopen: %v %v", p, err)
	}
}

func testClosed(t *testing.T, open Opener) {
	l := open(t, t.TempDir())
	mustAppend(t, l, rec(1))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := eventlog.Append(context.Background(), l, rec(2)); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("append after close = %v, want ErrClosed", err)
	}
}

func testEmpty(t *testing.T, open Opener) {
	l := openTemp(t, open)
	evs, err := eventlog.Append(context.Background(), l)
	if err != nil || len(evs) != 0 {
		t.Fatalf("empty append = %v, %v", evs, err)
	}
}

// appendShapes appends, from record i on, submissions of the shapes a
// server makes: one event, three (a report), and seventy (more than one
// group entry). It returns the records appended.
func appendShapes(t *testing.T, l eventlog.Log, i int) []eventlog.Record {
	t.Helper()
	var all []eventlog.Record
	for _, n := range []int{1, 3, 1, 70, 3, 2} {
		var recs []eventlog.Record
		for range n {
			r := rec(i)
			if i%5 == 0 {
				r.Actor = fmt.Sprintf("actor %d", i) // not the previous one's
			}
			if i%11 == 0 {
				r.Key = fmt.Sprintf("key/%d", i)
			}
			recs = append(recs, r)
			i++
		}
		mustAppend(t, l, recs...)
		all = append(all, recs...)
	}
	return all
}

// checkLog checks that l holds exactly recs, in order, with hashes that
// chain from the first, the same whichever seq a range starts from, and
// that a log that can verify itself finds nothing wrong.
func checkLog(t *testing.T, l eventlog.Log, recs []eventlog.Record) {
	t.Helper()
	all := readAll(t, l, 1)
	if len(all) != len(recs) {
		t.Fatalf("read %d events, want %d", len(all), len(recs))
	}
	var prev [32]byte
	for i, e := range all {
		want := recs[i]
		if e.Seq != uint64(i+1) || e.Type != want.Type || e.Actor != want.Actor || e.Key != want.Key ||
			e.ProcessID != want.ProcessID || string(e.Data) != string(want.Data) || !e.Time.Equal(want.Time) {
			t.Fatalf("event %d = %+v, want fields of %+v", i+1, e, want)
		}
		if e.ChainHash(prev) != e.Hash {
			t.Fatalf("event %d: hash does not chain", e.Seq)
		}
		prev = e.Hash
	}
	for from := uint64(1); from <= uint64(len(all)); from++ {
		got := readRange(t, l, from, from+1)
		want := all[from-1 : min(int(from)+1, len(all))]
		if len(got) != len(want) {
			t.Fatalf("range %d..%d: seqs %v", from, from+1, seqs(got))
		}
		for i := range got {
			if got[i].Hash != want[i].Hash || got[i].ID != want[i].ID || !got[i].Time.Equal(want[i].Time) {
				t.Fatalf("range from %d: event %d differs from a read from 1:\n got %+v\nwant %+v", from, got[i].Seq, got[i], want[i])
			}
		}
	}
	if v, ok := l.(interface {
		Verify(context.Context) (eventlog.Report, error)
	}); ok {
		rep, err := v.Verify(context.Background())
		if err != nil || !rep.OK() || rep.Events != uint64(len(recs)) {
			t.Fatalf("verify = %+v, %v", rep, err)
		}
	}
}

// testRangeEverySeq reads a log of every submission shape from each seq:
// an event must come out the same, hash included, wherever a range starts
// (a log that stores one hash a group computes the others).
func testRangeEverySeq(t *testing.T, open Opener) {
	l := openTemp(t, open)
	checkLog(t, l, appendShapes(t, l, 0))
}

// RunUpgrade checks a log written by old (a log of an older format) and
// continued by cur, after a reopen: the old events and the new read back
// as written, their hashes chain across the change from every starting
// seq, and the log verifies.
func RunUpgrade(t *testing.T, old, cur Opener) {
	dir := t.TempDir()
	l := old(t, dir)
	recs := appendShapes(t, l, 0)
	checkLog(t, l, recs)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = cur(t, dir)
	defer l.Close()
	recs = append(recs, appendShapes(t, l, len(recs))...)
	checkLog(t, l, recs)
}
