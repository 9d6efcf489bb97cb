package eventlog

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Envelope versions of a group entry (doc.go gives both byte by byte).
const (
	// groupV1 entries hold members framed by their length, each with its
	// own hash. They have no version byte: a v1 entry begins with the
	// length of its first member, at least minV1Member.
	groupV1 = 1
	// groupV2 entries begin with the byte 2 and store one hash, the last
	// member's.
	groupV2 = 2
	// currentGroup is what new groups are written in.
	currentGroup = groupV2
)

// minV1Member is the shortest stored form of a version 1 event: version,
// seq, id, time, process, three empty strings, empty data and the hash.
const minV1Member = 1 + 1 + 16 + 1 + 1 + 1 + 1 + 1 + 1 + 32

// Flags of a version 2 member: which header fields are stored, and which
// are the previous member's.
const (
	flagTypeCode  = 1 << iota // the type is a code, not a name
	flagSameTime              // the time is the previous member's
	flagSameActor             // the actor is the previous member's
	flagSamePID               // the process id is the previous member's
	flagIDPrefix              // the id's first 6 bytes are the previous member's
	flagKey                   // an idempotency key follows
	flagIDTime                // the id's first 6 bytes are the member's time in ms plus a varint
	flagsKnown    = 1<<iota - 1
)

// idPrefix is how many leading bytes of an id a member may share with the
// previous one: the millisecond clock of a UUID v7.
const idPrefix = 6

// isV2 reports whether a group entry is of version 2.
func isV2(v []byte) bool { return len(v) > 0 && v[0] == groupV2 }

// groupHash returns the hash of the last event of a stored group entry of
// either version: its last 32 bytes.
func groupHash(v []byte) ([32]byte, error) {
	if len(v) < 32 {
		return [32]byte{}, fmt.Errorf("%w: group of %d bytes", ErrCorrupt, len(v))
	}
	return [32]byte(v[len(v)-32:]), nil
}

// groupWriter builds one group entry from events whose seq and hash are
// set, in the version it was made for.
type groupWriter struct {
	version int
	codes   map[string]uint64
	b       []byte
	n       int
	prev    Event // the last member added (its header fields)
	buf     []byte
}

// add appends e to the group.
func (w *groupWriter) add(e *Event) {
	if w.version == groupV1 {
		w.buf = encode(w.buf[:0], e)
		w.b = appendGroupMember(w.b, w.buf)
	} else {
		if w.n == 0 {
			w.b = append(w.b, groupV2)
			w.b = binary.AppendUvarint(w.b, e.Seq)
		}
		w.b = appendMember(w.b, e, &w.prev, w.n == 0, w.codes)
	}
	w.n++
	w.prev = *e
}

// reset drops what was added since the last take.
func (w *groupWriter) reset() { w.b, w.n = w.b[:0], 0 }

// take returns the group entry (a new slice each time: Badger keeps it
// until the commit) and starts the next one.
func (w *groupWriter) take() []byte {
	g := w.b
	if w.version != groupV1 {
		g = append(g, w.prev.Hash[:]...)
	}
	w.b, w.n = nil, 0
	return g
}

// appendMember appends the version 2 stored form of e (without its hash)
// to b; prev is the previous member of the group unless first.
func appendMember(b []byte, e, prev *Event, first bool, codes map[string]uint64) []byte {
	var flags byte
	code, coded := codes[e.Type]
	if coded {
		flags |= flagTypeCode
	}
	nanos := e.Time.UnixNano()
	if !first {
		if nanos == prev.Time.UnixNano() {
			flags |= flagSameTime
		}
		if e.Actor == prev.Actor {
			flags |= flagSameActor
		}
		if e.ProcessID == prev.ProcessID {
			flags |= flagSamePID
		}
		if [idPrefix]byte(e.ID[:idPrefix]) == [idPrefix]byte(prev.ID[:idPrefix]) {
			flags |= flagIDPrefix
		}
	}
	// A UUID v7 begins with the milliseconds of its making, close to the
	// event's time: stored as the difference when that is shorter.
	idDelta := idMillis(e.ID) - e.Time.UnixMilli()
	if flags&flagIDPrefix == 0 && idDelta > -1<<20 && idDelta < 1<<20 {
		flags |= flagIDTime
	}
	if e.Key != "" {
		flags |= flagKey
	}
	b = append(b, flags)
	switch {
	case flags&flagIDPrefix != 0:
		b = append(b, e.ID[idPrefix:]...)
	case flags&flagIDTime != 0:
		b = binary.AppendVarint(b, idDelta)
		b = append(b, e.ID[idPrefix:]...)
	default:
		b = append(b, e.ID[:]...)
	}
	switch {
	case first:
		b = binary.AppendVarint(b, nanos)
	case flags&flagSameTime == 0:
		b = binary.AppendVarint(b, nanos-prev.Time.UnixNano())
	}
	if flags&flagSamePID == 0 {
		b = binary.AppendVarint(b, e.ProcessID)
	}
	if coded {
		b = binary.AppendUvarint(b, code)
	} else {
		b = appendString(b, e.Type)
	}
	if flags&flagSameActor == 0 {
		b = appendString(b, e.Actor)
	}
	if flags&flagKey != 0 {
		b = appendString(b, e.Key)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Data)))
	return append(b, e.Data...)
}

// groupReader decodes the members of a version 2 group entry in order.
type groupReader struct {
	d     decoder
	names map[uint64]string
	types *typeNames
	hash  [32]byte // the last member's, as stored
	seq   uint64   // of the next member
	n     int      // members read
	// The previous member's header fields.
	nanos int64
	actor string
	pid   int64
	id    uuid.UUID
}

// openGroup starts reading the version 2 group entry v; names resolves
// type codes and types interns type names (nil: not interned).
func openGroup(v []byte, names map[uint64]string, types *typeNames) (groupReader, error) {
	if !isV2(v) || len(v) < 1+1+32 {
		return groupReader{}, fmt.Errorf("%w: not a version 2 group", ErrCorrupt)
	}
	r := groupReader{d: decoder{b: v[1 : len(v)-32]}, names: names, types: types}
	r.hash = [32]byte(v[len(v)-32:])
	r.seq = r.d.uvarint()
	if r.d.err != nil || len(r.d.b) == 0 {
		return groupReader{}, fmt.Errorf("%w: group without members", ErrCorrupt)
	}
	return r, nil
}

// more reports whether another member follows.
func (r *groupReader) more() bool { return len(r.d.b) > 0 }

// next decodes the next member into e, all but its hash (a member's hash
// is computed from the chain; the last one's is r.hash). Data is copied.
func (r *groupReader) next(e *Event) error {
	d := &r.d
	flags := d.byte()
	if flags&^flagsKnown != 0 || flags&(flagIDPrefix|flagIDTime) == flagIDPrefix|flagIDTime ||
		(r.n == 0 && flags&(flagSameTime|flagSameActor|flagSamePID|flagIDPrefix) != 0) {
		return fmt.Errorf("%w: member %d: bad flags %#x", ErrCorrupt, r.n, flags)
	}
	e.Seq = r.seq
	var idDelta int64
	switch {
	case flags&flagIDPrefix != 0:
		copy(e.ID[:idPrefix], r.id[:idPrefix])
		copy(e.ID[idPrefix:], d.bytes(16-idPrefix))
	case flags&flagIDTime != 0:
		idDelta = d.varint()
		copy(e.ID[idPrefix:], d.bytes(16-idPrefix))
	default:
		copy(e.ID[:], d.bytes(16))
	}
	switch {
	case r.n == 0:
		r.nanos = d.varint()
	case flags&flagSameTime == 0:
		r.nanos += d.varint()
	}
	e.Time = time.Unix(0, r.nanos).UTC()
	if flags&flagIDTime != 0 {
		setIDMillis(&e.ID, e.Time.UnixMilli()+idDelta)
	}
	if flags&flagSamePID == 0 {
		r.pid = d.varint()
	}
	e.ProcessID = r.pid
	if flags&flagTypeCode != 0 {
		code := d.uvarint()
		name, ok := r.names[code]
		if !ok && d.err == nil {
			return fmt.Errorf("%w: member %d: type code %d is not in the log's table", ErrCorrupt, r.n, code)
		}
		e.Type = name
	} else if t := d.bytes(int(d.uvarint())); d.err == nil {
		e.Type = r.types.intern(t)
	}
	if flags&flagSameActor == 0 {
		r.actor = string(d.bytes(int(d.uvarint())))
	}
	e.Actor = r.actor
	e.Key = ""
	if flags&flagKey != 0 {
		e.Key = string(d.bytes(int(d.uvarint())))
	}
	data := d.bytes(int(d.uvarint()))
	e.Data = append([]byte(nil), data...)
	if len(data) == 0 {
		e.Data = nil
	}
	if d.err != nil {
		return fmt.Errorf("%w: member %d: %v", ErrCorrupt, r.n, d.err)
	}
	r.id = e.ID
	r.seq++
	r.n++
	return nil
}

// idMillis returns the number the first 6 bytes of id hold: the Unix
// milliseconds of a UUID v7.
func idMillis(id uuid.UUID) int64 {
	var ms int64
	for _, b := range id[:idPrefix] {
		ms = ms<<8 | int64(b)
	}
	return ms
}

// setIDMillis sets the first 6 bytes of id to the low 48 bits of ms.
func setIDMillis(id *uuid.UUID, ms int64) {
	for i := range idPrefix {
		id[i] = byte(ms >> (8 * (idPrefix - 1 - i)))
	}
}
