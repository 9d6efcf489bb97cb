package notify

import (
	"fmt"
	"time"

	"github.com/statesrv/statesrv"
)

// Requested is the alert that an AlertRequested of process processID,
// requested at at, asks to send: the run as the alert recorded it, the
// process by its current name (the run's name when process is empty), and
// a link to the run (or, without one, the process) under public, the
// dashboard's base URL.
func Requested(d statesrv.AlertRequestedData, processID int64, at time.Time, process, public string) Alert {
	a := Alert{ID: d.AlertID, Outcome: d.Outcome, Recipient: d.Recipient, ProcessID: processID,
		Process: process, DownFor: time.Duration(d.DownFor), Failures: d.Failures, At: at}
	if d.Run != nil {
		a.Run = *d.Run
		a.Message = d.Run.Message
	} else {
		a.Run = statesrv.Run{ID: d.RunID, ProcessID: processID}
	}
	if a.Process == "" {
		a.Process = a.Run.Name
	}
	if d.RunID != "" {
		a.Link = public + "/runs/" + d.RunID
	} else {
		a.Link = fmt.Sprintf("%s/processes/%d", public, processID)
	}
	return a
}
