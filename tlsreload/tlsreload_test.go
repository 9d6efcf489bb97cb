package tlsreload

import (
	"github.com/statesrv/statesrv/tlsreload/tlstest"
	"os"
	"path/filepath"
	"testing"
)

// servedCN returns the common name of the certificate r serves.
func servedCN(tb testing.TB, r *Reloader) string {
	tb.Helper()
	c, err := r.GetCertificate(nil)
	if err != nil || c == nil || c.Leaf == nil {
		tb.Fatalf("GetCertificate = %v, %v", c, err)
	}
	return c.Leaf.Subject.CommonName
}

func TestCertReloader(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	tlstest.MustWriteCert(t, certFile, keyFile, "first")
	r, err := New(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if cn := servedCN(t, r); cn != "first" {
		t.Fatalf("serves %q, want first", cn)
	}

	t.Run("OK", func(t *testing.T) {
		tlstest.MustWriteCert(t, certFile, keyFile, "second")
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
		if cn := servedCN(t, r); cn != "second" {
			t.Errorf("serves %q after Reload, want second", cn)
		}
	})

	t.Run("BadNewCertKeepsOld", func(t *testing.T) {
		if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := r.Reload(); err == nil {
			t.Error("Reload of a broken certificate succeeded")
		}
		if cn := servedCN(t, r); cn != "second" {
			t.Errorf("serves %q after a failed Reload, want second", cn)
		}
	})

	t.Run("MismatchedKeyKeepsOld", func(t *testing.T) {
		other := t.TempDir()
		tlstest.MustWriteCert(t, certFile, filepath.Join(other, "key.pem"), "third") // new cert, old key
		if err := r.Reload(); err == nil {
			t.Error("Reload of a certificate with another's key succeeded")
		}
		if cn := servedCN(t, r); cn != "second" {
			t.Errorf("serves %q after a failed Reload, want second", cn)
		}
	})

	t.Run("ErrMissingFiles", func(t *testing.T) {
		if _, err := New(filepath.Join(dir, "none.pem"), keyFile); err == nil {
			t.Error("New of a missing file succeeded")
		}
	})
}
