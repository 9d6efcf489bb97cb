package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
)

// listUsers answers GET /api/v1/users: every user and its role, by name.
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	out := api.UserList{}
	for _, u := range h.cfg.Service.Users() {
		out = append(out, apiUser(u))
	}
	writeJSON(w, http.StatusOK, out)
}

// getUser answers GET /api/v1/users/{name}: the user and its role, or 404.
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, ok := h.cfg.Service.User(r.PathValue("name"))
	if !ok {
		writeError(w, statesrv.Errorf(statesrv.ENotFound, "no user %q", r.PathValue("name")))
		return
	}
	writeJSON(w, http.StatusOK, apiUser(u))
}

// putUser answers PUT /api/v1/users/{name} with {"role","password"}: 201
// with the user when it was created, 200 when changed.
func (h *Handler) putUser(w http.ResponseWriter, r *http.Request) {
	var body api.UserRequest
	if err := decodeBody(r, 16<<10, true, &body); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	if !h.hashes.acquire(r.Context(), hashWait) {
		w.Header().Set("Retry-After", "1")
		writeError(w, statesrv.Errorf(statesrv.EUnavail, "too many password hashes at once; try again in a second"))
		return
	}
	created, rc, err := h.cfg.Service.DefineUser(name, body.Role, body.Password, apiActor(r))
	h.hashes.release()
	if !h.settled(w, r, rc, err) {
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	u, _ := h.cfg.Service.User(name)
	writeJSON(w, status, apiUser(u))
}

// deleteUser answers DELETE /api/v1/users/{name} with 204; the last admin
// gets 409.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	rc, err := h.cfg.Service.DeleteUser(r.PathValue("name"), apiActor(r))
	if !h.settled(w, r, rc, err) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func apiUser(u statesrv.User) api.User {
	return api.User{Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt.UTC()}
}
