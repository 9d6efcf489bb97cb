//go:build unix

package eventlog

import (
	"context"
	"errors"
	"testing"
)

func TestFullDisk(t *testing.T) {
	t.Run("OpenRefused", func(t *testing.T) {
		_, err := OpenBadger(Options{Dir: t.TempDir(), MinFreeBytes: 1 << 62})
		if !errors.Is(err, ErrDiskFull) {
			t.Fatalf("open on a 'full' disk = %v, want ErrDiskFull", err)
		}
	})
	t.Run("AppendStopsTheLog", func(t *testing.T) {
		dir := t.TempDir()
		l, err := OpenBadger(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Append(context.Background(), l, Record{Type: "T", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		l.free.min = 1 << 62 // the disk fills up
		_, err = Append(context.Background(), l, Record{Type: "T", Data: []byte(`{}`)})
		if !errors.Is(err, ErrDiskFull) || !errors.Is(err, ErrStopped) {
			t.Fatalf("append on a full disk = %v, want ErrDiskFull and ErrStopped", err)
		}
		select {
		case <-l.Failed():
		default:
			t.Fatal("Failed not closed after the refused commit")
		}
		l.free.min = 64 << 20 // space comes back: still stopped until reopened
		if _, err := Append(context.Background(), l, Record{Type: "T"}); !errors.Is(err, ErrStopped) {
			t.Fatalf("append after a failure = %v, want ErrStopped", err)
		}
		if l.LastSeq() != 1 {
			t.Fatalf("LastSeq = %d, want 1: nothing of the refused batch may count", l.LastSeq())
		}
		l.Close()
		l, err = OpenBadger(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		evs, err := Append(context.Background(), l, Record{Type: "T", Data: []byte(`{}`)})
		if err != nil || evs[0].Seq != 2 {
			t.Fatalf("append after reopen = %v, %v; want seq 2", evs, err)
		}
	})
}
