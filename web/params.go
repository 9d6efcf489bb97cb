package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/textfmt"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	maxBody      = 1 << 20
)

// settle waits until the decision is durable and then, for a little while,
// until the views include it, so that a client normally reads its own
// writes. A durable write is a success even if the views lag further behind
// (under heavy ingest they may): they will include it.
func (h *Handler) settle(ctx context.Context, rc *commands.Receipt) (uint64, error) {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	seq, err := rc.Wait(wctx)
	if err != nil {
		return 0, err
	}
	if seq != 0 {
		vctx, cancel := context.WithTimeout(ctx, viewsWait)
		defer cancel()
		h.cfg.Runner.WaitFor(vctx, seq)
	}
	return seq, nil
}

// settled answers a command the service took (rc) or refused (err): on
// err it writes the error; otherwise it settles rc, writing the failure if
// that fails. It reports whether the caller is left to write the reply.
func (h *Handler) settled(w http.ResponseWriter, r *http.Request, rc *commands.Receipt, err error) bool {
	if err != nil {
		writeError(w, err)
		return false
	}
	if _, err := h.settle(r.Context(), rc); err != nil {
		h.fail(w, r, err)
		return false
	}
	return true
}

// viewsWait bounds how long a write waits for the views to include it.
const viewsWait = 2 * time.Second

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, statesrv.Errorf(statesrv.EInvalid, "id: must be a positive integer")
	}
	return id, nil
}

func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, statesrv.Errorf(statesrv.EInvalid, "limit: a positive number (at most %d is used)", maxLimit)
	}
	return min(n, maxLimit), nil
}

// afterParam reads the query parameter after, the seq a page of the log
// or of the unprocessed messages starts after: 0 when absent.
func afterParam(r *http.Request) (uint64, error) {
	s := r.URL.Query().Get("after")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, statesrv.Errorf(statesrv.EInvalid, "after: a seq number")
	}
	return n, nil
}

// processParam reads the query parameter process, a process id: 0 when
// absent.
func processParam(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("process")
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, statesrv.Errorf(statesrv.EInvalid, "process: must be a positive integer")
	}
	return id, nil
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, statesrv.Errorf(statesrv.EInvalid, "%s: an RFC 3339 time, e.g. 2026-11-26T08:00:00Z", name)
	}
	return t, nil
}

// decodeBody decodes r's JSON body, of at most limit bytes, into v; strict
// refuses fields v does not have. It returns an EInvalid error naming the
// problem ("body: not valid JSON") when the body does not decode.
func decodeBody(r *http.Request, limit int64, strict bool, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return statesrv.Errorf(statesrv.EInvalid, "body: %s", jsonProblem(err))
	}
	return nil
}

// readBody reads r's body, of at most limit bytes. It returns an EInvalid
// error for a longer body or one that could not be read.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, statesrv.Errorf(statesrv.EInvalid, "body: could not be read")
	}
	if int64(len(raw)) > limit {
		return nil, statesrv.Errorf(statesrv.EInvalid, "body: larger than %d KiB", limit>>10)
	}
	return raw, nil
}

// jsonProblem turns a decoding error into a short message.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "empty"
	case errors.As(err, &se):
		return "not valid JSON"
	case errors.As(err, &te):
		msg := "field " + te.Field + ": wrong type"
		if want := jsonKind(te.Type); want != "" {
			msg += ": want " + want + ", got " + te.Value
		}
		return msg
	case strings.Contains(err.Error(), "bad duration"):
		return "max_runtime: " + err.Error()
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	return textfmt.Head(msg, 200)
}

// formTimeLayouts are the layouts a time field accepts besides RFC 3339:
// what a datetime-local input sends, taken as UTC.
var formTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"}

// parseFormTime reads a time field: RFC 3339, or the YYYY-MM-DDTHH:MM[:SS]
// of a datetime-local input (or a date alone) taken as UTC. Empty gives
// the zero time.
func parseFormTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, l := range formTimeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("a time such as 2026-11-26T08:00 (UTC) or 2026-11-26T09:00:00+01:00")
}

// pauseUntil reads the duration field of a pause form: empty pauses until
// resumed (the zero time), else a positive duration such as 4h30m counts
// from now. ok is false for anything else.
func pauseUntil(s string, now time.Time) (until time.Time, ok bool) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, false
	}
	return now.Add(d), true
}

// jsonKind names what JSON value fits a Go type ("" when it is not plain).
func jsonKind(t reflect.Type) string {
	if t == nil {
		return ""
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return ""
}
