package commands_test

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

// maxSteps bounds the commands of one check.
const maxSteps = 30

// propChecks is how many command sequences the property tries unless
// -rapid.checks or RAPID_CHECKS says otherwise: rapid's default of 100 is
// too slow under -race, as every check opens two Badger databases, every
// step syncs the log, and restarts reopen both.
const propChecks = 50

// lowerRapidChecks makes rapid.Check run n checks for the rest of the test,
// unless the command line or the environment chose a number.
func lowerRapidChecks(t *testing.T, n int) {
	t.Helper()
	chosen := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { chosen = chosen || f.Name == "rapid.checks" })
	f := flag.Lookup("rapid.checks")
	if chosen || f == nil {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatalf("set rapid.checks: %v", err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

var (
	propSchedules   = []string{"", "*/10 * * * * *", "@every 45s", "0 * * * *"}
	propMaxRuntimes = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute}
	propMalformed   = []string{"", "hello", "#", "#id=1", "#state=OK", "#id=x;state=OK",
		"#id=2;state=DONE", "#id=3;state=OK;junk", "#id=4;state=OK;id=4", "#id=1;state=FAIL;code=1.5"}
	// propActions are the commands a check draws from; repeats weight them.
	propActions = []string{"define", "define", "delete", "report", "report", "report", "burst",
		"malformed", "dismiss", "start", "advance", "advance", "advance", "restart"}
)

// TestLiveViewsEqualRebuild applies random sequences of commands, with clock
// advances and restarts, and checks after each that the live views (the
// runner's, the stored ones and the write side's) equal those rebuilt from
// the log, and that the log keeps its invariants.
func TestLiveViewsEqualRebuild(t *testing.T) {
	checkWorlds(t, propChecks, func(rt *rapid.T, dir string, rebuild *projections.Store) {
		m := &propModel{rt: rt, rebuild: rebuild}
		m.skew = rapid.SampledFrom([]time.Duration{0, 0, 30 * time.Second}).Draw(rt, "clock_skew")
		m.s = &server{tb: rt, clock: clock.NewFake(t0), logDir: dir + "/log", viewsDir: dir + "/views", Background: true,
			ClockSkew: m.skew}
		m.s.open()
		defer func() { m.s.Close() }()

		steps := rapid.IntRange(1, maxSteps).Draw(rt, "steps")
		for range steps {
			switch action := rapid.SampledFrom(propActions).Draw(rt, "action"); action {
			case "define":
				m.define()
			case "delete":
				m.delete()
			case "report":
				m.reports(1)
			case "burst":
				m.reports(rapid.IntRange(2, 4).Draw(rt, "burst"))
			case "malformed":
				m.malformed()
			case "dismiss":
				m.dismiss()
			case "start":
				m.start()
			case "advance":
				d := time.Duration(rapid.IntRange(1000, 600_000).Draw(rt, "advance_ms")) * time.Millisecond
				m.s.clock.Advance(d)
				m.s.Tick()
			case "restart":
				m.s.Restart()
				m.s.Tick() // what the scheduler loop does first
				m.rebind = true
			default:
				rt.Fatalf("unknown action %q", action)
			}
			m.s.CatchUp()
			m.check()
		}
		m.full = true
		m.check() // with a full rebuild at the end
	})
}

// propModel holds one check's server and the store rebuilt beside it.
type propModel struct {
	rt      *rapid.T
	s       *server
	rebuild *projections.Store
	// rebuilt is the runner of the rebuild store. It starts on the empty
	// store and catches up with the log as a second server that never
	// restarts would; full makes the next check Rebuild it from seq 1, and
	// rebind gives it the log opened by a restart.
	rebuilt      *projections.Runner
	full, rebind bool
	// events is the log as the last check read it.
	events []eventlog.Event
	// skew is the server's clock-skew tolerance (0: off).
	skew time.Duration
}

func (m *propModel) define() {
	rt := m.rt
	id := int64(rapid.IntRange(1, 4).Draw(rt, "define_id"))
	p := statesrv.Process{
		ID:         id,
		Name:       rapid.SampledFrom([]string{fmt.Sprintf("job%d", id), "renamed"}).Draw(rt, "define_name"),
		Schedule:   rapid.SampledFrom(propSchedules).Draw(rt, "define_schedule"),
		MaxRuntime: statesrv.Duration(rapid.SampledFrom(propMaxRuntimes).Draw(rt, "define_max_runtime")),
		Enabled:    rapid.Bool().Draw(rt, "define_enabled"),
		Key:        propKey(rapid.SampledFrom([]string{"", "k1", "keep"}).Draw(rt, "define_key")),
		// At most the shortest max_runtime, so that every draw is valid.
		StartGrace: statesrv.Duration(rapid.SampledFrom([]time.Duration{0, 2 * time.Second, 5 * time.Second}).Draw(rt, "define_start_grace")),
		MinRuntime: statesrv.Duration(rapid.SampledFrom([]time.Duration{0, 3 * time.Second}).Draw(rt, "define_min_runtime")),
	}
	r, err := m.s.Service.DefineProcess(p, statesrv.ActorAdmin)
	if err != nil {
		rt.Fatalf("define %+v: %v", p, err)
	}
	if _, err := m.s.wait(r); err != nil {
		rt.Fatalf("define %+v: %v", p, err)
	}
}

func (m *propModel) delete() {
	rt := m.rt
	id := int64(rapid.IntRange(1, 4).Draw(rt, "delete_id"))
	_, defined := m.s.Service.Process(id)
	r, err := m.s.Service.DeleteProcess(id, statesrv.ActorAdmin)
	if !defined {
		if statesrv.ErrorCode(err) != statesrv.ENotFound {
			rt.Fatalf("delete of undefined %d: %v, want not found", id, err)
		}
		return
	}
	if err != nil {
		rt.Fatalf("delete %d: %v", id, err)
	}
	if _, err := m.s.wait(r); err != nil {
		rt.Fatalf("delete %d: %v", id, err)
	}
}

// reports draws n reports and submits them one after the other without
// waiting, as a client pipelining lines does, then checks each receipt.
func (m *propModel) reports(n int) {
	rt := m.rt
	type sent struct {
		rep         commands.Report
		badKey, dup bool
		r           *commands.Receipt
	}
	var batch []sent
	for range n {
		rep, badKey := m.drawReport()
		dup := false
		if rep.MID != "" && !badKey {
			dup = m.midStored(rep.ProcessID, rep.MID)
			for _, b := range batch {
				dup = dup || (!b.badKey && b.rep.ProcessID == rep.ProcessID && b.rep.MID == rep.MID)
			}
		}
		batch = append(batch, sent{rep: rep, badKey: badKey, dup: dup})
	}
	for i := range batch {
		batch[i].r = m.s.Service.Report(batch[i].rep)
	}
	for _, b := range batch {
		_, err := m.s.wait(b.r)
		switch {
		case b.badKey: // checked before the mid, so a wrong key learns nothing
			if statesrv.ErrorMessage(err) != "bad key" || b.r.Duplicate() {
				rt.Fatalf("report %+v with a bad key: %v, duplicate %v", b.rep, err, b.r.Duplicate())
			}
		case err != nil:
			rt.Fatalf("report %+v: %v", b.rep, err)
		case b.r.Duplicate() != b.dup:
			rt.Fatalf("report %+v: duplicate %v, want %v", b.rep, b.r.Duplicate(), b.dup)
		}
	}
}

// drawReport draws a well-formed report and says whether its key is wrong.
func (m *propModel) drawReport() (rep commands.Report, badKey bool) {
	rt := m.rt
	id := int64(rapid.IntRange(1, 5).Draw(rt, "report_id"))
	rep = report(id, rapid.SampledFrom([]string{"OK", "FAIL", "START"}).Draw(rt, "report_state"))
	switch rapid.SampledFrom([]string{"none", "known", "unknown"}).Draw(rt, "report_run") {
	case "known":
		if runs := m.runIDs(); len(runs) > 0 {
			rep = withRun(rep, rapid.SampledFrom(runs).Draw(rt, "report_run_id"))
		}
	case "unknown":
		rep = withRun(rep, "no-such-run")
	}
	if mid := rapid.SampledFrom([]string{"", "", "m1", "m2", "m3"}).Draw(rt, "report_mid"); mid != "" {
		rep = withMID(rep, mid)
	}
	if rapid.Bool().Draw(rt, "report_name") {
		rep.Name = fmt.Sprintf("job%d", id)
		rep.Line += ";name=" + rep.Name
	}
	ps, defined := m.s.Service.Process(id)
	switch rapid.SampledFrom([]string{"none", "right", "wrong"}).Draw(rt, "report_key") {
	case "right":
		if defined && ps.KeyHash != "" {
			rep = withKey(rep, "k1") // the only key ever set
		}
	case "wrong":
		rep = withKey(rep, "wrong")
	}
	return rep, defined && ps.KeyHash != "" && !statesrv.KeyMatches(ps.KeyHash, rep.Key)
}

// propKey is a definition's key: "keep" leaves it out, which keeps the
// key set; "" removes it.
func propKey(k string) *string {
	if k == "keep" {
		return nil
	}
	return &k
}

// midStored reports whether a MessageReceived of process id with mid is in
// the log.
func (m *propModel) midStored(id int64, mid string) bool {
	for _, e := range ofType(m.events, statesrv.EventMessageReceived) {
		if e.ProcessID == id && payload[statesrv.MessageReceivedData](m.rt, e).MID == mid {
			return true
		}
	}
	return false
}

// runIDs returns the id of every run ever opened, oldest first.
func (m *propModel) runIDs() []string {
	var out []string
	for _, e := range ofType(m.events, statesrv.EventRunStarted) {
		out = append(out, payload[statesrv.RunStartedData](m.rt, e).RunID)
	}
	return out
}

func (m *propModel) malformed() {
	rt := m.rt
	line := rapid.SampledFrom(propMalformed).Draw(rt, "malformed_line")
	rep, perr := commands.ParseLine(line)
	if perr == nil {
		rt.Fatalf("malformed line %q parsed", line)
	}
	rep.Transport, rep.Remote = "tcp", "127.0.0.1:1"
	if _, err := m.s.wait(m.s.Service.Reject(rep, perr)); err != perr {
		rt.Fatalf("reject %q: %v, want %v", line, err, perr)
	}
}

func (m *propModel) dismiss() {
	rt := m.rt
	list, err := m.s.Store.Unprocessed(0, 1000)
	if err != nil {
		rt.Fatalf("unprocessed: %v", err)
	}
	if len(list) == 0 {
		if _, err := m.s.Service.Dismiss("no-such-message", statesrv.ActorAdmin); statesrv.ErrorCode(err) != statesrv.ENotFound {
			rt.Fatalf("dismiss of an unknown message: %v, want not found", err)
		}
		return
	}
	u := rapid.SampledFrom(list).Draw(rt, "dismiss")
	r, err := m.s.Service.Dismiss(u.ID, statesrv.ActorAdmin)
	if err != nil {
		rt.Fatalf("dismiss %s: %v", u.ID, err)
	}
	if _, err := m.s.wait(r); err != nil {
		rt.Fatalf("dismiss %s: %v", u.ID, err)
	}
}

func (m *propModel) start() {
	rt := m.rt
	id := int64(rapid.IntRange(1, 5).Draw(rt, "start_id"))
	_, defined := m.s.Service.Process(id)
	r, err := m.s.Service.StartRun(id, statesrv.ActorCLI)
	if !defined {
		if statesrv.ErrorCode(err) != statesrv.ENotFound {
			rt.Fatalf("start of undefined %d: %v, want not found", id, err)
		}
		return
	}
	if err != nil {
		rt.Fatalf("start %d: %v", id, err)
	}
	if _, err := m.s.wait(r); err != nil {
		rt.Fatalf("start %d: %v", id, err)
	}
}

// check compares every live view with the log and a rebuild, and checks the
// log's invariants.
func (m *propModel) check() {
	rt := m.rt
	rt.Helper()
	ctx := context.Background()
	// The log is only ever appended to: read what is new.
	m.events = append(m.events, m.s.Events(uint64(len(m.events))+1)...)
	evs := m.events

	// The log: gap-free seqs, an intact hash chain, each run closed once,
	// none timed out before its deadline or opened before its fire time.
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			rt.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
	}
	if n := m.s.Log.LastSeq(); n != uint64(len(evs)) {
		rt.Fatalf("LastSeq %d, %d events", n, len(evs))
	}
	rep, err := m.s.Log.Verify(ctx)
	if err != nil || !rep.OK() || rep.LastSeq != uint64(len(evs)) {
		rt.Fatalf("verify: %+v, %v", rep, err)
	}
	opened, closed := map[string]*statesrv.RunStartedData{}, map[string]uint64{}
	for _, e := range evs {
		switch e.Type {
		case statesrv.EventRunStarted:
			d := payload[statesrv.RunStartedData](rt, e)
			if opened[d.RunID] != nil {
				rt.Fatalf("run %s opened twice (seq %d)", d.RunID, e.Seq)
			}
			// Only a run opened early, within the clock-skew tolerance, opens
			// before its fire time.
			if d.ScheduledAt != nil && d.ScheduledAt.After(e.Time) && !(d.Early && d.ScheduledAt.Sub(e.Time) <= m.skew) {
				rt.Fatalf("seq %d opens run %s for %v at %v", e.Seq, d.RunID, d.ScheduledAt, e.Time)
			}
			opened[d.RunID] = &d
		case statesrv.EventRunFinished, statesrv.EventRunTimedOut:
			var d struct {
				RunID string `json:"run_id"`
			}
			data, err := statesrv.PayloadJSON(e.Type, e.Time, e.Data)
			if err == nil {
				err = json.Unmarshal(data, &d)
			}
			if err != nil {
				rt.Fatalf("decode %d: %v", e.Seq, err)
			}
			if prev, ok := closed[d.RunID]; ok {
				rt.Fatalf("run %s closed twice: seq %d and %d (%s)", d.RunID, prev, e.Seq, e.Type)
			}
			start := opened[d.RunID]
			if start == nil {
				rt.Fatalf("seq %d closes run %s, never opened", e.Seq, d.RunID)
			}
			if e.Type == statesrv.EventRunTimedOut && e.Time.Before(start.Deadline) {
				rt.Fatalf("seq %d times out run %s at %v, before its deadline %v", e.Seq, d.RunID, e.Time, start.Deadline)
			}
			closed[d.RunID] = e.Seq
		}
	}

	// A Core folded from the whole log is the reference, and its effects
	// give the reference history and unprocessed messages.
	fresh := projections.NewCore()
	var history []statesrv.Run
	unprocessed := map[string]statesrv.Unprocessed{}
	for i := range evs {
		eff, err := fresh.Apply(&evs[i])
		if err != nil {
			rt.Fatalf("apply %d: %v", evs[i].Seq, err)
		}
		if eff.Closed != nil {
			history = append(history, *eff.Closed)
		}
		if u := eff.Unprocessed; u != nil {
			unprocessed[u.ID] = *u
		}
		delete(unprocessed, eff.Dismissed)
	}
	want := coreViews(fresh)
	// Newest first; the same finish time by run id, as the store's keys.
	slices.SortFunc(history, func(a, b statesrv.Run) int {
		if c := b.FinishedAt.Compare(*a.FinishedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	wantUnprocessed := slices.SortedFunc(maps.Values(unprocessed), func(a, b statesrv.Unprocessed) int {
		return cmp.Compare(a.Seq, b.Seq)
	})

	// (a) The runner's Core.
	var live views
	m.s.Runner.View(func(c *projections.Core) { live = coreViews(c) })
	compareViews(rt, "runner", live, want)
	// The Core as stored with the checkpoint (what a restart loads).
	stored, err := m.s.Store.LoadCore()
	if err != nil {
		rt.Fatalf("load core: %v", err)
	}
	if stored.Seq != uint64(len(evs)) {
		rt.Fatalf("checkpoint %d, log at %d", stored.Seq, len(evs))
	}
	compareViews(rt, "stored core", coreViews(stored), want)

	// (b) The write side's own view.
	svc := views{Runs: m.s.Service.OpenRuns()}
	for id := int64(1); id <= 5; id++ {
		if ps, ok := m.s.Service.Process(id); ok {
			svc.Procs = append(svc.Procs, ps)
		}
	}
	compareViews(rt, "service", svc, want)

	// (c) History, unprocessed and the event index: the fold's, and those
	// of another store that a runner of its own rebuilt from the log (in
	// full after a restart and at the end; caught up in between).
	compareJSON(rt, "history", storedHistory(rt, m.s.Store), history)
	compareJSON(rt, "unprocessed", storedUnprocessed(rt, m.s.Store), wantUnprocessed)
	if m.rebuilt == nil || m.rebind {
		rb, err := projections.NewRunner(m.s.Log, m.rebuild, nil)
		if err != nil {
			rt.Fatalf("rebuild runner: %v", err)
		}
		m.rebuilt, m.rebind = rb, false
	}
	if m.full {
		if _, _, err := m.rebuilt.Rebuild(ctx); err != nil {
			rt.Fatalf("rebuild: %v", err)
		}
		m.full = false
	} else if _, err := m.rebuilt.CatchUp(ctx); err != nil {
		rt.Fatalf("rebuild runner catch-up: %v", err)
	}
	var rebuilt views
	m.rebuilt.View(func(c *projections.Core) { rebuilt = coreViews(c) })
	compareViews(rt, "rebuilt core", rebuilt, want)
	compareJSON(rt, "rebuilt history", storedHistory(rt, m.s.Store), storedHistory(rt, m.rebuild))
	compareJSON(rt, "rebuilt unprocessed", storedUnprocessed(rt, m.s.Store), storedUnprocessed(rt, m.rebuild))
	var wantSeqs map[int64][]uint64
	for _, e := range evs {
		if e.ProcessID != 0 {
			if wantSeqs == nil {
				wantSeqs = map[int64][]uint64{}
			}
			wantSeqs[e.ProcessID] = append(wantSeqs[e.ProcessID], e.Seq)
		}
	}
	for pid := int64(1); pid <= 5; pid++ {
		live := eventSeqs(rt, m.s.Store, pid)
		compareJSON(rt, fmt.Sprintf("index of process %d", pid), live, wantSeqs[pid])
		compareJSON(rt, fmt.Sprintf("rebuilt index of process %d", pid), live, eventSeqs(rt, m.rebuild, pid))
	}
}

// views are the parts of a Core the property compares.
type views struct {
	Procs []projections.ProcessState
	Runs  []statesrv.Run
}

func coreViews(c *projections.Core) views {
	return views{Procs: c.ProcessList(), Runs: c.AllOpenRuns()}
}

func compareViews(rt *rapid.T, what string, got, want views) {
	rt.Helper()
	compareJSON(rt, what+" processes", got.Procs, want.Procs)
	compareJSON(rt, what+" open runs", got.Runs, want.Runs)
}

// compareJSON compares two values by their JSON, which is what clients see
// and what does not depend on how a time.Time was made.
func compareJSON(rt *rapid.T, what string, got, want any) {
	rt.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil {
		rt.Fatalf("%s: marshal: %v, %v", what, err1, err2)
	}
	if string(g) == "null" {
		g = []byte("[]")
	}
	if string(w) == "null" {
		w = []byte("[]")
	}
	if string(g) != string(w) {
		rt.Fatalf("%s differ:\n got  %s\n want %s", what, g, w)
	}
}

func storedHistory(rt *rapid.T, s *projections.Store) []statesrv.Run {
	rt.Helper()
	h, err := s.History(projections.HistoryQuery{Limit: 1 << 20})
	if err != nil {
		rt.Fatalf("history: %v", err)
	}
	return h
}

func storedUnprocessed(rt *rapid.T, s *projections.Store) []statesrv.Unprocessed {
	rt.Helper()
	u, err := s.Unprocessed(0, 1<<20)
	if err != nil {
		rt.Fatalf("unprocessed: %v", err)
	}
	return u
}

// eventSeqs returns the seqs the event index holds for pid: ranges may be
// cut differently live (at checkpoints) and rebuilt, the seqs may not.
func eventSeqs(rt *rapid.T, s *projections.Store, pid int64) []uint64 {
	rt.Helper()
	ranges, err := s.ProcessEvents(pid, 0, 1<<20)
	if err != nil {
		rt.Fatalf("process events: %v", err)
	}
	var out []uint64
	for _, r := range ranges {
		for seq := r.First; seq <= r.Last; seq++ {
			out = append(out, seq)
		}
	}
	if !slices.IsSorted(out) {
		rt.Fatalf("process %d: index not ordered: %v", pid, ranges)
	}
	return out
}

// checkWorlds runs body in rapid checks (at most checks of them), each with
// a fresh directory for its log and views and an emptied store for its
// rebuilds: one store serves every check, as opening Badger costs more than
// dropping its contents.
func checkWorlds(t *testing.T, checks int, body func(rt *rapid.T, dir string, rebuild *projections.Store)) {
	lowerRapidChecks(t, checks)
	base := t.TempDir()
	rebuild, err := projections.OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatalf("open rebuild store: %v", err)
	}
	defer rebuild.Close()
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(base, "check")
		if err != nil {
			rt.Fatalf("temp dir: %v", err)
		}
		rt.Cleanup(func() { os.RemoveAll(dir) })
		if err := rebuild.Drop(); err != nil {
			rt.Fatalf("drop rebuild store: %v", err)
		}
		body(rt, dir, rebuild)
	})
}
