package statesrv

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The payloads of the most frequent events (a report's three) are stored
// in a compact binary form instead of JSON: ids as 16 bytes, times as
// nanoseconds from the event's time, enumerations as one byte. It begins
// with payloadCompact, a byte no JSON text begins with, so that every
// reader tells the two apart and the JSON of older events stays readable.
// What the form cannot hold exactly (a time outside UTC, a string that is
// not UTF-8) is stored as JSON, so that the JSON shown for an event is
// always what encoding/json writes for its payload.
//
// Layout, after the leading byte, field by field in the order of
// payloadCodecs below:
//
//	flags   one byte: the booleans and which optional fields follow
//	id      a UUID in its canonical text form: uvarint 0 then 16 bytes;
//	        a UUID v7 of that form: uvarint 1, zigzag varint of its
//	        milliseconds after the event's time's, then its last 10
//	        bytes; any other string: uvarint n+2 then its n bytes
//	enum    uvarint i+1 for the i-th of the field's known values, or 0
//	        then a string; values are only ever appended to a list
//	string  uvarint length, then UTF-8 bytes
//	addr    an "ip:port" in netip's form: byte 4 or 16, the address,
//	        2 bytes of port (big-endian); else byte 0 then a string
//	time    uvarint: 0 the zero time; zigzag(d) << 1 | 1 for d ns after
//	        the event's time; zigzag(d) << 2 | 2 for d whole seconds
//	        (d not 0); in UTC
//	int     zigzag varint
//	map     uvarint count, then key and value strings in key order
//
// A report's line holds its msg: with its flag, the line is stored
// without the first occurrence of the msg, preceded by the uvarint
// offset where the msg goes back in.
const payloadCompact = 0x01

// ErrBadPayload is returned (wrapped) for a compact payload that cannot be
// decoded.
var ErrBadPayload = errors.New("statesrv: bad payload")

// Known values of the enumerated fields. Append only: a stored payload
// holds the position.
var (
	enumSources    = []string{SourceSchedule, SourceReport, SourceManual}
	enumStates     = []string{StateOK, StateFail, StateStart, StateTimeout, StateRunning}
	enumTransports = []string{"tcp", "http"}
	enumReasons    = []string{ReasonUnknownProcess, ReasonNoOpenRun, ReasonLate, ReasonMalformed, ReasonBadKey}
)

// payloadCodec writes and reads the compact form of one payload type.
type payloadCodec struct {
	encode func(w *pwriter, v any) bool // false: v is not of the type
	decode func(r *preader, v any) bool
}

// codecOf makes a payloadCodec of the functions of one type T; they take
// *T (encode also T).
func codecOf[T any](enc func(*pwriter, *T), dec func(*preader, *T)) payloadCodec {
	return payloadCodec{
		encode: func(w *pwriter, v any) bool {
			switch p := v.(type) {
			case *T:
				enc(w, p)
			case T:
				enc(w, &p)
			default:
				return false
			}
			return true
		},
		decode: func(r *preader, v any) bool {
			p, ok := v.(*T)
			if ok {
				dec(r, p)
			}
			return ok
		},
	}
}

// payloadCodecs are the types with a compact form.
var payloadCodecs = map[string]payloadCodec{
	EventMessageReceived: codecOf(
		func(w *pwriter, d *MessageReceivedData) {
			at := -1
			if d.Msg != "" {
				at = strings.Index(d.Line, d.Msg)
			}
			if !utf8.ValidString(d.Line) {
				w.ok = false // its parts may be UTF-8, the whole is not
			}
			w.flags(d.Code != nil, d.KeyGiven, d.NameMismatch, at >= 0)
			w.id(d.MessageID)
			w.enum(d.Transport, enumTransports)
			w.addr(d.Remote)
			w.enum(d.State, enumStates)
			w.str(d.Name)
			w.str(d.Run)
			w.str(d.Msg)
			if at >= 0 {
				w.b = binary.AppendUvarint(w.b, uint64(at))
				w.str(d.Line[:at] + d.Line[at+len(d.Msg):])
			} else {
				w.str(d.Line)
			}
			w.intPtr(d.Code)
			w.str(d.MID)
			w.strMap(d.Extra)
		},
		func(r *preader, d *MessageReceivedData) {
			f := r.flags(4)
			d.KeyGiven, d.NameMismatch = f.has(1), f.has(2)
			d.MessageID = r.id()
			d.Transport = r.enum(enumTransports)
			d.Remote = r.addr()
			d.State = r.enum(enumStates)
			d.Name = r.str()
			d.Run = r.str()
			d.Msg = r.str()
			if f.has(3) {
				at := r.uvarint()
				rest := r.str()
				if at > uint64(len(rest)) || d.Msg == "" {
					r.fail("bad line")
					return
				}
				d.Line = rest[:at] + d.Msg + rest[at:]
			} else {
				d.Line = r.str()
			}
			d.Code = r.intPtr(f.has(0))
			d.MID = r.str()
			d.Extra = r.strMap()
		}),
	EventRunStarted: codecOf(
		func(w *pwriter, d *RunStartedData) {
			w.flags(d.ScheduledAt != nil, d.Missed, d.Early)
			w.id(d.RunID)
			w.enum(d.Source, enumSources)
			w.time(d.StartedAt)
			if d.ScheduledAt != nil {
				w.time(*d.ScheduledAt)
			}
			w.time(d.Deadline)
			w.id(d.MessageID)
			w.str(d.Name)
		},
		func(r *preader, d *RunStartedData) {
			f := r.flags(3)
			d.Missed, d.Early = f.has(1), f.has(2)
			d.RunID = r.id()
			d.Source = r.enum(enumSources)
			d.StartedAt = r.time()
			d.ScheduledAt = nil
			if f.has(0) {
				t := r.time()
				d.ScheduledAt = &t
			}
			d.Deadline = r.time()
			d.MessageID = r.id()
			d.Name = r.str()
		}),
	EventRunFinished: codecOf(
		func(w *pwriter, d *RunFinishedData) {
			w.flags(d.Code != nil, d.TooFast)
			w.id(d.RunID)
			w.enum(d.State, enumStates)
			w.id(d.MessageID)
			w.time(d.FinishedAt)
			w.str(d.Message)
			w.intPtr(d.Code)
			w.str(d.Name)
		},
		func(r *preader, d *RunFinishedData) {
			f := r.flags(2)
			d.TooFast = f.has(1)
			d.RunID = r.id()
			d.State = r.enum(enumStates)
			d.MessageID = r.id()
			d.FinishedAt = r.time()
			d.Message = r.str()
			d.Code = r.intPtr(f.has(0))
			d.Name = r.str()
		}),
	EventRunAttached: codecOf(
		func(w *pwriter, d *RunAttachedData) {
			w.id(d.RunID)
			w.id(d.MessageID)
			w.time(d.At)
		},
		func(r *preader, d *RunAttachedData) {
			d.RunID = r.id()
			d.MessageID = r.id()
			d.At = r.time()
		}),
	EventMessageUnprocessed: codecOf(
		func(w *pwriter, d *MessageUnprocessedData) {
			w.id(d.MessageID)
			w.enum(d.Reason, enumReasons)
			w.id(d.RunID)
		},
		func(r *preader, d *MessageUnprocessedData) {
			d.MessageID = r.id()
			d.Reason = r.enum(enumReasons)
			d.RunID = r.id()
		}),
	EventRunTimedOut: codecOf(
		func(w *pwriter, d *RunTimedOutData) {
			w.id(d.RunID)
			w.time(d.Deadline)
		},
		func(r *preader, d *RunTimedOutData) {
			d.RunID = r.id()
			d.Deadline = r.time()
		}),
}

// EncodePayload returns the data to store for the payload v of an event
// of type typ at time at (the event's time, which the compact form's times
// are relative to): the compact form for the types that have one, JSON
// otherwise or when v holds what the compact form cannot. It returns
// json.Marshal's errors, and an error for a zero at.
func EncodePayload(typ string, at time.Time, v any) ([]byte, error) {
	c, ok := payloadCodecs[typ]
	if !ok {
		return json.Marshal(v)
	}
	if at.IsZero() {
		return nil, fmt.Errorf("statesrv: encode %s: no event time", typ)
	}
	// Room for a report's payloads, so that the buffer does not grow.
	w := pwriter{b: append(make([]byte, 0, 128), payloadCompact), at: at.Round(0), ok: true}
	if !c.encode(&w, v) || !w.ok {
		return json.Marshal(v)
	}
	return w.b, nil
}

// IsCompactPayload reports whether data is in the compact form (else it is
// JSON).
func IsCompactPayload(data []byte) bool { return len(data) > 0 && data[0] == payloadCompact }

// DecodePayload decodes data, the stored payload of an event of type typ
// at time at, into v, a pointer to the type's payload struct (any pointer
// json.Unmarshal takes, for JSON data). It returns json.Unmarshal's errors,
// and one wrapping ErrBadPayload for compact data that is damaged or not
// of v's type.
func DecodePayload(typ string, at time.Time, data []byte, v any) error {
	if !IsCompactPayload(data) {
		return json.Unmarshal(data, v)
	}
	c, ok := payloadCodecs[typ]
	if !ok {
		return fmt.Errorf("%w: %s has no compact form", ErrBadPayload, typ)
	}
	r := preader{b: data[1:], at: at}
	if !c.decode(&r, v) {
		return fmt.Errorf("%w: %s does not decode into %T", ErrBadPayload, typ, v)
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadPayload, typ, r.err)
	}
	return nil
}

// PayloadJSON returns the stored payload data of an event of type typ at
// time at as JSON: data itself when it is JSON, else what json.Marshal
// writes for the decoded payload (byte for byte what the event would have
// held as JSON). Errors are DecodePayload's.
func PayloadJSON(typ string, at time.Time, data []byte) ([]byte, error) {
	if !IsCompactPayload(data) {
		return data, nil
	}
	v := NewPayload(typ)
	if v == nil {
		return nil, fmt.Errorf("%w: unknown type %s", ErrBadPayload, typ)
	}
	if err := DecodePayload(typ, at, data, v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// Payloads converts stored payloads to JSON and back for the log's backups
// (eventlog.Options.Payloads).
type Payloads struct{}

// JSON is PayloadJSON.
func (Payloads) JSON(typ string, at time.Time, data []byte) ([]byte, error) {
	return PayloadJSON(typ, at, data)
}

// Compact returns the form EncodePayload stores the JSON data of an event
// of type typ at time at in: compact for the types that have one, data
// itself otherwise. It returns json.Unmarshal's errors.
func (Payloads) Compact(typ string, at time.Time, data []byte) ([]byte, error) {
	v := NewPayload(typ)
	if _, ok := payloadCodecs[typ]; !ok || v == nil || IsCompactPayload(data) {
		return data, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, err
	}
	return EncodePayload(typ, at, v)
}

// pwriter builds a compact payload; ok turns false at the first value the
// form cannot hold exactly.
type pwriter struct {
	b  []byte
	at time.Time
	ok bool
}

func (w *pwriter) flags(bits ...bool) {
	var f byte
	for i, b := range bits {
		if b {
			f |= 1 << i
		}
	}
	w.b = append(w.b, f)
}

func (w *pwriter) str(s string) {
	if !utf8.ValidString(s) {
		w.ok = false // encoding/json would replace the bad bytes
	}
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *pwriter) id(s string) {
	if len(s) == 36 {
		// Parsed at this length, s is in canonical form unless it has
		// upper-case digits (checked so, not by u.String(): no allocation).
		if u, err := uuid.Parse(s); err == nil && !strings.ContainsAny(s, "ABCDEF") {
			if u.Version() == 7 && u.Variant() == uuid.RFC4122 {
				w.b = binary.AppendUvarint(w.b, 1)
				w.b = binary.AppendVarint(w.b, v7Millis(u)-w.at.UnixMilli())
				w.b = append(w.b, u[6:]...)
				return
			}
			w.b = append(binary.AppendUvarint(w.b, 0), u[:]...)
			return
		}
	}
	w.b = binary.AppendUvarint(w.b, uint64(len(s))+2)
	w.b = append(w.b, s...)
	if !utf8.ValidString(s) {
		w.ok = false
	}
}

func (w *pwriter) enum(s string, values []string) {
	if i := slices.Index(values, s); i >= 0 {
		w.b = binary.AppendUvarint(w.b, uint64(i)+1)
		return
	}
	w.b = binary.AppendUvarint(w.b, 0)
	w.str(s)
}

// maxDelta bounds a time's distance from the event's, so that its zigzag
// form shifted by one fits a uvarint.
const maxDelta = 1 << 61

func (w *pwriter) time(t time.Time) {
	if _, off := t.Zone(); off != 0 || t.Year() < 0 || t.Year() > 9999 {
		w.ok = false // kept as JSON: its offset, or encoding/json's error
		return
	}
	if t.IsZero() {
		w.b = binary.AppendUvarint(w.b, 0)
		return
	}
	t = t.Round(0) // without a monotonic reading: wall clock only
	d := t.Sub(w.at)
	if d >= maxDelta || d <= -maxDelta || !w.at.Add(d).Equal(t) {
		w.ok = false
		return
	}
	if d != 0 && d%time.Second == 0 {
		s := d / time.Second
		w.b = binary.AppendUvarint(w.b, (uint64(s<<1)^uint64(s>>63))<<2|2)
		return
	}
	z := uint64(d<<1) ^ uint64(d>>63)
	w.b = binary.AppendUvarint(w.b, z<<1|1)
}

func (w *pwriter) intPtr(p *int) {
	if p != nil {
		w.b = binary.AppendVarint(w.b, int64(*p))
	}
}

func (w *pwriter) strMap(m map[string]string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(m)))
	if len(m) == 0 {
		return // sorting no keys still allocates
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		w.str(k)
		w.str(m[k])
	}
}

// preader reads a compact payload; err is set at the first damage and
// every later read returns a zero value.
type preader struct {
	b   []byte
	at  time.Time
	err error
}

func (r *preader) fail(what string) {
	if r.err == nil {
		r.err = errors.New(what)
	}
	r.b = nil
}

func (r *preader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("short uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *preader) bytes(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.fail("short string")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// flagBits is a payload's flags byte.
type flagBits byte

func (f flagBits) has(i int) bool { return f&(1<<i) != 0 }

// flags reads a flags byte of n bits.
func (r *preader) flags(n int) flagBits {
	if len(r.b) < 1 {
		r.fail("short flags")
		return 0
	}
	f := r.b[0]
	r.b = r.b[1:]
	if f>>n != 0 {
		r.fail("unknown flags")
		return 0
	}
	return flagBits(f)
}

func (r *preader) str() string { return string(r.bytes(r.uvarint())) }

func (r *preader) id() string {
	var u uuid.UUID
	switch n := r.uvarint(); {
	case r.err != nil:
		return ""
	case n == 0:
		copy(u[:], r.bytes(16))
	case n == 1:
		ms := r.at.UnixMilli()
		if d, k := binary.Varint(r.b); k > 0 {
			ms += d
			r.b = r.b[k:]
		} else {
			r.fail("short id")
		}
		for i := range 6 {
			u[i] = byte(ms >> (40 - 8*i))
		}
		copy(u[6:], r.bytes(10))
	default:
		return string(r.bytes(n - 2))
	}
	if r.err != nil {
		return ""
	}
	return u.String()
}

// v7Millis returns the Unix milliseconds a UUID v7 begins with.
func v7Millis(u uuid.UUID) int64 {
	var ms int64
	for _, b := range u[:6] {
		ms = ms<<8 | int64(b)
	}
	return ms
}

func (w *pwriter) addr(s string) {
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.String() == s && ap.Addr().Zone() == "" {
		a := ap.Addr().AsSlice()
		w.b = append(w.b, byte(len(a)))
		w.b = append(w.b, a...)
		w.b = binary.BigEndian.AppendUint16(w.b, ap.Port())
		return
	}
	w.b = append(w.b, 0)
	w.str(s)
}

func (r *preader) addr() string {
	n := r.bytes(1)
	switch {
	case r.err != nil:
		return ""
	case n[0] == 0:
		return r.str()
	case n[0] != 4 && n[0] != 16:
		r.fail("bad address")
		return ""
	}
	a, _ := netip.AddrFromSlice(r.bytes(uint64(n[0])))
	p := r.bytes(2)
	if r.err != nil {
		return ""
	}
	return netip.AddrPortFrom(a, binary.BigEndian.Uint16(p)).String()
}

func (r *preader) enum(values []string) string {
	i := r.uvarint()
	switch {
	case i == 0:
		return r.str()
	case i <= uint64(len(values)):
		return values[i-1]
	}
	r.fail("unknown value")
	return ""
}

func (r *preader) time() time.Time {
	v := r.uvarint()
	if v == 0 {
		return time.Time{}
	}
	unit, z := time.Duration(1), v>>1
	switch {
	case v&3 == 2:
		unit, z = time.Second, v>>2
	case v&1 == 0:
		r.fail("bad time")
		return time.Time{}
	}
	d := time.Duration(int64(z>>1) ^ -int64(z&1))
	if unit == time.Second && (d == 0 || d >= maxDelta/time.Second || d <= -maxDelta/time.Second) {
		r.fail("bad time")
		return time.Time{}
	}
	return r.at.Add(d * unit).UTC()
}

func (r *preader) intPtr(present bool) *int {
	if !present {
		return nil
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("short varint")
		return nil
	}
	r.b = r.b[n:]
	i := int(v)
	return &i
}

func (r *preader) strMap() map[string]string {
	n := r.uvarint()
	if n == 0 {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("short map")
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	return m
}
