package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/eventlog"
)

// testToken is the API token every test server accepts.
const testToken = "test-token"

// t0 is where the fake clock of every test server starts: five seconds
// before a fire time of "*/10 * * * * *" and 55 seconds before one of
// "0 * * * * *".
var t0 = time.Date(2026, 3, 2, 8, 0, 5, 0, time.UTC)

// Bounds of the polling helpers.
const (
	waitFor  = 10 * time.Second
	pollStep = 5 * time.Millisecond
	ioWait   = 10 * time.Second
)

// testServer is a running Main on 127.0.0.1:0 over a temp directory and a
// fake clock, with the means to reopen it on the same directory.
type testServer struct {
	*Main
	tb  testing.TB
	dir string
	clk *clock.Fake
	// configure, when set, changes the configuration before each open.
	configure func(*Config)
}

// MustOpenServer starts a server on a fresh directory with its clock at t0
// and closes it when the test ends.
func MustOpenServer(tb testing.TB) *testServer {
	tb.Helper()
	s := &testServer{tb: tb, dir: tb.TempDir(), clk: clock.NewFake(t0)}
	s.MustOpen()
	tb.Cleanup(func() {
		if s.Main != nil {
			s.Main.Close()
		}
	})
	return s
}

// withTB returns a copy of s that reports failures to tb (a subtest).
func withTB(s *testServer, tb testing.TB) *testServer {
	cp := *s
	cp.tb = tb
	return &cp
}

// MustOpen opens the server on its directory and clock.
func (s *testServer) MustOpen() {
	s.tb.Helper()
	cfg := Config{
		Data: s.dir, TCP: "127.0.0.1:0", HTTP: "127.0.0.1:0",
		AdminPassword: "admin-pw", APIToken: testToken,
		Clock: s.clk, Stdout: io.Discard,
	}
	if s.configure != nil {
		s.configure(&cfg)
	}
	m, err := Open(context.Background(), cfg)
	if err != nil {
		s.tb.Fatalf("open: %v", err)
	}
	s.Main = m
}

// MustClose stops the server.
func (s *testServer) MustClose() {
	s.tb.Helper()
	m := s.Main
	s.Main = nil
	if err := m.Close(); err != nil {
		s.tb.Fatalf("close: %v", err)
	}
}

// MustRestart closes the server and opens it again on the same directory
// and clock; between the two, during(s) may move the clock.
func (s *testServer) MustRestart(during func()) {
	s.tb.Helper()
	s.MustClose()
	if during != nil {
		during()
	}
	s.MustOpen()
}

// checkFor calls fn every poll until it returns nil, and fails the test
// with fn's last error if that has not happened within wait.
func checkFor(tb testing.TB, wait, poll time.Duration, fn func() error) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %v", wait, err)
		}
		time.Sleep(poll)
	}
}

// eventually is checkFor with the default bounds.
func eventually(tb testing.TB, fn func() error) {
	tb.Helper()
	checkFor(tb, waitFor, pollStep, fn)
}

// --- HTTP ---

// do sends a request to the server's HTTP side. Header pairs are given as
// "Name", "value"; an API token is sent unless an Authorization header is
// among them. A nil body sends none; a string or []byte is sent as is;
// anything else as JSON.
func (s *testServer) do(method, path string, body any, header ...string) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.HTTPAddr+path, rd)
	if err != nil {
		return 0, nil, err
	}
	auth := true
	for i := 0; i+1 < len(header); i += 2 {
		if http.CanonicalHeaderKey(header[i]) == "Authorization" {
			auth = false
		}
		req.Header.Set(header[i], header[i+1])
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+testToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// MustDo is do that fails the test on a transport error.
func (s *testServer) MustDo(method, path string, body any, header ...string) (int, []byte) {
	s.tb.Helper()
	status, raw, err := s.do(method, path, body, header...)
	if err != nil {
		s.tb.Fatalf("%s %s: %v", method, path, err)
	}
	return status, raw
}

// MustCall sends a request, checks the status and decodes the JSON reply
// into out (unless out is nil).
func (s *testServer) MustCall(method, path string, body any, want int, out any) {
	s.tb.Helper()
	status, raw := s.MustDo(method, path, body)
	if status != want {
		s.tb.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.tb.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// getJSON reads a JSON reply with status 200 into out, without failing the
// test (for polling).
func (s *testServer) getJSON(path string, out any) error {
	status, raw, err := s.do("GET", path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", path, status, raw)
	}
	return json.Unmarshal(raw, out)
}

// MustGet reads a JSON reply with status 200 into out.
func (s *testServer) MustGet(path string, out any) {
	s.tb.Helper()
	if err := s.getJSON(path, out); err != nil {
		s.tb.Fatal(err)
	}
}

// MustDefine creates or replaces a process definition.
func (s *testServer) MustDefine(p statesrv.Process) statesrv.Process {
	s.tb.Helper()
	status, raw := s.MustDo("PUT", "/api/v1/processes/"+strconv.FormatInt(p.ID, 10), p)
	if status != http.StatusCreated && status != http.StatusOK {
		s.tb.Fatalf("define %d: status %d: %s", p.ID, status, raw)
	}
	var out statesrv.Process
	if err := json.Unmarshal(raw, &out); err != nil {
		s.tb.Fatalf("define %d: %v", p.ID, err)
	}
	return out
}

// apiEvent is an event as the API shows it, read by the log's own JSON
// decoding (which also checks the id and the hash are well formed).
type apiEvent struct {
	eventlog.Event
}

// field returns a string field of the event's data ("" when absent).
func (e apiEvent) field(name string) string {
	var m map[string]any
	json.Unmarshal(e.Data, &m)
	switch v := m[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// events returns the events the query selects, e.g. "type=RunStarted&process=3".
func (s *testServer) events(query string) ([]apiEvent, error) {
	if !strings.Contains(query, "limit=") {
		query += "&limit=1000"
	}
	var evs []apiEvent
	err := s.getJSON("/api/v1/events?"+query, &evs)
	return evs, err
}

// MustEvents is events that fails the test on error.
func (s *testServer) MustEvents(query string) []apiEvent {
	s.tb.Helper()
	evs, err := s.events(query)
	if err != nil {
		s.tb.Fatal(err)
	}
	return evs
}

// MustEvent returns the event with seq.
func (s *testServer) MustEvent(seq uint64) apiEvent {
	s.tb.Helper()
	evs := s.MustEvents("after=" + strconv.FormatUint(seq-1, 10) + "&limit=1")
	if len(evs) != 1 || evs[0].Seq != seq {
		s.tb.Fatalf("event %d: got %+v", seq, evs)
	}
	return evs[0]
}

// eventsOf returns the events of type typ whose data names run_id (or
// message_id) id.
func (s *testServer) eventsOf(typ, key, id string) ([]apiEvent, error) {
	evs, err := s.events("type=" + url.QueryEscape(typ))
	if err != nil {
		return nil, err
	}
	var out []apiEvent
	for _, e := range evs {
		if e.field(key) == id {
			out = append(out, e)
		}
	}
	return out, nil
}

// unprocessed returns the unprocessed message whose line is line.
func (s *testServer) unprocessed(line string) (statesrv.Unprocessed, error) {
	var list []statesrv.Unprocessed
	if err := s.getJSON("/api/v1/unprocessed?limit=1000", &list); err != nil {
		return statesrv.Unprocessed{}, err
	}
	for _, u := range list {
		if u.Line == line {
			return u, nil
		}
	}
	return statesrv.Unprocessed{}, fmt.Errorf("no unprocessed message %q among %d", line, len(list))
}

// MustUnprocessed waits until the message with line is unprocessed and
// returns it.
func (s *testServer) MustUnprocessed(line string) statesrv.Unprocessed {
	s.tb.Helper()
	var u statesrv.Unprocessed
	eventually(s.tb, func() error {
		var err error
		u, err = s.unprocessed(line)
		return err
	})
	return u
}

// openRuns returns the open runs of process pid.
func (s *testServer) openRuns(pid int64) ([]statesrv.Run, error) {
	var all []statesrv.Run
	if err := s.getJSON("/api/v1/runs", &all); err != nil {
		return nil, err
	}
	var out []statesrv.Run
	for _, r := range all {
		if r.ProcessID == pid {
			out = append(out, r)
		}
	}
	return out, nil
}

// MustOpenRuns waits until process pid has n open runs and returns them,
// oldest first.
func (s *testServer) MustOpenRuns(pid int64, n int) []statesrv.Run {
	s.tb.Helper()
	var runs []statesrv.Run
	eventually(s.tb, func() error {
		var err error
		if runs, err = s.openRuns(pid); err != nil {
			return err
		}
		if len(runs) != n {
			return fmt.Errorf("process %d: %d open runs, want %d: %+v", pid, len(runs), n, runs)
		}
		return nil
	})
	return runs
}

// history returns the finished runs of process pid, newest first.
func (s *testServer) history(pid int64) ([]statesrv.Run, error) {
	var runs []statesrv.Run
	err := s.getJSON("/api/v1/history?process="+strconv.FormatInt(pid, 10), &runs)
	return runs, err
}

// MustFinished waits until run id is in history and returns it.
func (s *testServer) MustFinished(pid int64, id string) statesrv.Run {
	s.tb.Helper()
	var run statesrv.Run
	eventually(s.tb, func() error {
		runs, err := s.history(pid)
		if err != nil {
			return err
		}
		for _, r := range runs {
			if r.ID == id {
				run = r
				return nil
			}
		}
		return fmt.Errorf("run %s not in the history of process %d (%d runs)", id, pid, len(runs))
	})
	return run
}

// --- TCP ---

// tcpClient is one connection to the report port.
type tcpClient struct {
	tb   testing.TB
	conn net.Conn
	rd   *bufio.Reader
}

// MustDial connects to the report port; the connection is closed when the
// test ends.
func (s *testServer) MustDial() *tcpClient {
	s.tb.Helper()
	conn, err := net.DialTimeout("tcp", s.TCPAddr, ioWait)
	if err != nil {
		s.tb.Fatalf("dial: %v", err)
	}
	s.tb.Cleanup(func() { conn.Close() })
	return &tcpClient{tb: s.tb, conn: conn, rd: bufio.NewReader(conn)}
}

// MustWrite writes raw bytes.
func (c *tcpClient) MustWrite(raw string) {
	c.tb.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(ioWait))
	if _, err := io.WriteString(c.conn, raw); err != nil {
		c.tb.Fatalf("write: %v", err)
	}
}

// MustReply reads one reply line (without its LF).
func (c *tcpClient) MustReply() string {
	c.tb.Helper()
	c.conn.SetReadDeadline(time.Now().Add(ioWait))
	line, err := c.rd.ReadString('\n')
	if err != nil {
		c.tb.Fatalf("read reply: %v (got %q)", err, line)
	}
	return strings.TrimSuffix(line, "\n")
}

// MustSend writes line with an LF and returns the reply.
func (c *tcpClient) MustSend(line string) string {
	c.tb.Helper()
	c.MustWrite(line + "\n")
	return c.MustReply()
}

// MustAck sends line and returns the seq of its ACK.
func (c *tcpClient) MustAck(line string) uint64 {
	c.tb.Helper()
	return MustAckSeq(c.tb, c.MustSend(line))
}

// MustAckSeq returns the seq of an "ACK <seq>" reply.
func MustAckSeq(tb testing.TB, reply string) uint64 {
	tb.Helper()
	s, ok := strings.CutPrefix(strings.TrimSpace(reply), "ACK ")
	if !ok {
		tb.Fatalf("reply %q, want ACK <seq>", reply)
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil || seq == 0 {
		tb.Fatalf("reply %q: bad seq", reply)
	}
	return seq
}

// MustReport sends one line on a new connection and returns the reply.
func (s *testServer) MustReport(line string) string {
	s.tb.Helper()
	c := s.MustDial()
	defer c.conn.Close()
	return c.MustSend(line)
}

// MustReportAck sends one line on a new connection and returns the seq of
// its ACK.
func (s *testServer) MustReportAck(line string) uint64 {
	s.tb.Helper()
	return MustAckSeq(s.tb, s.MustReport(line))
}

// --- clock ---

// at returns t0 moved by d, for comparing times.
func at(d time.Duration) time.Time { return t0.Add(d) }

// MustAdvance moves the fake clock by d.
func (s *testServer) MustAdvance(d time.Duration) { s.clk.Advance(d) }

// sameTime fails unless got and want are the same instant.
func sameTime(tb testing.TB, what string, got, want time.Time) {
	tb.Helper()
	if !got.Equal(want) {
		tb.Errorf("%s = %v, want %v", what, got, want)
	}
}
