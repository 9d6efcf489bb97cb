package datadir

import (
	"fmt"
	"io"
	"os"

	"github.com/statesrv/statesrv/eventlog"
)

// Empty returns an error when data already holds a log, which a restore
// must not overwrite.
func Empty(data string) error {
	logDir, _ := Paths(data)
	if _, err := os.Stat(logDir); err == nil {
		return fmt.Errorf("%s already holds a log: restore into an empty directory", data)
	}
	return nil
}

// Restore creates the log of data, which must hold none (see Empty), from
// the backup read from r (eventlog.WriteBackup's format), and returns the
// last seq restored. The hash chain is recomputed on the way: a damaged,
// edited or truncated backup is an error, and then nothing is left
// behind. The views are removed, to be rebuilt from the restored log.
func Restore(data string, r io.Reader) (uint64, error) {
	if err := Empty(data); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(data, 0o750); err != nil {
		return 0, err
	}
	logDir, viewsDir := Paths(data)
	l, err := eventlog.OpenBadger(logOptions(eventlog.Options{Dir: logDir}))
	if err != nil {
		return 0, err
	}
	im, err := l.Import()
	if err == nil {
		_, err = eventlog.ReadBackup(r, im.Add)
	}
	var last uint64
	if err == nil {
		last, err = im.Finish()
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.RemoveAll(logDir)
		return 0, err
	}
	os.RemoveAll(viewsDir)
	return last, nil
}
