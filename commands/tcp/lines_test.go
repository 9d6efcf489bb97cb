package tcp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// result is one ReadLine outcome: a line, or an error.
type result struct {
	line string
	err  error
}

func (r result) String() string {
	if r.err != nil {
		return "error " + r.err.Error()
	}
	return fmt.Sprintf("%q", r.line)
}

func line(s string) result { return result{line: s} }

var (
	tooLong = result{err: ErrLineTooLong}
	eof     = result{err: io.EOF}
)

// readAll calls ReadLine until io.EOF and returns every outcome. Other errors
// are recorded and reading goes on, as a server would after a deadline it
// chose to extend.
func readAll(t testing.TB, r io.Reader, max int) []result {
	t.Helper()
	lr := NewLineReader(r, max)
	var out []result
	for i := 0; ; i++ {
		if i > 1e7 {
			t.Fatal("ReadLine never returned io.EOF")
		}
		b, err := lr.ReadLine()
		if err != nil {
			if b != nil {
				t.Fatalf("ReadLine returned %q with error %v", b, err)
			}
			out = append(out, result{err: err})
			if err == io.EOF {
				return out
			}
			continue
		}
		if b == nil {
			t.Fatal("ReadLine returned a nil line and no error")
		}
		if len(b) > max {
			t.Fatalf("ReadLine returned %d bytes, limit %d", len(b), max)
		}
		if bytes.ContainsAny(b, "\r\n") {
			t.Fatalf("ReadLine returned a line end in %q", b)
		}
		out = append(out, line(string(b)))
	}
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int // 4096 when 0
		want []result
	}{
		{"EOFOnEmptyInput", "", 0, []result{eof}},
		{"OKLF", "#id=25;state=OK;name=JajaBackupData\n", 0,
			[]result{line("#id=25;state=OK;name=JajaBackupData"), eof}},
		{"OKCRLF", "#id=1;state=OK\r\n#id=2;state=FAIL\r\n", 0,
			[]result{line("#id=1;state=OK"), line("#id=2;state=FAIL"), eof}},
		{"OKMixedLineEnds", "a\nb\r\nc\n", 0, []result{line("a"), line("b"), line("c"), eof}},
		{"OKBlankLinesEmpty", "\n\r\na\n\n", 0, []result{line(""), line(""), line("a"), line(""), eof}},
		{"OKFinalLineWithoutLF", "a\nb", 0, []result{line("a"), line("b"), eof}},
		{"OKFinalCROnlyIsNoLine", "a\n\r", 0, []result{line("a"), eof}},
		{"OKBareCRDropped", "a\rb\r\r\n", 0, []result{line("ab"), eof}},
		{"OKCRBeforeLFAcrossIAC", "a\r\xff\xf1\n", 0, []result{line("a"), eof}},
		{"OKCtrlCDropped", "ab\xff\xf4\xff\xfd\x06cd\r\n", 0, []result{line("abcd"), eof}},
		{"OKNegotiationDropped", "\xff\xfb\x01\xff\xfc\x03\xff\xfd\x18\xff\xfe\x1f#id=1\r\n", 0,
			[]result{line("#id=1"), eof}},
		{"OKOptionByteMayBeLF", "a\xff\xfb\nb\n", 0, []result{line("ab"), eof}},
		{"OKOptionByteMayBeIAC", "a\xff\xfd\xffb\n", 0, []result{line("ab"), eof}},
		{"OKIACIACKeptAsFF", "a\xff\xffb\n", 0, []result{line("a\xffb"), eof}},
		{"OKSubnegotiationDropped", "a\xff\xfa\x18\x00xterm\xff\xf0b\n", 0, []result{line("ab"), eof}},
		{"OKSubnegotiationHoldsLFAndIACIAC", "a\xff\xfa\x1f\n\xff\xff\r\n\xff\xf1\xff\xf0b\n", 0,
			[]result{line("ab"), eof}},
		{"OKUnterminatedSubnegotiationSwallowsRest", "a\n\xff\xfab\nc\n", 0, []result{line("a"), eof}},
		{"OKIACAtEndOfInput", "ab\xff", 0, []result{line("ab"), eof}},
		{"OKIACThenOtherByteDropsBoth", "a\xffzb\n", 0, []result{line("ab"), eof}},
		{"OKOnlyTelnetIsNoLine", "\xff\xf4\xff\xfd\x06", 0, []result{eof}},
		{"OKUTF8", "#id=1;state=OK;msg=Záloha ✓\n", 0, []result{line("#id=1;state=OK;msg=Záloha ✓"), eof}},
		{"OKExactlyMax", "12345\n", 5, []result{line("12345"), eof}},
		{"OKExactlyMaxFinal", "12345", 5, []result{line("12345"), eof}},
		{"OKMaxCountsAfterDropping", "12\xff\xfb\x01\r34\xff\xff\r\n", 5, []result{line("1234\xff"), eof}},
		{"ErrLineTooLongMaxPlusOne", "123456\nok\n", 5, []result{tooLong, line("ok"), eof}},
		{"ErrLineTooLongFinal", "ok\n123456", 5, []result{line("ok"), tooLong, eof}},
		{"ErrLineTooLongIACIAC", "1234\xff\xff\xff\xff\n", 5, []result{tooLong, eof}},
		{"ErrLineTooLongOncePerLine", "1234567890123\n\n12\n", 5, []result{tooLong, line(""), line("12"), eof}},
		{"ErrLineTooLongTwice", "123456\n1234567\n", 5, []result{tooLong, tooLong, eof}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = 4096
			}
			for name, r := range readers([]byte(tt.in)) {
				if got := readAll(t, r, max); !sameResults(got, tt.want) {
					t.Errorf("%s reads of %q:\n got %v\nwant %v", name, tt.in, got, tt.want)
				}
			}
			if m := model([]byte(tt.in), max); !sameResults(m, tt.want) {
				t.Errorf("model of %q:\n got %v\nwant %v", tt.in, m, tt.want)
			}
		})
	}
}

// TestLineReaderReaders checks that how the input is cut into reads never
// changes the lines. (TestLineReader also reads each case in every way.)
func TestLineReaderReaders(t *testing.T) {
	in := "#id=1;state=OK\r\n\xff\xf4\xff\xfd\x06\r\n#id=2;st\xff\xfa\x01\xff\xff\n\xff\xf0ate=FAIL\n" +
		strings.Repeat("z", 100) + "\nlast"
	want := model([]byte(in), 50)
	for name, r := range readers([]byte(in)) {
		t.Run(name, func(t *testing.T) {
			if got := readAll(t, r, 50); !sameResults(got, want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
		})
	}
}

// TestLineReaderSplitAnywhere cuts the input into two reads at every
// position, so that every telnet command and CRLF is split once.
func TestLineReaderSplitAnywhere(t *testing.T) {
	in := []byte("a\xff\xf4\xff\xfd\x06b\r\nc\xff\xfa\x18\x00x\xff\xff\xff\xf0d\xff\xffe\xff\xfc\x01\r\n")
	want := []result{line("ab"), line("cd\xffe"), eof}
	for i := 0; i <= len(in); i++ {
		r := io.MultiReader(bytes.NewReader(in[:i]), bytes.NewReader(in[i:]))
		if got := readAll(t, r, 4096); !sameResults(got, want) {
			t.Errorf("split at %d: got %v\nwant %v", i, got, want)
		}
	}
}

// TestLineReaderHugeLine sends 10 MB without a line end, then a good line:
// the long line is refused once and memory stays within the limit.
func TestLineReaderHugeLine(t *testing.T) {
	const size = 10 << 20
	for _, tc := range []struct {
		name string
		tail string
		want []result
	}{
		{"ThenGoodLine", "\n#id=1;state=OK\r\n", []result{tooLong, line("#id=1;state=OK"), eof}},
		{"AtEOF", "", []result{tooLong, eof}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := io.MultiReader(io.LimitReader(repeatReader('x'), size), strings.NewReader(tc.tail))
			lr := NewLineReader(r, 4096)
			var got []result
			for {
				b, err := lr.ReadLine()
				if cap(lr.line) > 4096 || len(lr.buf) > readSize {
					t.Fatalf("buffers grew to %d and %d bytes", cap(lr.line), len(lr.buf))
				}
				got = append(got, result{line: string(b), err: err})
				if err == io.EOF {
					break
				}
			}
			if !sameResults(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestLineReaderReadError checks that a read error is returned as it is and
// that the line in progress survives it.
func TestLineReaderReadError(t *testing.T) {
	errDeadline := errors.New("i/o timeout")
	tests := []struct {
		name  string
		steps []step
		want  []result
	}{
		{"MidLineThenResume", []step{{data: "#id"}, {err: errDeadline}, {data: "=1\n"}},
			[]result{{err: errDeadline}, line("#id=1"), eof}},
		{"MidIACThenResume", []step{{data: "a\xff"}, {err: errDeadline}, {data: "\xfd\x06b\n"}},
			[]result{{err: errDeadline}, line("ab"), eof}},
		{"WithDataLinesFirst", []step{{data: "a\nb", err: errDeadline}, {data: "c\n"}},
			[]result{line("a"), {err: errDeadline}, line("bc"), eof}},
		{"WhileSkippingLongLine", []step{{data: "123456"}, {err: errDeadline}, {data: "78\nok\n"}},
			[]result{{err: errDeadline}, tooLong, line("ok"), eof}},
		{"EOFWithData", []step{{data: "a\nb", err: io.EOF}}, []result{line("a"), line("b"), eof}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, &scriptReader{steps: tt.steps}, 5)
			if !sameResults(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestLineReaderEOFRepeats(t *testing.T) {
	lr := NewLineReader(strings.NewReader("a"), 10)
	if b, err := lr.ReadLine(); err != nil || string(b) != "a" {
		t.Fatalf("ReadLine = %q, %v; want \"a\"", b, err)
	}
	for range 3 {
		if b, err := lr.ReadLine(); err != io.EOF || b != nil {
			t.Fatalf("ReadLine = %q, %v; want io.EOF", b, err)
		}
	}
}

func TestLineReaderNoProgress(t *testing.T) {
	lr := NewLineReader(emptyReader{}, 10)
	if _, err := lr.ReadLine(); err != io.ErrNoProgress {
		t.Fatalf("ReadLine error = %v, want io.ErrNoProgress", err)
	}
}

func TestNewLineReaderPanicsOnZeroMax(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewLineReader(r, 0) did not panic")
		}
	}()
	NewLineReader(strings.NewReader(""), 0)
}

func FuzzLineReader(f *testing.F) {
	f.Add([]byte("#id=25;state=OK;name=JajaBackupData\r\n"), uint16(4096))
	f.Add([]byte("a\xff\xf4\xff\xfd\x06b\r\n\xff\xfa\x18\x00x\xff\xff\xff\xf0c\n"), uint16(10))
	f.Add([]byte("123456\n12345\nlast"), uint16(5))
	f.Fuzz(func(t *testing.T, in []byte, m uint16) {
		max := 1 + int(m)%128
		want := model(in, max)
		for name, r := range readers(in) {
			if got := readAll(t, r, max); !sameResults(got, want) {
				t.Fatalf("%s reads of %q, max %d:\n got %v\nwant %v", name, in, max, got, want)
			}
		}
	})
}

func BenchmarkLineReader(b *testing.B) {
	var in bytes.Buffer
	lines := 0
	for in.Len() < 1<<20 {
		fmt.Fprintf(&in, "#id=%d;state=OK;name=JajaBackupData\r\n", lines%1000+1)
		lines++
	}
	data := in.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	r := bytes.NewReader(data)
	for b.Loop() {
		r.Reset(data)
		lr := NewLineReader(r, 4096)
		n := 0
		for {
			_, err := lr.ReadLine()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != lines {
			b.Fatalf("read %d lines, want %d", n, lines)
		}
	}
}

// model is the reader's behaviour written as plainly as possible, one byte
// at a time over the whole input, to check the real one against.
func model(in []byte, max int) []result {
	var (
		out      []result
		cur      []byte
		skipping bool
		state    = inData
	)
	data := func(c byte) {
		switch {
		case skipping:
		case len(cur) == max:
			skipping = true
			cur = nil
		default:
			cur = append(cur, c)
		}
	}
	end := func() {
		if skipping {
			out = append(out, tooLong)
		} else {
			out = append(out, line(string(cur)))
		}
		cur, skipping = nil, false
	}
	for _, c := range in {
		switch state {
		case inData:
			switch c {
			case '\n':
				end()
			case '\r', 0:
			case iac:
				state = afterIAC
			default:
				data(c)
			}
		case afterIAC:
			state = inData
			switch {
			case c == iac:
				data(c)
			case c == sb:
				state = inSub
			case c >= will && c <= dont:
				state = inOption
			}
		case inOption:
			state = inData
		case inSub:
			if c == iac {
				state = inSubIAC
			}
		case inSubIAC:
			state = inSub
			if c == se {
				state = inData
			}
		}
	}
	if skipping || len(cur) > 0 {
		end()
	}
	return append(out, eof)
}

func sameResults(a, b []result) bool { return reflect.DeepEqual(a, b) }

// readers returns the ways the tests cut an input into reads.
func readers(in []byte) map[string]io.Reader {
	return map[string]io.Reader{
		"Whole":          bytes.NewReader(in),
		"OneByte":        iotest.OneByteReader(bytes.NewReader(in)),
		"HalfReads":      iotest.HalfReader(bytes.NewReader(in)),
		"OneByteDataErr": iotest.DataErrReader(iotest.OneByteReader(bytes.NewReader(in))),
		"Chunks7":        &chunkReader{data: in, n: 7},
	}
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// step is one Read of a scriptReader.
type step struct {
	data string
	err  error
}

// scriptReader returns its steps one per Read, then io.EOF.
type scriptReader struct{ steps []step }

func (s *scriptReader) Read(p []byte) (int, error) {
	if len(s.steps) == 0 {
		return 0, io.EOF
	}
	st := s.steps[0]
	n := copy(p, st.data)
	if n < len(st.data) {
		s.steps[0].data = st.data[n:]
		return n, nil
	}
	s.steps = s.steps[1:]
	return n, st.err
}

// repeatReader is an endless stream of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// emptyReader returns nothing and no error, forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }
