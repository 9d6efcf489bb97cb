package textfmt

import "testing"

func TestHead(t *testing.T) {
	for _, tc := range []struct {
		name, s string
		n       int
		want    string
	}{
		{"ShortKeptWhole", "abc", 5, "abc"},
		{"ExactKeptWhole", "abc", 3, "abc"},
		{"LongCutToRunes", "ÄÖÜäöü", 2, "ÄÖ"},
		{"ZeroIsEmpty", "abc", 0, ""},
		{"InvalidBytesKept", "a\xffbc", 2, "a\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Head(tc.s, tc.n); got != tc.want {
				t.Errorf("Head(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		name, s string
		n       int
		want    string
	}{
		{"ShortKeptWhole", "abc", 5, "abc"},
		{"LongCutAtFront", "ÄÖÜäöü", 2, "öü"},
		{"ZeroIsEmpty", "abc", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Tail(tc.s, tc.n); got != tc.want {
				t.Errorf("Tail(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		name, s string
		n       int
		want    string
	}{
		{"ShortKeptWhole", "abc", 3, "abc"},
		{"LongCutThenEllipsis", "abcd", 3, "abc…"},
		{"RunesNotBytes", "äöüß", 3, "äöü…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clip(tc.s, tc.n); got != tc.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		name, s string
		n       int
		mark    string
		want    string
	}{
		{"ShortKeptWhole", "abcde", 5, "…", "abcde"},
		{"LongEndsWithMark", "abcdef", 5, "…", "abcd…"},
		{"ASCIIMark", "abcdef", 5, "...", "ab..."},
		{"NoRoomForMark", "abcdef", 3, "...", "abc"},
		{"RunesNotBytes", "äöüßäöü", 4, "…", "äöü…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Fit(tc.s, tc.n, tc.mark); got != tc.want {
				t.Errorf("Fit(%q, %d, %q) = %q, want %q", tc.s, tc.n, tc.mark, got, tc.want)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ name, s, want string }{
		{"PlainKept", "nightly backup", "nightly backup"},
		{"BreaksBecomeSpaces", "a\r\nb\tc", "a  b c"},
		{"SpacesNotCollapsed", "a  b", "a  b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OneLine(tc.s); got != tc.want {
				t.Errorf("OneLine(%q) = %q, want %q", tc.s, got, tc.want)
			}
		})
	}
}

func TestFlatten(t *testing.T) {
	for _, tc := range []struct{ name, s, want string }{
		{"PlainKept", "nightly backup", "nightly backup"},
		{"RunsBecomeOneSpace", "a\r\n  b\t\x00c", "a b c"},
		{"EndsTrimmed", "  a \n", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Flatten(tc.s); got != tc.want {
				t.Errorf("Flatten(%q) = %q, want %q", tc.s, got, tc.want)
			}
		})
	}
}
