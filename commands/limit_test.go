package commands_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// from returns rep as sent from the address ip.
func from(rep commands.Report, ip string) commands.Report {
	rep.Remote = ip + ":40000"
	return rep
}

// sendAll submits reps and returns their replies, once all are durable.
func sendAll(s *server, reps []commands.Report) []error {
	s.tb.Helper()
	receipts := make([]*commands.Receipt, len(reps))
	for i, rep := range reps {
		receipts[i] = s.Service.Report(rep)
	}
	errs := make([]error, len(reps))
	for i, r := range receipts {
		_, errs[i] = s.wait(r)
	}
	s.CatchUp()
	return errs
}

func TestUnprocessedRate(t *testing.T) {
	s := newServer(t)
	unknown := make([]commands.Report, commands.DefaultUnprocessedRate+1)
	for i := range unknown {
		unknown[i] = from(report(int64(1000+i), statesrv.StateOK), "10.0.0.1")
	}
	start := s.Log.LastSeq()
	for i, err := range sendAll(s, unknown) {
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	seqDropped, err := s.wait(s.Service.Report(from(report(5000, statesrv.StateOK), "10.0.0.1")))
	if err != nil || seqDropped == 0 {
		t.Fatalf("a dropped line is answered ACK %d, %v; want an ACK", seqDropped, err)
	}
	bad := from(commands.Report{Transport: "tcp", Line: "junk"}, "10.0.0.1")
	if _, err := s.wait(s.Service.Reject(bad, statesrv.Errorf(statesrv.EInvalid, "not a report"))); statesrv.ErrorMessage(err) != "not a report" {
		t.Fatalf("a dropped malformed line is answered %v, want ERR not a report", err)
	}
	evs := s.Events(start + 1)

	t.Run("StoredUpToRate", func(t *testing.T) {
		if n := len(ofType(evs, statesrv.EventMessageUnprocessed)); n != commands.DefaultUnprocessedRate {
			t.Fatalf("%d unprocessed stored, want %d", n, commands.DefaultUnprocessedRate)
		}
		if n := len(ofType(evs, statesrv.EventMessageRejected)); n != 0 {
			t.Fatalf("%d rejected stored past the rate", n)
		}
	})
	t.Run("OtherAddressUnaffected", func(t *testing.T) {
		before := s.Log.LastSeq()
		if _, err := s.Report(from(report(999, statesrv.StateOK), "10.0.0.2")); err != nil {
			t.Fatal(err)
		}
		if got := types(s.Events(before + 1)); len(got) != 2 || got[1] != statesrv.EventMessageUnprocessed {
			t.Fatalf("events %v, want MessageReceived, MessageUnprocessed", got)
		}
	})
	t.Run("OneMessagesDroppedAMinute", func(t *testing.T) {
		before := s.Log.LastSeq()
		s.clock.Advance(30 * time.Second)
		s.Tick()
		if got := ofType(s.Events(before+1), statesrv.EventMessagesDropped); len(got) != 0 {
			t.Fatalf("MessagesDropped before the minute ended: %v", got)
		}
		s.clock.Advance(31 * time.Second)
		s.Tick()
		got := ofType(s.Events(before+1), statesrv.EventMessagesDropped)
		if len(got) != 1 {
			t.Fatalf("%d MessagesDropped, want 1", len(got))
		}
		d := payload[statesrv.MessagesDroppedData](t, got[0])
		want := map[string]int{statesrv.ReasonUnknownProcess: 2, statesrv.ReasonMalformed: 1}
		if d.Remote != "10.0.0.1" || d.Count != 3 || fmt.Sprint(d.Reasons) != fmt.Sprint(want) ||
			d.First != unknown[len(unknown)-1].Line || d.Last != "junk" || got[0].Actor != "tcp:10.0.0.1" {
			t.Fatalf("MessagesDropped %+v by %s", d, got[0].Actor)
		}
		dropped, err := s.Store.Dropped()
		if err != nil || len(dropped) != 1 || dropped[0].Count != 3 || dropped[0].Remote != "10.0.0.1" {
			t.Fatalf("Store.Dropped = %+v, %v", dropped, err)
		}
	})
	t.Run("NewMinuteStoresAgain", func(t *testing.T) {
		before := s.Log.LastSeq()
		if _, err := s.Report(from(report(7777, statesrv.StateOK), "10.0.0.1")); err != nil {
			t.Fatal(err)
		}
		if n := len(ofType(s.Events(before+1), statesrv.EventMessageUnprocessed)); n != 1 {
			t.Fatalf("%d unprocessed stored in a new minute, want 1", n)
		}
	})
}

func TestUnprocessedLineKeptOnce(t *testing.T) {
	s := newServer(t)
	rep, _ := commands.ParseLine("#id=77;state=OK;msg=" + strings.Repeat("m", 900) + ";pad=" + strings.Repeat("x", 3000))
	rep.Transport, rep.Remote = "tcp", "10.0.0.3:1"
	before := s.Log.LastSeq()
	if _, err := s.Report(rep); err != nil {
		t.Fatal(err)
	}
	recv := ofType(s.Events(before+1), statesrv.EventMessageReceived)
	if len(recv) != 1 {
		t.Fatalf("%d MessageReceived", len(recv))
	}
	d := payload[statesrv.MessageReceivedData](t, recv[0])
	if len(d.Line) != commands.MaxKeptLine || !strings.HasPrefix(rep.Line, d.Line) || d.Msg != "" || d.Extra != nil {
		t.Fatalf("stored line of %d bytes, msg of %d, extra %d", len(d.Line), len(d.Msg), len(d.Extra))
	}
	if n := len(recv[0].Data); n > commands.MaxKeptLine+512 {
		t.Fatalf("event data of %d bytes for one unprocessed line", n)
	}
}
