package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) eventRoutes() {
	h.handle("GET /events", h.page(h.eventsPage))
}

func (h *Handler) eventsPage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "Audit log: not built yet"))
}
