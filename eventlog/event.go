package eventlog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Record is what a writer asks the log to append. The log gives it a seq, an
// id and a hash; Time is kept as given (the writer's clock) and set by the
// log when zero.
type Record struct {
	Type      string
	Time      time.Time
	Actor     string
	ProcessID int64
	// Key, when not empty, is an idempotency key: an append whose first
	// record carries a key already stored is not appended again (see
	// Log.Existing).
	Key string
	// Data is the writer's payload, stored as given: JSON, or a compact
	// form that begins with a byte JSON never begins with (doc.go).
	Data json.RawMessage
}

// Event is one immutable entry of the log.
type Event struct {
	Seq       uint64
	ID        uuid.UUID
	Type      string
	Time      time.Time
	Actor     string
	ProcessID int64
	Key       string
	Data      json.RawMessage
	Hash      [32]byte
}

// envelopeVersion is the first byte of every stored event.
const envelopeVersion = 1

// ErrCorrupt is returned (wrapped) for a stored event that cannot be decoded.
var ErrCorrupt = errors.New("eventlog: corrupt event")

// appendEnvelope appends the canonical encoding of e without its hash to b
// (see doc.go for the layout).
func appendEnvelope(b []byte, e *Event) []byte {
	b = append(b, envelopeVersion)
	b = binary.AppendUvarint(b, e.Seq)
	b = append(b, e.ID[:]...)
	b = binary.AppendVarint(b, e.Time.UnixNano())
	b = binary.AppendVarint(b, e.ProcessID)
	b = appendString(b, e.Type)
	b = appendString(b, e.Actor)
	b = appendString(b, e.Key)
	b = binary.AppendUvarint(b, uint64(len(e.Data)))
	return append(b, e.Data...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// chainHash computes an event's hash from the previous event's hash and the
// event's canonical envelope.
func chainHash(prev [32]byte, envelope []byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(envelope)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// hashEvent returns the hash e must carry when prev is the previous
// event's, computed in buf (returned for reuse): the previous hash and e's
// canonical form hashed in one call, without a hasher to allocate.
func hashEvent(buf []byte, prev [32]byte, e *Event) ([32]byte, []byte) {
	buf = append(buf[:0], prev[:]...)
	buf = appendEnvelope(buf, e)
	return sha256.Sum256(buf), buf
}

// encode returns the stored form of e: envelope then hash.
func encode(b []byte, e *Event) []byte {
	b = appendEnvelope(b, e)
	return append(b, e.Hash[:]...)
}

// appendGroupMember appends one encoded event to a group entry.
func appendGroupMember(group, event []byte) []byte {
	group = binary.AppendUvarint(group, uint64(len(event)))
	return append(group, event...)
}

// members yields the stored form of each event of a group entry, in order,
// and then an error if the framing is damaged.
func members(group []byte) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for len(group) > 0 {
			raw, rest, err := nextMember(group)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(raw, nil) {
				return
			}
			group = rest
		}
	}
}

// nextMember splits the first member off a non-empty group entry. Readers
// on the hot path loop over it instead of members, whose closure would be
// allocated once a group.
func nextMember(group []byte) (raw, rest []byte, err error) {
	n, k := binary.Uvarint(group)
	if k <= 0 || uint64(len(group)-k) < n {
		return nil, nil, fmt.Errorf("%w: bad group framing", ErrCorrupt)
	}
	return group[k : k+int(n)], group[k+int(n):], nil
}

// maxInterned bounds how many type names one log interns.
const maxInterned = 256

// typeNames interns the type names a log decodes, so that reading
// allocates no string for them. A name is interned the first time it is
// read, so every type ever written is covered without a list; the set
// only grows, and stops growing at maxInterned names. Readers look up
// without locking; a new name replaces the map under mu.
type typeNames struct {
	m  atomic.Pointer[map[string]string]
	mu sync.Mutex
}

// intern returns the shared string for the name b (a fresh one for a nil
// receiver or a full set).
func (n *typeNames) intern(b []byte) string {
	if n == nil {
		return string(b)
	}
	if m := n.m.Load(); m != nil {
		if s, ok := (*m)[string(b)]; ok {
			return s
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var old map[string]string
	if p := n.m.Load(); p != nil {
		old = *p
	}
	if s, ok := old[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(old) >= maxInterned {
		return s
	}
	m := make(map[string]string, len(old)+1)
	maps.Copy(m, old)
	m[s] = s
	n.m.Store(&m)
	return s
}

// decode parses a stored event, its type interned in names (nil: not
// interned). Data is copied, so the result does not alias b.
func decode(b []byte, e *Event, names *typeNames) error {
	d := decoder{b: b}
	if d.byte() != envelopeVersion {
		return fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	e.Seq = d.uvarint()
	copy(e.ID[:], d.bytes(16))
	e.Time = time.Unix(0, d.varint()).UTC()
	e.ProcessID = d.varint()
	if t := d.bytes(int(d.uvarint())); d.err == nil {
		e.Type = names.intern(t)
	}
	e.Actor = string(d.bytes(int(d.uvarint())))
	e.Key = string(d.bytes(int(d.uvarint())))
	data := d.bytes(int(d.uvarint()))
	e.Data = append(json.RawMessage(nil), data...)
	copy(e.Hash[:], d.bytes(32))
	if d.err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = errors.New("short " + what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 { return decodeVarint(d, binary.Uvarint, "uvarint") }

func (d *decoder) varint() int64 { return decodeVarint(d, binary.Varint, "varint") }

// decodeVarint reads one number with read (binary.Uvarint or
// binary.Varint), failing as what when the bytes do not hold one.
func decodeVarint[T uint64 | int64](d *decoder, read func([]byte) (T, int), what string) T {
	v, n := read(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail("bytes")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// eventJSON is the JSON shape of an event (SPEC §6).
type eventJSON struct {
	Seq       uint64          `json:"seq"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Time      time.Time       `json:"time"`
	Actor     string          `json:"actor"`
	ProcessID int64           `json:"process_id"`
	Key       string          `json:"key,omitempty"`
	Data      json.RawMessage `json:"data"`
	Hash      string          `json:"hash"`
}

// MarshalJSON writes the event in the shape of SPEC §6. Data must be
// JSON: a compact payload is shown through its writer's Payloads first
// (WriteBackup does), else this fails.
func (e Event) MarshalJSON() ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return json.Marshal(eventJSON{
		Seq: e.Seq, ID: e.ID.String(), Type: e.Type, Time: e.Time.UTC(),
		Actor: e.Actor, ProcessID: e.ProcessID, Key: e.Key, Data: data,
		Hash: hex.EncodeToString(e.Hash[:]),
	})
}

// UnmarshalJSON reads the shape MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	id, err := uuid.Parse(j.ID)
	if err != nil {
		return fmt.Errorf("event id: %w", err)
	}
	h, err := hex.DecodeString(j.Hash)
	if err != nil || len(h) != 32 {
		return fmt.Errorf("event hash: bad hex")
	}
	*e = Event{Seq: j.Seq, ID: id, Type: j.Type, Time: j.Time, Actor: j.Actor,
		ProcessID: j.ProcessID, Key: j.Key, Data: j.Data}
	copy(e.Hash[:], h)
	return nil
}

// ChainHash returns the hash e must carry when prev is the previous event's
// hash (zero for the first event).
func (e *Event) ChainHash(prev [32]byte) [32]byte {
	return chainHash(prev, appendEnvelope(nil, e))
}
