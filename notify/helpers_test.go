package notify

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/statesrv/statesrv"
)

const testAlertID = "0b6f6a4e-8f0e-4e5b-9a55-2f3c1c2d7e11"

// testAlert returns an alert about run of process 26 NightlyExport, which
// started at 02:00Z (given in a +01:00 zone, to check the conversion to
// UTC).
func testAlert(outcome string) Alert {
	cet := time.FixedZone("CET", 3600)
	started := time.Date(2026, 11, 25, 3, 0, 0, 0, cet)
	a := Alert{
		ID:        testAlertID,
		Outcome:   outcome,
		Recipient: "mailto:ops@example.com",
		ProcessID: 26,
		Process:   "NightlyExport",
		Run: statesrv.Run{
			ID: "7d3c9f0e-1111-4222-8333-944455556666", ProcessID: 26, Name: "NightlyExport",
			State: statesrv.StateRunning, Source: statesrv.SourceSchedule,
			StartedAt: started, Deadline: started.Add(2 * time.Hour),
		},
		Link: "http://localhost:8080/runs/7d3c9f0e-1111-4222-8333-944455556666",
		At:   time.Date(2026, 11, 25, 4, 0, 5, 0, time.UTC),
	}
	finished := started.Add(47 * time.Minute)
	code := 3
	switch outcome {
	case statesrv.OutcomeOK, statesrv.OutcomeRecovered:
		a.Run.State, a.Run.FinishedAt = statesrv.StateOK, &finished
		code = 0
		a.Run.Code = &code
	case statesrv.OutcomeFail:
		a.Run.State, a.Run.FinishedAt, a.Run.Code = statesrv.StateFail, &finished, &code
		a.Message = "disk full"
	case statesrv.OutcomeTimeout:
		deadline := a.Run.Deadline
		a.Run.State, a.Run.FinishedAt = statesrv.StateTimeout, &deadline
	case statesrv.OutcomeLate:
		deadline := a.Run.Deadline
		a.Run.State, a.Run.FinishedAt = statesrv.StateTimeout, &deadline
		a.Message = "done at last"
	}
	if outcome == statesrv.OutcomeRecovered {
		a.DownFor, a.Failures = 3*time.Hour+12*time.Minute, 4
	}
	return a
}

var outcomes = []string{
	statesrv.OutcomeOK, statesrv.OutcomeFail, statesrv.OutcomeTimeout,
	statesrv.OutcomeLate, statesrv.OutcomeRecovered,
}

// MustNew returns a Sender for cfg or fails the test.
func MustNew(tb testing.TB, cfg Config) *Sender {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

// checkErr fails the test unless err is a *Error of the channel that is
// permanent or temporary as wanted.
func checkErr(tb testing.TB, err error, channel string, wantPermanent bool) *Error {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want a *notify.Error", err, err)
	}
	if e.Channel != channel {
		tb.Errorf("Channel = %q, want %q (%v)", e.Channel, channel, err)
	}
	if e.Permanent != wantPermanent || IsPermanent(err) != wantPermanent {
		tb.Errorf("Permanent = %v, want %v (%v)", e.Permanent, wantPermanent, err)
	}
	return e
}

// smtpBackend is an in-process SMTP server's backend: it records what it
// accepts and answers as configured.
type smtpBackend struct {
	rcptErr  error         // answer to RCPT TO
	dataErr  error         // answer to the end of DATA
	stall    chan struct{} // when set, EHLO waits until it is closed
	user     string        // when set, MAIL needs AUTH PLAIN as user
	password string

	mu       sync.Mutex
	messages []smtpMessage
}

// smtpMessage is one message the server accepted.
type smtpMessage struct {
	From string
	To   []string
	Data []byte
	User string // the authenticated user
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	if b.stall != nil {
		<-b.stall
	}
	return &smtpSession{b: b}, nil
}

func (b *smtpBackend) received() []smtpMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpMessage(nil), b.messages...)
}

type smtpSession struct {
	b    *smtpBackend
	user string
	msg  smtpMessage
}

func (s *smtpSession) AuthMechanisms() []string {
	if s.b.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.b.user || password != s.b.password {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = smtpMessage{From: from, User: s.user}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.b.dataErr != nil {
		return s.b.dataErr
	}
	s.msg.Data = data
	s.b.mu.Lock()
	s.b.messages = append(s.b.messages, s.msg)
	s.b.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.msg = smtpMessage{} }
func (s *smtpSession) Logout() error { return nil }

// startSMTP serves b on 127.0.0.1 and returns the address. With
// implicitTLS the listener speaks TLS at once; otherwise a tlsConfig
// enables STARTTLS.
func startSMTP(tb testing.TB, b *smtpBackend, tlsConfig *tls.Config, implicitTLS bool) string {
	tb.Helper()
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = tlsConfig == nil
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if implicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	} else {
		srv.TLSConfig = tlsConfig
	}
	go srv.Serve(ln)
	if b.stall != nil {
		tb.Cleanup(func() { close(b.stall) }) // runs after Close below
	}
	tb.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// testCerts returns a server certificate for 127.0.0.1 and a client
// configuration that trusts it (borrowed from httptest).
func testCerts(tb testing.TB) (server, client *tls.Config) {
	tb.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	defer ts.Close()
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return &tls.Config{Certificates: ts.TLS.Certificates}, &tls.Config{RootCAs: pool}
}

// closedAddr returns an address on 127.0.0.1 that refuses connections.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// parsedEmail is a received message, decoded.
type parsedEmail struct {
	Header netmail.Header
	Text   string
	HTML   string
}

// parseEmail reads a message of a text/plain and a text/html alternative.
func parseEmail(tb testing.TB, data []byte) parsedEmail {
	tb.Helper()
	m, err := netmail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		tb.Fatalf("read message: %v\n%s", err, data)
	}
	p := parsedEmail{Header: m.Header}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		tb.Fatalf("Content-Type %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("next part: %v", err)
		}
		var r io.Reader = part // quoted-printable is decoded by NextPart
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, part)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			tb.Fatalf("read part: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			p.Text = strings.ReplaceAll(string(body), "\r\n", "\n")
		case "text/html":
			p.HTML = strings.ReplaceAll(string(body), "\r\n", "\n")
		}
	}
	return p
}
