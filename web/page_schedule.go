package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) scheduleRoutes() {
	h.handle("GET /schedule", h.page(h.schedulePage))
}

func (h *Handler) schedulePage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "Schedule: not built yet"))
}
