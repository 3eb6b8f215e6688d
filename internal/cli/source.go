package cli

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/cli/browser"
	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/auth"
)

// DSNEnvVar names the environment variable holding the connection string
// used when no --sandbox, --profile or --dsn flag is given.
const DSNEnvVar = "PLANNER_DSN"

// sourceFlags select the Planner account a command reads.
type sourceFlags struct {
	profile string
	dsn     string
	sandbox bool
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
}

// config builds the driver configuration the flags select.
func (s *sourceFlags) config() (*driver.Config, error) {
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
		if err := cfg.Set("Profile", s.profile); err != nil {
			return nil, withCode(ExitUsage, err)
		}
	}
	if s.sandbox {
		if err := cfg.Set("Sandbox", "true"); err != nil {
			return nil, err
		}
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

// openSource opens the account cfg describes. Interactive sign-in is
// enabled when interactive is true (prompts go to stderr).
func (a *app) openSource(cfg *driver.Config, logger *slog.Logger, interactive bool) (*source, error) {
	if interactive {
		auth.SetInteractive(a.io.Stderr, browser.OpenURL)
	} else {
		auth.SetInteractive(nil, nil)
	}
	auth.SetNotify(func(msg string) { fmt.Fprintln(a.io.Stderr, "planner: "+oneLine(msg)) })
	opts := []driver.ConnectorOption{}
	if logger != nil {
		opts = append(opts, driver.WithLogger(logger))
	}
	conn, err := driver.NewConnector(cfg, opts...)
	if err != nil {
		return nil, connectError(cfg, err)
	}
	return &source{conn: conn, db: sql.OpenDB(conn)}, nil
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
	case cfg.Profile != "":
		return fmt.Errorf("open profile %s: %w", cfg.Profile, err)
	}
	return fmt.Errorf("open %s: %w", cfg.String(), err)
}
