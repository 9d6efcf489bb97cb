package eventlog_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv/eventlog"
)

func TestBackupRestore(t *testing.T) {
	src := openBadger(t, t.TempDir()).(*eventlog.Badger)
	defer src.Close()
	for i := range 150 {
		r := eventlog.Record{Type: "T", Actor: "test", ProcessID: int64(i % 3), Data: []byte(`{"i":1}`)}
		if i%10 == 0 {
			r.Key = "mid/1/" + string(rune('a'+i/10))
		}
		if _, err := eventlog.Append(context.Background(), src, r, r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := eventlog.WriteBackup(context.Background(), src, &buf, time.Now())
	if err != nil || n != 300 {
		t.Fatalf("backup wrote %d events, %v; want 300", n, err)
	}
	backup := buf.String()

	t.Run("RoundTripVerifiesAndContinues", func(t *testing.T) {
		dst := openBadger(t, t.TempDir()).(*eventlog.Badger)
		defer dst.Close()
		im, err := dst.Import()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eventlog.ReadBackup(strings.NewReader(backup), im.Add); err != nil {
			t.Fatal(err)
		}
		last, err := im.Finish()
		if err != nil || last != 300 {
			t.Fatalf("finish = %d, %v", last, err)
		}
		rep, err := dst.Verify(context.Background())
		if err != nil || !rep.OK() || rep.Events != 300 {
			t.Fatalf("verify after restore = %+v, %v", rep, err)
		}
		if p, err := dst.Existing("mid/1/c"); err != nil || p == nil {
			t.Fatalf("idempotency key lost in the restore: %v %v", p, err)
		}
		var again bytes.Buffer
		if _, err := eventlog.WriteBackup(context.Background(), dst, &again, time.Now()); err != nil {
			t.Fatal(err)
		}
		// Past the header (its time differs), the restored log backs up
		// byte for byte as the original did.
		body := func(s string) string { return s[strings.IndexByte(s, '\n'):] }
		if body(again.String()) != body(backup) {
			t.Fatal("the restored log differs from the original")
		}
		evs, err := eventlog.Append(context.Background(), dst, eventlog.Record{Type: "T", Data: []byte(`{}`)})
		if err != nil || evs[0].Seq != 301 {
			t.Fatalf("append after restore = %v, %v", evs, err)
		}
	})
	t.Run("TruncatedBackupRefused", func(t *testing.T) {
		cut := backup[:len(backup)/2]
		cut = cut[:strings.LastIndexByte(cut, '\n')+1]
		_, err := eventlog.ReadBackup(strings.NewReader(cut), func(*eventlog.Event) error { return nil })
		if !errors.Is(err, eventlog.ErrBadBackup) {
			t.Fatalf("truncated backup read = %v, want ErrBadBackup", err)
		}
	})
	t.Run("EditedEventRefused", func(t *testing.T) {
		edited := strings.Replace(backup, `"actor":"test"`, `"actor":"mallory"`, 1)
		dst := openBadger(t, t.TempDir()).(*eventlog.Badger)
		defer dst.Close()
		im, _ := dst.Import()
		_, err := eventlog.ReadBackup(strings.NewReader(edited), im.Add)
		if err == nil || !strings.Contains(err.Error(), "does not chain") {
			t.Fatalf("edited backup = %v, want a chain error", err)
		}
	})
	t.Run("NonEmptyLogRefused", func(t *testing.T) {
		if _, err := src.Import(); !errors.Is(err, eventlog.ErrNotEmpty) {
			t.Fatalf("import into a used log = %v, want ErrNotEmpty", err)
		}
	})
}
