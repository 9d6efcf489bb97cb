package document

import (
	"cmp"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/textfmt"
)

// Validate normalizes every definition in place (commands.NormalizeProcess,
// as the server does) and returns a problem for each invalid one, and for
// each id given twice; none when all are valid. The problems name no
// lines: File.Check does.
func Validate(procs []statesrv.Process) Problems {
	return validate(procs, nil)
}

// Check validates the definitions of f as Validate does and returns every
// problem of the file, in the order of the document: those Load found and
// the invalid definitions, each with its entry and line. The document can
// be applied when there is none. A field Load found a problem with is not
// reported again.
func (f *File) Check() Problems {
	ps := append(slices.Clone(f.Problems), validate(f.Processes, f.entries)...)
	ps.sort()
	return ps
}

// validate validates procs; entries, if not nil, says where each stands.
func validate(procs []statesrv.Process, entries []entry) Problems {
	var problems Problems
	seen := map[int64]int{}
	for i := range procs {
		var en entry
		if entries != nil {
			en = entries[i]
		}
		p := &procs[i]
		if en.bad[""] {
			continue
		}
		if err := commands.NormalizeProcess(p); err != nil {
			msg := statesrv.ErrorMessage(err)
			field, _, _ := strings.Cut(msg, ":")
			if !en.bad[topField(field)] {
				problems = append(problems, Problem{Entry: i, ID: p.ID, Line: cmp.Or(en.lines[field], en.lines[topField(field)], en.line), Text: msg})
			}
			continue
		}
		if j, dup := seen[p.ID]; dup {
			problems = append(problems, Problem{Entry: i, ID: p.ID, Line: cmp.Or(en.lines["id"], en.line),
				Text: fmt.Sprintf("id %d is also processes[%d]", p.ID, j)})
			continue
		}
		seen[p.ID] = i
	}
	return problems
}

// Step is one change of a plan.
type Step struct {
	Process statesrv.Process
	// Changes lists the fields of a changed definition that differ from
	// the server's.
	Changes []statesrv.Change
}

// Plan is what an apply changes: definitions to create, to change and to
// delete, each ordered by id.
type Plan struct {
	Create, Change, Remove []Step
	// Unlisted counts the server's definitions the document lacks and
	// that are kept (no prune).
	Unlisted int
}

// NewPlan compares the desired definitions (normalized, see Validate) with
// the server's current ones. A definition that normalizes to the server's
// own is left alone, as the server would append nothing for it. With
// prune, the server's definitions the document lacks are deleted.
func NewPlan(desired, current []statesrv.Process, prune bool) Plan {
	var pl Plan
	have := map[int64]statesrv.Process{}
	for _, p := range current {
		commands.NormalizeProcess(&p)
		have[p.ID] = p
	}
	want := map[int64]bool{}
	for _, p := range desired {
		want[p.ID] = true
		cur, ok := have[p.ID]
		switch {
		case !ok:
			pl.Create = append(pl.Create, Step{Process: p})
		case !unchanged(cur, p):
			pl.Change = append(pl.Change, Step{Process: p, Changes: statesrv.Diff(&cur, &p)})
		}
	}
	for _, p := range current {
		switch {
		case want[p.ID]:
		case prune:
			pl.Remove = append(pl.Remove, Step{Process: p})
		default:
			pl.Unlisted++
		}
	}
	for _, l := range [][]Step{pl.Create, pl.Change, pl.Remove} {
		slices.SortFunc(l, func(a, b Step) int { return cmp.Compare(a.Process.ID, b.Process.ID) })
	}
	return pl
}

// unchanged reports whether the document's p defines what the server's cur
// does, as far as a client can tell: a key left out keeps the one set, and
// key_set is the server's to say. A key given in clear may be the one set;
// only the server can tell (KeyOnly, Settle).
func unchanged(cur, p statesrv.Process) bool {
	key, _ := statesrv.FieldNamed("key")
	same := key.Equal(&cur, &p)
	cur.Key, cur.KeySet, cur.KeyHash = nil, false, ""
	p.Key, p.KeySet, p.KeyHash = nil, false, ""
	return same && reflect.DeepEqual(cur, p)
}

// KeyOnly returns the definitions to change whose only change is a key
// given in clear: the server alone knows whether it is the key set.
func (pl Plan) KeyOnly() []statesrv.Process {
	var out []statesrv.Process
	for _, s := range pl.Change {
		if len(s.Changes) == 1 && s.Changes[0].Field.Name == "key" && s.Process.Key != nil && *s.Process.Key != "" {
			out = append(out, s.Process)
		}
	}
	return out
}

// Settle drops from the changes the key-only ones (KeyOnly) that the
// server says it would not change: changed lists the ids it would.
func (pl *Plan) Settle(changed []int64) {
	keyOnly := map[int64]bool{}
	for _, p := range pl.KeyOnly() {
		keyOnly[p.ID] = !slices.Contains(changed, p.ID)
	}
	pl.Change = slices.DeleteFunc(pl.Change, func(s Step) bool { return keyOnly[s.Process.ID] })
}

// Empty reports whether the plan changes nothing.
func (pl Plan) Empty() bool { return len(pl.Create)+len(pl.Change)+len(pl.Remove) == 0 }

// Define returns the definitions to create and to change.
func (pl Plan) Define() []statesrv.Process {
	var out []statesrv.Process
	for _, s := range slices.Concat(pl.Create, pl.Change) {
		out = append(out, s.Process)
	}
	return out
}

// Delete returns the ids to delete.
func (pl Plan) Delete() []int64 {
	var out []int64
	for _, s := range pl.Remove {
		out = append(out, s.Process.ID)
	}
	return out
}

// Print writes the plan: one line per change and a summary.
//
//   - 27 NewJob
//     ~ 25 JajaBackupData: schedule "0 2 * * *" → "0 3 * * *"
//   - 30 OldJob
func (pl Plan) Print(w io.Writer) {
	for _, s := range pl.Create {
		fmt.Fprintf(w, "+ %d %s\n", s.Process.ID, textfmt.OneLine(s.Process.Name))
	}
	for _, s := range pl.Change {
		fmt.Fprintf(w, "~ %d %s: %s\n", s.Process.ID, textfmt.OneLine(s.Process.Name), strings.Join(changeTexts(s.Changes), ", "))
	}
	for _, s := range pl.Remove {
		fmt.Fprintf(w, "- %d %s\n", s.Process.ID, textfmt.OneLine(s.Process.Name))
	}
	fmt.Fprintf(w, "%d to create, %d to change, %d to delete\n", len(pl.Create), len(pl.Change), len(pl.Remove))
	if pl.Unlisted > 0 {
		fmt.Fprintf(w, "%d definitions on the server are not in the document and are kept (--prune deletes them)\n", pl.Unlisted)
	}
}

// changeTexts writes each change for a plan line: text quoted and cut,
// lists in brackets, a secret only as changed.
func changeTexts(cs []statesrv.Change) []string {
	if len(cs) == 0 {
		return []string{"other fields changed"}
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		name := c.Field.Name
		switch c.Field.Kind {
		case statesrv.KindSecret:
			out[i] = name + " changed"
		case statesrv.KindText:
			out[i] = fmt.Sprintf("%s %s → %s", name, clip(c.Old), clip(c.New))
		case statesrv.KindList, statesrv.KindRecipients:
			out[i] = fmt.Sprintf("%s [%s] → [%s]", name, textfmt.OneLine(c.Old), textfmt.OneLine(c.New))
		default:
			out[i] = fmt.Sprintf("%s %s → %s", name, c.Old, c.New)
		}
	}
	return out
}

// clip quotes s for a plan line, cut to 60 characters.
func clip(s string) string {
	return strconv.Quote(textfmt.Fit(s, 60, "…"))
}
