package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// recipient is a parsed recipient URI.
type recipient struct {
	channel string
	addr    *mail.Address // email
	phone   string        // sms: + and digits
	url     string        // webhook
}

// parseRecipient reads mailto:ADDRESS, sms:NUMBER, https://... and
// http://... . The channel is set as soon as the scheme is known, so that
// an error about a malformed recipient still names it.
func parseRecipient(s string) (recipient, error) {
	var r recipient
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" {
		return r, fmt.Errorf("recipient %q: want mailto:, sms:, https:// or http://", s)
	}
	switch strings.ToLower(scheme) {
	case "mailto":
		r.channel = ChannelEmail
		addr, err := parseMailto(rest)
		if err != nil {
			return r, fmt.Errorf("recipient %q: %w", s, err)
		}
		r.addr = addr
	case "sms":
		r.channel = ChannelSMS
		phone, err := parsePhone(rest)
		if err != nil {
			return r, fmt.Errorf("recipient %q: %w", s, err)
		}
		r.phone = phone
	case "https", "http":
		r.channel = ChannelWebhook
		if err := checkHTTPURL(s); err != nil {
			return r, fmt.Errorf("recipient %q: %w", s, err)
		}
		r.url = s
	default:
		return r, fmt.Errorf("recipient %q: unsupported scheme %q (want mailto:, sms:, https:// or http://)", s, scheme)
	}
	return r, nil
}

// parseMailto reads the address of a mailto: URI (RFC 6068). Header
// fields after '?' (subject=, cc=) are ignored: the alert is one message
// to one address.
func parseMailto(opaque string) (*mail.Address, error) {
	opaque, _, _ = strings.Cut(opaque, "?")
	raw, err := url.PathUnescape(opaque)
	if err != nil {
		return nil, fmt.Errorf("bad escape in address")
	}
	if raw == "" {
		return nil, errors.New("no address")
	}
	addr, err := mail.ParseAddress(raw)
	if err != nil {
		return nil, fmt.Errorf("bad address: %w", err)
	}
	return addr, nil
}

// parsePhone reads the number of an sms: URI: an optional '+' and 3 to 15
// digits; spaces, dashes, dots and parentheses between them are dropped.
func parsePhone(opaque string) (string, error) {
	var b strings.Builder
	for i, c := range opaque {
		switch {
		case c == '+' && i == 0:
			b.WriteRune(c)
		case '0' <= c && c <= '9':
			b.WriteRune(c)
		case c == ' ', c == '-', c == '.', c == '(', c == ')':
		default:
			return "", fmt.Errorf("bad phone number: character %q", c)
		}
	}
	phone := b.String()
	digits := len(strings.TrimPrefix(phone, "+"))
	if digits < 3 || digits > 15 {
		return "", errors.New("bad phone number: want 3 to 15 digits, e.g. +420600000000")
	}
	return phone, nil
}

// checkHTTPURL accepts an absolute http or https URL with a host.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("bad URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: want https or http", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	return nil
}
