package document_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/document"
)

// FuzzRead reads arbitrary bytes as YAML and as JSON. Read must not panic,
// and what it accepts must survive a round trip: written back in either
// format and read again, the same definitions, and written once more, the
// same bytes.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"testdata/two.yaml", "testdata/two.json"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	for _, s := range []string{
		// The README's definitions, as a document.
		`{"processes": [{"id": 25, "name": "JajaBackupData", "schedule": "* * * * *", "timezone": "Europe/Prague",
  "max_runtime": "2h", "enabled": true,
  "alerts": {"fail": ["mailto:ops@example.com"], "timeout": ["mailto:ops@example.com"]}},
 {"id": 26, "name": "NightlyExport", "enabled": true}]}`,
		"processes:\n- id: 27\n  name: NewJob\n  schedule: 0 3 * * *\n  max_runtime: 90\n  repeat_every: 1.5\n",
		"processes:\n- id: 7\n  name: '0123'\n  description: 2026-01-01\n  schedule: '@daily'\n  enabled: true\n",
		"processes:\n- &p {id: 1, name: a, alerts: {ok: &r [mailto:a@example.com]}}\n- {id: 2, name: b, alerts: {fail: *r}}\n",
		"processes: []\n",
		"{\"processes\": null}",
		"a: &a [x, x]\nb: [*a, *a]\n",
		"processes:\n- name: \"\\L\\x00\\t \"\n  key: \"\\N\"\n  description: !!binary aGk=\n",
		"# nothing\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, in := range []string{"yaml", "json"} {
			procs, err := document.Read(bytes.NewReader(raw), "x."+in)
			if err != nil {
				continue
			}
			for _, out := range []string{"yaml", "json"} {
				first := mustWrite(t, out, procs)
				again, err := document.Read(bytes.NewReader(first), "x."+out)
				if err != nil {
					t.Fatalf("read as %s, written as %s, does not read back: %v\n%s", in, out, err, first)
				}
				if !sameProcesses(procs, again) {
					t.Fatalf("read as %s, written as %s, reads back different:\n%+v\nwant:\n%+v\n%s", in, out, again, procs, first)
				}
				if second := mustWrite(t, out, again); !bytes.Equal(first, second) {
					t.Fatalf("written as %s twice, different:\n%s\nthen:\n%s", out, first, second)
				}
			}
		}
	})
}

func mustWrite(t *testing.T, format string, procs []statesrv.Process) []byte {
	t.Helper()
	entries := make([]document.Entry, len(procs))
	for i, p := range procs {
		entries[i] = document.Entry{Process: p}
	}
	var b bytes.Buffer
	if err := document.Write(&b, format, "", entries); err != nil {
		t.Fatalf("write %s: %v", format, err)
	}
	return b.Bytes()
}

// sameProcesses compares definitions as a document holds them: an empty
// list is the same as none (Write writes alert lists always, maintenance
// only when it has windows).
func sameProcesses(a, b []statesrv.Process) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := emptiesAsNil(a[i]), emptiesAsNil(b[i])
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func emptiesAsNil(p statesrv.Process) statesrv.Process {
	for _, l := range []*[]string{&p.Alerts.OK, &p.Alerts.Fail, &p.Alerts.Timeout, &p.Alerts.Late, &p.Alerts.Recovered} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	if len(p.Maintenance) == 0 {
		p.Maintenance = nil
	}
	return p
}
