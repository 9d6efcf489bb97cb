package document_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/document"
)

// defined is a normalized definition with most fields set.
func defined() statesrv.Process {
	return statesrv.Process{ID: 25, Name: "backup", Description: "nightly", Schedule: "0 2 * * *",
		Timezone: "Europe/Prague", MaxRuntime: hours(2), Enabled: true, Key: statesrv.Ptr("s3cret"),
		Alerts: statesrv.Alerts{OK: []string{}, Fail: []string{"mailto:a@example.com", "sms:+420600000000"},
			Timeout: []string{}, Late: []string{}, Recovered: []string{}},
		FiredBy: statesrv.FiredByCron, AlertAfter: 3, RepeatEvery: hours(4),
		Maintenance: []statesrv.Window{{Schedule: "0 1 * * 0", Duration: hours(1.5)}}}
}

func TestPlanPrintsChanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *statesrv.Process)
		want   string
	}{
		{"TextQuoted", func(p *statesrv.Process) { p.Name = "x" }, `name "backup" → "x"`},
		{"TextCleared", func(p *statesrv.Process) { p.Description = "" }, `description "nightly" → ""`},
		{"TextClipped", func(p *statesrv.Process) { p.Description = strings.Repeat("é", 61) },
			`description "nightly" → "` + strings.Repeat("é", 59) + `…"`},
		{"DurationShort", func(p *statesrv.Process) { p.MaxRuntime = hours(0.5) }, "max_runtime 2h → 30m"},
		{"Flag", func(p *statesrv.Process) { p.Enabled = false }, "enabled true → false"},
		{"KeyOnlyChanged", func(p *statesrv.Process) { p.Key = statesrv.Ptr("other") }, "key changed"},
		{"RecipientsBracketed", func(p *statesrv.Process) { p.Alerts.Fail = []string{} },
			"alerts.fail [mailto:a@example.com, sms:+420600000000] → []"},
		{"FiredByServer", func(p *statesrv.Process) { p.FiredBy = "" }, `fired_by "cron" → "server"`},
		{"Number", func(p *statesrv.Process) { p.AlertAfter = 0 }, "alert_after 3 → 0"},
		{"RepeatOff", func(p *statesrv.Process) { p.RepeatEvery = 0 }, "repeat_every 4h → 0s"},
		{"WindowsBracketed", func(p *statesrv.Process) { p.Maintenance = nil }, "maintenance [0 1 * * 0 for 1h30m] → []"},
		{"SeveralInWireOrder", func(p *statesrv.Process) {
			p.Name, p.Maintenance, p.Alerts.OK = "y", nil, []string{"mailto:b@example.com"}
		}, `name "backup" → "y", alerts.ok [] → [mailto:b@example.com], maintenance [0 1 * * 0 for 1h30m] → []`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := defined()
			tc.change(&want)
			var b bytes.Buffer
			document.NewPlan([]statesrv.Process{want}, []statesrv.Process{defined()}, false).Print(&b)
			name := want.Name
			if got, line := b.String(), "~ 25 "+name+": "+tc.want+"\n"; !strings.HasPrefix(got, line) {
				t.Errorf("plan:\n%s\nwant first line:\n%s", got, line)
			}
		})
	}
}

func TestNewPlan(t *testing.T) {
	cur := []statesrv.Process{defined(), {ID: 30, Name: "old", Enabled: true}}
	renamed := defined()
	renamed.Name = "Backup"
	desired := []statesrv.Process{{ID: 27, Name: "new"}, renamed}

	t.Run("CreatesChangesAndKeepsUnlisted", func(t *testing.T) {
		pl := document.NewPlan(desired, cur, false)
		if len(pl.Create) != 1 || len(pl.Change) != 1 || len(pl.Remove) != 0 || pl.Unlisted != 1 {
			t.Fatalf("plan %+v", pl)
		}
		if ids := pl.Delete(); len(ids) != 0 {
			t.Errorf("Delete() = %v", ids)
		}
		var b bytes.Buffer
		pl.Print(&b)
		want := "+ 27 new\n~ 25 Backup: name \"backup\" → \"Backup\"\n1 to create, 1 to change, 0 to delete\n" +
			"1 definitions on the server are not in the document and are kept (--prune deletes them)\n"
		if b.String() != want {
			t.Errorf("plan:\n%s\nwant:\n%s", b.String(), want)
		}
	})
	t.Run("PruneRemoves", func(t *testing.T) {
		pl := document.NewPlan(desired, cur, true)
		if got := pl.Delete(); !slices.Equal(got, []int64{30}) || pl.Unlisted != 0 {
			t.Errorf("Delete() = %v, unlisted %d", got, pl.Unlisted)
		}
		var ids []int64
		for _, p := range pl.Define() {
			ids = append(ids, p.ID)
		}
		if !slices.Equal(ids, []int64{27, 25}) {
			t.Errorf("Define() ids %v, want the created then the changed", ids)
		}
	})
	t.Run("SameDefinitionsEmpty", func(t *testing.T) {
		if pl := document.NewPlan([]statesrv.Process{defined()}, cur[:1], false); !pl.Empty() {
			t.Errorf("plan %+v", pl)
		}
	})
	t.Run("ServerDefinitionNormalizedFirst", func(t *testing.T) {
		raw := defined()
		raw.Name, raw.Alerts = " backup ", statesrv.Alerts{Fail: raw.Alerts.Fail}
		if pl := document.NewPlan([]statesrv.Process{defined()}, []statesrv.Process{raw}, false); !pl.Empty() {
			t.Errorf("plan %+v", pl)
		}
	})
}

func TestValidate(t *testing.T) {
	procs := []statesrv.Process{{ID: 1, Name: "a"}, {Name: "no id"}, {ID: 1, Name: "again"}, {ID: 2, Name: "b", Schedule: "nope"}}
	got := document.Validate(procs)
	want := []string{"processes[1]: id: must be a positive integer", "processes[2] (id 1): id 1 is also processes[0]"}
	if len(got) != 3 || got[0].String() != want[0] || got[1].String() != want[1] || !strings.HasPrefix(got[2].String(), "processes[3] (id 2): schedule: ") {
		t.Errorf("Validate = %q", got)
	}
	if procs[0].Timezone != "UTC" {
		t.Error("Validate did not normalize in place")
	}
	if got := document.Validate(procs[:1]); got != nil {
		t.Errorf("Validate of a valid list = %q", got)
	}
}

// TestPlanKeys: a key left out (or only key_set, as exported) keeps the
// one set; "" removes it; a key in clear is a change only the server can
// confirm (KeyOnly, Settle).
func TestPlanKeys(t *testing.T) {
	server := defined()
	server.Key, server.KeySet = nil, true
	for _, tc := range []struct {
		name    string
		key     *string
		keySet  bool
		changes int
	}{
		{"LeftOutKeeps", nil, false, 0},
		{"ExportedKeySetKeeps", nil, true, 0},
		{"EmptyRemoves", statesrv.Ptr(""), false, 1},
		{"InClearAsksTheServer", statesrv.Ptr("s3cret"), false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := defined()
			want.Key, want.KeySet = tc.key, tc.keySet
			pl := document.NewPlan([]statesrv.Process{want}, []statesrv.Process{server}, false)
			if len(pl.Change) != tc.changes {
				t.Fatalf("%d changes, want %d", len(pl.Change), tc.changes)
			}
			inClear := tc.key != nil && *tc.key != ""
			if got := len(pl.KeyOnly()); got != map[bool]int{true: 1}[inClear] {
				t.Errorf("KeyOnly = %d", got)
			}
			if inClear {
				pl.Settle(nil) // the server says it is the key set
				if !pl.Empty() {
					t.Errorf("settled plan still changes %+v", pl.Change)
				}
			}
		})
	}
}
