package web

import (
	"net/http"
	"slices"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/projections"
)

// tagParam reads the ?tag= filter: "" for none, or an EInvalid error
// naming a value that is no tag.
func tagParam(r *http.Request) (string, error) {
	tag := r.URL.Query().Get("tag")
	if tag == "" {
		return "", nil
	}
	return tag, commands.ValidTag("tag", tag)
}

// tagFilter is the processes of a tag, to keep only what concerns them.
// The zero tagFilter (no tag) keeps everything.
type tagFilter struct {
	tag string
	ids []int64 // sorted; not nil when tag is set
}

// tagFilterOf reads the processes that carry tag now.
func tagFilterOf(c *projections.Core, tag string) tagFilter {
	if tag == "" {
		return tagFilter{}
	}
	f := tagFilter{tag: tag, ids: []int64{}}
	for id, ps := range c.Procs {
		if ps.HasTag(tag) {
			f.ids = append(f.ids, id)
		}
	}
	slices.Sort(f.ids)
	return f
}

// keeps reports whether the filter keeps what concerns process id.
func (f tagFilter) keeps(id int64) bool {
	if f.tag == "" {
		return true
	}
	_, ok := slices.BinarySearch(f.ids, id)
	return ok
}

// keepsRun reports whether the filter keeps run r.
func (f tagFilter) keepsRun(r *statesrv.Run) bool { return f.keeps(r.ProcessID) }

// validTagFilter is what is wrong with the tag filter of a page, "" when
// it is empty or a tag.
func validTagFilter(tag string) string {
	if tag == "" {
		return ""
	}
	if err := commands.ValidTag("Tag", tag); err != nil {
		return statesrv.ErrorMessage(err) + "."
	}
	return ""
}
