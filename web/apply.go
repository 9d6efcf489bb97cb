package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/statesrv/statesrv"

	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
)

// applyDefinitions answers POST /api/v1/apply with the body
// {"define": [process, ...], "delete": [id, ...]}: every change in one
// atomic append, or none (see commands.Service.ApplyDefinitions). The
// reply names the ids created, changed and deleted, and the seq of the
// first event ("seq": 0 when nothing changed). Each definition is read as
// PUT reads one (decodeProcess), its defaults filled in the same way.
// With ?dry_run=true nothing is appended: the reply says what would be
// created, changed and deleted (a key given in clear changes nothing when
// it is the key set), with seq 0.
func (h *Handler) applyDefinitions(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Define []json.RawMessage `json:"define"`
		Delete []int64           `json:"delete"`
	}
	if err := decodeBody(r, 8*maxBody, true, &body); err != nil {
		writeError(w, err)
		return
	}
	define, err := decodeDefinitions(body.Define)
	if err != nil {
		writeError(w, err)
		return
	}
	var rc *commands.Receipt
	var done [3][]int64
	if r.URL.Query().Get("dry_run") == "true" {
		done, err = h.cfg.Service.PlanDefinitions(define, body.Delete)
	} else {
		rc, done, err = h.cfg.Service.ApplyDefinitions(define, body.Delete, apiActor(r))
	}
	if err != nil {
		writeError(w, err)
		return
	}
	var seq uint64
	if rc != nil {
		if seq, err = h.settle(r.Context(), rc); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	list := func(ids []int64) []int64 {
		if ids == nil {
			return []int64{}
		}
		return ids
	}
	writeJSON(w, http.StatusOK, api.Applied{Created: list(done[0]), Changed: list(done[1]),
		Deleted: list(done[2]), Seq: seq})
}

// decodeDefinitions decodes the definitions of an apply, each as PUT
// decodes its body. Errors name the entry: "define[2]: ...".
func decodeDefinitions(raws []json.RawMessage) ([]statesrv.Process, error) {
	define := make([]statesrv.Process, len(raws))
	for i, raw := range raws {
		var id struct {
			ID int64 `json:"id"`
		}
		json.Unmarshal(raw, &id) // a bad id is the decoding's to name
		p, err := decodeProcess(raw, id.ID)
		if err != nil {
			msg := strings.TrimPrefix(statesrv.ErrorMessage(err), "body: ")
			return nil, statesrv.Errorf(statesrv.EInvalid, "body: define[%d]: %s", i, msg)
		}
		define[i] = p
	}
	return define, nil
}
