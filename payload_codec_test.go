package statesrv_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/statesrv/statesrv"
)

var at0 = time.Date(2026, 11, 26, 8, 0, 0, 123456789, time.UTC)

// genString draws strings that are mostly what writers store, now and then
// a UUID (of any version, or a v7 of now), an upper-case UUID, an
// enumerated value, or bytes that are not UTF-8 (which the compact form
// leaves to JSON).
func genString(values ...string) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		switch rapid.IntRange(0, 9).Draw(t, "kind") {
		case 0:
			return ""
		case 1:
			id := uuid.UUID(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "uuid"))
			return id.String()
		case 2:
			return uuid.Must(uuid.NewV7()).String()
		case 3:
			id := uuid.UUID(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "hex"))
			if rapid.Bool().Draw(t, "dashes") {
				return strings.ToUpper(id.String())
			}
			return fmt.Sprintf("%X", id[:])
		case 4, 5:
			if len(values) > 0 {
				return rapid.SampledFrom(values).Draw(t, "value")
			}
		case 6:
			return string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes"))
		case 7:
			return netip.AddrPortFrom(netip.AddrFrom16([16]byte(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "ip"))).Unmap(),
				rapid.Uint16().Draw(t, "port")).String()
		}
		return rapid.String().Draw(t, "s")
	})
}

// genTime draws times near at0 in UTC, the zero time, far times, and now
// and then one in another zone or one that JSON cannot write.
func genTime() *rapid.Generator[time.Time] {
	return rapid.Custom(func(t *rapid.T) time.Time {
		switch rapid.IntRange(0, 9).Draw(t, "kind") {
		case 0:
			return time.Time{}
		case 1:
			return at0
		case 2:
			return time.Unix(0, rapid.Int64().Draw(t, "nanos")).UTC()
		case 3:
			return at0.Add(time.Duration(rapid.Int64().Draw(t, "d"))).In(time.FixedZone("", 60*rapid.IntRange(-900, 900).Draw(t, "offset")))
		case 4:
			return time.Date(rapid.IntRange(-2, 12000).Draw(t, "year"), 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return at0.Add(time.Duration(rapid.Int64Range(-int64(48*time.Hour), int64(48*time.Hour)).Draw(t, "d")))
	})
}

func genIntPtr(t *rapid.T, label string) *int {
	if !rapid.Bool().Draw(t, label+" set") {
		return nil
	}
	i := rapid.Int().Draw(t, label)
	return &i
}

// genPayload draws a payload of one of the types with a compact form.
func genPayload(t *rapid.T) (string, any) {
	str := genString()
	states := genString(statesrv.StateOK, statesrv.StateFail, statesrv.StateStart, "ok")
	switch rapid.IntRange(0, 5).Draw(t, "type") {
	case 0:
		// The line holds the msg, as a report's does, or not.
		msg, line := str.Draw(t, "msg"), str.Draw(t, "line")
		if rapid.Bool().Draw(t, "msg in line") {
			cut := rapid.IntRange(0, len(line)).Draw(t, "cut")
			line = line[:cut] + msg + line[cut:]
		}
		var extra map[string]string
		if rapid.Bool().Draw(t, "extra") {
			extra = rapid.MapOf(genString(), genString()).Draw(t, "extra map")
		}
		return statesrv.EventMessageReceived, &statesrv.MessageReceivedData{
			MessageID: str.Draw(t, "message_id"), Transport: genString("tcp", "http").Draw(t, "transport"),
			Remote: str.Draw(t, "remote"), Line: line, State: states.Draw(t, "state"),
			Name: str.Draw(t, "name"), Run: str.Draw(t, "run"), Msg: msg,
			Code: genIntPtr(t, "code"), MID: str.Draw(t, "mid"), KeyGiven: rapid.Bool().Draw(t, "key_given"),
			Extra: extra, NameMismatch: rapid.Bool().Draw(t, "name_mismatch"),
		}
	case 1:
		var sched *time.Time
		if rapid.Bool().Draw(t, "scheduled") {
			s := genTime().Draw(t, "scheduled_at")
			sched = &s
		}
		return statesrv.EventRunStarted, &statesrv.RunStartedData{
			RunID: str.Draw(t, "run_id"), Source: genString(statesrv.SourceSchedule, statesrv.SourceReport, statesrv.SourceManual).Draw(t, "source"),
			StartedAt: genTime().Draw(t, "started_at"), ScheduledAt: sched, Deadline: genTime().Draw(t, "deadline"),
			Missed: rapid.Bool().Draw(t, "missed"), Early: rapid.Bool().Draw(t, "early"),
			MessageID: str.Draw(t, "message_id"), Name: str.Draw(t, "name"),
		}
	case 2:
		return statesrv.EventRunFinished, &statesrv.RunFinishedData{
			RunID: str.Draw(t, "run_id"), State: states.Draw(t, "state"), MessageID: str.Draw(t, "message_id"),
			FinishedAt: genTime().Draw(t, "finished_at"), Message: str.Draw(t, "message"),
			Code: genIntPtr(t, "code"), Name: str.Draw(t, "name"), TooFast: rapid.Bool().Draw(t, "too_fast"),
		}
	case 3:
		return statesrv.EventRunAttached, &statesrv.RunAttachedData{
			RunID: str.Draw(t, "run_id"), MessageID: str.Draw(t, "message_id"), At: genTime().Draw(t, "at"),
		}
	case 4:
		return statesrv.EventMessageUnprocessed, &statesrv.MessageUnprocessedData{
			MessageID: str.Draw(t, "message_id"), Reason: genString(statesrv.ReasonLate, statesrv.ReasonNoOpenRun).Draw(t, "reason"),
			RunID: str.Draw(t, "run_id"),
		}
	}
	return statesrv.EventRunTimedOut, &statesrv.RunTimedOutData{
		RunID: str.Draw(t, "run_id"), Deadline: genTime().Draw(t, "deadline"),
	}
}

// TestPayloadRoundTrip: for any payload p, the JSON of its stored form is
// json.Marshal(p) byte for byte; a compact form decodes to a payload with
// that JSON, and is made again, the same bytes, from that JSON (a backup's
// restore).
func TestPayloadRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		typ, p := genPayload(t)
		want, werr := json.Marshal(p)
		stored, err := statesrv.EncodePayload(typ, at0, p)
		if werr != nil {
			if err == nil {
				t.Fatalf("json.Marshal fails (%v), EncodePayload does not", werr)
			}
			return
		}
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		got, err := statesrv.PayloadJSON(typ, at0, stored)
		if err != nil {
			t.Fatalf("PayloadJSON(%x): %v", stored, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("JSON of the stored form (%x):\n got %s\nwant %s", stored, got, want)
		}
		if !statesrv.IsCompactPayload(stored) {
			return // stored as JSON: want itself
		}
		v := statesrv.NewPayload(typ)
		if err := statesrv.DecodePayload(typ, at0, stored, v); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if again, _ := json.Marshal(v); !bytes.Equal(again, want) {
			t.Fatalf("decoded payload:\n got %s\nwant %s", again, want)
		}
		compact, err := statesrv.Payloads{}.Compact(typ, at0, want)
		if err != nil || !bytes.Equal(compact, stored) {
			t.Fatalf("stored form from its JSON = %x, %v; want %x", compact, err, stored)
		}
	})
}

// TestPayloadCompactForWriters: what the write side stores (UUIDs, UTC
// times, known states) takes the compact form, smaller than JSON.
func TestPayloadCompactForWriters(t *testing.T) {
	code := 3
	for _, tc := range []struct {
		typ string
		v   any
		max int
	}{
		{statesrv.EventMessageReceived, &statesrv.MessageReceivedData{MessageID: uuid.NewString(), Transport: "tcp",
			Remote: "127.0.0.1:35404", Line: "#id=1;state=OK;msg=load 7", State: "OK", Msg: "load 7", Code: &code}, 65},
		{statesrv.EventRunStarted, &statesrv.RunStartedData{RunID: uuid.NewString(), Source: statesrv.SourceReport,
			StartedAt: at0, Deadline: at0.Add(time.Hour), MessageID: uuid.NewString(), Name: "load"}, 50},
		{statesrv.EventRunFinished, &statesrv.RunFinishedData{RunID: uuid.NewString(), State: "OK",
			MessageID: uuid.NewString(), FinishedAt: at0, Message: "load 7", Name: "load"}, 50},
		{statesrv.EventRunFinished + " (UUID v7 ids)", &statesrv.RunFinishedData{RunID: v7(at0), State: "OK",
			MessageID: v7(at0), FinishedAt: at0, Message: "load 7", Name: "load"}, 40},
		{statesrv.EventRunTimedOut, statesrv.RunTimedOutData{RunID: uuid.NewString(), Deadline: at0}, 20},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			typ, _, _ := strings.Cut(tc.typ, " ")
			b, err := statesrv.EncodePayload(typ, at0, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if !statesrv.IsCompactPayload(b) || len(b) > tc.max {
				t.Fatalf("stored %d bytes (%x), want the compact form in at most %d", len(b), b, tc.max)
			}
		})
	}
}

// v7 returns a UUID v7 of the instant at, as the write side makes them.
func v7(at time.Time) string {
	u := uuid.Must(uuid.NewV7())
	ms := at.UnixMilli()
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return u.String()
}

// TestPayloadJSONStillReads: data stored as JSON (every event of a version
// 1 log) decodes and shows as it is.
func TestPayloadJSONStillReads(t *testing.T) {
	data := []byte(`{"run_id":"r1","state":"OK","message_id":"m","finished_at":"2026-11-26T00:40:24.5Z"}`)
	var d statesrv.RunFinishedData
	if err := statesrv.DecodePayload(statesrv.EventRunFinished, at0, data, &d); err != nil || d.RunID != "r1" {
		t.Fatalf("decode = %+v, %v", d, err)
	}
	if got, err := statesrv.PayloadJSON(statesrv.EventRunFinished, at0, data); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("PayloadJSON = %s, %v", got, err)
	}
	if _, err := statesrv.EncodePayload(statesrv.EventRunFinished, time.Time{}, &d); err == nil {
		t.Fatal("encode without the event's time succeeded")
	}
}

// FuzzDecodePayload feeds arbitrary compact payloads to the decoder of
// each type. It must not panic; what it accepts shows as JSON, and stored
// again shows as the same JSON.
func FuzzDecodePayload(f *testing.F) {
	types := []string{statesrv.EventMessageReceived, statesrv.EventRunStarted, statesrv.EventRunFinished,
		statesrv.EventRunAttached, statesrv.EventMessageUnprocessed, statesrv.EventRunTimedOut}
	code := 1
	for i, v := range []any{
		&statesrv.MessageReceivedData{MessageID: uuid.NewString(), Transport: "tcp", Line: "#id=1;state=OK", State: "OK", Code: &code, Extra: map[string]string{"a": "b"}},
		&statesrv.RunStartedData{RunID: uuid.NewString(), Source: "report", StartedAt: at0, ScheduledAt: &at0, Deadline: at0.Add(time.Hour)},
		&statesrv.RunFinishedData{RunID: "r", State: "FAIL", FinishedAt: at0, Code: &code},
		&statesrv.RunAttachedData{RunID: uuid.NewString(), At: at0},
		&statesrv.MessageUnprocessedData{MessageID: uuid.NewString(), Reason: "late"},
		&statesrv.RunTimedOutData{RunID: uuid.NewString()},
	} {
		b, err := statesrv.EncodePayload(types[i], at0, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b[1:])
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		typ := types[int(which)%len(types)]
		data := append([]byte{1}, body...)
		v := statesrv.NewPayload(typ)
		if err := statesrv.DecodePayload(typ, at0, data, v); err != nil {
			if !errors.Is(err, statesrv.ErrBadPayload) {
				t.Fatalf("decode %s %x = %v, not ErrBadPayload", typ, data, err)
			}
			return
		}
		shown, err := statesrv.PayloadJSON(typ, at0, data)
		if err != nil {
			t.Fatalf("decodes but does not show: %v", err)
		}
		again, err := statesrv.EncodePayload(typ, at0, v)
		if err != nil {
			t.Fatalf("decoded %s does not encode: %v", shown, err)
		}
		if shown2, err := statesrv.PayloadJSON(typ, at0, again); err != nil || !bytes.Equal(shown2, shown) {
			t.Fatalf("stored again (%x) shows %s, %v; want %s", again, shown2, err, shown)
		}
	})
}

// BenchmarkDecodePayload decodes a report's RunFinished and MessageReceived
// from JSON and from the compact form, as a fold of the log does.
func BenchmarkDecodePayload(b *testing.B) {
	code := 0
	payloads := []struct {
		typ string
		v   any
	}{
		{statesrv.EventMessageReceived, &statesrv.MessageReceivedData{MessageID: v7(at0), Transport: "tcp",
			Remote: "127.0.0.1:35404", Line: "#id=1;state=OK;msg=load 7", State: "OK", Msg: "load 7"}},
		{statesrv.EventRunFinished, &statesrv.RunFinishedData{RunID: v7(at0), State: "OK",
			MessageID: v7(at0), FinishedAt: at0, Message: "load 7", Code: &code}},
	}
	for _, form := range []string{"json", "compact"} {
		b.Run(form, func(b *testing.B) {
			var stored [][]byte
			for _, p := range payloads {
				data, err := statesrv.EncodePayload(p.typ, at0, p.v)
				if form == "json" {
					data, err = json.Marshal(p.v)
				}
				if err != nil {
					b.Fatal(err)
				}
				stored = append(stored, data)
			}
			b.ReportAllocs()
			for b.Loop() {
				var m statesrv.MessageReceivedData
				var f statesrv.RunFinishedData
				if statesrv.DecodePayload(payloads[0].typ, at0, stored[0], &m) != nil ||
					statesrv.DecodePayload(payloads[1].typ, at0, stored[1], &f) != nil {
					b.Fatal("decode failed")
				}
			}
		})
	}
}

// BenchmarkEncodePayload encodes a report's MessageReceived and
// RunFinished in the compact form, as ingest does for every report.
func BenchmarkEncodePayload(b *testing.B) {
	code := 0
	m := &statesrv.MessageReceivedData{MessageID: v7(at0), Transport: "tcp",
		Remote: "127.0.0.1:35404", Line: "#id=1;state=OK;msg=load 7", State: "OK", Msg: "load 7"}
	f := &statesrv.RunFinishedData{RunID: v7(at0), State: "OK",
		MessageID: v7(at0), FinishedAt: at0, Message: "load 7", Code: &code}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := statesrv.EncodePayload(statesrv.EventMessageReceived, at0, m); err != nil {
			b.Fatal(err)
		}
		if _, err := statesrv.EncodePayload(statesrv.EventRunFinished, at0, f); err != nil {
			b.Fatal(err)
		}
	}
}
