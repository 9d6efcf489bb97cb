package jobexec

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEndMessage(t *testing.T) {
	long := strings.Repeat("ž", 2000)
	for _, tt := range []struct {
		name  string
		code  int
		took  time.Duration
		lines []string
		want  string
	}{
		{"NoOutput", 0, 1234567 * time.Microsecond, nil, "exit 0 after 1.235s"},
		{"MinutesInSeconds", 1, 62*time.Second + 400*time.Millisecond, []string{"a", "b"}, "exit 1 after 1m2s: a | b"},
		{"CutAtTheFront", 0, time.Second, []string{long},
			"exit 0 after 1s: …" + strings.Repeat("ž", 1000-utf8.RuneCountInString("exit 0 after 1s: …"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := endMessage(tt.code, tt.took, tt.lines)
			if got != tt.want {
				t.Errorf("endMessage = %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > 1000 {
				t.Errorf("%d characters, more than 1,000", n)
			}
		})
	}
}

func TestLineTail(t *testing.T) {
	t.Run("KeepsTheLastLines", func(t *testing.T) {
		tail := newLineTail(3)
		var out bytes.Buffer
		w := tail.tee(&out)
		for _, chunk := range []string{"one\ntw", "o\n\n  \nthree\r\nfour;x\n", "fi", "ve"} {
			w.Write([]byte(chunk))
		}
		if got, want := tail.lines(), []string{"three", "four,x", "five"}; !slicesEqual(got, want) {
			t.Errorf("lines = %q, want %q", got, want)
		}
		if out.String() != "one\ntwo\n\n  \nthree\r\nfour;x\nfive" {
			t.Errorf("passed on %q, want every byte", out.String())
		}
	})
	t.Run("CarriageReturnKeepsWhatAFTerminalShows", func(t *testing.T) {
		tail := newLineTail(5)
		tail.tee(io.Discard).Write([]byte("10%\r50%\r100% done\n\x1b[31mred\tx\xff\n"))
		if got, want := tail.lines(), []string{"100% done", "[31mred x\uFFFD"}; !slicesEqual(got, want) {
			t.Errorf("lines = %q, want %q", got, want)
		}
	})
	t.Run("LongLineKeepsItsEnd", func(t *testing.T) {
		tail := newLineTail(1)
		w := tail.tee(io.Discard)
		for range 100 {
			w.Write([]byte(strings.Repeat("a", 1000)))
		}
		w.Write([]byte("END\n"))
		got := tail.lines()
		if len(got) != 1 || len(got[0]) != maxTailLine || !strings.HasSuffix(got[0], "aEND") {
			t.Errorf("kept a line of %d bytes, want the last %d", len(got[0]), maxTailLine)
		}
	})
	t.Run("BrokenOutputDoesNotStopTheTail", func(t *testing.T) {
		tail := newLineTail(2)
		w := tail.tee(failingWriter{})
		if n, err := w.Write([]byte("a\nb\n")); n != 4 || err != nil {
			t.Fatalf("Write = %d, %v; want 4, nil", n, err)
		}
		if got := tail.lines(); !slicesEqual(got, []string{"a", "b"}) {
			t.Errorf("lines = %q", got)
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}
