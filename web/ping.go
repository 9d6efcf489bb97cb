package web

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

// maxPingBody is how much of a ping's body is read (as msg).
const maxPingBody = 10 << 10

// ping takes a report over HTTP with the same rules and replies as TCP:
// 200 "ACK <seq>" or 400 "ERR <reason>".
func (h *Handler) ping(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, text := h.takePing(r)
	pingReply(w, status, text)
	if h.cfg.ObservePing != nil {
		result := "err"
		if status == http.StatusOK {
			result = "ack"
		}
		h.cfg.ObservePing(result, time.Since(start))
	}
}

// takePing records the ping's report and returns the reply's status and
// text once it is durable.
func (h *Handler) takePing(r *http.Request) (int, string) {
	var body string
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxPingBody+1))
		if err != nil {
			return http.StatusBadRequest, "ERR unreadable body"
		}
		if len(b) > maxPingBody {
			return http.StatusBadRequest, "ERR body too long"
		}
		body = string(b)
	}
	line := r.Method + " " + r.URL.RequestURI()
	rep, perr := commands.ParsePing(r.PathValue("id"), r.PathValue("state"), r.URL.Query(), body, line)
	rep.Transport, rep.Remote = "http", r.RemoteAddr
	var rc *commands.Receipt
	if perr != nil {
		rc = h.cfg.Service.Reject(rep, perr)
	} else {
		rc = h.cfg.Service.Report(rep)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	seq, err := rc.Wait(ctx)
	if err != nil {
		return statusOf(err), "ERR " + statesrv.ErrorMessage(err)
	}
	return http.StatusOK, "ACK " + strconv.FormatUint(seq, 10)
}

// pingHead answers a HEAD of a ping URL without taking a report: link
// checkers and proxies send HEAD to see whether a link works, and a GET
// that answers HEAD would record a report for each of them. The 200 keeps
// them from trying GET next.
func pingHead(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, POST, HEAD")
	pingReply(w, http.StatusOK, "HEAD records nothing: send GET or POST")
}

func pingReply(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}
