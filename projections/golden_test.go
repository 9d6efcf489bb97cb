package projections_test

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// TestVersion1LogReplays folds a log recorded by the first version into a
// Core and checks the views it gives: old logs must keep their meaning.
// The log: process 25 (scheduled every 2s) and 26 (push-only, with a key);
// a START attached to a scheduled run and its OK; a push OK with a mid and
// its retry; a bad key; an unknown process; a malformed line; a START of
// 26; a timeout of 25; a manual start of 26; a dismissal of the bad-key
// message; the deletion of 25.
func TestVersion1LogReplays(t *testing.T) {
	f, err := os.Open("../eventlog/testdata/v1-events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := projections.NewCore()
	var closed []statesrv.Run
	unprocessed := map[string]statesrv.Unprocessed{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e eventlog.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		eff, err := c.Apply(&e)
		if err != nil {
			t.Fatal(err)
		}
		if eff.Closed != nil {
			closed = append(closed, *eff.Closed)
		}
		if u := eff.Unprocessed; u != nil {
			unprocessed[u.ID] = *u
		}
		delete(unprocessed, eff.Dismissed)
	}
	if len(c.Procs) != 1 || c.Procs[26] == nil || c.Procs[26].Key != "s3cret" {
		t.Errorf("processes = %v, want only 26 with its key", c.ProcessList())
	}
	open := c.AllOpenRuns()
	if len(open) != 2 || open[0].Source != statesrv.SourceReport || open[1].Source != statesrv.SourceManual {
		t.Errorf("open runs = %+v, want 26's START run and its manual run", open)
	}
	var states []string
	for _, r := range closed {
		states = append(states, r.State)
	}
	if len(states) != 3 || states[0] != "OK" || states[1] != "OK" || states[2] != "TIMEOUT" {
		t.Errorf("closed runs = %v, want OK (attached scheduled run), OK (push), TIMEOUT", states)
	}
	if closed[0].Reported == nil || closed[0].Message != "done" {
		t.Errorf("attached run = %+v, want reported_at and message \"done\"", closed[0])
	}
	reasons := map[string]bool{}
	for _, u := range unprocessed {
		reasons[u.Reason] = true
	}
	if len(unprocessed) != 2 || !reasons[statesrv.ReasonUnknownProcess] || !reasons[statesrv.ReasonMalformed] {
		t.Errorf("unprocessed = %+v, want the unknown process and the malformed line", unprocessed)
	}
}
