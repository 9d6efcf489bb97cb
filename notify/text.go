package notify

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/textfmt"
)

// label is the outcome as the wire and the subject spell it.
func label(outcome string) string {
	return strings.ToUpper(textfmt.Flatten(outcome))
}

// headline says in one sentence what happened.
func headline(a Alert) string {
	var what string
	switch a.Outcome {
	case statesrv.OutcomeOK:
		what = "the run reported OK"
	case statesrv.OutcomeFail:
		what = "the run reported FAIL"
		if a.Run.TooFast {
			what = "the run reported OK sooner than its min run time, so it counts as FAIL"
		}
	case statesrv.OutcomeStartMissed:
		what = "the job has not reported its start by its start grace; the run stays open until its deadline"
	case statesrv.OutcomeTimeout:
		what = "the run did not report before its deadline"
	case statesrv.OutcomeLate:
		what = "a report arrived after its run had timed out"
	case statesrv.OutcomeRecovered:
		what = "the process reported OK again after failing"
	case statesrv.OutcomeTest:
		what = "this is a test alert, sent on request; no run is affected"
	default:
		what = "outcome " + label(a.Outcome)
	}
	return fmt.Sprintf("Process %s: %s.", processTitle(a), what)
}

// processName is the name the alert knows the process by.
func processName(a Alert) string {
	if a.Process != "" {
		return textfmt.Flatten(a.Process)
	}
	return textfmt.Flatten(a.Run.Name)
}

// processTitle is "26 NightlyExport", or "26" without a name.
func processTitle(a Alert) string {
	id := strconv.FormatInt(a.ProcessID, 10)
	if n := processName(a); n != "" {
		return id + " " + n
	}
	return id
}

// Subject renders the e-mail subject, like "[statesrv] TIMEOUT 26
// NightlyExport". It is one line; a very long name is shortened.
func Subject(a Alert) string {
	return shorten("[statesrv] "+label(a.Outcome)+" "+processTitle(a), 150)
}

// field is one line of the alert's details.
type field struct {
	Label string
	Value string
	Pre   bool // multi-line text, shown as is
}

// fields lists the alert's details, in the order Text and HTML show them.
// The link is not among them.
func fields(a Alert) []field {
	f := []field{
		{Label: "Process", Value: processTitle(a)},
		{Label: "Outcome", Value: label(a.Outcome)},
	}
	add := func(l, v string) {
		if v != "" {
			f = append(f, field{Label: l, Value: v})
		}
	}
	add("Run", textfmt.Flatten(a.Run.ID))
	if a.Outcome == statesrv.OutcomeStartMissed && a.Run.ScheduledAt != nil {
		add("Scheduled", timestamp(*a.Run.ScheduledAt))
	} else {
		add("Started", timestamp(a.Run.StartedAt))
	}
	add("Deadline", timestamp(a.Run.Deadline))
	if a.Run.FinishedAt != nil {
		add("Ended", timestamp(*a.Run.FinishedAt))
	}
	if a.Run.Code != nil {
		add("Exit code", strconv.Itoa(*a.Run.Code))
	}
	if a.Outcome == statesrv.OutcomeLate {
		add("Late report", timestamp(a.At))
	}
	if a.Outcome == statesrv.OutcomeRecovered {
		add("Down for", downFor(a))
	}
	if m := strings.TrimSpace(a.Message); m != "" {
		f = append(f, field{Label: "Message", Value: m, Pre: true})
	}
	return f
}

// downFor is "3h12m, 4 failed runs".
func downFor(a Alert) string {
	runs := "runs"
	if a.Failures == 1 {
		runs = "run"
	}
	return fmt.Sprintf("%s, %d failed %s", textfmt.Rough(a.DownFor), a.Failures, runs)
}

// Text renders the plain-text body: the process id and name, the outcome,
// the run's start, deadline and end (RFC 3339 UTC), the report's message
// and the link; for "recovered" how long the process was down and how
// many runs failed meanwhile.
func Text(a Alert) string {
	var b strings.Builder
	b.WriteString(headline(a))
	b.WriteString("\n\n")
	const width = len("Late report: ")
	for _, f := range fields(a) {
		fmt.Fprintf(&b, "%-*s", width, f.Label+":")
		// Continuation lines of a message line up under its first line.
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(f.Value, "\r\n", "\n"), "\n", "\n"+strings.Repeat(" ", width)))
		b.WriteString("\n")
	}
	if a.Link != "" {
		fmt.Fprintf(&b, "\n%s\n", a.Link)
	}
	return b.String()
}

// htmlView is what the HTML body shows.
type htmlView struct {
	Subject  string
	Headline string
	Fields   []field
	Link     string
}

var htmlBody = template.Must(template.New("alert").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:sans-serif">
<p><strong>{{.Headline}}</strong></p>
<table cellpadding="3">
{{- range .Fields}}
<tr><th align="left" valign="top">{{.Label}}</th><td>{{if .Pre}}<pre style="margin:0;white-space:pre-wrap">{{.Value}}</pre>{{else}}{{.Value}}{{end}}</td></tr>
{{- end}}
</table>
{{- if .Link}}
<p><a href="{{.Link}}">Open the run in statesrv</a></p>
{{- end}}
</body></html>
`))

// HTML renders the HTML body of the e-mail: the details of Text, every
// value escaped. Its error is a template failure.
func HTML(a Alert) (string, error) {
	var b strings.Builder
	err := htmlBody.Execute(&b, htmlView{Subject: Subject(a), Headline: headline(a), Fields: fields(a), Link: a.Link})
	if err != nil {
		return "", fmt.Errorf("notify: html: %w", err)
	}
	return b.String(), nil
}

// smsMax is the length of one SMS in the GSM 7-bit alphabet.
const smsMax = 160

// smsNameMin is how far the name is shortened before parts are dropped;
// smsMsgMin how much of the message is kept before the name is shortened.
const (
	smsNameMin = 16
	smsMsgMin  = 40
)

// SMSText renders the SMS: "statesrv TIMEOUT 26 NightlyExport 02:00Z
// <link>", with the report's message before the link when there is room.
// It stays within 160 characters: it shortens the name (to 16 characters)
// and the message (to 40), drops the time, then the link (keeping the time
// if that lets it fit), and shortens the message further.
func SMSText(a Alert) string {
	head := "statesrv " + label(a.Outcome) + " " + strconv.FormatInt(a.ProcessID, 10)
	name := processName(a)
	when := smsTime(a)
	var extra string
	if a.Outcome == statesrv.OutcomeRecovered {
		extra = "down " + textfmt.Rough(a.DownFor)
		if a.Failures > 0 {
			extra += ", " + strconv.Itoa(a.Failures) + " failed"
		}
	}
	link := textfmt.Flatten(a.Link)
	msg := textfmt.Flatten(a.Message)
	join := func(parts ...string) string {
		var kept []string
		for _, p := range parts {
			if p != "" {
				kept = append(kept, p)
			}
		}
		return strings.Join(kept, " ")
	}
	text := func(name, when, msg, link string) string { return join(head, name, when, extra, msg, link) }

	// Keep the time and the link if a shortened name lets them fit; the
	// link matters more than the time.
	short := shorten(name, smsNameMin)
	for _, keep := range [][2]string{{when, link}, {"", link}, {when, ""}, {"", ""}} {
		if runes(text(short, keep[0], "", keep[1])) <= smsMax || keep == [2]string{} {
			when, link = keep[0], keep[1]
			break
		}
	}
	// Give the name what room is left, keeping some for the message.
	if name != "" {
		room := smsMax - runes(text("", when, shorten(msg, smsMsgMin), link)) - 1
		name = shorten(name, max(room, smsNameMin))
	}
	out := text(name, when, "", link)
	if msg != "" {
		if room := smsMax - runes(out) - 1; room >= min(10, runes(msg)) {
			out = text(name, when, shorten(msg, room), link)
		}
	}
	return shorten(out, smsMax)
}

// smsTime is the run's start as "02:00Z", with the date ("11-24 02:00Z")
// when the run did not start on the day the alert was requested.
func smsTime(a Alert) string {
	t := a.Run.StartedAt
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if !a.At.IsZero() && a.At.UTC().Format(time.DateOnly) != t.Format(time.DateOnly) {
		return t.Format("01-02 15:04Z")
	}
	return t.Format("15:04Z")
}

// timestamp is t in RFC 3339 UTC, or "" for the zero time.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// shorten cuts s to at most n characters, ending it with "..." (ASCII, to
// stay in the GSM alphabet of SMS).
func shorten(s string, n int) string {
	if runes(s) <= n || n <= 3 {
		return textfmt.Head(s, n)
	}
	return strings.TrimRightFunc(textfmt.Head(s, n-3), unicode.IsSpace) + "..."
}

func runes(s string) int { return utf8.RuneCountInString(s) }
