package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv"
)

// runKey is the form of a run id in keys: the 16 bytes of a UUID in its
// canonical text (what the server makes), else the id's own bytes, with a
// 0 byte appended when they are 16 or more so that no other id takes the
// form of a UUID. Both forms sort as the ids do among themselves.
func runKey(id string) []byte {
	if len(id) == 36 {
		if u, err := uuid.Parse(id); err == nil && u.String() == id {
			return u[:]
		}
	}
	if len(id) >= 16 {
		return append([]byte(id), 0)
	}
	return []byte(id)
}

// runID is the run id that runKey turned into k.
func runID(k []byte) string {
	switch {
	case len(k) == 16:
		return uuid.UUID(k).String()
	case len(k) > 16:
		return string(k[:len(k)-1])
	}
	return string(k)
}

// historyVersion is the first byte of a history record.
const historyVersion = 1

// The flags of a history record: which optional fields follow, and the
// run's marks.
const (
	flagMissed = 1 << iota
	flagEarly
	flagTooFast
	flagStartMissed
	flagCode
	flagScheduled
	flagReported
	flagStarted  // StartedAt is not zero
	flagDeadline // Deadline is not zero
)

// Words that most records hold, written as one byte (their index + 1);
// any other string is written as 0, its length and its bytes.
var recordWords = []string{statesrv.StateOK, statesrv.StateFail, statesrv.StateTimeout,
	statesrv.SourceReport, statesrv.SourceSchedule, statesrv.SourceManual}

// encodeFinished returns the history record of a finished run r opened by
// event startSeq (0: unknown). The run's id and finish time are in the
// record's key, so the record leaves them out:
//
//	version 1 | flags uvarint | process id varint | start seq uvarint |
//	state word | source word | [started: finish − start, ns varint] |
//	[deadline: deadline − start, ns varint] | name str | message str |
//	[code varint] | [scheduled: start − scheduled, ns varint] |
//	[reported: reported − start, ns varint]
//
// where str is a length (uvarint) and bytes, and a word is one byte as
// recordWords says or 0 and a str.
func encodeFinished(r *statesrv.Run, startSeq uint64) []byte {
	b := make([]byte, 0, 48+len(r.Name)+len(r.Message))
	return appendRun(append(b, historyVersion), r, startSeq, r.FinishedAt.UnixNano())
}

// appendRun appends the fields of r after the version, with its times as
// offsets from ref (ns).
func appendRun(b []byte, r *statesrv.Run, startSeq uint64, ref int64) []byte {
	var flags uint64
	set := func(cond bool, f uint64) {
		if cond {
			flags |= f
		}
	}
	set(r.Missed, flagMissed)
	set(r.Early, flagEarly)
	set(r.TooFast, flagTooFast)
	set(r.StartMissed, flagStartMissed)
	set(r.Code != nil, flagCode)
	set(r.ScheduledAt != nil, flagScheduled)
	set(r.Reported != nil, flagReported)
	set(!r.StartedAt.IsZero(), flagStarted)
	set(!r.Deadline.IsZero(), flagDeadline)
	start := ref
	if !r.StartedAt.IsZero() {
		start = r.StartedAt.UnixNano()
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendVarint(b, r.ProcessID)
	b = binary.AppendUvarint(b, startSeq)
	b = appendWord(b, r.State)
	b = appendWord(b, r.Source)
	if flags&flagStarted != 0 {
		b = binary.AppendVarint(b, ref-start)
	}
	if flags&flagDeadline != 0 {
		b = binary.AppendVarint(b, r.Deadline.UnixNano()-start)
	}
	b = appendStr(b, r.Name)
	b = appendStr(b, r.Message)
	if r.Code != nil {
		b = binary.AppendVarint(b, int64(*r.Code))
	}
	if r.ScheduledAt != nil {
		b = binary.AppendVarint(b, start-r.ScheduledAt.UnixNano())
	}
	if r.Reported != nil {
		b = binary.AppendVarint(b, r.Reported.UnixNano()-start)
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendWord(b []byte, s string) []byte {
	for i, w := range recordWords {
		if w == s {
			return append(b, byte(i+1))
		}
	}
	return appendStr(append(b, 0), s)
}

var errRecord = errors.New("malformed history record")

// recordReader reads the fields of a record in order; the first error
// sticks.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errRecord
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *recordReader) word() string {
	if r.err != nil {
		return ""
	}
	if len(r.b) == 0 {
		r.err = errRecord
		return ""
	}
	c := r.b[0]
	r.b = r.b[1:]
	switch {
	case c == 0:
		return r.str()
	case int(c) <= len(recordWords):
		return recordWords[c-1]
	}
	r.err = errRecord
	return ""
}

func nsUTC(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// decodeFinished returns the run that encodeFinished wrote as v under the
// key of run id key (runKey) finished at ns, and its start seq.
func decodeFinished(key []byte, ns int64, v []byte) (statesrv.Run, uint64, error) {
	if len(v) == 0 || v[0] != historyVersion {
		return statesrv.Run{}, 0, fmt.Errorf("%w: version %v", errRecord, v[:min(len(v), 1)])
	}
	rd := &recordReader{b: v[1:]}
	fin := nsUTC(ns)
	r, startSeq := rd.run(ns)
	r.ID, r.FinishedAt = runID(key), &fin
	if rd.err != nil {
		return statesrv.Run{}, 0, rd.err
	}
	return r, startSeq, nil
}

// run reads what appendRun wrote with ref, but the run's id.
func (rd *recordReader) run(ref int64) (r statesrv.Run, startSeq uint64) {
	flags := rd.uvarint()
	r.ProcessID = rd.varint()
	startSeq = rd.uvarint()
	r.State, r.Source = rd.word(), rd.word()
	start := ref
	if flags&flagStarted != 0 {
		start = ref - rd.varint()
		r.StartedAt = nsUTC(start)
	}
	if flags&flagDeadline != 0 {
		r.Deadline = nsUTC(start + rd.varint())
	}
	r.Name, r.Message = rd.str(), rd.str()
	if flags&flagCode != 0 {
		c := int(rd.varint())
		r.Code = &c
	}
	if flags&flagScheduled != 0 {
		t := nsUTC(start - rd.varint())
		r.ScheduledAt = &t
	}
	if flags&flagReported != 0 {
		t := nsUTC(start + rd.varint())
		r.Reported = &t
	}
	r.Missed = flags&flagMissed != 0
	r.Early = flags&flagEarly != 0
	r.TooFast = flags&flagTooFast != 0
	r.StartMissed = flags&flagStartMissed != 0
	return r, startSeq
}
