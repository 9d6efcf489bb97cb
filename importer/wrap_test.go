package importer_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/statesrv/statesrv/crontab"
	"github.com/statesrv/statesrv/importer"
)

func TestWrapping(t *testing.T) {
	const jobs = "0 3 * * * /usr/local/bin/backup.sh\n"
	res, err := importer.Propose(importer.Crontab, []byte(jobs), importer.Options{Name: "jobs"})
	if err != nil || len(res.Proposals) != 1 {
		t.Fatalf("Propose: %+v, %v", res, err)
	}
	id := res.Proposals[0].ID
	t.Run("crontab written with the order to install", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "new")
		w := importer.Wrapping{File: "jobs", Out: out, Bin: "statesrv", URL: "http://srv:8080"}
		rewritten, err := w.Crontab([]byte(jobs), res)
		if err != nil || !strings.Contains(string(rewritten), "statesrv exec --id ") {
			t.Fatalf("Crontab: %q, %v", rewritten, err)
		}
		var msg strings.Builder
		if err := w.Finish(importer.Crontab, rewritten, res, &msg); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(out)
		if err != nil || string(got) != string(rewritten) {
			t.Fatalf("--out holds %q, %v; want the rewritten crontab", got, err)
		}
		for _, want := range []string{"wrote " + out, "1. the definitions: statesrv apply -f DOC --url http://srv:8080 --yes",
			"2. the crontab: crontab " + out, "give --bin with its full path"} {
			if !strings.Contains(msg.String(), want) {
				t.Errorf("Finish said %q, want %q in it", msg.String(), want)
			}
		}
	})
	t.Run("without --out it says to add it", func(t *testing.T) {
		var msg strings.Builder
		if err := (importer.Wrapping{File: "jobs", Bin: "/usr/bin/statesrv"}).Finish(importer.Crontab, nil, res, &msg); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg.String(), "add --out NEW") {
			t.Errorf("Finish said %q, want it to ask for --out", msg.String())
		}
	})
	t.Run("tasks say their new action", func(t *testing.T) {
		tasks := importer.Result{Proposals: []crontab.Proposal{res.Proposals[0]}}
		var msg strings.Builder
		w := importer.Wrapping{File: "tasks.xml", Bin: `C:\statesrv.exe`, Server: "srv:2020"}
		if err := w.Finish(importer.Schtasks, nil, tasks, &msg); err != nil {
			t.Fatal(err)
		}
		if want := `exec --id ` + itoa(id) + ` --server srv:2020 -- `; !strings.Contains(msg.String(), want) {
			t.Errorf("Finish said %q, want %q in it", msg.String(), want)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
