package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

// serve answers every request with fn on a real listener at 127.0.0.1.
func serve(t *testing.T, fn http.HandlerFunc) *Client {
	t.Helper()
	s := httptest.NewServer(fn)
	t.Cleanup(s.Close)
	return &Client{BaseURL: s.URL + "/", Token: "secret", Timeout: 5 * time.Second}
}

// refuse answers with status and the API's error body.
func refuse(status int, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(ErrorBody{Error: msg})
	}
}

// silent returns the address of a listener that accepts connections and
// never answers.
func silent(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestClientCall(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		var got *http.Request
		c := serve(t, func(w http.ResponseWriter, r *http.Request) {
			got = r
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"r-1","process_id":7,"state":"RUNNING"}`)
		})
		run, err := c.StartRun(t.Context(), 7)
		if err != nil {
			t.Fatal(err)
		}
		if run.ID != "r-1" || run.ProcessID != 7 {
			t.Errorf("run = %+v", run)
		}
		if got.Method != http.MethodPost || got.URL.Path != "/api/v1/processes/7/start" ||
			got.Header.Get("Authorization") != "Bearer secret" {
			t.Errorf("request %s %s, Authorization %q", got.Method, got.URL.Path, got.Header.Get("Authorization"))
		}
	})

	t.Run("QueryLeavesOutZeroFields", func(t *testing.T) {
		var query string
		c := serve(t, func(w http.ResponseWriter, r *http.Request) {
			query = r.URL.RawQuery
			io.WriteString(w, `[]`)
		})
		if _, err := c.Events(t.Context(), EventsQuery{After: 5, Limit: 1000}); err != nil {
			t.Fatal(err)
		}
		if query != "after=5&limit=1000" {
			t.Errorf("query %q", query)
		}
	})

	t.Run("NoTokenNoHeader", func(t *testing.T) {
		var header []string
		c := serve(t, func(w http.ResponseWriter, r *http.Request) {
			header = r.Header.Values("Authorization")
			w.WriteHeader(http.StatusNoContent)
		})
		c.Token = ""
		if err := c.DeleteProcess(t.Context(), 3); err != nil {
			t.Fatal(err)
		}
		if len(header) != 0 {
			t.Errorf("Authorization %q sent without a token", header)
		}
	})
}

func TestClientRefusal(t *testing.T) {
	for _, tt := range []struct {
		status int
		code   string
	}{
		{http.StatusBadRequest, statesrv.EInvalid},
		{http.StatusUnauthorized, statesrv.EAuth},
		{http.StatusForbidden, statesrv.EForbidden},
		{http.StatusNotFound, statesrv.ENotFound},
		{http.StatusConflict, statesrv.EConflict},
		{http.StatusRequestEntityTooLarge, statesrv.EInvalid},
		{http.StatusInternalServerError, statesrv.EInternal},
		{http.StatusServiceUnavailable, statesrv.EUnavail},
	} {
		t.Run(tt.code+"/"+http.StatusText(tt.status), func(t *testing.T) {
			c := serve(t, refuse(tt.status, "the server's own words"))
			_, err := c.Process(t.Context(), 9)
			var e *statesrv.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is no *statesrv.Error", err, err)
			}
			if e.Code != tt.code || e.Message != "the server's own words" {
				t.Errorf("error %+v, want code %s and the server's message", e, tt.code)
			}
			want := fmt.Sprintf("GET /api/v1/processes/9: %d %s: ", tt.status, http.StatusText(tt.status))
			if !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), ": the server's own words") {
				t.Errorf("error %q, want it to name %q and end with the message", err, want)
			}
		})
	}

	t.Run("ErrNotTheAPI", func(t *testing.T) {
		c := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>\n<body>502 Bad Gateway</body>\n</html>\n")
		})
		_, err := c.Processes(t.Context())
		var e *statesrv.Error
		if err == nil || errors.As(err, &e) {
			t.Fatalf("error %v, want a plain error", err)
		}
		for _, want := range []string{"GET /api/v1/processes", "502 Bad Gateway", "<html> <body>502"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})

	t.Run("ErrEmptyBody", func(t *testing.T) {
		c := serve(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		_, err := c.Runs(t.Context())
		if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") {
			t.Fatalf("error %v, want the status", err)
		}
	})

	t.Run("ErrJSONWithoutMessage", func(t *testing.T) {
		c := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"detail":"x"}`)
		})
		_, err := c.Runs(t.Context())
		var e *statesrv.Error
		if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), "500 Internal Server Error") {
			t.Fatalf("error %v, want a plain error with the status", err)
		}
	})
}

func TestClientTimeout(t *testing.T) {
	within := func(t *testing.T, call func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("error %v, want ErrTimeout", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the call did not give up")
		}
	}

	t.Run("ErrNoAnswer", func(t *testing.T) {
		c := &Client{BaseURL: silent(t), Timeout: 100 * time.Millisecond}
		within(t, func() error { _, err := c.Processes(t.Context()); return err })
	})

	t.Run("ErrAnswerStalls", func(t *testing.T) {
		c := serve(t, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `[{"id":1,`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		c.Timeout = 100 * time.Millisecond
		within(t, func() error { _, err := c.Processes(t.Context()); return err })
	})

	t.Run("ErrBackupNoAnswer", func(t *testing.T) {
		c := &Client{BaseURL: silent(t), Timeout: 100 * time.Millisecond}
		within(t, func() error { _, err := c.Backup(t.Context()); return err })
	})

	t.Run("ErrBackupStalls", func(t *testing.T) {
		c := serve(t, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "{\"statesrv_backup\":1}\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		c.IdleTimeout = 100 * time.Millisecond
		within(t, func() error {
			body, err := c.Backup(t.Context())
			if err != nil {
				return err
			}
			defer body.Close()
			b, err := io.ReadAll(body)
			if string(b) != "{\"statesrv_backup\":1}\n" {
				t.Errorf("read %q before the stall", b)
			}
			return err
		})
	})

	t.Run("BackupLongerThanTimeout", func(t *testing.T) {
		c := serve(t, func(w http.ResponseWriter, r *http.Request) {
			for range 5 {
				io.WriteString(w, "line\n")
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
		})
		c.Timeout, c.IdleTimeout = 100*time.Millisecond, time.Second
		body, err := c.Backup(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		if b, err := io.ReadAll(body); err != nil || len(b) != 25 {
			t.Fatalf("read %q, %v; want the whole stream", b, err)
		}
	})
}
