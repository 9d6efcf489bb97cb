package statesrv

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// Event types of the log (SPEC §7). Types are only ever added; a changed
// meaning gets a new type.
const (
	EventProcessDefined     = "ProcessDefined"
	EventProcessDeleted     = "ProcessDeleted"
	EventRunStarted         = "RunStarted"
	EventRunAttached        = "RunAttached"
	EventMessageReceived    = "MessageReceived"
	EventMessageRejected    = "MessageRejected"
	EventRunFinished        = "RunFinished"
	EventRunTimedOut        = "RunTimedOut"
	EventMessageUnprocessed = "MessageUnprocessed"
	EventMessageDismissed   = "MessageDismissed"
	EventScheduleGap        = "ScheduleGap"
	EventAlertRequested     = "AlertRequested"
	EventAlertAttemptFailed = "AlertAttemptFailed"
	EventAlertDelivered     = "AlertDelivered"
	EventAlertFailed        = "AlertFailed"
	EventUserPasswordSet    = "UserPasswordSet"
	EventAlertSuppressed    = "AlertSuppressed"
	EventAlertsPaused       = "AlertsPaused"
	EventAlertsResumed      = "AlertsResumed"
	EventAPITokenCreated    = "APITokenCreated"
	EventAPITokenRevoked    = "APITokenRevoked"
	EventRunStartMissed     = "RunStartMissed"
	EventMessagesDropped    = "MessagesDropped"
	EventUserDefined        = "UserDefined"
	EventUserDeleted        = "UserDeleted"
)

// EventType is one registered type of event: its name, its code in the
// log, a constructor of a pointer to its zero payload, which the event's
// data decodes into, and, for a type whose data may hold a secret, the
// redaction of its data.
type EventType struct {
	Name string
	// Code is the number the log stores instead of the name. A code is
	// given once and never changed or given to another type: a log holds
	// the codes it was written with (TestEventTypeCodesNeverChange).
	Code uint64
	New  func() any
	// Redact, when not nil, returns the event's data as it may be shown
	// (API, pages, replay): without the secrets, saying only that they
	// were set. Nil: the data is shown as stored.
	Redact func(data []byte) []byte
}

func payload[T any]() any { return new(T) }

// eventTypes is the registry of event types, in the order the audit log's
// type filter offers them. Decoding, that filter and the log's interning of
// type names all derive from it: a new type is added here and nowhere else.
var eventTypes = []EventType{
	{EventProcessDefined, 1, payload[ProcessDefinedData], redactProcessDefined},
	{EventProcessDeleted, 2, payload[ProcessDeletedData], nil},
	{EventRunStarted, 3, payload[RunStartedData], nil},
	{EventRunAttached, 4, payload[RunAttachedData], nil},
	{EventRunStartMissed, 5, payload[RunStartMissedData], nil},
	{EventMessageReceived, 6, payload[MessageReceivedData], nil},
	{EventMessageRejected, 7, payload[MessageRejectedData], nil},
	{EventRunFinished, 8, payload[RunFinishedData], nil},
	{EventRunTimedOut, 9, payload[RunTimedOutData], nil},
	{EventMessageUnprocessed, 10, payload[MessageUnprocessedData], nil},
	{EventMessageDismissed, 11, payload[MessageDismissedData], nil},
	{EventMessagesDropped, 12, payload[MessagesDroppedData], nil},
	{EventScheduleGap, 13, payload[ScheduleGapData], nil},
	{EventAlertRequested, 14, payload[AlertRequestedData], nil},
	{EventAlertAttemptFailed, 15, payload[AlertAttemptFailedData], nil},
	{EventAlertDelivered, 16, payload[AlertDeliveredData], nil},
	{EventAlertFailed, 17, payload[AlertFailedData], nil},
	{EventAlertSuppressed, 18, payload[AlertSuppressedData], nil},
	{EventAlertsPaused, 19, payload[AlertsPausedData], nil},
	{EventAlertsResumed, 20, payload[AlertsResumedData], nil},
	{EventUserDefined, 24, payload[UserDefinedData], redactUserDefined},
	{EventUserDeleted, 25, payload[UserDeletedData], nil},
	{EventUserPasswordSet, 21, payload[UserPasswordSetData], redactPasswordSet},
	{EventAPITokenCreated, 22, payload[APITokenCreatedData], redactTokenCreated},
	{EventAPITokenRevoked, 23, payload[APITokenRevokedData], nil},
}

// EventTypes returns the registered event types, in the audit log's order.
func EventTypes() []EventType { return slices.Clone(eventTypes) }

// EventTypeNames returns the names of the registered event types, in the
// audit log's order.
func EventTypeNames() []string {
	names := make([]string, len(eventTypes))
	for i, t := range eventTypes {
		names[i] = t.Name
	}
	return names
}

// EventTypeCodes returns the code of every registered type by its name,
// for the log (eventlog.Options.TypeCodes).
func EventTypeCodes() map[string]uint64 {
	m := make(map[string]uint64, len(eventTypes))
	for _, t := range eventTypes {
		m[t.Name] = t.Code
	}
	return m
}

// NewPayload returns a pointer to a zero payload of the event type name,
// or nil when the type is not registered.
func NewPayload(name string) any {
	if f := payloadOf[name]; f != nil {
		return f()
	}
	return nil
}

var payloadOf = func() map[string]func() any {
	m := make(map[string]func() any, len(eventTypes))
	for _, t := range eventTypes {
		m[t.Name] = t.New
	}
	return m
}()

// RedactEvent returns the data of an event of type typ at time at as it
// may be shown outside the server: as JSON (PayloadJSON; {} for a payload
// that does not decode), through the registry's Redact of the type. Events
// of every version are covered, including definitions that an older
// version stored with the key in clear.
func RedactEvent(typ string, at time.Time, data []byte) []byte {
	data, err := PayloadJSON(typ, at, data)
	if err != nil {
		return []byte("{}")
	}
	if f := redactOf[typ]; f != nil {
		return f(data)
	}
	return data
}

var redactOf = func() map[string]func([]byte) []byte {
	m := map[string]func([]byte) []byte{}
	for _, t := range eventTypes {
		if t.Redact != nil {
			m[t.Name] = t.Redact
		}
	}
	return m
}()

// redactProcessDefined leaves out the key (in clear, in older events) and
// its hash, and says "key_set": true when one was set.
func redactProcessDefined(data []byte) []byte {
	return redactMembers(data, "key_set", "key", "key_hash")
}

// redactPasswordSet leaves out the password's hash.
func redactPasswordSet(data []byte) []byte {
	return redactMembers(data, "", "hash")
}

// redactUserDefined leaves out the password's hash and says
// "password_set": true when the event set one.
func redactUserDefined(data []byte) []byte {
	return redactMembers(data, "password_set", "hash")
}

// redactTokenCreated leaves out the hash of the token's secret: it cannot
// be reversed, but nothing outside the server needs it.
func redactTokenCreated(data []byte) []byte {
	return redactMembers(data, "", "hash")
}

// redactMembers returns data, a JSON object, without the members names;
// when one of them held a value other than "" and set is not empty, the
// member set is true. Data without those members is returned as it is;
// data that is not an object becomes {}. The data is decoded whatever it
// looks like, so a member name written with escapes is found too.
func redactMembers(data []byte, set string, names ...string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || m == nil {
		return []byte("{}")
	}
	if !slices.ContainsFunc(names, func(n string) bool { _, ok := m[n]; return ok }) {
		return data
	}
	had := false
	for _, n := range names {
		if v, ok := m[n]; ok {
			had = had || !bytes.Equal(bytes.TrimSpace(v), []byte(`""`)) && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
			delete(m, n)
		}
	}
	if had && set != "" {
		m[set] = json.RawMessage("true")
	}
	out, err := json.Marshal(m)
	if err != nil {
		return []byte("{}")
	}
	return out
}

// Actors that are not a user or a remote address.
const (
	ActorScheduler = "scheduler"
	ActorCLI       = "cli"
	ActorAdmin     = "admin"
)

// ProcessDefinedData is the whole new definition.
type ProcessDefinedData = Process

// ProcessDeletedData names the definition that was deleted.
type ProcessDeletedData struct {
	Name string `json:"name"`
}

// RunStartedData opens a run.
type RunStartedData struct {
	RunID       string     `json:"run_id"`
	Source      string     `json:"source"`
	StartedAt   time.Time  `json:"started_at"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	Deadline    time.Time  `json:"deadline"`
	Missed      bool       `json:"missed,omitempty"`
	// Early marks a scheduled run that a report opened before its fire
	// time (ScheduledAt), within the server's clock-skew tolerance.
	Early     bool   `json:"early,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Name      string `json:"name,omitempty"`
}

// RunAttachedData records that a START report arrived for a run the
// schedule had already opened.
type RunAttachedData struct {
	RunID     string    `json:"run_id"`
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
}

// RunStartMissedData records that a scheduled run had no report (START,
// OK or FAIL) by its fire time plus the process's start_grace. The run
// stays open until its deadline; a late START still attaches to it.
type RunStartMissedData struct {
	RunID       string    `json:"run_id"`
	ScheduledAt time.Time `json:"scheduled_at"`
	Grace       Duration  `json:"start_grace"`
	// Due is when the start was due: ScheduledAt plus Grace.
	Due time.Time `json:"due"`
}

// MessageReceivedData is a well-formed report as it arrived. The process's
// key is never stored (Line has it replaced by "***"); KeyGiven says
// whether one was sent.
type MessageReceivedData struct {
	MessageID string            `json:"message_id"`
	Transport string            `json:"transport"`
	Remote    string            `json:"remote"`
	Line      string            `json:"line"`
	State     string            `json:"state"`
	Name      string            `json:"name,omitempty"`
	Run       string            `json:"run,omitempty"`
	Msg       string            `json:"msg,omitempty"`
	Code      *int              `json:"code,omitempty"`
	MID       string            `json:"mid,omitempty"`
	KeyGiven  bool              `json:"key_given,omitempty"`
	Extra     map[string]string `json:"extra,omitempty"`
	// NameMismatch is set when the reported name differs from the
	// definition's.
	NameMismatch bool `json:"name_mismatch,omitempty"`
}

// MessageRejectedData is a malformed or refused report.
type MessageRejectedData struct {
	MessageID string `json:"message_id"`
	Transport string `json:"transport"`
	Remote    string `json:"remote"`
	Line      string `json:"line"`
	// Reason is ReasonMalformed or ReasonBadKey; Detail the ERR text.
	Reason string `json:"reason"`
	Detail string `json:"detail"`
	State  string `json:"state,omitempty"`
	Name   string `json:"name,omitempty"`
	MID    string `json:"mid,omitempty"`
}

// RunFinishedData closes a run with OK or FAIL.
type RunFinishedData struct {
	RunID      string    `json:"run_id"`
	State      string    `json:"state"`
	MessageID  string    `json:"message_id"`
	FinishedAt time.Time `json:"finished_at"`
	Message    string    `json:"message,omitempty"`
	Code       *int      `json:"code,omitempty"`
	Name       string    `json:"name,omitempty"`
	// TooFast marks an OK that came sooner than the process's min_runtime:
	// State is then FAIL and Message says how long the run took.
	TooFast bool `json:"too_fast,omitempty"`
}

// RunTimedOutData closes a run that passed its deadline.
type RunTimedOutData struct {
	RunID    string    `json:"run_id"`
	Deadline time.Time `json:"deadline"`
}

// MessageUnprocessedData says a report closed no run, and why.
type MessageUnprocessedData struct {
	MessageID string `json:"message_id"`
	Reason    string `json:"reason"`
	RunID     string `json:"run_id,omitempty"`
}

// MessageDismissedData removes a message from the unprocessed view.
type MessageDismissedData struct {
	MessageID string `json:"message_id"`
}

// MessagesDroppedData counts the refused and unprocessed lines from one
// address that came past the per-address rate (SPEC §10) within one minute
// and were answered but not stored.
type MessagesDroppedData struct {
	// Remote is the address, without a port.
	Remote string `json:"remote"`
	Count  int    `json:"count"`
	// Reasons counts the lines by the reason they were refused or
	// unprocessed (ReasonUnknownProcess, ReasonMalformed, ...).
	Reasons map[string]int `json:"reasons"`
	// FirstAt and LastAt are when the first and last of them came; First
	// and Last are those lines, cut to MaxDroppedLine bytes.
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
	First   string    `json:"first"`
	Last    string    `json:"last"`
}

// MaxDroppedLine bounds, in bytes, the lines a MessagesDropped keeps.
const MaxDroppedLine = 256

// ScheduleGapData records fire times missed while the server was down.
type ScheduleGapData struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Missed int       `json:"missed"`
	// RunID is the run opened for the latest missed fire time.
	RunID string `json:"run_id"`
}

// UserPasswordSetData sets a user's password hash.
type UserPasswordSetData struct {
	User string `json:"user"`
	Hash string `json:"hash"`
}

// UserDefinedData creates a user or changes its role and, when Hash is
// not empty, its password.
type UserDefinedData struct {
	User string `json:"user"`
	Role string `json:"role"`
	Hash string `json:"hash,omitempty"`
}

// UserDeletedData removes a user. The tokens the user owned are revoked
// by APITokenRevoked events of the same append.
type UserDeletedData struct {
	User string `json:"user"`
}

// APITokenCreatedData records a new bearer token of the JSON API. The
// secret itself is never stored: Hash is the hex SHA-256 of it. User is
// the user the token acts for (its owner); Role is at most that user's
// role. Tokens of older logs have no Role: they act with the role their
// user had when the token was created.
type APITokenCreatedData struct {
	TokenID string `json:"token_id"`
	User    string `json:"user"`
	Name    string `json:"name"`
	Role    string `json:"role,omitempty"`
	Hash    string `json:"hash"`
}

// APITokenRevokedData withdraws a token.
type APITokenRevokedData struct {
	TokenID string `json:"token_id"`
}

// APIToken is a bearer token as the views keep it.
type APIToken struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Role      string    `json:"role,omitempty"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// Alert outcomes: which of a process's recipient lists an alert goes to.
const (
	OutcomeOK        = "ok"
	OutcomeFail      = "fail"
	OutcomeTimeout   = "timeout"
	OutcomeLate      = "late"
	OutcomeRecovered = "recovered"
	// OutcomeStartMissed goes to the timeout recipients when a scheduled
	// run had no report by its start grace.
	OutcomeStartMissed = "start_missed"
	// OutcomeTest is an alert an operator asked for, to check a recipient.
	OutcomeTest = "test"
)

// AlertRequestedData is an alert that is due: one recipient, one outcome,
// decided with the event that caused it. Run is the run as it then stood,
// so the alert says what was known when it was decided.
type AlertRequestedData struct {
	AlertID   string `json:"alert_id"`
	RunID     string `json:"run_id,omitempty"`
	Recipient string `json:"recipient"`
	Outcome   string `json:"outcome"`
	Run       *Run   `json:"run,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	// For "recovered": how long the process was failing and how many
	// runs failed or timed out meanwhile.
	DownFor  Duration `json:"down_for,omitempty"`
	Failures int      `json:"failures,omitempty"`
	// Repeat marks a reminder that the process is still failed.
	Repeat bool `json:"repeat,omitempty"`
}

// AlertAttemptFailedData records one failed attempt to deliver an alert
// (the event's time is when the attempt failed). A retry follows at
// RetryAt; without one (a permanent failure, or the retries ran out) an
// AlertFailed follows in the same append.
type AlertAttemptFailedData struct {
	AlertID string `json:"alert_id"`
	// Attempt counts the alert's attempts, from 1.
	Attempt int `json:"attempt"`
	// Error is what the channel said, cut to MaxAttemptError runes.
	Error     string    `json:"error"`
	Temporary bool      `json:"temporary"`
	RetryAt   time.Time `json:"retry_at,omitzero"`
}

// MaxAttemptError bounds, in runes, the error an AlertAttemptFailed keeps.
const MaxAttemptError = 500

// MaxAlertAttempts is how many of its latest failed attempts an alert's
// record keeps (the log keeps them all).
const MaxAlertAttempts = 20

// AlertDeliveredData records that the receiver accepted an alert.
type AlertDeliveredData struct {
	AlertID  string `json:"alert_id"`
	Attempts int    `json:"attempts"`
}

// AlertFailedData records that an alert could not be delivered: a
// permanent refusal, or temporary failures until the retries ran out.
type AlertFailedData struct {
	AlertID  string `json:"alert_id"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
}

// AlertSuppressedData records an alert that was due but held back, and
// why: so the audit log shows why nobody was woken.
type AlertSuppressedData struct {
	AlertID   string `json:"alert_id"`
	RunID     string `json:"run_id,omitempty"`
	Recipient string `json:"recipient"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason"`
}

// AlertsPausedData holds back the alerts of one process (the event's
// process id) or of all (process id 0) until a time, or until resumed when
// Until is zero.
type AlertsPausedData struct {
	Until time.Time `json:"until,omitzero"`
}

// AlertsResumedData ends a pause of one process's alerts, or of all.
type AlertsResumedData struct{}

// Alert statuses.
const (
	AlertPending    = "pending"
	AlertDelivered  = "delivered"
	AlertFailed     = "failed"
	AlertSuppressed = "suppressed"
)

// Alert is an alert and its delivery status, as the API lists it.
// Attempts counts the attempts made so far; while the alert is pending,
// Error is the last failed attempt's error and RetryAt when the next
// attempt is due. FailedAttempts lists the latest failed attempts (at most
// MaxAlertAttempts, oldest first).
type Alert struct {
	ID             string         `json:"id"`
	ProcessID      int64          `json:"process_id"`
	RunID          string         `json:"run_id,omitempty"`
	Recipient      string         `json:"recipient"`
	Outcome        string         `json:"outcome"`
	Status         string         `json:"status"`
	RequestedAt    time.Time      `json:"requested_at"`
	DoneAt         *time.Time     `json:"done_at,omitempty"`
	Attempts       int            `json:"attempts"`
	Error          string         `json:"error,omitempty"`
	Seq            uint64         `json:"seq"`
	LastAttemptAt  *time.Time     `json:"last_attempt_at,omitempty"`
	RetryAt        *time.Time     `json:"retry_at,omitempty"`
	FailedAttempts []AlertAttempt `json:"failed_attempts,omitempty"`
}

// AlertAttempt is one failed delivery attempt of an alert.
type AlertAttempt struct {
	Attempt   int        `json:"attempt"`
	At        time.Time  `json:"at"`
	Error     string     `json:"error"`
	Temporary bool       `json:"temporary"`
	RetryAt   *time.Time `json:"retry_at,omitempty"`
}
