package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) stateRoutes() {
	h.handle("GET /state", h.page(h.statePage))
}

func (h *Handler) statePage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "Time travel: not built yet"))
}
