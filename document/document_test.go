package document_test

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/document"
)

func hours(n float64) statesrv.Duration { return statesrv.Duration(n * float64(time.Hour)) }

// two are the definitions of testdata/two.yaml and two.json: one with
// every field set, one with none of the optional ones.
func two() []document.Entry {
	full := statesrv.Process{ID: 25, Name: "backup <&>", Description: "nightly\nsecond line: yes", Schedule: "0 2 * * *",
		Timezone: "Europe/Prague", MaxRuntime: hours(2), Enabled: true, Key: statesrv.Ptr("s3cret"),
		Alerts: statesrv.Alerts{OK: []string{"mailto:a@example.com"}, Fail: []string{"mailto:a@example.com", "sms:+420600000000"},
			Late: []string{"https://hooks.example.com/x?a=1&b=2"}},
		FiredBy: statesrv.FiredByCron, AlertAfter: 3, RepeatEvery: hours(4) + statesrv.Duration(time.Second),
		Maintenance: []statesrv.Window{{Schedule: "0 1 * * 0", Duration: hours(1.5)}, {Schedule: "@daily", Duration: hours(0.25)}},
		Tags:        []string{"backup", "nightly"}}
	bare := statesrv.Process{ID: 26, Name: "0123", MaxRuntime: statesrv.Duration(90 * time.Second)}
	return []document.Entry{{Process: full, Comment: "from crontab line 3"}, {Process: bare}}
}

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name, format, header, want string
		procs                      []document.Entry
	}{
		{name: "YAMLAsTestdata", format: "yaml", header: "header line\nsecond", procs: two(), want: mustRead(t, "testdata/two.yaml")},
		{name: "JSONAsTestdata", format: "json", header: "header line\nsecond", procs: two(), want: mustRead(t, "testdata/two.json")},
		{name: "YAMLEmptyList", format: "yaml", want: "processes: []\n"},
		{name: "JSONEmptyList", format: "json", want: "{\n  \"processes\": []\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := document.Write(&b, tc.format, tc.header, tc.procs); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("wrote:\n%s\nwant:\n%s", b.String(), tc.want)
			}
		})
	}
	t.Run("ErrFormat", func(t *testing.T) {
		if err := document.Write(&bytes.Buffer{}, "toml", "", nil); err == nil {
			t.Error("no error for toml")
		}
	})
}

// TestWriteReadsBack writes every field and reads the same definitions
// back, in both formats: a field the document lost would differ here.
func TestWriteReadsBack(t *testing.T) {
	want := []statesrv.Process{two()[0].Process, two()[1].Process}
	want[1].Alerts = statesrv.Alerts{OK: []string{}, Fail: []string{}, Timeout: []string{}, Late: []string{}, Recovered: []string{}}
	want[0].Alerts.Timeout, want[0].Alerts.Recovered = []string{}, []string{}
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := document.Write(&b, format, "", two()); err != nil {
				t.Fatal(err)
			}
			got, err := document.Read(&b, "p."+format)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back:\n%+v\nwant:\n%+v", got, want)
			}
		})
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		want             []statesrv.Process
		err              string
	}{
		{name: "SniffsJSON", file: "-", text: ` {"processes": [{"id": 1, "name": "a", "max_runtime": "2h"}]}`,
			want: []statesrv.Process{{ID: 1, Name: "a", MaxRuntime: statesrv.Duration(2 * time.Hour), Enabled: true}}},
		{name: "EnabledUnlessSaidOtherwise", file: "p.yaml",
			text: "processes:\n- {id: 1, name: a}\n- {id: 2, name: b, enabled: false}\n- {id: 3, name: c, enabled: null}\n",
			want: []statesrv.Process{{ID: 1, Name: "a", Enabled: true}, {ID: 2, Name: "b"}, {ID: 3, Name: "c", Enabled: true}}},
		{name: "YAMLKeepsStringsStrings", file: "p.yaml",
			text: "processes:\n- id: 7\n  name: '0123'\n  description: 2026-01-01\n  schedule: '@daily'\n  enabled: true\n",
			want: []statesrv.Process{{ID: 7, Name: "0123", Description: "2026-01-01", Schedule: "@daily", Enabled: true}}},
		{name: "EmptyList", file: "p.yml", text: "processes: []\n", want: []statesrv.Process{}},
		{name: "ErrNoProcesses", file: "p.yaml", text: "jobs: []\n", err: "unknown field"},
		{name: "ErrMissingList", file: "p.json", text: "{}", err: `no "processes" list`},
		{name: "ErrBadDuration", file: "p.yaml", text: "processes:\n- id: 1\n  max_runtime: soon\n", err: "bad duration"},
		{name: "ErrMaxRuntimeZero", file: "p.yaml", text: "processes:\n- {id: 1, name: a}\n- {id: 2, name: b, max_runtime: 0s}\n",
			err: "p.yaml: processes[1] (id 2), line 3: max_runtime: must be positive (leave it out for the default, 1h)"},
		{name: "ErrEmpty", file: "p.yaml", text: "", err: "empty document"},
		{name: "ErrOnlyComments", file: "p.yaml", text: "# nothing\n", err: "empty document"},
		{name: "ErrAliasBomb", file: "p.yaml", text: "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
			"g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", err: "more than 1000000 values"},
		// A thousand aliases of a 64 KiB scalar: few values, 64 MiB of text.
		{name: "ErrAliasBombText", file: "p.yaml", text: "a: &a " + strings.Repeat("x", 64<<10) + "\n" +
			"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
			"d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n", err: "expands to more than 32 MiB of text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := document.Read(strings.NewReader(tc.text), tc.file)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
