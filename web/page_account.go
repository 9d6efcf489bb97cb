package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) accountRoutes() {
	h.handle("GET /account", h.page(h.accountPage))
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "Account: not built yet"))
}
