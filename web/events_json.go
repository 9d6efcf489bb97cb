package web

import (
	"encoding/hex"
	"encoding/json"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/eventlog"
)

// eventsPage puts events of the log in the API's shape; it encodes as
// eventlog.Event's own JSON does, with the data redacted
// (statesrv.RedactEvent): no key, key hash or password hash leaves the
// server.
func eventsPage(evs []eventlog.Event) api.EventsPage {
	out := make(api.EventsPage, len(evs))
	for i := range evs {
		out[i] = apiEvent(&evs[i])
	}
	return out
}

func apiEvent(e *eventlog.Event) api.Event {
	data := json.RawMessage(statesrv.RedactEvent(e.Type, e.Time, e.Data))
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return api.Event{Seq: e.Seq, ID: e.ID.String(), Type: e.Type, Time: e.Time.UTC(), Actor: e.Actor,
		ProcessID: e.ProcessID, Key: e.Key, Data: data, Hash: hex.EncodeToString(e.Hash[:])}
}
