package audit

import (
	"io"

	"github.com/statesrv/statesrv/eventlog"
)

// CopyBackup copies a backup stream (a running server's, as
// api.Client.Backup returns it) to w and checks, as it goes, that it is
// complete: a connection that breaks leaves a file without its trailer,
// and that is an error, not a backup. It returns the first error of
// reading, of writing or of the check.
func CopyBackup(w io.Writer, r io.Reader) error {
	pr, pw := io.Pipe()
	check := make(chan error, 1)
	go func() {
		_, err := eventlog.ReadBackup(pr, func(*eventlog.Event) error { return nil })
		io.Copy(io.Discard, pr)
		check <- err
	}()
	_, err := io.Copy(io.MultiWriter(w, pw), r)
	pw.CloseWithError(err)
	if cerr := <-check; err == nil {
		err = cerr
	}
	return err
}
