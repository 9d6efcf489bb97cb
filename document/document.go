// Package document reads and writes the document of `statesrv export` and
// `statesrv apply`: the process definitions as {"processes": [...]} in JSON
// or the same structure in YAML, each with the fields of the API's process
// JSON (statesrv.ProcessFields). It also plans an apply: which definitions
// to create, change and delete, and how the plan is printed. It does no
// network I/O: the command line fetches and sends.
package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"go.yaml.in/yaml/v3"
)

// Entry is a definition as a document writes it, with comment lines
// written above it in YAML.
type Entry struct {
	statesrv.Process
	Comment string
}

// Write writes the definitions as a document in format "yaml" or "json".
// header, if not empty, is written as comment lines atop a YAML document
// (JSON has no comments). Each definition has the fields of
// statesrv.ProcessFields in their order, durations as short text ("2h"),
// optional fields only when set. It returns an error for another format
// and the writer's errors.
func Write(w io.Writer, format, header string, procs []Entry) error {
	switch format {
	case "json":
		list := []mapping{}
		for _, p := range procs {
			list = append(list, entryOf(&p.Process))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(mapping{{"processes", list}})
	case "yaml":
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, p := range procs {
			var n yaml.Node
			if err := n.Encode(entryOf(&p.Process)); err != nil {
				return err
			}
			n.HeadComment = p.Comment
			seq.Content = append(seq.Content, &n)
		}
		if len(seq.Content) == 0 {
			seq.Style = yaml.FlowStyle // "processes: []"
		}
		root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: header, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "processes"}, seq}}
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
			return err
		}
		return enc.Close()
	}
	return fmt.Errorf("document: format %q: want yaml or json", format)
}

// entryOf lays p out as a document writes it: the fields in wire order, a
// dotted name ("alerts.fail") nested under its first part.
func entryOf(p *statesrv.Process) mapping {
	var m mapping
	for i := range statesrv.ProcessFields {
		f := &statesrv.ProcessFields[i]
		if f.Optional && f.IsZero(p) {
			continue
		}
		m = m.set(strings.Split(f.Name, "."), written(f.Value(p)))
	}
	return m
}

// written is a field's value as a document writes it: durations as short
// text, lists never null.
func written(v any) any {
	switch v := v.(type) {
	case statesrv.Duration:
		return v.Text()
	case []string:
		if v == nil {
			return []string{}
		}
	case []statesrv.Window:
		ws := make([]mapping, len(v))
		for i, w := range v {
			ws[i] = mapping{{"schedule", w.Schedule}, {"duration", w.Duration.Text()}}
		}
		return ws
	}
	return v
}

// mapping is a JSON object or YAML mapping whose keys keep their order.
type mapping []member

type member struct {
	key   string
	value any
}

// set adds value under the path of keys, nesting a mapping for each key
// but the last (into the last member when it has that key).
func (m mapping) set(path []string, value any) mapping {
	if len(path) == 1 {
		return append(m, member{path[0], value})
	}
	if n := len(m); n > 0 && m[n-1].key == path[0] {
		if inner, ok := m[n-1].value.(mapping); ok {
			m[n-1].value = inner.set(path[1:], value)
			return m
		}
	}
	return append(m, member{path[0], mapping{}.set(path[1:], value)})
}

// MarshalJSON writes the members in order, with no HTML escaping.
func (m mapping) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	for i, mb := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(mb.key); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode ends with a newline
		b.WriteByte(':')
		if err := enc.Encode(mb.value); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MarshalYAML writes the members in order.
func (m mapping) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, mb := range m {
		var v yaml.Node
		if err := v.Encode(mb.value); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: mb.key}, &v)
	}
	return n, nil
}

// MaxSize bounds the document Read reads.
const MaxSize = 16 << 20

// Read reads a document from r. name (a file name, "-" for stdin) decides
// the format by its extension (.json, .yaml, .yml); otherwise a document
// that starts with '{' is JSON and any other YAML. It returns an error,
// prefixed with name, for a document over MaxSize, malformed, with an
// unknown field, without a "processes" list, or with an entry whose
// max_runtime is 0. An entry that leaves out "enabled" is enabled, as in
// the API.
func Read(r io.Reader, name string) ([]statesrv.Process, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, MaxSize>>20)
	}
	isJSON := bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{"))
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		isJSON = true
	case ".yaml", ".yml":
		isJSON = false
	}
	if !isJSON {
		if raw, err = yamlToJSON(raw); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	var doc struct {
		Processes *[]statesrv.Process `json:"processes"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON value", name)
	}
	if doc.Processes == nil {
		return nil, fmt.Errorf(`%s: no "processes" list`, name)
	}
	if err := fromJSON(raw, *doc.Processes); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return *doc.Processes, nil
}

// fromJSON completes each definition of procs, decoded from the document
// raw (JSON), as the API does (commands.FromJSON): an entry without
// "enabled" is enabled, and one with a max_runtime of 0 is refused. The
// error names the entry.
func fromJSON(raw []byte, procs []statesrv.Process) error {
	var doc struct {
		Processes []map[string]json.RawMessage `json:"processes"`
	}
	if json.Unmarshal(raw, &doc) != nil || len(doc.Processes) != len(procs) {
		return nil // it decoded as definitions just now
	}
	for i := range procs {
		if err := commands.FromJSON(&procs[i], doc.Processes[i]); err != nil {
			return fmt.Errorf("entry %d: %s", i+1, statesrv.ErrorMessage(err))
		}
	}
	return nil
}

// yamlToJSON turns a YAML document into the JSON text of the same
// structure. Scalars keep the type YAML gives them: 25 is a number, "25"
// and 2026-01-01 are strings, true is a boolean.
func yamlToJSON(raw []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		return nil, err
	}
	if n.Kind == 0 {
		return nil, errors.New("empty document")
	}
	budget := expansion{values: maxYAMLNodes, bytes: maxYAMLText}
	v, err := yamlValue(&n, 0, &budget)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// maxYAMLNodes and maxYAMLText bound the values, and the bytes of text of
// its keys and scalars, that a document may expand to: aliases can repeat
// a part many times over without repeating its text, and a few aliases of
// a long scalar would otherwise expand a small document to gigabytes. A
// document without aliases stays within maxYAMLText, as no scalar's text
// is longer than twice its source ("\L" is three bytes).
const (
	maxYAMLNodes = 1_000_000
	maxYAMLText  = 2 * MaxSize
)

// expansion is what is left of the values and of the bytes of text that a
// document may expand to.
type expansion struct {
	values, bytes int
}

// yamlValue converts n to the values encoding/json writes, counting every
// value it makes, and the text of every scalar, against budget.
func yamlValue(n *yaml.Node, depth int, budget *expansion) (any, error) {
	budget.values--
	if n.Kind == yaml.ScalarNode {
		budget.bytes -= len(n.Value)
	}
	switch {
	case depth > 64:
		return nil, fmt.Errorf("line %d: nested too deep", n.Line)
	case budget.values < 0:
		return nil, fmt.Errorf("line %d: more than %d values", n.Line, maxYAMLNodes)
	case budget.bytes < 0:
		return nil, fmt.Errorf("line %d: expands to more than %d MiB of text", n.Line, maxYAMLText>>20)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, errors.New("empty document")
		}
		return yamlValue(n.Content[0], depth+1, budget)
	case yaml.AliasNode:
		return yamlValue(n.Alias, depth+1, budget)
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a key must be a plain value", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: key %q given twice", k.Line, k.Value)
			}
			budget.bytes -= len(k.Value) // checked with the value's
			v, err := yamlValue(n.Content[i+1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// yamlScalar converts a scalar by the type YAML gives it.
func yamlScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		err := n.Decode(&b)
		return b, err
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("line %d: bad number %q", n.Line, n.Value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return n.Value, nil
}
