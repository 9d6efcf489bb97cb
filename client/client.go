// Package client is the TCP report client used by `statesrv report`,
// `statesrv exec` and `statesrv load`.
//
// It speaks the line protocol of the report port (SPEC §3): a job's report is
// one line, "#id=25;state=OK;name=JajaBackupData", and the server answers
// every line, in order, with "ACK <seq>" once the report is stored durably or
// "ERR <reason>" when it was refused. Send delivers one report and waits for
// its answer; SendRetry does the same and retries, with back-off and under
// one mid, while the server cannot be reached; Load pipelines many reports
// over many connections to measure how fast the server acknowledges them.
package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxMsg is the number of characters of a report's msg that the server keeps;
// Line cuts longer messages so that nothing is sent only to be dropped.
const MaxMsg = 1000

// maxReply bounds a reply line. Replies are "ACK <seq>" or a short
// "ERR <reason>"; anything longer is not the report protocol.
const maxReply = 1024

// ErrNoReply means the server closed the connection without answering.
var ErrNoReply = errors.New("connection closed without reply")

// Report is what a job says about itself.
type Report struct {
	ID    int64  // the process (job definition) id
	State string // OK, FAIL, START
	Name  string // the task's name, as the task knows itself
	Run   string // the run to report on, where several are open
	Msg   string // free text
	Key   string // the process's shared secret, if it has one
	MID   string // client message id: a retry with the same MID is stored once
	Code  *int   // the job's exit code; nil leaves it out
}

// Line renders r as a protocol line without the line end:
// "#id=25;state=OK;name=...". The required id and state are always written;
// the other keys only when set, in the order name, run, msg, code, key, mid.
//
// Every value goes through CleanValue, and Msg is cut to MaxMsg
// characters.
func (r Report) Line() string {
	var b strings.Builder
	b.Grow(32 + len(r.State) + len(r.Name) + len(r.Run) + min(len(r.Msg), 4*MaxMsg) + len(r.Key) + len(r.MID))
	b.WriteString("#id=")
	b.WriteString(strconv.FormatInt(r.ID, 10))
	writeField(&b, "state", r.State)
	if r.Name != "" {
		writeField(&b, "name", r.Name)
	}
	if r.Run != "" {
		writeField(&b, "run", r.Run)
	}
	if r.Msg != "" {
		writeField(&b, "msg", cutRunes(r.Msg, MaxMsg))
	}
	if r.Code != nil {
		writeField(&b, "code", strconv.Itoa(*r.Code))
	}
	if r.Key != "" {
		writeField(&b, "key", r.Key)
	}
	if r.MID != "" {
		writeField(&b, "mid", r.MID)
	}
	return b.String()
}

func writeField(b *strings.Builder, key, value string) {
	b.WriteByte(';')
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(CleanValue(value))
}

// CleanValue makes s safe to send as one protocol value, the same way for
// every value and every command (report, exec): a value cannot carry ';'
// or a line break on the wire, so ';' becomes ',' and CR, LF and the other
// control characters become spaces; bytes that are not UTF-8 become U+FFFD
// (a stray 0xFF would otherwise be taken for telnet negotiation).
func CleanValue(s string) string {
	if plainValue(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == ';':
			return ','
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
}

// plainValue reports whether s is printable ASCII without ';': the common
// case, which CleanValue returns as it is.
func plainValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == ';' {
			return false
		}
	}
	return true
}

// cutRunes returns the first n characters of s.
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// ReplyError is the server's refusal of a report: the reason of its
// "ERR <reason>" reply, such as "bad state" or "bad key".
type ReplyError struct{ Reason string }

func (e *ReplyError) Error() string {
	return "server replied ERR " + e.Reason
}

// Send dials addr (HOST:PORT) over TCP, writes r as one LF-terminated line,
// reads one reply line and returns the seq from "ACK <seq>": the number of
// the event under which the server stored the report.
//
// An "ERR <reason>" reply returns a *ReplyError. A connection closed before
// the reply returns an error wrapping ErrNoReply. Send honours ctx for dial,
// write and read; once ctx is done it returns an error wrapping ctx.Err().
// Without a deadline in ctx, Send waits for the reply as long as the
// connection stays open.
func Send(ctx context.Context, addr string, r Report) (uint64, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, sendError(ctx, err)
	}
	defer conn.Close()
	// A deadline in the past wakes the blocked write or read at once.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := io.WriteString(conn, r.Line()+"\n"); err != nil {
		return 0, sendError(ctx, err)
	}
	line, err := bufio.NewReaderSize(conn, maxReply).ReadSlice('\n')
	switch {
	case err == io.EOF && ctx.Err() == nil:
		return 0, fmt.Errorf("client: send: %w", ErrNoReply)
	case err == bufio.ErrBufferFull:
		return 0, fmt.Errorf("client: send: reply longer than %d bytes", maxReply)
	case err != nil:
		return 0, sendError(ctx, err)
	}
	return parseReply(line)
}

// sendError names the operation and, when ctx ended it, says so rather than
// reporting the I/O error that the ending caused.
func sendError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("client: send: %w", ctxErr)
	}
	return fmt.Errorf("client: send: %w", err)
}

var (
	ackPrefix = []byte("ACK ")
	errWord   = []byte("ERR")
)

// parseReply reads one reply line, with or without its line end.
func parseReply(line []byte) (uint64, error) {
	line = bytes.TrimRight(line, "\r\n")
	if seq, ok := bytes.CutPrefix(line, ackPrefix); ok {
		n, err := strconv.ParseUint(string(seq), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("client: send: bad seq in reply %q", line)
		}
		return n, nil
	}
	if reason, ok := isErrReply(line); ok {
		return 0, &ReplyError{Reason: string(reason)}
	}
	return 0, fmt.Errorf("client: send: unexpected reply %q", line)
}

// isErrReply reports whether line (without its line end) is "ERR <reason>"
// and returns the reason.
func isErrReply(line []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(line, errWord)
	if !ok || (len(rest) > 0 && rest[0] != ' ') {
		return nil, false
	}
	return bytes.TrimPrefix(rest, []byte(" ")), true
}
