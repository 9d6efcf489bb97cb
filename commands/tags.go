package commands

import (
	"regexp"
	"slices"
	"strings"

	"github.com/statesrv/statesrv"
)

// MaxTags is the most tags a process carries.
const MaxTags = 20

// tagPattern is what a tag may be: lower case, so that a filter never
// misses a tag by its case.
var tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// ValidTag returns an EInvalid error, prefixed with field ("tags: ",
// "tag: "), naming tag when it is no tag.
func ValidTag(field, tag string) error {
	if !tagPattern.MatchString(tag) {
		return statesrv.Errorf(statesrv.EInvalid,
			"%s: %q is not a tag: 1 to 32 of a-z, 0-9, '_' and '-', starting with a letter or digit", field, tag)
	}
	return nil
}

// normalizeTags trims each tag, checks it, removes duplicates and sorts
// the list; an empty list becomes nil. It returns an EInvalid error naming
// the first bad tag, or saying there are too many.
func normalizeTags(tags *[]string) error {
	out := make([]string, 0, len(*tags))
	for _, t := range *tags {
		t = strings.TrimSpace(t)
		if err := ValidTag("tags", t); err != nil {
			return err
		}
		out = append(out, t)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxTags {
		return statesrv.Errorf(statesrv.EInvalid, "tags: at most %d tags, got %d", MaxTags, len(out))
	}
	if len(out) == 0 {
		out = nil
	}
	*tags = out
	return nil
}

// SplitTags reads tags typed as text, separated by commas or spaces.
func SplitTags(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}
