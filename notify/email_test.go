package notify

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/statesrv/statesrv"
)

func TestSendEmail(t *testing.T) {
	for _, outcome := range outcomes {
		t.Run(outcome, func(t *testing.T) {
			b := &smtpBackend{}
			addr := startSMTP(t, b, nil, false)
			now := time.Date(2026, 11, 25, 4, 0, 6, 0, time.UTC)
			s := MustNew(t, Config{
				SMTP: "smtp://" + addr + "?from=statesrv%2Balerts@example.com&tls=none",
				Now:  func() time.Time { return now },
			})
			a := testAlert(outcome)
			if err := s.Send(context.Background(), a); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := b.received()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			m := got[0]
			if m.From != "statesrv+alerts@example.com" || len(m.To) != 1 || m.To[0] != "ops@example.com" {
				t.Errorf("envelope from %q to %q", m.From, m.To)
			}
			e := parseEmail(t, m.Data)
			subject, _ := new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject"))
			for _, h := range []struct{ name, got, want string }{
				{"From", e.Header.Get("From"), "<statesrv+alerts@example.com>"},
				{"To", e.Header.Get("To"), "<ops@example.com>"},
				{"Subject", subject, Subject(a)},
				{"Message-ID", e.Header.Get("Message-ID"), "<" + testAlertID + "@statesrv>"},
				{"Auto-Submitted", e.Header.Get("Auto-Submitted"), "auto-generated"},
			} {
				if h.got != h.want {
					t.Errorf("%s = %q, want %q", h.name, h.got, h.want)
				}
			}
			if d, err := e.Header.Date(); err != nil || !d.Equal(now) {
				t.Errorf("Date = %v (%v), want %v", d, err, now)
			}
			if e.Text != Text(a) {
				t.Errorf("text part:\n%s\nwant:\n%s", e.Text, Text(a))
			}
			if !strings.Contains(e.HTML, "NightlyExport") || !strings.Contains(e.HTML, `href="`+a.Link+`"`) {
				t.Errorf("html part lacks the name or the link:\n%s", e.HTML)
			}
		})
	}
}

func TestSendEmailEscapesHTML(t *testing.T) {
	b := &smtpBackend{}
	addr := startSMTP(t, b, nil, false)
	s := MustNew(t, Config{SMTP: "smtp://" + addr + "?from=statesrv@example.com&tls=none"})
	a := testAlert(statesrv.OutcomeFail)
	a.Process = "<script>alert(1)</script>"
	a.Message = `<img src=x onerror="alert(2)"> & more`
	if err := s.Send(context.Background(), a); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := b.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	e := parseEmail(t, got[0].Data)
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(e.HTML, bad) {
			t.Errorf("html part contains %q unescaped:\n%s", bad, e.HTML)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=&#34;alert(2)&#34;&gt; &amp; more"} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("html part lacks %q:\n%s", want, e.HTML)
		}
	}
	if !strings.Contains(e.Text, "26 <script>alert(1)</script>") {
		t.Errorf("text part should carry the name as is:\n%s", e.Text)
	}
}

func TestSendEmailAuthPlain(t *testing.T) {
	b := &smtpBackend{user: "alice", password: "p@ss:w/rd"}
	addr := startSMTP(t, b, nil, false)
	s := MustNew(t, Config{SMTP: "smtp://alice:p%40ss%3Aw%2Frd@" + addr + "?from=statesrv@example.com&tls=none"})
	if err := s.Send(context.Background(), testAlert(statesrv.OutcomeTimeout)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := b.received()
	if len(got) != 1 || got[0].User != "alice" {
		t.Fatalf("received %+v, want one message from user alice", got)
	}
}

func TestSendEmailTLS(t *testing.T) {
	serverTLS, clientTLS := testCerts(t)
	for _, tc := range []struct {
		name     string
		implicit bool
		mode     string
	}{
		{"STARTTLS", false, "starttls"},
		{"ImplicitTLS", true, "tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The server offers AUTH only on an encrypted connection.
			b := &smtpBackend{user: "alice", password: "secret"}
			addr := startSMTP(t, b, serverTLS, tc.implicit)
			s := MustNew(t, Config{
				SMTP:      "smtp://alice:secret@" + addr + "?from=statesrv@example.com&tls=" + tc.mode,
				TLSConfig: clientTLS,
			})
			if err := s.Send(context.Background(), testAlert(statesrv.OutcomeFail)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := b.received(); len(got) != 1 || got[0].User != "alice" {
				t.Fatalf("received %+v, want one message from user alice", got)
			}
		})
	}
}

func TestSendEmailFailure(t *testing.T) {
	smtpErr := func(code int, msg string) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
	}
	for _, tc := range []struct {
		name      string
		backend   *smtpBackend
		url       string // %s is the server's address
		permanent bool
		want      string // in the error
	}{
		{"Rcpt451IsTemporary", &smtpBackend{rcptErr: smtpErr(451, "try later")}, "", false, "451"},
		{"Rcpt550IsPermanent", &smtpBackend{rcptErr: smtpErr(550, "no such user")}, "", true, "550"},
		{"Data451IsTemporary", &smtpBackend{dataErr: smtpErr(451, "queue full")}, "", false, "451"},
		{"Data550IsPermanent", &smtpBackend{dataErr: smtpErr(550, "rejected")}, "", true, "550"},
		{"AuthRequiredIsPermanent", &smtpBackend{user: "alice", password: "secret"}, "", true, "502"},
		{"WrongPasswordIsPermanent", &smtpBackend{user: "alice", password: "secret"},
			"smtp://alice:wrong@%s?from=statesrv@example.com&tls=none", true, "535"},
		{"NoAuthOfferedIsPermanent", &smtpBackend{},
			"smtp://alice:secret@%s?from=statesrv@example.com&tls=none", true, "AUTH"},
		{"NoSTARTTLSIsPermanent", &smtpBackend{},
			"smtp://%s?from=statesrv@example.com&tls=starttls", true, "STARTTLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := startSMTP(t, tc.backend, nil, false)
			url := "smtp://%s?from=statesrv@example.com&tls=none"
			if tc.url != "" {
				url = tc.url
			}
			s := MustNew(t, Config{SMTP: fmt.Sprintf(url, addr), Timeout: 5 * time.Second})
			err := s.Send(context.Background(), testAlert(statesrv.OutcomeFail))
			checkErr(t, err, ChannelEmail, tc.permanent)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if got := tc.backend.received(); len(got) != 0 {
				t.Errorf("server accepted %d messages", len(got))
			}
		})
	}
}

func TestSendEmailStallIsTemporary(t *testing.T) {
	b := &smtpBackend{stall: make(chan struct{})}
	addr := startSMTP(t, b, nil, false)
	s := MustNew(t, Config{SMTP: "smtp://" + addr + "?from=statesrv@example.com&tls=none", Timeout: 200 * time.Millisecond})
	start := time.Now()
	err := s.Send(context.Background(), testAlert(statesrv.OutcomeTimeout))
	checkErr(t, err, ChannelEmail, false)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v with a 200ms timeout", d)
	}
}

func TestSendEmailCancelledIsTemporary(t *testing.T) {
	b := &smtpBackend{stall: make(chan struct{})}
	addr := startSMTP(t, b, nil, false)
	s := MustNew(t, Config{SMTP: "smtp://" + addr + "?from=statesrv@example.com&tls=none", Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := s.Send(ctx, testAlert(statesrv.OutcomeTimeout))
	checkErr(t, err, ChannelEmail, false)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v after its ctx was cancelled", d)
	}
}

func TestSendEmailConnectionRefusedIsTemporary(t *testing.T) {
	s := MustNew(t, Config{SMTP: "smtp://" + closedAddr(t) + "?from=statesrv@example.com&tls=none"})
	err := s.Send(context.Background(), testAlert(statesrv.OutcomeFail))
	checkErr(t, err, ChannelEmail, false)
}
