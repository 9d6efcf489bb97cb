package notify

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
)

// TLS modes of the --smtp URL.
const (
	tlsNone     = "none"
	tlsStartTLS = "starttls"
	tlsImplicit = "tls"
)

// smtpConfig is a validated --smtp URL.
type smtpConfig struct {
	host     string
	port     int
	tlsMode  string
	user     string
	password string
	auth     string // "plain" or "login"; only with user
	from     *mail.Address
	tls      *tls.Config // verifies the server; ServerName set
}

// parseSMTP validates an --smtp URL (see the package documentation). Its
// errors never contain the password.
func parseSMTP(raw string, tlsConfig *tls.Config) (*smtpConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("bad URL: %w", err)
	}
	c := &smtpConfig{auth: "plain"}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		c.tlsMode = tlsImplicit
	default:
		return nil, fmt.Errorf("scheme %q: want smtp:// or smtps://", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errors.New("no host: want smtp://[user:password@]host[:port]?from=ADDRESS")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("unexpected path %q", u.Path)
	}
	if u.Fragment != "" {
		return nil, errors.New("unexpected fragment")
	}
	c.host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
		c.port = n
	}
	if err := c.readQuery(u.RawQuery); err != nil {
		return nil, err
	}
	if c.tlsMode == "" {
		c.tlsMode = tlsStartTLS
		if c.port == 465 {
			c.tlsMode = tlsImplicit
		}
	}
	if c.port == 0 {
		c.port = map[string]int{tlsNone: 25, tlsStartTLS: 587, tlsImplicit: 465}[c.tlsMode]
	}
	if u.User != nil {
		c.user = u.User.Username()
		c.password, _ = u.User.Password()
		if c.user == "" {
			return nil, errors.New("credentials without a user name")
		}
		if c.password == "" {
			return nil, fmt.Errorf("user %q has no password (want user:password@host)", c.user)
		}
		if c.tlsMode == tlsNone && !isLoopback(c.host) {
			return nil, fmt.Errorf("tls=none would send the password in clear to %s: use tls=starttls or tls=tls (tls=none with credentials is only for a loopback host)", c.host)
		}
	}
	if c.tlsMode != tlsNone {
		if tlsConfig != nil {
			c.tls = tlsConfig.Clone()
		} else {
			c.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if c.tls.ServerName == "" {
			c.tls.ServerName = c.host
		}
	}
	return c, nil
}

// readQuery reads from=, tls= and auth=. It unescapes values as paths do,
// so that a '+' in an address stays a '+'.
func (c *smtpConfig) readQuery(rawQuery string) error {
	seen := map[string]bool{}
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		val, err := url.PathUnescape(v)
		if err != nil {
			return fmt.Errorf("parameter %q: bad escape", k)
		}
		if seen[k] {
			return fmt.Errorf("parameter %q given twice", k)
		}
		seen[k] = true
		switch k {
		case "from":
			addr, err := mail.ParseAddress(val)
			if err != nil {
				return fmt.Errorf("from=%q: %w", val, err)
			}
			c.from = addr
		case "tls":
			switch val {
			case tlsNone, tlsStartTLS, tlsImplicit:
			default:
				return fmt.Errorf("tls=%q: want none, starttls or tls", val)
			}
			c.tlsMode = val
		case "auth":
			switch val {
			case "plain", "login":
			default:
				return fmt.Errorf("auth=%q: want plain or login", val)
			}
			c.auth = val
		default:
			return fmt.Errorf("unknown parameter %q (known: from, tls, auth)", k)
		}
	}
	if c.from == nil {
		return errors.New("missing from= parameter (the From address, e.g. ?from=statesrv@example.com)")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
