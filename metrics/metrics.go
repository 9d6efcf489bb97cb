// Package metrics exposes the server's counters and gauges in the
// Prometheus text format (GET /metrics, SPEC §6), on a registry of its own.
//
// Two kinds of numbers are served. Reports and their ACK latency are
// counted at the edges, as the TCP server and the ping handler reply
// (Observer). Everything else is read at scrape time (collector.go): the
// log's commit counters, the Runner's Core (processes, open runs, what each
// process last did) and the Runner's counts of the events it applied.
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// namespace prefixes every metric of ours.
const namespace = "statesrv"

// LogStats is what the metrics read from the event log; *eventlog.Badger
// is one.
type LogStats interface {
	Stats() *eventlog.Stats
	LastSeq() uint64
}

// Config names what the metrics read at scrape time.
type Config struct {
	Log    LogStats
	Runner *projections.Runner
	Logger *slog.Logger
}

// Metrics holds the registry and the counters updated at the edges.
type Metrics struct {
	reg     *prometheus.Registry
	reports *prometheus.CounterVec
	latency *prometheus.HistogramVec
	logger  *slog.Logger
	// own are the collectors of the statesrv_* metrics (the registry also
	// holds the Go runtime's and the process's).
	own []prometheus.Collector
}

// latencyBuckets span a group commit on a fast disk (under a millisecond)
// to a stalled one (seconds), in seconds.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns the metrics on a fresh registry that also holds the Go
// runtime's and the process's collectors.
func New(cfg Config) *Metrics {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "reports_total",
			Help: "Reports answered, by transport (tcp, http) and result (ack, err).",
		}, []string{"transport", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "ack_latency_seconds",
			Help:    "Time from reading a report (TCP line, HTTP request) to writing its reply, by transport.",
			Buckets: latencyBuckets,
		}, []string{"transport"}),
		logger: cfg.Logger,
	}
	m.own = []prometheus.Collector{m.reports, m.latency, &collector{log: cfg.Log, runner: cfg.Runner}}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.reg.MustRegister(m.own...)
	return m
}

// Handler serves the registry in the Prometheus text format (or another
// format the scraper asks for).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry: m.reg,
		ErrorLog: slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	})
}

// Observer returns the function the given transport ("tcp", "http") calls
// for every reply it writes: its result ("ack" or "err") and latency.
func (m *Metrics) Observer(transport string) func(result string, latency time.Duration) {
	ack := m.reports.WithLabelValues(transport, "ack")
	bad := m.reports.WithLabelValues(transport, "err")
	hist := m.latency.WithLabelValues(transport)
	return func(result string, latency time.Duration) {
		if result == "ack" {
			ack.Inc()
		} else {
			bad.Inc()
		}
		hist.Observe(latency.Seconds())
	}
}
