package notify

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
)

func TestSubject(t *testing.T) {
	for _, tc := range []struct{ outcome, want string }{
		{statesrv.OutcomeOK, "[statesrv] OK 26 NightlyExport"},
		{statesrv.OutcomeFail, "[statesrv] FAIL 26 NightlyExport"},
		{statesrv.OutcomeTimeout, "[statesrv] TIMEOUT 26 NightlyExport"},
		{statesrv.OutcomeLate, "[statesrv] LATE 26 NightlyExport"},
		{statesrv.OutcomeRecovered, "[statesrv] RECOVERED 26 NightlyExport"},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			if got := Subject(testAlert(tc.outcome)); got != tc.want {
				t.Errorf("Subject = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("NameWithLineBreak", func(t *testing.T) {
		a := testAlert(statesrv.OutcomeFail)
		a.Process = "Nightly\r\nBcc: x@example.com"
		if got, want := Subject(a), "[statesrv] FAIL 26 Nightly Bcc: x@example.com"; got != want {
			t.Errorf("Subject = %q, want %q", got, want)
		}
	})
}

func TestText(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		want := `Process 26 NightlyExport: the run did not report before its deadline.

Process:     26 NightlyExport
Outcome:     TIMEOUT
Run:         7d3c9f0e-1111-4222-8333-944455556666
Started:     2026-11-25T02:00:00Z
Deadline:    2026-11-25T04:00:00Z
Ended:       2026-11-25T04:00:00Z

http://localhost:8080/runs/7d3c9f0e-1111-4222-8333-944455556666
`
		if got := Text(testAlert(statesrv.OutcomeTimeout)); got != want {
			t.Errorf("Text:\n%s\nwant:\n%s", got, want)
		}
	})
	for _, tc := range []struct {
		outcome string
		want    []string
	}{
		{statesrv.OutcomeOK, []string{"reported OK", "Outcome:     OK\n", "Ended:       2026-11-25T02:47:00Z", "Exit code:   0"}},
		{statesrv.OutcomeFail, []string{"reported FAIL", "Exit code:   3", "Message:     disk full\n"}},
		{statesrv.OutcomeLate, []string{"after its run had timed out", "Late report: 2026-11-25T04:00:05Z", "Message:     done at last"}},
		{statesrv.OutcomeRecovered, []string{"OK again after failing", "Down for:    3h12m, 4 failed runs\n"}},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			a := testAlert(tc.outcome)
			got := Text(a)
			for _, w := range append(tc.want, "Process:     26 NightlyExport\n", "Started:     2026-11-25T02:00:00Z\n",
				"Deadline:    2026-11-25T04:00:00Z\n", a.Link) {
				if !strings.Contains(got, w) {
					t.Errorf("Text lacks %q:\n%s", w, got)
				}
			}
		})
	}
	t.Run("MultiLineMessage", func(t *testing.T) {
		a := testAlert(statesrv.OutcomeFail)
		a.Message = "line one\r\nline two"
		if got, want := Text(a), "Message:     line one\n             line two\n"; !strings.Contains(got, want) {
			t.Errorf("Text lacks %q:\n%s", want, got)
		}
	})
}

func TestHTMLEscapes(t *testing.T) {
	a := testAlert(statesrv.OutcomeFail)
	a.Process = "<script>alert(1)</script>"
	a.Link = "javascript:alert(3)"
	got, err := HTML(a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "<script>") || strings.Contains(got, "javascript:") {
		t.Errorf("HTML is not escaped:\n%s", got)
	}
	if !strings.Contains(got, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("HTML lacks the escaped name:\n%s", got)
	}
}

func TestSMSText(t *testing.T) {
	long := strings.Repeat("VeryLongProcessName", 20)
	for _, tc := range []struct {
		name   string
		change func(*Alert)
		want   string // exact, when set
		has    []string
	}{
		{name: "timeout", want: "statesrv TIMEOUT 26 NightlyExport 02:00Z http://localhost:8080/runs/7d3c9f0e-1111-4222-8333-944455556666"},
		{name: "fail", want: "statesrv FAIL 26 NightlyExport 02:00Z disk full http://localhost:8080/runs/7d3c9f0e-1111-4222-8333-944455556666"},
		{name: "recovered", want: "statesrv RECOVERED 26 NightlyExport 02:00Z down 3h12m, 4 failed http://localhost:8080/runs/7d3c9f0e-1111-4222-8333-944455556666"},
		{name: "LongNameIsShortened", change: func(a *Alert) { a.Process = long },
			has: []string{"statesrv TIMEOUT 26 VeryLongProcessName", "... 02:00Z http://localhost:8080/runs/"}},
		{name: "LongLinkIsDropped", change: func(a *Alert) { a.Process = long; a.Link = "https://statesrv.example.com/" + strings.Repeat("x", 150) },
			has: []string{"statesrv TIMEOUT 26 VeryLongProcessName", "... 02:00Z"}},
		{name: "LongNameKeepsMessage", change: func(a *Alert) { a.Process = long; a.Message = "disk full" },
			has: []string{"statesrv TIMEOUT 26 VeryLongProcessName", "... 02:00Z disk full http://localhost:8080/runs/"}},
		{name: "LongNameAndMessage", change: func(a *Alert) { a.Process = long; a.Message = strings.Repeat("error ", 100) },
			has: []string{"statesrv TIMEOUT 26 VeryLongProcessName", "... 02:00Z error error", "... http://localhost:8080/runs/"}},
		{name: "LongMessageIsShortened", change: func(a *Alert) { a.Message = strings.Repeat("error ", 100) },
			has: []string{"02:00Z error error", "... http://localhost:8080/runs/"}},
		{name: "OtherDayHasDate", change: func(a *Alert) { a.At = a.At.Add(24 * time.Hour) },
			has: []string{"NightlyExport 11-25 02:00Z http"}},
		{name: "NoName", change: func(a *Alert) { a.Process, a.Run.Name = "", "" },
			want: "statesrv TIMEOUT 26 02:00Z http://localhost:8080/runs/7d3c9f0e-1111-4222-8333-944455556666"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outcome := tc.name
			if tc.change != nil {
				outcome = statesrv.OutcomeTimeout
			}
			a := testAlert(outcome)
			if tc.change != nil {
				tc.change(&a)
			}
			got := SMSText(a)
			if n := utf8.RuneCountInString(got); n > 160 {
				t.Errorf("SMSText has %d characters: %q", n, got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("SMSText = %q, want %q", got, tc.want)
			}
			for _, h := range tc.has {
				if !strings.Contains(got, h) {
					t.Errorf("SMSText = %q, lacks %q", got, h)
				}
			}
			if tc.name == "LongLinkIsDropped" && strings.Contains(got, "https://") {
				t.Errorf("SMSText = %q kept a link that cannot fit", got)
			}
		})
	}
}

// TestSMSTextFits tries many lengths of name, message and link.
func TestSMSTextFits(t *testing.T) {
	for _, outcome := range outcomes {
		for _, n := range []int{0, 10, 16, 60, 120, 159, 160, 161, 400} {
			for _, l := range []int{0, 40, 140, 300} {
				a := testAlert(outcome)
				a.Process = strings.Repeat("ž", n) // not ASCII: characters, not bytes, count
				a.Message = strings.Repeat("m", n)
				a.Link = "https://x/" + strings.Repeat("l", l)
				got := SMSText(a)
				if c := utf8.RuneCountInString(got); c > 160 {
					t.Errorf("%s name %d link %d: %d characters: %q", outcome, n, l, c, got)
				}
				if !strings.HasPrefix(got, "statesrv "+strings.ToUpper(outcome)+" 26") {
					t.Errorf("%s name %d link %d: %q lacks the head", outcome, n, l, got)
				}
			}
		}
	}
}
