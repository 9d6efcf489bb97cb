package statesrv_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
)

func hours(n float64) statesrv.Duration { return statesrv.Duration(n * float64(time.Hour)) }

// base is a definition with every field set.
func base() statesrv.Process {
	return statesrv.Process{ID: 25, Name: "backup", Description: "nightly", Schedule: "0 2 * * *",
		Timezone: "Europe/Prague", MaxRuntime: hours(2), Enabled: true, Key: statesrv.Ptr("s3cret"),
		Alerts: statesrv.Alerts{OK: []string{"mailto:a@example.com"}, Fail: []string{"mailto:a@example.com", "sms:+420600000000"},
			Timeout: []string{"mailto:b@example.com"}, Late: []string{"https://hooks.example.com/x"},
			Recovered: []string{"mailto:c@example.com"}},
		FiredBy: statesrv.FiredByCron, AlertAfter: 3, RepeatEvery: hours(4),
		Maintenance: []statesrv.Window{{Schedule: "0 1 * * 0", Duration: hours(1.5)}},
		StartGrace:  statesrv.Duration(5 * time.Minute), MinRuntime: statesrv.Duration(30 * time.Second),
		Tags: []string{"backup", "nightly"}}
}

// TestProcessFieldsCoverProcess keeps ProcessFields in step with Process:
// one entry per JSON field (alerts' fields nested), in the same order.
func TestProcessFieldsCoverProcess(t *testing.T) {
	var wire []string
	var walk func(rt reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		for i := range rt.NumField() {
			name := prefix + strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]
			if rt.Field(i).Type == reflect.TypeFor[statesrv.Alerts]() {
				walk(rt.Field(i).Type, name+".")
				continue
			}
			wire = append(wire, name)
		}
	}
	walk(reflect.TypeFor[statesrv.Process](), "")
	var names []string
	for _, f := range statesrv.ProcessFields {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, wire) {
		t.Errorf("ProcessFields %v,\nProcess's JSON fields %v", names, wire)
	}
	for _, f := range statesrv.ProcessFields {
		optional := strings.Contains(jsonTag(f.Name), "omitempty")
		if f.Optional != optional {
			t.Errorf("field %s: Optional %v, but omitempty %v in its JSON tag", f.Name, f.Optional, optional)
		}
	}
}

// jsonTag returns the JSON tag of the field of Process (or Alerts) with
// that wire name.
func jsonTag(name string) string {
	rt := reflect.TypeFor[statesrv.Process]()
	if rest, ok := strings.CutPrefix(name, "alerts."); ok {
		rt, name = reflect.TypeFor[statesrv.Alerts](), rest
	}
	for i := range rt.NumField() {
		if tag := rt.Field(i).Tag.Get("json"); strings.Split(tag, ",")[0] == name {
			return tag
		}
	}
	return ""
}

func TestFieldText(t *testing.T) {
	p := base()
	empty := statesrv.Process{}
	for _, tc := range []struct {
		name, field, want string
		p                 *statesrv.Process
	}{
		{"IDIsDecimal", "id", "25", &p},
		{"TextAsIs", "schedule", "0 2 * * *", &p},
		{"DurationShort", "max_runtime", "2h", &p},
		{"DurationWithSeconds", "max_runtime", "1h0m5s", &statesrv.Process{MaxRuntime: hours(1) + statesrv.Duration(5*time.Second)}},
		{"ZeroDuration", "repeat_every", "0s", &empty},
		{"FlagTrue", "enabled", "true", &p},
		{"FlagFalse", "enabled", "false", &empty},
		{"Number", "alert_after", "3", &p},
		{"RecipientsJoined", "alerts.fail", "mailto:a@example.com, sms:+420600000000", &p},
		{"NoRecipientsEmpty", "alerts.fail", "", &empty},
		{"WindowsWithDurations", "maintenance", "0 1 * * 0 for 1h30m", &p},
		{"FiredByCron", "fired_by", "cron", &p},
		{"FiredByUnsetIsServer", "fired_by", "server", &empty},
		{"KeyNeverShown", "key", "set", &p},
		{"KeyHashNeverShown", "key_hash", "", &statesrv.Process{KeyHash: statesrv.HashKey("s3cret")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := statesrv.FieldNamed(tc.field)
			if !ok {
				t.Fatalf("no field %q", tc.field)
			}
			if got := f.Text(tc.p); got != tc.want {
				t.Errorf("%s: text %q, want %q", tc.field, got, tc.want)
			}
		})
	}
}

// diffCase changes one field of base.
type diffCase struct {
	name     string
	change   func(p *statesrv.Process)
	field    string
	old, new string
}

func TestDiff(t *testing.T) {
	cases := []diffCase{
		{"NameChanged", func(p *statesrv.Process) { p.Name = "Backup" }, "name", "backup", "Backup"},
		{"DescriptionCleared", func(p *statesrv.Process) { p.Description = "" }, "description", "nightly", ""},
		{"ScheduleChanged", func(p *statesrv.Process) { p.Schedule = "0 3 * * *" }, "schedule", "0 2 * * *", "0 3 * * *"},
		{"TimezoneChanged", func(p *statesrv.Process) { p.Timezone = "UTC" }, "timezone", "Europe/Prague", "UTC"},
		{"MaxRuntimeChanged", func(p *statesrv.Process) { p.MaxRuntime = hours(0.5) }, "max_runtime", "2h", "30m"},
		{"Disabled", func(p *statesrv.Process) { p.Enabled = false }, "enabled", "true", "false"},
		{"KeyChangedHidesIt", func(p *statesrv.Process) { p.Key = statesrv.Ptr("other") }, "key", "set", "set"},
		{"KeyRemoved", func(p *statesrv.Process) { p.Key = statesrv.Ptr("") }, "key", "set", ""},
		{"OKRecipientAdded", func(p *statesrv.Process) { p.Alerts.OK = append(p.Alerts.OK, "sms:+420600000001") },
			"alerts.ok", "mailto:a@example.com", "mailto:a@example.com, sms:+420600000001"},
		{"FailRecipientsCleared", func(p *statesrv.Process) { p.Alerts.Fail = nil },
			"alerts.fail", "mailto:a@example.com, sms:+420600000000", ""},
		{"TimeoutRecipientChanged", func(p *statesrv.Process) { p.Alerts.Timeout = []string{"mailto:c@example.com"} },
			"alerts.timeout", "mailto:b@example.com", "mailto:c@example.com"},
		{"LateRecipientsCleared", func(p *statesrv.Process) { p.Alerts.Late = []string{} },
			"alerts.late", "https://hooks.example.com/x", ""},
		{"RecoveredRecipientChanged", func(p *statesrv.Process) { p.Alerts.Recovered = []string{"mailto:d@example.com"} },
			"alerts.recovered", "mailto:c@example.com", "mailto:d@example.com"},
		{"FiredByServer", func(p *statesrv.Process) { p.FiredBy = "" }, "fired_by", "cron", "server"},
		{"AlertAfterOff", func(p *statesrv.Process) { p.AlertAfter = 0 }, "alert_after", "3", "0"},
		{"RepeatEveryOff", func(p *statesrv.Process) { p.RepeatEvery = 0 }, "repeat_every", "4h", "0s"},
		{"WindowAdded", func(p *statesrv.Process) {
			p.Maintenance = append(p.Maintenance, statesrv.Window{Schedule: "@daily", Duration: hours(1)})
		}, "maintenance", "0 1 * * 0 for 1h30m", "0 1 * * 0 for 1h30m, @daily for 1h"},
		{"StartGraceOff", func(p *statesrv.Process) { p.StartGrace = 0 }, "start_grace", "5m", "0s"},
		{"MinRuntimeLonger", func(p *statesrv.Process) { p.MinRuntime = statesrv.Duration(90 * time.Second) },
			"min_runtime", "30s", "1m30s"},
		{"TagAdded", func(p *statesrv.Process) { p.Tags = append(p.Tags, "prod") }, "tags", "backup, nightly", "backup, nightly, prod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := base(), base()
			tc.change(&b)
			got := statesrv.Diff(&a, &b)
			if len(got) != 1 || got[0].Field.Name != tc.field || got[0].Old != tc.old || got[0].New != tc.new {
				t.Fatalf("Diff = %s, want one change of %s: %q → %q", changed(got), tc.field, tc.old, tc.new)
			}
		})
	}
	t.Run("EveryFieldButTheIDHasACase", func(t *testing.T) {
		// A field added to Process needs its case above.
		for _, f := range statesrv.ProcessFields {
			if f.Kind != statesrv.KindID && f.Kind != statesrv.KindDerived && !slices.ContainsFunc(cases, func(c diffCase) bool { return c.field == f.Name }) {
				t.Errorf("no case changes field %s", f.Name)
			}
		}
	})
	t.Run("DerivedFieldsNeverDiffer", func(t *testing.T) {
		a, b := base(), base()
		b.KeySet, b.KeyHash = true, "sha256:00:00"
		if got := statesrv.Diff(&a, &b); len(got) != 0 {
			t.Errorf("Diff = %s", changed(got))
		}
	})
	t.Run("KeyLeftOutKeepsIt", func(t *testing.T) {
		a, b := base(), base()
		a.Key, a.KeySet, b.Key = nil, true, nil
		if got := statesrv.Diff(&a, &b); len(got) != 0 {
			t.Errorf("Diff = %s", changed(got))
		}
	})
	t.Run("StoredKeysDifferByHash", func(t *testing.T) {
		a, b := base(), base()
		a.Key, b.Key = nil, nil
		a.KeyHash, b.KeyHash = statesrv.HashKey("one"), statesrv.HashKey("two")
		got := statesrv.Diff(&a, &b)
		if len(got) != 1 || got[0].Field.Name != "key" || got[0].Old != "set" || got[0].New != "set" {
			t.Errorf("Diff = %+v", got)
		}
	})
	t.Run("RemovingNoKeyNoChange", func(t *testing.T) {
		a, b := base(), base()
		a.Key, b.Key = nil, statesrv.Ptr("")
		if got := statesrv.Diff(&a, &b); len(got) != 0 {
			t.Errorf("Diff = %s", changed(got))
		}
	})
	t.Run("EqualDefinitionsNoChange", func(t *testing.T) {
		a, b := base(), base()
		if got := statesrv.Diff(&a, &b); len(got) != 0 {
			t.Errorf("Diff = %s", changed(got))
		}
	})
	t.Run("NilAndEmptyListsEqual", func(t *testing.T) {
		a, b := statesrv.Process{ID: 1}, statesrv.Process{ID: 1, Alerts: statesrv.Alerts{OK: []string{}}, Maintenance: []statesrv.Window{}}
		if got := statesrv.Diff(&a, &b); len(got) != 0 {
			t.Errorf("Diff = %s", changed(got))
		}
	})
	t.Run("SeveralInWireOrder", func(t *testing.T) {
		a, b := base(), base()
		b.Maintenance, b.Name, b.Alerts.Fail = nil, "x", nil
		if got, want := changed(statesrv.Diff(&a, &b)), "name,alerts.fail,maintenance"; got != want {
			t.Errorf("Diff = %s, want %s", got, want)
		}
	})
	t.Run("NewDefinitionListsWhatItSets", func(t *testing.T) {
		p := statesrv.Process{ID: 7, Name: "new", Timezone: "UTC", MaxRuntime: hours(1), Key: statesrv.Ptr("k"),
			Alerts: statesrv.Alerts{Fail: []string{"mailto:a@example.com"}}}
		got := statesrv.Diff(nil, &p)
		if s, want := changed(got), "name,timezone,max_runtime,enabled,key,alerts.fail"; s != want {
			t.Fatalf("Diff(nil) = %s, want %s", s, want)
		}
		if got[4].New != "set" || got[3].New != "false" || got[2].New != "1h" {
			t.Errorf("texts %+v", got)
		}
	})
	t.Run("NewDefinitionListsOptionalFieldsSet", func(t *testing.T) {
		p := base()
		want := 0
		for _, f := range statesrv.ProcessFields {
			if f.Kind != statesrv.KindID && f.Kind != statesrv.KindDerived {
				want++
			}
		}
		if n := len(statesrv.Diff(nil, &p)); n != want {
			t.Errorf("Diff(nil) lists %d fields, want %d", n, want)
		}
	})
}

func changed(cs []statesrv.Change) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Field.Name)
	}
	return strings.Join(names, ",")
}
