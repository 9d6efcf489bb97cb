package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// testdataEvents reads the version-1 log kept in testdata (JSON lines, as
// statesrv replay --json writes them): the seeds of the fuzz targets.
func testdataEvents(tb testing.TB) []Event {
	tb.Helper()
	f, err := os.Open("testdata/v1-events.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// FuzzDecode feeds arbitrary bytes to the decoder of a stored event. It
// must not panic; what it accepts must encode to a form that decodes to
// the same event (varints may be stored longer than needed, so the bytes
// themselves may differ).
func FuzzDecode(f *testing.F) {
	for _, e := range testdataEvents(f) {
		f.Add(encode(nil, &e))
	}
	f.Add([]byte{})
	f.Add([]byte{envelopeVersion})
	f.Add([]byte{2, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if err := decode(b, &e, nil); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode(%x) = %v, not ErrCorrupt", b, err)
			}
			return
		}
		again := encode(nil, &e)
		if len(again) > len(b) {
			t.Fatalf("decode(%x) ok, but it encodes longer: %x", b, again)
		}
		var e2 Event
		if err := decode(again, &e2, nil); err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", e, err)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("decode(%x) = %+v\nre-encoded and decoded: %+v", b, e, e2)
		}
	})
}

// FuzzGroup feeds arbitrary bytes to the decoder of a group entry and of
// its members. It must not panic, and the members it finds, framed again,
// must be found again.
func FuzzGroup(f *testing.F) {
	evs := testdataEvents(f)
	var group []byte
	for i := range evs {
		group = appendGroupMember(group, encode(nil, &evs[i]))
		if i == 2 || i == len(evs)-1 {
			f.Add(group)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{5, 1, 2})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var members [][]byte
		err := forMembers(b, func(raw []byte) error {
			members = append(members, raw)
			var e Event
			decode(raw, &e, nil) // must not panic; may fail
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("forMembers(%x) = %v, not ErrCorrupt", b, err)
			}
			return
		}
		var framed []byte
		for _, m := range members {
			framed = appendGroupMember(framed, m)
		}
		var again [][]byte
		if err := forMembers(framed, func(raw []byte) error { again = append(again, raw); return nil }); err != nil {
			t.Fatalf("members of %x, framed again, fail: %v", b, err)
		}
		if len(again) != len(members) {
			t.Fatalf("group %x: %d members, framed again %d", b, len(members), len(again))
		}
		for i := range members {
			if !bytes.Equal(again[i], members[i]) {
				t.Fatalf("group %x: member %d differs when framed again", b, i)
			}
		}
	})
}

// FuzzEventRoundTrip builds events from fuzzed fields and checks that they
// come back unchanged, hash included, through the stored form, through a
// group entry of two events, and (for what writers store: valid UTF-8 and
// JSON data as encoding/json writes it) through the JSON shape of a backup.
func FuzzEventRoundTrip(f *testing.F) {
	for i, e := range testdataEvents(f) {
		prev := [32]byte{}
		if i > 0 {
			prev[0] = byte(i)
		}
		f.Add(e.Seq, e.ID[:], e.Time.UnixNano(), e.ProcessID, e.Type, e.Actor, e.Key, []byte(e.Data), prev[:])
	}
	f.Add(uint64(0), []byte{}, int64(-1), int64(-1<<63), "", "", "", []byte{}, []byte{})
	f.Add(uint64(1<<64-1), bytes.Repeat([]byte{0xff}, 16), int64(1<<63-1), int64(1<<63-1),
		"T\xff", "a\x00b", "mid/1/\u2028<&>", []byte(`{"a": [1, 2]}`), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, seq uint64, id []byte, nanos, pid int64, typ, actor, key string, data, prevHash []byte) {
		e := Event{Seq: seq, Type: typ, Time: time.Unix(0, nanos).UTC(), Actor: actor, ProcessID: pid, Key: key}
		copy(e.ID[:], id)
		if len(data) > 0 {
			e.Data = data
		}
		var prev [32]byte
		copy(prev[:], prevHash)
		e.Hash = e.ChainHash(prev)

		stored := encode(nil, &e)
		var got Event
		if err := decode(stored, &got, nil); err != nil {
			t.Fatalf("decode(encode(%+v)) = %v", e, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("stored round trip:\n got %+v\nwant %+v", got, e)
		}
		if got.ChainHash(prev) != e.Hash {
			t.Fatal("the decoded event does not chain to the same hash")
		}

		next := e
		next.Seq, next.Type, next.Actor = e.Seq+1, e.Actor, e.Type
		next.Hash = next.ChainHash(e.Hash)
		group := appendGroupMember(appendGroupMember(nil, stored), encode(nil, &next))
		var members []Event
		err := forMembers(group, func(raw []byte) error {
			var m Event
			if err := decode(raw, &m, nil); err != nil {
				return err
			}
			members = append(members, m)
			return nil
		})
		if err != nil || len(members) != 2 || !reflect.DeepEqual(members[0], e) || !reflect.DeepEqual(members[1], next) {
			t.Fatalf("group round trip: %v\n got %+v\nwant %+v, %+v", err, members, e, next)
		}

		if !writerShaped(&e) {
			return
		}
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal %+v: %v", e, err)
		}
		var back Event
		if err := json.Unmarshal(line, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", line, err)
		}
		if !bytes.Equal(appendEnvelope(nil, &back), appendEnvelope(nil, &e)) || back.Hash != e.Hash {
			t.Fatalf("JSON round trip changes the envelope:\n got %+v\nwant %+v\nline %s", back, e, line)
		}
	})
}

// writerShaped reports whether e is an event the product's writers make:
// strings in valid UTF-8 and data as encoding/json writes it (compact,
// HTML-escaped). Only such events are promised to survive a backup.
func writerShaped(e *Event) bool {
	for _, s := range []string{e.Type, e.Actor, e.Key} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	if len(e.Data) == 0 || !json.Valid(e.Data) {
		return false
	}
	canon, err := json.Marshal(e.Data)
	return err == nil && bytes.Equal(canon, e.Data)
}

// forMembers calls fn for each member of a group, as the log's readers go
// through members, and returns the framing error or fn's.
func forMembers(group []byte, fn func(raw []byte) error) error {
	for raw, err := range members(group) {
		if err != nil {
			return err
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	return nil
}

// fuzzNames are the type codes the version 2 fuzz targets decode with.
var fuzzNames = map[uint64]string{1: "RunStarted", 300: "MessageReceived"}

// readGroupV2 decodes every member of a version 2 group entry; the last
// one carries the stored hash.
func readGroupV2(b []byte) ([]Event, error) {
	r, err := openGroup(b, fuzzNames, nil)
	if err != nil {
		return nil, err
	}
	var evs []Event
	for r.more() {
		var e Event
		if err := r.next(&e); err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	evs[len(evs)-1].Hash = r.hash
	return evs, nil
}

// FuzzGroupV2 feeds arbitrary bytes to the decoder of a version 2 group
// entry. It must not panic; what it accepts, written again, must decode to
// the same events.
func FuzzGroupV2(f *testing.F) {
	codes := map[string]uint64{}
	for c, n := range fuzzNames {
		codes[n] = c
	}
	evs := testdataEvents(f)
	w := groupWriter{version: groupV2, codes: codes}
	for i := range evs {
		w.add(&evs[i])
		if i == 0 || i == 5 || i == len(evs)-1 {
			f.Add(w.take())
		}
	}
	f.Add([]byte{groupV2})
	f.Add(append([]byte{groupV2, 1, 0xff}, make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := readGroupV2(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("readGroupV2(%x) = %v, not ErrCorrupt", b, err)
			}
			return
		}
		w := groupWriter{version: groupV2, codes: codes}
		for i := range evs {
			w.add(&evs[i])
		}
		again, err := readGroupV2(w.take())
		if err != nil {
			t.Fatalf("group %x, written again, fails: %v", b, err)
		}
		if !reflect.DeepEqual(again, evs) {
			t.Fatalf("group %x, written again:\n got %+v\nwant %+v", b, again, evs)
		}
	})
}
