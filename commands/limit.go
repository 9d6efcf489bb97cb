package commands

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/eventlog"
)

// DefaultUnprocessedRate is how many refused and unprocessed lines of one
// address are stored a minute; the rest are answered but only counted.
const DefaultUnprocessedRate = 600

// MaxKeptLine is how much of the line of an unprocessed report is stored.
const MaxKeptLine = 1024

// maxKeptField bounds the parsed fields an unprocessed report keeps beside
// its line (name, run, mid).
const maxKeptField = 256

// rateWindow is the span the per-address rate counts over.
const rateWindow = time.Minute

// limiter counts, per remote address, the refused and unprocessed lines of
// the current minute (SPEC §10). It is guarded by Service.mu.
type limiter struct {
	rate    int
	sources map[string]*source
	// order holds the start of every window in the order they began, so
	// that windows that ended are forgotten without a scan.
	order []windowStart
	// due holds, by the end of their window, the addresses with dropped
	// lines to record.
	due deadlineHeap
}

type source struct {
	start time.Time
	n     int
	actor string
	drop  *statesrv.MessagesDroppedData
}

type windowStart struct {
	ip    string
	start time.Time
}

func newLimiter(rate int) *limiter {
	if rate <= 0 {
		rate = DefaultUnprocessedRate
	}
	return &limiter{rate: rate, sources: map[string]*source{}}
}

// hostOf is the address of "ip:port" (or "[ip]:port").
func hostOf(remote string) string {
	if i := strings.LastIndexByte(remote, ':'); i >= 0 && !strings.Contains(remote[i:], "]") {
		return strings.Trim(remote[:i], "[]")
	}
	return strings.Trim(remote, "[]")
}

// admit counts a refused or unprocessed line of rep with reason, decided
// at d.at, and reports whether it is stored. A line past the rate is
// counted in its address's MessagesDropped instead.
func (s *Service) admit(d *decision, rep Report, reason string) bool {
	l, at := s.limits, d.at
	l.forget(at)
	ip := hostOf(rep.Remote)
	src := l.sources[ip]
	if src == nil || !at.Before(src.start.Add(rateWindow)) {
		if src != nil && src.drop != nil {
			// Its window ended before the clock loop recorded it.
			f := s.decide(src.actor)
			s.flushDrop(f, ip, src)
			f.submit("")
		}
		src = &source{start: at, actor: d.actor}
		l.sources[ip] = src
		l.order = append(l.order, windowStart{ip, at})
	}
	if src.n++; src.n <= l.rate {
		return true
	}
	line := cutBytes(rep.Line, statesrv.MaxDroppedLine)
	if src.drop == nil {
		src.drop = &statesrv.MessagesDroppedData{Remote: ip, Reasons: map[string]int{}, FirstAt: at, First: line}
		end := src.start.Add(rateWindow)
		l.due.push(end, ip)
		if s.sleepUntil.IsZero() || end.Before(s.sleepUntil) {
			s.signal()
		}
	}
	src.drop.Count++
	src.drop.Reasons[reason]++
	src.drop.LastAt, src.drop.Last = at, line
	return false
}

// forget removes the addresses whose window ended with nothing dropped.
func (l *limiter) forget(now time.Time) {
	i := 0
	for ; i < len(l.order) && !now.Before(l.order[i].start.Add(rateWindow)); i++ {
		w := l.order[i]
		if src := l.sources[w.ip]; src != nil && src.start.Equal(w.start) && src.drop == nil {
			delete(l.sources, w.ip)
		}
	}
	if i > 0 {
		l.order = l.order[i:]
	}
}

// dropsDue adds to d a MessagesDropped for every address whose window
// ended with lines dropped.
func (s *Service) dropsDue(d *decision) {
	for _, ip := range due[string](d, &s.limits.due) {
		if src := s.limits.sources[ip]; src != nil && src.drop != nil {
			s.flushDrop(d, ip, src)
		}
	}
}

// flushDrop adds src's MessagesDropped to d, with the address's actor, and
// forgets the window.
func (s *Service) flushDrop(d *decision, ip string, src *source) {
	raw, err := statesrv.EncodePayload(statesrv.EventMessagesDropped, d.at, src.drop)
	if err != nil && d.err == nil {
		d.err = err
	}
	d.recs = append(d.recs, eventlog.Record{Type: statesrv.EventMessagesDropped, Time: d.at, Actor: src.actor, Data: raw})
	src.drop = nil
	s.limits.due.remove(ip)
	if !d.at.Before(src.start.Add(rateWindow)) {
		delete(s.limits.sources, ip)
	}
}

// dropped is the receipt of a line that was counted, not stored: a refusal
// answers with err, an unprocessed report with the seq of the log's last
// event (nothing of it is stored).
func (s *Service) dropped(err error) *Receipt {
	if err != nil {
		return &Receipt{p: resolvedEmpty(), refused: err}
	}
	return &Receipt{p: eventlog.Resolved([]eventlog.Event{{Seq: s.log.LastSeq()}}, false, nil)}
}

// keptOnce returns what an unprocessed report's MessageReceived stores: the
// line once, cut to MaxKeptLine bytes, and of the parsed fields only the
// short ones (the message and the other keys are in the line).
func keptOnce(m statesrv.MessageReceivedData) statesrv.MessageReceivedData {
	m.Line = cutBytes(m.Line, MaxKeptLine)
	m.Msg, m.Extra = "", nil
	m.Name = cutBytes(m.Name, maxKeptField)
	m.Run = cutBytes(m.Run, maxKeptField)
	m.MID = cutBytes(m.MID, maxKeptField)
	return m
}

// cutBytes cuts s to at most n bytes, on a rune boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
