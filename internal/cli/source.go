package cli

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/plannersql/planner/driver"
)

// DSNEnvVar names the environment variable holding the connection string
// used when no --sandbox, --profile or --dsn flag is given.
const DSNEnvVar = "PLANNER_DSN"

// sourceFlags select the Planner account a command reads, and how much
// the driver logs to stderr.
type sourceFlags struct {
	profile string
	dsn     string
	sandbox bool
	verbose verbosityFlags
}

// verbosityFlags are -v, -vv, -vvv and --verbosity N: the driver's
// Verbosity (1 statements, 2 + Graph requests, 3 + bodies, secrets
// redacted), logged to stderr.
type verbosityFlags struct {
	v1, v2, v3 bool
	n          int
}

func (v *verbosityFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&v.v1, "v", false, "log each statement to stderr (Verbosity=1)")
	fs.BoolVar(&v.v2, "vv", false, "also log each Graph request (Verbosity=2)")
	fs.BoolVar(&v.v3, "vvv", false, "also log request and response bodies, secrets redacted (Verbosity=3)")
	fs.IntVar(&v.n, "verbosity", 0, "log at Verbosity `N` (0-3) to stderr")
}

// level is the verbosity the flags ask for (0: none given).
func (v *verbosityFlags) level() (int, error) {
	if v.n < 0 || v.n > 3 {
		return 0, usageErrorf("--verbosity %d: give 0 to 3", v.n)
	}
	n := v.n
	for i, on := range []bool{v.v1, v.v2, v.v3} {
		if on {
			n = max(n, i+1)
		}
	}
	return n, nil
}

// apply makes cfg log at the flags' verbosity to w (nothing when no flag
// was given: the connection string's Verbosity and Logfile stand).
func (v *verbosityFlags) apply(cfg *driver.Config, w io.Writer) error {
	n, err := v.level()
	if err != nil || n == 0 {
		return err
	}
	cfg.Verbosity = n
	cfg.Logger = slog.New(slog.NewTextHandler(w, nil))
	return nil
}

// register adds --sandbox, --dsn and the profile flag (named profileFlag:
// "profile", or "source" for replicate, which also accepts --profile).
func (s *sourceFlags) register(fs *flag.FlagSet, profileFlag string) {
	fs.BoolVar(&s.sandbox, "sandbox", false, "use the in-process demo tenant (no network, no sign-in)")
	fs.StringVar(&s.dsn, "dsn", "", "connection string `DSN` (Key=Value;Key2=Value2); default $"+DSNEnvVar)
	fs.StringVar(&s.profile, profileFlag, "", "connection profile `NAME` from the config file")
	if profileFlag != "profile" {
		fs.StringVar(&s.profile, "profile", "", "the same as --"+profileFlag)
	}
	s.verbose.register(fs)
}

// config builds the driver configuration the flags select; -v flags log to
// stderr.
func (s *sourceFlags) config(stderr io.Writer) (*driver.Config, error) {
	n := 0
	for _, set := range []bool{s.sandbox, s.dsn != "", s.profile != ""} {
		if set {
			n++
		}
	}
	dsn := s.dsn
	if n == 0 {
		dsn = os.Getenv(DSNEnvVar)
		if strings.TrimSpace(dsn) == "" {
			return nil, usageErrorf("no Planner account given: pass --sandbox, --profile NAME or --dsn 'Key=Value;...' (or set $%s)", DSNEnvVar)
		}
	}
	if s.sandbox && (s.dsn != "" || s.profile != "") {
		return nil, usageErrorf("--sandbox cannot be combined with --dsn or --profile")
	}
	cfg := driver.NewConfig()
	if dsn != "" {
		c, err := driver.ParseDSN(dsn)
		if err != nil {
			return nil, withCode(ExitUsage, fmt.Errorf("bad connection string: %w", err))
		}
		cfg = c
	}
	if s.profile != "" {
		cfg.Profile = s.profile
	}
	if s.sandbox {
		cfg.Sandbox = true
	}
	if err := s.verbose.apply(cfg, stderr); err != nil {
		return nil, err
	}
	return cfg, nil
}

// source is an open Planner account.
type source struct {
	conn *driver.Connector
	db   *sql.DB
}

// Close closes the database (and so the connector).
func (s *source) Close() error { return s.db.Close() }

// run opens a run-scoped read of the account: the statements run with the
// context it returns read each Graph object once for the whole run (every
// statement of a script, every destination of a job) and see one
// consistent tenant (see driver.Snapshot). Call end when the run is over.
func (s *source) run(ctx context.Context) (runCtx context.Context, end func()) {
	snap := s.conn.NewSnapshot()
	return snap.Context(ctx), func() { snap.Close() }
}

// openSource opens the account cfg describes; logger, when set, receives
// the driver's log. When interactive is true, a connection with no usable
// sign-in signs in when it is first made (the browser, or a device code,
// with the instructions on stderr); otherwise it fails saying how to sign
// in.
func (a *app) openSource(cfg *driver.Config, logger *slog.Logger, interactive bool) (*source, error) {
	cfg = cfg.Clone()
	if logger != nil {
		cfg.Logger = logger
	}
	a.signInHooks(cfg, interactive)
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, connectError(cfg, err)
	}
	return &source{conn: conn, db: sql.OpenDB(conn)}, nil
}

// signInHooks sets the sign-in hooks of cfg: prompts on stderr and the
// default browser when interactive, else hooks that refuse (so the
// connection fails saying how to sign in, rather than waiting for a person
// who is not there).
func (a *app) signInHooks(cfg *driver.Config, interactive bool) {
	cfg.Notify = a.notify
	if !interactive {
		refuse := fmt.Errorf("%w: planner is not running in a terminal", driver.ErrNoPrompt)
		cfg.OpenBrowser = func(string) error { return refuse }
		cfg.DeviceCodePrompt = func(context.Context, driver.DeviceCode) error { return refuse }
		return
	}
	cfg.OpenBrowser = func(url string) error {
		open := a.openURL
		if open == nil {
			open = driver.OpenBrowser
		}
		// Where no browser can be opened the sign-in ends at once, and
		// its page with it: printing the URL first would only invite the
		// user to open a page nobody waits for.
		if err := open(url); err != nil {
			return err
		}
		fmt.Fprintf(a.io.Stderr, "planner: to sign in, continue in the browser; if it did not open, open this page:\n\n  %s\n\n", url)
		return nil
	}
	cfg.DeviceCodePrompt = func(_ context.Context, dc driver.DeviceCode) error {
		_, err := fmt.Fprintf(a.io.Stderr, "planner: %s\n", oneLine(dc.Message))
		return err
	}
}

// notify prints a notice about where sign-ins are kept, once per command.
func (a *app) notify(msg string) {
	a.mu.Lock()
	seen := a.noticed[msg]
	if a.noticed == nil {
		a.noticed = map[string]bool{}
	}
	a.noticed[msg] = true
	a.mu.Unlock()
	if !seen {
		fmt.Fprintln(a.io.Stderr, "planner: "+oneLine(strings.TrimPrefix(msg, "planner: ")))
	}
}

// connectError names the account in an error opening it.
func connectError(cfg *driver.Config, err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	switch {
	case cfg.Sandbox:
		return fmt.Errorf("open the sandbox: %w", err)
	case cfg.Profile != "" && strings.Contains(err.Error(), fmt.Sprintf("profile %q", cfg.Profile)):
		return err // the driver's error names it ("loading profile "x": ...")
	case cfg.Profile != "":
		return fmt.Errorf("open profile %s: %w", cfg.Profile, err)
	}
	return fmt.Errorf("open %s: %w", cfg.String(), err)
}
