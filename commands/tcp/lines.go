package tcp

import (
	"errors"
	"io"
)

// ErrLineTooLong is returned by ReadLine for a line longer than the limit; the line's bytes were discarded and reading continues after its end.
var ErrLineTooLong = errors.New("line too long")

// readSize is the largest size of the read buffer: one Read fills at most
// this much. The buffer starts at firstReadSize and doubles each time a
// read fills it, so that a connection that sends little holds little.
const (
	readSize      = 8 << 10
	firstReadSize = 512
)

// maxEmptyReads is how many reads in a row may return nothing and no error
// before ReadLine gives up with io.ErrNoProgress.
const maxEmptyReads = 100

// Telnet bytes (RFC 854).
const (
	iac  = 0xFF // interpret as command
	se   = 0xF0 // end of subnegotiation
	sb   = 0xFA // start of subnegotiation
	will = 0xFB // WILL, WONT, DO and DONT (0xFB–0xFE) take one option byte
	dont = 0xFE
)

// telnetState is where the reader stands inside a telnet command.
type telnetState uint8

const (
	inData   telnetState = iota
	afterIAC             // seen IAC
	inOption             // seen IAC WILL/WONT/DO/DONT, the option byte comes next
	inSub                // inside IAC SB … IAC SE
	inSubIAC             // seen IAC inside a subnegotiation
)

// LineReader reads report lines from a connection: LF or CRLF ended, telnet IAC sequences dropped, lines longer than max refused without buffering them whole.
//
// Telnet commands are dropped as RFC 854 frames them: IAC with WILL, WONT, DO
// or DONT and its option byte; IAC SB up to and including IAC SE; IAC and any
// other byte after it. IAC IAC stands for one 0xFF data byte and is kept as
// such (it is never valid UTF-8, so the parser will replace it). The telnet
// state carries over from one line and one read to the next, so a command may
// be split anywhere.
//
// Every CR byte is dropped, not only one before LF: a report value cannot hold
// a line break (SPEC §3), so a CR is never content, and a bare CR does not end
// a line. Only LF ends a line. NUL bytes are dropped too: telnet sends a bare
// CR as CR NUL, and a NUL is never part of a report.
//
// Memory stays bounded whatever the peer sends: a read buffer of at most
// 8 KiB and a line buffer of at most max bytes.
type LineReader struct {
	rd  io.Reader
	max int

	buf  []byte // read buffer; buf[r:w] is not yet looked at
	r, w int
	err  error // read error to return once buf is drained

	line     []byte // the line so far, data bytes only, at most max
	tooLong  bool   // the current line passed max and is being skipped
	returned bool   // line was returned: start afresh on the next call
	state    telnetState
}

// NewLineReader returns a LineReader that reads from r and refuses lines of
// more than max bytes, counted after telnet commands and CRs are dropped.
// It panics if max is less than 1.
func NewLineReader(r io.Reader, max int) *LineReader {
	if max < 1 {
		panic("tcp: NewLineReader: max < 1")
	}
	return &LineReader{
		rd:   r,
		max:  max,
		buf:  make([]byte, firstReadSize),
		line: make([]byte, 0, min(max, 512)),
	}
}

// ReadLine returns the next line without its line end and without telnet IAC bytes. The returned slice is valid until the next call. Blank lines are returned as empty slices (the caller skips them). At end of input, a final unterminated non-empty line is returned first, then io.EOF. Read errors (e.g. a deadline) are returned as they are.
//
// A line longer than the limit gives ErrLineTooLong once its end (LF or end
// of input) has been read. A read error other than io.EOF leaves the partial
// line and the telnet state in place, so a later call goes on where it
// stopped.
func (lr *LineReader) ReadLine() ([]byte, error) {
	if lr.returned {
		lr.line = lr.line[:0]
		lr.tooLong = false
		lr.returned = false
	}
	empty := 0
	for {
		if line, ok, err := lr.scan(); ok {
			return line, err
		}
		if lr.err != nil {
			return lr.readError()
		}
		if lr.w == len(lr.buf) && len(lr.buf) < readSize {
			lr.buf = make([]byte, 2*len(lr.buf)) // the last read filled it
		}
		n, err := lr.rd.Read(lr.buf)
		if n < 0 || n > len(lr.buf) {
			n = 0
			if err == nil {
				err = errors.New("tcp: reader returned an invalid count")
			}
		}
		lr.r, lr.w, lr.err = 0, n, err
		if n == 0 && err == nil {
			if empty++; empty >= maxEmptyReads {
				return nil, io.ErrNoProgress
			}
		}
	}
}

// scan consumes buffered bytes up to the end of a line. It reports ok when
// a line (or ErrLineTooLong) is complete.
func (lr *LineReader) scan() (line []byte, ok bool, err error) {
	for lr.r < lr.w {
		if lr.state == inData {
			// Fast path: copy the run of ordinary bytes at once.
			n := plainPrefix(lr.buf[lr.r:lr.w])
			lr.add(lr.buf[lr.r : lr.r+n])
			lr.r += n
			if lr.r == lr.w {
				break
			}
		}
		c := lr.buf[lr.r]
		lr.r++
		switch lr.state {
		case inData:
			switch c {
			case '\n':
				line, err = lr.end()
				return line, true, err
			case iac:
				lr.state = afterIAC
			} // CR and NUL: dropped (telnet sends a bare CR as CR NUL)
		case afterIAC:
			switch {
			case c == iac:
				lr.add([]byte{iac})
				lr.state = inData
			case c == sb:
				lr.state = inSub
			case c >= will && c <= dont:
				lr.state = inOption
			default:
				lr.state = inData
			}
		case inOption:
			lr.state = inData
		case inSub:
			if c == iac {
				lr.state = inSubIAC
			}
		case inSubIAC:
			if c == se {
				lr.state = inData
			} else {
				lr.state = inSub // IAC IAC or a stray command: still inside
			}
		}
	}
	return nil, false, nil
}

// plainPrefix returns how many bytes at the start of p are plain data: no
// LF, CR, NUL or IAC.
func plainPrefix(p []byte) int {
	for i, c := range p {
		if c == '\n' || c == '\r' || c == 0 || c == iac {
			return i
		}
	}
	return len(p)
}

// add appends data bytes to the line, or marks the line too long. The line
// buffer never grows past max.
func (lr *LineReader) add(p []byte) {
	if lr.tooLong || len(p) == 0 {
		return
	}
	n := len(lr.line) + len(p)
	if n > lr.max {
		lr.tooLong = true
		lr.line = lr.line[:0]
		return
	}
	if n > cap(lr.line) {
		grown := make([]byte, len(lr.line), min(lr.max, max(2*cap(lr.line), n)))
		copy(grown, lr.line)
		lr.line = grown
	}
	lr.line = append(lr.line, p...)
}

// end finishes the current line.
func (lr *LineReader) end() ([]byte, error) {
	lr.returned = true
	if lr.tooLong {
		return nil, ErrLineTooLong
	}
	return lr.line, nil
}

// readError returns the pending read error once the buffer is drained. At
// io.EOF the unterminated last line comes first and io.EOF stays pending for
// the next call.
func (lr *LineReader) readError() ([]byte, error) {
	err := lr.err
	if err == io.EOF && (lr.tooLong || len(lr.line) > 0) {
		return lr.end()
	}
	lr.err = nil
	return nil, err
}
