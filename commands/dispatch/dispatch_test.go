package dispatch_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/commands/dispatch"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// world is a write side, a runner and a dispatcher over real Badger
// stores, with a fake clock and a recording Deliver.
type world struct {
	t      *testing.T
	clk    *clock.Fake
	logDir string
	views  string

	log    *eventlog.Badger
	store  *projections.Store
	runner *projections.Runner
	svc    *commands.Service
	cancel context.CancelFunc
	done   sync.WaitGroup

	// giveUp is the dispatcher's GiveUpAfter (0: its default).
	giveUp time.Duration

	mu    sync.Mutex
	sent  []string // recipient:outcome of each accepted delivery
	tries map[string]int
	fail  func(a projections.PendingAlert, try int) error
}

var errTemp = errors.New("connection refused")
var errPerm = errors.New("550 no such user")

func newWorld(t *testing.T) *world {
	w := &world{t: t, clk: clock.NewFake(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)),
		logDir: t.TempDir(), views: t.TempDir(), tries: map[string]int{}}
	w.open()
	t.Cleanup(w.close)
	return w
}

func (w *world) open() {
	var err error
	if w.log, err = eventlog.OpenBadger(eventlog.Options{Dir: w.logDir, Now: w.clk.Now}); err != nil {
		w.t.Fatal(err)
	}
	if w.store, err = projections.OpenStore(w.views, nil); err != nil {
		w.t.Fatal(err)
	}
	if w.runner, err = projections.NewRunner(w.log, w.store, nil); err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	if _, err := w.runner.CatchUp(ctx); err != nil {
		w.t.Fatal(err)
	}
	core, err := w.store.LoadCore()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := commands.CatchUp(ctx, w.log, core); err != nil {
		w.t.Fatal(err)
	}
	w.svc = commands.New(commands.Config{Log: w.log, Clock: w.clk, Core: core,
		Unprocessed: w.store.UnprocessedMessage, FinishedRun: w.store.FinishedRun})
	d := dispatch.New(dispatch.Config{
		Service: w.svc, Runner: w.runner, Clock: w.clk, Deliver: w.deliver,
		Permanent: func(err error) bool { return errors.Is(err, errPerm) }, GiveUpAfter: w.giveUp,
	})
	w.done.Go(func() { w.runner.Run(ctx) })
	w.done.Go(func() { w.svc.Run(ctx) })
	w.done.Go(func() { d.Run(ctx) })
}

func (w *world) close() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.done.Wait()
	w.store.Close()
	w.log.Close()
	w.cancel = nil
}

func (w *world) deliver(ctx context.Context, a projections.PendingAlert) error {
	w.mu.Lock()
	w.tries[a.AlertID]++
	try, fail := w.tries[a.AlertID], w.fail
	w.mu.Unlock()
	if fail != nil {
		if err := fail(a, try); err != nil {
			return err
		}
	}
	w.mu.Lock()
	w.sent = append(w.sent, a.Recipient+":"+a.Outcome)
	w.mu.Unlock()
	return nil
}

func (w *world) define(p statesrv.Process) {
	rc, err := w.svc.DefineProcess(p, "admin")
	if err != nil {
		w.t.Fatal(err)
	}
	w.wait(rc)
}

func (w *world) report(state string) {
	w.wait(w.svc.Report(commands.Report{ProcessID: 1, State: state, Transport: "tcp", Remote: "127.0.0.1:1", Line: "#"}))
}

func (w *world) wait(rc *commands.Receipt) {
	w.t.Helper()
	if _, err := rc.Wait(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// tick makes the write side's clock decisions (fire times, deadlines,
// reminders) for the fake clock's now and waits until what they append is
// durable: after an Advance, whatever is due is then in the log, with no
// sleep. The Service's own loop may take the same instant first; both run
// under the Service's lock, so this one then finds nothing left to do.
func (w *world) tick() {
	w.t.Helper()
	if rc, _ := w.svc.Tick(); rc != nil {
		w.wait(rc)
	}
}

// eventually polls cond for up to five seconds.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	w.t.Fatalf("timed out waiting for %s", what)
}

func (w *world) events(typ string) []eventlog.Event {
	var out []eventlog.Event
	for e, err := range w.log.Range(context.Background(), 1, 0) {
		if err != nil {
			w.t.Fatalf("read log: %v", err)
		}
		if e.Type == typ {
			out = append(out, *e)
		}
	}
	return out
}

func (w *world) sentList() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.sent)
}

func pushOnly() statesrv.Process {
	return statesrv.Process{ID: 1, Name: "backup", Enabled: true, MaxRuntime: statesrv.Duration(time.Hour),
		Alerts: statesrv.Alerts{Fail: []string{"mailto:ops@example.com", "https://hooks.example.com/x"},
			Recovered: []string{"sms:+420600000000"}, Timeout: []string{"mailto:ops@example.com"}}}
}

func TestDispatch(t *testing.T) {
	t.Run("FailAlertsDeliveredOnce", func(t *testing.T) {
		w := newWorld(t)
		w.define(pushOnly())
		w.report("FAIL")
		w.eventually("two deliveries recorded", func() bool { return len(w.events("AlertDelivered")) == 2 })
		if got := w.sentList(); len(got) != 2 {
			t.Fatalf("sent %v, want two", got)
		}
		if n := len(w.events("AlertRequested")); n != 2 {
			t.Fatalf("%d AlertRequested, want 2", n)
		}
	})
	t.Run("TimeoutAlerted", func(t *testing.T) {
		w := newWorld(t)
		w.define(pushOnly())
		w.report("START")
		w.clk.Advance(2 * time.Hour)
		w.eventually("timeout alert delivered", func() bool {
			return slices.Contains(w.sentList(), "mailto:ops@example.com:timeout")
		})
		if n := len(w.events("RunTimedOut")); n != 1 {
			t.Fatalf("%d RunTimedOut, want 1", n)
		}
	})
	t.Run("ThresholdHoldsBackTheFirstFailures", func(t *testing.T) {
		w := newWorld(t)
		p := pushOnly()
		p.AlertAfter = 3
		w.define(p)
		w.report("FAIL")
		w.report("FAIL")
		if n := len(w.events("AlertRequested")); n != 0 {
			t.Fatalf("%d alerts requested before the third failure", n)
		}
		if n := len(w.events("AlertSuppressed")); n != 4 {
			t.Fatalf("%d AlertSuppressed, want 4 (two failures, two recipients)", n)
		}
		w.report("FAIL")
		w.eventually("third failure alerted", func() bool { return len(w.events("AlertDelivered")) == 2 })
		w.report("OK")
		w.eventually("recovered delivered", func() bool { return slices.Contains(w.sentList(), "sms:+420600000000:recovered") })
		w.report("FAIL") // one failure after recovery: held back again
		w.tick()
		if n := len(w.events("AlertRequested")); n != 3 {
			t.Fatalf("%d alerts requested, want 3 (two for the third failure, one recovered)", n)
		}
		w.eventually("suppressions listed with their reason", func() bool {
			alerts, _ := w.store.Alerts(100)
			suppressed := 0
			for _, a := range alerts {
				if a.Status == statesrv.AlertSuppressed && strings.Contains(a.Error, "in a row before alerting") {
					suppressed++
				}
			}
			return suppressed == 6
		})
	})
	t.Run("MaintenanceWindowHoldsBackAlerts", func(t *testing.T) {
		w := newWorld(t) // the clock starts at 08:00 UTC
		p := pushOnly()
		p.Maintenance = []statesrv.Window{{Schedule: "0 8 * * *", Duration: statesrv.Duration(time.Hour)}}
		w.define(p)
		w.clk.Advance(time.Minute)
		w.report("FAIL")
		sup := w.events("AlertSuppressed")
		if len(sup) != 2 || len(w.events("AlertRequested")) != 0 {
			t.Fatalf("in the window: %d suppressed, %d requested; want 2 and 0", len(sup), len(w.events("AlertRequested")))
		}
		if d, _ := projections.Decode(&sup[0]); !strings.Contains(d.(*statesrv.AlertSuppressedData).Reason, "maintenance window") {
			t.Fatalf("reason = %q", d.(*statesrv.AlertSuppressedData).Reason)
		}
		w.clk.Advance(time.Hour)
		w.report("FAIL")
		w.eventually("alerts after the window", func() bool { return len(w.events("AlertDelivered")) == 2 })
	})
	t.Run("PauseHoldsBackUntilResumedOrOver", func(t *testing.T) {
		w := newWorld(t)
		w.define(pushOnly())
		rc, err := w.svc.PauseAlerts(0, time.Time{}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		w.wait(rc)
		w.report("FAIL")
		if len(w.events("AlertRequested")) != 0 || len(w.events("AlertSuppressed")) != 2 {
			t.Fatal("alerts went out while every alert was paused")
		}
		rc, err = w.svc.ResumeAlerts(0, "admin")
		if err != nil {
			t.Fatal(err)
		}
		w.wait(rc)
		if _, err := w.svc.ResumeAlerts(0, "admin"); err == nil {
			t.Fatal("a second resume was accepted")
		}
		rc, err = w.svc.PauseAlerts(1, w.clk.Now().Add(time.Hour), "admin")
		if err != nil {
			t.Fatal(err)
		}
		w.wait(rc)
		w.report("FAIL")
		if len(w.events("AlertRequested")) != 0 {
			t.Fatal("alerts went out while the process was paused")
		}
		w.clk.Advance(2 * time.Hour) // the pause is over
		w.report("FAIL")
		w.eventually("alerts after the pause", func() bool { return len(w.events("AlertDelivered")) == 2 })
		if _, err := w.svc.PauseAlerts(1, w.clk.Now().Add(-time.Minute), "admin"); err == nil {
			t.Fatal("a pause that ended in the past was accepted")
		}
	})
	t.Run("RepeatWhileFailedUntilOK", func(t *testing.T) {
		w := newWorld(t)
		p := pushOnly()
		p.RepeatEvery = statesrv.Duration(time.Hour)
		w.define(p)
		w.report("FAIL")
		w.eventually("first alerts", func() bool { return len(w.events("AlertDelivered")) == 2 })
		w.clk.Advance(30 * time.Minute)
		w.tick()
		if n := len(w.events("AlertRequested")); n != 2 {
			t.Fatalf("%d alerts after half an interval, want 2", n)
		}
		w.clk.Advance(31 * time.Minute)
		w.eventually("reminders", func() bool { return len(w.events("AlertDelivered")) == 4 })
		var repeats int
		for _, e := range w.events("AlertRequested") {
			p, _ := projections.Decode(&e)
			if p.(*statesrv.AlertRequestedData).Repeat {
				repeats++
			}
		}
		if repeats != 2 {
			t.Fatalf("%d reminders, want 2", repeats)
		}
		w.report("OK")
		w.clk.Advance(3 * time.Hour)
		w.tick()
		if n := len(w.events("AlertRequested")); n != 5 { // 4 + recovered
			t.Fatalf("%d alerts after recovery and three hours, want 5 (no more reminders)", n)
		}
	})
	t.Run("RecoveredSaysHowLongAndHowMany", func(t *testing.T) {
		w := newWorld(t)
		w.define(pushOnly())
		w.report("FAIL")
		w.clk.Advance(10 * time.Minute)
		w.report("FAIL")
		w.clk.Advance(5 * time.Minute)
		w.report("OK")
		w.eventually("recovered delivered", func() bool { return slices.Contains(w.sentList(), "sms:+420600000000:recovered") })
		var found bool
		for _, e := range w.events("AlertRequested") {
			p, _ := projections.Decode(&e)
			a := p.(*statesrv.AlertRequestedData)
			if a.Outcome == statesrv.OutcomeRecovered {
				found = true
				if a.Failures != 2 || time.Duration(a.DownFor) != 15*time.Minute {
					t.Fatalf("recovered: failures %d, down for %v; want 2 and 15m", a.Failures, time.Duration(a.DownFor))
				}
			}
		}
		if !found {
			t.Fatal("no recovered alert requested")
		}
	})
	t.Run("TemporaryFailureRetriedAfterBackoff", func(t *testing.T) {
		w := newWorld(t)
		w.fail = func(a projections.PendingAlert, try int) error {
			if try == 1 {
				return errTemp
			}
			return nil
		}
		w.define(pushOnly())
		w.report("FAIL")
		w.eventually("first attempts", func() bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			return len(w.tries) == 2
		})
		if len(w.events("AlertDelivered")) != 0 {
			t.Fatal("delivered before the back-off passed")
		}
		w.clk.Advance(time.Minute)
		w.eventually("retries delivered", func() bool { return len(w.events("AlertDelivered")) == 2 })
		for _, e := range w.events("AlertDelivered") {
			p, _ := projections.Decode(&e)
			if n := p.(*statesrv.AlertDeliveredData).Attempts; n != 2 {
				t.Fatalf("attempts = %d, want 2", n)
			}
		}
	})
	t.Run("PermanentFailureRecordedAtOnce", func(t *testing.T) {
		w := newWorld(t)
		w.fail = func(projections.PendingAlert, int) error { return errPerm }
		w.define(pushOnly())
		w.report("FAIL")
		w.eventually("failures recorded", func() bool { return len(w.events("AlertFailed")) == 2 })
		p, _ := projections.Decode(&w.events("AlertFailed")[0])
		if f := p.(*statesrv.AlertFailedData); f.Attempts != 1 || f.Error != errPerm.Error() {
			t.Fatalf("failed = %+v, want one attempt and the error", f)
		}
	})
	t.Run("GivesUpAfterADay", func(t *testing.T) {
		w := newWorld(t)
		w.fail = func(projections.PendingAlert, int) error { return errTemp }
		w.define(pushOnly())
		w.report("FAIL")
		for range 400 {
			if len(w.events("AlertFailed")) == 2 {
				break
			}
			w.clk.Advance(10 * time.Minute)
			// Pacing, not a check: the dispatcher arms its back-off on the
			// fake clock after each attempt, and an Advance made before
			// that only costs another turn of this bounded loop.
			time.Sleep(2 * time.Millisecond)
		}
		w.eventually("failures after a day", func() bool { return len(w.events("AlertFailed")) == 2 })
		if len(w.events("AlertDelivered")) != 0 {
			t.Fatal("delivered although every attempt failed")
		}
	})
	t.Run("PendingResumesAfterRestartAndRebuildSendsNothing", func(t *testing.T) {
		w := newWorld(t)
		block := make(chan struct{})
		w.fail = func(projections.PendingAlert, int) error { <-block; return errTemp }
		w.define(pushOnly())
		w.report("FAIL")
		w.eventually("attempts in flight", func() bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			return len(w.tries) == 2
		})
		w.cancel() // the server stops while the alerts are being sent
		close(block)
		w.done.Wait()
		w.store.Close()
		w.log.Close()
		w.fail = nil
		w.open()
		w.eventually("delivered after restart", func() bool { return len(w.events("AlertDelivered")) == 2 })
		if _, _, err := w.runner.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A check that nothing happens: no event marks that the dispatcher
		// has seen the rebuilt views and sent nothing, so give a wrong
		// second send the time to show.
		time.Sleep(50 * time.Millisecond)
		if got := w.sentList(); len(got) != 2 {
			t.Fatalf("sent %v after restart and rebuild, want each alert once", got)
		}
		var pending int
		w.runner.View(func(c *projections.Core) { pending = len(c.Alerts) })
		if pending != 0 {
			t.Fatalf("%d alerts still pending after rebuild", pending)
		}
		alerts, err := w.store.Alerts(10)
		if err != nil || len(alerts) != 2 || alerts[0].Status != statesrv.AlertDelivered {
			t.Fatalf("alert list = %+v, %v; want two delivered", alerts, err)
		}
	})
}

// TestViewsBehindTheLogSendNothing gives the sender views that show two
// alerts requested and not yet delivered (as views being rebuilt do, between
// a request and its recorded delivery), while the write side knows both
// were delivered: nothing may be sent again.
func TestViewsBehindTheLogSendNothing(t *testing.T) {
	w := newWorld(t)
	w.define(pushOnly())
	w.report("FAIL")
	w.eventually("delivered", func() bool { return len(w.events("AlertDelivered")) == 2 })

	// A log that ends right after the requests: the views of a rebuild
	// half way through.
	behind, err := eventlog.OpenBadger(eventlog.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer behind.Close()
	var recs []eventlog.Record
	for e, err := range w.log.Range(context.Background(), 1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == "AlertDelivered" {
			break
		}
		recs = append(recs, eventlog.Record{Type: e.Type, Time: e.Time, Actor: e.Actor, ProcessID: e.ProcessID,
			Data: append([]byte(nil), e.Data...)})
	}
	if _, err := eventlog.Append(context.Background(), behind, recs...); err != nil {
		t.Fatal(err)
	}
	store, err := projections.OpenStore("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runner, err := projections.NewRunner(behind, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pending int
	runner.View(func(c *projections.Core) { pending = len(c.Alerts) })
	if pending != 2 {
		t.Fatalf("the lagging views hold %d pending alerts, want 2", pending)
	}
	var sent sync.Map
	d := dispatch.New(dispatch.Config{Service: w.svc, Runner: runner, Clock: w.clk,
		Deliver: func(_ context.Context, a projections.PendingAlert) error {
			sent.Store(a.AlertID, true)
			return nil
		},
		Permanent: func(error) bool { return false }})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	d.Run(ctx)
	sent.Range(func(k, _ any) bool {
		t.Errorf("alert %v sent again from views behind the log", k)
		return true
	})
}
