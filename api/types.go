// Package api is the JSON API of SPEC §6 as both of its ends see it: the
// named shapes of its requests and answers, which the server's handlers
// encode and decode, and Client, which the command line uses to call a
// running server.
//
// The package knows the product's vocabulary (the root package) and
// nothing else of ours: the server converts its log events and views into
// these shapes, and the client needs no storage to read them.
package api

import (
	"encoding/json"
	"time"

	"github.com/statesrv/statesrv"
)

// ErrorBody is the answer to every request the API refuses:
// {"error": "<safe message>"}. The status tells the code (see CodeOf).
type ErrorBody struct {
	Error string `json:"error"`
}

// ProcessList answers GET /api/v1/processes: every definition, by id.
type ProcessList []statesrv.Process

// RunList answers GET /api/v1/runs: the open runs.
type RunList []statesrv.Run

// HistoryPage answers GET /api/v1/history: finished runs, newest first.
type HistoryPage []statesrv.Run

// UnprocessedPage answers GET /api/v1/unprocessed: the messages no run
// took, oldest first.
type UnprocessedPage []statesrv.Unprocessed

// EventsPage answers GET /api/v1/events: events of the log, oldest first.
type EventsPage []Event

// AlertList answers GET /api/v1/alerts: alerts and their delivery status,
// newest first.
type AlertList []statesrv.Alert

// Event is one event of the log in the shape of SPEC §6: the id and the
// chain hash as text, the payload as it was stored ({} when empty).
type Event struct {
	Seq       uint64          `json:"seq"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Time      time.Time       `json:"time"`
	Actor     string          `json:"actor"`
	ProcessID int64           `json:"process_id"`
	Key       string          `json:"key,omitempty"`
	Data      json.RawMessage `json:"data"`
	Hash      string          `json:"hash"`
}

// State answers GET /api/v1/state: the definitions, open runs and
// unprocessed messages as they stood at At, after the event Seq.
type State struct {
	At          time.Time              `json:"at"`
	Seq         uint64                 `json:"seq"`
	Processes   []statesrv.Process     `json:"processes"`
	Runs        []statesrv.Run         `json:"runs"`
	Unprocessed []statesrv.Unprocessed `json:"unprocessed"`
}

// Rebuilt answers POST /api/v1/rebuild: how many events the views were
// rebuilt from, and how long it took.
type Rebuilt struct {
	Events  uint64  `json:"events"`
	Seconds float64 `json:"seconds"`
}

// Dismissed answers POST /api/v1/unprocessed/{id}/dismiss.
type Dismissed struct {
	Dismissed string `json:"dismissed"` // the message's id
	Seq       uint64 `json:"seq"`       // the seq of the dismissal
}

// MergePatch is the body of PATCH /api/v1/processes/{id}: a JSON merge
// patch (RFC 7396) of the process's JSON, sent as
// application/merge-patch+json. A nil value removes the member (the field
// takes its default); a nested MergePatch merges into an object.
type MergePatch map[string]any

// ApplyRequest is the body of POST /api/v1/apply: definitions to create or
// change and ids to delete, applied as one change.
type ApplyRequest struct {
	Define []statesrv.Process `json:"define"`
	Delete []int64            `json:"delete"`
}

// Applied answers POST /api/v1/apply: the ids created, changed and
// deleted (never null), and the seq of the change's first event (0 when
// nothing changed).
type Applied struct {
	Changed []int64 `json:"changed"`
	Created []int64 `json:"created"`
	Deleted []int64 `json:"deleted"`
	Seq     uint64  `json:"seq"`
}

// PauseRequest is the optional body of POST /api/v1/processes/{id}/pause
// and POST /api/v1/alerts/pause; a zero Until pauses until resumed.
type PauseRequest struct {
	Until time.Time `json:"until"`
}

// PauseState answers the pause and resume routes. ProcessID 0 means every
// process. Until is set by a pause that ends at a time, and left out by a
// pause until resumed and by a resume.
type PauseState struct {
	Paused    bool       `json:"paused"`
	ProcessID int64      `json:"process_id"`
	Until     *time.Time `json:"until,omitempty"`
}

// TestAlertRequest is the body of POST /api/v1/processes/{id}/test-alert.
type TestAlertRequest struct {
	Recipient string `json:"recipient"`
}

// TestAlertRequested answers POST /api/v1/processes/{id}/test-alert.
type TestAlertRequested struct {
	ProcessID int64  `json:"process_id"`
	Recipient string `json:"recipient"`
	Requested bool   `json:"requested"`
}
