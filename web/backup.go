package web

import (
	"net/http"
	"time"

	"github.com/statesrv/statesrv/eventlog"
)

// backup answers GET /api/v1/backup: the whole log as a backup stream (see
// eventlog.WriteBackup), read in one consistent snapshot while the server
// goes on taking reports.
func (h *Handler) backup(w http.ResponseWriter, r *http.Request) {
	// A large log takes longer than the server's write timeout.
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="statesrv-backup.jsonl"`)
	if _, err := eventlog.WriteBackup(r.Context(), h.cfg.Log, w, time.Now()); err != nil {
		// The status is sent; the missing trailer tells the client.
		h.cfg.Logger.Warn("http: backup interrupted", "error", err)
	}
}
