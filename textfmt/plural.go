package textfmt

import "strconv"

// Count is n with its noun: "1 run", "0 runs", "3 runs". one is the
// singular, many the plural; English needs no more forms.
func Count[N ~int | ~int64 | ~uint64](n N, one, many string) string {
	var num string
	if n < 0 {
		num = strconv.FormatInt(int64(n), 10)
	} else {
		num = strconv.FormatUint(uint64(n), 10)
	}
	return num + " " + Noun(n, one, many)
}

// Noun is one when n is 1 and many otherwise, for text that sets the
// number apart from its noun ("<b>1</b> run").
func Noun[N ~int | ~int64 | ~uint64](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
