package schtasks_test

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/crontab"
	"github.com/statesrv/statesrv/schtasks"
)

// FuzzParse reads arbitrary bytes as task XML (testdata/fuzz/FuzzParse
// holds real "schtasks /query /xml" outputs, in UTF-16 as Windows writes
// them and in UTF-8). Parse must not panic, and every proposal it returns
// must be a definition the server accepts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<Task><Triggers><CalendarTrigger><StartBoundary>2020-01-01T07:15:00</StartBoundary>` +
			`<ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay></CalendarTrigger></Triggers>` +
			`<Settings><ExecutionTimeLimit>PT2H</ExecutionTimeLimit></Settings>` +
			`<Actions><Exec><Command>a.exe</Command></Exec></Actions></Task>`,
		`<Tasks><!-- \x\y --><Task><Triggers><CalendarTrigger><StartBoundary>2020-01-01T07:15:00+02:00</StartBoundary>` +
			`<Repetition><Interval>PT15M</Interval></Repetition><ScheduleByDay/></CalendarTrigger></Triggers></Task></Tasks>`,
		`<Task><Triggers><CalendarTrigger><StartBoundary>2020-01-01T00:00:00Z</StartBoundary><ScheduleByMonth>` +
			`<DaysOfMonth><Day>1</Day><Day>31</Day></DaysOfMonth><Months><May/></Months></ScheduleByMonth>` +
			`</CalendarTrigger></Triggers></Task>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkParse)
}

var opts = []schtasks.Options{
	{MaxRuntime: time.Hour},
	{Zone: "Europe/Prague", MaxRuntime: 30 * time.Minute, Microsoft: true},
}

func checkParse(t *testing.T, raw []byte) {
	for _, opt := range opts {
		res, err := schtasks.Parse(raw, opt)
		if err != nil {
			continue
		}
		checkResult(t, res)
	}
}

// checkResult fails t unless every proposal is a definition the server
// accepts and every warning and source note is one line.
func checkResult(t *testing.T, res crontab.Result) {
	t.Helper()
	for _, p := range res.Proposals {
		if strings.ContainsFunc(p.From, unicode.IsControl) {
			t.Errorf("proposal from %q: not one line", p.From)
		}
		def := p.Process
		def.ID = 1
		if err := commands.NormalizeProcess(&def); err != nil {
			t.Errorf("proposal %+v (from %q) is refused: %v", p.Process, p.From, err)
		}
	}
	for _, w := range res.Warnings {
		if strings.ContainsAny(w, "\r\n") {
			t.Errorf("warning %q: not one line", w)
		}
	}
}
