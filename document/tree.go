package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// node is a value of a document, from JSON or YAML, with the line of the
// file it starts on: what lets every problem name its line.
type node struct {
	line   int
	kind   kind
	scalar any // nil, bool, json.Number or string
	// A mapping has keys (with their lines) and, beside them, the values
	// in items; a list only items. Keys keep their order and repeats.
	keys     []string
	keyLines []int
	items    []*node
	// height is how deep the value nests (YAML only: see yamlValue).
	height int
}

type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindList
	kindMap
)

// maxDepth bounds the nesting of a document.
const maxDepth = 64

// writeJSON writes n as JSON, a mapping's members in order (repeats too:
// the last one wins, as encoding/json reads them).
func (n *node) writeJSON(b *bytes.Buffer) error {
	switch n.kind {
	case kindList:
		b.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := it.writeJSON(b); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case kindMap:
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			if err := n.items[i].writeJSON(b); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	v, err := json.Marshal(n.scalar)
	b.Write(v)
	return err
}

// jsonTree reads a JSON document with the line of each value.
func jsonTree(raw []byte) (*node, error) {
	r := jsonReader{dec: json.NewDecoder(bytes.NewReader(raw)), raw: raw}
	r.dec.UseNumber()
	for i, c := range raw {
		if c == '\n' {
			r.newlines = append(r.newlines, i)
		}
	}
	root, err := r.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("line %d: more than one JSON value", r.lineAt(r.dec.InputOffset()))
	}
	return root, nil
}

type jsonReader struct {
	dec      *json.Decoder
	raw      []byte
	newlines []int // offsets of '\n'
}

// lineAt returns the line of the value at or after off (past blanks and
// the separators ',' and ':').
func (r *jsonReader) lineAt(off int64) int {
	i := int(off)
	for i < len(r.raw) && bytes.IndexByte([]byte(" \t\r\n,:"), r.raw[i]) >= 0 {
		i++
	}
	return sort.SearchInts(r.newlines, i) + 1
}

// value reads the next value.
func (r *jsonReader) value(depth int) (*node, error) {
	line := r.lineAt(r.dec.InputOffset())
	tok, err := r.dec.Token()
	if err != nil {
		return nil, r.syntax(err)
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nested too deep", line)
	}
	n := &node{line: line}
	switch t := tok.(type) {
	case json.Delim:
		if t != '{' && t != '[' {
			return nil, fmt.Errorf("line %d: unexpected %q", line, t)
		}
		n.kind = kindList
		if t == '{' {
			n.kind = kindMap
		}
		for r.dec.More() {
			if n.kind == kindMap {
				kline := r.lineAt(r.dec.InputOffset())
				k, err := r.dec.Token()
				if err != nil {
					return nil, r.syntax(err)
				}
				n.keys = append(n.keys, k.(string))
				n.keyLines = append(n.keyLines, kline)
			}
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
		}
		if _, err := r.dec.Token(); err != nil { // the closing delimiter
			return nil, r.syntax(err)
		}
	case bool:
		n.kind, n.scalar = kindBool, t
	case json.Number:
		n.kind, n.scalar = kindNumber, t
	case string:
		n.kind, n.scalar = kindString, t
	case nil:
		n.kind = kindNull
	}
	return n, nil
}

// syntax gives a decoder's error the line it stopped at.
func (r *jsonReader) syntax(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("line %d: %s", sort.SearchInts(r.newlines, int(se.Offset))+1, se.Error())
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("unexpected end of JSON input")
	}
	return err
}

// yamlTree reads a YAML document. Scalars keep the type YAML gives them:
// 25 is a number, "25" and 2026-01-01 are strings, true is a boolean.
func yamlTree(raw []byte) (*node, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		return nil, yamlError(raw, err)
	}
	if n.Kind == 0 {
		return nil, errors.New("empty document")
	}
	budget := expansion{values: maxYAMLNodes, bytes: maxYAMLText, memo: map[*yaml.Node]converted{}}
	return yamlValue(&n, 0, &budget)
}

var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// maxRefine bounds the documents whose syntax errors yamlError refines.
const maxRefine = 1 << 20

// yamlError returns an error of the YAML parser with the line of the
// problem itself: the parser names the line where the enclosing block
// began ("line 1" for a bad indent on line 3). The problem's line is the
// first whose lines up to it fail with the same message, found by
// bisection; the parser's error stays as it is when there is none, and for
// documents over maxRefine.
func yamlError(raw []byte, err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil || len(raw) > maxRefine {
		return err
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	fails := func(k int) bool {
		e := yaml.Unmarshal(bytes.Join(lines[:k], nil), &yaml.Node{})
		if e == nil {
			return false
		}
		mk := yamlLine.FindStringSubmatch(e.Error())
		return mk != nil && mk[2] == m[2]
	}
	lo, hi := 1, len(lines)
	for lo < hi {
		if mid := (lo + hi) / 2; fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if reported, _ := strconv.Atoi(m[1]); lo < reported || !fails(lo) {
		return err
	}
	return fmt.Errorf("yaml: line %d: %s", lo, m[2])
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
	memo          map[*yaml.Node]converted
}

// converted is an anchored value as converted, and what it counted.
type converted struct {
	node          *node
	values, bytes int
}

// yamlValue converts n to a node, counting every value it makes, and the
// text of every scalar, against budget. A value reached through an alias
// keeps the line of the alias.
func yamlValue(n *yaml.Node, depth int, budget *expansion) (*node, error) {
	budget.values--
	if n.Kind == yaml.ScalarNode {
		budget.bytes -= len(n.Value)
	}
	switch {
	case depth > maxDepth:
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
		// Converted once, counted at each use: an alias bomb is refused
		// without building it.
		m, ok := budget.memo[n.Alias]
		if !ok {
			values, text := budget.values, budget.bytes
			v, err := yamlValue(n.Alias, depth+1, budget)
			if err != nil {
				return nil, err
			}
			m = converted{v, values - budget.values, text - budget.bytes}
			budget.memo[n.Alias] = m
		} else {
			budget.values -= m.values
			budget.bytes -= m.bytes
			switch {
			case depth+m.node.height > maxDepth:
				return nil, fmt.Errorf("line %d: nested too deep", n.Line)
			case budget.values < 0:
				return nil, fmt.Errorf("line %d: more than %d values", n.Line, maxYAMLNodes)
			case budget.bytes < 0:
				return nil, fmt.Errorf("line %d: expands to more than %d MiB of text", n.Line, maxYAMLText>>20)
			}
		}
		c := *m.node
		c.line = n.Line
		return &c, nil
	case yaml.SequenceNode:
		list := &node{line: n.Line, kind: kindList, items: make([]*node, 0, len(n.Content))}
		for _, c := range n.Content {
			v, err := yamlValue(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			list.items = append(list.items, v)
			list.height = max(list.height, v.height+1)
		}
		return list, nil
	case yaml.MappingNode:
		m := &node{line: n.Line, kind: kindMap}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a key must be a plain value", k.Line)
			}
			budget.bytes -= len(k.Value) // checked with the value's
			v, err := yamlValue(n.Content[i+1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			m.keys = append(m.keys, k.Value)
			m.keyLines = append(m.keyLines, k.Line)
			m.items = append(m.items, v)
			m.height = max(m.height, v.height+1)
		}
		return m, nil
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// yamlScalar converts a scalar by the type YAML gives it.
func yamlScalar(n *yaml.Node) (*node, error) {
	v := &node{line: n.Line, kind: kindString, scalar: n.Value}
	switch n.ShortTag() {
	case "!!null":
		v.kind, v.scalar = kindNull, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		v.kind, v.scalar = kindBool, b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		v.kind, v.scalar = kindNumber, json.Number(strconv.FormatInt(i, 10))
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("line %d: bad number %q", n.Line, n.Value)
		}
		v.kind, v.scalar = kindNumber, json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return v, nil
}
