package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/google/uuid"

	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/eventlog"
)

// apiClient returns a client of the JSON API of the server at base that
// sends STATESRV_API_TOKEN as its bearer token.
func apiClient(base string) *api.Client {
	return &api.Client{BaseURL: base, Token: os.Getenv("STATESRV_API_TOKEN")}
}

// remoteEvents reads one page of up to limit events after seq after (of
// process pid, unless 0) from the server, as events of the log.
func remoteEvents(ctx context.Context, c *api.Client, after uint64, pid int64, limit int) ([]eventlog.Event, error) {
	page, err := c.Events(ctx, api.EventsQuery{After: after, ProcessID: pid, Limit: limit})
	if err != nil {
		return nil, err
	}
	evs := make([]eventlog.Event, len(page))
	for i, a := range page {
		if evs[i], err = logEvent(a); err != nil {
			return nil, fmt.Errorf("GET /api/v1/events: event %d: %w", a.Seq, err)
		}
	}
	return evs, nil
}

// logEvent reads an event of the API's shape as the log's event.
func logEvent(a api.Event) (eventlog.Event, error) {
	id, err := uuid.Parse(a.ID)
	if err != nil {
		return eventlog.Event{}, fmt.Errorf("id: %w", err)
	}
	h, err := hex.DecodeString(a.Hash)
	if err != nil || len(h) != 32 {
		return eventlog.Event{}, fmt.Errorf("hash: not 32 bytes of hex")
	}
	e := eventlog.Event{Seq: a.Seq, ID: id, Type: a.Type, Time: a.Time, Actor: a.Actor,
		ProcessID: a.ProcessID, Key: a.Key, Data: a.Data}
	copy(e.Hash[:], h)
	return e, nil
}
