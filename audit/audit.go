// Package audit is the auditor's side of the command line: it prints the
// event log (Replay, from a stopped server's log or through a running
// server's API) and the state at a moment (PrintState), reports on the hash
// chain (Verify) and checks a backup while it is downloaded (CopyBackup).
// It reads the log and the API; it decides nothing and writes no log.
package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// Printer writes events for people (aligned columns under a header) or as
// JSON lines, the log's own shape of an event.
type Printer struct {
	json bool
	enc  *json.Encoder
	tw   *tabwriter.Writer
}

// NewPrinter returns a Printer that writes to w, as JSON lines with asJSON.
func NewPrinter(w io.Writer, asJSON bool) *Printer {
	p := &Printer{json: asJSON}
	if asJSON {
		p.enc = json.NewEncoder(w)
	} else {
		p.tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(p.tw, "SEQ\tTIME\tTYPE\tACTOR\tPROCESS\tDATA")
	}
	return p
}

// Print writes one event, its data redacted (statesrv.RedactEvent: no
// key, key hash or password hash is printed; the hash shown is the stored
// event's, so a redacted line does not chain: a backup is the log whole).
// Columns are written out by Flush.
func (p *Printer) Print(e *eventlog.Event) error {
	shown := *e
	shown.Data = statesrv.RedactEvent(e.Type, e.Time, e.Data)
	e = &shown
	if p.json {
		return p.enc.Encode(e)
	}
	pid := "-"
	if e.ProcessID != 0 {
		pid = strconv.FormatInt(e.ProcessID, 10)
	}
	_, err := fmt.Fprintf(p.tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339Nano),
		e.Type, e.Actor, pid, e.Data)
	return err
}

// Flush writes out what Print holds back to align the columns.
func (p *Printer) Flush() error {
	if p.tw != nil {
		return p.tw.Flush()
	}
	return nil
}
