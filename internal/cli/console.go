package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/console"
	"github.com/plannersql/planner/internal/schedule"
)

// Environment variables of the console.
const (
	ConsolePasswordEnv = "PLANNER_CONSOLE_PASSWORD" // the login password
	ConsoleTokenEnv    = "PLANNER_CONSOLE_TOKEN"    // a fixed login token (default: a new one at each start)
)

const consoleUsage = `Usage: planner console [--addr 127.0.0.1:8080] [--config FILE] [flags]

Serves the web console and its REST API (/api/, see docs/api.md), and runs
the jobs of the config file on their schedules, as 'planner jobs serve'
does: one process, each run locked in its destination, so several
consoles (or jobs serve processes) may share one config and destination.

Connections and jobs saved in the console are written into the config file
(only the lines edited change, so a hand-written file keeps its comments
and layout); alerts and named destinations go into console.toml beside it,
run records and logs into console-runs/ beside that.

Login: without a password, a new token is printed at start with a link
that logs in (as Jupyter does). Set $PLANNER_CONSOLE_PASSWORD (or
--password-file) to log in with a password instead; $PLANNER_CONSOLE_TOKEN
fixes the token (scripts send it as "Authorization: Bearer <token>").
Listening on an address other than loopback needs a password or a fixed
token, and should be behind TLS (--tls-cert, --tls-key, or a proxy).

The first SIGINT (or SIGTERM) stops the console: runs in flight finish the
table they are copying; a second one stops at once.

Flags:
%s
Examples:
  planner console
  planner console --addr 127.0.0.1:9000 --config ./config.toml
  PLANNER_CONSOLE_PASSWORD=... planner console --addr 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
`

func runConsole(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("console", consoleUsage)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT` (loopback unless a password or token is set)")
	configPath := new(string)
	fs.Var(fileFlag{configPath}, "config", "config `FILE` (default $PLANNER_CONFIG or the user config dir)")
	passwordFile := fs.String("password-file", "", "read the login password from `FILE` (default $"+ConsolePasswordEnv+")")
	certFile := fs.String("tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
	keyFile := fs.String("tls-key", "", "the certificate's private key `FILE` (PEM)")
	stateDir := fs.String("state-dir", "", "keep run records and logs in `DIR` (default console-runs beside the config file)")
	baseURL := fs.String("base-url", "", "the console's address as users reach it, for links in alerts (`URL`)")
	lockTimeout := fs.Duration("lock-timeout", DefaultLockTimeout, "wait this long for another run of a job into the same destination, then skip this run (recorded as skipped)")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	pos, err := a.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("console: unexpected argument %q", pos[0])
	}
	logger, err := newLogger(a.io.Stderr, *logFormat, *logLevel, a.secrets)
	if err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return usageErrorf("console: give both --tls-cert and --tls-key, or neither")
	}
	password := os.Getenv(ConsolePasswordEnv)
	if *passwordFile != "" {
		b, err := os.ReadFile(*passwordFile)
		if err != nil {
			return fmt.Errorf("console: read the password file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
		if password == "" {
			return usageErrorf("console: the password file %s is empty", *passwordFile)
		}
	}
	token := os.Getenv(ConsoleTokenEnv)
	// A secret of blanks (a stray space or newline in the environment) is
	// a mistake, not a login anyone should rely on.
	if password != "" && strings.TrimSpace(password) == "" {
		return usageErrorf("console: the console password ($%s or --password-file) is only blanks: set a real one", ConsolePasswordEnv)
	}
	if token != "" && strings.TrimSpace(token) == "" {
		return usageErrorf("console: $%s is only blanks: set a real token, or unset it for a new one at each start", ConsoleTokenEnv)
	}
	fixedToken := token != ""
	if !console.IsLoopback(*addr) && password == "" && !fixedToken {
		return usageErrorf("console: %s is not a loopback address: set a password ($%s or --password-file) or a token ($%s) first, or listen on 127.0.0.1",
			*addr, ConsolePasswordEnv, ConsoleTokenEnv)
	}
	if password == "" && token == "" {
		token = console.NewToken()
	}

	path := *configPath
	if path == "" {
		if path, err = config.Path(); err != nil {
			return fmt.Errorf("console: %w (set $%s to the config file)", err, config.EnvVar)
		}
	}
	if path, err = filepath.Abs(path); err != nil {
		return fmt.Errorf("console: config path: %w", err)
	}
	// The driver reads profiles from $PLANNER_CONFIG.
	if err := os.Setenv(config.EnvVar, path); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		f, err := loadConfig(path)
		if err != nil {
			return err
		}
		for _, j := range f.Jobs() {
			for _, d := range j.Destinations {
				a.secrets.AddURL(d.URL)
			}
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("console: listen on %s: %w", *addr, err)
	}
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
	}
	host := ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	srv, err := console.New(console.Options{
		ConfigPath: path, StateDir: *stateDir, Password: password, Token: token, TLS: *certFile != "", Port: port,
		RunJob: a.consoleRunFunc(*lockTimeout), Logger: logger, BaseURL: firstNonEmpty(*baseURL, scheme+"://"+host),
	})
	if err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: nil, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}}

	// Signals are caught before the console says it serves: whoever reads
	// that line (a person, a supervisor, a test) may stop it at once.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	url := scheme + "://" + host + "/"
	fmt.Fprintf(a.io.Stderr, "planner console: serving %s (config %s)\n", url, path)
	if password == "" || fixedToken {
		if !fixedToken {
			fmt.Fprintf(a.io.Stderr, "planner console: open this link to log in (it holds the login token; keep it private):\n\n    %slogin?token=%s\n\n", url, token)
		} else {
			fmt.Fprintf(a.io.Stderr, "planner console: log in with the token in $%s\n", ConsoleTokenEnv)
		}
	} else {
		fmt.Fprintf(a.io.Stderr, "planner console: log in with the console password\n")
	}

	forced := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		logger.Info("stop requested: finishing the tables in flight (signal again to stop at once)")
		cancel()
		select {
		case <-sigs:
			close(forced)
		case <-time.After(24 * time.Hour):
		}
	}()
	schedDone := make(chan error, 1)
	go func() { schedDone <- srv.Start(ctx) }()
	serveErr := make(chan error, 1)
	go func() {
		if *certFile != "" {
			serveErr <- hs.ServeTLS(ln, *certFile, *keyFile)
		} else {
			serveErr <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-serveErr:
		cancel()
		<-schedDone
		return fmt.Errorf("console: %w", err)
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer scancel()
	_ = hs.Shutdown(sctx)
	select {
	case <-schedDone:
	case <-forced:
		return withCode(ExitInterrupted, errors.New("console: stopped at once: the tables in flight were abandoned"))
	}
	logger.Info("console stopped")
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// consoleRunFunc runs a job for the console: the jobRunner of 'planner
// jobs run' and 'planner jobs serve', with the run's own logger.
func (a *app) consoleRunFunc(lockTimeout time.Duration) console.RunFunc {
	return func(ctx context.Context, j config.Job, rc console.RunContext) ([]console.DestinationResult, error) {
		for _, d := range j.Destinations { // a destination added in the console
			a.secrets.AddURL(d.URL)
		}
		r := a.newRunner(rc.Logger, lockTimeout)
		res, err := r.run(ctx, j, rc.Stop, jobSlot{slot: rc.Slot, attempt: rc.Attempt})
		return consoleResults(res), err
	}
}

// consoleResults converts the jobs runner's results for the console (its
// run records and alerts).
func consoleResults(res []jobResult) []console.DestinationResult {
	out := make([]console.DestinationResult, 0, len(res))
	for _, jr := range res {
		dr := console.DestinationResult{Destination: jr.dest, Results: jr.results, Err: jr.err,
			Requests: jr.requests, Throttled: jr.throttled.Throttled}
		if jr.skipped != nil {
			dr.Skipped = jr.skipped
		}
		if len(jr.results) > 0 {
			dr.RunID = jr.results[0].RunID
		} else if jr.skipped != nil {
			dr.RunID = jr.skipped.RunID
		}
		out = append(out, dr)
	}
	return out
}

// serveAlerts returns the alerts 'planner jobs serve' sends: those set in
// console.toml beside the config file at path (in the console's Alerts
// page), read at each run's end.
func (a *app) serveAlerts(path string, logger *slog.Logger) *console.Alerts {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	al := console.NewAlerts(console.AlertsOptions{SettingsPath: filepath.Join(filepath.Dir(abs), console.SettingsFile),
		Logger: logger, Redact: a.secrets.Text, Sender: "planner jobs serve"})
	logger.Info("alerts: " + al.Describe())
	return al
}

// alertRunEnd is ServeOptions.RunEnded for alerts: it tells them of each
// run's end.
func alertRunEnd(alerts *console.Alerts) func(j config.Job, run *schedule.Run, started time.Time, res []jobResult, err error) {
	return func(j config.Job, run *schedule.Run, started time.Time, res []jobResult, err error) {
		alerts.RunFinished(j, started, run.Slot, run.Attempt, consoleResults(res), err)
	}
}
