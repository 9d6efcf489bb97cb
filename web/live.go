package web

import (
	"fmt"
	"net/http"
	"time"
)

// Live updates: GET /live is a server-sent event stream that says "seq"
// with the views' seq whenever the views advance, at most every
// liveInterval, and a comment every liveHeartbeat so that proxies keep the
// connection. Pages marked live fetch themselves again on each event.
const (
	liveInterval  = 500 * time.Millisecond
	liveHeartbeat = 25 * time.Second
	maxLive       = 200
)

func (h *Handler) live(w http.ResponseWriter, r *http.Request, user string) {
	if h.liveStreams.Add(1) > maxLive {
		h.liveStreams.Add(-1)
		http.Error(w, "503 too many live connections", http.StatusServiceUnavailable)
		return
	}
	defer h.liveStreams.Add(-1)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	send := func(format string, a ...any) bool {
		// The server's write timeout would end the stream: extend it per write.
		rc.SetWriteDeadline(time.Now().Add(liveHeartbeat + 10*time.Second))
		if _, err := fmt.Fprintf(w, format, a...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	runner := h.cfg.Runner
	seq := runner.Seq()
	if !send("retry: 3000\nevent: seq\ndata: %d\n\n", seq) {
		return
	}
	heartbeat := time.NewTicker(liveHeartbeat)
	defer heartbeat.Stop()
	for {
		applied := runner.Applied()
		if s := runner.Seq(); s != seq {
			seq = s
			if !send("event: seq\ndata: %d\n\n", seq) {
				return
			}
			select {
			case <-time.After(liveInterval):
			case <-r.Context().Done():
				return
			}
			continue
		}
		select {
		case <-applied:
		case <-heartbeat.C:
			if !send(": keep-alive\n\n") {
				return
			}
		case <-r.Context().Done():
			return
		}
		// A session that ended (logout, timeout) ends its stream too.
		if _, ok := h.currentSession(r); !ok {
			return
		}
	}
}
