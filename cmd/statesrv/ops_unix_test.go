//go:build unix

package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"github.com/statesrv/statesrv/tlsreload/tlstest"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/statesrv/statesrv/pidfile"
)

// TestServeSignals runs `statesrv serve` as a process of its own with a pid
// file (from STATESRV_PID_FILE), JSON logs and HTTPS: SIGHUP reloads the
// certificate, SIGTERM shuts down cleanly and removes the pid file.
func TestServeSignals(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pidFile := filepath.Join(dir, "statesrv.pid")
	roots := x509.NewCertPool()
	roots.AddCert(tlstest.MustWriteCert(t, certFile, keyFile, "first"))

	cmd := exec.Command(os.Args[0], "serve", "--data", filepath.Join(dir, "data"), "--tcp", "",
		"--http", "127.0.0.1:0", "--api-token", "x", "--admin-password", "pw",
		"--log-format", "json", "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Env = append(os.Environ(), childEnv+"=1", "STATESRV_PID_FILE="+pidFile)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // Wait closes stderr only once the process is gone
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	// Every stderr line must be a JSON object; they are passed on by msg.
	logs := make(chan map[string]any, 100)
	go func() {
		defer close(logs)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				rec = map[string]any{"msg": "NOT JSON: " + sc.Text()}
			}
			logs <- rec
		}
	}()
	// waitLog returns the next log record with msg, failing on a line that
	// is not JSON.
	waitLog := func(msg string) map[string]any {
		t.Helper()
		timeout := time.After(waitFor)
		for {
			select {
			case rec, ok := <-logs:
				if !ok {
					t.Fatalf("the server's stderr ended before %q", msg)
				}
				if s, _ := rec["msg"].(string); strings.HasPrefix(s, "NOT JSON: ") {
					t.Fatalf("log line is not JSON: %s", s)
				}
				if rec["msg"] == msg {
					return rec
				}
			case <-timeout:
				t.Fatalf("no log %q within %v", msg, waitFor)
			}
		}
	}
	addr, _ := waitLog("http")["addr"].(string)

	if pid, ok := pidfile.Read(pidFile); !ok || pid != cmd.Process.Pid {
		t.Fatalf("pid file names %d, want %d", pid, cmd.Process.Pid)
	}
	cn := func() string {
		t.Helper()
		c := &http.Client{Timeout: ioWait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		resp, err := c.Get("https://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	if got := cn(); got != "first" {
		t.Fatalf("served %q, want first", got)
	}

	t.Run("SIGHUPReloadsCertificate", func(t *testing.T) {
		roots.AddCert(tlstest.MustWriteCert(t, certFile, keyFile, "second"))
		cmd.Process.Signal(syscall.SIGHUP)
		waitLog("reload: tls certificate loaded")
		if got := cn(); got != "second" {
			t.Errorf("served %q after SIGHUP, want second", got)
		}
	})

	t.Run("SIGHUPWithBadCertificateKeepsOld", func(t *testing.T) {
		os.WriteFile(keyFile, []byte("garbage"), 0o600)
		cmd.Process.Signal(syscall.SIGHUP)
		waitLog("reload: keeping the certificate loaded before")
		if got := cn(); got != "second" {
			t.Errorf("served %q after a bad reload, want second", got)
		}
	})

	t.Run("SIGTERMRemovesPIDFile", func(t *testing.T) {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
		case <-time.After(waitFor):
			t.Fatal("the server did not stop on SIGTERM")
		}
		if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pid file after a clean shutdown: %v, want it gone", err)
		}
	})
}
