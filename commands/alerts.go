package commands

import (
	"fmt"
	"slices"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/textfmt"
)

// requestAlerts adds an AlertRequested for each recipient of the outcome
// (SPEC §5), in the decision that caused it, so an alert is never decided
// without its cause nor its cause without its alert. run is the run as it
// now stands (nil when not known). prev is the process as it stood before
// the run closed, for "recovered".
func (s *Service) requestAlerts(d *decision, pid int64, outcome string, run *statesrv.Run, msgID string, prev projections.ProcessState) {
	ps := s.core.Procs[pid]
	if ps == nil {
		return
	}
	var lists []struct {
		outcome    string
		recipients []string
	}
	add := func(o string, r []string) {
		lists = append(lists, struct {
			outcome    string
			recipients []string
		}{o, r})
	}
	threshold := max(1, ps.AlertAfter)
	switch outcome {
	case statesrv.OutcomeOK:
		add(statesrv.OutcomeOK, ps.Alerts.OK)
		// Recovered only from a failure someone was told of.
		if prev.FailStreak >= threshold {
			add(statesrv.OutcomeRecovered, ps.Alerts.Recovered)
		}
	case statesrv.OutcomeFail:
		add(statesrv.OutcomeFail, ps.Alerts.Fail)
	case statesrv.OutcomeTimeout:
		add(statesrv.OutcomeTimeout, ps.Alerts.Timeout)
	case statesrv.OutcomeLate:
		add(statesrv.OutcomeLate, ps.Alerts.Late)
	case statesrv.OutcomeStartMissed:
		add(statesrv.OutcomeStartMissed, ps.Alerts.Timeout)
	}
	for _, l := range lists {
		reason := s.suppressed(ps, prev, l.outcome, d.at)
		for _, to := range l.recipients {
			runID := ""
			if run != nil {
				runID = run.ID
			}
			if reason != "" {
				d.add(statesrv.EventAlertSuppressed, pid, &statesrv.AlertSuppressedData{
					AlertID: newID(), RunID: runID, Recipient: to, Outcome: l.outcome, Reason: reason})
				continue
			}
			a := &statesrv.AlertRequestedData{
				AlertID: newID(), RunID: runID, Recipient: to, Outcome: l.outcome, Run: run, MessageID: msgID,
			}
			if l.outcome == statesrv.OutcomeRecovered {
				a.DownFor = statesrv.Duration(d.at.Sub(prev.FailingSince))
				a.Failures = prev.FailStreak
			}
			d.add(statesrv.EventAlertRequested, pid, a)
		}
	}
	if ps.RepeatEvery > 0 {
		s.signal() // the scheduler's next wake-up may now be a reminder
	}
}

// repeatAlerts requests the reminders that are due at d.at: for each
// process that stays failed (its last run failed or timed out, past its
// alert_after) and whose last fail or timeout alert is repeat_every old.
// It returns when the next reminder falls due (zero when none waits).
func (s *Service) repeatAlerts(d *decision) time.Time {
	var next time.Time
	for _, ps := range s.core.Procs {
		if len(d.recs) >= maxTickEvents {
			return d.at // the rest are due at once, in the next tick
		}
		every := time.Duration(ps.RepeatEvery)
		if every <= 0 || ps.AlertedAt.IsZero() || ps.FailStreak < max(1, ps.AlertAfter) ||
			(ps.LastState != statesrv.StateFail && ps.LastState != statesrv.StateTimeout) {
			continue
		}
		due := ps.AlertedAt.Add(every)
		if due.After(d.at) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		outcome := outcomeOf(ps.LastState)
		recipients := ps.Alerts.Fail
		if outcome == statesrv.OutcomeTimeout {
			recipients = ps.Alerts.Timeout
		}
		reason := s.suppressed(ps, *ps, "repeat", d.at)
		for _, to := range recipients {
			if reason != "" {
				d.add(statesrv.EventAlertSuppressed, ps.ID, &statesrv.AlertSuppressedData{
					AlertID: newID(), RunID: ps.LastRun, Recipient: to, Outcome: outcome, Reason: reason})
				continue
			}
			d.add(statesrv.EventAlertRequested, ps.ID, &statesrv.AlertRequestedData{
				AlertID: newID(), RunID: ps.LastRun, Recipient: to, Outcome: outcome, Repeat: true,
				Failures: ps.FailStreak, DownFor: statesrv.Duration(d.at.Sub(ps.FailingSince))})
		}
		if len(recipients) > 0 {
			if n := ps.AlertedAt.Add(every); next.IsZero() || n.Before(next) {
				next = n // AlertedAt moved on with the events just added
			}
		}
	}
	return next
}

// suppressed says why an alert of the outcome is held back at t, or ""
// when it goes out: a pause, a maintenance window, or (for fail and
// timeout) fewer failures in a row than the process's alert_after.
func (s *Service) suppressed(ps *projections.ProcessState, prev projections.ProcessState, outcome string, t time.Time) string {
	if until, ok := s.core.Paused(ps.ID, t); ok {
		if until.IsZero() {
			return "alerts paused"
		}
		return "alerts paused until " + until.UTC().Format(time.RFC3339)
	}
	for _, w := range ps.Maintenance {
		sch, err := schedule.Parse(w.Schedule, ps.Timezone)
		if err != nil {
			continue
		}
		// In a window when one opened within its duration before t.
		if opened, _, ok := sch.Latest(t.Add(-time.Duration(w.Duration)), t); ok {
			return fmt.Sprintf("maintenance window %q (%s) since %s", w.Schedule,
				time.Duration(w.Duration), opened.UTC().Format(time.RFC3339))
		}
	}
	if outcome == statesrv.OutcomeFail || outcome == statesrv.OutcomeTimeout {
		if streak := prev.FailStreak + 1; streak < ps.AlertAfter {
			return fmt.Sprintf("failure %d of %d in a row before alerting", streak, ps.AlertAfter)
		}
	}
	return ""
}

// PauseAlerts holds back the alerts of process pid (0: of every process)
// until the given time (zero: until resumed). Runs are still recorded, and
// each held-back alert is recorded as suppressed.
func (s *Service) PauseAlerts(pid int64, until time.Time, actor string) (*Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pid != 0 && s.core.Procs[pid] == nil {
		return nil, statesrv.Errorf(statesrv.ENotFound, "process %d not found", pid)
	}
	if !until.IsZero() && !until.After(s.clock.Now()) {
		return nil, statesrv.Errorf(statesrv.EInvalid, "until: must be in the future")
	}
	d := s.decide(actor)
	d.add(statesrv.EventAlertsPaused, pid, &statesrv.AlertsPausedData{Until: until.UTC()})
	return d.submit(""), nil
}

// ResumeAlerts ends a pause of process pid's alerts (0: of every process).
// It returns ENotFound when there is no such pause.
func (s *Service) ResumeAlerts(pid int64, actor string) (*Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.core.Pauses[pid]; !ok {
		return nil, statesrv.Errorf(statesrv.ENotFound, "no pause to resume")
	}
	d := s.decide(actor)
	d.add(statesrv.EventAlertsResumed, pid, &statesrv.AlertsResumedData{})
	return d.submit(""), nil
}

// outcomeOf maps a run state to its alert outcome.
func outcomeOf(state string) string {
	switch state {
	case statesrv.StateOK:
		return statesrv.OutcomeOK
	case statesrv.StateFail:
		return statesrv.OutcomeFail
	}
	return statesrv.OutcomeTimeout
}

// AlertPending reports whether alert id is requested and neither delivered
// nor failed, by the whole log as the write side knows it. The views can
// show an alert as pending while they are rebuilt (its request applied, its
// delivery not yet); the sender asks here before it sends.
func (s *Service) AlertPending(id string) bool {
	_, ok := s.PendingAlert(id)
	return ok
}

// PendingAlert returns alert id as the write side knows it, with its
// recorded failed attempts, and whether it is still pending (requested and
// neither delivered nor failed).
func (s *Service) PendingAlert(id string) (projections.PendingAlert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.core.Alerts[id]; a != nil {
		return *a, true
	}
	return projections.PendingAlert{}, false
}

// AlertAttemptFailed records a failed attempt to deliver alert id, to be
// retried at retryAt; errText is cut to statesrv.MaxAttemptError runes.
// It appends nothing (and returns a nil receipt) when the alert is not
// pending.
func (s *Service) AlertAttemptFailed(id string, attempt int, errText string, temporary bool, retryAt time.Time) *Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.core.Alerts[id]
	if a == nil {
		return nil
	}
	d := s.decide(statesrv.ActorScheduler)
	d.add(statesrv.EventAlertAttemptFailed, a.ProcessID, &statesrv.AlertAttemptFailedData{AlertID: id, Attempt: attempt,
		Error: textfmt.Head(errText, statesrv.MaxAttemptError), Temporary: temporary, RetryAt: retryAt.UTC()})
	return d.submit("")
}

// AlertDelivered records that the receiver accepted alert id after the
// given number of attempts. It appends nothing (and returns a nil receipt)
// when the alert is not pending, so a delivery is recorded once.
func (s *Service) AlertDelivered(id string, attempts int) *Receipt {
	return s.alertDone(id, &statesrv.AlertDeliveredData{AlertID: id, Attempts: attempts}, nil)
}

// AlertFailed records that alert id could not be delivered.
func (s *Service) AlertFailed(id string, attempts int, reason string) *Receipt {
	return s.alertDone(id, &statesrv.AlertFailedData{AlertID: id, Attempts: attempts, Error: reason}, nil)
}

// AlertGaveUp records the last failed attempt of alert id and, in the same
// append, that the alert failed: the failure was permanent (temporary
// false), or the retries ran out.
func (s *Service) AlertGaveUp(id string, attempts int, reason string, temporary bool) *Receipt {
	attempt := &statesrv.AlertAttemptFailedData{AlertID: id, Attempt: attempts,
		Error: textfmt.Head(reason, statesrv.MaxAttemptError), Temporary: temporary}
	return s.alertDone(id, &statesrv.AlertFailedData{AlertID: id, Attempts: attempts, Error: reason}, attempt)
}

// alertDone appends the outcome data of a pending alert, after the failed
// attempt that led to it when there is one.
func (s *Service) alertDone(id string, data any, attempt *statesrv.AlertAttemptFailedData) *Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.core.Alerts[id]
	if a == nil {
		return nil
	}
	typ := statesrv.EventAlertDelivered
	if _, failed := data.(*statesrv.AlertFailedData); failed {
		typ = statesrv.EventAlertFailed
	}
	d := s.decide(statesrv.ActorScheduler)
	if attempt != nil {
		d.add(statesrv.EventAlertAttemptFailed, a.ProcessID, attempt)
	}
	d.add(typ, a.ProcessID, data)
	return d.submit("")
}

// lateAlerts requests the "late" alerts of a report about a run that had
// already timed out.
func (s *Service) lateAlerts(d *decision, pid int64, runID, msgID string) {
	var run *statesrv.Run
	if r, ok, err := s.finishedRun(runID); err == nil && ok {
		run = &r
	}
	if run == nil {
		run = &statesrv.Run{ID: runID, ProcessID: pid, State: statesrv.StateTimeout}
	}
	s.requestAlerts(d, pid, statesrv.OutcomeLate, run, msgID, projections.ProcessState{})
}

// TestAlert requests a test alert to one recipient of process pid (any
// recipient the definition names), so an operator can check the channel.
// It goes through the outbox like any alert and is listed with them.
func (s *Service) TestAlert(pid int64, recipient, actor string) (*Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.core.Procs[pid]
	if ps == nil {
		return nil, statesrv.Errorf(statesrv.ENotFound, "process %d not found", pid)
	}
	a := ps.Alerts
	all := [][]string{a.OK, a.Fail, a.Timeout, a.Late, a.Recovered}
	found := false
	for _, l := range all {
		found = found || slices.Contains(l, recipient)
	}
	if !found {
		return nil, statesrv.Errorf(statesrv.EInvalid, "recipient: %q is not a recipient of process %d", recipient, pid)
	}
	d := s.decide(actor)
	d.add(statesrv.EventAlertRequested, pid, &statesrv.AlertRequestedData{
		AlertID: newID(), Recipient: recipient, Outcome: statesrv.OutcomeTest})
	return d.submit(""), nil
}
