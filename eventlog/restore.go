package eventlog

import (
	"bytes"
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
	group groupWriter
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
	return &Importer{l: l, txn: l.db.NewTransaction(true), next: 1,
		group: groupWriter{version: l.opt.EnvelopeVersion, codes: l.opt.TypeCodes}}, nil
}

// Add writes the next event. Its data is JSON, as a backup holds it: an
// event that was stored with a compact payload chains only with that
// payload, which the log's Payloads make again from the JSON.
func (im *Importer) Add(e *Event) error {
	if e.Seq != im.next {
		return fmt.Errorf("eventlog: import: expected seq %d, found %d", im.next, e.Seq)
	}
	if !im.chains(e) {
		return fmt.Errorf("eventlog: import: event %d does not chain: the backup is damaged", e.Seq)
	}
	im.group.add(e)
	if err := im.l.codes.record(e, im.l.opt.TypeCodes, im.set); err != nil {
		return err
	}
	if e.Key != "" {
		if err := im.set(idemKey(e.Key), eventKey(e.Seq)[1:]); err != nil {
			return err
		}
	}
	im.prev, im.next = e.Hash, e.Seq+1
	if im.group.n == groupMax {
		return im.flushGroup()
	}
	return nil
}

// chains reports whether e chains to the previous event, with its data as
// given or, failing that, in the compact form the log's Payloads give it
// (which then replaces e.Data).
func (im *Importer) chains(e *Event) bool {
	im.buf = appendEnvelope(im.buf[:0], e)
	if chainHash(im.prev, im.buf) == e.Hash {
		return true
	}
	if im.l.opt.Payloads == nil {
		return false
	}
	compact, err := im.l.opt.Payloads.Compact(e.Type, e.Time, e.Data)
	if err != nil || bytes.Equal(compact, e.Data) {
		return false
	}
	c := *e
	c.Data = compact
	im.buf = appendEnvelope(im.buf[:0], &c)
	if chainHash(im.prev, im.buf) != e.Hash {
		return false
	}
	e.Data = compact
	return true
}

func (im *Importer) flushGroup() error {
	if im.group.n == 0 {
		return nil
	}
	err := im.set(eventKey(im.next-1), im.group.take())
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
