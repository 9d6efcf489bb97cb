package schedule

import (
	"strings"
	"unicode"
)

// OneLine replaces control characters (line breaks among them) by spaces.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
