// Package projections folds the event log into the views the product shows:
// process definitions, open runs, history, unprocessed messages and the
// per-process event index.
//
// Core is the small state that lives in memory (definitions, open runs, what
// each process last did). The write side (commands) keeps its own Core, fed
// with the events it decides; the Runner keeps another, fed from the log, and
// persists it with the larger views in a Badger database of its own together
// with a checkpoint, so a restart continues where it stopped and a rebuild
// from seq 1 gives the same result.
package projections

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// ProcessState is a definition and what its process last did.
type ProcessState struct {
	statesrv.Process
	// DefinedAt is when the definition last changed.
	DefinedAt time.Time `json:"defined_at"`
	// Fired is the fire time up to which the schedule has been handled.
	Fired time.Time `json:"fired"`
	// LastState, LastAt and LastRun describe the last finished run.
	LastState string    `json:"last_state,omitempty"`
	LastAt    time.Time `json:"last_at"`
	LastRun   string    `json:"last_run,omitempty"`
	// LateRun is the last timed-out run, until a report claims it as late.
	LateRun string `json:"late_run,omitempty"`
	// FailStreak counts the runs that failed or timed out since the last
	// OK, the first of them at FailingSince.
	FailStreak   int       `json:"fail_streak,omitempty"`
	FailingSince time.Time `json:"failing_since"`
	// LastOKAt is when a run last finished OK; LastDuration is how long
	// the last finished run took (start to end).
	LastOKAt     time.Time     `json:"last_ok_at"`
	LastDuration time.Duration `json:"last_duration,omitempty"`
	// AlertedAt is when a fail or timeout alert of the process was last
	// requested or suppressed: repeats count from it.
	AlertedAt time.Time `json:"alerted_at"`
}

// PendingAlert is an alert requested and not yet delivered or failed.
type PendingAlert struct {
	statesrv.AlertRequestedData
	ProcessID   int64     `json:"process_id"`
	RequestedAt time.Time `json:"requested_at"`
	// Attempts counts the failed attempts recorded (AlertAttemptFailed);
	// FirstAttemptAt and LastAttemptAt are when the first and the last of
	// them failed, RetryAt when the next attempt is due. The sender resumes
	// from them after a restart.
	Attempts       int       `json:"attempts,omitempty"`
	FirstAttemptAt time.Time `json:"first_attempt_at,omitzero"`
	LastAttemptAt  time.Time `json:"last_attempt_at,omitzero"`
	RetryAt        time.Time `json:"retry_at,omitzero"`
}

// Core is the in-memory state: definitions, open runs and users.
type Core struct {
	// Seq is the last event applied (0 for the write side's pending state).
	Seq   uint64
	Procs map[int64]*ProcessState
	// Runs holds the open runs by id; byProc the same, per process, in the
	// order they opened.
	Runs   map[string]*statesrv.Run
	byProc map[int64][]*statesrv.Run
	// Users holds the dashboard users by name.
	Users map[string]statesrv.User
	// Tokens holds the API tokens that have not been revoked, by id.
	Tokens map[string]statesrv.APIToken
	// Alerts holds the alerts waiting for delivery, by id.
	Alerts map[string]*PendingAlert
	// Pauses holds the alert pauses by process id (0: every process); a
	// zero time means until resumed.
	Pauses map[int64]time.Time

	lastReceived *received

	// What changed since ClearDirty, for persistence; not kept when
	// untracked (the write side persists nothing).
	untracked   bool
	dirtyProcs  map[int64]bool
	dirtyRuns   map[string]bool
	dirtyUsers  map[string]bool
	dirtyTokens map[string]bool
	dirtyAlerts map[string]bool
	dirtyPauses map[int64]bool
}

// received is the last MessageReceived, needed by the MessageUnprocessed that
// follows it in the same append.
type received struct {
	seq  uint64
	at   time.Time
	pid  int64
	raw  json.RawMessage
	data *statesrv.MessageReceivedData
}

// NewCore returns an empty state.
func NewCore() *Core {
	return &Core{
		Procs: map[int64]*ProcessState{}, Runs: map[string]*statesrv.Run{},
		byProc: map[int64][]*statesrv.Run{}, Users: map[string]statesrv.User{},
		Tokens: map[string]statesrv.APIToken{}, dirtyTokens: map[string]bool{},
		Alerts: map[string]*PendingAlert{}, Pauses: map[int64]time.Time{},
		dirtyPauses: map[int64]bool{},
		dirtyProcs:  map[int64]bool{}, dirtyRuns: map[string]bool{}, dirtyUsers: map[string]bool{},
		dirtyAlerts: map[string]bool{},
	}
}

// tokenRole is the role of a new token: the one it was given, or, for a
// token of an older log, that of its user then (admin for a user not
// defined, as the --api-token's).
func (c *Core) tokenRole(d *statesrv.APITokenCreatedData) string {
	if d.Role != "" {
		return d.Role
	}
	if u, ok := c.Users[d.User]; ok {
		return u.Role
	}
	return statesrv.RoleAdmin
}

// Effect is what one event changed in the persisted views beyond Core.
type Effect struct {
	// Closed is a run that moved to history.
	Closed *statesrv.Run
	// Unprocessed is a message that joined the unprocessed view.
	Unprocessed *statesrv.Unprocessed
	// Dismissed is the id of a message that left it.
	Dismissed string
	// Opened is the id of a run that opened.
	Opened string
	// Alert is an alert that was requested, or whose delivery ended (then
	// only ID, Status, DoneAt, Attempts and Error are set).
	Alert *statesrv.Alert
	// Attempt is a failed delivery attempt of a pending alert.
	Attempt *AlertAttempt
	// Dropped counts lines of one address that were answered but not
	// stored.
	Dropped *statesrv.MessagesDroppedData
}

// AlertAttempt is a failed delivery attempt of the alert AlertID.
type AlertAttempt struct {
	AlertID string
	statesrv.AlertAttempt
}

// Decode returns the typed payload of e, or nil for types Core ignores.
func Decode(e *eventlog.Event) (any, error) {
	if e.Type == statesrv.EventMessageReceived {
		return nil, nil // decoded lazily: only an unprocessed report needs it
	}
	v := statesrv.NewPayload(e.Type)
	if v == nil {
		return nil, nil
	}
	if err := statesrv.DecodePayload(e.Type, e.Time, e.Data, v); err != nil {
		return nil, fmt.Errorf("projections: event %d (%s): %w", e.Seq, e.Type, err)
	}
	if p, ok := v.(*statesrv.Process); ok {
		// A definition of an older version holds its key in clear: it is
		// hashed here, salted from the event's id, so that every fold of
		// the log gives the same hash and the key goes no further.
		p.FoldLegacyKey(e.ID[:])
	}
	return v, nil
}

// Apply folds a committed event into c.
func (c *Core) Apply(e *eventlog.Event) (Effect, error) {
	payload, err := Decode(e)
	if err != nil {
		return Effect{}, err
	}
	return c.applyDecoded(e, payload), nil
}

// applyDecoded folds e, whose payload Decode gave, into c.
func (c *Core) applyDecoded(e *eventlog.Event, payload any) Effect {
	if e.Type == statesrv.EventMessageReceived {
		c.lastReceived = &received{seq: e.Seq, at: e.Time, pid: e.ProcessID, raw: e.Data}
		c.Seq = e.Seq
		return Effect{}
	}
	eff := c.ApplyPayload(e.Seq, e.Time, e.ProcessID, payload)
	c.lastReceived = nil
	if c.untracked {
		c.ClearDirty()
	}
	c.Seq = e.Seq
	return eff
}

// ReceivedPending records a MessageReceived on the write side, where the
// payload is at hand and no seq exists yet.
func (c *Core) ReceivedPending(at time.Time, pid int64, d *statesrv.MessageReceivedData) {
	c.lastReceived = &received{at: at, pid: pid, data: d}
}

// ApplyPayload folds one typed payload (as Decode returns it) into c. The
// write side calls it with the payloads it has just decided (it then calls
// ReceivedPending for a MessageReceived, whose payload Decode leaves out).
func (c *Core) ApplyPayload(seq uint64, at time.Time, pid int64, payload any) Effect {
	switch d := payload.(type) {
	case *statesrv.Process:
		c.defineProcess(at, d)
	case *statesrv.ProcessDeletedData:
		for _, r := range c.byProc[pid] {
			delete(c.Runs, r.ID)
			c.dirtyRuns[r.ID] = true
		}
		delete(c.byProc, pid)
		delete(c.Procs, pid)
		c.dirtyProcs[pid] = true
	case *statesrv.RunStartedData:
		c.startRun(pid, d)
		return Effect{Opened: d.RunID}
	case *statesrv.RunAttachedData:
		if r := c.Runs[d.RunID]; r != nil {
			t := d.At
			r.Reported = &t
			c.dirtyRuns[r.ID] = true
		}
	case *statesrv.RunStartMissedData:
		if r := c.Runs[d.RunID]; r != nil {
			r.StartMissed = true
			c.dirtyRuns[r.ID] = true
		}
	case *statesrv.RunFinishedData:
		r := c.closeRun(pid, d.RunID, d.State, d.FinishedAt)
		if r == nil {
			return Effect{}
		}
		r.Message, r.Code, r.TooFast = d.Message, d.Code, d.TooFast
		if d.Name != "" {
			r.Name = d.Name
		}
		return Effect{Closed: r}
	case *statesrv.RunTimedOutData:
		r := c.closeRun(pid, d.RunID, statesrv.StateTimeout, at)
		if r == nil {
			return Effect{}
		}
		if ps := c.Procs[pid]; ps != nil {
			ps.LateRun = r.ID
		}
		return Effect{Closed: r}
	case *statesrv.MessageUnprocessedData:
		return Effect{Unprocessed: c.unprocessed(seq, at, pid, d)}
	case *statesrv.MessageRejectedData:
		return Effect{Unprocessed: &statesrv.Unprocessed{
			ID: d.MessageID, Seq: seq, ReceivedAt: at, Remote: d.Remote, Line: d.Line,
			ProcessID: pid, State: d.State, Name: d.Name, Reason: d.Reason, Detail: d.Detail,
		}}
	case *statesrv.MessageDismissedData:
		return Effect{Dismissed: d.MessageID}
	case *statesrv.MessagesDroppedData:
		return Effect{Dropped: d}
	case *statesrv.ScheduleGapData:
		if ps := c.Procs[pid]; ps != nil && d.To.After(ps.Fired) {
			ps.Fired = d.To
			c.dirtyProcs[pid] = true
		}
	case *statesrv.UserPasswordSetData:
		// Logs older than roles made their one user, admin, with this
		// event alone: a password for a user not defined makes an admin.
		u, ok := c.Users[d.User]
		if !ok {
			u = statesrv.User{Name: d.User, Role: statesrv.RoleAdmin, CreatedAt: at}
		}
		u.Hash = d.Hash
		c.Users[d.User] = u
		c.dirtyUsers[d.User] = true
	case *statesrv.UserDefinedData:
		u, ok := c.Users[d.User]
		if !ok {
			u = statesrv.User{Name: d.User, CreatedAt: at}
		}
		u.Role = d.Role
		if d.Hash != "" {
			u.Hash = d.Hash
		}
		c.Users[d.User] = u
		c.dirtyUsers[d.User] = true
	case *statesrv.UserDeletedData:
		delete(c.Users, d.User)
		c.dirtyUsers[d.User] = true
	case *statesrv.APITokenCreatedData:
		c.Tokens[d.TokenID] = statesrv.APIToken{ID: d.TokenID, User: d.User, Name: d.Name,
			Role: c.tokenRole(d), Hash: d.Hash, CreatedAt: at}
		c.dirtyTokens[d.TokenID] = true
	case *statesrv.APITokenRevokedData:
		delete(c.Tokens, d.TokenID)
		c.dirtyTokens[d.TokenID] = true
	case *statesrv.AlertRequestedData:
		c.alerted(pid, d.Outcome, at)
		c.Alerts[d.AlertID] = &PendingAlert{AlertRequestedData: *d, ProcessID: pid, RequestedAt: at}
		c.dirtyAlerts[d.AlertID] = true
		return Effect{Alert: &statesrv.Alert{ID: d.AlertID, ProcessID: pid, RunID: d.RunID,
			Recipient: d.Recipient, Outcome: d.Outcome, Status: statesrv.AlertPending, RequestedAt: at, Seq: seq}}
	case *statesrv.AlertSuppressedData:
		c.alerted(pid, d.Outcome, at)
		t := at
		return Effect{Alert: &statesrv.Alert{ID: d.AlertID, ProcessID: pid, RunID: d.RunID,
			Recipient: d.Recipient, Outcome: d.Outcome, Status: statesrv.AlertSuppressed,
			RequestedAt: at, DoneAt: &t, Error: d.Reason, Seq: seq}}
	case *statesrv.AlertsPausedData:
		c.Pauses[pid] = d.Until
		c.dirtyPauses[pid] = true
	case *statesrv.AlertsResumedData:
		delete(c.Pauses, pid)
		c.dirtyPauses[pid] = true
	case *statesrv.AlertAttemptFailedData:
		return c.alertAttempt(d, at)
	case *statesrv.AlertDeliveredData:
		return c.alertDone(d.AlertID, statesrv.AlertDelivered, d.Attempts, "", at)
	case *statesrv.AlertFailedData:
		return c.alertDone(d.AlertID, statesrv.AlertFailed, d.Attempts, d.Error, at)
	}
	return Effect{}
}

// alerted notes when a fail or timeout alert of pid was last decided.
func (c *Core) alerted(pid int64, outcome string, at time.Time) {
	if outcome != statesrv.OutcomeFail && outcome != statesrv.OutcomeTimeout {
		return
	}
	if ps := c.Procs[pid]; ps != nil {
		ps.AlertedAt = at
		c.dirtyProcs[pid] = true
	}
}

// alertAttempt notes a failed attempt of a pending alert.
func (c *Core) alertAttempt(d *statesrv.AlertAttemptFailedData, at time.Time) Effect {
	a := c.Alerts[d.AlertID]
	if a == nil {
		return Effect{}
	}
	if a.FirstAttemptAt.IsZero() {
		a.FirstAttemptAt = at
	}
	a.Attempts, a.LastAttemptAt, a.RetryAt = d.Attempt, at, d.RetryAt
	c.dirtyAlerts[d.AlertID] = true
	eff := &AlertAttempt{AlertID: d.AlertID, AlertAttempt: statesrv.AlertAttempt{
		Attempt: d.Attempt, At: at, Error: d.Error, Temporary: d.Temporary}}
	if !d.RetryAt.IsZero() {
		t := d.RetryAt
		eff.RetryAt = &t
	}
	return Effect{Attempt: eff}
}

func (c *Core) alertDone(id, status string, attempts int, errText string, at time.Time) Effect {
	if c.Alerts[id] == nil {
		return Effect{}
	}
	delete(c.Alerts, id)
	c.dirtyAlerts[id] = true
	t := at
	return Effect{Alert: &statesrv.Alert{ID: id, Status: status, DoneAt: &t, Attempts: attempts, Error: errText}}
}

func (c *Core) defineProcess(at time.Time, p *statesrv.Process) {
	ps := c.Procs[p.ID]
	if ps == nil {
		ps = &ProcessState{Fired: at}
		c.Procs[p.ID] = ps
	}
	old := ps.Process
	// A changed schedule, zone, or a process enabled again, fires from now
	// on: fire times of the old definition are not "missed".
	if old.Schedule != p.Schedule || old.Timezone != p.Timezone || (!old.Enabled && p.Enabled) {
		ps.Fired = at
	}
	ps.Process = *p
	ps.Process.Key, ps.Process.KeySet = nil, false // only KeyHash is kept
	ps.Process.Alerts = cloneAlerts(p.Alerts)
	ps.DefinedAt = at
	c.dirtyProcs[p.ID] = true
}

func cloneAlerts(a statesrv.Alerts) statesrv.Alerts {
	return statesrv.Alerts{OK: slices.Clone(a.OK), Fail: slices.Clone(a.Fail),
		Timeout: slices.Clone(a.Timeout), Late: slices.Clone(a.Late), Recovered: slices.Clone(a.Recovered)}
}

func (c *Core) startRun(pid int64, d *statesrv.RunStartedData) {
	if c.Runs[d.RunID] != nil {
		return // already open: an event applied twice changes nothing
	}
	r := &statesrv.Run{
		ID: d.RunID, ProcessID: pid, Name: d.Name, State: statesrv.StateRunning,
		Source: d.Source, StartedAt: d.StartedAt, Deadline: d.Deadline, Missed: d.Missed, Early: d.Early,
	}
	if d.ScheduledAt != nil {
		t := *d.ScheduledAt
		r.ScheduledAt = &t
	}
	ps := c.Procs[pid]
	if ps != nil && r.Name == "" {
		r.Name = ps.Name
	}
	if ps != nil && d.Source == statesrv.SourceSchedule && d.ScheduledAt != nil && d.ScheduledAt.After(ps.Fired) {
		ps.Fired = *d.ScheduledAt
		c.dirtyProcs[pid] = true
	}
	c.Runs[r.ID] = r
	list := c.byProc[pid]
	i, _ := slices.BinarySearchFunc(list, r, runOrder)
	c.byProc[pid] = slices.Insert(list, i, r)
	c.dirtyRuns[r.ID] = true
}

// runOrder orders a process's open runs: earliest start first, then by id
// (time-ordered UUIDs), the same live and after a reload.
func runOrder(a, b *statesrv.Run) int {
	if d := a.StartedAt.Compare(b.StartedAt); d != 0 {
		return d
	}
	return cmpString(a.ID, b.ID)
}

// closeRun removes an open run and records its outcome on the process.
func (c *Core) closeRun(pid int64, runID, state string, at time.Time) *statesrv.Run {
	r := c.Runs[runID]
	if r == nil {
		return nil
	}
	delete(c.Runs, runID)
	c.dirtyRuns[runID] = true
	list := c.byProc[pid]
	if i := slices.Index(list, r); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(c.byProc, pid)
	} else {
		c.byProc[pid] = list
	}
	t := at
	r.State, r.FinishedAt = state, &t
	if ps := c.Procs[pid]; ps != nil {
		ps.LastState, ps.LastAt, ps.LastRun = state, at, runID
		ps.LastDuration = at.Sub(r.StartedAt)
		if state == statesrv.StateOK {
			ps.FailStreak, ps.FailingSince = 0, time.Time{}
			ps.LastOKAt = at
		} else {
			if ps.FailStreak == 0 {
				ps.FailingSince = at
			}
			ps.FailStreak++
		}
		if state != statesrv.StateTimeout {
			// A later run finished: a report with no open run is no longer
			// about the run that timed out before it.
			ps.LateRun = ""
		}
		c.dirtyProcs[pid] = true
	}
	return r
}

func (c *Core) unprocessed(seq uint64, at time.Time, pid int64, d *statesrv.MessageUnprocessedData) *statesrv.Unprocessed {
	u := &statesrv.Unprocessed{ID: d.MessageID, Seq: seq, ReceivedAt: at, ProcessID: pid,
		Reason: d.Reason, RunID: d.RunID}
	if d.Reason == statesrv.ReasonLate {
		if ps := c.Procs[pid]; ps != nil && ps.LateRun == d.RunID {
			ps.LateRun = ""
			c.dirtyProcs[pid] = true
		}
	}
	if m := c.lastReceived; m != nil {
		if m.data == nil {
			var md statesrv.MessageReceivedData
			if statesrv.DecodePayload(statesrv.EventMessageReceived, m.at, m.raw, &md) == nil {
				m.data = &md
			}
		}
		if m.data != nil && m.data.MessageID == d.MessageID {
			if m.seq != 0 {
				u.Seq = m.seq
			}
			u.ReceivedAt, u.Remote, u.Line = m.at, m.data.Remote, m.data.Line
			u.State, u.Name = m.data.State, m.data.Name
		}
	}
	return u
}

// OpenRuns returns the open runs of a process in runOrder. The slice is
// the Core's own: do not change it.
func (c *Core) OpenRuns(pid int64) []*statesrv.Run { return c.byProc[pid] }

// AllOpenRuns returns every open run, earliest deadline first.
func (c *Core) AllOpenRuns() []statesrv.Run {
	// Pointers are sorted, not the runs: moving the structs would cost
	// more than comparing them.
	runs := slices.AppendSeq(make([]*statesrv.Run, 0, len(c.Runs)), maps.Values(c.Runs))
	slices.SortFunc(runs, func(a, b *statesrv.Run) int {
		if d := a.Deadline.Compare(b.Deadline); d != 0 {
			return d
		}
		return cmpString(a.ID, b.ID)
	})
	out := make([]statesrv.Run, len(runs))
	for i, r := range runs {
		out[i] = *r
	}
	return out
}

// ProcessList returns the definitions ordered by id.
func (c *Core) ProcessList() []ProcessState {
	ids := slices.Sorted(maps.Keys(c.Procs))
	out := make([]ProcessState, len(ids))
	for i, id := range ids {
		out[i] = *c.Procs[id]
	}
	return out
}

func sign(v int64) int64 {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Untrack stops c from remembering what changed: for a Core that is never
// persisted.
func (c *Core) Untrack() {
	c.untracked = true
	c.ClearDirty()
}

// ClearDirty forgets what changed; the persistence calls it after a write.
func (c *Core) ClearDirty() {
	clear(c.dirtyProcs)
	clear(c.dirtyRuns)
	clear(c.dirtyUsers)
	clear(c.dirtyTokens)
	clear(c.dirtyAlerts)
	clear(c.dirtyPauses)
}

// Paused reports whether the alerts of process pid are held back at t, by
// a pause of the process or of every process, and until when (zero: until
// resumed).
func (c *Core) Paused(pid int64, t time.Time) (until time.Time, paused bool) {
	for _, id := range []int64{pid, 0} {
		if u, ok := c.Pauses[id]; ok && (u.IsZero() || t.Before(u)) {
			return u, true
		}
	}
	return time.Time{}, false
}

// rebuildIndex restores byProc from Runs after loading, ordering each
// process's runs by start time.
func (c *Core) rebuildIndex() {
	clear(c.byProc)
	for _, r := range c.Runs {
		c.byProc[r.ProcessID] = append(c.byProc[r.ProcessID], r)
	}
	for _, list := range c.byProc {
		slices.SortFunc(list, runOrder)
	}
}
