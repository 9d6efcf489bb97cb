package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
)

// mergePatchType is the media type of a JSON merge patch (RFC 7396).
const mergePatchType = "application/merge-patch+json"

// patchProcess answers PATCH /api/v1/processes/{id} with a JSON merge
// patch (RFC 7396) of the process's JSON: the members it names change,
// null puts a field back to its default (for the key: none; a patch that
// leaves the key out keeps it), "alerts" merges list by list and
// a list is replaced whole. The result is checked as a PUT of it would be;
// a patch that changes nothing appends nothing. The reply is the stored
// definition. The body is application/merge-patch+json; application/json,
// or no Content-Type, is taken as the same, and any other type is 415.
func (h *Handler) patchProcess(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != mergePatchType && mt != "application/json" {
			w.Header().Set("Accept-Patch", mergePatchType)
			writeJSON(w, http.StatusUnsupportedMediaType, api.ErrorBody{
				Error: "send the patch as Content-Type: " + mergePatchType + " (or application/json)"})
			return
		}
	}
	cur, ok := h.cfg.Service.Process(id)
	if !ok {
		writeError(w, statesrv.Errorf(statesrv.ENotFound, "process %d not found", id))
		return
	}
	raw, err := readBody(r, maxBody)
	if err != nil {
		writeError(w, err)
		return
	}
	merged, err := patched(cur.Process.Redacted(), raw)
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := decodeProcess(merged, id)
	if err != nil {
		writeError(w, err)
		return
	}
	h.define(w, r, p, http.StatusOK)
}

// patched applies the merge patch raw to the JSON of p and returns the
// JSON of the result. It returns an EInvalid error for a patch that is not
// a JSON object or names a field a process does not have.
func patched(p statesrv.Process, raw []byte) ([]byte, error) {
	var patch map[string]any
	err := decodeNumbers(raw, &patch)
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) || err == nil && patch == nil:
		return nil, statesrv.Errorf(statesrv.EInvalid, "body: a JSON object (a merge patch of the process)")
	case err != nil:
		return nil, statesrv.Errorf(statesrv.EInvalid, "body: %s", jsonProblem(err))
	}
	if err := checkPatchFields(patch, ""); err != nil {
		return nil, err
	}
	// The key is not in the process's JSON (only key_set is): left out it
	// stays as it is, and null puts it back to its default, no key.
	if v, ok := patch["key"]; ok && v == nil {
		patch["key"] = ""
	}
	cur, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var target any
	if err := decodeNumbers(cur, &target); err != nil {
		return nil, err
	}
	return json.Marshal(mergePatch(target, patch))
}

// decodeNumbers decodes the JSON value raw into v, numbers as
// json.Number so that they are written back as they were.
func decodeNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
