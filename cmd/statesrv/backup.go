package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/statesrv/statesrv/eventlog"
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
	if t.url != "" {
		return backupRemote(ctx, t.url, stdout)
	}
	o, err := openOffline(ctx, t.data, false)
	if err != nil {
		return err
	}
	defer o.Close()
	n, err := eventlog.WriteBackup(ctx, o.log, stdout, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "statesrv backup: %d events\n", n)
	return nil
}

// backupRemote copies the server's backup stream to w, then checks that it
// is complete: a connection that breaks leaves a file without its trailer,
// and that is an error, not a backup.
func backupRemote(ctx context.Context, base string, w io.Writer) error {
	body, err := apiClient(base).Backup(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	pr, pw := io.Pipe()
	check := make(chan error, 1)
	go func() {
		_, err := eventlog.ReadBackup(pr, func(*eventlog.Event) error { return nil })
		io.Copy(io.Discard, pr)
		check <- err
	}()
	_, err = io.Copy(io.MultiWriter(w, pw), body)
	pw.CloseWithError(err)
	if cerr := <-check; err == nil {
		err = cerr
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
	logDir, viewsDir := dataDirs(*data)
	if _, err := os.Stat(logDir); err == nil {
		return fmt.Errorf("%s already holds a log: restore into an empty directory", *data)
	}
	var in io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return err
	}
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: logDir})
	if err != nil {
		return err
	}
	im, err := l.Import()
	if err == nil {
		_, err = eventlog.ReadBackup(in, im.Add)
	}
	var last uint64
	if err == nil {
		last, err = im.Finish()
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Leave nothing half restored behind.
		os.RemoveAll(logDir)
		return err
	}
	os.RemoveAll(viewsDir)
	fmt.Fprintf(stdout, "restored %d events (seq 1..%d) into %s; the views are rebuilt at the next start\n",
		last, last, filepath.Clean(*data))
	return nil
}
