package statesrv

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/statesrv/statesrv/textfmt"
)

// This file describes the fields of a Process once: their wire names, how
// each reads as text and how two definitions differ. The document of
// `statesrv apply`/`export`, the plan of apply, the dashboard's change
// history and the process form all read ProcessFields.
//
// Adding a field: the field of Process, its entry in ProcessFields
// (TestProcessFieldsCoverProcess and TestDiff say when one is missing), its
// input on the process form (web/page_processes_form.go: inputs and
// parseProcessForm; views/processes_form.templ), its rule in
// commands.NormalizeProcess if it has one, and SPEC.md.

// FieldKind says what sort of value a field holds, which decides how a diff
// shows it.
type FieldKind int

const (
	// KindID is the process id: two versions of one definition share it.
	KindID FieldKind = iota
	// KindText is free text (a name, a schedule): a command line quotes it.
	KindText
	// KindValue is a duration, a number, a flag or a word.
	KindValue
	// KindList is a list; its text joins the items with ", ".
	KindList
	// KindRecipients is a list of alert recipients (mailto:, sms:, https:).
	KindRecipients
	// KindSecret is a secret: a diff says only whether it is set or changed.
	KindSecret
	// KindDerived is set by the server, never by a definition (key_set,
	// key_hash): a diff never lists it, and a definition's value is ignored.
	KindDerived
)

// Field describes one field of a Process.
type Field struct {
	// Name is the wire name, as in the API's JSON and in documents; a
	// nested field is dotted ("alerts.fail").
	Name string
	Kind FieldKind
	// Optional fields are left out of a document, and of the listing of a
	// new definition, while they hold their zero value.
	Optional bool
	// Text writes the value as text: durations short ("2h", "1m30s"), lists
	// joined by ", ", "" for an empty text or list.
	Text func(p *Process) string
	// Value returns the value itself (string, int64, int, bool, Duration,
	// []string or []Window), for a document to write.
	Value func(p *Process) any
	// Strings points at the list of a KindRecipients or KindList field of
	// strings; it is nil for other fields.
	Strings func(p *Process) *[]string

	zero  func(p *Process) bool
	equal func(a, b *Process) bool
}

// IsZero reports whether p holds the field's zero value.
func (f *Field) IsZero(p *Process) bool { return f.zero(p) }

// Equal reports whether a and b hold the same value in the field.
func (f *Field) Equal(a, b *Process) bool { return f.equal(a, b) }

// ProcessFields lists the fields of a Process in wire order (the order of
// the API's JSON and of documents).
var ProcessFields = []Field{
	idField(),
	textField("name", func(p *Process) *string { return &p.Name }),
	textField("description", func(p *Process) *string { return &p.Description }),
	textField("schedule", func(p *Process) *string { return &p.Schedule }),
	textField("timezone", func(p *Process) *string { return &p.Timezone }),
	optional(durationField("max_runtime", func(p *Process) *Duration { return &p.MaxRuntime })),
	flagField("enabled", func(p *Process) *bool { return &p.Enabled }),
	keyField(),
	optional(keySetField()),
	optional(keyHashField()),
	recipientsField("alerts.ok", func(p *Process) *[]string { return &p.Alerts.OK }),
	recipientsField("alerts.fail", func(p *Process) *[]string { return &p.Alerts.Fail }),
	recipientsField("alerts.timeout", func(p *Process) *[]string { return &p.Alerts.Timeout }),
	recipientsField("alerts.late", func(p *Process) *[]string { return &p.Alerts.Late }),
	recipientsField("alerts.recovered", func(p *Process) *[]string { return &p.Alerts.Recovered }),
	optional(wordField("fired_by", func(p *Process) *string { return &p.FiredBy }, "server")),
	optional(numberField("alert_after", func(p *Process) *int { return &p.AlertAfter })),
	optional(durationField("repeat_every", func(p *Process) *Duration { return &p.RepeatEvery })),
	optional(windowsField("maintenance", func(p *Process) *[]Window { return &p.Maintenance })),
	optional(durationField("start_grace", func(p *Process) *Duration { return &p.StartGrace })),
	optional(durationField("min_runtime", func(p *Process) *Duration { return &p.MinRuntime })),
	optional(listField("tags", func(p *Process) *[]string { return &p.Tags })),
}

// FieldNamed returns the field of that wire name.
func FieldNamed(name string) (*Field, bool) {
	for i := range ProcessFields {
		if ProcessFields[i].Name == name {
			return &ProcessFields[i], true
		}
	}
	return nil, false
}

// Change is one field that differs between two definitions, with its old
// and new text. The texts of a KindSecret field are "" (unset) or "set",
// never the secret.
type Change struct {
	Field    *Field
	Old, New string
}

// Diff lists, in wire order, the fields in which b differs from a. With a
// nil a (a new definition), it lists the fields b sets: every field but the
// id, the empty ones and the optional ones at their zero value.
func Diff(a, b *Process) []Change {
	var out []Change
	for i := range ProcessFields {
		f := &ProcessFields[i]
		switch {
		case f.Kind == KindID || f.Kind == KindDerived:
			continue
		case a == nil && (f.Text(b) == "" || f.Optional && f.IsZero(b)):
			continue
		case a != nil && f.Equal(a, b):
			continue
		}
		c := Change{Field: f, New: f.shown(b)}
		if a != nil {
			c.Old = f.shown(a)
		}
		out = append(out, c)
	}
	return out
}

// shown is the text of f in a diff: a secret's value is never shown.
func (f *Field) shown(p *Process) string {
	s := f.Text(p)
	if f.Kind == KindSecret && s != "" {
		return "set"
	}
	return s
}

// Text writes the duration short: "2h", "1h30m", "1m30s", "0s".
func (d Duration) Text() string { return textfmt.GoDuration(time.Duration(d)) }

// Text writes the window as "SCHEDULE for DURATION".
func (w Window) Text() string { return w.Schedule + " for " + w.Duration.Text() }

func optional(f Field) Field {
	f.Optional = true
	return f
}

func idField() Field {
	return Field{Name: "id", Kind: KindID,
		Text:  func(p *Process) string { return strconv.FormatInt(p.ID, 10) },
		Value: func(p *Process) any { return p.ID },
		zero:  func(p *Process) bool { return p.ID == 0 },
		equal: func(a, b *Process) bool { return a.ID == b.ID }}
}

func textField(name string, at func(*Process) *string) Field {
	return Field{Name: name, Kind: KindText,
		Text:  func(p *Process) string { return *at(p) },
		Value: func(p *Process) any { return *at(p) },
		zero:  func(p *Process) bool { return *at(p) == "" },
		equal: func(a, b *Process) bool { return *at(a) == *at(b) }}
}

// keyField is the process key: its text is "set" or "", never the key,
// and a document writes it only when given in clear. Two definitions
// differ in it when one gives a key in clear or removes it (a key given
// again in clear may be the same; only the server can tell) or, both
// stored, when their hashes differ; a definition that leaves the key out
// keeps it.
func keyField() Field {
	return Field{Name: "key", Kind: KindSecret, Optional: true,
		Text: func(p *Process) string {
			if p.HasKey() {
				return "set"
			}
			return ""
		},
		Value: func(p *Process) any {
			if p.Key == nil {
				return ""
			}
			return *p.Key
		},
		zero:  func(p *Process) bool { return p.Key == nil },
		equal: keyEqual}
}

func keyEqual(a, b *Process) bool {
	removes := func(p *Process) bool { return p.Key != nil && *p.Key == "" }
	switch {
	case a.Key == nil && b.Key == nil:
		return a.KeyHash == b.KeyHash
	case removes(a) || removes(b):
		return !a.HasKey() && !b.HasKey()
	default:
		return a.Key != nil && b.Key != nil && *a.Key == *b.Key
	}
}

// keySetField shows that a key is set (Redacted); a definition's value is
// ignored, so a document may carry it back.
func keySetField() Field {
	return Field{Name: "key_set", Kind: KindDerived,
		Text:  func(p *Process) string { return strconv.FormatBool(p.KeySet) },
		Value: func(p *Process) any { return p.KeySet },
		zero:  func(p *Process) bool { return !p.KeySet },
		equal: func(a, b *Process) bool { return true }}
}

// keyHashField is the stored hash of the key: never written to a document
// nor shown in a diff.
func keyHashField() Field {
	return Field{Name: "key_hash", Kind: KindDerived,
		Text:  func(p *Process) string { return "" },
		Value: func(p *Process) any { return "" },
		zero:  func(p *Process) bool { return true },
		equal: func(a, b *Process) bool { return true }}
}

// wordField is a text field whose empty value reads as unset.
func wordField(name string, at func(*Process) *string, unset string) Field {
	f := textField(name, at)
	f.Text = func(p *Process) string {
		if s := *at(p); s != "" {
			return s
		}
		return unset
	}
	return f
}

func durationField(name string, at func(*Process) *Duration) Field {
	return Field{Name: name, Kind: KindValue,
		Text:  func(p *Process) string { return at(p).Text() },
		Value: func(p *Process) any { return *at(p) },
		zero:  func(p *Process) bool { return *at(p) == 0 },
		equal: func(a, b *Process) bool { return *at(a) == *at(b) }}
}

func flagField(name string, at func(*Process) *bool) Field {
	return Field{Name: name, Kind: KindValue,
		Text:  func(p *Process) string { return strconv.FormatBool(*at(p)) },
		Value: func(p *Process) any { return *at(p) },
		zero:  func(p *Process) bool { return !*at(p) },
		equal: func(a, b *Process) bool { return *at(a) == *at(b) }}
}

func numberField(name string, at func(*Process) *int) Field {
	return Field{Name: name, Kind: KindValue,
		Text:  func(p *Process) string { return strconv.Itoa(*at(p)) },
		Value: func(p *Process) any { return *at(p) },
		zero:  func(p *Process) bool { return *at(p) == 0 },
		equal: func(a, b *Process) bool { return *at(a) == *at(b) }}
}

func recipientsField(name string, at func(*Process) *[]string) Field {
	return Field{Name: name, Kind: KindRecipients, Strings: at,
		Text:  func(p *Process) string { return strings.Join(*at(p), ", ") },
		Value: func(p *Process) any { return *at(p) },
		zero:  func(p *Process) bool { return len(*at(p)) == 0 },
		equal: func(a, b *Process) bool { return slices.Equal(*at(a), *at(b)) }}
}

func listField(name string, at func(*Process) *[]string) Field {
	return Field{Name: name, Kind: KindList, Strings: at,
		Text:  func(p *Process) string { return strings.Join(*at(p), ", ") },
		Value: func(p *Process) any { return *at(p) },
		zero:  func(p *Process) bool { return len(*at(p)) == 0 },
		equal: func(a, b *Process) bool { return slices.Equal(*at(a), *at(b)) }}
}

func windowsField(name string, at func(*Process) *[]Window) Field {
	return Field{Name: name, Kind: KindList,
		Text: func(p *Process) string {
			parts := make([]string, len(*at(p)))
			for i, w := range *at(p) {
				parts[i] = w.Text()
			}
			return strings.Join(parts, ", ")
		},
		Value: func(p *Process) any { return *at(p) },
		zero:  func(p *Process) bool { return len(*at(p)) == 0 },
		equal: func(a, b *Process) bool { return slices.Equal(*at(a), *at(b)) }}
}
