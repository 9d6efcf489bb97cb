package eventlog_test

import (
	"context"
	"testing"

	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/eventlog/logtest"
)

func openBadger(t *testing.T, dir string) eventlog.Log {
	t.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: dir})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

func TestBadgerConformance(t *testing.T) {
	logtest.Run(t, openBadger)
}

func TestBadgerVerify(t *testing.T) {
	dir := t.TempDir()
	l := openBadger(t, dir).(*eventlog.Badger)
	for range 50 {
		if _, err := eventlog.Append(context.Background(), l, eventlog.Record{Type: "T", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := l.Verify(context.Background())
	if err != nil || !rep.OK() || rep.Events != 50 || rep.LastSeq != 50 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
	l.Close()
}
