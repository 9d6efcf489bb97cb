package projections

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/statesrv/statesrv"
)

// A run id drawn as the server makes them (a UUID) or as older logs and
// tests hold them (any text).
func drawRunID(t *rapid.T, label string) string {
	if rapid.Bool().Draw(t, label+"_uuid") {
		var u uuid.UUID
		copy(u[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label+"_bytes"))
		return u.String()
	}
	return rapid.StringMatching(`[a-zA-Z0-9\-\x00]{0,40}`).Draw(t, label)
}

// runKey is one-to-one, read back by runID, and sorts as the ids do when
// both are UUIDs or both are not.
func TestRunKey(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := drawRunID(t, "a"), drawRunID(t, "b")
		ka, kb := runKey(a), runKey(b)
		if runID(ka) != a || runID(kb) != b {
			t.Fatalf("runID(runKey) = %q, %q; want %q, %q", runID(ka), runID(kb), a, b)
		}
		if (a == b) != bytes.Equal(ka, kb) {
			t.Fatalf("runKey(%q) = %x, runKey(%q) = %x", a, ka, b, kb)
		}
		if (len(ka) == 16) == (len(kb) == 16) {
			if want := cmpString(a, b); bytes.Compare(ka, kb) != want {
				t.Fatalf("keys of %q and %q compare %d, the ids %d", a, b, bytes.Compare(ka, kb), want)
			}
		}
	})
}

func drawTime(t *rapid.T, label string) time.Time {
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(rapid.Int64Range(-1e15, 1e15).Draw(t, label)))
}

// A finished run reads back from its history record, key and finish time
// as it was written.
func TestHistoryRecord(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fin := drawTime(t, "finished")
		r := statesrv.Run{
			ID: drawRunID(t, "id"), ProcessID: rapid.Int64().Draw(t, "pid"),
			Name:        rapid.String().Draw(t, "name"),
			State:       rapid.SampledFrom([]string{"OK", "FAIL", "TIMEOUT", "odd"}).Draw(t, "state"),
			Source:      rapid.SampledFrom([]string{"report", "schedule", "manual", "", "other"}).Draw(t, "source"),
			FinishedAt:  &fin,
			Message:     rapid.String().Draw(t, "message"),
			Missed:      rapid.Bool().Draw(t, "missed"),
			Early:       rapid.Bool().Draw(t, "early"),
			TooFast:     rapid.Bool().Draw(t, "too_fast"),
			StartMissed: rapid.Bool().Draw(t, "start_missed"),
		}
		if rapid.Bool().Draw(t, "has_start") {
			r.StartedAt = drawTime(t, "started")
		}
		if rapid.Bool().Draw(t, "has_deadline") {
			r.Deadline = drawTime(t, "deadline")
		}
		if rapid.Bool().Draw(t, "has_code") {
			c := rapid.IntRange(-1<<31, 1<<31).Draw(t, "code")
			r.Code = &c
		}
		if rapid.Bool().Draw(t, "has_scheduled") {
			s := drawTime(t, "scheduled")
			r.ScheduledAt = &s
		}
		if rapid.Bool().Draw(t, "has_reported") {
			s := drawTime(t, "reported")
			r.Reported = &s
		}
		start := rapid.Uint64().Draw(t, "start_seq")
		got, gotStart, err := decodeFinished(runKey(r.ID), fin.UnixNano(), encodeFinished(&r, start))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) || gotStart != start {
			t.Fatalf("read back\n %+v, %d\nwant\n %+v, %d", got, gotStart, r, start)
		}
	})
}

// A record of another version, or cut short, is an error.
func TestHistoryRecordMalformed(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	v := encodeFinished(&statesrv.Run{ID: "a", State: "OK", Name: "job", FinishedAt: &at, StartedAt: at}, 3)
	for name, b := range map[string][]byte{"Empty": nil, "OtherVersion": append([]byte{9}, v[1:]...), "Short": v[:len(v)-2]} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := decodeFinished([]byte("a"), at.UnixNano(), b); err == nil {
				t.Fatalf("decode %x: no error", b)
			}
		})
	}
}
