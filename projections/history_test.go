package projections_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/projections"
)

// Every field of a finished run that pages and the API show comes back
// from the stored history (its binary record) as the fold closed it: by
// id, in the history of its process and of its outcome, with the seq of
// the event that opened it.
func TestHistoryKeepsEveryField(t *testing.T) {
	v := newViews(t)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	sched := at(1).Add(-30 * time.Second)
	code := 3
	for _, c := range []struct{ name, id string }{
		{"UUID", uuid.Must(uuid.NewV7()).String()},
		{"OtherID", "a run id of an older log"},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := v.append(defined(at(0), 1),
				rec(at(1), statesrv.EventRunStarted, 1, &statesrv.RunStartedData{RunID: c.id, Source: statesrv.SourceSchedule,
					StartedAt: at(1), ScheduledAt: &sched, Deadline: at(61), Missed: true, Early: true, Name: "nightly"}))
			v.append(
				rec(at(2), statesrv.EventRunStartMissed, 1, &statesrv.RunStartMissedData{RunID: c.id, ScheduledAt: sched, Due: at(2)}),
				rec(at(3), statesrv.EventRunAttached, 1, &statesrv.RunAttachedData{RunID: c.id, MessageID: "m1", At: at(3)}))
			v.catchUp()
			if seq, ok, err := v.store.RunStartSeq(c.id); err != nil || !ok || seq != evs[1].Seq {
				t.Fatalf("start of the open run = %d, %v, %v; want %d", seq, ok, err, evs[1].Seq)
			}
			fin := rec(at(4), statesrv.EventRunFinished, 1, &statesrv.RunFinishedData{RunID: c.id, State: statesrv.StateFail,
				MessageID: "m2", FinishedAt: at(4).Add(123 * time.Nanosecond), Message: "disk full", Code: &code,
				Name: "nightly (renamed)", TooFast: true})
			v.append(fin)
			v.catchUp()
			// The fold's own view of the closed run, from the log alone.
			c2 := projections.NewCore()
			var want *statesrv.Run
			for e, err := range v.log.Range(t.Context(), 1, 0) {
				if err != nil {
					t.Fatal(err)
				}
				eff, err := c2.Apply(e)
				if err != nil {
					t.Fatal(err)
				}
				if eff.Closed != nil && eff.Closed.ID == c.id {
					want = eff.Closed
				}
			}
			if want == nil || want.Code == nil || want.ScheduledAt == nil || want.Reported == nil || !want.StartMissed ||
				!want.Missed || !want.Early || !want.TooFast {
				t.Fatalf("the fold's closed run lacks a field: %+v", want)
			}
			w, _ := json.Marshal(want)
			got, ok, err := v.store.FinishedRun(c.id)
			if g, _ := json.Marshal(got); err != nil || !ok || string(g) != string(w) {
				t.Fatalf("FinishedRun = %s, %v, %v\nwant %s", g, ok, err, w)
			}
			for _, q := range []projections.HistoryQuery{{ProcessID: 1, Limit: 1}, {State: statesrv.StateFail, Limit: 1},
				{ProcessID: 1, State: statesrv.StateFail, Limit: 1}, {Limit: 1}} {
				h, err := v.store.History(q)
				if err != nil || len(h) != 1 {
					t.Fatalf("History(%+v) = %v, %v", q, h, err)
				}
				if g, _ := json.Marshal(h[0]); string(g) != string(w) {
					t.Fatalf("History(%+v) = %s\nwant %s", q, g, w)
				}
			}
			if seq, ok, err := v.store.RunStartSeq(c.id); err != nil || !ok || seq != evs[1].Seq {
				t.Fatalf("start of the finished run = %d, %v, %v; want %d", seq, ok, err, evs[1].Seq)
			}
		})
	}
}
