package web

import (
	"encoding/json"
	"testing"
)

// TestMergePatch applies the examples of RFC 7396's appendix.
func TestMergePatch(t *testing.T) {
	for _, tt := range []struct{ name, target, patch, want string }{
		{"ReplaceMember", `{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{"AddMember", `{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{"NullRemoves", `{"a":"b"}`, `{"a":null}`, `{}`},
		{"NullRemovesOnlyThat", `{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{"TextReplacesList", `{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{"ListReplacesText", `{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{"ObjectsMerge", `{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{"ListsReplaceWhole", `{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{"ListReplacesList", `["a","b"]`, `["c","d"]`, `["c","d"]`},
		{"ListReplacesObject", `{"a":"b"}`, `["c"]`, `["c"]`},
		{"NullReplacesAll", `{"a":"foo"}`, `null`, `null`},
		{"TextReplacesAll", `{"a":"foo"}`, `"bar"`, `"bar"`},
		{"NullInTargetKept", `{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{"ObjectReplacesList", `[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{"NullsDroppedFromNewObjects", `{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var target, patch, want any
			for _, v := range []struct {
				s  string
				at *any
			}{{tt.target, &target}, {tt.patch, &patch}, {tt.want, &want}} {
				if err := decodeNumbers([]byte(v.s), v.at); err != nil {
					t.Fatal(err)
				}
			}
			got, _ := json.Marshal(mergePatch(target, patch))
			wantJSON, _ := json.Marshal(want) // maps encode with sorted keys
			if string(got) != string(wantJSON) {
				t.Errorf("merge %s into %s = %s, want %s", tt.patch, tt.target, got, wantJSON)
			}
		})
	}
}
