package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// Views of the first layout (no format version, history as JSON under the
// run id's text) are dropped when opened, said in the log, and rebuilt from
// the log by the runner.
func TestOlderFormatRebuiltOnOpen(t *testing.T) {
	log := pushLog(t, 3, 20)
	dir := t.TempDir()
	s, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	// As the first layout stood, at the log's end: checkpoint, a run in
	// history as JSON, where it started, and no format version.
	old := statesrv.Run{ID: "0190b2a4-0000-7000-8000-000000000001", ProcessID: 1, State: "OK", FinishedAt: &at}
	err = s.db.Update(func(txn *badger.Txn) error {
		v, _ := json.Marshal(old)
		for k, v := range map[string][]byte{
			string(keyCheckpoint):                                 u64(log.LastSeq()),
			string(key("h/", nsKey(at), []byte(old.ID))):          v,
			string(key("hp/", u64(1), nsKey(at), []byte(old.ID))): []byte("OK"),
			string(key("rs/", []byte(old.ID))):                    u64(2),
		} {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return txn.Delete(keyFormat)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var logged bytes.Buffer
	if s, err = OpenStore(dir, slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if !strings.Contains(logged.String(), "older format") {
		t.Errorf("log = %q, want a line about the views of an older format", logged.String())
	}
	if seq, err := s.Checkpoint(); err != nil || seq != 0 {
		t.Fatalf("checkpoint after open = %d, %v; want 0 (dropped)", seq, err)
	}
	var keys []string
	err = s.db.View(func(txn *badger.Txn) error {
		return scan(txn, nil, func(k, v []byte) error {
			keys = append(keys, string(k))
			if string(k) == string(keyFormat) {
				if ver, _ := binary.Uvarint(v); ver != formatVersion {
					t.Errorf("format version = %d, want %d", ver, formatVersion)
				}
			}
			return nil
		})
	})
	if err != nil || !slices.Equal(keys, []string{string(keyFormat)}) {
		t.Fatalf("keys after open = %q, %v; want only the format version", keys, err)
	}
	r, err := NewRunner(log, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(HistoryQuery{Limit: 100})
	if err != nil || len(h) != 20 {
		t.Fatalf("history after the rebuild: %d runs, %v; want the log's 20", len(h), err)
	}
	if _, ok, _ := s.FinishedRun(old.ID); ok {
		t.Errorf("run %s of the dropped views still found", old.ID)
	}
	// Opened again, views of this format are kept.
	s.Close()
	if s, err = OpenStore(dir, nil); err != nil {
		t.Fatal(err)
	}
	if seq, err := s.Checkpoint(); err != nil || seq != log.LastSeq() {
		t.Errorf("checkpoint after reopening = %d, %v; want %d", seq, err, log.LastSeq())
	}
}

// Views of an older format found on a full disk cannot be dropped: the open
// says so (an error wrapping eventlog.ErrDiskFull) rather than serve them,
// and the same views open, and are dropped, once there is room.
func TestOlderFormatOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(keyCheckpoint, u64(7)); err != nil {
			return err
		}
		return txn.Delete(keyFormat)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	full := func(string) (int64, error) { return 0, nil }
	if s, err := OpenStoreWith(StoreOptions{Dir: dir, FreeBytes: full, ReadOnlyIfFull: true}); !errors.Is(err, eventlog.ErrDiskFull) ||
		!strings.Contains(err.Error(), "need a rebuild") {
		if err == nil {
			s.Close()
		}
		t.Fatalf("read-only open of old views on a full disk = %v; want ErrDiskFull and the reason", err)
	}
	if s, err = OpenStore(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if seq, err := s.Checkpoint(); err != nil || seq != 0 {
		t.Errorf("checkpoint once there is room = %d, %v; want 0 (dropped)", seq, err)
	}
}
