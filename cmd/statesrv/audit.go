package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// target is where an audit command reads: a stopped server's directory or
// a running server's API.
type target struct {
	data, url string
}

func (t *target) flags(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&t.data, "data", "./data", "storage directory of a stopped server")
	fs.StringVar(&t.url, "url", "", "base URL of a running server (token from STATESRV_API_TOKEN)")
}

// offline is storage opened from a stopped server's directory.
type offline struct {
	log    *eventlog.Badger
	store  *projections.Store
	runner *projections.Runner
}

// openOffline opens the log (and, with views, the views) of a stopped
// server. Badger locks its directory, so this fails while a server runs.
func openOffline(ctx context.Context, data string, views bool) (*offline, error) {
	logDir, viewsDir := dataDirs(data)
	if _, err := os.Stat(logDir); err != nil {
		return nil, fmt.Errorf("no log in %s: %w", data, err)
	}
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: logDir})
	if err != nil {
		return nil, fmt.Errorf("%w (is a server running on it? use --url)", err)
	}
	o := &offline{log: l}
	if !views {
		return o, nil
	}
	if o.store, err = projections.OpenStore(viewsDir, nil); err != nil {
		l.Close()
		return nil, err
	}
	o.runner, err = projections.NewRunner(l, o.store, nil)
	if errors.Is(err, projections.ErrViewsAhead) {
		// Views from another log (a restored backup, say): they are
		// derived data, so start them afresh.
		if err = o.store.Drop(); err == nil {
			o.runner, err = projections.NewRunner(l, o.store, nil)
		}
	}
	if err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

func (o *offline) Close() error {
	var errs []error
	if o.store != nil {
		errs = append(errs, o.store.Close())
	}
	return errors.Join(append(errs, o.log.Close())...)
}

func cmdStart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("start", stderr)
	var t target
	t.flags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: give one process ID", errUsage)
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: process ID must be a positive integer", errUsage)
	}
	var run statesrv.Run
	if t.url != "" {
		if run, err = apiClient(t.url).StartRun(ctx, id); err != nil {
			return err
		}
	} else {
		m, err := Open(ctx, Config{Data: t.data, Offline: true})
		if err != nil {
			return err
		}
		rc, err := m.Service.StartRun(id, statesrv.ActorCLI)
		if err == nil {
			_, err = rc.Wait(ctx)
		}
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		run = *rc.Run()
	}
	fmt.Fprintf(stdout, "run %s of process %d opened at %s, deadline %s\n", run.ID, run.ProcessID,
		run.StartedAt.Format(time.RFC3339), run.Deadline.Format(time.RFC3339))
	return nil
}

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	var t target
	t.flags(fs)
	after := fs.Uint64("after", 0, "only events after this seq")
	since := fs.String("since", "", "only events at or after this time (RFC 3339)")
	until := fs.String("until", "", "only events at or before this time (RFC 3339)")
	pid := fs.Int64("process", 0, "only events about this process")
	typ := fs.String("type", "", "only events of this type")
	asJSON := fs.Bool("json", false, "one JSON event per line")
	if err := parse(fs, args); err != nil {
		return err
	}
	from, err := optTime(*since, "--since")
	if err != nil {
		return err
	}
	to, err := optTime(*until, "--until")
	if err != nil {
		return err
	}
	p := newPrinter(stdout, *asJSON)
	keep := func(e *eventlog.Event) bool {
		return (*pid == 0 || e.ProcessID == *pid) && (*typ == "" || e.Type == *typ) &&
			(from.IsZero() || !e.Time.Before(from))
	}
	past := func(e *eventlog.Event) bool { return !to.IsZero() && e.Time.After(to) }
	if t.url != "" {
		return replayRemote(ctx, t.url, *after, *pid, keep, past, p)
	}
	o, err := openOffline(ctx, t.data, false)
	if err != nil {
		return err
	}
	defer o.Close()
	f := projections.EventFilter{ProcessID: *pid, Type: *typ, From: from, After: *after, Limit: replayPage}
	if !to.IsZero() {
		f.To = to.Add(time.Nanosecond) // --until includes its moment
	}
	for {
		page, err := projections.Events(ctx, o.log, nil, f)
		if err != nil {
			return err
		}
		for i := range page.Events {
			if err := p.print(&page.Events[i]); err != nil {
				return err
			}
		}
		if page.Next == 0 {
			return p.flush()
		}
		f.After = page.Next
	}
}

// replayPage is how many events replay --data holds at once.
const replayPage = 1000

func replayRemote(ctx context.Context, base string, after uint64, pid int64,
	keep, past func(*eventlog.Event) bool, p *printer) error {
	c := apiClient(base)
	for {
		// The type is filtered here: the server bounds how far one
		// filtered request scans, and an empty page would end the replay.
		evs, err := remoteEvents(ctx, c, after, pid, 1000)
		if err != nil {
			return err
		}
		for i := range evs {
			if past(&evs[i]) {
				return p.flush()
			}
			if keep(&evs[i]) {
				if err := p.print(&evs[i]); err != nil {
					return err
				}
			}
			after = evs[i].Seq
		}
		if len(evs) < 1000 {
			return p.flush()
		}
	}
}

func optTime(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%w: %s: want an RFC 3339 time such as 2026-11-26T08:00:00Z", errUsage, name)
	}
	return t, nil
}

// printer writes events for people (aligned columns) or as JSON lines.
type printer struct {
	json bool
	enc  *json.Encoder
	tw   *tabwriter.Writer
	w    io.Writer
}

func newPrinter(w io.Writer, asJSON bool) *printer {
	p := &printer{json: asJSON, w: w}
	if asJSON {
		p.enc = json.NewEncoder(w)
	} else {
		p.tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(p.tw, "SEQ\tTIME\tTYPE\tACTOR\tPROCESS\tDATA")
	}
	return p
}

func (p *printer) print(e *eventlog.Event) error {
	if p.json {
		return p.enc.Encode(e)
	}
	pid := "-"
	if e.ProcessID != 0 {
		pid = strconv.FormatInt(e.ProcessID, 10)
	}
	_, err := fmt.Fprintf(p.tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339Nano),
		e.Type, e.Actor, pid, e.Data)
	return err
}

func (p *printer) flush() error {
	if p.tw != nil {
		return p.tw.Flush()
	}
	return nil
}

func cmdRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rebuild", stderr)
	var t target
	t.flags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	var res struct {
		Events  uint64
		Seconds float64
	}
	if t.url != "" {
		r, err := apiClient(t.url).Rebuild(ctx)
		if err != nil {
			return err
		}
		res.Events, res.Seconds = r.Events, r.Seconds
	} else {
		o, err := openOffline(ctx, t.data, true)
		if err != nil {
			return err
		}
		n, took, err := o.runner.Rebuild(ctx)
		if cerr := o.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		res.Events, res.Seconds = n, took.Seconds()
	}
	fmt.Fprintf(stdout, "rebuilt every view from %d events in %.3fs\n", res.Events, res.Seconds)
	return nil
}

func cmdState(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("state", stderr)
	var t target
	t.flags(fs)
	at := fs.String("at", "", "the moment (RFC 3339), e.g. 2026-11-26T08:00:00Z")
	seq := fs.Uint64("seq", 0, "the moment as a seq instead of a time")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	when, err := optTime(*at, "--at")
	if err != nil {
		return err
	}
	if when.IsZero() && *seq == 0 {
		return fmt.Errorf("%w: --at TIME is required", errUsage)
	}
	var st projections.State
	if t.url != "" {
		s, err := apiClient(t.url).State(ctx, when, *seq)
		if err != nil {
			return err
		}
		st = projections.State(s)
	} else {
		o, err := openOffline(ctx, t.data, false)
		if err != nil {
			return err
		}
		defer o.Close()
		if st, err = projections.StateAt(ctx, o.log, when, *seq); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printState(stdout, st)
	return nil
}

func printState(w io.Writer, st projections.State) {
	fmt.Fprintf(w, "State at %s (through event %d)\n\n", st.At.Format(time.RFC3339), st.Seq)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "PROCESSES (%d)\nID\tNAME\tSCHEDULE\tZONE\tMAX RUNTIME\tENABLED\n", len(st.Processes))
	for _, p := range st.Processes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%v\n", p.ID, p.Name, orDash(p.Schedule), p.Timezone,
			time.Duration(p.MaxRuntime), p.Enabled)
	}
	fmt.Fprintf(tw, "\nOPEN RUNS (%d)\nPROCESS\tRUN\tSOURCE\tSTARTED\tDEADLINE\n", len(st.Runs))
	for _, r := range st.Runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.ProcessID, r.ID, r.Source,
			r.StartedAt.Format(time.RFC3339), r.Deadline.Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "\nUNPROCESSED (%d)\nSEQ\tRECEIVED\tPROCESS\tREASON\tLINE\n", len(st.Unprocessed))
	for _, u := range st.Unprocessed {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", u.Seq, u.ReceivedAt.Format(time.RFC3339), u.ProcessID, u.Reason, u.Line)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	data := fs.String("data", "./data", "storage directory of a stopped server")
	if err := parse(fs, args); err != nil {
		return err
	}
	o, err := openOffline(ctx, *data, false)
	if err != nil {
		return err
	}
	defer o.Close()
	start := time.Now()
	rep, err := o.log.Verify(ctx)
	if err != nil {
		return err
	}
	if rep.OK() {
		fmt.Fprintf(stdout, "ok: %d events, seq 1..%d, hash chain intact (%.3fs)\n", rep.Events, rep.LastSeq,
			time.Since(start).Seconds())
		return nil
	}
	fmt.Fprintf(stdout, "BROKEN: %d events read, %d problems:\n", rep.Events, len(rep.Problems))
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "  "+p)
	}
	return errSilent
}
