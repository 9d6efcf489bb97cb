package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) historyRoutes() {
	h.handle("GET /history", h.page(h.historyPage))
}

func (h *Handler) historyPage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "History: not built yet"))
}
