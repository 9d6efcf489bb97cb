package commands

import (
	"net"
	"net/mail"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"github.com/statesrv/statesrv/projections"
)

// DefaultMaxRuntime is the longest run of a process defined without one.
const DefaultMaxRuntime = time.Hour

// Limits of a definition's fields.
const (
	maxNameLen        = 200
	maxDescriptionLen = 2000
	maxRecipients     = 50
	maxAlertAfter     = 1000
	maxWindows        = 20
)

// NormalizeProcess fills defaults into p and validates it. Errors are
// *statesrv.Error with code EInvalid, naming the field.
func NormalizeProcess(p *statesrv.Process) error {
	p.Name = strings.TrimSpace(p.Name)
	p.Schedule = strings.TrimSpace(p.Schedule)
	p.Timezone = strings.TrimSpace(p.Timezone)
	if p.Timezone == "" {
		p.Timezone = "UTC"
	}
	if p.MaxRuntime == 0 {
		p.MaxRuntime = statesrv.Duration(DefaultMaxRuntime)
	}
	switch {
	case p.ID <= 0:
		return statesrv.Errorf(statesrv.EInvalid, "id: must be a positive integer")
	case p.Name == "":
		return statesrv.Errorf(statesrv.EInvalid, "name: required")
	case utf8.RuneCountInString(p.Name) > maxNameLen || strings.ContainsAny(p.Name, ";\r\n"):
		return statesrv.Errorf(statesrv.EInvalid, "name: at most %d characters, no ';' or line breaks", maxNameLen)
	case utf8.RuneCountInString(p.Description) > maxDescriptionLen:
		return statesrv.Errorf(statesrv.EInvalid, "description: at most %d characters", maxDescriptionLen)
	case p.MaxRuntime < 0:
		return statesrv.Errorf(statesrv.EInvalid, "max_runtime: must be positive")
	case time.Duration(p.MaxRuntime) < time.Second:
		return statesrv.Errorf(statesrv.EInvalid, "max_runtime: at least 1s")
	case p.Key != nil && strings.ContainsAny(*p.Key, ";\r\n"):
		return statesrv.Errorf(statesrv.EInvalid, "key: no ';' or line breaks")
	}
	if _, err := time.LoadLocation(p.Timezone); err != nil {
		return statesrv.Errorf(statesrv.EInvalid, "timezone: unknown time zone %q", p.Timezone)
	}
	if p.Schedule != "" {
		if err := schedule.Validate(p.Schedule, p.Timezone); err != nil {
			return statesrv.Errorf(statesrv.EInvalid, "schedule: %s", statesrv.ErrorMessage(err))
		}
	}
	if p.FiredBy == "server" {
		p.FiredBy = ""
	}
	if p.FiredBy != "" && p.FiredBy != statesrv.FiredByCron {
		return statesrv.Errorf(statesrv.EInvalid, `fired_by: "server" (the default) or "cron"`)
	}
	if p.AlertAfter < 0 || p.AlertAfter > maxAlertAfter {
		return statesrv.Errorf(statesrv.EInvalid, "alert_after: a number from 0 to %d", maxAlertAfter)
	}
	if d := time.Duration(p.RepeatEvery); d != 0 && (d < time.Minute || d > 31*24*time.Hour) {
		return statesrv.Errorf(statesrv.EInvalid, "repeat_every: from 1m to 744h, or 0 (off)")
	}
	if err := normalizeRunBounds(p); err != nil {
		return err
	}
	if len(p.Maintenance) == 0 {
		p.Maintenance = nil
	}
	if len(p.Maintenance) > maxWindows {
		return statesrv.Errorf(statesrv.EInvalid, "maintenance: at most %d windows", maxWindows)
	}
	for i := range p.Maintenance {
		w := &p.Maintenance[i]
		w.Schedule = strings.TrimSpace(w.Schedule)
		if err := schedule.Validate(w.Schedule, p.Timezone); err != nil {
			return statesrv.Errorf(statesrv.EInvalid, "maintenance[%d].schedule: %s", i, statesrv.ErrorMessage(err))
		}
		if d := time.Duration(w.Duration); d < time.Minute || d > 31*24*time.Hour {
			return statesrv.Errorf(statesrv.EInvalid, "maintenance[%d].duration: from 1m to 744h", i)
		}
	}
	if err := normalizeTags(&p.Tags); err != nil {
		return err
	}
	for i := range statesrv.ProcessFields {
		if f := &statesrv.ProcessFields[i]; f.Kind == statesrv.KindRecipients {
			if err := normalizeRecipients(f.Name, f.Strings(p)); err != nil {
				return err
			}
		}
	}
	return nil
}

// normalizeRunBounds checks start_grace and min_runtime against the
// max_runtime: a grace past the deadline could never be missed, and a run
// could not both last min_runtime and finish before its deadline.
func normalizeRunBounds(p *statesrv.Process) error {
	maxRun := time.Duration(p.MaxRuntime)
	switch g := time.Duration(p.StartGrace); {
	case g < 0:
		return statesrv.Errorf(statesrv.EInvalid, "start_grace: must be positive, or 0 (off)")
	case g > maxRun:
		return statesrv.Errorf(statesrv.EInvalid, "start_grace: at most the max_runtime (%s), got %s",
			p.MaxRuntime.Text(), p.StartGrace.Text())
	}
	switch m := time.Duration(p.MinRuntime); {
	case m < 0:
		return statesrv.Errorf(statesrv.EInvalid, "min_runtime: must be positive, or 0 (off)")
	case m >= maxRun:
		return statesrv.Errorf(statesrv.EInvalid, "min_runtime: less than the max_runtime (%s), got %s",
			p.MaxRuntime.Text(), p.MinRuntime.Text())
	}
	return nil
}

// normalizeRecipients trims the recipients of the list field name, makes a
// nil list empty and validates each. It returns an EInvalid error naming
// the field.
func normalizeRecipients(name string, list *[]string) error {
	if *list == nil {
		*list = []string{}
	}
	if len(*list) > maxRecipients {
		return statesrv.Errorf(statesrv.EInvalid, "%s: at most %d recipients", name, maxRecipients)
	}
	for i, r := range *list {
		r = strings.TrimSpace(r)
		(*list)[i] = r
		if err := ValidateRecipient(r); err != nil {
			return statesrv.Errorf(statesrv.EInvalid, "%s: %s", name, err.Error())
		}
	}
	return nil
}

// ValidateRecipient checks one alert recipient URI: mailto:ADDRESS,
// sms:+NUMBER, or an https:// URL (a webhook). A webhook carries the run's
// message and a link to the dashboard, so plain http:// is taken only to
// this host (localhost, a loopback address), where nothing crosses the
// network.
func ValidateRecipient(r string) error {
	switch {
	case strings.HasPrefix(r, "mailto:"):
		if _, err := mail.ParseAddress(strings.TrimPrefix(r, "mailto:")); err != nil {
			return statesrv.Errorf(statesrv.EInvalid, "bad e-mail address in %q", r)
		}
	case strings.HasPrefix(r, "sms:"):
		n := strings.TrimPrefix(r, "sms:")
		if len(n) < 4 || len(n) > 20 || strings.Trim(n[1:], "0123456789") != "" || (n[0] != '+' && (n[0] < '0' || n[0] > '9')) {
			return statesrv.Errorf(statesrv.EInvalid, "bad phone number in %q (want sms:+420600000000)", r)
		}
	case strings.HasPrefix(r, "https://") || strings.HasPrefix(r, "http://"):
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return statesrv.Errorf(statesrv.EInvalid, "bad URL %q", r)
		}
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			return statesrv.Errorf(statesrv.EInvalid, "webhook %q: use https:// (plain http:// only to localhost)", r)
		}
	default:
		return statesrv.Errorf(statesrv.EInvalid, "recipient %q: want mailto:, sms: or https://", r)
	}
	return nil
}

// loopback reports whether host names this machine: localhost or a
// loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DefineProcess creates or replaces a definition. A definition equal to the
// current one appends nothing (the receipt then resolves with seq 0).
func (s *Service) DefineProcess(p statesrv.Process, actor string) (*Receipt, error) {
	if err := NormalizeProcess(&p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	settleKey(&p, s.core.Procs[p.ID])
	if cur := s.core.Procs[p.ID]; cur != nil && reflect.DeepEqual(cur.Process, p) {
		return &Receipt{p: resolvedEmpty()}, nil
	}
	d := s.decide(actor)
	d.add(statesrv.EventProcessDefined, p.ID, &p)
	return d.submit(""), nil
}

// settleKey puts the key of p as it will be stored: its hash, never the
// key in clear. A definition that leaves the key out (nil) keeps the one
// cur has, "" removes it, and a key given in clear is hashed with a new
// salt unless it is the one cur has (so that sending a definition again
// changes nothing). A KeySet or KeyHash that p brings is ignored.
func settleKey(p *statesrv.Process, cur *projections.ProcessState) {
	given := p.Key
	p.Key, p.KeySet, p.KeyHash = nil, false, ""
	switch {
	case given == nil && cur != nil:
		p.KeyHash = cur.KeyHash
	case given == nil || *given == "":
	case cur != nil && statesrv.KeyMatches(cur.KeyHash, *given):
		p.KeyHash = cur.KeyHash
	default:
		p.KeyHash = statesrv.HashKey(*given)
	}
}

// DeleteProcess deletes a definition; its open runs are dropped with it.
// It returns an EInvalid-free ENotFound error for an unknown id.
func (s *Service) DeleteProcess(id int64, actor string) (*Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.core.Procs[id]
	if ps == nil {
		return nil, statesrv.Errorf(statesrv.ENotFound, "process %d not found", id)
	}
	d := s.decide(actor)
	d.add(statesrv.EventProcessDeleted, id, &statesrv.ProcessDeletedData{Name: ps.Name})
	return d.submit(""), nil
}

// Process returns a copy of the current definition and state of id.
func (s *Service) Process(id int64) (projections.ProcessState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.core.Procs[id]
	if ps == nil {
		return projections.ProcessState{}, false
	}
	return *ps, true
}

// maxApply bounds the definitions one ApplyDefinitions may change, so that
// its append stays well inside one group commit.
const maxApply = 1000

// ApplyDefinitions creates or replaces every definition of define and
// deletes every id of remove, as one change: all are validated first and
// appended together in one atomic append (one contiguous run of events),
// or none is. Definitions equal to the current ones, and ids not defined,
// are left out. It returns the receipt (nil when nothing changes) and the
// ids it created, changed and deleted.
func (s *Service) ApplyDefinitions(define []statesrv.Process, remove []int64, actor string) (*Receipt, [3][]int64, error) {
	return s.applyDefinitions(define, remove, actor, false)
}

// PlanDefinitions returns the ids that ApplyDefinitions would create,
// change and delete, and appends nothing. A definition that gives the key
// in clear changes it only when it is not the key set, which only the
// server can tell (the plan of `statesrv apply` asks it so).
func (s *Service) PlanDefinitions(define []statesrv.Process, remove []int64) ([3][]int64, error) {
	_, done, err := s.applyDefinitions(define, remove, "", true)
	return done, err
}

func (s *Service) applyDefinitions(define []statesrv.Process, remove []int64, actor string, dry bool) (*Receipt, [3][]int64, error) {
	var done [3][]int64
	if len(define)+len(remove) > maxApply {
		return nil, done, statesrv.Errorf(statesrv.EInvalid, "at most %d definitions at once", maxApply)
	}
	seen := map[int64]bool{}
	for i := range define {
		if err := NormalizeProcess(&define[i]); err != nil {
			return nil, done, statesrv.Errorf(statesrv.EInvalid, "process %d: %s", define[i].ID, statesrv.ErrorMessage(err))
		}
		if seen[define[i].ID] {
			return nil, done, statesrv.Errorf(statesrv.EInvalid, "process %d: given twice", define[i].ID)
		}
		seen[define[i].ID] = true
	}
	for _, id := range remove {
		if seen[id] {
			return nil, done, statesrv.Errorf(statesrv.EInvalid, "process %d: both defined and deleted", id)
		}
		seen[id] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.decide(actor)
	for i := range define {
		p := &define[i]
		cur := s.core.Procs[p.ID]
		settleKey(p, cur)
		switch {
		case cur == nil:
			done[0] = append(done[0], p.ID)
		case !reflect.DeepEqual(cur.Process, *p):
			done[1] = append(done[1], p.ID)
		default:
			continue
		}
		if !dry {
			d.add(statesrv.EventProcessDefined, p.ID, p)
		}
	}
	for _, id := range remove {
		if ps := s.core.Procs[id]; ps != nil {
			if !dry {
				d.add(statesrv.EventProcessDeleted, id, &statesrv.ProcessDeletedData{Name: ps.Name})
			}
			done[2] = append(done[2], id)
		}
	}
	if len(d.recs) == 0 || dry {
		return nil, done, nil
	}
	return d.submit(""), done, nil
}
