package main

// Operations: HTTPS with a reloaded certificate, the pid file and the
// log format of serve.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"github.com/statesrv/statesrv/tlsreload/tlstest"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/pidfile"
)

// TestHTTPSReload serves HTTPS through Main, replaces the certificate and
// reloads it as SIGHUP does: new connections get the new certificate, and a
// connection opened before keeps working.
func TestHTTPSReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := tlstest.MustWriteCert(t, certFile, keyFile, "first")
	m, err := Open(context.Background(), Config{
		Data: t.TempDir(), TCP: "", HTTP: "127.0.0.1:0", APIToken: "x",
		TLSCert: certFile, TLSKey: keyFile, Stdout: io.Discard, Clock: clock.NewFake(t0),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	roots := x509.NewCertPool()
	roots.AddCert(first)
	client := func() *http.Client {
		return &http.Client{Timeout: ioWait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	}
	// get returns the served certificate's common name and whether the
	// request reused a connection.
	get := func(c *http.Client) (cn string, reused bool) {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
			"GET", "https://"+m.HTTPAddr+"/healthz", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz: %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName, reused
	}

	before := client()
	if cn, _ := get(before); cn != "first" {
		t.Fatalf("served %q, want first", cn)
	}
	roots.AddCert(tlstest.MustWriteCert(t, certFile, keyFile, "second"))
	m.reload()
	if cn, _ := get(client()); cn != "second" {
		t.Errorf("a new connection after the reload got %q, want second", cn)
	}
	if cn, reused := get(before); cn != "first" || !reused {
		t.Errorf("the connection opened before the reload: certificate %q, reused %v; want first, true", cn, reused)
	}
}

func TestPIDFile(t *testing.T) {
	open := func(t *testing.T, pidFile string) (*Main, error) {
		return Open(context.Background(), Config{
			Data: t.TempDir(), TCP: "127.0.0.1:0", HTTP: "", APIToken: "x", PIDFile: pidFile,
			Stdout: io.Discard, Clock: clock.NewFake(t0),
		})
	}
	mustOwnPID := func(t *testing.T, path string) {
		t.Helper()
		if pid, ok := pidfile.Read(path); !ok || pid != os.Getpid() {
			b, _ := os.ReadFile(path)
			t.Fatalf("pid file holds %q, want %d", b, os.Getpid())
		}
	}

	t.Run("WrittenAndRemovedOnClose", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "statesrv.pid")
		m, err := open(t, path)
		if err != nil {
			t.Fatal(err)
		}
		mustOwnPID(t, path)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pid file after Close: %v, want it gone", err)
		}
	})

	t.Run("ErrRunning", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "statesrv.pid")
		running := strconv.Itoa(os.Getppid()) + "\n" // the go command that runs the tests
		os.WriteFile(path, []byte(running), 0o644)
		if m, err := open(t, path); err == nil {
			m.Close()
			t.Fatal("started while the pid file names a running process")
		} else if !strings.Contains(err.Error(), "still running") {
			t.Errorf("error %q, want one that says the process is still running", err)
		}
		if b, _ := os.ReadFile(path); string(b) != running {
			t.Errorf("pid file changed to %q", b)
		}
	})

	// Which existing pid files are replaced is pidfile's own test (TestWrite).
}

func TestNewLogger(t *testing.T) {
	t.Run("Text", func(t *testing.T) {
		var buf bytes.Buffer
		l, err := newLogger("info", "text", &buf)
		if err != nil {
			t.Fatal(err)
		}
		l.Info("hello", "process_id", 7)
		if got := buf.String(); !strings.Contains(got, "msg=hello process_id=7") {
			t.Errorf("text log %q", got)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		var buf bytes.Buffer
		l, err := newLogger("warn", "json", &buf)
		if err != nil {
			t.Fatal(err)
		}
		l.Info("dropped")
		l.Warn("hello", "process_id", 7)
		var rec map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
		}
		if rec["msg"] != "hello" || rec["level"] != "WARN" || rec["process_id"] != 7.0 {
			t.Errorf("JSON log %v", rec)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		var stderr bytes.Buffer
		if code := run([]string{"serve", "--log-format", "xml"}, io.Discard, &stderr); code != 2 {
			t.Errorf("exit %d, want 2 (usage)", code)
		}
		if !strings.Contains(stderr.String(), "--log-format") {
			t.Errorf("stderr %q does not name --log-format", stderr.String())
		}
	})
}
