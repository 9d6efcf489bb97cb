package web

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// clientFrom returns a client whose connections leave from the loopback
// address ip (any of 127.0.0.0/8), so that the server sees another remote
// address. It keeps cookies and does not follow redirects.
func (e *env) clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Timeout:       60 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// tryLogin posts the login form from c and returns the answer's status and
// headers. It is safe to call from many goroutines at once.
func (e *env) tryLogin(ctx context.Context, c *http.Client, user, password string) (int, http.Header, error) {
	body := url.Values{"user": {user}, "password": {password}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Server.URL+"/login", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	res.Body.Close()
	return res.StatusCode, res.Header, nil
}
