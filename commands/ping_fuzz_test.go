package commands_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// FuzzParsePing feeds an HTTP ping's path values, query and body to
// ParsePing the way the web handler does (the query parsed from the
// request line, as net/url parses it). It must not panic, must return
// fields in valid UTF-8 and a message of one line, and must leave no value
// of a parameter it takes as the process key in the recorded line.
func FuzzParsePing(f *testing.F) {
	for _, s := range [][4]string{
		{"26", "OK", "key=s3cret&msg=hi", ""},
		{"7", "fail", "name=Backup&run=r1&code=2&mid=m-1&host=web1", "disk full\r\non /var"},
		{"1", "start", "", ""},
		{"007", "OK", "KEY=a&key=b&%6Bey=c", ""},
		{"1", "OK", "key+=s&%20key=t&msg=x;key=u", ""},
		{"1", "OK", "msg=%ff%c3&name=a%00b", "\xff"},
		{"-1", "DONE", "code=1.5&id=2&=x&a", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, id, state, rawQuery, body string) {
		line := "GET /ping/" + id + "/" + state + "?" + rawQuery
		query, _ := url.ParseQuery(rawQuery) // as (*url.URL).Query
		r, err := commands.ParsePing(id, state, query, body, line)
		for _, s := range []string{r.Line, r.State, r.Name, r.Run, r.Msg, r.Key, r.MID} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
		if strings.ContainsAny(r.Msg, "\r\n") {
			t.Fatalf("msg %q holds a line break", r.Msg)
		}
		if n := utf8.RuneCountInString(r.Msg); n > commands.MaxMsg {
			t.Fatalf("msg has %d characters", n)
		}
		if r.Key != "" {
			checkPingKeyRedacted(t, r.Line)
		}
		if err != nil {
			var e *statesrv.Error
			if !errors.As(err, &e) || e.Code != statesrv.EInvalid {
				t.Fatalf("error %#v is not an invalid *statesrv.Error", err)
			}
			return
		}
		if r.ProcessID <= 0 {
			t.Fatalf("ParsePing(%q) succeeded with id %d", line, r.ProcessID)
		}
		switch r.State {
		case statesrv.StateOK, statesrv.StateFail, statesrv.StateStart:
		default:
			t.Fatalf("ParsePing(%q) succeeded with state %q", line, r.State)
		}
	})
}

// checkPingKeyRedacted fails when a query parameter of a recorded ping
// line that the parser takes as the process key (its name unescaped,
// trimmed of blanks, ASCII-folded) still has its value.
func checkPingKeyRedacted(t *testing.T, line string) {
	t.Helper()
	_, query, ok := strings.Cut(line, "?")
	if !ok {
		return
	}
	for _, part := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		if strings.EqualFold(strings.Trim(name, " \t"), "key") && len(strings.Trim(name, " \t")) == 3 && v != "***" {
			t.Fatalf("a key is left in the recorded line %q", line)
		}
	}
}
