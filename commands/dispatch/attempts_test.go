package dispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/notify"
	"github.com/statesrv/statesrv/projections"
)

// TestAttemptsOnRecord sends an alert to a real webhook that answers 500:
// each failed attempt is on the alert's record with its error, the count
// and the back-off go on across a restart, and the alert fails once the
// retries have run for GiveUpAfter from the first attempt.
func TestAttemptsOnRecord(t *testing.T) {
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database is down", http.StatusInternalServerError)
	}))
	defer hook.Close()
	sender, err := notify.New(notify.Config{HTTPClient: hook.Client()})
	if err != nil {
		t.Fatal(err)
	}

	w := newWorld(t)
	// Waits are 5 s, 10 s, 20 s (±20%): the fourth attempt comes 28 to 42 s
	// after the first, but at most 24 s after the third.
	w.giveUp = 25 * time.Second
	w.close()
	w.open()
	w.fail = func(a projections.PendingAlert, _ int) error {
		return sender.Send(context.Background(), notify.Requested(a.AlertRequestedData, a.ProcessID, a.RequestedAt, "backup", "https://statesrv.example"))
	}
	w.define(statesrv.Process{ID: 1, Name: "backup", Enabled: true, MaxRuntime: statesrv.Duration(time.Hour),
		Alerts: statesrv.Alerts{Fail: []string{hook.URL + "/hook"}}})
	w.report("FAIL")
	first := w.clk.Now()

	// attempt waits for the record of failed attempt n and returns it.
	attempt := func(n int) statesrv.Alert {
		t.Helper()
		var a statesrv.Alert
		w.eventually(fmt.Sprintf("attempt %d on record", n), func() bool {
			alerts, err := w.store.Alerts(10)
			if err != nil || len(alerts) != 1 {
				return false
			}
			a = alerts[0]
			return a.Attempts >= n
		})
		if a.Attempts != n {
			t.Fatalf("attempts = %d, want %d", a.Attempts, n)
		}
		return a
	}
	a := attempt(1)
	w.clk.Set(*a.RetryAt)
	a = attempt(2)
	if a.Status != statesrv.AlertPending || !strings.Contains(a.Error, "HTTP 500") || !strings.Contains(a.Error, "database is down") {
		t.Fatalf("after two attempts: status %q, error %q; want pending and the webhook's 500", a.Status, a.Error)
	}
	if len(a.FailedAttempts) != 2 || !a.FailedAttempts[1].Temporary || a.LastAttemptAt == nil || a.RetryAt == nil {
		t.Fatalf("after two attempts: %+v", a)
	}
	if wait := a.RetryAt.Sub(*a.LastAttemptAt); wait < 8*time.Second || wait > 12*time.Second {
		t.Fatalf("second back-off %v, want 10 s ±20%%", wait)
	}

	// The server stops and starts again from the same log.
	w.close()
	w.open()
	// A check that nothing happens: the restarted sender waits for the
	// recorded retry time, so give a wrong early attempt the time to show.
	time.Sleep(50 * time.Millisecond)
	w.mu.Lock()
	tries := w.tries[a.ID]
	w.mu.Unlock()
	if tries != 2 {
		t.Fatalf("%d attempts right after the restart, want 2 (the third waits for its retry time)", tries)
	}
	due := *a.RetryAt
	w.clk.Set(due)
	a = attempt(3)
	if a.LastAttemptAt.Before(due) {
		t.Fatalf("third attempt at %v, before its recorded retry time %v", a.LastAttemptAt, due)
	}
	if wait := a.RetryAt.Sub(*a.LastAttemptAt); wait < 16*time.Second || wait > 24*time.Second {
		t.Fatalf("back-off after the restart %v, want 20 s ±20%% (the third)", wait)
	}
	w.clk.Set(*a.RetryAt)
	var alerts []statesrv.Alert
	w.eventually("the alert failed", func() bool {
		alerts, _ = w.store.Alerts(10)
		return len(alerts) == 1 && alerts[0].Status != statesrv.AlertPending
	})
	a = alerts[0]
	if a.Status != statesrv.AlertFailed || a.Attempts != 4 || len(a.FailedAttempts) != 4 || a.RetryAt != nil {
		t.Fatalf("failed alert = %+v, want four attempts and no retry", a)
	}
	if last := a.FailedAttempts[3]; !last.Temporary || last.RetryAt != nil || last.At.Sub(first) < w.giveUp {
		t.Fatalf("last attempt = %+v, want a temporary failure past the retries, %v after the first", last, w.giveUp)
	}
	if n := len(w.events(statesrv.EventAlertAttemptFailed)); n != 4 {
		t.Fatalf("%d AlertAttemptFailed, want 4", n)
	}
	if got := w.sentList(); len(got) != 0 {
		t.Fatalf("sent %v, want nothing accepted", got)
	}

	// The views folded live equal a rebuild from the log.
	live, _ := json.Marshal(alerts)
	if _, _, err := w.runner.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := w.store.Alerts(10)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(rebuilt); string(again) != string(live) {
		t.Fatalf("live views\n%s\nrebuilt\n%s", live, again)
	}
	w.mu.Lock()
	all := w.tries
	w.mu.Unlock()
	for id, n := range all {
		if n != 4 {
			t.Fatalf("alert %s tried %d times, want 4 (no attempt from the rebuild)", id, n)
		}
	}
}
