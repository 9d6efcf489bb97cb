package web

import (
	"net/http"

	"github.com/statesrv/statesrv"
)

func (h *Handler) overviewRoutes() {
	h.handle("GET /{$}", h.page(h.overviewPage))
}

func (h *Handler) overviewPage(w http.ResponseWriter, r *http.Request, user string) {
	h.pageError(w, r, user, statesrv.Errorf(statesrv.EUnavail, "Overview: not built yet"))
}
