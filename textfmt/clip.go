// Package textfmt formats text for people: it cuts strings to a number of
// characters (runes), keeps them on one line, writes durations briefly and
// counts with the noun in the right number ("1 run", "2 runs").
// It imports nothing of this module, so that every package may use it.
package textfmt

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Head returns the first n runes of s (all of s when it is shorter). It
// slices s, so bytes that are not UTF-8 are kept as they are, each counting
// as one rune.
func Head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// Tail returns the last n runes of s (all of s when it is shorter).
func Tail(s string, n int) string {
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}

// Clip returns s cut to n runes followed by an ellipsis "…", or s when it
// has at most n runes.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return Head(s, n) + "…"
}

// Fit returns s when it has at most n runes, and otherwise its first runes
// followed by mark, n runes in all (only the first n runes, without mark,
// when mark alone takes n runes or more).
func Fit(s string, n int, mark string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	m := utf8.RuneCountInString(mark)
	if n <= m {
		return Head(s, n)
	}
	return Head(s, n-m) + mark
}

// OneLine replaces control characters (line breaks among them) by spaces,
// one for one.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// Flatten turns every run of white space and control characters into one
// space and trims both ends, for a subject or a text message.
func Flatten(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}
