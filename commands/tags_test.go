package commands_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
)

func TestNormalizeTags(t *testing.T) {
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("t%02d", i)
	}
	cases := []struct {
		name string
		tags []string
		want []string // nil with wantErr
		err  string
	}{
		{"OKSortedWithoutDuplicates", []string{"nightly", " backup ", "nightly", "db-1", "a_b"}, []string{"a_b", "backup", "db-1", "nightly"}, ""},
		{"OKEmptyIsNil", []string{}, nil, ""},
		{"OKTwentyAfterDuplicates", append(slices.Clone(many[:20]), "t00"), many[:20], ""},
		{"OKLongest", []string{strings.Repeat("a", 32)}, []string{strings.Repeat("a", 32)}, ""},
		{"ErrUpperCase", []string{"ok", "Prod"}, nil, `tags: "Prod" is not a tag`},
		{"ErrLeadingDash", []string{"-x"}, nil, `tags: "-x" is not a tag`},
		{"ErrSpaceInside", []string{"a b"}, nil, `tags: "a b" is not a tag`},
		{"ErrEmpty", []string{""}, nil, `tags: "" is not a tag`},
		{"ErrTooLong", []string{strings.Repeat("a", 33)}, nil, "is not a tag"},
		{"ErrTooMany", many, nil, "tags: at most 20 tags, got 21"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := statesrv.Process{ID: 1, Name: "job", Tags: tc.tags}
			err := commands.NormalizeProcess(&p)
			if tc.err == "" {
				if err != nil || !slices.Equal(p.Tags, tc.want) || (tc.want == nil) != (p.Tags == nil) {
					t.Fatalf("got %q, %v; want %q", p.Tags, err, tc.want)
				}
				return
			}
			if statesrv.ErrorCode(err) != statesrv.EInvalid || !strings.Contains(statesrv.ErrorMessage(err), tc.err) {
				t.Fatalf("got %v; want EInvalid saying %q", err, tc.err)
			}
			s := newServer(t)
			if _, err := s.Service.DefineProcess(p, statesrv.ActorAdmin); statesrv.ErrorCode(err) != statesrv.EInvalid {
				t.Errorf("DefineProcess err = %v", err)
			}
			if s.Log.LastSeq() != 0 {
				t.Errorf("a refused definition appended %d events", s.Log.LastSeq())
			}
		})
	}
}

func TestSplitTags(t *testing.T) {
	if got := commands.SplitTags(" a, b  c,,d\te "); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Fatalf("got %q", got)
	}
}
