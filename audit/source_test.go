package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/statesrv/statesrv/datadir"
	"github.com/statesrv/statesrv/eventlog"
)

// TestSourceData reads a stopped server's directory through Source.
func TestSourceData(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	logDir, _ := datadir.Paths(data)
	MustLogIn(t, logDir, 1, 2).Close()
	src := Source{Data: data}

	t.Run("Replay", func(t *testing.T) {
		var buf bytes.Buffer
		if err := src.Replay(ctx, Filter{ProcessID: 2}, NewPrinter(&buf, false)); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(seqs(buf.String()), " "); got != "3 4" {
			t.Errorf("replayed %q, want 3 4", got)
		}
	})

	t.Run("State", func(t *testing.T) {
		st, err := src.State(ctx, t0, 3)
		if err != nil {
			t.Fatal(err)
		}
		if st.Seq != 3 || len(st.Processes) != 2 {
			t.Errorf("state through %d with %d processes, want 3 and 2", st.Seq, len(st.Processes))
		}
	})

	t.Run("Rebuild", func(t *testing.T) {
		res, err := src.Rebuild(ctx)
		if err != nil || res.Events != 4 {
			t.Errorf("Rebuild = %+v, %v; want 4 events", res, err)
		}
	})

	t.Run("Backup", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := src.Backup(ctx, &buf, t0)
		if err != nil || n != 4 {
			t.Fatalf("Backup = %d, %v; want 4 events", n, err)
		}
		if last, err := eventlog.ReadBackup(&buf, func(*eventlog.Event) error { return nil }); err != nil || last != 4 {
			t.Errorf("the backup reads back as %d, %v", last, err)
		}
	})

	t.Run("ErrNoLog", func(t *testing.T) {
		if _, err := (Source{Data: t.TempDir()}).State(ctx, t0, 1); err == nil || !strings.HasPrefix(err.Error(), "no log in ") {
			t.Errorf("State = %v, want no log", err)
		}
	})
}
