package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/audit"
	"github.com/statesrv/statesrv/datadir"
)

// target is where an audit command reads: a stopped server's directory or
// a running server's API.
type target struct {
	data, url, token string
}

func (t *target) flags(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&t.data, "data", "./data", "storage directory of a stopped server")
	fs.StringVar(&t.url, "url", "", "base URL of a running server (token from --token or STATESRV_API_TOKEN)")
	fs.StringVar(&t.token, "token", "", "with --url: bearer token of the API (default: $"+tokenEnv+")")
}

// source is the server the target names, for package audit.
func (t *target) source() audit.Source {
	if t.url != "" {
		return audit.Source{API: apiClient(t.url, t.token)}
	}
	return audit.Source{Data: t.data}
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
		if run, err = apiClient(t.url, t.token).StartRun(ctx, id); err != nil {
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
	f := audit.Filter{After: *after, ProcessID: *pid, Type: *typ, Since: from, Until: to}
	return t.source().Replay(ctx, f, audit.NewPrinter(stdout, *asJSON))
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

func cmdRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rebuild", stderr)
	var t target
	t.flags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	res, err := t.source().Rebuild(ctx)
	if err != nil {
		return err
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
	st, err := t.source().State(ctx, when, *seq)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	audit.PrintState(stdout, st)
	return nil
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	data := fs.String("data", "./data", "storage directory of a stopped server")
	if err := parse(fs, args); err != nil {
		return err
	}
	d, err := datadir.Open(ctx, *data, datadir.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer d.Close()
	if err = audit.Verify(ctx, d.Log, stdout); errors.Is(err, audit.ErrBroken) {
		return errSilent
	}
	return err
}
