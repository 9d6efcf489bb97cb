package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/statesrv/statesrv/client"
)

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
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the ACK")
	if err := parse(fs, args); err != nil {
		return err
	}
	if r.ID <= 0 || r.State == "" {
		return fmt.Errorf("%w: --id and --state are required", errUsage)
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "code" {
			r.Code = code
		}
	})
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	seq, err := client.Send(ctx, *server, r)
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
