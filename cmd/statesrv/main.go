package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"
	_ "time/tzdata" // zone data for schedules on hosts without it

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/envflag"
)

const usage = `usage: statesrv <command> [flags]

commands:
  serve     run the server (TCP reports, web dashboard and API, scheduler)
  report    send one report over TCP and wait for its ACK
  exec      run a job and report its START and its end (OK or FAIL)
  start     open a run of a process now
  replay    print the event log
  rebuild   drop every view and rebuild it from the log
  state     the views as they stood at a moment
  verify    check the log's hash chain and sequence
  backup    write the whole log to stdout (online with --url)
  restore   create a log from a backup in an empty --data directory
  user      user add|list|reset-password: the users of a server (--url) or of a stopped server's data (--data)
  cron      cron export: crontab lines that open runs from the system cron
  export    print the process definitions as a YAML or JSON document
  apply     make the definitions those of a document (shows the changes; --yes writes)
  import    propose definitions from a crontab or from schtasks XML
  load      load generator: pipelined reports over many connections
  version   print the version

Run 'statesrv <command> -h' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve": cmdServe, "report": cmdReport, "start": cmdStart, "replay": cmdReplay,
		"rebuild": cmdRebuild, "state": cmdState, "verify": cmdVerify, "load": cmdLoad,
		"exec": cmdExec, "cron": cmdCron, "backup": cmdBackup, "restore": cmdRestore,
		"export": cmdExport, "apply": cmdApply, "import": cmdImport, "user": cmdUser,
		"version": func(context.Context, []string, io.Writer, io.Writer) error {
			fmt.Fprintln(stdout, "statesrv", version)
			return nil
		},
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	fn, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "statesrv: unknown command %q\n\n%s", name, usage)
		return 2
	}
	if path := os.Getenv("STATESRV_CPUPROFILE"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			fmt.Fprintf(stderr, "statesrv: %v\n", err)
			return 1
		}
		defer stopProfile()
	}
	err := fn(ctx, args[1:], stdout, stderr)
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "statesrv %s: %v\n", name, err)
		return 2
	case errors.Is(err, errSilent):
		return 1
	case statesrv.ErrorCode(err) == statesrv.EAuth:
		fmt.Fprintf(stderr, "statesrv %s: %v\n(%s)\n", name, err, tokenHint)
		return 1
	}
	fmt.Fprintf(stderr, "statesrv %s: %v\n", name, err)
	return 1
}

// defaultMemoryLimit is the server's soft heap limit unless GOMEMLIMIT is set.
const defaultMemoryLimit = 1 << 30

// errSilent is a failure already explained on the output.
var errSilent = errors.New("failed")

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("statesrv "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// newFlagsUsage is newFlags with a usage text printed before the flags.
func newFlagsUsage(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := newFlags(name, stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage+"\nflags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; every flag not given takes STATESRV_<FLAG> from the
// environment where set (a flag on the command line wins).
func parse(fs *flag.FlagSet, args []string) error {
	return usageError(envflag.Parse(fs, args, envPrefix))
}

// envPrefix starts the environment variable of each flag.
const envPrefix = "STATESRV_"

// usageError marks err, from parsing flags, as a usage error (but -h).
func usageError(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}

// readFile calls read with the file named file ("-": stdin), and its name.
func readFile[T any](file string, read func(io.Reader, string) (T, error)) (T, error) {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			var zero T
			return zero, err
		}
		defer f.Close()
		r = f
	}
	return read(r, file)
}

// newLogger returns the server's logger: format "text" (slog's key=value
// lines) or "json" (one JSON object a line), at level and above.
func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level: want debug, info, warn or error", errUsage)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("%w: --log-format: want text or json", errUsage)
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var cfg Config
	fs.StringVar(&cfg.Data, "data", "./data", "storage directory")
	fs.StringVar(&cfg.TCP, "tcp", ":2020", "TCP report listener (empty: off)")
	fs.StringVar(&cfg.HTTP, "http", ":8080", "web dashboard, JSON API, HTTP pings (empty: off)")
	fs.StringVar(&cfg.AdminPassword, "admin-password", "", "password of user admin, set on first start")
	fs.StringVar(&cfg.APIToken, "api-token", "", "bearer token accepted by the JSON API")
	fs.StringVar(&cfg.SMTP, "smtp", "", "SMTP server URL for e-mail alerts")
	fs.StringVar(&cfg.SMSURL, "sms-url", "", "SMS gateway URL")
	fs.StringVar(&cfg.SMSToken, "sms-token", "", "bearer token for the SMS gateway")
	fs.StringVar(&cfg.PublicURL, "public-url", "http://localhost:8080", "base of links put into alerts")
	fs.DurationVar(&cfg.AlertRetryFor, "alert-retry-for", 24*time.Hour, "how long temporary alert delivery failures are retried")
	fs.DurationVar(&cfg.ClockSkew, "clock-skew", time.Minute, "how early a report may come for a fire time's run (0: off)")
	fs.IntVar(&cfg.TCPMaxConnsPerIP, "tcp-max-conns-per-ip", 256, "TCP connections one address may hold open")
	fs.IntVar(&cfg.UnprocessedRate, "unprocessed-rate", 600, "refused and unprocessed lines stored a minute per address (the rest only counted)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (serve HTTPS)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key file")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug|info|warn|error")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "text|json")
	fs.StringVar(&cfg.PIDFile, "pid-file", "", "write the pid to this file while running")
	fs.StringVar(&cfg.OIDC.Issuer, "oidc-issuer", "", "OpenID Connect issuer URL: single sign-on (off when empty)")
	fs.StringVar(&cfg.OIDC.ClientID, "oidc-client-id", "", "this server's client id at the OpenID Connect provider")
	fs.StringVar(&cfg.OIDC.ClientSecret, "oidc-client-secret", "", "the client's secret (better given as STATESRV_OIDC_CLIENT_SECRET)")
	fs.StringVar(&cfg.OIDC.RoleClaim, "oidc-role-claim", "", "ID token claim holding the role admin|editor|viewer (empty: every SSO user is a viewer)")
	fs.StringVar(&cfg.OIDC.RedirectURL, "oidc-redirect-url", "", "where the provider sends browsers back (default: --public-url + /login/sso/callback)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	if err := checkServeFlags(cfg); err != nil {
		return err
	}
	logger, err := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	cfg.Logger, cfg.Stdout = logger, stdout
	if os.Getenv("GOMEMLIMIT") == "" {
		// Badger allocates its memtables and table builders on the Go
		// heap; a soft limit bounds the heap's growth. It sits well above
		// the live heap under load (a few hundred MiB): a limit near it
		// makes the collector run without pause and halves ingest.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	m, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	if addr := os.Getenv("STATESRV_PPROF"); addr != "" {
		// Profiling endpoints for measurements, on their own listener.
		go http.ListenAndServe(addr, nil)
	}
	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case runErr = <-m.Failed():
		logger.Error("stopping after a failure", "error", runErr)
	}
	if err := m.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// startCPUProfile writes a CPU profile of the server to path until the
// returned function is called (STATESRV_CPUPROFILE, for measurements).
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
