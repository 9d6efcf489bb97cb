package commands

import (
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
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
	switch outcome {
	case statesrv.OutcomeOK:
		add(statesrv.OutcomeOK, ps.Alerts.OK)
		if prev.FailStreak > 0 {
			add(statesrv.OutcomeRecovered, ps.Alerts.Recovered)
		}
	case statesrv.OutcomeFail:
		add(statesrv.OutcomeFail, ps.Alerts.Fail)
	case statesrv.OutcomeTimeout:
		add(statesrv.OutcomeTimeout, ps.Alerts.Timeout)
	case statesrv.OutcomeLate:
		add(statesrv.OutcomeLate, ps.Alerts.Late)
	}
	for _, l := range lists {
		for _, to := range l.recipients {
			a := &statesrv.AlertRequestedData{
				AlertID: newID(), Recipient: to, Outcome: l.outcome, Run: run, MessageID: msgID,
			}
			if run != nil {
				a.RunID = run.ID
			}
			if l.outcome == statesrv.OutcomeRecovered {
				a.DownFor = statesrv.Duration(d.at.Sub(prev.FailingSince))
				a.Failures = prev.FailStreak
			}
			d.add(statesrv.EventAlertRequested, pid, a)
		}
	}
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

// AlertDelivered records that the receiver accepted alert id after the
// given number of attempts. It appends nothing (and returns a nil receipt)
// when the alert is not pending, so a delivery is recorded once.
func (s *Service) AlertDelivered(id string, attempts int) *Receipt {
	return s.alertDone(id, &statesrv.AlertDeliveredData{AlertID: id, Attempts: attempts})
}

// AlertFailed records that alert id could not be delivered.
func (s *Service) AlertFailed(id string, attempts int, reason string) *Receipt {
	return s.alertDone(id, &statesrv.AlertFailedData{AlertID: id, Attempts: attempts, Error: reason})
}

func (s *Service) alertDone(id string, data any) *Receipt {
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
