package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/textfmt"
)

// MaxRejectedLine is how much of a malformed line is recorded.
const MaxRejectedLine = 512

func resolvedEmpty() *eventlog.Pending { return eventlog.Resolved(nil, false, nil) }

// actorFor returns the actor of a report: "tcp:IP" or "http:IP".
func actorFor(transport, remote string) string {
	host := remote
	if i := strings.LastIndexByte(remote, ':'); i >= 0 {
		host = strings.Trim(remote[:i], "[]")
	}
	return transport + ":" + host
}

// midKey is the idempotency key of a report's client message id.
func midKey(pid int64, mid string) string {
	return "mid/" + strconv.FormatInt(pid, 10) + "/" + mid
}

// Reject records a line that could not be parsed (or was refused before a
// decision) and returns a receipt that answers with err once recorded.
// rep holds what could be parsed; err is the *statesrv.Error to reply.
func (s *Service) Reject(rep Report, err error) *Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reject(rep, statesrv.ReasonMalformed, err)
}

// reject records a refused line, unless its address is past the rate
// (then it is only counted), and answers err.
func (s *Service) reject(rep Report, reason string, err error) *Receipt {
	d := s.decide(actorFor(rep.Transport, rep.Remote))
	if !s.admit(d, rep, reason) {
		return s.dropped(err)
	}
	d.add(statesrv.EventMessageRejected, rep.ProcessID, &statesrv.MessageRejectedData{
		MessageID: newID(), Transport: rep.Transport, Remote: rep.Remote, Line: cutBytes(rep.Line, MaxRejectedLine),
		Reason: reason, Detail: statesrv.ErrorMessage(err), State: rep.State,
		Name: cutBytes(rep.Name, maxKeptField), MID: cutBytes(rep.MID, maxKeptField),
	})
	r := d.submit("")
	r.refused = err
	return r
}

// Report takes a well-formed report and decides, by the rules of SPEC §4,
// which run it opens or closes. A retry whose mid is already stored appends
// nothing and answers with the first copy's seq.
func (s *Service) Report(rep Report) *Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The key is checked first, so that a wrong key never learns whether a
	// mid was stored, against its salted hash in constant time. A wrong
	// key is refused with its own reason (ReasonBadKey), which the
	// per-address limits count among the refused lines.
	ps := s.core.Procs[rep.ProcessID]
	if ps != nil && ps.KeyHash != "" && !statesrv.KeyMatches(ps.KeyHash, rep.Key) {
		return s.reject(rep, statesrv.ReasonBadKey, statesrv.Errorf(statesrv.EInvalid, "bad key"))
	}
	key := ""
	if rep.MID != "" {
		key = midKey(rep.ProcessID, rep.MID)
		p, err := s.log.Existing(key)
		if err != nil {
			return &Receipt{p: eventlog.Resolved(nil, false, err)}
		}
		if p != nil {
			return &Receipt{p: p}
		}
	}
	d := s.decide(actorFor(rep.Transport, rep.Remote))
	msgID := newID()
	recv := &statesrv.MessageReceivedData{
		MessageID: msgID, Transport: rep.Transport, Remote: rep.Remote, Line: rep.Line,
		State: rep.State, Name: rep.Name, Run: rep.Run, Msg: rep.Msg, Code: rep.Code,
		MID: rep.MID, KeyGiven: rep.Key != "", Extra: rep.Extra,
	}
	if ps != nil && rep.Name != "" && rep.Name != ps.Name {
		recv.NameMismatch = true
	}
	d.add(statesrv.EventMessageReceived, rep.ProcessID, recv)
	// A report that closes no run counts toward its address's rate: within
	// it, its MessageReceived (the decision's only record so far) keeps
	// the line once; past it, nothing is stored.
	dropped := false
	unprocessed := func(reason, runID string) {
		if !s.admit(d, rep, reason) {
			dropped = true
			return
		}
		*recv = keptOnce(*recv)
		d.recs[0].Data, d.err = statesrv.EncodePayload(statesrv.EventMessageReceived, d.at, recv)
		d.add(statesrv.EventMessageUnprocessed, rep.ProcessID,
			&statesrv.MessageUnprocessedData{MessageID: msgID, Reason: reason, RunID: runID})
		if reason == statesrv.ReasonLate {
			s.lateAlerts(d, rep.ProcessID, runID, msgID)
		}
	}
	switch {
	case ps == nil:
		unprocessed(statesrv.ReasonUnknownProcess, "")
	case rep.State == statesrv.StateStart:
		s.takeStart(d, ps.ID, rep, msgID)
	default:
		s.takeEnd(d, rep, msgID, unprocessed)
	}
	if dropped {
		return s.dropped(nil)
	}
	return d.submit(key)
}

// takeStart attaches a START to the oldest scheduled run not yet reported,
// or opens a run.
func (s *Service) takeStart(d *decision, pid int64, rep Report, msgID string) {
	for _, r := range s.core.OpenRuns(pid) {
		if r.Source == statesrv.SourceSchedule && r.Reported == nil && !r.Early && (rep.Run == "" || rep.Run == r.ID) {
			d.add(statesrv.EventRunAttached, pid, &statesrv.RunAttachedData{RunID: r.ID, MessageID: msgID, At: d.at})
			return
		}
	}
	if s.openEarly(d, pid, msgID, rep.Name) != nil {
		return
	}
	s.openRun(d, pid, statesrv.SourceReport, msgID, rep.Name)
}

// openEarly opens, for a report at d.at that comes shortly before a fire
// time of process pid, that fire time's run: scheduled, marked early, its
// deadline counted from the fire time. The scheduler then finds the fire
// time taken (the RunStarted moves the process's Fired mark to it) and
// opens nothing for it, also after a restart. It returns nil, adding
// nothing, when the report is not within the tolerance of a fire time.
func (s *Service) openEarly(d *decision, pid int64, msgID, name string) *statesrv.RunStartedData {
	fire, ok := s.earlyFor(pid, d.at)
	if !ok {
		return nil
	}
	ps := s.core.Procs[pid]
	data := &statesrv.RunStartedData{
		RunID: newID(), Source: statesrv.SourceSchedule, StartedAt: d.at, ScheduledAt: &fire,
		Deadline: fire.Add(time.Duration(ps.MaxRuntime)), Early: true, MessageID: msgID, Name: name,
	}
	d.add(statesrv.EventRunStarted, pid, data)
	return data
}

// earlyFor returns the fire time of process pid that a report at t comes
// early for: the next fire time the scheduler will handle, if it lies
// after t by at most the tolerance. The tolerance is the clock skew, or
// half the interval from the fire time before it when that is shorter, so
// a report is never taken from the run before. Only processes the server
// fires (enabled, scheduled, not fired by cron) have one.
func (s *Service) earlyFor(pid int64, t time.Time) (time.Time, bool) {
	ps, sch := s.core.Procs[pid], s.scheds[pid]
	if s.skew <= 0 || ps == nil || sch == nil || !ps.Enabled {
		return time.Time{}, false
	}
	fire := sch.Next(ps.Fired)
	if fire.IsZero() || !fire.After(t) {
		return time.Time{}, false // none, or one due that the scheduler has yet to open
	}
	tolerance := s.skew
	if prev, ok := sch.Previous(fire, 2*s.skew); ok && fire.Sub(prev) < 2*s.skew {
		tolerance = fire.Sub(prev) / 2
	}
	if fire.Sub(t) > tolerance {
		return time.Time{}, false
	}
	return fire, true
}

// openRun adds a RunStarted that begins now.
func (s *Service) openRun(d *decision, pid int64, source, msgID, name string) *statesrv.RunStartedData {
	ps := s.core.Procs[pid]
	data := &statesrv.RunStartedData{
		RunID: newID(), Source: source, StartedAt: d.at,
		Deadline: d.at.Add(time.Duration(ps.MaxRuntime)), MessageID: msgID, Name: name,
	}
	d.add(statesrv.EventRunStarted, pid, data)
	return data
}

// takeEnd closes a run with OK or FAIL, or says why it cannot.
func (s *Service) takeEnd(d *decision, rep Report, msgID string, unprocessed func(reason, runID string)) {
	pid := rep.ProcessID
	ps := s.core.Procs[pid]
	var runID string
	openedNow := false // the run is opened by this report
	open := s.core.OpenRuns(pid)
	switch {
	case rep.Run != "":
		if r := s.core.Runs[rep.Run]; r != nil && r.ProcessID == pid {
			runID = r.ID
		} else if rep.Run == ps.LateRun || s.timedOut(pid, rep.Run) {
			unprocessed(statesrv.ReasonLate, rep.Run)
			return
		} else {
			unprocessed(statesrv.ReasonNoOpenRun, "")
			return
		}
	case len(open) > 0:
		runID = open[0].ID
	case s.openEarly(d, pid, msgID, rep.Name) != nil:
		// Started and ended at once, as the run of the fire time it
		// comes early for.
		runID, openedNow = s.core.OpenRuns(pid)[0].ID, true
	case ps.LateRun != "":
		unprocessed(statesrv.ReasonLate, ps.LateRun)
		return
	case ps.PushOnly():
		runID = s.openRun(d, pid, statesrv.SourceReport, msgID, rep.Name).RunID
		openedNow = true
	default:
		unprocessed(statesrv.ReasonNoOpenRun, "")
		return
	}
	fin := &statesrv.RunFinishedData{
		RunID: runID, State: rep.State, MessageID: msgID, FinishedAt: d.at,
		Message: rep.Msg, Code: rep.Code, Name: rep.Name,
	}
	if !openedNow {
		s.judgeRuntime(ps, s.core.Runs[runID], fin)
	}
	prev := *ps
	eff := d.add(statesrv.EventRunFinished, pid, fin)
	s.requestAlerts(d, pid, outcomeOf(fin.State), eff.Closed, msgID, prev)
}

// judgeRuntime turns an OK that ends run r sooner than the process's
// min_runtime into a FAIL marked too fast. A run counts from its START
// (reported_at, or started_at for a run a START opened), or from its fire
// time when no START came. A run the same report opened is not judged:
// nothing says how long the job ran.
func (s *Service) judgeRuntime(ps *projections.ProcessState, r *statesrv.Run, fin *statesrv.RunFinishedData) {
	least := time.Duration(ps.MinRuntime)
	if r == nil || least <= 0 || fin.State != statesrv.StateOK {
		return
	}
	start := r.StartedAt
	if r.Reported != nil {
		start = *r.Reported
	}
	if ran := fin.FinishedAt.Sub(start); ran < least {
		fin.State, fin.TooFast = statesrv.StateFail, true
		fin.Message = fmt.Sprintf("finished in %s, expected at least %s", textfmt.Elapsed(max(ran, 0)), ps.MinRuntime.Text())
	}
}

// Dismiss removes an unprocessed message from the view. The event carries
// the message's process id, so the process's audit trail shows it.
func (s *Service) Dismiss(messageID, actor string) (*Receipt, error) {
	msg, ok, err := s.unprocessed(messageID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || s.dismissed[messageID] {
		return nil, statesrv.Errorf(statesrv.ENotFound, "message %s is not unprocessed", messageID)
	}
	s.dismissed[messageID] = true
	d := s.decide(actor)
	d.add(statesrv.EventMessageDismissed, msg.ProcessID, &statesrv.MessageDismissedData{MessageID: messageID})
	return d.submit(""), nil
}

// timedOut reports whether run id of process pid is in history as timed
// out: a report naming it is late, however long ago it timed out.
func (s *Service) timedOut(pid int64, id string) bool {
	run, ok, err := s.finishedRun(id)
	if err != nil {
		s.logger.Warn("commands: history lookup failed", "run_id", id, "error", err)
		return false
	}
	return ok && run.ProcessID == pid && run.State == statesrv.StateTimeout
}
