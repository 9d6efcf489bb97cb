package crontab

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/textfmt"
)

// Proposal is a definition an import proposes (its id still to be given),
// with where it came from.
type Proposal struct {
	statesrv.Process
	// From names the source line or task, for a comment in the document.
	From string
	// Line is the crontab line the proposal was read from (from 1; 0 for
	// other sources), for Wrap.
	Line int
}

// Result is what a parser found: the proposals and, for each line or task
// it could not map, a warning.
type Result struct {
	Proposals []Proposal
	Warnings  []string
	// DefaultZone is set when a proposal took UTC for want of a zone.
	DefaultZone bool
}

// Warn adds a warning.
func (r *Result) Warn(format string, args ...any) {
	// One line each: a task's or a job's name may hold a line break.
	r.Warnings = append(r.Warnings, textfmt.OneLine(fmt.Sprintf(format, args...)))
}

// ZoneOr returns zone, the zone of times that name none, or "UTC" when it
// is empty, which it notes in DefaultZone.
func (r *Result) ZoneOr(zone string) string {
	if zone != "" {
		return zone
	}
	r.DefaultZone = true
	return "UTC"
}

// Name makes s a valid process name: no ';' or control characters, at most
// 200 characters.
func Name(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ';' || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return textfmt.Head(strings.TrimSpace(s), 200)
}

// Description cuts s to the 2,000 characters a process description may
// have.
func Description(s string) string {
	return textfmt.Head(s, 2000)
}
