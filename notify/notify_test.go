package notify

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  string
		want smtpConfig // host, port, tlsMode, user, auth compared
	}{
		{"Submission587IsStartTLS", "smtp://user:pass@mail.example.com:587?from=statesrv@example.com",
			smtpConfig{host: "mail.example.com", port: 587, tlsMode: "starttls", user: "user", auth: "plain"}},
		{"Port465IsTLS", "smtp://user:pass@mail.example.com:465?from=statesrv@example.com",
			smtpConfig{host: "mail.example.com", port: 465, tlsMode: "tls", user: "user", auth: "plain"}},
		{"Port25IsStartTLS", "smtp://mail.example.com:25?from=statesrv@example.com",
			smtpConfig{host: "mail.example.com", port: 25, tlsMode: "starttls", auth: "plain"}},
		{"NoPortIsStartTLS587", "smtp://mail.example.com?from=statesrv@example.com",
			smtpConfig{host: "mail.example.com", port: 587, tlsMode: "starttls", auth: "plain"}},
		{"SMTPSIsTLS465", "smtps://mail.example.com?from=statesrv@example.com",
			smtpConfig{host: "mail.example.com", port: 465, tlsMode: "tls", auth: "plain"}},
		{"NoneIsPort25", "smtp://relay.internal?from=statesrv@example.com&tls=none",
			smtpConfig{host: "relay.internal", port: 25, tlsMode: "none", auth: "plain"}},
		{"NoneWithAuthOnLoopback", "smtp://u:p@127.0.0.1:2525?from=statesrv@example.com&tls=none&auth=login",
			smtpConfig{host: "127.0.0.1", port: 2525, tlsMode: "none", user: "u", auth: "login"}},
		{"NoneWithAuthOnLocalhost", "smtp://u:p@localhost:2525/?from=statesrv@example.com&tls=none",
			smtpConfig{host: "localhost", port: 2525, tlsMode: "none", user: "u", auth: "plain"}},
		{"IPv6", "smtp://[::1]:2525?from=statesrv@example.com&tls=none",
			smtpConfig{host: "::1", port: 2525, tlsMode: "none", auth: "plain"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustNew(t, Config{SMTP: tc.url})
			c := s.smtp
			got := smtpConfig{host: c.host, port: c.port, tlsMode: c.tlsMode, user: c.user, auth: c.auth}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if c.from.Address != "statesrv@example.com" {
				t.Errorf("from %v", c.from)
			}
			if c.tlsMode != "none" && (c.tls == nil || c.tls.ServerName != c.host) {
				t.Errorf("TLS config %+v does not verify %s", c.tls, c.host)
			}
		})
	}
	t.Run("FromWithNameAndPlus", func(t *testing.T) {
		s := MustNew(t, Config{SMTP: "smtp://mail.example.com?from=statesrv%20%3Cops+statesrv@example.com%3E"})
		if s.smtp.from.Name != "statesrv" || s.smtp.from.Address != "ops+statesrv@example.com" {
			t.Errorf("from %+v", s.smtp.from)
		}
	})
}

func TestNewError(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // in the error
	}{
		{"ErrBadURL", Config{SMTP: "smtp://user:s3cret@mail.example.com:port?from=a@example.com"}, "--smtp: bad URL"},
		{"ErrBadPort", Config{SMTP: "smtp://user:s3cret@mail.example.com:99999?from=a@example.com"}, "bad port"},
		{"ErrScheme", Config{SMTP: "http://mail.example.com?from=a@example.com"}, "want smtp:// or smtps://"},
		{"ErrNoScheme", Config{SMTP: "mail.example.com:587"}, "want smtp:// or smtps://"},
		{"ErrNoHost", Config{SMTP: "smtp:///?from=a@example.com"}, "no host"},
		{"ErrMissingFrom", Config{SMTP: "smtp://user:s3cret@mail.example.com:587"}, "missing from="},
		{"ErrBadFrom", Config{SMTP: "smtp://mail.example.com?from=not-an-address"}, "from="},
		{"ErrUnknownTLS", Config{SMTP: "smtp://mail.example.com?from=a@example.com&tls=ssl"}, `tls="ssl": want none, starttls or tls`},
		{"ErrUnknownAuth", Config{SMTP: "smtp://mail.example.com?from=a@example.com&auth=cram"}, `auth="cram"`},
		{"ErrUnknownParameter", Config{SMTP: "smtp://mail.example.com?from=a@example.com&tsl=none"}, `unknown parameter "tsl"`},
		{"ErrRepeatedParameter", Config{SMTP: "smtp://mail.example.com?from=a@example.com&from=b@example.com"}, "twice"},
		{"ErrPath", Config{SMTP: "smtp://mail.example.com/x?from=a@example.com"}, "unexpected path"},
		{"ErrUserWithoutPassword", Config{SMTP: "smtp://user@mail.example.com?from=a@example.com"}, "no password"},
		{"ErrPasswordInClear", Config{SMTP: "smtp://user:s3cret@mail.example.com?from=a@example.com&tls=none"}, "in clear"},
		{"ErrBadSMSURL", Config{SMSURL: "gateway.example.com/send"}, "--sms-url"},
		{"ErrSMSURLNoHost", Config{SMSURL: "https:///send"}, "no host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err == nil {
				t.Fatalf("New = %+v, want an error", s)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"Nothing", Config{}, []string{
			"no SMTP configured: mailto: alerts will fail",
			"no SMS gateway configured: sms: alerts will fail",
		}},
		{"NoSMS", Config{SMTP: "smtp://mail.example.com?from=a@example.com"}, []string{
			"no SMS gateway configured: sms: alerts will fail",
		}},
		{"All", Config{SMTP: "smtp://mail.example.com?from=a@example.com", SMSURL: "https://sms.example.com/send"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MustNew(t, tc.cfg).Missing(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Missing() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSendUnconfiguredChannelIsPermanent(t *testing.T) {
	s := MustNew(t, Config{})
	for _, tc := range []struct {
		name, recipient, channel string
		want                     error
	}{
		{"ErrNoSMTP", "mailto:ops@example.com", ChannelEmail, ErrNoSMTP},
		{"ErrNoSMSGateway", "sms:+420600000000", ChannelSMS, ErrNoSMSGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testAlert(statesrv.OutcomeFail)
			a.Recipient = tc.recipient
			err := s.Send(context.Background(), a)
			checkErr(t, err, tc.channel, true)
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
			if got, want := err.Error(), "notify: "+tc.channel+": "+tc.want.Error(); got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestSendMalformedIsPermanent(t *testing.T) {
	s := MustNew(t, Config{
		SMTP:   "smtp://127.0.0.1:1?from=statesrv@example.com&tls=none",
		SMSURL: "http://127.0.0.1:1/send",
	})
	for _, tc := range []struct {
		name, recipient, id, channel string
	}{
		{"ErrEmpty", "", testAlertID, ""},
		{"ErrNoScheme", "ops@example.com", testAlertID, ""},
		{"ErrUnknownScheme", "ftp://example.com/x", testAlertID, ""},
		{"ErrMailtoEmpty", "mailto:", testAlertID, ChannelEmail},
		{"ErrMailtoBadAddress", "mailto:not-an-address", testAlertID, ChannelEmail},
		{"ErrMailtoTwoAddresses", "mailto:a@example.com,b@example.com", testAlertID, ChannelEmail},
		{"ErrSMSEmpty", "sms:", testAlertID, ChannelSMS},
		{"ErrSMSLetters", "sms:+420abc", testAlertID, ChannelSMS},
		{"ErrSMSTooLong", "sms:+1234567890123456", testAlertID, ChannelSMS},
		{"ErrWebhookNoHost", "https:///hook", testAlertID, ChannelWebhook},
		{"ErrNoAlertID", "mailto:ops@example.com", "", ChannelEmail},
		{"ErrBadAlertID", "https://example.com/hook", "a b\r\nX: y", ChannelWebhook},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testAlert(statesrv.OutcomeFail)
			a.Recipient, a.ID = tc.recipient, tc.id
			checkErr(t, s.Send(context.Background(), a), tc.channel, true)
		})
	}
}

func TestSendCancelledContextIsTemporary(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := testAlert(statesrv.OutcomeFail)
	a.Recipient = "https://example.com/hook"
	err := MustNew(t, Config{}).Send(ctx, a)
	checkErr(t, err, ChannelWebhook, false)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}
