package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/statesrv/statesrv"
)

// Alert is one message to one recipient about one run.
type Alert struct {
	ID        string       // the alert id: the idempotency key of every attempt
	Outcome   string       // "ok", "fail", "timeout", "late", "recovered"
	Recipient string       // mailto:..., sms:+..., https://... or http://...
	ProcessID int64        // the process id
	Process   string       // the process name
	Run       statesrv.Run // the run (for late: the run that timed out)
	Message   string       // the report's message text, if any
	Link      string       // URL of the run in the dashboard
	// For "recovered": how long the process was down and how many runs
	// failed or timed out meanwhile.
	DownFor  time.Duration
	Failures int
	At       time.Time // when the alert was requested
}

// Config configures the channels; zero values mean "not configured".
type Config struct {
	// SMTP is the --smtp URL (see the package documentation).
	SMTP string
	// SMSURL is the gateway that each SMS is POSTed to as JSON.
	SMSURL string
	// SMSToken, when set, is sent to the gateway as a bearer token.
	SMSToken string
	// HTTPClient sends SMS and webhooks. nil: a client with a 10 s timeout
	// that does not follow redirects.
	HTTPClient *http.Client
	// Timeout bounds each attempt, whatever the channel (default 10 s).
	Timeout time.Duration
	// TLSConfig verifies the SMTP server (tls=tls and tls=starttls). nil:
	// the system's roots. Its ServerName defaults to the URL's host.
	TLSConfig *tls.Config
	// Now is the clock for the Date header and Retry-After dates (nil:
	// time.Now).
	Now func() time.Time
}

// Channels, as Error.Channel names them.
const (
	ChannelEmail   = "email"
	ChannelSMS     = "sms"
	ChannelWebhook = "webhook"
)

// Errors for recipients whose channel is not configured. Send returns them
// wrapped in a permanent *Error.
var (
	ErrNoSMTP       = errors.New("no SMTP configured")
	ErrNoSMSGateway = errors.New("no SMS gateway configured")
)

const defaultTimeout = 10 * time.Second

// Error is a failed delivery attempt.
type Error struct {
	// Permanent is true when retrying cannot help.
	Permanent bool
	// Channel is ChannelEmail, ChannelSMS or ChannelWebhook; empty when
	// the recipient names no channel.
	Channel string
	Err     error
	// RetryAfter is the wait a receiver asked for (HTTP Retry-After), or 0.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Channel == "" {
		return "notify: " + e.Err.Error()
	}
	return "notify: " + e.Channel + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// RetryDelay is how long the receiver asked to wait before the next attempt
// (its Retry-After), or 0.
func (e *Error) RetryDelay() time.Duration { return e.RetryAfter }

// IsPermanent reports whether err is (or wraps) a permanent *Error.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

func permanent(channel string, err error) *Error {
	return &Error{Permanent: true, Channel: channel, Err: err}
}

func temporary(channel string, err error) *Error {
	return &Error{Channel: channel, Err: err}
}

// Sender delivers alerts over the channel their recipient names. It is safe
// for concurrent use.
type Sender struct {
	smtp     *smtpConfig // nil: not configured
	smsURL   string
	smsToken string
	client   *http.Client
	timeout  time.Duration
	now      func() time.Time
}

// New validates cfg and returns a Sender. A bad --smtp or --sms-url is an
// error that names the problem (and never repeats the SMTP password).
func New(cfg Config) (*Sender, error) {
	s := &Sender{smsToken: cfg.SMSToken, client: cfg.HTTPClient, timeout: cfg.Timeout, now: cfg.Now}
	if s.timeout <= 0 {
		s.timeout = defaultTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{
			Timeout: defaultTimeout,
			// A webhook that redirects has moved; following a POST
			// redirect would turn it into a GET without a body.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.SMTP != "" {
		c, err := parseSMTP(cfg.SMTP, cfg.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("notify: --smtp: %w", err)
		}
		s.smtp = c
	}
	if cfg.SMSURL != "" {
		if err := checkHTTPURL(cfg.SMSURL); err != nil {
			return nil, fmt.Errorf("notify: --sms-url: %w", err)
		}
		s.smsURL = cfg.SMSURL
	}
	return s, nil
}

// Missing returns a warning for each channel that recipients may name but
// that is not configured, for a start-up log line.
func (s *Sender) Missing() []string {
	var w []string
	if s.smtp == nil {
		w = append(w, ErrNoSMTP.Error()+": mailto: alerts will fail")
	}
	if s.smsURL == "" {
		w = append(w, ErrNoSMSGateway.Error()+": sms: alerts will fail")
	}
	return w
}

// Send delivers one alert within the per-attempt timeout. It returns nil
// when the receiver accepted it, a *Error with Permanent true when
// retrying cannot help, and a *Error with Permanent false for temporary
// failures (see the package documentation). A ctx that ends during the
// attempt is a temporary failure.
func (s *Sender) Send(ctx context.Context, a Alert) error {
	r, err := parseRecipient(a.Recipient)
	if err != nil {
		return permanent(r.channel, err)
	}
	if err := checkID(a.ID); err != nil {
		return permanent(r.channel, err)
	}
	if err := ctx.Err(); err != nil {
		return temporary(r.channel, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	switch r.channel {
	case ChannelEmail:
		return s.sendEmail(ctx, r.addr, a)
	case ChannelSMS:
		return s.sendSMS(ctx, r.phone, a)
	default:
		return s.sendWebhook(ctx, r.url, a)
	}
}

// checkID accepts alert ids that can stand in a Message-ID and an HTTP
// header as they are: letters, digits and ._-:+=~ (a UUID passes).
func checkID(id string) error {
	if id == "" {
		return errors.New("alert has no id")
	}
	if len(id) > 200 {
		return errors.New("alert id longer than 200 bytes")
	}
	for _, c := range id {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '-', c == ':', c == '+', c == '=', c == '~':
		default:
			return fmt.Errorf("alert id %q: character %q not allowed", id, c)
		}
	}
	return nil
}
