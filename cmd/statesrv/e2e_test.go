package main

// End-to-end tests: the real Main on 127.0.0.1:0 with a temp directory and
// a fake clock, driven over real TCP and HTTP (SPEC §3, §4 and §6).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv"
)

// pushOnly returns a process without a schedule.
func pushOnly(id int64, maxRuntime time.Duration) statesrv.Process {
	return statesrv.Process{ID: id, Name: "job" + strconv.FormatInt(id, 10),
		MaxRuntime: statesrv.Duration(maxRuntime), Enabled: true}
}

// scheduled returns an enabled process with a schedule.
func scheduled(id int64, spec string, maxRuntime time.Duration) statesrv.Process {
	p := pushOnly(id, maxRuntime)
	p.Schedule = spec
	return p
}

func TestTCP(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(1, time.Hour))

	t.Run("AckIsSeqOfMessageReceived", func(t *testing.T) {
		s := withTB(s, t)
		line := "#id=1;state=OK;name=JajaBackupData;msg=all good;code=0"
		seq := s.MustReportAck(line)
		e := s.MustEvent(seq)
		if e.Type != statesrv.EventMessageReceived || e.field("line") != line ||
			e.ProcessID != 1 || e.Actor != "tcp:127.0.0.1" || e.field("transport") != "tcp" {
			t.Fatalf("event %d = %+v, want the MessageReceived of %q", seq, e, line)
		}
	})

	t.Run("LFAndCRLF", func(t *testing.T) {
		s := withTB(s, t)
		c := s.MustDial()
		c.MustWrite("#id=1;state=OK;msg=lf\n#id=1;state=OK;msg=crlf\r\n")
		lf, crlf := MustAckSeq(t, c.MustReply()), MustAckSeq(t, c.MustReply())
		if got := s.MustEvent(lf).field("line"); got != "#id=1;state=OK;msg=lf" {
			t.Errorf("LF line stored as %q", got)
		}
		if got := s.MustEvent(crlf).field("line"); got != "#id=1;state=OK;msg=crlf" {
			t.Errorf("CRLF line stored as %q", got)
		}
	})

	t.Run("BlankLinesGetNoReply", func(t *testing.T) {
		s := withTB(s, t)
		c := s.MustDial()
		c.MustWrite("\n\r\n   \n\t\r\n")
		seq := c.MustAck("#id=1;state=OK;msg=after blanks")
		if got := s.MustEvent(seq).field("line"); got != "#id=1;state=OK;msg=after blanks" {
			t.Fatalf("first reply is for %q, want the line after the blank ones", got)
		}
	})

	t.Run("TelnetNegotiationIgnored", func(t *testing.T) {
		s := withTB(s, t)
		c := s.MustDial()
		c.MustWrite("\xff\xf4\xff\xfd\x06")
		seq := c.MustAck("\xff\xfb\x01#id=1;state=OK;msg=telnet\r")
		if got := s.MustEvent(seq).field("line"); got != "#id=1;state=OK;msg=telnet" {
			t.Fatalf("line stored as %q", got)
		}
	})

	t.Run("ManyMessagesAnsweredInOrder", func(t *testing.T) {
		s := withTB(s, t)
		c := s.MustDial()
		const n = 200
		var b strings.Builder
		for i := range n {
			switch i % 10 {
			case 3:
				fmt.Fprintf(&b, "#state=OK;msg=m%d\n", i) // ERR missing id
			default:
				fmt.Fprintf(&b, "#id=1;state=OK;msg=m%d\n", i)
			}
		}
		c.MustWrite(b.String())
		var last uint64
		for i := range n {
			reply := c.MustReply()
			if i%10 == 3 {
				if reply != "ERR missing id" {
					t.Fatalf("reply %d = %q, want ERR missing id", i, reply)
				}
				continue
			}
			seq := MustAckSeq(t, reply)
			if seq <= last {
				t.Fatalf("reply %d: seq %d after %d", i, seq, last)
			}
			last = seq
			if got, want := s.MustEvent(seq).field("msg"), fmt.Sprintf("m%d", i); got != want {
				t.Fatalf("reply %d is for msg %q, want %q", i, got, want)
			}
		}
	})

	t.Run("MalformedLinesRefusedAndRecorded", func(t *testing.T) {
		for _, tc := range []struct{ line, reply string }{
			{"#state=OK;name=x", "ERR missing id"},
			{"#id=1;state=MAYBE", "ERR bad state"},
			{"hello there", "ERR not a report"},
		} {
			t.Run(strings.TrimPrefix(tc.reply, "ERR "), func(t *testing.T) {
				s := withTB(s, t)
				if got := s.MustReport(tc.line); got != tc.reply {
					t.Fatalf("reply %q, want %q", got, tc.reply)
				}
				u := s.MustUnprocessed(tc.line)
				if u.Reason != statesrv.ReasonMalformed || u.Detail != strings.TrimPrefix(tc.reply, "ERR ") {
					t.Errorf("unprocessed = %+v, want reason malformed", u)
				}
				evs := s.MustEvents("type=MessageRejected")
				found := false
				for _, e := range evs {
					found = found || (e.field("line") == tc.line && e.field("message_id") == u.ID)
				}
				if !found {
					t.Errorf("no MessageRejected for %q", tc.line)
				}
			})
		}
	})

	t.Run("LineTooLongNotRecorded", func(t *testing.T) {
		s := withTB(s, t)
		c := s.MustDial()
		before := c.MustAck("#id=1;state=OK;msg=before")
		long := "#id=1;state=OK;msg=" + strings.Repeat("x", 5000-len("#id=1;state=OK;msg="))
		if got := c.MustSend(long); got != "ERR line too long" {
			t.Fatalf("reply %q, want ERR line too long", got)
		}
		// 4,096 bytes is not too long; the CR of a CRLF does not count.
		c.MustAck("#id=1;state=OK;msg=" + strings.Repeat("z", 4096-len("#id=1;state=OK;msg=")) + "\r")
		after := c.MustAck("#id=1;state=OK;msg=after")
		between := s.MustEvents(fmt.Sprintf("after=%d&limit=%d", before, after-before-1))
		for _, e := range between {
			if (e.Type == statesrv.EventMessageReceived || e.Type == statesrv.EventMessageRejected) &&
				len(e.field("line")) != 4096 {
				t.Errorf("the long line was recorded: %s %d", e.Type, e.Seq)
			}
		}
	})

	t.Run("MidRetryStoredOnce", func(t *testing.T) {
		s := withTB(s, t)
		first := s.MustReportAck("#id=1;state=OK;mid=retry-1")
		if again := s.MustReportAck("#id=1;state=OK;mid=retry-1"); again != first {
			t.Fatalf("retry ACK %d, want %d", again, first)
		}
		// A retry pipelined behind its first copy, still in flight.
		c := s.MustDial()
		c.MustWrite("#id=1;state=OK;mid=retry-2\n#id=1;state=OK;mid=retry-2\n")
		a, b := MustAckSeq(t, c.MustReply()), MustAckSeq(t, c.MustReply())
		if a != b {
			t.Fatalf("pipelined retry ACK %d, want %d", b, a)
		}
		for _, mid := range []string{"retry-1", "retry-2"} {
			evs, err := s.eventsOf(statesrv.EventMessageReceived, "mid", mid)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Errorf("mid %s stored %d times", mid, len(evs))
			}
		}
	})

	t.Run("BadKeyRefused", func(t *testing.T) {
		s := withTB(s, t)
		p := pushOnly(3, time.Hour)
		p.Key = statesrv.Ptr("s3cret")
		s.MustDefine(p)
		for _, tc := range []struct{ line, stored string }{
			{"#id=3;state=OK;key=wrong", "#id=3;state=OK;key=***"},
			{"#id=3;state=OK", "#id=3;state=OK"},
		} {
			if got := s.MustReport(tc.line); got != "ERR bad key" {
				t.Fatalf("%q: reply %q, want ERR bad key", tc.line, got)
			}
			if u := s.MustUnprocessed(tc.stored); u.Reason != statesrv.ReasonBadKey || u.ProcessID != 3 {
				t.Errorf("unprocessed = %+v, want reason bad key", u)
			}
		}
		seq := s.MustReportAck("#id=3;state=OK;key=s3cret")
		if e := s.MustEvent(seq); e.Type != statesrv.EventMessageReceived || strings.Contains(string(e.Data), "s3cret") {
			t.Errorf("event %d = %s %s, want a MessageReceived without the key", seq, e.Type, e.Data)
		}
	})

	t.Run("KeysCaseInsensitiveOtherKeysKept", func(t *testing.T) {
		s := withTB(s, t)
		seq := s.MustReportAck("#ID=1; State=ok ;Host=web1;NAME=other name")
		var data struct {
			State        string            `json:"state"`
			Name         string            `json:"name"`
			Extra        map[string]string `json:"extra"`
			NameMismatch bool              `json:"name_mismatch"`
		}
		if err := json.Unmarshal(s.MustEvent(seq).Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.State != "OK" || data.Name != "other name" || data.Extra["host"] != "web1" || !data.NameMismatch {
			t.Errorf("stored %+v", data)
		}
	})

	t.Run("MsgKeptTo1000Characters", func(t *testing.T) {
		s := withTB(s, t)
		seq := s.MustReportAck("#id=1;state=OK;msg=" + strings.Repeat("é", 1500))
		if got := s.MustEvent(seq).field("msg"); got != strings.Repeat("é", 1000) {
			t.Errorf("msg kept %d characters, want 1000", len([]rune(got)))
		}
	})

	t.Run("MalformedLineRecordedTo512Bytes", func(t *testing.T) {
		s := withTB(s, t)
		line := "#id=1;state=NOPE;msg=" + strings.Repeat("y", 2000)
		if got := s.MustReport(line); got != "ERR bad state" {
			t.Fatalf("reply %q", got)
		}
		u := s.MustUnprocessed(line[:512])
		if u.Reason != statesrv.ReasonMalformed {
			t.Errorf("unprocessed %+v", u)
		}
	})

	t.Run("EventsLimitDefaultsTo100", func(t *testing.T) {
		s := withTB(s, t)
		c := s.MustDial()
		c.MustWrite(strings.Repeat("#id=1;state=OK\n", 400)) // 1,200 events
		for range 400 {
			MustAckSeq(t, c.MustReply())
		}
		var evs []apiEvent
		s.MustGet("/api/v1/events", &evs)
		if len(evs) != 100 || evs[0].Seq != 1 {
			t.Errorf("got %d events from seq %d, want 100 from 1", len(evs), evs[0].Seq)
		}
		s.MustGet("/api/v1/events?limit=1000", &evs)
		if len(evs) <= 100 {
			t.Errorf("limit=1000 gave %d events", len(evs))
		}
		if s.Log.LastSeq() <= 1000 {
			t.Fatalf("only %d events: the cap of 1,000 is not tested", s.Log.LastSeq())
		}
		s.MustGet("/api/v1/events?limit=5000", &evs)
		if len(evs) != 1000 {
			t.Errorf("limit=5000 gave %d events, want at most 1,000", len(evs))
		}
		for _, q := range []string{"limit=0", "limit=x", "after=x", "process=-1"} {
			if status, _ := s.MustDo("GET", "/api/v1/events?"+q, nil); status != http.StatusBadRequest {
				t.Errorf("events?%s: %d, want 400", q, status)
			}
		}
	})

	t.Run("UnknownProcessAcked", func(t *testing.T) {
		s := withTB(s, t)
		s.MustReportAck("#id=999;state=OK;msg=who")
		if u := s.MustUnprocessed("#id=999;state=OK;msg=who"); u.Reason != statesrv.ReasonUnknownProcess || u.ProcessID != 999 {
			t.Errorf("unprocessed = %+v, want reason unknown process", u)
		}
	})
}

func TestTCPNonReadingClientDoesNotStallOthers(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(1, time.Hour))
	hog := s.MustDial()
	if tc, ok := hog.conn.(interface{ SetReadBuffer(int) error }); ok {
		tc.SetReadBuffer(4096)
	}
	const lines = 20000
	var wg sync.WaitGroup
	written := make(chan int, 1)
	wg.Go(func() {
		line := []byte("#id=1;state=OK\n")
		buf := bytes.Repeat(line, 500)
		n := 0
		hog.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		for n < lines {
			if _, err := hog.conn.Write(buf); err != nil {
				break
			}
			n += 500
		}
		written <- n
	})
	// Let the hog get going, then check that another client is served.
	eventually(t, func() error {
		if seq := s.Log.LastSeq(); seq < 3000 {
			return fmt.Errorf("log at seq %d", seq)
		}
		return nil
	})
	start := time.Now()
	c := s.MustDial()
	c.MustWrite("#id=1;state=FAIL;msg=other client\n")
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a bound, not a speed
	reply, err := c.rd.ReadString('\n')
	if err != nil {
		t.Fatalf("other client: %v", err)
	}
	seq := MustAckSeq(t, reply)
	t.Logf("other client's ACK %d after %v", seq, time.Since(start))
	hog.conn.Close()
	wg.Wait()
	t.Logf("hog wrote %d lines", <-written)
}

func TestRuns(t *testing.T) {
	t.Run("ScheduledRunOpensAtFireTime", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(scheduled(10, "*/10 * * * * *", time.Hour))
		s.MustAdvance(5 * time.Second) // 08:00:10
		runs := s.MustOpenRuns(10, 1)
		r := runs[0]
		if r.State != statesrv.StateRunning || r.Source != statesrv.SourceSchedule || r.Missed {
			t.Errorf("run = %+v, want a RUNNING scheduled run", r)
		}
		sameTime(t, "started_at", r.StartedAt, at(5*time.Second))
		sameTime(t, "deadline", r.Deadline, at(5*time.Second+time.Hour))
		if r.ScheduledAt == nil {
			t.Fatal("scheduled_at missing")
		}
		sameTime(t, "scheduled_at", *r.ScheduledAt, at(5*time.Second))

		s.MustAdvance(10 * time.Second) // 08:00:20
		runs = s.MustOpenRuns(10, 2)
		sameTime(t, "second run's start", runs[1].StartedAt, at(15*time.Second))
		if evs := s.MustEvents("type=ScheduleGap"); len(evs) != 0 {
			t.Errorf("ScheduleGap while the server was up: %+v", evs)
		}
	})

	t.Run("ScheduleInProcessTimeZone", func(t *testing.T) {
		s := MustOpenServer(t)
		p := scheduled(11, "30 9 * * *", time.Hour) // 09:30 in Prague is 08:30 UTC in March
		p.Timezone = "Europe/Prague"
		s.MustDefine(p)
		s.MustAdvance(30*time.Minute - 5*time.Second) // 08:30:00 UTC
		r := s.MustOpenRuns(11, 1)[0]
		sameTime(t, "started_at", r.StartedAt, time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC))
	})

	t.Run("EveryDescriptor", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(scheduled(12, "@every 30s", 5*time.Minute))
		s.MustAdvance(30 * time.Second)
		r := s.MustOpenRuns(12, 1)[0]
		sameTime(t, "started_at", r.StartedAt, at(30*time.Second))
		sameTime(t, "deadline", r.Deadline, at(30*time.Second+5*time.Minute))
		s.MustAdvance(30 * time.Second)
		s.MustOpenRuns(12, 2)
	})

	t.Run("DisabledProcessOpensNoRun", func(t *testing.T) {
		s := MustOpenServer(t)
		off := scheduled(13, "*/10 * * * * *", time.Hour)
		off.Enabled = false
		s.MustDefine(off)
		s.MustDefine(scheduled(14, "*/10 * * * * *", time.Hour))
		s.MustAdvance(5 * time.Second)
		s.MustOpenRuns(14, 1) // the same tick handled 13
		if runs, err := s.openRuns(13); err != nil || len(runs) != 0 {
			t.Errorf("disabled process has runs %+v (%v)", runs, err)
		}
	})

	t.Run("OKAndFAILCloseOldestOrNamedRun", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(scheduled(10, "*/10 * * * * *", time.Hour))
		s.MustAdvance(5 * time.Second)
		s.MustOpenRuns(10, 1)
		s.MustAdvance(10 * time.Second)
		s.MustOpenRuns(10, 2)
		s.MustAdvance(10 * time.Second)
		runs := s.MustOpenRuns(10, 3) // 08:00:10, :20, :30

		s.MustReportAck("#id=10;state=OK;msg=first")
		done := s.MustFinished(10, runs[0].ID)
		if done.State != statesrv.StateOK || done.Message != "first" || done.FinishedAt == nil {
			t.Errorf("oldest run = %+v, want OK with message first", done)
		}
		s.MustReportAck("#id=10;state=FAIL;code=3;run=" + runs[2].ID)
		done = s.MustFinished(10, runs[2].ID)
		if done.State != statesrv.StateFail || done.Code == nil || *done.Code != 3 {
			t.Errorf("named run = %+v, want FAIL with code 3", done)
		}
		if open := s.MustOpenRuns(10, 1); open[0].ID != runs[1].ID {
			t.Errorf("open run %s, want %s", open[0].ID, runs[1].ID)
		}
	})

	t.Run("PushOnlyReportIsInstantRun", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(pushOnly(20, time.Hour))
		seq := s.MustReportAck("#id=20;state=FAIL;msg=disk full;code=2")
		var runs []statesrv.Run
		eventually(t, func() error {
			var err error
			if runs, err = s.history(20); err == nil && len(runs) != 1 {
				err = fmt.Errorf("%d runs in history", len(runs))
			}
			return err
		})
		r := runs[0]
		if r.State != statesrv.StateFail || r.Source != statesrv.SourceReport || r.Message != "disk full" ||
			r.FinishedAt == nil || !r.FinishedAt.Equal(r.StartedAt) {
			t.Errorf("run = %+v, want an instant FAIL run from the report", r)
		}
		if e := s.MustEvent(seq + 1); e.Type != statesrv.EventRunStarted {
			t.Errorf("event after the report is %s, want RunStarted", e.Type)
		}
		s.MustOpenRuns(20, 0)
	})

	t.Run("StartOpensRun", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(pushOnly(21, 2*time.Hour))
		s.MustReportAck("#id=21;state=START")
		r := s.MustOpenRuns(21, 1)[0]
		if r.Source != statesrv.SourceReport || r.State != statesrv.StateRunning {
			t.Errorf("run = %+v, want a RUNNING run from the report", r)
		}
		sameTime(t, "deadline", r.Deadline, at(2*time.Hour))
		s.MustAdvance(time.Minute)
		s.MustReportAck("#id=21;state=OK")
		if done := s.MustFinished(21, r.ID); done.State != statesrv.StateOK {
			t.Errorf("run = %+v, want OK", done)
		}
		s.MustOpenRuns(21, 0)
	})

	t.Run("StartAttachesToScheduledRun", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(scheduled(22, "*/10 * * * * *", time.Hour))
		s.MustAdvance(5 * time.Second)
		r := s.MustOpenRuns(22, 1)[0]
		s.MustAdvance(2 * time.Second)
		s.MustReportAck("#id=22;state=START")
		var attached []apiEvent
		eventually(t, func() error {
			var err error
			if attached, err = s.eventsOf(statesrv.EventRunAttached, "run_id", r.ID); err == nil && len(attached) != 1 {
				err = fmt.Errorf("%d RunAttached events", len(attached))
			}
			return err
		})
		// The log has the event; the view follows.
		eventually(t, func() error {
			runs, err := s.openRuns(22)
			if err == nil && (len(runs) != 1 || runs[0].ID != r.ID || runs[0].Reported == nil) {
				err = fmt.Errorf("open runs %+v, want only %s with reported_at", runs, r.ID)
			}
			return err
		})
		if evs := s.MustEvents("type=RunStarted&process=22"); len(evs) != 1 {
			t.Errorf("%d RunStarted events, want 1", len(evs))
		}
	})

	t.Run("TimeoutOnceThenLate", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(pushOnly(30, time.Minute))
		s.MustDefine(pushOnly(31, 3*time.Minute))
		s.MustReportAck("#id=30;state=START")
		s.MustReportAck("#id=31;state=START")
		r := s.MustOpenRuns(30, 1)[0]
		sentinel := s.MustOpenRuns(31, 1)[0]

		s.MustAdvance(time.Minute)
		if done := s.MustFinished(30, r.ID); done.State != statesrv.StateTimeout {
			t.Fatalf("run = %+v, want TIMEOUT", done)
		}
		// Past the sentinel's deadline too: once it has timed out, every
		// tick that could time out r again has run.
		s.MustAdvance(2 * time.Minute)
		s.MustFinished(31, sentinel.ID)
		evs, err := s.eventsOf(statesrv.EventRunTimedOut, "run_id", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Actor != statesrv.ActorScheduler {
			t.Fatalf("RunTimedOut events = %+v, want one by the scheduler", evs)
		}

		line := "#id=30;state=OK;msg=finally"
		s.MustReportAck(line)
		if u := s.MustUnprocessed(line); u.Reason != statesrv.ReasonLate || u.RunID != r.ID {
			t.Errorf("unprocessed = %+v, want late about %s", u, r.ID)
		}
		if runs, _ := s.history(30); len(runs) != 1 {
			t.Errorf("history has %d runs, want the timed-out one only", len(runs))
		}
	})

	t.Run("NoOpenRunUnprocessed", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(scheduled(40, "0 0 1 1 *", time.Hour))
		line := "#id=40;state=OK"
		s.MustReportAck(line)
		if u := s.MustUnprocessed(line); u.Reason != statesrv.ReasonNoOpenRun || u.ProcessID != 40 || u.State != "OK" {
			t.Errorf("unprocessed = %+v, want no open run", u)
		}
	})

	t.Run("UnknownProcessUnprocessed", func(t *testing.T) {
		s := MustOpenServer(t)
		line := "#id=41;state=FAIL;name=ghost"
		s.MustReportAck(line)
		if u := s.MustUnprocessed(line); u.Reason != statesrv.ReasonUnknownProcess || u.Name != "ghost" {
			t.Errorf("unprocessed = %+v, want unknown process", u)
		}
	})

	t.Run("DismissRemovesUnprocessed", func(t *testing.T) {
		s := MustOpenServer(t)
		line := "#id=42;state=OK"
		s.MustReportAck(line)
		u := s.MustUnprocessed(line)
		path := "/api/v1/unprocessed/" + u.ID + "/dismiss"
		s.MustCall("POST", path, nil, http.StatusOK, nil)
		if _, err := s.unprocessed(line); err == nil {
			t.Error("message still unprocessed after dismiss")
		}
		evs, err := s.eventsOf(statesrv.EventMessageDismissed, "message_id", u.ID)
		if err != nil || len(evs) != 1 || evs[0].Actor != statesrv.ActorAdmin || evs[0].ProcessID != 42 {
			t.Errorf("MessageDismissed events = %+v (%v), want one", evs, err)
		}
		var e map[string]string
		s.MustCall("POST", path, nil, http.StatusNotFound, &e)
		if e["error"] == "" {
			t.Error("404 without an error message")
		}
		s.MustCall("POST", "/api/v1/unprocessed/no-such-id/dismiss", nil, http.StatusNotFound, nil)

		// A malformed line is dismissed the same way.
		if got := s.MustReport("garbage"); got != "ERR not a report" {
			t.Fatalf("reply %q", got)
		}
		u = s.MustUnprocessed("garbage")
		s.MustCall("POST", "/api/v1/unprocessed/"+u.ID+"/dismiss", nil, http.StatusOK, nil)
		var left []statesrv.Unprocessed
		s.MustGet("/api/v1/unprocessed", &left)
		if len(left) != 0 {
			t.Errorf("unprocessed after dismissing all: %+v", left)
		}
	})

	t.Run("TimeoutDeclaredAtStartup", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(pushOnly(50, time.Minute))
		s.MustReportAck("#id=50;state=START")
		r := s.MustOpenRuns(50, 1)[0]
		s.MustRestart(func() { s.MustAdvance(5 * time.Minute) })
		done := s.MustFinished(50, r.ID)
		if done.State != statesrv.StateTimeout {
			t.Fatalf("run = %+v, want TIMEOUT", done)
		}
		s.MustRestart(nil)
		s.MustOpenRuns(50, 0)
		evs, err := s.eventsOf(statesrv.EventRunTimedOut, "run_id", r.ID)
		if err != nil || len(evs) != 1 {
			t.Fatalf("RunTimedOut events = %+v (%v), want one", evs, err)
		}
		if d := evs[0].field("deadline"); d != at(time.Minute).Format(time.RFC3339) {
			t.Errorf("deadline %s", d)
		}
	})

	t.Run("MissedFireTimesOpenLatestOnly", func(t *testing.T) {
		s := MustOpenServer(t)
		s.MustDefine(scheduled(60, "0 * * * * *", time.Hour))
		s.MustAdvance(55 * time.Second) // 08:01:00
		first := s.MustOpenRuns(60, 1)[0]
		// Down from 08:01:00 to 08:06:30: 08:02 to 08:06 are missed.
		s.MustRestart(func() { s.MustAdvance(5*time.Minute + 30*time.Second) })
		runs := s.MustOpenRuns(60, 2)
		if runs[0].ID != first.ID {
			t.Fatalf("open runs %+v, want %s first", runs, first.ID)
		}
		r := runs[1]
		if !r.Missed || r.ScheduledAt == nil || !r.ScheduledAt.Equal(at(6*time.Minute-5*time.Second)) {
			t.Errorf("run = %+v, want the 08:06:00 fire time marked missed", r)
		}
		gaps := s.MustEvents("type=ScheduleGap&process=60")
		if len(gaps) != 1 {
			t.Fatalf("%d ScheduleGap events, want 1", len(gaps))
		}
		if got := gaps[0].field("missed"); got != "5" {
			t.Errorf("gap missed = %s, want 5", got)
		}
		if got := gaps[0].field("run_id"); got != r.ID {
			t.Errorf("gap opened %s, want %s", got, r.ID)
		}
		if evs := s.MustEvents("type=RunStarted&process=60"); len(evs) != 2 {
			t.Errorf("%d RunStarted events, want 2", len(evs))
		}
	})
}

func TestAPI(t *testing.T) {
	s := MustOpenServer(t)

	t.Run("EmptyListsAreArrays", func(t *testing.T) {
		s := withTB(s, t)
		for _, path := range []string{
			"/api/v1/processes", "/api/v1/runs", "/api/v1/history", "/api/v1/history?process=5&state=OK",
			"/api/v1/unprocessed", "/api/v1/events?type=RunTimedOut", "/api/v1/events?process=5",
		} {
			status, raw := s.MustDo("GET", path, nil)
			if status != http.StatusOK || strings.TrimSpace(string(raw)) != "[]" {
				t.Errorf("GET %s: %d %s, want 200 []", path, status, raw)
			}
		}
		status, raw := s.MustDo("GET", "/api/v1/state?at="+at(time.Hour).Format(time.RFC3339), nil)
		if status != http.StatusOK {
			t.Fatalf("state: %d %s", status, raw)
		}
		var st map[string]json.RawMessage
		json.Unmarshal(raw, &st)
		for _, k := range []string{"processes", "runs", "unprocessed"} {
			if string(st[k]) != "[]" {
				t.Errorf("state %s = %s, want []", k, st[k])
			}
		}
	})

	t.Run("PutCreatesThenReplaces", func(t *testing.T) {
		s := withTB(s, t)
		p := statesrv.Process{ID: 25, Name: "JajaBackupData", Schedule: "0 2 * * *",
			Timezone: "Europe/Prague", MaxRuntime: statesrv.Duration(2 * time.Hour), Enabled: true,
			Alerts: statesrv.Alerts{Fail: []string{"mailto:ops@example.com", "sms:+420600000000"}}}
		var got statesrv.Process
		s.MustCall("PUT", "/api/v1/processes/25", p, http.StatusCreated, &got)
		if got.Name != p.Name || got.Timezone != "Europe/Prague" || got.Alerts.OK == nil {
			t.Errorf("created %+v", got)
		}
		p.Description = "nightly"
		s.MustCall("PUT", "/api/v1/processes/25", p, http.StatusOK, &got)
		s.MustCall("GET", "/api/v1/processes/25", nil, http.StatusOK, &got)
		if got.Description != "nightly" || time.Duration(got.MaxRuntime) != 2*time.Hour {
			t.Errorf("read %+v", got)
		}
		// Defaults, and id taken from the path.
		s.MustCall("PUT", "/api/v1/processes/26", map[string]any{"name": "defaults", "enabled": true}, http.StatusCreated, &got)
		if got.ID != 26 || got.Timezone != "UTC" || time.Duration(got.MaxRuntime) != time.Hour {
			t.Errorf("defaults %+v", got)
		}
		var list []statesrv.Process
		s.MustCall("GET", "/api/v1/processes", nil, http.StatusOK, &list)
		if len(list) != 2 || list[0].ID != 25 || list[1].ID != 26 {
			t.Errorf("list %+v", list)
		}
		evs := s.MustEvents("type=ProcessDefined&process=25")
		if len(evs) != 2 || evs[1].Actor != statesrv.ActorAdmin || evs[1].field("description") != "nightly" {
			t.Errorf("ProcessDefined events %+v", evs)
		}
	})

	t.Run("ValidationErrorsNameTheField", func(t *testing.T) {
		s := withTB(s, t)
		for _, tc := range []struct {
			name, path, body, field string
		}{
			{"BadSchedule", "/api/v1/processes/30", `{"name":"x","schedule":"61 * * * *"}`, "schedule"},
			{"BadTimezone", "/api/v1/processes/30", `{"name":"x","timezone":"Mars/Olympus"}`, "timezone"},
			{"BadRecipient", "/api/v1/processes/30", `{"name":"x","alerts":{"fail":["ops@example.com"]}}`, "alerts.fail"},
			{"IDMismatch", "/api/v1/processes/30", `{"id":31,"name":"x"}`, "id"},
			{"UnknownField", "/api/v1/processes/30", `{"name":"x","colour":"red"}`, "colour"},
			{"NameRequired", "/api/v1/processes/30", `{"schedule":"@hourly"}`, "name"},
			{"MaxRuntimeTooShort", "/api/v1/processes/30", `{"name":"x","max_runtime":"10ms"}`, "max_runtime"},
			// The decoder's error for a bad duration names the value, not the field.
			{"BadMaxRuntime", "/api/v1/processes/30", `{"name":"x","max_runtime":"soon"}`, "duration"},
			{"BadPathID", "/api/v1/processes/abc", `{"name":"x"}`, "id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, raw := s.MustDo("PUT", tc.path, tc.body)
				var e map[string]string
				if err := json.Unmarshal(raw, &e); err != nil || status != http.StatusBadRequest {
					t.Fatalf("status %d %s, want 400 with JSON", status, raw)
				}
				if !strings.Contains(e["error"], tc.field) {
					t.Errorf("error %q does not name %s", e["error"], tc.field)
				}
			})
		}
		status, _ := s.MustDo("GET", "/api/v1/processes/30", nil)
		if status != http.StatusNotFound {
			t.Errorf("a refused definition was stored: %d", status)
		}
	})

	t.Run("UnknownIDNotFound", func(t *testing.T) {
		s := withTB(s, t)
		for _, m := range []string{"GET", "DELETE"} {
			var e map[string]string
			s.MustCall(m, "/api/v1/processes/404", nil, http.StatusNotFound, &e)
			if e["error"] == "" {
				t.Errorf("%s: no error message", m)
			}
		}
		s.MustCall("POST", "/api/v1/processes/404/start", nil, http.StatusNotFound, nil)
	})

	t.Run("DeleteRemoves", func(t *testing.T) {
		s := withTB(s, t)
		s.MustDefine(pushOnly(27, time.Hour))
		status, _ := s.MustDo("DELETE", "/api/v1/processes/27", nil)
		if status != http.StatusNoContent {
			t.Fatalf("delete: %d", status)
		}
		s.MustCall("GET", "/api/v1/processes/27", nil, http.StatusNotFound, nil)
		if evs := s.MustEvents("type=ProcessDeleted&process=27"); len(evs) != 1 {
			t.Errorf("%d ProcessDeleted events", len(evs))
		}
	})

	t.Run("StartReturnsRun", func(t *testing.T) {
		s := withTB(s, t)
		s.MustDefine(pushOnly(28, 90*time.Minute))
		var r statesrv.Run
		s.MustCall("POST", "/api/v1/processes/28/start", nil, http.StatusCreated, &r)
		if r.ID == "" || r.ProcessID != 28 || r.State != statesrv.StateRunning || r.Source != statesrv.SourceManual {
			t.Fatalf("run %+v", r)
		}
		if !r.Deadline.Equal(r.StartedAt.Add(90 * time.Minute)) {
			t.Errorf("deadline %v, want started_at + 90m", r.Deadline)
		}
		var open []statesrv.Run
		s.MustCall("GET", "/api/v1/runs", nil, http.StatusOK, &open)
		found := false
		for _, o := range open {
			found = found || o.ID == r.ID
		}
		if !found {
			t.Errorf("run %s not among open runs %+v", r.ID, open)
		}
		var one statesrv.Run
		s.MustCall("GET", "/api/v1/runs/"+r.ID, nil, http.StatusOK, &one)
		if one.ID != r.ID {
			t.Errorf("GET run: %+v", one)
		}
	})

	t.Run("HistoryFiltersAndPages", func(t *testing.T) {
		s := withTB(s, t)
		s.MustDefine(pushOnly(100, time.Hour))
		s.MustDefine(pushOnly(101, time.Hour))
		reports := []string{"#id=100;state=OK;msg=a", "#id=101;state=OK;msg=b", "#id=100;state=FAIL;msg=c",
			"#id=100;state=OK;msg=d", "#id=101;state=FAIL;msg=e", "#id=100;state=OK;msg=f"}
		for _, line := range reports {
			s.MustAdvance(time.Second) // distinct finish times
			s.MustReportAck(line)
		}
		msgs := func(runs []statesrv.Run) string {
			var b []string
			for _, r := range runs {
				b = append(b, r.Message)
			}
			return strings.Join(b, ",")
		}
		get := func(query string) string {
			var runs []statesrv.Run
			s.MustGet("/api/v1/history?"+query, &runs)
			return msgs(runs)
		}
		eventually(t, func() error {
			if got := get("process=100"); got != "f,d,c,a" {
				return fmt.Errorf("history of 100 = %q", got)
			}
			return nil
		})
		for _, tc := range []struct{ query, want string }{
			{"", "f,e,d,c,b,a"},
			{"process=101", "e,b"},
			{"state=OK", "f,d,b,a"},
			{"state=fail", "e,c"},
			{"process=100&state=OK", "f,d,a"},
			{"process=100&limit=2", "f,d"},
		} {
			if got := get(tc.query); got != tc.want {
				t.Errorf("history?%s = %q, want %q", tc.query, got, tc.want)
			}
		}
		// Paging: the next page is before the last finish time seen.
		var page []statesrv.Run
		s.MustGet("/api/v1/history?process=100&limit=2", &page)
		before := page[len(page)-1].FinishedAt.Format(time.RFC3339Nano)
		if got := get("process=100&limit=2&before=" + url.QueryEscape(before)); got != "c,a" {
			t.Errorf("second page = %q, want c,a", got)
		}
		for _, q := range []string{"state=RUNNING", "process=x", "limit=0", "before=yesterday"} {
			if status, _ := s.MustDo("GET", "/api/v1/history?"+q, nil); status != http.StatusBadRequest {
				t.Errorf("history?%s: status %d, want 400", q, status)
			}
		}
	})

	t.Run("EventsFilter", func(t *testing.T) {
		s := withTB(s, t)
		all := s.MustEvents("")
		if len(all) < 10 {
			t.Fatalf("only %d events", len(all))
		}
		for i, e := range all {
			if e.Seq != uint64(i+1) || e.ID == uuid.Nil || e.Hash == [32]byte{} || e.Actor == "" || e.Time.IsZero() {
				t.Fatalf("event %d = %+v", i, e)
			}
		}
		page := s.MustEvents("after=3&limit=2")
		if len(page) != 2 || page[0].Seq != 4 || page[1].Seq != 5 {
			t.Errorf("after=3&limit=2 gave %+v", page)
		}
		var dflt []apiEvent
		s.MustGet("/api/v1/events", &dflt)
		if len(dflt) != min(len(all), 100) {
			t.Errorf("default limit gave %d events", len(dflt))
		}
		proc := s.MustEvents("process=100")
		if len(proc) == 0 {
			t.Fatal("no events of process 100")
		}
		for _, e := range proc {
			if e.ProcessID != 100 {
				t.Errorf("process=100 gave %+v", e)
			}
		}
		fin := s.MustEvents("process=100&type=RunFinished")
		if len(fin) != 4 {
			t.Errorf("process=100&type=RunFinished gave %d events, want 4", len(fin))
		}
		received := s.MustEvents("type=MessageReceived")
		for _, e := range received {
			if e.Type != statesrv.EventMessageReceived {
				t.Errorf("type filter gave %s", e.Type)
			}
		}
		afterProc := s.MustEvents("process=100&after=" + strconv.FormatUint(proc[1].Seq, 10) + "&limit=1")
		if len(afterProc) != 1 || afterProc[0].Seq != proc[2].Seq {
			t.Errorf("process=100&after=%d&limit=1 gave %+v, want seq %d", proc[1].Seq, afterProc, proc[2].Seq)
		}
	})

	t.Run("StateAsOfEarlierTime", func(t *testing.T) {
		s := withTB(s, t)
		s.MustAdvance(time.Minute)
		beforeDefine := s.clk.Now()
		s.MustAdvance(time.Minute)
		s.MustDefine(scheduled(200, "0 0 1 1 *", time.Hour))
		defined := s.clk.Now()
		s.MustAdvance(time.Minute)
		var r statesrv.Run
		s.MustCall("POST", "/api/v1/processes/200/start", nil, http.StatusCreated, &r)
		started := s.clk.Now()
		s.MustAdvance(time.Minute)
		s.MustReportAck("#id=200;state=OK")
		s.MustReportAck("#id=200;state=OK;msg=extra")
		s.MustUnprocessed("#id=200;state=OK;msg=extra")

		type state struct {
			Seq         uint64                 `json:"seq"`
			Processes   []statesrv.Process     `json:"processes"`
			Runs        []statesrv.Run         `json:"runs"`
			Unprocessed []statesrv.Unprocessed `json:"unprocessed"`
		}
		stateAt := func(tm time.Time) state {
			var st state
			s.MustGet("/api/v1/state?at="+url.QueryEscape(tm.Format(time.RFC3339Nano)), &st)
			return st
		}
		has := func(st state) (proc, run, unp bool) {
			for _, p := range st.Processes {
				proc = proc || p.ID == 200
			}
			for _, o := range st.Runs {
				run = run || o.ID == r.ID
			}
			for _, u := range st.Unprocessed {
				unp = unp || u.Line == "#id=200;state=OK;msg=extra"
			}
			return
		}
		for _, tc := range []struct {
			name           string
			at             time.Time
			proc, run, unp bool
		}{
			{"BeforeDefined", beforeDefine, false, false, false},
			{"Defined", defined, true, false, false},
			{"Started", started, true, true, false},
			{"Now", s.clk.Now(), true, false, true},
		} {
			proc, run, unp := has(stateAt(tc.at))
			if proc != tc.proc || run != tc.run || unp != tc.unp {
				t.Errorf("%s: process %v, run %v, unprocessed %v; want %v %v %v",
					tc.name, proc, run, unp, tc.proc, tc.run, tc.unp)
			}
		}
		if status, _ := s.MustDo("GET", "/api/v1/state", nil); status != http.StatusBadRequest {
			t.Errorf("state without at: %d, want 400", status)
		}
	})

	t.Run("BearerTokenRequired", func(t *testing.T) {
		s := withTB(s, t)
		for _, auth := range []string{"", "Bearer wrong", "Basic YWRtaW46YWRtaW4tcHc=", "Bearer "} {
			for _, req := range [][2]string{{"GET", "/api/v1/processes"}, {"PUT", "/api/v1/processes/1"},
				{"GET", "/api/v1/events"}, {"POST", "/api/v1/rebuild"}} {
				status, raw := s.MustDo(req[0], req[1], `{"name":"x"}`, "Authorization", auth)
				var e map[string]string
				if status != http.StatusUnauthorized || json.Unmarshal(raw, &e) != nil || e["error"] == "" {
					t.Errorf("%s %s with %q: %d %s, want 401 with an error", req[0], req[1], auth, status, raw)
				}
			}
		}
		if status, _ := s.MustDo("GET", "/api/v1/processes/1", nil); status != http.StatusNotFound {
			t.Errorf("a refused PUT was stored")
		}
	})

	t.Run("CrossOriginBrowserRequestsRefused", func(t *testing.T) {
		s := withTB(s, t)
		s.MustDefine(pushOnly(300, time.Hour))
		for _, h := range [][2]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "http://evil.example"}} {
			for _, req := range [][2]string{{"POST", "/api/v1/processes/300/start"}, {"PUT", "/api/v1/processes/300"},
				{"DELETE", "/api/v1/processes/300"}} {
				status, raw := s.MustDo(req[0], req[1], `{"name":"evil"}`, h[0], h[1])
				var e map[string]string
				if status != http.StatusForbidden || json.Unmarshal(raw, &e) != nil || e["error"] == "" {
					t.Errorf("%s %s with %s: %s: %d %s, want 403", req[0], req[1], h[0], h[1], status, raw)
				}
			}
		}
		if runs, _ := s.openRuns(300); len(runs) != 0 {
			t.Errorf("a refused start opened %d runs", len(runs))
		}
		var p statesrv.Process
		s.MustCall("GET", "/api/v1/processes/300", nil, http.StatusOK, &p)
		if p.Name != "job300" {
			t.Errorf("a refused PUT changed the process: %+v", p)
		}
		s.MustCall("POST", "/api/v1/processes/300/start", nil, http.StatusCreated, nil)
		status, _ := s.MustDo("POST", "/api/v1/processes/300/start", nil, "Sec-Fetch-Site", "same-origin")
		if status != http.StatusCreated {
			t.Errorf("same-origin start: %d, want 201", status)
		}
	})

	t.Run("Healthz", func(t *testing.T) {
		s := withTB(s, t)
		status, raw := s.MustDo("GET", "/healthz", nil, "Authorization", "")
		var h struct {
			Status  string `json:"status"`
			LastSeq uint64 `json:"last_seq"`
		}
		if status != http.StatusOK || json.Unmarshal(raw, &h) != nil || h.Status != "ok" || h.LastSeq == 0 {
			t.Errorf("healthz: %d %s", status, raw)
		}
	})
}

func TestPing(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(5, time.Hour))
	keyed := pushOnly(6, time.Hour)
	keyed.Key = statesrv.Ptr("k1")
	s.MustDefine(keyed)

	ping := func(method, path, body string) (int, string) {
		t.Helper()
		status, raw := s.MustDo(method, path, body, "Authorization", "")
		return status, strings.TrimSpace(string(raw))
	}
	mustAck := func(method, path, body string) uint64 {
		t.Helper()
		status, reply := ping(method, path, body)
		if status != http.StatusOK {
			t.Fatalf("%s %s: %d %q, want 200", method, path, status, reply)
		}
		return MustAckSeq(t, reply)
	}

	t.Run("GetAcks", func(t *testing.T) {
		s := withTB(s, t)
		seq := mustAck("GET", "/ping/5/ok?name=job5&msg=fine&code=0", "")
		e := s.MustEvent(seq)
		if e.Type != statesrv.EventMessageReceived || e.field("transport") != "http" || e.field("msg") != "fine" ||
			e.Actor != "http:127.0.0.1" {
			t.Errorf("event %+v", e)
		}
	})

	t.Run("PostBodyIsMsg", func(t *testing.T) {
		s := withTB(s, t)
		seq := mustAck("POST", "/ping/5/FAIL?code=4", "backup failed: disk full")
		if got := s.MustEvent(seq).field("msg"); got != "backup failed: disk full" {
			t.Errorf("msg %q", got)
		}
		var runs []statesrv.Run
		eventually(t, func() error {
			var err error
			if runs, err = s.history(5); err == nil && len(runs) != 2 {
				err = fmt.Errorf("%d runs", len(runs))
			}
			return err
		})
		if runs[0].State != statesrv.StateFail || runs[0].Message != "backup failed: disk full" || *runs[0].Code != 4 {
			t.Errorf("run %+v", runs[0])
		}
	})

	t.Run("MidRetryAcksSameSeq", func(t *testing.T) {
		a := mustAck("GET", "/ping/5/OK?mid=p1", "")
		if b := mustAck("POST", "/ping/5/OK?mid=p1", ""); b != a {
			t.Errorf("retry ACK %d, want %d", b, a)
		}
	})

	t.Run("ErrReplies", func(t *testing.T) {
		for _, tc := range []struct{ path, reply string }{
			{"/ping/abc/OK", "ERR bad id"},
			{"/ping/5/MAYBE", "ERR bad state"},
			{"/ping/5/OK?code=x", "ERR bad code"},
			{"/ping/6/OK?key=wrong", "ERR bad key"},
		} {
			for _, m := range []string{"GET", "POST"} {
				if status, reply := ping(m, tc.path, ""); status != http.StatusBadRequest || reply != tc.reply {
					t.Errorf("%s %s: %d %q, want 400 %q", m, tc.path, status, reply, tc.reply)
				}
			}
		}
		mustAck("GET", "/ping/6/OK?key=k1", "")
		s := withTB(s, t)
		if u := s.MustUnprocessed("GET /ping/6/OK?key=***"); u.Reason != statesrv.ReasonBadKey {
			t.Errorf("unprocessed %+v, want bad key", u)
		}
	})
}

func TestRestartKeepsViews(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(scheduled(1, "*/10 * * * * *", time.Hour))
	s.MustDefine(pushOnly(2, 30*time.Minute))
	s.MustAdvance(5 * time.Second)
	s.MustOpenRuns(1, 1)
	s.MustAdvance(10 * time.Second)
	s.MustOpenRuns(1, 2)
	s.MustReportAck("#id=1;state=OK;msg=closed")
	s.MustReportAck("#id=2;state=START")
	s.MustReportAck("#id=2;state=FAIL;code=1")
	s.MustReportAck("#id=2;state=START")
	s.MustReportAck("#id=2;state=OK")
	s.MustReportAck("#id=2;state=START")
	s.MustReportAck("#id=9;state=OK")
	s.MustReport("#id=2")
	eventually(t, func() error {
		if a, b := s.Runner.Seq(), s.Log.LastSeq(); a != b {
			return fmt.Errorf("views at %d, log at %d", a, b)
		}
		return nil
	})
	paths := []string{"/api/v1/processes", "/api/v1/runs", "/api/v1/history", "/api/v1/unprocessed",
		"/api/v1/history?process=2", "/api/v1/history?state=OK", "/api/v1/events?process=2"}
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, p := range paths {
			status, raw := s.MustDo("GET", p, nil)
			if status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", p, status, raw)
			}
			out[p] = string(raw)
		}
		return out
	}
	compare := func(what string, want, got map[string]string) {
		t.Helper()
		for _, p := range paths {
			if want[p] != got[p] {
				t.Errorf("%s: GET %s:\n got %s\nwant %s", what, p, got[p], want[p])
			}
		}
	}
	before := snapshot()
	if before["/api/v1/runs"] == "[]" || before["/api/v1/history"] == "[]" || before["/api/v1/unprocessed"] == "[]" {
		t.Fatalf("nothing to compare: %v", before)
	}

	s.MustRestart(nil)
	compare("after restart", before, snapshot())

	var rb struct {
		Events uint64 `json:"events"`
	}
	s.MustCall("POST", "/api/v1/rebuild", nil, http.StatusOK, &rb)
	if rb.Events != s.Log.LastSeq() {
		t.Errorf("rebuild read %d events, log has %d", rb.Events, s.Log.LastSeq())
	}
	compare("after rebuild", before, snapshot())
}

func TestShutdownAnswersWrittenLines(t *testing.T) {
	s := MustOpenServer(t)
	s.MustDefine(pushOnly(1, time.Hour))
	c := s.MustDial()
	c.MustAck("#id=1;state=OK;msg=warm-up")
	const n = 100
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "#id=1;state=OK;msg=m%d\n", i)
	}
	c.MustWrite(b.String())
	s.MustClose()
	c.conn.SetReadDeadline(time.Now().Add(ioWait))
	rest, err := io.ReadAll(c.rd)
	if err != nil {
		t.Fatalf("read: %v after %d replies", err, strings.Count(string(rest), "\n"))
	}
	replies := strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n")
	if len(replies) != n {
		t.Fatalf("%d replies before the connection closed, want %d: %q", len(replies), n, rest)
	}
	seqs := make([]uint64, n)
	for i, r := range replies {
		seqs[i] = MustAckSeq(t, r)
	}
	// Every acknowledged line is in the log, in order.
	s.MustOpen()
	for i, seq := range seqs {
		if got, want := s.MustEvent(seq).field("msg"), fmt.Sprintf("m%d", i); got != want {
			t.Fatalf("ACK %d is for msg %q, want %q", seq, got, want)
		}
	}
}
