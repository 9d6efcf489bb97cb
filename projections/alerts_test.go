package projections_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

func alertRequested(at time.Time, pid int64, id string) eventlog.Record {
	return rec(at, statesrv.EventAlertRequested, pid, &statesrv.AlertRequestedData{AlertID: id,
		Recipient: "mailto:ops@example.com", Outcome: statesrv.OutcomeFail})
}

func alertDelivered(at time.Time, pid int64, id string) eventlog.Record {
	return rec(at, statesrv.EventAlertDelivered, pid, &statesrv.AlertDeliveredData{AlertID: id, Attempts: 1})
}

func alertFailed(at time.Time, pid int64, id string) eventlog.Record {
	return rec(at, statesrv.EventAlertFailed, pid, &statesrv.AlertFailedData{AlertID: id, Attempts: 3, Error: "refused"})
}

func alertSuppressed(at time.Time, pid int64, id string) eventlog.Record {
	return rec(at, statesrv.EventAlertSuppressed, pid, &statesrv.AlertSuppressedData{AlertID: id,
		Recipient: "mailto:ops@example.com", Outcome: statesrv.OutcomeFail, Reason: "paused"})
}

func alertIDs(as []statesrv.Alert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// alertDump is every alert query a page makes, read to the end in pages of
// three.
type alertDump map[string][]string

func dumpAlerts(t *testing.T, s *projections.Store) alertDump {
	t.Helper()
	d := alertDump{}
	for _, pid := range []int64{0, 1, 2} {
		for _, status := range []string{"", statesrv.AlertPending, statesrv.AlertDelivered, statesrv.AlertFailed, statesrv.AlertSuppressed} {
			q := projections.AlertQuery{ProcessID: pid, Status: status, Limit: 3}
			name := fmt.Sprintf("process %d status %q", pid, status)
			d[name] = []string{}
			for {
				page, err := s.AlertsBefore(q)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for _, a := range page {
					if (pid != 0 && a.ProcessID != pid) || (status != "" && a.Status != status) {
						t.Errorf("%s: got %+v", name, a)
					}
				}
				d[name] = append(d[name], alertIDs(page)...)
				if len(page) < q.Limit {
					break
				}
				q.Before = page[len(page)-1].ID
			}
		}
	}
	failed, err := s.FailedAlerts("", 100)
	if err != nil {
		t.Fatal(err)
	}
	d["FailedAlerts"] = alertIDs(failed)
	return d
}

func TestAlertIndexes(t *testing.T) {
	v := newViews(t)
	v.append(defined(t0, 1), defined(t0, 2))
	// Alerts a0..a9, alternating processes, two of them at each instant
	// (so that paging must order by id within an instant).
	var want []statesrv.Alert
	for i := range 10 {
		pid := int64(1 + i%2)
		at := t0.Add(time.Duration(i/2) * time.Minute)
		id := fmt.Sprintf("a%d", i)
		v.append(alertRequested(at, pid, id))
		want = append(want, statesrv.Alert{ID: id, ProcessID: pid, Status: statesrv.AlertPending})
	}
	v.append(alertSuppressed(t0.Add(5*time.Minute), 2, "s0"))
	want = append(want, statesrv.Alert{ID: "s0", ProcessID: 2, Status: statesrv.AlertSuppressed})
	// Some deliveries end in this batch, the rest in later ones.
	v.catchUp()
	done := t0.Add(10 * time.Minute)
	v.append(alertFailed(done, 1, "a0"), alertDelivered(done, 2, "a1"), alertFailed(done, 2, "a3"))
	v.catchUp()
	v.append(alertFailed(done, 2, "a7"), alertDelivered(done, 1, "a4"), alertFailed(done, 1, "a8"))
	for _, x := range []struct{ id, status string }{{"a0", "failed"}, {"a1", "delivered"}, {"a3", "failed"},
		{"a7", "failed"}, {"a4", "delivered"}, {"a8", "failed"}} {
		for i := range want {
			if want[i].ID == x.id {
				want[i].Status = x.status
			}
		}
	}
	// A delivery that ends twice, or of an unknown alert, changes nothing.
	v.append(alertDelivered(done, 1, "a0"), alertDelivered(done, 1, "nope"))
	v.catchUp()

	// The expected lists, newest first (requested time, then id).
	slices.Reverse(want)
	expect := func(pid int64, status string) []string {
		out := []string{}
		for _, a := range want {
			if (pid == 0 || a.ProcessID == pid) && (status == "" || a.Status == status) {
				out = append(out, a.ID)
			}
		}
		return out
	}
	got := dumpAlerts(t, v.store)
	for _, pid := range []int64{0, 1, 2} {
		for _, status := range []string{"", statesrv.AlertPending, statesrv.AlertDelivered, statesrv.AlertFailed, statesrv.AlertSuppressed} {
			name := fmt.Sprintf("process %d status %q", pid, status)
			if w := expect(pid, status); !slices.Equal(got[name], w) {
				t.Errorf("%s: %v, want %v", name, got[name], w)
			}
		}
	}
	if w := []string{"a8", "a7", "a3", "a0"}; !slices.Equal(got["FailedAlerts"], w) {
		t.Errorf("FailedAlerts = %v, want %v", got["FailedAlerts"], w)
	}
	t.Run("Rows", func(t *testing.T) {
		page, err := v.store.FailedAlerts("a7", 1)
		if err != nil || len(page) != 1 {
			t.Fatalf("FailedAlerts(after a7, 1) = %v, %v", page, err)
		}
		a := page[0]
		if a.ID != "a3" || a.ProcessID != 2 || a.Attempts != 3 || a.Error != "refused" || a.DoneAt == nil ||
			!a.DoneAt.Equal(done) || a.Recipient != "mailto:ops@example.com" || a.Seq == 0 {
			t.Errorf("failed alert = %+v", a)
		}
	})
	t.Run("UnknownCursor", func(t *testing.T) {
		_, err := v.store.AlertsBefore(projections.AlertQuery{Before: "nope"})
		if !errors.Is(err, projections.ErrNoSuchAlert) {
			t.Errorf("AlertsBefore(after an unknown alert) = %v, want ErrNoSuchAlert", err)
		}
	})
	t.Run("SameAsRebuild", func(t *testing.T) {
		sameJSON(t, "alerts of a fresh store", dumpAlerts(t, v.freshRunner(t).Store()), got)
		if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "alerts rebuilt in place", dumpAlerts(t, v.store), got)
	})
	t.Run("SurvivesRestart", func(t *testing.T) {
		v.close()
		v.open()
		sameJSON(t, "alerts reopened", dumpAlerts(t, v.store), got)
		// And the indexes go on from the checkpoint.
		v.append(alertFailed(done.Add(time.Minute), 2, "a9"))
		v.catchUp()
		failed, err := v.store.FailedAlerts("", 2)
		if err != nil || !slices.Equal(alertIDs(failed), []string{"a9", "a8"}) {
			t.Errorf("FailedAlerts after the restart = %v, %v; want a9, a8", alertIDs(failed), err)
		}
		pending, err := v.store.AlertsBefore(projections.AlertQuery{Status: statesrv.AlertPending})
		if err != nil || !slices.Equal(alertIDs(pending), []string{"a6", "a5", "a2"}) {
			t.Errorf("pending alerts = %v, %v; want a6, a5, a2", alertIDs(pending), err)
		}
	})
}

// TestAlertAttempts folds 25 failed attempts of an alert, over several
// batches, then its failure: the record counts them all and keeps the
// latest MaxAlertAttempts; the pending alert in Core carries what the
// sender resumes from; a rebuild gives the same record.
func TestAlertAttempts(t *testing.T) {
	v := newViews(t)
	v.append(defined(t0, 1), alertRequested(t0, 1, "a"))
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	for n := 1; n <= 25; n++ {
		v.append(rec(at(n), statesrv.EventAlertAttemptFailed, 1, &statesrv.AlertAttemptFailedData{AlertID: "a",
			Attempt: n, Error: fmt.Sprintf("HTTP 500 (%d)", n), Temporary: true, RetryAt: at(n + 1)}))
		if n%7 == 0 {
			v.catchUp()
		}
	}
	v.catchUp()
	var pending projections.PendingAlert
	v.runner.View(func(c *projections.Core) { pending = *c.Alerts["a"] })
	if pending.Attempts != 25 || !pending.FirstAttemptAt.Equal(at(1)) || !pending.LastAttemptAt.Equal(at(25)) ||
		!pending.RetryAt.Equal(at(26)) {
		t.Fatalf("pending alert = %+v", pending)
	}
	alerts, err := v.store.Alerts(10)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts = %v, %v", alerts, err)
	}
	a := alerts[0]
	if a.Status != statesrv.AlertPending || a.Attempts != 25 || a.Error != "HTTP 500 (25)" || !a.RetryAt.Equal(at(26)) ||
		!a.LastAttemptAt.Equal(at(25)) || len(a.FailedAttempts) != statesrv.MaxAlertAttempts ||
		a.FailedAttempts[0].Attempt != 6 || a.FailedAttempts[19].Attempt != 25 {
		t.Fatalf("pending alert row = %+v", a)
	}

	v.append(rec(at(26), statesrv.EventAlertAttemptFailed, 1, &statesrv.AlertAttemptFailedData{AlertID: "a",
		Attempt: 26, Error: "HTTP 500 (26)", Temporary: true}),
		rec(at(26), statesrv.EventAlertFailed, 1, &statesrv.AlertFailedData{AlertID: "a", Attempts: 26, Error: "HTTP 500 (26)"}),
		// An attempt of an alert no longer pending changes nothing.
		rec(at(27), statesrv.EventAlertAttemptFailed, 1, &statesrv.AlertAttemptFailedData{AlertID: "a", Attempt: 27, Error: "late"}))
	v.catchUp()
	alerts, _ = v.store.Alerts(10)
	a = alerts[0]
	if a.Status != statesrv.AlertFailed || a.Attempts != 26 || a.Error != "HTTP 500 (26)" || a.RetryAt != nil ||
		!a.LastAttemptAt.Equal(at(26)) || len(a.FailedAttempts) != statesrv.MaxAlertAttempts || a.FailedAttempts[19].Attempt != 26 {
		t.Fatalf("failed alert row = %+v", a)
	}
	if _, _, err := v.runner.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := v.store.Alerts(10)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "alerts rebuilt", rebuilt, alerts)
}
