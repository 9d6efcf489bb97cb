package importer

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/statesrv/statesrv/crontab"
	"github.com/statesrv/statesrv/textfmt"
)

// Wrapping is what an import writes and says so that the imported jobs
// report through "statesrv exec": a job that does not report times out at
// every run the server opens for it.
type Wrapping struct {
	File   string // the source file, as named on the command line
	Out    string // where the rewritten crontab goes ("": nowhere)
	Bin    string // the statesrv binary the jobs run
	Server string // exec's --server ("": its default)
	URL    string // the server's base URL ("": none given)
	System bool   // a system crontab, with a user field
	Apply  bool   // the import applies the definitions itself
	Yes    bool   // and writes them (apply --yes)
}

// Crontab returns the source crontab raw with the lines of the proposals,
// and of the jobs the server already defines, running through exec.
func (w Wrapping) Crontab(raw []byte, res Result) ([]byte, error) {
	ids := map[int]int64{}
	for _, p := range slices.Concat(res.Known, res.Proposals) {
		ids[p.Line] = p.ID
	}
	out, err := crontab.Wrap(raw, ids, crontab.WrapOptions{Bin: w.Bin, Server: w.Server, System: w.System})
	if err != nil {
		return nil, fmt.Errorf("%s: rewrite: %w", w.File, err)
	}
	return out, nil
}

// Finish writes the rewritten crontab to Out, if given, and says on
// stderr what to install, in which order. kind is the source's (Crontab,
// Schtasks).
func (w Wrapping) Finish(kind string, rewritten []byte, res Result, stderr io.Writer) error {
	jobs := slices.Concat(res.Known, res.Proposals)
	if kind == Schtasks {
		w.tasks(jobs, stderr)
		return nil
	}
	if w.Out != "" {
		// 0600: a crontab may set secrets in its environment lines.
		if err := os.WriteFile(w.Out, rewritten, 0o600); err != nil {
			return err
		}
	}
	switch {
	case len(jobs) == 0:
		return nil
	case w.Out == "":
		fmt.Fprintf(stderr, "statesrv import: the imported jobs must report through \"statesrv exec\", or each of their runs "+
			"times out: add --out NEW to write the crontab rewritten to run them so\n")
		return nil
	}
	fmt.Fprintf(stderr, "statesrv import: wrote %s, the crontab with %d job lines running through \"statesrv exec --id N --\".\n"+
		"Install, in this order (the server must know the ids before the jobs report):\n", w.Out, len(jobs))
	url := textfmt.OneLine(w.URL)
	switch {
	case w.Apply && w.Yes:
		fmt.Fprintf(stderr, "  1. the definitions: applied above\n")
	case w.Apply:
		fmt.Fprintf(stderr, "  1. the definitions: re-run this import with --yes\n")
	case url == "":
		fmt.Fprintf(stderr, "  1. the definitions: statesrv apply -f DOC --url URL --yes   (DOC: the document printed on stdout)\n")
	default:
		fmt.Fprintf(stderr, "  1. the definitions: statesrv apply -f DOC --url %s --yes   (DOC: the document printed on stdout)\n", url)
	}
	if w.System {
		place := "/etc/crontab or /etc/cron.d/NAME, where the source was"
		if crontab.SystemFile(w.File) {
			place = w.File
		}
		fmt.Fprintf(stderr, "  2. the crontab, in place of %s: e.g. sudo install -m 644 %s %s   (cron reads it at once)\n",
			place, w.Out, textfmt.OneLine(w.File))
	} else {
		fmt.Fprintf(stderr, "  2. the crontab: crontab %s   (as the user it belongs to; it replaces that user's whole crontab)\n", w.Out)
	}
	if !strings.ContainsAny(w.Bin, `/\`) {
		fmt.Fprintf(stderr, "  cron runs jobs with a short PATH (often /usr/bin:/bin): if %s is not there, give --bin with its full path\n", w.Bin)
	}
	return nil
}

// tasks says how to change the action of each imported task so that it
// runs through exec.
func (w Wrapping) tasks(jobs []crontab.Proposal, stderr io.Writer) {
	if len(jobs) == 0 {
		return
	}
	flags := ""
	if w.Server != "" {
		flags = " --server " + w.Server
	}
	fmt.Fprintf(stderr, "statesrv import: each task's action must run through \"statesrv exec\", or each of its runs times out. "+
		"Once the definitions are applied, change the actions (program, then arguments; a task with several actions: each):\n")
	for _, p := range jobs {
		fmt.Fprintf(stderr, "  %s, process %d: %s   exec --id %d%s -- %s\n", p.From, p.ID, w.Bin, p.ID, flags, textfmt.OneLine(p.Description))
	}
}
