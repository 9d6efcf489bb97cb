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
	"fmt"
	"io"
	"strings"

	"github.com/statesrv/statesrv"
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
