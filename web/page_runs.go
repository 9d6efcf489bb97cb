package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) runRoutes() {
	h.handle("GET /runs", h.page(h.runsPage))
}

func (h *Handler) runsPage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "Running: not built yet"))
}
