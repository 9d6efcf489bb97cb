package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/statesrv/statesrv/datadir"
)

// cmdBackup writes a backup of the log to stdout: from a running server
// (--url, online and consistent) or a stopped server's directory (--data).
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	var t target
	t.flags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	n, err := t.source().Backup(ctx, stdout, time.Now())
	if err == nil && t.url == "" {
		fmt.Fprintf(stderr, "statesrv backup: %d events\n", n)
	}
	return err
}

// cmdRestore creates a log in --data from a backup file. The directory must
// hold no log; the views are rebuilt from the restored log at the next
// start.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", stderr)
	data := fs.String("data", "./data", "the directory to create the log in (must hold none)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: give the backup file (- for stdin)", errUsage)
	}
	if err := datadir.Empty(*data); err != nil {
		return err
	}
	last, err := readFile(fs.Arg(0), func(r io.Reader, _ string) (uint64, error) {
		return datadir.Restore(*data, r)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %d events (seq 1..%d) into %s; the views are rebuilt at the next start\n",
		last, last, filepath.Clean(*data))
	return nil
}
