package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/statesrv/statesrv/client/jobexec"
)

// exitCode is an exit status a command chose, such as exec passing on its
// job's: run exits with it and prints nothing.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

const execUsage = `usage: statesrv exec [flags] -- CMD [ARGS...]

Reports START, runs CMD with its arguments as given (no shell), passes its
input and output through, then reports OK (exit 0) or FAIL with the exit
code, the duration and the last lines of output. Exits with CMD's code.

flags:
`

func cmdExec(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("exec", stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), execUsage)
		fs.PrintDefaults()
	}
	j := jobexec.Job{Stdout: stdout, Stderr: stderr}
	if os.Stdin != nil { // a Windows task may run without any
		j.Stdin = os.Stdin
	}
	fs.StringVar(&j.Server, "server", "localhost:2020", "HOST:PORT of the report port")
	fs.Int64Var(&j.Report.ID, "id", 0, "process id")
	fs.StringVar(&j.Report.Name, "name", "", "the task's name")
	fs.StringVar(&j.Report.Key, "key", "", "the process's key")
	fs.DurationVar(&j.Retry.For, "retry-for", defaultRetryFor, "keep retrying each report this long while the server is unreachable (0: one attempt)")
	fs.IntVar(&j.Tail, "tail", jobexec.DefaultTail, "lines of output to send with the end report")
	if err := parse(fs, args); err != nil {
		return err
	}
	j.Argv = fs.Args()
	switch {
	case j.Report.ID <= 0:
		return fmt.Errorf("%w: --id is required", errUsage)
	case len(j.Argv) == 0:
		return fmt.Errorf("%w: give the command to run after --", errUsage)
	case j.Retry.For < 0 || j.Tail < 0:
		return fmt.Errorf("%w: --retry-for and --tail must not be negative", errUsage)
	}
	if code := j.Run(ctx); code != 0 {
		return exitCode(code)
	}
	return nil
}
