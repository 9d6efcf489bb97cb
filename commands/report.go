package commands

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/textfmt"
)

// MaxMsg is how many characters of msg are kept.
const MaxMsg = 1000

// Report is one job report, from a TCP line or an HTTP ping, before any decision.
type Report struct {
	ProcessID int64
	State     string // "OK", "FAIL" or "START", upper-cased
	Name      string
	Run       string
	Msg       string // at most 1,000 characters (runes) kept
	Code      *int
	Key       string
	MID       string
	Extra     map[string]string // other keys, lower-cased names, nil when none
	Line      string            // the raw line as received (without line end), any key= value replaced by ***
	Transport string            // "tcp" or "http"; set by the caller
	Remote    string            // "ip:port"; set by the caller
}

// Bits of the known keys, to refuse a key given twice.
const (
	seenID = 1 << iota
	seenState
	seenName
	seenRun
	seenMsg
	seenCode
	seenKey
	seenMID
)

// ParseLine parses one report line of SPEC §3: '#' then key=value pairs separated by ';'.
//
// Invalid UTF-8 is first replaced by U+FFFD, so every string of the Report,
// Line included, is valid UTF-8 and can be stored as JSON. Line keeps the line
// as given, but for the value of a key= pair, replaced by "***" so that a
// process's secret never reaches the log; everything else is read from it with spaces and tabs trimmed
// around the whole line, around each key and around each value. Inside a
// value nothing is trimmed or unescaped. Keys and the state are
// case-insensitive in ASCII; other keys go to Extra under their lower-cased
// names. Empty or blank segments, such as a trailing ';', are ignored. An id,
// state or code given with an empty value counts as not given, so a script
// that sends "code=" with an unset variable still reports. Msg keeps its
// first MaxMsg characters.
//
// The errors are *statesrv.Error with code statesrv.EInvalid and one of the
// messages "not a report", "bad pair" (a segment without '=' or with an empty
// key), "duplicate key", "bad id" (not a positive decimal int64), "bad state"
// (not OK, FAIL or START), "bad code" (not a decimal int), "missing id" and
// "missing state". When a line has several faults, the first in the line
// wins, and "missing id" is checked before "missing state", after the scan.
// Even then, the Report holds every field that could be read, so that a
// refused line can be recorded with its id, state, name and mid; a bad or
// duplicate value is left out and the first one kept.
func ParseLine(line string) (Report, error) {
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "\uFFFD")
	}
	p := fieldParser{r: Report{Line: redactLineKey(line)}}
	body, ok := strings.CutPrefix(trimBlank(line), "#")
	if !ok {
		return p.r, invalid("not a report")
	}
	for seg := range strings.SplitSeq(body, ";") {
		if trimBlank(seg) == "" {
			continue
		}
		k, v, ok := strings.Cut(seg, "=")
		if !ok {
			p.fail("bad pair")
			continue
		}
		p.add(k, v)
	}
	return p.finish()
}

// redacted replaces a process key in what is stored of a report.
const redacted = "***"

// redactLineKey returns line with the value of every key= pair replaced, so
// that a process's shared secret never reaches the log.
func redactLineKey(line string) string {
	if !containsKeyFold(line) {
		return line
	}
	segs := strings.Split(line, ";")
	for i, seg := range segs {
		k, _, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		name := lowerASCII(trimBlank(strings.TrimPrefix(trimBlank(k), "#")))
		if name == "key" {
			segs[i] = k + "=" + redacted
		}
	}
	return strings.Join(segs, ";")
}

// containsKeyFold reports whether s holds "key" in any ASCII case, without
// allocating (it runs for every line).
func containsKeyFold(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i]|0x20 == 'k' && s[i+1]|0x20 == 'e' && s[i+2]|0x20 == 'y' {
			return true
		}
	}
	return false
}

// fieldParser reads key=value pairs into a Report, keeping the first fault.
type fieldParser struct {
	r     Report
	first error
	seen  int
}

func (p *fieldParser) fail(msg string) {
	if p.first == nil {
		p.first = invalid(msg)
	}
}

func (p *fieldParser) add(k, v string) {
	r := &p.r
	if !utf8.ValidString(k) {
		k = strings.ToValidUTF8(k, "\uFFFD")
	}
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	k = lowerASCII(trimBlank(k))
	if k == "" {
		p.fail("bad pair")
		return
	}
	v = trimBlank(v)
	bit := keyBit(k)
	if (bit != 0 && p.seen&bit != 0) || (bit == 0 && hasKey(r.Extra, k)) {
		p.fail("duplicate key")
		return
	}
	p.seen |= bit
	switch k {
	case "id":
		if v == "" {
			break
		}
		id, ok := parseID(v)
		if !ok {
			p.fail("bad id")
			break
		}
		r.ProcessID = id
	case "state":
		if v == "" {
			break
		}
		s := upperASCII(v)
		if s != statesrv.StateOK && s != statesrv.StateFail && s != statesrv.StateStart {
			p.fail("bad state")
			break
		}
		r.State = s
	case "code":
		if v == "" {
			break
		}
		c, err := strconv.Atoi(v)
		if err != nil {
			p.fail("bad code")
			break
		}
		r.Code = &c
	case "name":
		r.Name = v
	case "run":
		r.Run = v
	case "msg":
		r.Msg = textfmt.Head(v, MaxMsg)
	case "key":
		r.Key = v
	case "mid":
		r.MID = v
	default:
		if r.Extra == nil {
			r.Extra = make(map[string]string)
		}
		r.Extra[k] = v
	}
}

func (p *fieldParser) finish() (Report, error) {
	switch {
	case p.first != nil:
		return p.r, p.first
	case p.r.ProcessID == 0:
		return p.r, invalid("missing id")
	case p.r.State == "":
		return p.r, invalid("missing state")
	}
	return p.r, nil
}

// ParsePing reads an HTTP ping (SPEC §6): id and state from the path, the
// other fields from the query, and body (if not empty and no msg was given)
// as msg. line is what is recorded as the raw report (the request line).
// The errors are those of ParseLine.
func ParsePing(id, state string, query url.Values, body, line string) (Report, error) {
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "\uFFFD")
	}
	p := fieldParser{r: Report{Line: redactQueryKey(line)}}
	p.add("id", id)
	p.add("state", state)
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range query[k] {
			p.add(k, v)
		}
	}
	// A body's line breaks become spaces: a msg holds one line, as on TCP.
	body = trimBlank(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(body))
	if body != "" && p.r.Msg == "" && p.seen&keyBit("msg") == 0 {
		p.add("msg", body)
	}
	return p.finish()
}

// redactQueryKey replaces the value of a key= query parameter in a request
// line ("GET /ping/25/OK?key=..."): of every parameter ParsePing takes as
// the key, so also "%6Bey=", "key+=" and "%20KEY=".
func redactQueryKey(line string) string {
	path, query, ok := strings.Cut(line, "?")
	if !ok || !containsKeyFold(query) && !strings.Contains(query, "%") {
		return line
	}
	parts := strings.Split(query, "&")
	for i, part := range parts {
		k, _, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil && lowerASCII(trimBlank(dk)) == "key" {
			parts[i] = k + "=" + redacted
		}
	}
	return path + "?" + strings.Join(parts, "&")
}

func invalid(msg string) error {
	return &statesrv.Error{Code: statesrv.EInvalid, Message: msg}
}

func keyBit(k string) int {
	switch k {
	case "id":
		return seenID
	case "state":
		return seenState
	case "name":
		return seenName
	case "run":
		return seenRun
	case "msg":
		return seenMsg
	case "code":
		return seenCode
	case "key":
		return seenKey
	case "mid":
		return seenMID
	}
	return 0
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// parseID accepts decimal digits only: no sign, no spaces, no base prefix.
func parseID(s string) (int64, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// trimBlank trims spaces and tabs at both ends of s.
func trimBlank(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// lowerASCII and upperASCII fold ASCII letters only, so that no other
// character (such as the Kelvin sign or the long s) folds into a key or a
// state.
func lowerASCII(s string) string { return mapASCII(s, 'A', 'a') }

func upperASCII(s string) string { return mapASCII(s, 'a', 'A') }

// mapASCII replaces the 26 letters from from on by those from to on, and
// returns s itself when it holds none of them.
func mapASCII(s string, from, to byte) string {
	for i := 0; i < len(s); i++ {
		if from <= s[i] && s[i] <= from+25 {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if from <= b[j] && b[j] <= from+25 {
					b[j] = b[j] - from + to
				}
			}
			return string(b)
		}
	}
	return s
}
