package document

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Problem is one error of a document: what is wrong, in which entry of
// "processes" and on which line of the file.
type Problem struct {
	// Entry is the index in "processes", -1 for the document itself.
	Entry int
	// ID is the entry's id, 0 when it has none.
	ID int64
	// Line is the line of the file, from 1; 0 when not known.
	Line int
	// Text says what is wrong: `unknown field "colour"`, `max_runtime:
	// want a duration like "1h30m", got a list`, `schedule: bad schedule`.
	Text string
}

// String returns the problem as a line: `processes[2] (id 31), line 14:
// unknown field "colour"`.
func (p Problem) String() string {
	var where []string
	if p.Entry >= 0 {
		w := fmt.Sprintf("processes[%d]", p.Entry)
		if p.ID != 0 {
			w += fmt.Sprintf(" (id %d)", p.ID)
		}
		where = append(where, w)
	}
	if p.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", p.Line))
	}
	if len(where) == 0 {
		return p.Text
	}
	return strings.Join(where, ", ") + ": " + p.Text
}

// Problems are every error found in a document, in the order of the
// document.
type Problems []Problem

// Error lists the problems, separated by "; ".
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "; ")
}

// sort orders the problems by entry, then line (those without one last).
func (ps Problems) sort() {
	line := func(p Problem) int {
		if p.Line == 0 {
			return math.MaxInt
		}
		return p.Line
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Entry, b.Entry), cmp.Compare(line(a), line(b)))
	})
}
