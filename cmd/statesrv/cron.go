package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/crontab"
)

const cronUsage = `usage: statesrv cron export [--url URL] [--bin PATH] [--tag TAG]

Prints a crontab whose lines open runs of the server's processes at their
scheduled times ("statesrv start --url URL ID"), for sites that keep cron
in charge. Definitions are read from the API (token from --token or
STATESRV_API_TOKEN). With --tag, only the processes with that tag.
`

func cmdCron(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: give a subcommand: export", errUsage)
	}
	switch args[0] {
	case "export":
		return cmdCronExport(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, cronUsage)
		return nil
	}
	return fmt.Errorf("%w: unknown subcommand %q (want export)", errUsage, args[0])
}

func cmdCronExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsUsage("cron export", cronUsage, stderr)
	base := fs.String("url", "http://localhost:8080", "base URL of the running server (token from --token or STATESRV_API_TOKEN)")
	token := tokenFlag(fs)
	bin := fs.String("bin", "statesrv", "the statesrv command as cron should run it, e.g. /usr/local/bin/statesrv")
	tag := fs.String("tag", "", "only the processes with this tag")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *tag != "" {
		if err := commands.ValidTag("--tag", *tag); err != nil {
			return fmt.Errorf("%w: %s", errUsage, statesrv.ErrorMessage(err))
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	procs, err := apiClient(*base, *token).Processes(ctx)
	if err != nil {
		return err
	}
	if *tag != "" {
		procs = slices.DeleteFunc(procs, func(p statesrv.Process) bool { return !p.HasTag(*tag) })
	}
	_, err = io.WriteString(stdout, crontab.Export(procs, *base, *bin))
	return err
}
