package projections

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/statesrv/statesrv"
)

// Views built before the alert indexes existed get them when opened.
func TestAlertIndexesFilledOnOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	// As the views stood: al/ and ai/ only, no marker.
	err = s.db.Update(func(txn *badger.Txn) error {
		for i, st := range []string{statesrv.AlertFailed, statesrv.AlertDelivered, statesrv.AlertFailed, statesrv.AlertPending} {
			a := statesrv.Alert{ID: string(rune('a' + i)), ProcessID: int64(1 + i%2), Status: st, RequestedAt: at.Add(time.Duration(i) * time.Second)}
			v, _ := json.Marshal(a)
			ns := nsKey(a.RequestedAt)
			if err := txn.Set(key("al/", ns, []byte(a.ID)), v); err != nil {
				return err
			}
			if err := txn.Set(key("ai/", []byte(a.ID)), ns); err != nil {
				return err
			}
		}
		return txn.Delete(keyAlertIndexes)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FailedAlerts("", 10); len(got) != 0 {
		t.Fatalf("failed alerts before the indexes are filled = %v", got)
	}
	s.Close()
	if s, err = OpenStore(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := func(as []statesrv.Alert, err error) []string {
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	if got := ids(s.FailedAlerts("", 10)); !slices.Equal(got, []string{"c", "a"}) {
		t.Errorf("failed alerts = %v, want c, a", got)
	}
	if got := ids(s.AlertsBefore(AlertQuery{ProcessID: 2})); !slices.Equal(got, []string{"d", "b"}) {
		t.Errorf("alerts of process 2 = %v, want d, b", got)
	}
	if got := ids(s.AlertsBefore(AlertQuery{ProcessID: 1, Status: statesrv.AlertFailed, Before: "c"})); !slices.Equal(got, []string{"a"}) {
		t.Errorf("failed alerts of process 1 after c = %v, want a", got)
	}
}
