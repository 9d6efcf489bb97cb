package eventlog

import (
	"encoding/binary"
	"fmt"
	"maps"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// prefixCode keys the type codes a log has stored: 't' + code (8 bytes,
// big-endian) holds the name. A code is stored in the transaction that
// first writes it, so a log can be read without being told its codes.
const prefixCode = 't'

func codeKey(code uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixCode
	binary.BigEndian.PutUint64(k[1:], code)
	return k
}

// codeTable is the codes a log has stored. Readers look up without
// locking; the committer (and an import) replaces the map when it stores a
// new code.
type codeTable struct {
	m atomic.Pointer[map[uint64]string]
}

// names returns the codes stored so far.
func (c *codeTable) names() map[uint64]string {
	if m := c.m.Load(); m != nil {
		return *m
	}
	return nil
}

// add records that code stands for name.
func (c *codeTable) add(code uint64, name string) {
	m := maps.Clone(c.names())
	if m == nil {
		m = map[uint64]string{}
	}
	m[code] = name
	c.m.Store(&m)
}

// load reads the stored codes and checks them against the writer's: a
// code must stand for the name it was stored with.
func (c *codeTable) load(txn *badger.Txn, writer map[string]uint64) error {
	m := map[uint64]string{}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixCode}, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != 9 {
			return fmt.Errorf("%w: type code key of %d bytes", ErrCorrupt, len(k))
		}
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("eventlog: read type codes: %w", err)
		}
		m[binary.BigEndian.Uint64(k[1:])] = string(v)
	}
	for name, code := range writer {
		if stored, ok := m[code]; ok && stored != name {
			return fmt.Errorf("eventlog: open: type code %d stands for %s in this log, not %s: a code may never be given to another name", code, stored, name)
		}
	}
	c.m.Store(&m)
	return nil
}

// record stores, in txn, the code of e's type if it has one the log has
// not stored yet.
func (c *codeTable) record(e *Event, codes map[string]uint64, set func(k, v []byte) error) error {
	code, ok := codes[e.Type]
	if !ok {
		return nil
	}
	if _, stored := c.names()[code]; stored {
		return nil
	}
	if err := set(codeKey(code), []byte(e.Type)); err != nil {
		return err
	}
	c.add(code, e.Type)
	return nil
}
