package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/statesrv/statesrv/crontab"
	"github.com/statesrv/statesrv/importer"
	"github.com/statesrv/statesrv/textfmt"
)

// wrapping is what an import writes and says so that the imported jobs
// report through "statesrv exec": a job that does not report times out at
// every run the server opens for it.
type wrapping struct {
	file, out, bin, server, url string
	system, apply, yes          bool
}

// crontab returns the source crontab with the lines of the proposals, and
// of the jobs the server already defines, running through exec.
func (w wrapping) crontab(raw []byte, res importer.Result) ([]byte, error) {
	ids := map[int]int64{}
	for _, p := range slices.Concat(res.Known, res.Proposals) {
		ids[p.Line] = p.ID
	}
	out, err := crontab.Wrap(raw, ids, crontab.WrapOptions{Bin: w.bin, Server: w.server, System: w.system})
	if err != nil {
		return nil, fmt.Errorf("%s: rewrite: %w", w.file, err)
	}
	return out, nil
}

// finish writes the rewritten crontab to --out, if given, and says on
// stderr what to install, in which order.
func (w wrapping) finish(kind string, rewritten []byte, res importer.Result, stderr io.Writer) error {
	jobs := slices.Concat(res.Known, res.Proposals)
	if kind == importer.Schtasks {
		w.tasks(jobs, stderr)
		return nil
	}
	if w.out != "" {
		// 0600: a crontab may set secrets in its environment lines.
		if err := os.WriteFile(w.out, rewritten, 0o600); err != nil {
			return err
		}
	}
	switch {
	case len(jobs) == 0:
		return nil
	case w.out == "":
		fmt.Fprintf(stderr, "statesrv import: the imported jobs must report through \"statesrv exec\", or each of their runs "+
			"times out: add --out NEW to write the crontab rewritten to run them so\n")
		return nil
	}
	fmt.Fprintf(stderr, "statesrv import: wrote %s, the crontab with %d job lines running through \"statesrv exec --id N --\".\n"+
		"Install, in this order (the server must know the ids before the jobs report):\n", w.out, len(jobs))
	url := textfmt.OneLine(w.url)
	switch {
	case w.apply && w.yes:
		fmt.Fprintf(stderr, "  1. the definitions: applied above\n")
	case w.apply:
		fmt.Fprintf(stderr, "  1. the definitions: re-run this import with --yes\n")
	case url == "":
		fmt.Fprintf(stderr, "  1. the definitions: statesrv apply -f DOC --url URL --yes   (DOC: the document printed on stdout)\n")
	default:
		fmt.Fprintf(stderr, "  1. the definitions: statesrv apply -f DOC --url %s --yes   (DOC: the document printed on stdout)\n", url)
	}
	if w.system {
		place := "/etc/crontab or /etc/cron.d/NAME, where the source was"
		if crontab.SystemFile(w.file) {
			place = w.file
		}
		fmt.Fprintf(stderr, "  2. the crontab, in place of %s: e.g. sudo install -m 644 %s %s   (cron reads it at once)\n",
			place, w.out, textfmt.OneLine(w.file))
	} else {
		fmt.Fprintf(stderr, "  2. the crontab: crontab %s   (as the user it belongs to; it replaces that user's whole crontab)\n", w.out)
	}
	if !strings.ContainsAny(w.bin, `/\`) {
		fmt.Fprintf(stderr, "  cron runs jobs with a short PATH (often /usr/bin:/bin): if %s is not there, give --bin with its full path\n", w.bin)
	}
	return nil
}

// tasks says how to change the action of each imported task so that it
// runs through exec.
func (w wrapping) tasks(jobs []crontab.Proposal, stderr io.Writer) {
	if len(jobs) == 0 {
		return
	}
	flags := ""
	if w.server != "" {
		flags = " --server " + w.server
	}
	fmt.Fprintf(stderr, "statesrv import: each task's action must run through \"statesrv exec\", or each of its runs times out. "+
		"Once the definitions are applied, change the actions (program, then arguments; a task with several actions: each):\n")
	for _, p := range jobs {
		fmt.Fprintf(stderr, "  %s, process %d: %s   exec --id %d%s -- %s\n", p.From, p.ID, w.bin, p.ID, flags, textfmt.OneLine(p.Description))
	}
}
