// Package tlsreload holds the certificate an HTTPS server serves, loaded
// from its files at start and again on demand (serve reloads it on SIGHUP),
// so that a renewed certificate is served without a restart.
package tlsreload

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
	"time"
)

// Reloader holds the certificate HTTPS serves: loaded by New and again by
// Reload. Connections already open keep theirs; new handshakes get the
// current one.
type Reloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// New loads the pair once; it returns an error when the files do not hold
// a valid certificate and key.
func New(certFile, keyFile string) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload loads the files again. When they do not hold a valid pair (for
// example one of the two is still being replaced) it returns the error and
// the certificate served stays the one loaded before.
func (r *Reloader) Reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&c)
	return nil
}

// GetCertificate is the tls.Config hook: it returns the current certificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// NotAfter is when the current certificate expires (zero if unknown).
func (r *Reloader) NotAfter() time.Time {
	if c := r.cert.Load(); c != nil && c.Leaf != nil {
		return c.Leaf.NotAfter
	}
	return time.Time{}
}

// Config is a server's TLS configuration that serves the current
// certificate (TLS 1.2 and later).
func (r *Reloader) Config() *tls.Config {
	return &tls.Config{GetCertificate: r.GetCertificate, MinVersion: tls.VersionTLS12}
}
