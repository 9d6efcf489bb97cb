package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

// receiver is an SMS gateway or webhook receiver on 127.0.0.1 that records
// requests and answers with status (and the headers of answer).
type receiver struct {
	URL    string
	status int
	answer http.Header

	mu       sync.Mutex
	requests []request
}

type request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

func startReceiver(tb testing.TB, status int, answer http.Header) *receiver {
	tb.Helper()
	r := &receiver{status: status, answer: answer}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.mu.Lock()
		r.requests = append(r.requests, request{req.Method, req.URL.Path, req.Header.Clone(), body})
		r.mu.Unlock()
		for k, v := range r.answer {
			w.Header()[k] = v
		}
		w.WriteHeader(r.status)
		io.WriteString(w, `{"error":"as configured"}`)
	}))
	tb.Cleanup(ts.Close)
	r.URL = ts.URL
	return r
}

func (r *receiver) received() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.requests...)
}

// checkPost checks the headers every POST carries.
func checkPost(t *testing.T, req request, wantAuth string) {
	t.Helper()
	if req.Method != http.MethodPost {
		t.Errorf("method %s, want POST", req.Method)
	}
	for _, h := range []struct{ name, want string }{
		{"Content-Type", "application/json"},
		{"Idempotency-Key", testAlertID},
		{"Authorization", wantAuth},
	} {
		if got := req.Header.Get(h.name); got != h.want {
			t.Errorf("%s: %q, want %q", h.name, got, h.want)
		}
	}
}

func TestSendSMS(t *testing.T) {
	for _, tc := range []struct {
		name, token, wantAuth string
	}{
		{"WithToken", "tok-123", "Bearer tok-123"},
		{"WithoutToken", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := startReceiver(t, http.StatusOK, nil)
			s := MustNew(t, Config{SMSURL: gw.URL + "/send", SMSToken: tc.token})
			a := testAlert(statesrv.OutcomeTimeout)
			a.Recipient = "sms:+420 600-000-000"
			if err := s.Send(context.Background(), a); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := gw.received()
			if len(got) != 1 {
				t.Fatalf("gateway received %d requests, want 1", len(got))
			}
			checkPost(t, got[0], tc.wantAuth)
			if got[0].Path != "/send" {
				t.Errorf("path %q, want /send", got[0].Path)
			}
			var body map[string]any
			if err := json.Unmarshal(got[0].Body, &body); err != nil {
				t.Fatalf("body %s: %v", got[0].Body, err)
			}
			want := map[string]any{"to": "+420600000000", "text": SMSText(a)}
			if len(body) != len(want) || body["to"] != want["to"] || body["text"] != want["text"] {
				t.Errorf("body %s, want %v", got[0].Body, want)
			}
		})
	}
}

func TestSendWebhook(t *testing.T) {
	for _, outcome := range outcomes {
		t.Run(outcome, func(t *testing.T) {
			hook := startReceiver(t, http.StatusNoContent, nil)
			// The SMS token is the gateway's, never a webhook's.
			s := MustNew(t, Config{SMSToken: "tok-123"})
			a := testAlert(outcome)
			a.Recipient = hook.URL + "/hook?x=1"
			if err := s.Send(context.Background(), a); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := hook.received()
			if len(got) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(got))
			}
			checkPost(t, got[0], "")
			var body struct {
				AlertID   string          `json:"alert_id"`
				Outcome   string          `json:"outcome"`
				ProcessID int64           `json:"process_id"`
				Process   string          `json:"process"`
				Run       map[string]any  `json:"run"`
				Message   string          `json:"message"`
				Link      string          `json:"link"`
				At        string          `json:"at"`
				DownFor   *string         `json:"down_for"`
				Failures  *int            `json:"failures"`
				Extra     json.RawMessage `json:"-"`
			}
			if err := json.Unmarshal(got[0].Body, &body); err != nil {
				t.Fatalf("body %s: %v", got[0].Body, err)
			}
			if body.AlertID != testAlertID || body.Outcome != outcome || body.ProcessID != 26 ||
				body.Process != "NightlyExport" || body.Message != a.Message || body.Link != a.Link ||
				body.At != "2026-11-25T04:00:05Z" {
				t.Errorf("body %s", got[0].Body)
			}
			// The run in SPEC §6 shape, times in UTC.
			for k, v := range map[string]any{
				"id": a.Run.ID, "process_id": 26.0, "name": "NightlyExport", "state": a.Run.State,
				"source": "schedule", "started_at": "2026-11-25T02:00:00Z", "deadline": "2026-11-25T04:00:00Z",
			} {
				if body.Run[k] != v {
					t.Errorf("run.%s = %v, want %v", k, body.Run[k], v)
				}
			}
			if outcome == statesrv.OutcomeRecovered {
				if body.DownFor == nil || *body.DownFor != "3h12m0s" || body.Failures == nil || *body.Failures != 4 {
					t.Errorf("recovered body lacks down_for or failures: %s", got[0].Body)
				}
			} else if body.DownFor != nil || body.Failures != nil {
				t.Errorf("down_for and failures belong to recovered only: %s", got[0].Body)
			}
		})
	}
}

func TestSendHTTPStatus(t *testing.T) {
	type status struct {
		name       string
		code       int
		answer     http.Header
		ok         bool
		permanent  bool
		retryAfter time.Duration
	}
	statuses := []status{
		{name: "200IsDelivered", code: 200, ok: true},
		{name: "202IsDelivered", code: 202, ok: true},
		{name: "400IsPermanent", code: 400, permanent: true},
		{name: "401IsPermanent", code: 401, permanent: true},
		{name: "404IsPermanent", code: 404, permanent: true},
		{name: "301IsPermanent", code: 301, answer: http.Header{"Location": {"/elsewhere"}}, permanent: true},
		{name: "408IsTemporary", code: 408},
		{name: "429IsTemporary", code: 429, answer: http.Header{"Retry-After": {"30"}}, retryAfter: 30 * time.Second},
		{name: "500IsTemporary", code: 500},
		{name: "503IsTemporary", code: 503, answer: http.Header{"Retry-After": {"Wed, 25 Nov 2026 04:02:00 GMT"}}, retryAfter: 2 * time.Minute},
	}
	now := func() time.Time { return time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC) }
	for _, channel := range []string{ChannelSMS, ChannelWebhook} {
		t.Run(channel, func(t *testing.T) {
			for _, st := range statuses {
				t.Run(st.name, func(t *testing.T) {
					rcv := startReceiver(t, st.code, st.answer)
					a := testAlert(statesrv.OutcomeFail)
					cfg := Config{Now: now}
					if channel == ChannelSMS {
						cfg.SMSURL, a.Recipient = rcv.URL, "sms:+420600000000"
					} else {
						a.Recipient = rcv.URL + "/hook"
					}
					err := MustNew(t, cfg).Send(context.Background(), a)
					if n := len(rcv.received()); n != 1 {
						t.Errorf("receiver got %d requests, want 1 (redirects are not followed)", n)
					}
					if st.ok {
						if err != nil {
							t.Fatalf("Send: %v", err)
						}
						return
					}
					e := checkErr(t, err, channel, st.permanent)
					if !strings.Contains(err.Error(), "HTTP "+strconv.Itoa(st.code)) {
						t.Errorf("error %q does not name the status", err)
					}
					if e.RetryAfter != st.retryAfter {
						t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, st.retryAfter)
					}
				})
			}
		})
	}
}

func TestSendHTTPTimeoutIsTemporary(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select { // stall until the client gives up or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(release) }) // runs first
	s := MustNew(t, Config{Timeout: 200 * time.Millisecond})
	a := testAlert(statesrv.OutcomeTimeout)
	a.Recipient = ts.URL
	start := time.Now()
	err := s.Send(context.Background(), a)
	checkErr(t, err, ChannelWebhook, false)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v with a 200ms timeout", d)
	}
}

func TestSendHTTPConnectionRefusedIsTemporary(t *testing.T) {
	addr := closedAddr(t)
	t.Run(ChannelSMS, func(t *testing.T) {
		a := testAlert(statesrv.OutcomeFail)
		a.Recipient = "sms:+420600000000"
		err := MustNew(t, Config{SMSURL: "http://" + addr + "/send"}).Send(context.Background(), a)
		checkErr(t, err, ChannelSMS, false)
	})
	t.Run(ChannelWebhook, func(t *testing.T) {
		a := testAlert(statesrv.OutcomeFail)
		a.Recipient = "http://" + addr + "/hooks/s3cret-path"
		err := MustNew(t, Config{}).Send(context.Background(), a)
		checkErr(t, err, ChannelWebhook, false)
		if strings.Contains(err.Error(), "s3cret-path") {
			t.Errorf("error %q repeats the webhook's URL", err)
		}
	})
}
