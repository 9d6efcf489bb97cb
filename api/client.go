package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/statesrv/statesrv"
)

// Defaults of Client.
const (
	// DefaultTimeout bounds a call: sending the request, waiting for the
	// answer and reading it.
	DefaultTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds how long a download (Backup) may go
	// without receiving a byte; the download as a whole is bounded only
	// by the caller's context.
	DefaultIdleTimeout = 2 * time.Minute
	// RebuildTimeout bounds POST /api/v1/rebuild, which reads the whole
	// log before it answers.
	RebuildTimeout = 10 * time.Minute
)

// maxErrorBody bounds how much of a refusal's body is read.
const maxErrorBody = 64 << 10

// ErrTimeout means the server did not answer, or stopped sending, within
// the client's timeout.
var ErrTimeout = errors.New("no answer in time")

// Client calls the JSON API of a running server. The zero value of every
// field but BaseURL is usable.
//
// A refusal that carries the API's error body is returned as a
// *statesrv.Error (code from the status, the server's own message),
// wrapped with the method, path and status; any other answer that is not
// a success is an error that names the status.
type Client struct {
	// BaseURL is the server's address, e.g. "http://localhost:8080".
	BaseURL string
	// Token is sent as the bearer token; empty sends none.
	Token string
	// HTTP sends the requests (nil: http.DefaultClient). Its own Timeout,
	// if any, also applies, to downloads too.
	HTTP *http.Client
	// Timeout bounds each call (0: DefaultTimeout). For a download it
	// bounds the wait for the answer's headers.
	Timeout time.Duration
	// IdleTimeout bounds the pauses of a download (0: DefaultIdleTimeout).
	IdleTimeout time.Duration
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) idleTimeout() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return DefaultIdleTimeout
}

// Do calls method on path (which may carry a query), sending body as JSON
// unless it is nil, and decodes a successful answer into out unless out
// is nil. It gives up after the client's timeout (ErrTimeout). Errors
// name the method and path; see Client for refusals.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	return c.do(ctx, c.timeout(), method, path, body, out)
}

func (c *Client) do(ctx context.Context, limit time.Duration, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("%w (%s)", ErrTimeout, limit))
	defer cancel()
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, pathOnly(path), timedOut(ctx, err))
	}
	return nil
}

// send sends the request and returns a successful answer; a refusal is
// read and returned as an error.
func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	op := method + " " + pathOnly(path)
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if _, ok := body.(MergePatch); ok {
		req.Header.Set("Content-Type", "application/merge-patch+json")
	} else if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, timedOut(ctx, err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, fmt.Errorf("%s: %s: %w", op, resp.Status, refusal(resp))
}

// refusal reads the body of an answer that is not a success: the API's
// error body becomes a *statesrv.Error; anything else (a proxy's page, an
// empty body) an error that quotes the start of it.
func refusal(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body ErrorBody
	if isJSON(resp.Header.Get("Content-Type")) && json.Unmarshal(raw, &body) == nil && body.Error != "" {
		return &statesrv.Error{Code: CodeOf(resp.StatusCode), Message: body.Error}
	}
	text := strings.Join(strings.FieldsFunc(string(raw), unicode.IsSpace), " ")
	if text == "" {
		return errors.New("no error message (not an answer of the statesrv API?)")
	}
	if r := []rune(text); len(r) > 100 {
		text = string(r[:100]) + "…"
	}
	return fmt.Errorf("not an answer of the statesrv API: %q", text)
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// CodeOf is the error code of an HTTP status of the API (SPEC §6): the
// inverse of the mapping the server answers with.
func CodeOf(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return statesrv.EInvalid
	case status == http.StatusUnauthorized:
		return statesrv.EAuth
	case status == http.StatusForbidden:
		return statesrv.EForbidden
	case status == http.StatusNotFound:
		return statesrv.ENotFound
	case status == http.StatusConflict:
		return statesrv.EConflict
	case status == http.StatusServiceUnavailable:
		return statesrv.EUnavail
	case status >= 400 && status < 500:
		return statesrv.EInvalid
	}
	return statesrv.EInternal
}

// timedOut returns the client's timeout error in place of err when the
// timeout is what ended the call.
func timedOut(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, ErrTimeout) {
		return cause
	}
	return err
}

// pathOnly is path without its query, for error messages.
func pathOnly(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return p
}
