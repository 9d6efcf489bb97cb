package main

import (
	"os"
	"os/signal"
)

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
	m.logger.Info("reload: tls certificate loaded", "cert", m.cfg.TLSCert, "not_after", m.certs.NotAfter())
}
