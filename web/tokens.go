package web

import (
	"net/http"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/api"
	"github.com/statesrv/statesrv/commands"
)

// visibleTokens are the tokens caller c may see and revoke: every token for
// an admin, its own for anyone else.
func (h *Handler) visibleTokens(c commands.Caller) []statesrv.APIToken {
	var out []statesrv.APIToken
	for _, t := range h.cfg.Service.Tokens() {
		if c.Role == statesrv.RoleAdmin || t.User == c.User {
			out = append(out, t)
		}
	}
	return out
}

// listTokens answers GET /api/v1/tokens: the tokens the caller may see,
// oldest first, with when each was last used since the server started.
func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) {
	out := api.TokenList{}
	for _, t := range h.visibleTokens(callerOf(r)) {
		v := api.Token{Name: t.Name, Role: t.Role, User: t.User, CreatedAt: t.CreatedAt.UTC()}
		if at := h.cfg.Service.TokenLastUsed(t.ID); !at.IsZero() {
			at = at.UTC()
			v.LastUsedAt = &at
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// postToken answers POST /api/v1/tokens with {"name","role"}: 201 with the
// secret, this once. The token acts for the caller's user, with a role at
// most the caller's (else 403).
func (h *Handler) postToken(w http.ResponseWriter, r *http.Request) {
	var body api.TokenRequest
	if err := decodeBody(r, 16<<10, true, &body); err != nil {
		writeError(w, err)
		return
	}
	c := callerOf(r)
	secret, rc, err := h.cfg.Service.CreateToken(c, body.Name, body.Role)
	if !h.settled(w, r, rc, err) {
		return
	}
	t, _ := h.tokenNamed(c, strings.TrimSpace(body.Name))
	writeJSON(w, http.StatusCreated, api.NewToken{Name: t.Name, Role: t.Role, Token: secret})
}

// deleteToken answers DELETE /api/v1/tokens/{name} with 204. Another
// user's token is, for a caller that is not admin, as unknown as a token
// that never was.
func (h *Handler) deleteToken(w http.ResponseWriter, r *http.Request) {
	t, err := h.tokenNamed(callerOf(r), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	rc, err := h.cfg.Service.RevokeToken(t.ID, apiActor(r))
	if !h.settled(w, r, rc, err) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// tokenNamed finds the token name among those c may see. The error is
// ENotFound when there is none and EConflict when several tokens of an
// older version share the name (the account page revokes them one by one).
func (h *Handler) tokenNamed(c commands.Caller, name string) (statesrv.APIToken, error) {
	var found []statesrv.APIToken
	for _, t := range h.visibleTokens(c) {
		if t.Name == name {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return statesrv.APIToken{}, statesrv.Errorf(statesrv.ENotFound, "token %q not found", name)
	case 1:
		return found[0], nil
	}
	return statesrv.APIToken{}, statesrv.Errorf(statesrv.EConflict,
		"%d tokens are named %q: revoke them on the account page", len(found), name)
}
