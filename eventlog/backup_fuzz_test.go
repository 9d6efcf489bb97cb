package eventlog

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"
)

// openSmall opens an in-memory log with small memtables; its group
// commits (a sixteenth of a memtable) are small, so that a restore of a
// few events already commits several times.
func openSmall(tb testing.TB) *Badger {
	tb.Helper()
	l, err := OpenBadger(Options{Tuning: Tuning{MemTableBytes: 8 << 20}})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// sliceLog is a read-only Log over events in memory: enough for
// WriteBackup to make seeds without opening Badger (a fuzz worker that
// runs Badger's background goroutines sees coverage move on its own).
type sliceLog []Event

func (s sliceLog) Submit([]Record) *Pending          { return Resolved(nil, false, ErrClosed) }
func (s sliceLog) Existing(string) (*Pending, error) { return nil, nil }
func (s sliceLog) LastSeq() uint64                   { return uint64(len(s)) }
func (s sliceLog) Committed() <-chan struct{}        { return nil }
func (s sliceLog) Close() error                      { return nil }

func (s sliceLog) Range(ctx context.Context, from, to uint64) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for i := range s {
			if s[i].Seq >= from && (to == 0 || s[i].Seq <= to) {
				if !yield(&s[i], nil) {
					return
				}
			}
		}
	}
}

// backupSeeds returns real backups: of the version-1 log in testdata, of a
// prefix of it, and of an empty log.
func backupSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	evs := testdataEvents(tb)
	var out [][]byte
	for _, n := range []int{len(evs), 3, 0} {
		var buf bytes.Buffer
		if _, err := WriteBackup(context.Background(), sliceLog(evs[:n]), &buf, time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)); err != nil {
			tb.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// empty makes a log that a restore has written to empty again, so that one
// Badger serves every input of a fuzz worker (opening one costs far more
// than an input).
func (l *Badger) empty(tb testing.TB) {
	if err := l.db.DropAll(); err != nil {
		tb.Fatal(err)
	}
	l.nextSeq, l.lastHash = 1, [32]byte{}
	l.lastSeq.Store(0)
}

// chainCheck does in memory what an import checks of each event: seqs from
// 1 without gaps and hashes that chain.
type chainCheck struct {
	next uint64
	prev [32]byte
	keys []string
}

var errNoChain = errors.New("does not chain")

func (c *chainCheck) add(e *Event) error {
	if e.Seq != c.next+1 || e.ChainHash(c.prev) != e.Hash {
		return errNoChain
	}
	c.next, c.prev = e.Seq, e.Hash
	if e.Key != "" {
		c.keys = append(c.keys, e.Key)
	}
	return nil
}

// FuzzReadBackup feeds arbitrary bytes to the backup reader. It must not
// panic; it either reads a backup whose trailer matches the events it
// passed on, or returns ErrBadBackup or the callback's error.
func FuzzReadBackup(f *testing.F) {
	for _, b := range backupSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"statesrv_backup":1}` + "\n" + `{"statesrv_backup_end":true,"events":0,"last_seq":0,"head":"` + strings.Repeat("0", 64) + `"}`))
	f.Add([]byte(`{"statesrv_backup":2}`))
	f.Add([]byte("{}\n{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c chainCheck
		var seen, lastSeq uint64
		n, err := ReadBackup(bytes.NewReader(b), func(e *Event) error {
			seen, lastSeq = seen+1, e.Seq
			return c.add(e)
		})
		if err != nil {
			if !errors.Is(err, ErrBadBackup) && !errors.Is(err, errNoChain) {
				t.Fatalf("ReadBackup = %v, neither ErrBadBackup nor the callback's error", err)
			}
			return
		}
		if n != seen || n != c.next || lastSeq != c.next {
			t.Fatalf("ReadBackup = %d events, but passed on %d (last seq %d, chained %d)", n, seen, lastSeq, c.next)
		}
	})
}

// FuzzRestore restores arbitrary bytes into an empty log, as the restore
// command does (one log per worker, emptied after each input). It must not
// panic. A restore that succeeds leaves a log
// that verifies, holds every event with its idempotency key, and backs up
// into a backup that reads again; a refused one leaves the log empty (no
// head is made the log's) and what it committed on the way a valid prefix.
//
// Badger's background goroutines make coverage vary from run to run, so
// run it with -fuzzminimizetime=0: otherwise the fuzzer spends its time
// minimizing inputs whose "new" coverage was Badger's.
func FuzzRestore(f *testing.F) {
	for _, b := range backupSeeds(f) {
		f.Add(b)
	}
	l := openSmall(f)
	defer l.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		defer l.empty(t)
		im, err := l.Import()
		if err != nil {
			t.Fatal(err)
		}
		var c chainCheck
		n, err := ReadBackup(bytes.NewReader(b), func(e *Event) error {
			if err := im.Add(e); err != nil {
				return err
			}
			return c.add(e)
		})
		var last uint64
		if err == nil {
			last, err = im.Finish()
		}
		rep, verr := l.Verify(ctx)
		if verr != nil || !rep.OK() {
			t.Fatalf("verify after restore (%v) = %+v, %v", err, rep, verr)
		}
		if err != nil {
			im.txn.Discard()
			if l.LastSeq() != 0 {
				t.Fatalf("refused restore (%v) left last seq %d", err, l.LastSeq())
			}
			return
		}
		if last != n || l.LastSeq() != n || rep.Events != n || rep.LastSeq != n || c.next != n {
			t.Fatalf("restored %d events: finish %d, last seq %d, verify %+v", n, last, l.LastSeq(), rep)
		}
		for _, k := range c.keys {
			p, err := l.Existing(k)
			if err != nil || p == nil {
				t.Fatalf("key %q lost in the restore: %v", k, err)
			}
			evs, err := p.Wait(ctx)
			if err != nil || len(evs) != 1 || evs[0].Key != k {
				t.Fatalf("key %q names %+v, %v", k, evs, err)
			}
		}
		var again bytes.Buffer
		if _, err := WriteBackup(ctx, l, &again, time.Now()); err != nil {
			t.Fatal(err)
		}
		var c2 chainCheck
		if m, err := ReadBackup(&again, c2.add); err != nil || m != n {
			t.Fatalf("the restored log's backup reads %d events, %v; want %d", m, err, n)
		}
	})
}
