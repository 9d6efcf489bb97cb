package projections

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The helpers below are the Store's few ways of reading and writing
// Badger, so that each view states only its keys and its types.

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func key(prefix string, parts ...[]byte) []byte {
	k := []byte(prefix)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func nsKey(t time.Time) []byte { return u64(uint64(t.UnixNano())) }

func pidKey(prefix string) func(int64) []byte {
	return func(pid int64) []byte { return key(prefix, u64(uint64(pid))) }
}

func idKey(prefix string) func(string) []byte {
	return func(id string) []byte { return key(prefix, []byte(id)) }
}

// value returns a copy of the value stored under k; found is false when
// there is none.
func value(txn *badger.Txn, k []byte) (v []byte, found bool, err error) {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, err = item.ValueCopy(nil)
	return v, err == nil, err
}

// getJSON decodes the JSON record stored under k; a missing record is
// badger.ErrKeyNotFound.
func getJSON[V any](txn *badger.Txn, k []byte) (V, error) {
	var rec V
	item, err := txn.Get(k)
	if err != nil {
		return rec, err
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &rec) })
	return rec, err
}

// follow reads, in one read transaction, the index entry under k, then the
// JSON record under the key row makes of the entry's value; found is false
// when the index has no entry. An entry without its record is an error.
func follow[V any](s *Store, k []byte, row func(v []byte) []byte) (rec V, found bool, err error) {
	err = s.view(func(txn *badger.Txn) error {
		ref, ok, err := value(txn, k)
		if err != nil || !ok {
			return err
		}
		rec, err = getJSON[V](txn, row(ref))
		found = err == nil
		return err
	})
	return rec, found, err
}

// valueIs reports whether the value of item is want.
func valueIs(item *badger.Item, want string) (match bool, err error) {
	err = item.Value(func(v []byte) error { match = string(v) == want; return nil })
	return match, err
}

func scan(txn *badger.Txn, prefix []byte, fn func(k, v []byte) error) error {
	opts := iterOptions()
	opts.Prefix = prefix
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
			return err
		}
	}
	return nil
}

// scanJSON decodes every JSON record under prefix and hands it to add.
func scanJSON[V any](txn *badger.Txn, prefix string, add func(V)) error {
	return scan(txn, []byte(prefix), func(_, data []byte) error {
		var rec V
		if err := json.Unmarshal(data, &rec); err != nil {
			return err
		}
		add(rec)
		return nil
	})
}

// keysOnly opens an iterator over the keys under prefix, newest (highest)
// first when reverse is set, without fetching values ahead.
func keysOnly(txn *badger.Txn, prefix []byte, reverse bool) *badger.Iterator {
	opts := iterOptions()
	opts.Prefix, opts.Reverse, opts.PrefetchValues = prefix, reverse, false
	return txn.NewIterator(opts)
}

func jsonOf[V any](v V) ([]byte, error) { return json.Marshal(v) }

// setJSON writes v as JSON under k.
func (b *batch) setJSON(k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.set(k, data)
}

// persist writes, for every key marked dirty, what vals holds for it under
// k(key), encoded by enc, or deletes that entry when vals holds nothing.
func persist[K comparable, V any](b *batch, dirty map[K]bool, vals map[K]V, k func(K) []byte, enc func(V) ([]byte, error)) error {
	for id := range dirty {
		v, ok := vals[id]
		if err := putOrDelete(b, k(id), v, ok, enc); err != nil {
			return err
		}
	}
	return nil
}

// putOrDelete writes enc(v) under k when present, else deletes k.
func putOrDelete[V any](b *batch, k []byte, v V, present bool, enc func(V) ([]byte, error)) error {
	if !present {
		return b.del(k)
	}
	data, err := enc(v)
	if err != nil {
		return err
	}
	return b.set(k, data)
}

// iterOptions are the options of every iterator over the views, with
// Badger's prefetch off: it starts a goroutine for each item read (up to
// 100 ahead) to fetch its value, and the views' values are small and kept
// in the LSM tree, so it only costs. On a starved CPU a few pages' scans
// left thousands of these goroutines waiting to run (the soak test).
func iterOptions() badger.IteratorOptions {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	return o
}
