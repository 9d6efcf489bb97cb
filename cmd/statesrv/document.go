package main

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
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands/schedule"
	"go.yaml.in/yaml/v3"
)

// A document is what export writes and apply reads: the process
// definitions, as {"processes": [...]} in JSON or the same structure in
// YAML. Each process has the fields of SPEC §6's process JSON.

// docProcess is a process as a document writes it: the fields of
// statesrv.Process in the same order, max_runtime as short text ("2h"
// rather than "2h0m0s"). TestDocProcessFields keeps the two in step.
type docProcess struct {
	ID          int64       `json:"id" yaml:"id"`
	Name        string      `json:"name" yaml:"name"`
	Description string      `json:"description" yaml:"description"`
	Schedule    string      `json:"schedule" yaml:"schedule"`
	Timezone    string      `json:"timezone" yaml:"timezone"`
	MaxRuntime  string      `json:"max_runtime" yaml:"max_runtime"`
	Enabled     bool        `json:"enabled" yaml:"enabled"`
	Key         string      `json:"key" yaml:"key"`
	Alerts      docAlerts   `json:"alerts" yaml:"alerts"`
	FiredBy     string      `json:"fired_by,omitempty" yaml:"fired_by,omitempty"`
	AlertAfter  int         `json:"alert_after,omitempty" yaml:"alert_after,omitempty"`
	RepeatEvery string      `json:"repeat_every,omitempty" yaml:"repeat_every,omitempty"`
	Maintenance []docWindow `json:"maintenance,omitempty" yaml:"maintenance,omitempty"`
}

// docWindow is a maintenance window with its duration as text.
type docWindow struct {
	Schedule string `json:"schedule" yaml:"schedule"`
	Duration string `json:"duration" yaml:"duration"`
}

// docAlerts is statesrv.Alerts with YAML names.
type docAlerts struct {
	OK        []string `json:"ok" yaml:"ok"`
	Fail      []string `json:"fail" yaml:"fail"`
	Timeout   []string `json:"timeout" yaml:"timeout"`
	Late      []string `json:"late" yaml:"late"`
	Recovered []string `json:"recovered" yaml:"recovered"`
}

func toDoc(p statesrv.Process) docProcess {
	list := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	var ws []docWindow
	for _, w := range p.Maintenance {
		ws = append(ws, docWindow{Schedule: w.Schedule, Duration: schedule.ShortDuration(time.Duration(w.Duration))})
	}
	return docProcess{ID: p.ID, Name: p.Name, Description: p.Description, Schedule: p.Schedule,
		FiredBy: p.FiredBy, AlertAfter: p.AlertAfter, Maintenance: ws, RepeatEvery: repeatText(p.RepeatEvery),
		Timezone: p.Timezone, MaxRuntime: schedule.ShortDuration(time.Duration(p.MaxRuntime)),
		Enabled: p.Enabled, Key: p.Key, Alerts: docAlerts{OK: list(p.Alerts.OK),
			Fail: list(p.Alerts.Fail), Timeout: list(p.Alerts.Timeout), Late: list(p.Alerts.Late),
			Recovered: list(p.Alerts.Recovered)}}
}

// commented is a process with comment lines written above it in YAML.
type commented struct {
	statesrv.Process
	Comment string
}

// writeDocument writes the processes as a document in format "yaml" or
// "json". header, if not empty, is written as comment lines atop a YAML
// document (JSON has no comments).
func writeDocument(w io.Writer, format, header string, procs []commented) error {
	switch format {
	case "json":
		doc := struct {
			Processes []docProcess `json:"processes"`
		}{Processes: []docProcess{}}
		for _, p := range procs {
			doc.Processes = append(doc.Processes, toDoc(p.Process))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(doc)
	case "yaml":
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, p := range procs {
			var n yaml.Node
			if err := n.Encode(toDoc(p.Process)); err != nil {
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
	return fmt.Errorf("%w: --format: want yaml or json", errUsage)
}

// maxDocument bounds the document apply reads.
const maxDocument = 16 << 20

// readDocument reads a document from r. name (a file name, "-" for stdin)
// decides the format by its extension (.json, .yaml, .yml); otherwise a
// document that starts with '{' is JSON and any other YAML. Unknown fields
// are errors.
func readDocument(r io.Reader, name string) ([]statesrv.Process, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxDocument {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, maxDocument>>20)
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
	return *doc.Processes, nil
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
	budget := maxYAMLNodes
	v, err := yamlValue(&n, 0, &budget)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// maxYAMLNodes bounds the values a document may expand to (aliases can
// repeat a part many times over).
const maxYAMLNodes = 1_000_000

// yamlValue converts n to the values encoding/json writes, counting every
// value it makes against budget.
func yamlValue(n *yaml.Node, depth int, budget *int) (any, error) {
	*budget--
	switch {
	case depth > 64:
		return nil, fmt.Errorf("line %d: nested too deep", n.Line)
	case *budget < 0:
		return nil, fmt.Errorf("line %d: more than %d values", n.Line, maxYAMLNodes)
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
			v, err := yamlValue(n.Content[i+1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.ScalarNode:
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
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// repeatText writes repeat_every, or nothing when it is off.
func repeatText(d statesrv.Duration) string {
	if d == 0 {
		return ""
	}
	return schedule.ShortDuration(time.Duration(d))
}
