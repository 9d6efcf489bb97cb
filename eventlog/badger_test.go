package eventlog_test

import (
	"context"
	"testing"

	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/eventlog/logtest"
)

// testCodes are the type codes of the tests' logs: "Test" has one, the
// other names are stored as they are.
var testCodes = map[string]uint64{"Test": 1, "T": 2}

func openBadger(t *testing.T, dir string) eventlog.Log {
	t.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: dir, TypeCodes: testCodes})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

// openBadgerV1 opens a log that writes the first envelope version, as
// older servers did.
func openBadgerV1(t *testing.T, dir string) eventlog.Log {
	t.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: dir, EnvelopeVersion: 1})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

func TestBadgerConformance(t *testing.T) {
	t.Run("Current", func(t *testing.T) { logtest.Run(t, openBadger) })
	t.Run("Version1", func(t *testing.T) { logtest.Run(t, openBadgerV1) })
}

// TestBadgerUpgrade continues a log of version 1 groups with version 2.
func TestBadgerUpgrade(t *testing.T) {
	logtest.RunUpgrade(t, openBadgerV1, openBadger)
}

// TestBadgerTypeCodes: a log stores the codes it writes, so that it reads
// without being told them; a code may not stand for another name later.
func TestBadgerTypeCodes(t *testing.T) {
	dir := t.TempDir()
	l := openBadger(t, dir)
	if _, err := eventlog.Append(context.Background(), l, eventlog.Record{Type: "Test", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	t.Run("ReadWithoutTheCodes", func(t *testing.T) {
		l, err := eventlog.OpenBadger(eventlog.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if e, err := l.Get(1); err != nil || e.Type != "Test" {
			t.Fatalf("get without the codes = %+v, %v", e, err)
		}
	})
	t.Run("ErrCodeGivenToAnotherName", func(t *testing.T) {
		l, err := eventlog.OpenBadger(eventlog.Options{Dir: dir, TypeCodes: map[string]uint64{"Renamed": testCodes["Test"]}})
		if err == nil {
			l.Close()
			t.Fatal("open with a code given to another name succeeded")
		}
	})
	t.Run("ErrCodeGivenTwice", func(t *testing.T) {
		_, err := eventlog.OpenBadger(eventlog.Options{TypeCodes: map[string]uint64{"A": 1, "B": 1}})
		if err == nil {
			t.Fatal("open with a code given twice succeeded")
		}
	})
}
