package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/textfmt"
)

// MaxSize bounds the document Load reads.
const MaxSize = 16 << 20

// File is a document as Load reads it: the definitions, what is wrong in
// them, and where each stands in the file.
type File struct {
	// Processes are the entries of "processes", each decoded without the
	// fields that have a problem.
	Processes []statesrv.Process
	// Problems are the unknown fields, the keys a YAML mapping repeats and
	// the values of the wrong type, all of them.
	Problems Problems
	entries  []entry
}

// entry is where an entry of "processes" stands.
type entry struct {
	line int
	// lines holds the line of each field by its path ("schedule",
	// "alerts.fail", "maintenance[0].duration").
	lines map[string]int
	// bad holds the fields (of the entry itself) that have a problem; ""
	// when the entry as a whole has one.
	bad map[string]bool
}

// Read reads a document from r and returns its definitions, as Load reads
// them. It returns Load's errors, and the Problems it found as an error,
// prefixed with name.
func Read(r io.Reader, name string) ([]statesrv.Process, error) {
	f, err := Load(r, name)
	if err != nil {
		return nil, err
	}
	if len(f.Problems) > 0 {
		return nil, fmt.Errorf("%s: %w", name, f.Problems)
	}
	return f.Processes, nil
}

// Load reads a document from r. name (a file name, "-" for stdin) decides
// the format by its extension (.json, .yaml, .yml); otherwise a document
// that starts with '{' is JSON and any other YAML. Every unknown field,
// repeated YAML key, value of the wrong type and a missing "processes"
// list is a Problem of the File, with its entry and line. It returns an
// error, prefixed with name, only for a document it cannot read at all:
// over MaxSize or malformed.
func Load(r io.Reader, name string) (*File, error) {
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
	var root *node
	if isJSON {
		root, err = jsonTree(raw)
	} else {
		root, err = yamlTree(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f := &File{}
	f.load(root, !isJSON)
	f.Problems.sort()
	return f, nil
}

// load reads the document's root: a mapping with "processes" only.
func (f *File) load(root *node, yaml bool) {
	if root.kind != kindMap {
		f.Problems = append(f.Problems, Problem{Entry: -1, Line: root.line,
			Text: fmt.Sprintf(`want a mapping with a "processes" list, got %s`, got(root))})
		return
	}
	var list *node
	seen := map[string]bool{}
	for i, k := range root.keys {
		switch {
		case yaml && seen[k]:
			f.Problems = append(f.Problems, Problem{Entry: -1, Line: root.keyLines[i], Text: fmt.Sprintf("key %q given twice", k)})
		case !strings.EqualFold(k, "processes"):
			f.Problems = append(f.Problems, Problem{Entry: -1, Line: root.keyLines[i], Text: fmt.Sprintf("unknown field %q", k)})
		default:
			list = root.items[i]
		}
		seen[k] = true
	}
	switch {
	case list == nil || list.kind == kindNull:
		f.Problems = append(f.Problems, Problem{Entry: -1, Text: `no "processes" list`})
		return
	case list.kind != kindList:
		f.Problems = append(f.Problems, Problem{Entry: -1, Line: list.line, Text: "processes: want a list, got " + got(list)})
		return
	}
	f.Processes = make([]statesrv.Process, len(list.items))
	f.entries = make([]entry, len(list.items))
	for i, n := range list.items {
		f.entries[i] = f.loadEntry(i, n, yaml)
	}
}

var processType = reflect.TypeFor[statesrv.Process]()

// loadEntry checks and decodes entry i.
func (f *File) loadEntry(i int, n *node, yaml bool) entry {
	en := entry{line: n.line, lines: map[string]int{}, bad: map[string]bool{}}
	if n.kind != kindMap {
		f.Problems = append(f.Problems, Problem{Entry: i, Line: n.line, Text: "want a mapping of fields, got " + got(n)})
		en.bad[""] = true
		return en
	}
	id := entryID(n)
	c := checker{yaml: yaml, lines: en.lines}
	c.check(n, processType, "")
	for _, p := range c.problems {
		en.bad[topField(p.path)] = true
		f.Problems = append(f.Problems, Problem{Entry: i, ID: id, Line: p.line, Text: p.text})
	}
	good := &node{line: n.line, kind: kindMap}
	for j, k := range n.keys {
		if !en.bad[k] {
			good.keys = append(good.keys, k)
			good.items = append(good.items, n.items[j])
		}
	}
	var b bytes.Buffer
	err := good.writeJSON(&b)
	if err == nil {
		err = json.Unmarshal(b.Bytes(), &f.Processes[i])
	}
	if err != nil { // the checks above should leave nothing to fail
		f.Problems = append(f.Problems, Problem{Entry: i, ID: id, Line: n.line, Text: strings.TrimPrefix(err.Error(), "json: ")})
		en.bad[""] = true
		return en
	}
	// The defaults and refusals of the API's process JSON (an entry
	// without "enabled" is enabled; a max_runtime of 0 is refused).
	var given map[string]json.RawMessage
	if json.Unmarshal(b.Bytes(), &given) == nil {
		if err := commands.FromJSON(&f.Processes[i], given); err != nil {
			line := n.line
			if l, ok := en.lines["max_runtime"]; ok {
				line = l
			}
			f.Problems = append(f.Problems, Problem{Entry: i, ID: id, Line: line, Text: statesrv.ErrorMessage(err)})
			en.bad["max_runtime"] = true
		}
	}
	return en
}

// entryID returns the id an entry gives, to name it in problems; 0 when
// it gives none that is a whole number.
func entryID(n *node) int64 {
	for j, k := range n.keys {
		if strings.EqualFold(k, "id") && n.items[j].kind == kindNumber {
			if id, err := strconv.ParseInt(string(n.items[j].scalar.(json.Number)), 10, 64); err == nil {
				return id
			}
		}
	}
	return 0
}

// topField returns the field of an entry a path starts with: "alerts" for
// "alerts.fail[1]".
func topField(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// checker finds the problems of a value against the Go type it decodes
// into, as encoding/json would decode it.
type checker struct {
	yaml     bool // a YAML mapping may not repeat a key
	lines    map[string]int
	problems []problem
}

type problem struct {
	path, text string
	line       int
}

var (
	durationType    = reflect.TypeFor[statesrv.Duration]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// add records a problem of the value at path.
func (c *checker) add(path string, line int, text string) {
	if path != "" {
		text = path + ": " + text
	}
	c.problems = append(c.problems, problem{path: path, text: text, line: line})
}

// addKey records a problem of the key at path "at" of the mapping at
// path: the text names the mapping, and the key is what was wrong.
func (c *checker) addKey(path, at string, line int, text string) {
	c.add(path, line, text)
	c.problems[len(c.problems)-1].path = at
}

// check checks n as a value of type t at path. A null is the zero value,
// as encoding/json reads it.
func (c *checker) check(n *node, t reflect.Type, path string) {
	line := n.line
	if l, ok := c.lines[path]; ok {
		line = l // the key's line: a YAML value may start below it
	}
	switch {
	case n.kind == kindNull:
	case reflect.PointerTo(t).Implements(unmarshalerType):
		c.leaf(n, t, path, line)
	case t.Kind() == reflect.Struct:
		if n.kind != kindMap {
			c.add(path, line, "want a mapping, got "+got(n))
			return
		}
		seen := map[string]bool{}
		for j, k := range n.keys {
			at := k
			if path != "" {
				at = path + "." + k
			}
			ft, known := fieldType(t, k)
			switch {
			case c.yaml && seen[k]:
				c.addKey(path, at, n.keyLines[j], fmt.Sprintf("key %q given twice", k))
			case !known:
				c.addKey(path, at, n.keyLines[j], fmt.Sprintf("unknown field %q", k))
			default:
				c.lines[at] = n.keyLines[j]
				c.check(n.items[j], ft, at)
			}
			seen[k] = true
		}
	case t.Kind() == reflect.Slice:
		if n.kind != kindList {
			c.add(path, line, "want a list, got "+got(n))
			return
		}
		for j, it := range n.items {
			at := fmt.Sprintf("%s[%d]", path, j)
			c.lines[at] = it.line
			c.check(it, t.Elem(), at)
		}
	default:
		c.leaf(n, t, path, line)
	}
}

// leaf checks a value that decodes as a whole: a string, number, boolean
// or duration.
func (c *checker) leaf(n *node, t reflect.Type, path string, line int) {
	want, fits := "", true
	switch {
	case t == durationType:
		want, fits = `a duration like "1h30m"`, n.kind == kindString || n.kind == kindNumber
	case t.Kind() == reflect.String:
		want, fits = "a string", n.kind == kindString
	case t.Kind() == reflect.Bool:
		want, fits = "true or false", n.kind == kindBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		want, fits = "a whole number", n.kind == kindNumber
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		want, fits = "a number", n.kind == kindNumber
	}
	if !fits {
		c.add(path, line, fmt.Sprintf("want %s, got %s", want, got(n)))
		return
	}
	var b bytes.Buffer
	err := n.writeJSON(&b)
	if err == nil {
		err = json.Unmarshal(b.Bytes(), reflect.New(t).Interface())
	}
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &te) && want != "":
		c.add(path, line, fmt.Sprintf("want %s, got %s", want, got(n)))
	default:
		c.add(path, line, strings.TrimPrefix(err.Error(), "json: "))
	}
}

// fieldType returns the type of t's field that encoding/json decodes
// key into: the exact name of its tag, else one that differs only in case.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}

// got names a value for a message: "a list", "a mapping", "true", "1.5",
// or a string quoted and cut.
func got(n *node) string {
	switch n.kind {
	case kindList:
		return "a list"
	case kindMap:
		return "a mapping"
	case kindNull:
		return "null"
	case kindString:
		return strconv.Quote(textfmt.Fit(n.scalar.(string), 40, "…"))
	}
	return fmt.Sprint(n.scalar)
}
