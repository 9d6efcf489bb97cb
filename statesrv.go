// Package statesrv holds the vocabulary of the product: processes (job
// definitions), runs, reports, the event types of the log and their payloads,
// and the one error type that the TCP and HTTP edges turn into replies.
//
// It imports nothing else of this module, so that every other package can
// speak the same words. The behaviour lives elsewhere: the log in eventlog/,
// the decisions in commands/, the views in projections/.
package statesrv

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Run states, as they appear on the wire and in JSON.
const (
	StateRunning = "RUNNING"
	StateOK      = "OK"
	StateFail    = "FAIL"
	StateTimeout = "TIMEOUT"
	// StateStart is a report state only: a job says it began.
	StateStart = "START"
)

// Run sources: what opened a run.
const (
	SourceSchedule = "schedule"
	SourceReport   = "report"
	SourceManual   = "manual"
)

// Reasons a report closed no run (SPEC §4).
const (
	ReasonUnknownProcess = "unknown process"
	ReasonNoOpenRun      = "no open run"
	ReasonLate           = "late"
	ReasonMalformed      = "malformed"
	ReasonBadKey         = "bad key"
)

// Alerts names recipients per outcome. Recipients are URIs: mailto:, sms:,
// https:// (webhook).
type Alerts struct {
	OK        []string `json:"ok"`
	Fail      []string `json:"fail"`
	Timeout   []string `json:"timeout"`
	Late      []string `json:"late"`
	Recovered []string `json:"recovered"`
}

// Process is a job definition: what the server expects to hear and when.
type Process struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Schedule    string `json:"schedule"`
	Timezone    string `json:"timezone"`
	// MaxRuntime is left out of JSON while zero: unset, the default applies.
	MaxRuntime Duration `json:"max_runtime,omitempty"`
	Enabled    bool     `json:"enabled"`
	// Key is the process's key in clear, as a definition gives it: nil
	// keeps the key already set, "" removes it. It is input only: the
	// write side stores KeyHash instead, and the server never shows it.
	// (Definitions of older versions hold it in clear; the Core hashes it
	// when it reads them.)
	Key *string `json:"key,omitempty"`
	// KeySet says, in what the server shows (Redacted), that a key is set.
	// A definition's KeySet is ignored.
	KeySet bool `json:"key_set,omitempty"`
	// KeyHash is the salted hash of the key (HashKey), stored in the log
	// and the views; it never leaves the server. A definition's KeyHash is
	// ignored.
	KeyHash string `json:"key_hash,omitempty"`
	Alerts  Alerts `json:"alerts"`
	// FiredBy says who opens the scheduled runs: the server ("" or
	// "server") or the system cron ("cron", through `statesrv start`, see
	// `statesrv cron export`); the schedule then still defines the
	// process, but the server's scheduler leaves it alone.
	FiredBy string `json:"fired_by,omitempty"`
	// AlertAfter is how many runs in a row must fail or time out before
	// the fail and timeout recipients hear of it (0 and 1: at once).
	AlertAfter int `json:"alert_after,omitempty"`
	// RepeatEvery, when set, alerts the fail or timeout recipients again at
	// this interval while the process stays failed.
	RepeatEvery Duration `json:"repeat_every,omitempty"`
	// Maintenance lists recurring windows during which alerts are held back
	// (and recorded as suppressed); runs are still recorded.
	Maintenance []Window `json:"maintenance,omitempty"`
	// StartGrace, when set, is how long after a fire time the job may take
	// to report (START, OK or FAIL) before a RunStartMissed raises
	// start_missed alerts; the run itself stays open until its deadline.
	StartGrace Duration `json:"start_grace,omitempty"`
	// MinRuntime, when set, is the shortest run that counts as OK: an OK
	// that ends a run sooner closes it as FAIL, marked too fast.
	MinRuntime Duration `json:"min_runtime,omitempty"`
	// Tags group processes for filters (?tag=) and `cron export --tag`:
	// at most 20, each of [a-z0-9][a-z0-9_-]{0,31}, sorted, no
	// duplicates (commands.NormalizeProcess makes them so).
	Tags []string `json:"tags,omitempty"`
}

// HasTag reports whether p carries tag.
func (p *Process) HasTag(tag string) bool { return slices.Contains(p.Tags, tag) }

// Window is a recurring period: it opens at each fire time of Schedule
// (cron, in the process's zone) and lasts Duration.
type Window struct {
	Schedule string   `json:"schedule"`
	Duration Duration `json:"duration"`
}

// FiredByCron is the FiredBy of a process whose runs the system cron opens.
const FiredByCron = "cron"

// PushOnly reports whether the process has no schedule: it is only heard
// from, never expected.
func (p *Process) PushOnly() bool { return p.Schedule == "" }

// Run is one execution of a process, open (RUNNING) or finished.
type Run struct {
	ID          string     `json:"id"`
	ProcessID   int64      `json:"process_id"`
	Name        string     `json:"name"`
	State       string     `json:"state"`
	Source      string     `json:"source"`
	StartedAt   time.Time  `json:"started_at"`
	Deadline    time.Time  `json:"deadline"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Message     string     `json:"message"`
	Code        *int       `json:"code,omitempty"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	// Missed marks a scheduled run opened at start-up for a fire time that
	// passed while the server was down.
	Missed bool `json:"missed,omitempty"`
	// Reported is when a START report attached to this run.
	Reported *time.Time `json:"reported_at,omitempty"`
	// Early marks a scheduled run that a report opened before its fire
	// time, within the server's clock-skew tolerance.
	Early bool `json:"early,omitempty"`
	// TooFast marks a run whose OK came sooner than the process's
	// min_runtime: it was closed as FAIL.
	TooFast bool `json:"too_fast,omitempty"`
	// StartMissed marks a scheduled run that had no report by its fire
	// time plus the process's start_grace.
	StartMissed bool `json:"start_missed,omitempty"`
}

// Unprocessed is a report that closed no run, as operators see it.
type Unprocessed struct {
	ID         string    `json:"id"`
	Seq        uint64    `json:"seq"`
	ReceivedAt time.Time `json:"received_at"`
	Remote     string    `json:"remote"`
	Line       string    `json:"line"`
	ProcessID  int64     `json:"process_id"`
	State      string    `json:"state"`
	Name       string    `json:"name"`
	Reason     string    `json:"reason"`
	// Detail says more about a malformed line (e.g. "missing id").
	Detail string `json:"detail,omitempty"`
	// RunID names the timed-out run a late report was about.
	RunID string `json:"run_id,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as Go duration
// text ("2h", "90s").
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON reads "2h30m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		v, err := time.ParseDuration(s[1 : len(s)-1])
		if err != nil {
			return fmt.Errorf("bad duration %s (want e.g. \"2h\" or \"90s\")", s)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if _, err := fmt.Sscan(s, &secs); err != nil {
		return fmt.Errorf("bad duration %s (want e.g. \"2h\" or \"90s\")", s)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Error codes of the user-facing Error.
const (
	EInvalid  = "invalid"   // bad input: 400, ERR on TCP
	ENotFound = "not_found" // 404
	EConflict = "conflict"  // 409
	EAuth     = "unauthorized"
	// EForbidden: the caller is known but its role does not allow the
	// request (403).
	EForbidden = "forbidden"
	EInternal  = "internal" // 500; the message is not shown
	EUnavail   = "unavailable"
	EFull      = "storage_full" // 503; the disk under the data is full
)

// Error is the one error type whose message is safe to show to a client.
// The HTTP layer maps Code to a status; the TCP layer writes "ERR Message".
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EInternal otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the safe message of err, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
