package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/statesrv/statesrv"
	"github.com/statesrv/statesrv/clock"
	"github.com/statesrv/statesrv/commands"
	"github.com/statesrv/statesrv/commands/dispatch"
	"github.com/statesrv/statesrv/commands/tcp"
	"github.com/statesrv/statesrv/datadir"
	"github.com/statesrv/statesrv/eventlog"
	"github.com/statesrv/statesrv/metrics"
	"github.com/statesrv/statesrv/pidfile"
	"github.com/statesrv/statesrv/projections"
	"github.com/statesrv/statesrv/sso"
	"github.com/statesrv/statesrv/tlsreload"
	"github.com/statesrv/statesrv/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Config is the server's configuration (SPEC §2), built from defaults,
// environment and flags.
type Config struct {
	Data          string
	TCP           string
	HTTP          string
	AdminPassword string
	APIToken      string
	SMTP          string
	SMSURL        string
	SMSToken      string
	PublicURL     string
	AlertRetryFor time.Duration
	ClockSkew     time.Duration
	TLSCert       string
	TLSKey        string
	LogLevel      string
	LogFormat     string
	// PIDFile, when set, gets the server's pid while it runs.
	PIDFile string
	// OIDC configures single sign-on; an empty Issuer turns it off.
	OIDC OIDCConfig
	// TCPMaxConnsPerIP and UnprocessedRate bound what one address costs
	// (0: the defaults, 256 and 600 a minute).
	TCPMaxConnsPerIP int
	UnprocessedRate  int

	// Offline opens storage and the write side only: no listeners, no
	// loops, no admin set-up (the CLI's --data commands).
	Offline bool

	// For tests.
	Clock clock.Clock
	// FreeBytes measures the free space under the data directory (nil: the
	// file system's count); a test fills the disk here.
	FreeBytes func(dir string) (int64, error)
	Stdout    io.Writer
	Logger    *slog.Logger
}

// OIDCConfig is serve's --oidc-* flags.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret, RoleClaim, RedirectURL string
}

// Main is the running server: storage, the write side, the projection
// runner, the scheduler and the TCP and HTTP listeners. Tests start it on
// 127.0.0.1:0 with a temp directory.
type Main struct {
	cfg    Config
	logger *slog.Logger

	dir     *datadir.Dir
	Log     *eventlog.Badger
	Store   *projections.Store
	Runner  *projections.Runner
	Service *commands.Service

	dispatcher *dispatch.Dispatcher
	sso        *sso.Provider // with --oidc-issuer

	tcp      *tcp.Server
	http     *http.Server
	certs    *tlsreload.Reloader // with --tls-cert
	httpLn   net.Listener
	TCPAddr  string
	HTTPAddr string

	loops       sync.WaitGroup
	cancelLoops context.CancelFunc
	cancelTCP   context.CancelFunc
	tcpDone     chan struct{}
	failed      chan error
	closeOnce   sync.Once
}

// Open opens storage, brings the views and the write side up to the end of
// the log, binds the listeners and starts every loop.
func Open(ctx context.Context, cfg Config) (*Main, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Main{cfg: cfg, logger: cfg.Logger, failed: make(chan error, 1), tcpDone: make(chan struct{})}
	if !cfg.Offline && cfg.PIDFile != "" {
		if err := pidfile.Write(cfg.PIDFile); err != nil {
			return nil, err
		}
	}
	if err := m.open(ctx); err != nil {
		m.closeListeners()
		m.closeStorage()
		return nil, err
	}
	if !cfg.Offline {
		m.start()
	}
	return m, nil
}

// open opens storage and, unless offline, the alert channels, the
// listeners and the admin user, in that order: the first start's admin
// password is stored only once the ports are bound (SPEC §10), so a start
// that fails on a port or a TLS file stores nothing and the next start
// prints a new password (or takes --admin-password).
func (m *Main) open(ctx context.Context) error {
	if err := m.openStorage(ctx); err != nil || m.cfg.Offline {
		return err
	}
	var err error
	if m.dispatcher, err = m.newDispatcher(); err != nil {
		return err
	}
	if m.sso, err = m.discoverSSO(ctx); err != nil {
		return err
	}
	if err := m.listen(); err != nil {
		return err
	}
	return m.ensureAdmin(ctx)
}

// viewsBatchTime bounds the work of one batch of the views while the
// server follows the log: pages wait for the batch being applied, and under
// a full stream of reports unbounded batches made the overview wait
// hundreds of milliseconds (BENCHMARKS.md, pages under ingest).
const viewsBatchTime = 10 * time.Millisecond

func (m *Main) openStorage(ctx context.Context) error {
	start := time.Now()
	d, n, err := datadir.OpenServer(ctx, m.cfg.Data, datadir.ServerOptions{Logger: m.logger, Now: m.cfg.Clock.Now,
		FreeBytes: m.cfg.FreeBytes, Serving: !m.cfg.Offline, BatchTime: viewsBatchTime})
	if err != nil {
		return err
	}
	m.dir, m.Log, m.Store, m.Runner = d, d.Log, d.Store, d.Runner
	l := m.Log
	reload := commands.Load(m.Store, l)
	core, err := reload(ctx)
	if err != nil {
		return err
	}
	m.Service = commands.New(commands.Config{
		Log: l, Clock: m.cfg.Clock, Logger: m.logger, Core: core,
		Unprocessed: m.Store.UnprocessedMessage,
		FinishedRun: m.Store.FinishedRun, ClockSkew: m.cfg.ClockSkew, Reload: reload,
		UnprocessedRate: m.cfg.UnprocessedRate,
	})
	m.logger.Info("storage open", "data", m.cfg.Data, "last_seq", l.LastSeq(),
		"caught_up", n, "open_runs", len(core.Runs), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// ensureAdmin sets the admin password on the first start: the configured
// one, or a generated one printed once.
func (m *Main) ensureAdmin(ctx context.Context) error {
	pw, err := m.Service.FirstPassword(ctx, statesrv.ActorAdmin, m.cfg.AdminPassword, statesrv.ActorCLI)
	if err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	if pw != "" {
		fmt.Fprintf(m.cfg.Stdout, "statesrv: first start: user admin, password %s (shown once; change it after login)\n", pw)
	}
	return nil
}

func (m *Main) listen() error {
	if m.cfg.HTTP != "" && m.cfg.TLSCert != "" {
		var err error
		if m.certs, err = tlsreload.New(m.cfg.TLSCert, m.cfg.TLSKey); err != nil {
			return err
		}
	}
	met := metrics.New(metrics.Config{Log: m.Log, Runner: m.Runner, Logger: m.logger})
	if m.cfg.TCP != "" {
		srv := tcp.New(tcp.Config{Addr: m.cfg.TCP, MaxConnsPerIP: m.cfg.TCPMaxConnsPerIP, Logger: m.logger, Observe: met.Observer("tcp")}, m.Service)
		if err := srv.Listen(); err != nil {
			return listenError("--tcp", m.cfg.TCP, err)
		}
		m.tcp, m.TCPAddr = srv, srv.Addr().String()
	}
	if m.cfg.HTTP != "" {
		ln, err := net.Listen("tcp", m.cfg.HTTP)
		if err != nil {
			return listenError("--http", m.cfg.HTTP, err)
		}
		m.httpLn = ln
		m.HTTPAddr = ln.Addr().String()
		var tokens []string
		if m.cfg.APIToken != "" {
			tokens = append(tokens, m.cfg.APIToken)
		}
		h := web.NewHandler(web.Config{
			Service: m.Service, Runner: m.Runner, Log: m.Log, Logger: m.logger,
			Tokens: tokens, Version: version, TCPAddr: m.TCPAddr, Healthy: m.dir.Degraded,
			Metrics: met.Handler(), ObservePing: met.Observer("http"), TLS: m.cfg.TLSCert != "",
			Now: m.cfg.Clock.Now, SSO: m.sso,
		})
		m.http = web.NewServer(m.cfg.HTTP, h, m.logger)
		if m.certs != nil {
			m.http.TLSConfig = m.certs.Config()
		}
	}
	return nil
}

func (m *Main) start() {
	loopCtx, cancel := context.WithCancel(context.Background())
	m.cancelLoops = cancel
	m.loops.Go(func() {
		if err := m.Runner.Run(loopCtx); err != nil {
			m.fail(fmt.Errorf("projections: %w", err))
		}
	})
	m.loops.Go(func() { m.Service.Run(loopCtx) })
	// A full disk or a failed commit leaves the server up, degraded
	// (/healthz says why); ingest resumes by itself once the disk has room.
	m.loops.Go(func() { m.Service.Recover(loopCtx) })
	m.loops.Go(func() { m.dispatcher.Run(loopCtx) })
	m.watchReload(loopCtx.Done())
	tcpCtx, cancelTCP := context.WithCancel(context.Background())
	m.cancelTCP = cancelTCP
	if m.tcp != nil {
		go func() {
			defer close(m.tcpDone)
			if err := m.tcp.Serve(tcpCtx); err != nil {
				m.fail(err)
			}
		}()
		m.logger.Info("tcp reports", "addr", m.TCPAddr)
	} else {
		close(m.tcpDone)
	}
	if m.http != nil {
		go func() {
			var err error
			if m.certs != nil {
				err = m.http.ServeTLS(m.httpLn, "", "") // the certificate comes from TLSConfig
			} else {
				err = m.http.Serve(m.httpLn)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.fail(fmt.Errorf("http: %w", err))
			}
		}()
		m.logger.Info("http", "addr", m.HTTPAddr, "tls", m.cfg.TLSCert != "")
	}
}

// fail reports a fatal error to whoever waits on Failed.
func (m *Main) fail(err error) {
	select {
	case m.failed <- err:
	default:
	}
}

// Failed delivers the error that stopped a part of the server (a failed
// commit, a listener that died).
func (m *Main) Failed() <-chan error { return m.failed }

// Close shuts down in order: stop taking reports and answer those already
// read, stop HTTP, stop the loops, bring the views up to date, close
// storage. It is safe to call more than once.
func (m *Main) Close() error {
	var err error
	m.closeOnce.Do(func() {
		if !m.cfg.Offline {
			m.cancelTCP()
			<-m.tcpDone
			if m.http != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				m.http.Shutdown(ctx)
				cancel()
			}
			m.cancelLoops()
			m.loops.Wait()
		}
		if m.cfg.Offline || m.Log.Err() == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, cerr := m.Runner.CatchUp(ctx); cerr != nil {
				m.logger.Warn("final projection catch-up", "error", cerr)
			}
			cancel()
		}
		err = m.closeStorage()
	})
	return err
}

// closeListeners releases the ports of an Open that failed after binding
// them (the loops that would close them never started).
func (m *Main) closeListeners() {
	if m.tcp != nil {
		m.tcp.Close()
	}
	if m.httpLn != nil {
		m.httpLn.Close()
	}
}

// closeStorage closes the store and the log, then removes the pid file:
// the last step of every shutdown, and of an Open that failed.
func (m *Main) closeStorage() error {
	var errs []error
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	if m.Log != nil {
		errs = append(errs, m.Log.Close())
	}
	if !m.cfg.Offline && m.cfg.PIDFile != "" {
		errs = append(errs, pidfile.Remove(m.cfg.PIDFile))
	}
	return errors.Join(errs...)
}

// discoverSSO reads the OpenID Connect provider's discovery document at
// start, when --oidc-issuer is set: a provider that cannot be reached
// refuses the start with the reason, rather than failing the first user
// later.
func (m *Main) discoverSSO(ctx context.Context) (*sso.Provider, error) {
	c := m.cfg.OIDC
	if c.Issuer == "" || m.cfg.HTTP == "" {
		return nil, nil
	}
	redirect := c.RedirectURL
	if redirect == "" {
		redirect = strings.TrimRight(m.cfg.PublicURL, "/") + "/login/sso/callback"
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := sso.Discover(ctx, sso.Config{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		RedirectURL: redirect, RoleClaim: c.RoleClaim, Now: m.cfg.Clock.Now, Logger: m.logger})
	if err != nil {
		return nil, fmt.Errorf("--oidc-issuer: %w", err)
	}
	m.logger.Info("single sign-on", "issuer", c.Issuer, "redirect_url", redirect, "role_claim", c.RoleClaim)
	return p, nil
}

// listenError says which flag's address could not be listened on, and for
// an address in use what to do about it.
func listenError(flag, addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s %s: address already in use (stop what listens there, or give another address with %s): %w",
			flag, addr, flag, syscall.EADDRINUSE)
	}
	return fmt.Errorf("%s %s: %w", flag, addr, err)
}
