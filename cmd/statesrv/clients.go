package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv/client"
)

// defaultRetryFor is how long report and exec retry a report by default.
const defaultRetryFor = 30 * time.Second

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	server := fs.String("server", "localhost:2020", "HOST:PORT of the report port")
	var r client.Report
	fs.Int64Var(&r.ID, "id", 0, "process id")
	fs.StringVar(&r.State, "state", "", "OK, FAIL or START")
	fs.StringVar(&r.Name, "name", "", "the task's name")
	fs.StringVar(&r.Msg, "msg", "", "message text")
	fs.StringVar(&r.Run, "run", "", "run id")
	fs.StringVar(&r.Key, "key", "", "the process's key")
	fs.StringVar(&r.MID, "mid", "", "client message id (a retry with the same mid is stored once)")
	code := fs.Int("code", 0, "exit code")
	timeout := fs.Duration("timeout", client.DefaultAttempt, "how long each attempt waits for the ACK")
	retryFor := fs.Duration("retry-for", defaultRetryFor, "keep retrying this long while the server is unreachable (0: one attempt)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if r.ID <= 0 || r.State == "" {
		return fmt.Errorf("%w: --id and --state are required", errUsage)
	}
	if *timeout <= 0 || *retryFor < 0 {
		return fmt.Errorf("%w: --timeout must be positive and --retry-for not negative", errUsage)
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "code" {
			r.Code = code
		}
	})
	if r.MID == "" {
		r.MID = uuid.NewString()
	}
	policy := client.Retry{For: *retryFor, Attempt: *timeout}
	policy.OnRetry = func(attempt int, err error, _ time.Duration) {
		if attempt == 1 {
			fmt.Fprintf(stderr, "statesrv report: not delivered yet, retrying for up to %v (--retry-for): %v\n", *retryFor, err)
		}
	}
	seq, err := client.SendRetry(ctx, *server, r, policy)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ACK %d\n", seq)
	return nil
}

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", stderr)
	var cfg client.LoadConfig
	fs.StringVar(&cfg.Addr, "server", "localhost:2020", "HOST:PORT of the report port")
	fs.IntVar(&cfg.Conns, "conns", client.DefaultLoadConns, "connections")
	fs.IntVar(&cfg.Reports, "reports", client.DefaultLoadReports, "reports in all")
	fs.IntVar(&cfg.Window, "window", client.DefaultLoadWindow, "unacknowledged lines in flight per connection")
	fs.Int64Var(&cfg.ID, "id", 1, "process id to report on")
	fs.StringVar(&cfg.State, "state", "OK", "state to report")
	fs.DurationVar(&cfg.Duration, "duration", client.DefaultLoadDuration, "stop after this long in any case")
	if err := parse(fs, args); err != nil {
		return err
	}
	res, err := client.Load(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res.String())
	return nil
}
