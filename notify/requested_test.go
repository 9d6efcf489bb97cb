package notify

import (
	"reflect"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

func TestRequested(t *testing.T) {
	at := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	run := &statesrv.Run{ID: "r1", ProcessID: 26, Name: "old name", Message: "disk full"}
	for _, tc := range []struct {
		name    string
		d       statesrv.AlertRequestedData
		process string
		want    Alert
	}{
		{"RunLinked", statesrv.AlertRequestedData{AlertID: "a1", RunID: "r1", Recipient: "mailto:ops@example.com",
			Outcome: "fail", Run: run}, "Nightly",
			Alert{ID: "a1", Outcome: "fail", Recipient: "mailto:ops@example.com", ProcessID: 26, Process: "Nightly",
				Run: *run, Message: "disk full", Link: "https://mon.example.com/runs/r1", At: at}},
		{"RunNameWhenProcessGone", statesrv.AlertRequestedData{AlertID: "a2", RunID: "r1", Outcome: "fail", Run: run}, "",
			Alert{ID: "a2", Outcome: "fail", ProcessID: 26, Process: "old name", Run: *run, Message: "disk full",
				Link: "https://mon.example.com/runs/r1", At: at}},
		{"RecoveredWithoutRun", statesrv.AlertRequestedData{AlertID: "a3", Outcome: "recovered",
			DownFor: statesrv.Duration(90 * time.Minute), Failures: 3}, "Nightly",
			Alert{ID: "a3", Outcome: "recovered", ProcessID: 26, Process: "Nightly", Run: statesrv.Run{ProcessID: 26},
				Link: "https://mon.example.com/processes/26", DownFor: 90 * time.Minute, Failures: 3, At: at}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Requested(tc.d, 26, at, tc.process, "https://mon.example.com")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Requested =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}
