package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
)

// mailbox is an SMTP server in the test process that keeps what it is
// given.
type mailbox struct {
	mu   sync.Mutex
	msgs []string // "to|data"
	ln   net.Listener
	// refuse makes the server answer 451 (try again later) to every
	// recipient; refused counts those answers.
	refuse  atomic.Bool
	refused atomic.Int64
}

func startMailbox(t testing.TB) *mailbox {
	mb := &mailbox{}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.ln = ln
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb
}

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }

func (mb *mailbox) messages() []string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]string(nil), mb.msgs...)
}

type mailSession struct {
	mb *mailbox
	to []string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.mb.refuse.Load() {
		s.mb.refused.Add(1)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	s.mb.msgs = append(s.mb.msgs, strings.Join(s.to, ",")+"|"+string(b))
	return nil
}
func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

// TestAlertsEndToEnd follows a FAIL report to an e-mail in a real SMTP
// server: requested in the report's decision, delivered once, listed by
// the API, and never sent again by a restart or a rebuild.
func TestAlertsEndToEnd(t *testing.T) {
	mb := startMailbox(t)
	s := &testServer{tb: t, dir: t.TempDir(), clk: clock.NewFake(t0)}
	s.configure = func(c *Config) {
		c.SMTP = fmt.Sprintf("smtp://%s?from=statesrv@example.com&tls=none", mb.ln.Addr())
		c.PublicURL = "https://statesrv.example.com"
	}
	s.MustOpen()
	t.Cleanup(func() { s.Main.Close() })

	s.MustDefine(statesrv.Process{ID: 26, Name: "NightlyExport", Enabled: true,
		Alerts: statesrv.Alerts{Fail: []string{"mailto:ops@example.com"}, OK: []string{"sms:+420600000000"}}})
	c := s.MustDial()
	c.MustAck("#id=26;state=FAIL;msg=disk full;code=3")

	eventually(t, func() error {
		if n := len(mb.messages()); n != 1 {
			return fmt.Errorf("%d messages in the mailbox, want 1", n)
		}
		return nil
	})
	msg := mb.messages()[0]
	for _, want := range []string{"ops@example.com|", "Subject: [statesrv] FAIL 26 NightlyExport", "disk full",
		"https://statesrv.example.com/runs/", "Message-ID: <"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("the e-mail lacks %q:\n%s", want, msg)
		}
	}
	var alerts []statesrv.Alert
	eventually(t, func() error {
		if err := s.getJSON("/api/v1/alerts", &alerts); err != nil {
			return err
		}
		if len(alerts) != 1 || alerts[0].Status != statesrv.AlertDelivered || alerts[0].Outcome != "fail" {
			return fmt.Errorf("alerts = %+v, want one delivered fail alert", alerts)
		}
		return nil
	})

	// An OK to a recipient whose channel is not configured fails at once,
	// with the reason, never silently.
	c.MustAck("#id=26;state=OK")
	eventually(t, func() error {
		if err := s.getJSON("/api/v1/alerts", &alerts); err != nil {
			return err
		}
		if len(alerts) != 2 || alerts[0].Status != statesrv.AlertFailed || !strings.Contains(alerts[0].Error, "no SMS gateway configured") {
			return fmt.Errorf("alerts = %+v, want the sms alert failed for want of a gateway", alerts)
		}
		return nil
	})

	// Pausing through the API holds the next alert back, recorded.
	s.MustCall("POST", "/api/v1/processes/26/pause", map[string]string{"until": t0.Add(time.Hour).Format(time.RFC3339)}, 200, nil)
	s.MustCall("POST", "/api/v1/alerts/resume", nil, 404, nil)
	s.MustCall("POST", "/api/v1/processes/99/pause", nil, 404, nil)
	c.MustAck("#id=26;state=FAIL")
	eventually(t, func() error {
		if err := s.getJSON("/api/v1/alerts", &alerts); err != nil {
			return err
		}
		if len(alerts) != 3 || alerts[0].Status != statesrv.AlertSuppressed || !strings.Contains(alerts[0].Error, "paused until") {
			return fmt.Errorf("alerts = %+v, want the newest suppressed by the pause", alerts)
		}
		return nil
	})
	s.MustCall("POST", "/api/v1/processes/26/resume", nil, 200, nil)

	// A test alert to one of the process's recipients goes out like any.
	s.MustCall("POST", "/api/v1/processes/26/test-alert", map[string]string{"recipient": "mailto:ops@example.com"}, 200, nil)
	s.MustCall("POST", "/api/v1/processes/26/test-alert", map[string]string{"recipient": "mailto:eve@example.com"}, 400, nil)
	eventually(t, func() error {
		msgs := mb.messages()
		if len(msgs) != 2 || !strings.Contains(msgs[1], "Subject: [statesrv] TEST 26 NightlyExport") {
			return fmt.Errorf("%d messages, want the test alert as the second", len(msgs))
		}
		return nil
	})

	s.MustRestart(nil)
	s.MustCall("POST", "/api/v1/rebuild", nil, 200, nil)
	// A check that nothing happens: no event marks that the dispatcher has
	// seen the rebuilt views and sent nothing, so give a wrong second send
	// the time to show.
	time.Sleep(100 * time.Millisecond)
	if n := len(mb.messages()); n != 2 {
		t.Fatalf("%d messages after a restart and a rebuild, want still 2", n)
	}
}
