package notify

import (
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
)

// TestTextStartMissedAndTooFast checks the texts of a start_missed alert
// and of the fail alert of a run that ended sooner than its min_runtime.
func TestTextStartMissedAndTooFast(t *testing.T) {
	t.Run("StartMissed", func(t *testing.T) {
		a := testAlert(statesrv.OutcomeStartMissed)
		sched := a.Run.StartedAt
		a.Run.ScheduledAt, a.Run.StartMissed = &sched, true
		want := `Process 26 NightlyExport: the job has not reported its start by its start grace; the run stays open until its deadline.

Process:     26 NightlyExport
Outcome:     START_MISSED
Run:         7d3c9f0e-1111-4222-8333-944455556666
Scheduled:   2026-11-25T02:00:00Z
Deadline:    2026-11-25T04:00:00Z

http://localhost:8080/runs/7d3c9f0e-1111-4222-8333-944455556666
`
		if got := Text(a); got != want {
			t.Errorf("Text:\n%s\nwant:\n%s", got, want)
		}
		if got := Subject(a); got != "[statesrv] START_MISSED 26 NightlyExport" {
			t.Errorf("Subject = %q", got)
		}
	})
	t.Run("TooFast", func(t *testing.T) {
		a := testAlert(statesrv.OutcomeFail)
		a.Run.TooFast, a.Message = true, "finished in 4s, expected at least 1m"
		got := Text(a)
		for _, want := range []string{"reported OK sooner than its min run time, so it counts as FAIL",
			"Message:     finished in 4s, expected at least 1m\n"} {
			if !strings.Contains(got, want) {
				t.Errorf("Text lacks %q:\n%s", want, got)
			}
		}
		if sms := SMSText(a); !strings.Contains(sms, "FAIL 26") || !strings.Contains(sms, "finished in 4s") {
			t.Errorf("SMS %q", sms)
		}
	})
}
