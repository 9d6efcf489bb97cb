package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) unprocessedRoutes() {
	h.handle("GET /unprocessed", h.page(h.unprocessedPage))
}

func (h *Handler) unprocessedPage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "Unprocessed: not built yet"))
}
