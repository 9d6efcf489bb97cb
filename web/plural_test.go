package web

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// singularPlural finds a count of one with a plural noun, as "1 runs".
var singularPlural = regexp.MustCompile(`\b1 (open )?(runs|processes|events|messages|failures|problems|fire times)\b`)

// shownText is the text of the element with data-testid id on the page at
// path, spaces collapsed; card takes the overview card around it, whose
// number is in an element of its own.
func shownText(t *testing.T, e *env, path, id string, card bool) string {
	t.Helper()
	s := testid(e.page(t, path), id)
	if card {
		s = s.Parent()
	}
	return strings.Join(strings.Fields(s.Text()), " ")
}

func TestPlurals(t *testing.T) {
	e := newEnv(t)
	e.login(t)
	e.define(t, pushProcess(1, "backup", time.Hour))
	e.report(t, "#id=1;state=OK")
	e.report(t, "#id=1;state=FAIL")
	e.report(t, "#id=1;state=FAIL")
	e.report(t, "#id=1;state=START")
	e.report(t, "#id=99;state=OK")

	t.Run("One", func(t *testing.T) {
		for _, tt := range []struct {
			path, id string
			card     bool
			want     string
		}{
			{"/", "count-OK", true, "1 run OK"},
			{"/", "process-count", true, "1 process"},
			{"/runs", "open-total", false, "1 open run, earliest deadline first."},
			{"/unprocessed", "unprocessed-total", false, "1 message closed no run, newest first."},
		} {
			if got := shownText(t, e, tt.path, tt.id, tt.card); got != tt.want {
				t.Errorf("%s %s: %q, want %q", tt.path, tt.id, got, tt.want)
			}
		}
	})
	t.Run("Two", func(t *testing.T) {
		e.define(t, pushProcess(2, "export", time.Hour))
		e.report(t, "#id=2;state=START")
		for _, tt := range []struct{ id, want string }{
			{"count-FAIL", "2 runs failed"},
			{"count-TIMEOUT", "0 runs timed out"},
			{"process-count", "2 processes"},
		} {
			if got := shownText(t, e, "/", tt.id, true); got != tt.want {
				t.Errorf("/ %s: %q, want %q", tt.id, got, tt.want)
			}
		}
		if got := shownText(t, e, "/runs", "open-total", false); !strings.HasPrefix(got, "2 open runs,") {
			t.Errorf("/runs: %q, want 2 open runs", got)
		}
	})
	t.Run("NoPageSaysOneWithAPlural", func(t *testing.T) {
		for _, path := range []string{"/", "/runs", "/unprocessed", "/history", "/processes", "/processes/1", "/events", "/alerts", "/schedule"} {
			_, doc := e.get(t, path)
			if m := singularPlural.FindString(strings.Join(strings.Fields(doc.Find("main").Text()), " ")); m != "" {
				t.Errorf("%s says %q", path, m)
			}
		}
	})
}
