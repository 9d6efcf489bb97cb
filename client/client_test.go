package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestReportLine(t *testing.T) {
	tests := []struct {
		name   string
		report Report
		want   string
	}{
		{"IDAndStateOnly", Report{ID: 25, State: "OK"}, "#id=25;state=OK"},
		{"AllKeysInOrder",
			Report{ID: 7, State: "FAIL", Name: "backup", Run: "r-1", Msg: "disk full", Key: "s3cret", MID: "m1", Code: ptr(2)},
			"#id=7;state=FAIL;name=backup;run=r-1;msg=disk full;code=2;key=s3cret;mid=m1"},
		{"ZeroCodeKept", Report{ID: 1, State: "OK", Code: ptr(0)}, "#id=1;state=OK;code=0"},
		{"NegativeCode", Report{ID: 1, State: "FAIL", Code: ptr(-1)}, "#id=1;state=FAIL;code=-1"},
		{"SemicolonBecomesComma", Report{ID: 1, State: "OK", Msg: "a;b=c"}, "#id=1;state=OK;msg=a,b=c"},
		{"ControlCharactersBecomeSpaces", Report{ID: 1, State: "OK", Msg: "a\tb\x1bc\u0085d"}, "#id=1;state=OK;msg=a b c d"},
		{"LineBreaksBecomeSpaces", Report{ID: 1, State: "OK", Name: "x\r\ny", Msg: "one\ntwo\r"}, "#id=1;state=OK;name=x  y;msg=one two "},
		{"EveryValueCleaned", Report{ID: 1, State: "O;K", Run: "1;2", Key: "k\n", MID: "m\r"}, "#id=1;state=O,K;run=1,2;key=k ;mid=m "},
		{"InvalidUTF8Replaced", Report{ID: 1, State: "OK", Msg: "a\xffb"}, "#id=1;state=OK;msg=a\uFFFDb"},
		{"UTF8Kept", Report{ID: 1, State: "OK", Msg: "záloha ok"}, "#id=1;state=OK;msg=záloha ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.report.Line(); got != tt.want {
				t.Errorf("Line() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReportLineMsgCut(t *testing.T) {
	for _, tt := range []struct {
		name string
		msg  string
		want string
	}{
		{"ExactlyMaxKept", strings.Repeat("a", MaxMsg), strings.Repeat("a", MaxMsg)},
		{"LongerCut", strings.Repeat("a", MaxMsg+5), strings.Repeat("a", MaxMsg)},
		{"CountsCharactersNotBytes", strings.Repeat("ž", MaxMsg+1), strings.Repeat("ž", MaxMsg)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Report{ID: 1, State: "OK", Msg: tt.msg}.Line()
			if want := "#id=1;state=OK;msg=" + tt.want; got != want {
				t.Errorf("Line() has msg of %d bytes, want %d", len(got)-len("#id=1;state=OK;msg="), len(tt.want))
			}
		})
	}
}

func TestParseReply(t *testing.T) {
	for _, tt := range []struct {
		name   string
		line   string
		seq    uint64
		reason *string // a *ReplyError with this reason is wanted
	}{
		{name: "ACK", line: "ACK 42\n", seq: 42},
		{name: "ACKWithCRLF", line: "ACK 7\r\n", seq: 7},
		{name: "ERR", line: "ERR bad key\n", reason: ptr("bad key")},
		{name: "ERRWithoutReason", line: "ERR\n", reason: ptr("")},
		{name: "ErrACKWithoutSeq", line: "ACK\n"},
		{name: "ErrBadSeq", line: "ACK x\n"},
		{name: "ErrUnknown", line: "HELLO\n"},
		{name: "ErrERRLookalike", line: "ERRATIC\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seq, err := parseReply([]byte(tt.line))
			var replyErr *ReplyError
			isReplyErr := errors.As(err, &replyErr)
			switch {
			case tt.reason != nil:
				if !isReplyErr || replyErr.Reason != *tt.reason {
					t.Fatalf("parseReply(%q) error = %v, want ReplyError %q", tt.line, err, *tt.reason)
				}
			case strings.HasPrefix(tt.name, "Err"):
				if err == nil || isReplyErr {
					t.Fatalf("parseReply(%q) = %d, %v; want a protocol error", tt.line, seq, err)
				}
			default:
				if err != nil || seq != tt.seq {
					t.Fatalf("parseReply(%q) = %d, %v; want %d", tt.line, seq, err, tt.seq)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestSend(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: -1, record: true})
		code := 0
		r := Report{ID: 25, State: "OK", Name: "JajaBackupData", Code: &code}
		for want := uint64(1); want <= 2; want++ {
			seq, err := Send(t.Context(), s.addr(), r)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if seq != want {
				t.Errorf("seq = %d, want %d", seq, want)
			}
		}
		got := s.received()
		if len(got) != 2 || got[0] != r.Line() {
			t.Errorf("server received %q, want twice %q", got, r.Line())
		}
	})
	t.Run("ErrReply", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: -1})
		_, err := Send(t.Context(), s.addr(), Report{ID: 1, State: "BAD"})
		var replyErr *ReplyError
		if !errors.As(err, &replyErr) || replyErr.Reason != "bad state" {
			t.Fatalf("Send error = %v, want ReplyError \"bad state\"", err)
		}
		if !strings.Contains(err.Error(), "ERR bad state") {
			t.Errorf("error text %q does not quote the reply", err)
		}
	})
	t.Run("ErrNoReply", func(t *testing.T) {
		s := startServer(t, serverOptions{closeAfterLine: true})
		_, err := Send(t.Context(), s.addr(), Report{ID: 1, State: "OK"})
		if !errors.Is(err, ErrNoReply) {
			t.Fatalf("Send error = %v, want ErrNoReply", err)
		}
	})
	t.Run("ErrDeadline", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: 0})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := Send(ctx, s.addr(), Report{ID: 1, State: "OK"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send error = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		s := startServer(t, serverOptions{replies: 0})
		ctx, cancel := context.WithCancel(t.Context())
		// Cancel once the line has reached the server, so that Send is
		// waiting for the reply.
		go cancelOnceReceived(s, cancel)
		_, err := Send(ctx, s.addr(), Report{ID: 1, State: "OK"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Send error = %v, want context.Canceled", err)
		}
	})
	t.Run("ErrUnexpectedReply", func(t *testing.T) {
		addr := startRawServer(t, "HELLO\n")
		_, err := Send(t.Context(), addr, Report{ID: 1, State: "OK"})
		var replyErr *ReplyError
		if err == nil || errors.As(err, &replyErr) {
			t.Fatalf("Send error = %v, want a protocol error", err)
		}
	})
	t.Run("ErrDial", func(t *testing.T) {
		_, err := Send(t.Context(), closedAddr(t), Report{ID: 1, State: "OK"})
		if err == nil {
			t.Fatal("Send to a closed port succeeded")
		}
	})
}

// startRawServer answers the first line of every connection with reply.
func startRawServer(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 4096)
			conn.Read(buf)
			conn.Write([]byte(reply))
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

// closedAddr returns an address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
