package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) processRoutes() {
	h.handle("GET /processes", h.page(h.processesPage))
}

func (h *Handler) processesPage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "Processes: not built yet"))
}
