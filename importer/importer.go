// Package importer proposes process definitions for the schedules a machine
// already has: it reads a source with its parser (crontab, schtasks), leaves
// out the jobs a server already defines, gives the rest ids and keeps only
// those that validate. What it cannot map it reports as warnings, never
// guesses. "statesrv import" prints the proposals as a document or applies
// them.
package importer

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/crontab"
	"github.com/statesrv/statesrv/schtasks"
	"github.com/statesrv/statesrv/textfmt"
)

// The sources Propose reads.
const (
	Crontab  = "crontab"  // a user or system crontab
	Schtasks = "schtasks" // the XML of "schtasks /query /xml"
)

// DefaultStartID is the first id of proposals made without a server.
const DefaultStartID = 1000

// Options are the settings of Propose.
type Options struct {
	// Name names the source in errors.
	Name string
	// Zone is the zone of times that name none ("" means UTC, with a
	// warning).
	Zone string
	// MaxRuntime is the max_runtime of the proposals (schtasks: of the
	// tasks without a time limit).
	MaxRuntime time.Duration
	// System reads a crontab in the system format (a user field).
	System bool
	// Microsoft includes the tasks under \Microsoft\ (Windows' own).
	Microsoft bool
	// StartID is the id of the first proposal; 0 means one past the
	// highest defined id with Defined, else DefaultStartID.
	StartID int64
	// Defined, if set, returns the definitions of the server the proposals
	// are for: the jobs it has (same description, schedule and zone) are
	// left out. It is called once the source has been read.
	Defined func() ([]statesrv.Process, error)
}

// Result is what Propose proposes.
type Result struct {
	// Proposals are numbered and valid, in the order of the source.
	Proposals []crontab.Proposal
	// Warnings say what was left out or changed, and why.
	Warnings []string
	// Defined is what opt.Defined returned.
	Defined []statesrv.Process
	// Known are the jobs of the source the server already defines, each
	// with the id of its definition there (their lines can be wrapped too).
	Known []crontab.Proposal
}

// Propose reads raw as source (Crontab or Schtasks) and proposes a
// definition for each job it can map exactly. It returns an error, naming
// opt.Name, when raw cannot be read as source at all, and the error of
// opt.Defined as it is.
func Propose(source string, raw []byte, opt Options) (Result, error) {
	var found crontab.Result
	var err error
	switch source {
	case Crontab:
		found, err = crontab.Parse(bytes.NewReader(raw), crontab.Options{Zone: opt.Zone, System: opt.System})
		for i := range found.Proposals {
			found.Proposals[i].MaxRuntime = statesrv.Duration(opt.MaxRuntime)
		}
	case Schtasks:
		found, err = schtasks.Parse(raw, schtasks.Options{Zone: opt.Zone, MaxRuntime: opt.MaxRuntime, Microsoft: opt.Microsoft})
	default:
		err = fmt.Errorf("unknown source %q", source)
	}
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", opt.Name, err)
	}
	if found.DefaultZone {
		found.Warn("times that name no zone were read in UTC: give --timezone (e.g. Europe/Prague) for the machine's zone")
	}
	var res Result
	first := opt.StartID
	if opt.Defined != nil {
		if res.Defined, err = opt.Defined(); err != nil {
			return Result{}, err
		}
		found.Proposals, res.Known = dropKnown(found.Proposals, res.Defined, &found)
		if first == 0 {
			first = 1
			for _, c := range res.Defined {
				first = max(first, c.ID+1)
			}
		}
	}
	if first == 0 {
		first = DefaultStartID
	}
	res.Proposals = numbered(found.Proposals, first, &found)
	res.Warnings = found.Warnings
	return res, nil
}

// dropKnown leaves out the proposals the server already has a definition
// for (same description, schedule and zone), so that importing twice
// proposes nothing new. It returns those apart, with the server's ids.
func dropKnown(props []crontab.Proposal, current []statesrv.Process, res *crontab.Result) (out, known []crontab.Proposal) {
	for _, p := range props {
		i := slices.IndexFunc(current, func(c statesrv.Process) bool {
			return c.Description == p.Description && c.Schedule == p.Schedule && c.Timezone == p.Timezone
		})
		if i < 0 {
			out = append(out, p)
			continue
		}
		c := current[i]
		res.Warn("%s: already defined as process %d (%s), left out", p.From, c.ID, textfmt.OneLine(c.Name))
		p.ID = c.ID
		known = append(known, p)
	}
	return out, known
}

// numbered gives the proposals ids counting up from start and leaves
// out, with a warning, any that does not validate.
func numbered(props []crontab.Proposal, start int64, res *crontab.Result) []crontab.Proposal {
	var out []crontab.Proposal
	for _, p := range props {
		p.ID = start
		if err := commands.NormalizeProcess(&p.Process); err != nil {
			res.Warn("%s: %s, left out", p.From, statesrv.ErrorMessage(err))
			continue
		}
		out = append(out, p)
		start++
	}
	return out
}
