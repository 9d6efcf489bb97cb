package document_test

import (
	"strings"
	"testing"

	"github.com/statesrv/statesrv/document"
)

// TestCheck reads documents with several errors each: every one is listed,
// with its entry, id and line.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		want             []string
	}{
		{name: "YAML", file: "p.yaml", text: `# header
processes:
  - id: 5
    name: a
    max_runtime: [1h]
    enabled: "yes"
  - id: 31
    name: b
    colour: red
    alerts:
      fail: [mailto:a@example.com, 7]
      shout: [x]
  - just a string
  - id: 8
    name: c
    maintenance:
      - schedule: "@daily"
        duration: 2 hours
    alert_after: 1.5
    name: d
  - id: 9
    name: e
    schedule: nope
  - {id: 5, name: f}
extra: 1
`, want: []string{
			`line 25: unknown field "extra"`,
			`processes[0] (id 5), line 5: max_runtime: want a duration like "1h30m", got a list`,
			`processes[0] (id 5), line 6: enabled: want true or false, got "yes"`,
			`processes[1] (id 31), line 9: unknown field "colour"`,
			`processes[1] (id 31), line 11: alerts.fail[1]: want a string, got 7`,
			`processes[1] (id 31), line 12: alerts: unknown field "shout"`,
			`processes[2], line 13: want a mapping of fields, got "just a string"`,
			`processes[3] (id 8), line 18: maintenance[0].duration: bad duration "2 hours" (want e.g. "2h" or "90s")`,
			`processes[3] (id 8), line 19: alert_after: want a whole number, got 1.5`,
			`processes[3] (id 8), line 20: key "name" given twice`,
			`processes[4] (id 9), line 23: schedule: bad schedule "nope": expected 5 or 6 fields`,
			`processes[5] (id 5), line 24: id 5 is also processes[0]`,
		}},
		{name: "JSON", file: "p.json", text: `{"processes": [
  {"id": 5, "name": "a",
   "max_runtime": [1]},
  {"id": 31, "name": "b", "colour": "red"},
  {"id": 5, "name": "again"},
  {"id": 9, "name": "x",
   "schedule": "nope"},
  {"id": "10", "name": "s", "alerts": {"ok": "mailto:a@example.com"}},
  {"id": 11, "name": "t", "maintenance": [{"schedule": "@daily", "duration": "1h", "colour": 1}]}
 ],
 "jobs": []
}`, want: []string{
			`line 11: unknown field "jobs"`,
			`processes[0] (id 5), line 3: max_runtime: want a duration like "1h30m", got a list`,
			`processes[1] (id 31), line 4: unknown field "colour"`,
			`processes[2] (id 5), line 5: id 5 is also processes[0]`,
			`processes[3] (id 9), line 7: schedule: bad schedule "nope": expected 5 or 6 fields`,
			`processes[4], line 8: id: want a whole number, got "10"`,
			`processes[4], line 8: alerts.ok: want a list, got "mailto:a@example.com"`,
			`processes[5] (id 11), line 9: maintenance[0]: unknown field "colour"`,
		}},
		{name: "NoList", file: "p.yaml", text: "# nothing here\njobs: []\n", want: []string{
			`line 2: unknown field "jobs"`,
			`no "processes" list`,
		}},
		{name: "NotAList", file: "p.json", text: "{\n\"processes\": {\"id\": 1}}", want: []string{
			`line 2: processes: want a list, got a mapping`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := document.Load(strings.NewReader(tc.text), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			got := f.Check()
			var lines []string
			for _, p := range got {
				lines = append(lines, p.String())
			}
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			// Read refuses the same document, naming the file and every problem.
			if _, err := document.Read(strings.NewReader(tc.text), tc.file); err == nil || !strings.HasPrefix(err.Error(), tc.file+": ") {
				t.Errorf("Read: error %v", err)
			}
		})
	}
}

// TestLoadMalformed: a document that cannot be read at all is an error,
// with its line where the reader knows it.
func TestLoadMalformed(t *testing.T) {
	for _, tc := range []struct{ name, file, text, err string }{
		{name: "JSONSyntax", file: "p.json", text: "{\"processes\": [\n  {\"id\": 1,}\n]}", err: "p.json: line 2: invalid character '}'"},
		{name: "JSONTruncated", file: "p.json", text: "{\"processes\": [\n", err: "p.json: unexpected end of JSON input"},
		{name: "JSONTwoValues", file: "p.json", text: "{\"processes\": []}\n{}", err: "p.json: line 2: more than one JSON value"},
		{name: "JSONTooDeep", file: "p.json", text: strings.Repeat("[", 100) + strings.Repeat("]", 100), err: "p.json: line 1: nested too deep"},
		// The parser names the line its block began on (1 and 3 here).
		{name: "YAMLSyntax", file: "p.yaml", text: "processes:\n  - id: 1\n   name: x\n", err: "p.yaml: yaml: line 3: "},
		{name: "YAMLIndent", file: "p.yaml", text: "processes:\n  - id: 1\n    name: x\n  - id: 2\n     name: y\n",
			err: "p.yaml: yaml: line 5: mapping values are not allowed"},
		{name: "YAMLAfterComments", file: "p.yaml", text: "# c\n# c\nprocesses:\n  - id: 1\n    name: x\n  bad\n",
			err: "p.yaml: yaml: line 6: could not find expected ':'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := document.Load(strings.NewReader(tc.text), tc.file)
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}
