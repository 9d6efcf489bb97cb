package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// The metrics read at scrape time.
var (
	descOpenRuns    = desc("open_runs", "Runs open (RUNNING) in the views.")
	descProcesses   = desc("processes", "Process definitions in the views.")
	descUnprocessed = desc("unprocessed_messages", "Messages in the unprocessed view (not dismissed).")
	descLastSeq     = desc("log_last_seq", "Seq of the last event on the log.")
	descViewsSeq    = desc("views_seq", "Seq of the last event the views include.")

	descBatches       = desc("commit_batches_total", "Group commits of the event log since start.")
	descEvents        = desc("commit_events_total", "Events written by group commits since start.")
	descCommitSeconds = desc("commit_seconds_total", "Time spent in synced group commits since start.")
	descPerBatch      = desc("commit_events_per_batch", "Mean events per group commit since start.")
	descSlowCommits   = desc("slow_commits_total", "Group commits that took over 50 ms since start.")
	descMaxCommit     = desc("commit_max_seconds", "The longest group commit since start.")

	descApplied  = desc("events_applied_total", "Events applied to the views since start, by type.", "type")
	descFinished = desc("runs_finished_total", "Runs that moved to history since start, by outcome.", "state")

	descLastState = desc("process_last_state",
		"1 for the outcome of the process's last finished run, 0 for the others (all 0 before its first).",
		"process_id", "name", "state")
	descLastFinished = desc("process_last_finished_timestamp_seconds",
		"When the process's last run finished (unix seconds); absent before its first.",
		"process_id", "name")
	descLastOK = desc("process_last_success_timestamp_seconds",
		"When a run of the process last finished OK (unix seconds); absent before the first.",
		"process_id", "name")
	descLastDuration = desc("process_last_duration_seconds",
		"How long the process's last finished run took, from its start to its end.",
		"process_id", "name")
)

// outcomes are the states a finished run can have.
var outcomes = []string{statesrv.StateOK, statesrv.StateFail, statesrv.StateTimeout}

// collector reads the log's stats and the Runner's views at scrape time.
type collector struct {
	log    LogStats
	runner *projections.Runner
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descOpenRuns, descProcesses, descUnprocessed, descLastSeq, descViewsSeq,
		descBatches, descEvents, descCommitSeconds, descPerBatch, descSlowCommits, descMaxCommit,
		descApplied, descFinished, descLastState, descLastFinished, descLastOK, descLastDuration,
	} {
		ch <- d
	}
}

// process is what the metrics show of one process, copied out of the Core
// so that the Runner's lock is not held while metrics are sent.
type process struct {
	id, name, lastState          string
	lastAt, lastOK, lastDuration float64
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}

	st := c.log.Stats()
	batches, events := st.Batches.Load(), st.Events.Load()
	gauge(descLastSeq, float64(c.log.LastSeq()))
	counter(descBatches, float64(batches))
	counter(descEvents, float64(events))
	counter(descCommitSeconds, float64(st.CommitNanos.Load())/1e9)
	counter(descSlowCommits, float64(st.SlowCommits.Load()))
	gauge(descMaxCommit, float64(st.MaxCommitNanos.Load())/1e9)
	perBatch := 0.0
	if batches > 0 {
		perBatch = float64(events) / float64(batches)
	}
	gauge(descPerBatch, perBatch)

	var procs []process
	var open int
	var seq uint64
	c.runner.View(func(core *projections.Core) {
		open, seq = len(core.Runs), core.Seq
		procs = make([]process, 0, len(core.Procs))
		for _, ps := range core.Procs {
			p := process{id: strconv.FormatInt(ps.ID, 10), name: ps.Name, lastState: ps.LastState}
			if !ps.LastAt.IsZero() {
				p.lastAt = float64(ps.LastAt.UnixNano()) / 1e9
			}
			if !ps.LastOKAt.IsZero() {
				p.lastOK = float64(ps.LastOKAt.UnixNano()) / 1e9
			}
			p.lastDuration = ps.LastDuration.Seconds()
			procs = append(procs, p)
		}
	})
	gauge(descViewsSeq, float64(seq))
	gauge(descOpenRuns, float64(open))
	gauge(descProcesses, float64(len(procs)))
	for _, p := range procs {
		for _, o := range outcomes {
			v := 0.0
			if p.lastState == o {
				v = 1
			}
			gauge(descLastState, v, p.id, p.name, o)
		}
		if p.lastAt != 0 {
			gauge(descLastFinished, p.lastAt, p.id, p.name)
		}
		if p.lastOK != 0 {
			gauge(descLastOK, p.lastOK, p.id, p.name)
		}
		if p.lastAt != 0 {
			gauge(descLastDuration, p.lastDuration, p.id, p.name)
		}
	}

	counts := c.runner.Counts()
	gauge(descUnprocessed, float64(counts.Unprocessed))
	for typ, n := range counts.Events {
		counter(descApplied, float64(n), typ)
	}
	for state, n := range counts.Finished {
		counter(descFinished, float64(n), state)
	}
}
