package tlsreload

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// MustWriteCert writes a fresh self-signed certificate for 127.0.0.1 with
// common name cn, and its key, as PEM files, and returns the certificate.
func MustWriteCert(tb testing.TB, certFile, keyFile, cn string) *x509.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

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
	MustWriteCert(t, certFile, keyFile, "first")
	r, err := New(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if cn := servedCN(t, r); cn != "first" {
		t.Fatalf("serves %q, want first", cn)
	}

	t.Run("OK", func(t *testing.T) {
		MustWriteCert(t, certFile, keyFile, "second")
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
		MustWriteCert(t, certFile, filepath.Join(other, "key.pem"), "third") // new cert, old key
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
