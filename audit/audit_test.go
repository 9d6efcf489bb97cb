package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/projections"
)

var t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

// MustLog returns a log in a temp dir holding, a second apart from t0,
// for each process id one ProcessDefined and one AlertsPaused.
func MustLog(tb testing.TB, ids ...int64) *eventlog.Badger {
	tb.Helper()
	return MustLogIn(tb, filepath.Join(tb.TempDir(), "log"), ids...)
}

// MustLogIn is MustLog with the log in dir; it is closed when the test ends.
func MustLogIn(tb testing.TB, dir string, ids ...int64) *eventlog.Badger {
	tb.Helper()
	l, err := eventlog.OpenBadger(eventlog.Options{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	at := t0
	for _, id := range ids {
		raw, _ := json.Marshal(statesrv.Process{ID: id, Name: "job" + strconv.FormatInt(id, 10), Timezone: "UTC", Enabled: true})
		for _, rec := range []eventlog.Record{
			{Type: statesrv.EventProcessDefined, Time: at, Actor: statesrv.ActorCLI, ProcessID: id, Data: raw},
			{Type: "AlertsPaused", Time: at.Add(time.Second), Actor: statesrv.ActorAdmin, ProcessID: id, Data: json.RawMessage(`{}`)},
		} {
			if _, err := eventlog.Append(context.Background(), l, rec); err != nil {
				tb.Fatal(err)
			}
		}
		at = at.Add(2 * time.Second)
	}
	return l
}

// seqs returns the seqs of the events a text replay printed.
func seqs(out string) []string {
	var s []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		s = append(s, strings.Fields(line)[0])
	}
	return s
}

func TestPrinter(t *testing.T) {
	e := eventlog.Event{Seq: 7, Type: "RunStarted", Time: t0, Actor: "cli", ProcessID: 26, Data: json.RawMessage(`{"a":1}`)}
	none := eventlog.Event{Seq: 8, Type: "UserPasswordSet", Time: t0, Actor: "admin", Data: json.RawMessage(`{}`)}

	t.Run("Text", func(t *testing.T) {
		var buf bytes.Buffer
		p := NewPrinter(&buf, false)
		p.Print(&e)
		p.Print(&none)
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		want := "SEQ  TIME                  TYPE             ACTOR  PROCESS  DATA\n" +
			"7    2026-11-26T08:00:00Z  RunStarted       cli    26       {\"a\":1}\n" +
			"8    2026-11-26T08:00:00Z  UserPasswordSet  admin  -        {}\n"
		if buf.String() != want {
			t.Errorf("printed\n%s\nwant\n%s", buf.String(), want)
		}
	})

	t.Run("JSON", func(t *testing.T) {
		var buf bytes.Buffer
		p := NewPrinter(&buf, true)
		p.Print(&e)
		p.Flush()
		line, _ := json.Marshal(e)
		if buf.String() != string(line)+"\n" {
			t.Errorf("printed %s, want the event's JSON %s", buf.String(), line)
		}
	})
}

func TestReplay(t *testing.T) {
	l := MustLog(t, 1, 2, 3)
	for name, tc := range map[string]struct {
		f    Filter
		want string
	}{
		"All":        {Filter{}, "1 2 3 4 5 6"},
		"After":      {Filter{After: 4}, "5 6"},
		"Process":    {Filter{ProcessID: 2}, "3 4"},
		"Type":       {Filter{Type: "AlertsPaused"}, "2 4 6"},
		"SinceUntil": {Filter{Since: t0.Add(time.Second), Until: t0.Add(3 * time.Second)}, "2 3 4"},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Replay(context.Background(), l, tc.f, NewPrinter(&buf, false)); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(seqs(buf.String()), " "); got != tc.want {
				t.Errorf("replayed %q, want %q", got, tc.want)
			}
		})
	}
}

// apiEvents serves GET /api/v1/events from the events of l as the server
// does: after, process and limit applied, type ignored.
func apiEvents(t *testing.T, l *eventlog.Badger) *api.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseUint(r.FormValue("after"), 10, 64)
		pid, _ := strconv.ParseInt(r.FormValue("process"), 10, 64)
		limit, _ := strconv.Atoi(r.FormValue("limit"))
		page := api.EventsPage{}
		for e, err := range l.Range(r.Context(), after+1, 0) {
			if err != nil || len(page) == limit {
				break
			}
			if pid == 0 || e.ProcessID == pid {
				page = append(page, api.Event{Seq: e.Seq, ID: e.ID.String(), Type: e.Type, Time: e.Time,
					Actor: e.Actor, ProcessID: e.ProcessID, Key: e.Key, Data: e.Data, Hash: hex.EncodeToString(e.Hash[:])})
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(srv.Close)
	return &api.Client{BaseURL: srv.URL}
}

func TestReplayRemote(t *testing.T) {
	l := MustLog(t, 1, 2, 3)
	c := apiEvents(t, l)
	f := Filter{ProcessID: 2, Type: "AlertsPaused", Until: t0.Add(time.Hour)}

	var remote, local bytes.Buffer
	if err := ReplayRemote(context.Background(), c, f, NewPrinter(&remote, true)); err != nil {
		t.Fatal(err)
	}
	if err := Replay(context.Background(), l, f, NewPrinter(&local, true)); err != nil {
		t.Fatal(err)
	}
	if remote.String() != local.String() || strings.Count(local.String(), "\n") != 1 {
		t.Errorf("through the API:\n%s\nfrom the log:\n%s", remote.String(), local.String())
	}

	t.Run("ErrRefused", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"bad token"}`))
		}))
		defer srv.Close()
		err := ReplayRemote(context.Background(), &api.Client{BaseURL: srv.URL}, Filter{}, NewPrinter(&bytes.Buffer{}, false))
		var se *statesrv.Error
		if !errors.As(err, &se) || se.Message != "bad token" {
			t.Errorf("ReplayRemote = %v, want the server's message", err)
		}
	})
}

func TestPrintState(t *testing.T) {
	st := projections.State{
		At: t0, Seq: 9,
		Processes: []statesrv.Process{
			{ID: 26, Name: "Nightly", Schedule: "0 2 * * *", Timezone: "Europe/Prague", MaxRuntime: statesrv.Duration(2 * time.Hour), Enabled: true},
			{ID: 27, Name: "Push", Timezone: "UTC", MaxRuntime: statesrv.Duration(time.Hour)},
		},
		Runs: []statesrv.Run{{ProcessID: 26, ID: "r1", Source: "manual", StartedAt: t0, Deadline: t0.Add(2 * time.Hour)}},
		Unprocessed: []statesrv.Unprocessed{{Seq: 7, ReceivedAt: t0, ProcessID: 99, Reason: "unknown process",
			Line: "#id=99;state=OK"}},
	}
	var buf bytes.Buffer
	PrintState(&buf, st)
	want := `State at 2026-11-26T08:00:00Z (through event 9)

PROCESSES (2)
ID  NAME     SCHEDULE   ZONE           MAX RUNTIME  ENABLED
26  Nightly  0 2 * * *  Europe/Prague  2h0m0s       true
27  Push     -          UTC            1h0m0s       false

OPEN RUNS (1)
PROCESS  RUN  SOURCE  STARTED               DEADLINE
26       r1   manual  2026-11-26T08:00:00Z  2026-11-26T10:00:00Z

UNPROCESSED (1)
SEQ  RECEIVED              PROCESS  REASON           LINE
7    2026-11-26T08:00:00Z  99       unknown process  #id=99;state=OK
`
	if buf.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestVerify(t *testing.T) {
	l := MustLog(t, 1, 2)
	var buf bytes.Buffer
	if err := Verify(context.Background(), l, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "ok: 4 events, seq 1..4, hash chain intact (") {
		t.Errorf("printed %q", buf.String())
	}
}

func TestCopyBackup(t *testing.T) {
	l := MustLog(t, 1, 2, 3)
	var backup bytes.Buffer
	if _, err := eventlog.WriteBackup(context.Background(), l, &backup, t0); err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		var out bytes.Buffer
		if err := CopyBackup(&out, bytes.NewReader(backup.Bytes())); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), backup.Bytes()) {
			t.Error("the copy differs from the backup")
		}
	})

	t.Run("ErrTruncated", func(t *testing.T) {
		cut := backup.Bytes()[:backup.Len()/2]
		cut = cut[:bytes.LastIndexByte(cut, '\n')+1]
		var out bytes.Buffer
		if err := CopyBackup(&out, bytes.NewReader(cut)); err == nil {
			t.Error("a truncated backup copied without an error")
		}
		if !bytes.Equal(out.Bytes(), cut) {
			t.Error("the copy of a truncated backup is not what was received")
		}
	})
}
