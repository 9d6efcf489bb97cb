package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"
)

// sendEmail delivers a over SMTP to one address. One connection per
// attempt: alerts are rare, and a fresh connection leaves nothing to clean
// up between attempts.
func (s *Sender) sendEmail(ctx context.Context, to *netmail.Address, a Alert) error {
	if s.smtp == nil {
		return permanent(ChannelEmail, ErrNoSMTP)
	}
	msg, err := s.emailMessage(to, a)
	if err != nil {
		return permanent(ChannelEmail, err)
	}
	deadline, _ := ctx.Deadline() // Send always sets one
	left := time.Until(deadline)
	if left <= 0 {
		return temporary(ChannelEmail, context.DeadlineExceeded)
	}

	// go-mail bounds each SMTP command by its timeout, not the whole
	// attempt; closing the connection when ctx ends bounds the attempt and
	// lets a cancelled ctx interrupt it.
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		if s.smtp.tlsMode == tlsImplicit {
			tc := tls.Client(conn, s.smtp.tls)
			if err := tc.HandshakeContext(dctx); err != nil {
				conn.Close()
				return nil, err
			}
			// A *tls.Conn, unwrapped, so that go-mail sees the connection
			// as encrypted and allows AUTH.
			conn = tc
		}
		stop = context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	client, err := s.smtp.client(left, dial)
	if err != nil {
		return temporary(ChannelEmail, err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil || msg.IsDelivered() {
		// A failed RSET or QUIT after the server accepted the message
		// does not undo the delivery.
		return nil
	}
	return smtpError(ctx, err)
}

// client returns a go-mail client for one attempt.
func (c *smtpConfig) client(timeout time.Duration, dial mail.DialContextFunc) (*mail.Client, error) {
	opts := []mail.Option{
		mail.WithPort(c.port),
		mail.WithTimeout(timeout),
		mail.WithDialContextFunc(dial),
	}
	switch c.tlsMode {
	case tlsStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(c.tls))
	default:
		// tls=tls: the dial function did the handshake already.
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if c.user != "" {
		// go-mail refuses PLAIN and LOGIN on a plain connection to
		// anything but "localhost", "127.0.0.1" and "::1"; parseSMTP only
		// lets tls=none with credentials through for a loopback host.
		auth := map[string]mail.SMTPAuthType{"plain": mail.SMTPAuthPlain, "login": mail.SMTPAuthLogin}[c.auth]
		if c.tlsMode == tlsNone {
			auth = map[string]mail.SMTPAuthType{"plain": mail.SMTPAuthPlainNoEnc, "login": mail.SMTPAuthLoginNoEnc}[c.auth]
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(c.user), mail.WithPassword(c.password))
	}
	return mail.NewClient(c.host, opts...)
}

// emailMessage builds the message: a plain-text part and an HTML
// alternative, and the alert id as Message-ID.
func (s *Sender) emailMessage(to *netmail.Address, a Alert) (*mail.Msg, error) {
	html, err := HTML(a)
	if err != nil {
		return nil, err
	}
	m := mail.NewMsg()
	m.FromMailAddress(s.smtp.from)
	m.AddToMailAddress(to)
	m.Subject(Subject(a))
	m.SetMessageIDWithValue(a.ID + "@statesrv")
	m.SetDateWithValue(s.now())
	m.SetUserAgent("statesrv")
	// RFC 3834: no vacation replies to alerts.
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(mail.TypeTextPlain, Text(a))
	m.AddAlternativeString(mail.TypeTextHTML, html)
	return m, nil
}

// smtpError classifies a failed SMTP attempt: a 5xx reply is permanent, a
// 4xx reply temporary; so are network errors, timeouts and anything
// unknown, except a server that cannot do what the URL demands.
func smtpError(ctx context.Context, err error) *Error {
	if ctx.Err() != nil {
		// The connection was closed under go-mail; say why.
		return temporary(ChannelEmail, fmt.Errorf("%w: %v", ctx.Err(), err))
	}
	code := 0
	var se *mail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
	case errors.As(err, &te):
		code = te.Code
	}
	switch {
	case code >= 500 && code < 600:
		return permanent(ChannelEmail, err)
	case code >= 400 && code < 500:
		return temporary(ChannelEmail, err)
	}
	if errors.Is(err, mailsmtp.ErrUnencrypted) ||
		errors.Is(err, mail.ErrPlainAuthNotSupported) ||
		errors.Is(err, mail.ErrLoginAuthNotSupported) ||
		// go-mail has no sentinel errors for these two.
		strings.Contains(err.Error(), "does not support STARTTLS") ||
		strings.Contains(err.Error(), "does not support SMTP AUTH") {
		return permanent(ChannelEmail, err)
	}
	return temporary(ChannelEmail, err)
}
