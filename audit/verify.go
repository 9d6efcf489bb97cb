package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/statesrv/statesrv/eventlog"
)

// ErrBroken means Verify found the log damaged; the report it wrote lists
// how.
var ErrBroken = errors.New("audit: the log is broken")

// Verify checks l's sequence and hash chain (eventlog.Badger.Verify) and
// writes the outcome to w: one line when it is intact, else every problem
// found. It returns ErrBroken when the log is damaged, and the error of
// reading it when it cannot be read.
func Verify(ctx context.Context, l *eventlog.Badger, w io.Writer) error {
	start := time.Now()
	rep, err := l.Verify(ctx)
	if err != nil {
		return err
	}
	if rep.OK() {
		fmt.Fprintf(w, "ok: %d events, seq 1..%d, hash chain intact (%.3fs)\n", rep.Events, rep.LastSeq,
			time.Since(start).Seconds())
		return nil
	}
	fmt.Fprintf(w, "BROKEN: %d events read, %d problems:\n", rep.Events, len(rep.Problems))
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "  "+p)
	}
	return ErrBroken
}
