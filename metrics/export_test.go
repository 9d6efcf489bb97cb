package metrics

import "github.com/prometheus/client_golang/prometheus"

// Gatherer returns m's private registry, for tests.
func Gatherer(m *Metrics) prometheus.Gatherer { return m.reg }
