package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/textfmt"
)

// smsBody is what the SMS gateway receives (SPEC §2).
type smsBody struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// webhookBody is what a webhook receives.
type webhookBody struct {
	AlertID   string       `json:"alert_id"`
	Outcome   string       `json:"outcome"`
	ProcessID int64        `json:"process_id"`
	Process   string       `json:"process"`
	Run       statesrv.Run `json:"run"`
	Message   string       `json:"message"`
	Link      string       `json:"link"`
	At        time.Time    `json:"at"`
	// For "recovered" only.
	DownFor  statesrv.Duration `json:"down_for,omitempty"`
	Failures int               `json:"failures,omitempty"`
}

func (s *Sender) sendSMS(ctx context.Context, phone string, a Alert) error {
	if s.smsURL == "" {
		return permanent(ChannelSMS, ErrNoSMSGateway)
	}
	return s.post(ctx, ChannelSMS, s.smsURL, s.smsToken, a.ID, smsBody{To: phone, Text: SMSText(a)})
}

func (s *Sender) sendWebhook(ctx context.Context, target string, a Alert) error {
	body := webhookBody{
		AlertID: a.ID, Outcome: a.Outcome, ProcessID: a.ProcessID, Process: a.Process,
		Run: runUTC(a.Run), Message: a.Message, Link: a.Link, At: a.At.UTC(),
	}
	if a.Outcome == statesrv.OutcomeRecovered {
		body.DownFor, body.Failures = statesrv.Duration(a.DownFor), a.Failures
	}
	return s.post(ctx, ChannelWebhook, target, "", a.ID, body)
}

// post sends body as JSON and classifies the answer: 2xx is delivered;
// 408, 429 and 5xx are temporary; any other status is permanent.
func (s *Sender) post(ctx context.Context, channel, target, token, id string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return permanent(channel, fmt.Errorf("encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return permanent(channel, unwrapURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	req.Header.Set("User-Agent", "statesrv")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// Network failures, timeouts, a cancelled ctx, TLS failures.
		return temporary(channel, fmt.Errorf("POST: %w", unwrapURLError(err)))
	}
	defer resp.Body.Close()
	snippet := readSnippet(resp.Body)
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err = fmt.Errorf("HTTP %s", resp.Status)
	if snippet != "" {
		err = fmt.Errorf("HTTP %s: %s", resp.Status, snippet)
	}
	if code >= 300 && code < 400 {
		err = fmt.Errorf("%w (redirects are not followed; Location: %q)", err, resp.Header.Get("Location"))
	}
	switch {
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		e := temporary(channel, err)
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), s.now())
		return e
	default:
		return permanent(channel, err)
	}
}

// unwrapURLError drops the *url.Error around err: it repeats the target
// URL, which for webhooks often holds a secret.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// readSnippet reads the start of a response body for an error message:
// one line, at most 200 characters.
func readSnippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	s := strings.ToValidUTF8(string(b), "")
	s = textfmt.Flatten(s)
	if utf8.RuneCountInString(s) > 200 {
		s = shorten(s, 200)
	}
	return s
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// runUTC returns r with its times in UTC (SPEC §6).
func runUTC(r statesrv.Run) statesrv.Run {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	r.StartedAt = r.StartedAt.UTC()
	r.Deadline = r.Deadline.UTC()
	r.FinishedAt = utc(r.FinishedAt)
	r.ScheduledAt = utc(r.ScheduledAt)
	r.Reported = utc(r.Reported)
	return r
}
