package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/statesrv/statesrv"
)

// Processes returns every definition (GET /api/v1/processes).
func (c *Client) Processes(ctx context.Context) (ProcessList, error) {
	var out ProcessList
	return out, c.Do(ctx, http.MethodGet, "/api/v1/processes", nil, &out)
}

// Process returns the definition of process id; a *statesrv.Error with
// code ENotFound when there is none.
func (c *Client) Process(ctx context.Context, id int64) (statesrv.Process, error) {
	var out statesrv.Process
	return out, c.Do(ctx, http.MethodGet, processPath(id, ""), nil, &out)
}

// PutProcess creates or replaces the definition of process p.ID and
// returns it as stored. Every field of p is sent (Enabled false disables
// the process; a zero MaxRuntime is left out and takes the default). An
// invalid definition is a *statesrv.Error with code EInvalid.
func (c *Client) PutProcess(ctx context.Context, p statesrv.Process) (statesrv.Process, error) {
	var out statesrv.Process
	return out, c.Do(ctx, http.MethodPut, processPath(p.ID, ""), p, &out)
}

// PatchProcess changes the definition of process id by the JSON merge
// patch patch (RFC 7396) and returns it as stored: the members of patch
// change, a nil value puts a field back to its default, a nested
// MergePatch under "alerts" changes only the lists it names. An unknown id
// is a *statesrv.Error with code ENotFound, a bad value or an unknown
// field one with code EInvalid.
func (c *Client) PatchProcess(ctx context.Context, id int64, patch MergePatch) (statesrv.Process, error) {
	var out statesrv.Process
	return out, c.Do(ctx, http.MethodPatch, processPath(id, ""), patch, &out)
}

// DeleteProcess deletes the definition of process id.
func (c *Client) DeleteProcess(ctx context.Context, id int64) error {
	return c.Do(ctx, http.MethodDelete, processPath(id, ""), nil, nil)
}

// StartRun opens a run of process id now and returns it.
func (c *Client) StartRun(ctx context.Context, id int64) (statesrv.Run, error) {
	var out statesrv.Run
	return out, c.Do(ctx, http.MethodPost, processPath(id, "/start"), nil, &out)
}

// Apply makes every change of req as one (POST /api/v1/apply).
func (c *Client) Apply(ctx context.Context, req ApplyRequest) (Applied, error) {
	var out Applied
	return out, c.Do(ctx, http.MethodPost, "/api/v1/apply", req, &out)
}

// ApplyDryRun asks what Apply of req would create, change and delete,
// appending nothing (POST /api/v1/apply?dry_run=true).
func (c *Client) ApplyDryRun(ctx context.Context, req ApplyRequest) (Applied, error) {
	var out Applied
	return out, c.Do(ctx, http.MethodPost, "/api/v1/apply?dry_run=true", req, &out)
}

// Runs returns the open runs.
func (c *Client) Runs(ctx context.Context) (RunList, error) {
	var out RunList
	return out, c.Do(ctx, http.MethodGet, "/api/v1/runs", nil, &out)
}

// Run returns run id, open or finished.
func (c *Client) Run(ctx context.Context, id string) (statesrv.Run, error) {
	var out statesrv.Run
	return out, c.Do(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(id), nil, &out)
}

// HistoryQuery selects a page of GET /api/v1/history; zero fields select
// nothing.
type HistoryQuery struct {
	ProcessID int64
	State     string    // OK, FAIL or TIMEOUT
	Before    time.Time // runs that finished before this
	BeforeRun string    // with Before: the last run of the previous page
	Limit     int
}

// History returns a page of finished runs, newest first.
func (c *Client) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	v := url.Values{}
	setInt(v, "process", q.ProcessID)
	setString(v, "state", q.State)
	if !q.Before.IsZero() {
		v.Set("before", q.Before.Format(time.RFC3339Nano))
	}
	setString(v, "before_run", q.BeforeRun)
	setInt(v, "limit", int64(q.Limit))
	var out HistoryPage
	return out, c.Do(ctx, http.MethodGet, withQuery("/api/v1/history", v), nil, &out)
}

// Unprocessed returns up to limit unprocessed messages after seq after
// (limit 0: the server's default).
func (c *Client) Unprocessed(ctx context.Context, after uint64, limit int) (UnprocessedPage, error) {
	v := url.Values{}
	setUint(v, "after", after)
	setInt(v, "limit", int64(limit))
	var out UnprocessedPage
	return out, c.Do(ctx, http.MethodGet, withQuery("/api/v1/unprocessed", v), nil, &out)
}

// Dismiss dismisses the unprocessed message id.
func (c *Client) Dismiss(ctx context.Context, id string) (Dismissed, error) {
	var out Dismissed
	return out, c.Do(ctx, http.MethodPost, "/api/v1/unprocessed/"+url.PathEscape(id)+"/dismiss", nil, &out)
}

// EventsQuery selects a page of GET /api/v1/events; zero fields select
// nothing.
type EventsQuery struct {
	After     uint64 // events after this seq
	ProcessID int64
	Type      string
	Limit     int
}

// Events returns a page of the log's events, oldest first. A page shorter
// than the limit may still have successors when Type is set (the server
// bounds how far one request scans).
func (c *Client) Events(ctx context.Context, q EventsQuery) (EventsPage, error) {
	v := url.Values{}
	setUint(v, "after", q.After)
	setInt(v, "process", q.ProcessID)
	setString(v, "type", q.Type)
	setInt(v, "limit", int64(q.Limit))
	var out EventsPage
	return out, c.Do(ctx, http.MethodGet, withQuery("/api/v1/events", v), nil, &out)
}

// State returns the views as they stood after event seq, or at the moment
// at when seq is 0.
func (c *Client) State(ctx context.Context, at time.Time, seq uint64) (State, error) {
	v := url.Values{}
	if seq != 0 {
		setUint(v, "seq", seq)
	} else {
		v.Set("at", at.Format(time.RFC3339Nano))
	}
	var out State
	return out, c.Do(ctx, http.MethodGet, withQuery("/api/v1/state", v), nil, &out)
}

// Rebuild drops every view on the server and rebuilds it from the log. It
// waits up to RebuildTimeout, or the client's Timeout if longer.
func (c *Client) Rebuild(ctx context.Context) (Rebuilt, error) {
	var out Rebuilt
	return out, c.do(ctx, max(c.timeout(), RebuildTimeout), http.MethodPost, "/api/v1/rebuild", nil, &out)
}

// Alerts returns up to limit alerts, newest first (limit 0: the server's
// default).
func (c *Client) Alerts(ctx context.Context, limit int) (AlertList, error) {
	v := url.Values{}
	setInt(v, "limit", int64(limit))
	var out AlertList
	return out, c.Do(ctx, http.MethodGet, withQuery("/api/v1/alerts", v), nil, &out)
}

// Backup opens the server's backup stream (GET /api/v1/backup). The answer
// must come within the client's Timeout; reading it then fails with
// ErrTimeout after IdleTimeout without a byte, and otherwise lasts as long
// as ctx allows. The caller closes it. A stream that ends without its
// trailer is incomplete: checking that is the caller's task.
func (c *Client) Backup(ctx context.Context) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	wait := c.timeout()
	watch := time.AfterFunc(wait, func() { cancel(fmt.Errorf("%w (%s)", ErrTimeout, wait)) })
	resp, err := c.send(ctx, http.MethodGet, "/api/v1/backup", nil)
	watch.Stop()
	if err != nil {
		cancel(nil)
		return nil, err
	}
	return &idleBody{body: resp.Body, ctx: ctx, cancel: cancel, idle: c.idleTimeout()}, nil
}

// idleBody is a download that ends with ErrTimeout when one read waits
// longer than idle. Time the caller spends between reads does not count.
type idleBody struct {
	body   io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	watch := time.AfterFunc(b.idle, func() { b.cancel(fmt.Errorf("%w (nothing received for %s)", ErrTimeout, b.idle)) })
	n, err := b.body.Read(p)
	watch.Stop()
	if err != nil && err != io.EOF {
		err = fmt.Errorf("GET /api/v1/backup: %w", timedOut(b.ctx, err))
	}
	return n, err
}

func (b *idleBody) Close() error {
	err := b.body.Close()
	b.cancel(nil)
	return err
}

func processPath(id int64, action string) string {
	return "/api/v1/processes/" + strconv.FormatInt(id, 10) + action
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func setInt(v url.Values, name string, n int64) {
	if n != 0 {
		v.Set(name, strconv.FormatInt(n, 10))
	}
}

func setUint(v url.Values, name string, n uint64) {
	if n != 0 {
		v.Set(name, strconv.FormatUint(n, 10))
	}
}

func setString(v url.Values, name, s string) {
	if s != "" {
		v.Set(name, s)
	}
}
