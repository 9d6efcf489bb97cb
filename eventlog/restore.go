package eventlog

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// ErrNotEmpty is returned by Import into a log that already holds events.
var ErrNotEmpty = errors.New("eventlog: the log is not empty")

// Importer writes events of another log, seq for seq, into an empty log:
// the restore of a backup. Each event keeps its seq, id, time, actor,
// process, key, data and hash; the hash chain is recomputed on the way and
// must give the hashes the events carry, so a damaged or edited backup is
// refused at the first event that does not chain.
type Importer struct {
	l     *Badger
	txn   *badger.Txn
	size  int
	group []byte
	gLen  int
	next  uint64
	prev  [32]byte
	buf   []byte
	// The last event whose group is written, for the head record.
	headSeq  uint64
	headHash [32]byte
}

// Import starts an import into l, which must be empty.
func (l *Badger) Import() (*Importer, error) {
	if l.LastSeq() != 0 {
		return nil, ErrNotEmpty
	}
	return &Importer{l: l, txn: l.db.NewTransaction(true), next: 1}, nil
}

// Add writes the next event.
func (im *Importer) Add(e *Event) error {
	if e.Seq != im.next {
		return fmt.Errorf("eventlog: import: expected seq %d, found %d", im.next, e.Seq)
	}
	im.buf = appendEnvelope(im.buf[:0], e)
	if chainHash(im.prev, im.buf) != e.Hash {
		return fmt.Errorf("eventlog: import: event %d does not chain: the backup is damaged", e.Seq)
	}
	im.buf = append(im.buf, e.Hash[:]...)
	im.group = appendGroupMember(im.group, im.buf)
	im.gLen++
	if e.Key != "" {
		if err := im.set(idemKey(e.Key), eventKey(e.Seq)[1:]); err != nil {
			return err
		}
	}
	im.prev, im.next = e.Hash, e.Seq+1
	if im.gLen == groupMax {
		return im.flushGroup()
	}
	return nil
}

func (im *Importer) flushGroup() error {
	if im.gLen == 0 {
		return nil
	}
	err := im.set(eventKey(im.next-1), im.group)
	im.group, im.gLen = nil, 0
	im.headSeq, im.headHash = im.next-1, im.prev
	return err
}

// set adds a write, committing the transaction when it grows large.
func (im *Importer) set(k, v []byte) error {
	if im.size+len(k)+len(v) > im.l.opt.MaxBatchBytes {
		if err := im.commit(); err != nil {
			return err
		}
	}
	im.size += len(k) + len(v) + 32
	return im.txn.Set(k, append([]byte(nil), v...))
}

// commit writes what is pending with the head record, so the log is valid
// (a prefix of the backup) after every commit.
func (im *Importer) commit() error {
	head := make([]byte, 40)
	binary.BigEndian.PutUint64(head, im.headSeq)
	copy(head[8:], im.headHash[:])
	if err := im.txn.Set(headKey, head); err != nil {
		return err
	}
	if err := im.txn.Commit(); err != nil {
		return fmt.Errorf("eventlog: import: %w", err)
	}
	im.txn, im.size = im.l.db.NewTransaction(true), 0
	return nil
}

// Finish writes the rest and makes the imported events the log's. It
// returns the last seq.
func (im *Importer) Finish() (uint64, error) {
	if err := im.flushGroup(); err != nil {
		return 0, err
	}
	if err := im.commit(); err != nil {
		return 0, err
	}
	im.txn.Discard()
	l := im.l
	l.nextSeq, l.lastHash = im.next, im.prev
	l.lastSeq.Store(im.next - 1)
	return im.next - 1, nil
}
