package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"time"
)

// certReloader holds the certificate HTTPS serves: loaded at start and
// again by Reload (on SIGHUP). Connections already open keep theirs; new
// handshakes get the current one.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// newCertReloader loads the pair once; it returns an error when the files
// do not hold a valid certificate and key.
func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload loads the files again. When they do not hold a valid pair (for
// example one of the two is still being replaced) it returns the error and
// the certificate served stays the one loaded before.
func (r *certReloader) Reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&c)
	return nil
}

// GetCertificate is the tls.Config hook: it returns the current certificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// notAfter is when the current certificate expires (zero if unknown).
func (r *certReloader) notAfter() time.Time {
	if c := r.cert.Load(); c != nil && c.Leaf != nil {
		return c.Leaf.NotAfter
	}
	return time.Time{}
}

// tlsConfig serves the reloader's current certificate.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{GetCertificate: r.GetCertificate, MinVersion: tls.VersionTLS12}
}

// watchReload makes SIGHUP reload what can be reloaded (the TLS
// certificate) until the loops stop. Where SIGHUP does not exist it does
// nothing.
func (m *Main) watchReload(stop <-chan struct{}) {
	sig := make(chan os.Signal, 1)
	if !notifyReload(sig) {
		return
	}
	m.loops.Go(func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-stop:
				return
			case <-sig:
				m.reload()
			}
		}
	})
}

// reload reloads the TLS certificate; a bad new one is logged and the old
// one kept.
func (m *Main) reload() {
	if m.certs == nil {
		m.logger.Info("reload: nothing to reload (no --tls-cert)")
		return
	}
	if err := m.certs.Reload(); err != nil {
		m.logger.Error("reload: keeping the certificate loaded before", "error", err)
		return
	}
	m.logger.Info("reload: tls certificate loaded", "cert", m.cfg.TLSCert, "not_after", m.certs.notAfter())
}
