package eventlog

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// A backup is the log as JSON lines: a header, one event a line in the
// shape of SPEC §6 (with its key and hash), and a trailer that names the
// count and the last hash, so that a truncated copy is refused.
//
//	{"statesrv_backup":1,"created":"2026-11-26T08:00:00Z"}
//	{"seq":1,"id":"…","type":"ProcessDefined",…,"hash":"…"}
//	…
//	{"statesrv_backup_end":true,"events":1234,"last_seq":1234,"head":"<hex>"}
type backupHeader struct {
	Version int       `json:"statesrv_backup"`
	Created time.Time `json:"created"`
}

type backupTrailer struct {
	End     bool   `json:"statesrv_backup_end"`
	Events  uint64 `json:"events"`
	LastSeq uint64 `json:"last_seq"`
	Head    string `json:"head"`
}

// ErrBadBackup is returned (wrapped) for a backup that is not complete or
// not a backup.
var ErrBadBackup = errors.New("eventlog: not a complete backup")

// WriteBackup writes every event of l to w as a backup. The events are
// those of one consistent read of the log; appends that commit meanwhile
// are in the next backup. Data stored in a compact form is written as JSON
// (a log with Options.Payloads). It returns the number of events written.
func WriteBackup(ctx context.Context, l Log, w io.Writer, now time.Time) (uint64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(backupHeader{Version: 1, Created: now.UTC()}); err != nil {
		return 0, err
	}
	var n, last uint64
	var head [32]byte
	payloads := payloadsOf(l)
	for e, err := range l.Range(ctx, 1, 0) {
		if err == nil && payloads != nil {
			e.Data, err = payloads.JSON(e.Type, e.Time, e.Data)
		}
		if err == nil {
			err = enc.Encode(e)
		}
		if err != nil {
			return n, fmt.Errorf("eventlog: backup: %w", err)
		}
		n, last, head = n+1, e.Seq, e.Hash
	}
	if err := enc.Encode(backupTrailer{End: true, Events: n, LastSeq: last, Head: hex.EncodeToString(head[:])}); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// ReadBackup reads a backup from r and calls fn for each event in order.
// It returns the number of events, or an error wrapping ErrBadBackup when
// the header or the trailer is missing or does not match the events.
func ReadBackup(r io.Reader, fn func(*Event) error) (uint64, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	var h backupHeader
	if err := dec.Decode(&h); err != nil || h.Version != 1 {
		return 0, fmt.Errorf("%w: no backup header", ErrBadBackup)
	}
	var n uint64
	var last Event
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return n, fmt.Errorf("%w: it ends after %d events without its trailer (truncated?)", ErrBadBackup, n)
			}
			return n, fmt.Errorf("%w: %v", ErrBadBackup, err)
		}
		var t backupTrailer
		if json.Unmarshal(raw, &t) == nil && t.End {
			if t.Events != n || t.LastSeq != last.Seq || t.Head != hex.EncodeToString(last.Hash[:]) {
				return n, fmt.Errorf("%w: the trailer names %d events up to %d, the file holds %d up to %d",
					ErrBadBackup, t.Events, t.LastSeq, n, last.Seq)
			}
			return n, nil
		}
		var e Event
		if err := json.Unmarshal(raw, &e); err != nil {
			return n, fmt.Errorf("%w: event after seq %d: %v", ErrBadBackup, last.Seq, err)
		}
		if err := fn(&e); err != nil {
			return n, err
		}
		n, last = n+1, e
	}
}

// payloadsOf returns the Payloads of l, or nil when it has none.
func payloadsOf(l Log) Payloads {
	if b, ok := l.(*Badger); ok {
		return b.opt.Payloads
	}
	return nil
}
