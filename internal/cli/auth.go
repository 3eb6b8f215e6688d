package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/config"
)

const authUsage = `Usage: planner auth <login | status | logout> [--profile NAME | --dsn DSN] [--device-code]

Manages the sign-in of a connection profile (its tokens are kept in the OS
keychain, or a 0600 file, per OAuthSettingsLocation). Without --profile or
--dsn, login and logout use the config file's only profile (or the one
named "default"), and status shows every profile.

  login    sign in now: in the browser (AuthScheme=AzureAD), with a device
           code (AuthScheme=DeviceCode, or --device-code on a machine with
           no browser), or check the client secret (AzureServicePrincipal);
           replaces what is stored
  status   show the stored sign-in (never a token); no network
  logout   forget the stored sign-in

Flags:
%s
Examples:
  planner auth login --profile prod
  planner auth login --profile prod --device-code     # over SSH, no browser
  planner auth status                                 # every profile
  planner auth status --profile prod
  planner auth login --dsn 'AuthScheme=DeviceCode;OAuthClientId=...;Tenant=contoso.onmicrosoft.com'
  planner auth logout --profile prod
`

func runAuth(ctx context.Context, a *app, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := a.newFlagSet("auth "+sub, authUsage)
	profile := fs.String("profile", "", "connection profile `NAME` from the config file")
	dsn := fs.String("dsn", "", "connection string `DSN` with the sign-in properties")
	deviceCode := fs.Bool("device-code", false, "login: sign in with a device code instead of the browser")
	var verbose verbosityFlags
	verbose.register(fs)
	pos, err := a.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if sub == "" {
		if len(pos) == 0 {
			return usageErrorf("auth: give a subcommand: login, status or logout (run 'planner auth --help')")
		}
		sub, pos = pos[0], pos[1:]
	}
	switch sub {
	case "login", "status", "logout":
	default:
		return usageErrorf("auth: unknown subcommand %q: use login, status or logout", sub)
	}
	if len(pos) > 0 {
		return usageErrorf("auth %s: unexpected argument %q", sub, pos[0])
	}
	if *deviceCode && sub != "login" {
		return usageErrorf("auth %s: --device-code applies to login only", sub)
	}
	if *profile == "" && *dsn == "" {
		if sub == "status" {
			return authStatusAll(ctx, a)
		}
		name, err := defaultProfile()
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("auth %s: %w", sub, err))
		}
		*profile = name
	}
	cfg := driver.NewConfig()
	if *dsn != "" {
		if cfg, err = driver.ParseDSN(*dsn); err != nil {
			return withCode(ExitUsage, fmt.Errorf("auth %s: bad connection string: %w", sub, err))
		}
	}
	if *profile != "" {
		cfg.Profile = *profile
	}
	if err := verbose.apply(cfg, a.io.Stderr); err != nil {
		return err
	}
	a.signInHooks(cfg, true)
	cn, err := driver.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("auth %s: %w", sub, err)
	}
	defer cn.Close()
	eff := cn.Config()
	if eff.Sandbox {
		return usageErrorf("auth %s: the sandbox needs no sign-in", sub)
	}
	// How messages name the connection, and how it is signed in again: a
	// --dsn connection names no profile, and none called "default" need
	// exist.
	who, login := connectionSubject(eff), "`planner auth login --profile "+eff.Profile+"`"
	if eff.Profile == "" {
		login = "`planner auth login --dsn` with the same connection string"
	}
	if *deviceCode {
		switch eff.AuthScheme {
		case driver.AuthAzureAD, driver.AuthDeviceCode:
			eff.AuthScheme = driver.AuthDeviceCode
			cn.Close()
			if cn, err = driver.NewConnector(eff); err != nil {
				return fmt.Errorf("auth %s: %w", sub, err)
			}
			defer cn.Close()
		default:
			return usageErrorf("auth login: --device-code signs a user in, but %s uses AuthScheme=%s", who, eff.AuthScheme)
		}
	}
	switch sub {
	case "login":
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		st, err := cn.SignIn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return withCode(ExitInterrupted, errors.New("auth login: interrupted"))
			}
			return fmt.Errorf("auth login: %w", err)
		}
		fmt.Fprintln(a.io.Stdout, st.String())
		return nil
	case "status":
		st, err := cn.SignInStatus(ctx)
		if err != nil {
			return fmt.Errorf("auth status: %w", err)
		}
		fmt.Fprintln(a.io.Stdout, st.String())
		if !st.SignedIn {
			return withCode(ExitError, fmt.Errorf("auth status: %s is not signed in: run %s", who, login))
		}
		return nil
	default:
		had, err := cn.SignOut(ctx)
		if err != nil {
			return fmt.Errorf("auth logout: %w", err)
		}
		if had {
			fmt.Fprintf(a.io.Stdout, "signed out of %s\n", who)
		} else {
			fmt.Fprintf(a.io.Stdout, "%s had no stored sign-in\n", who)
		}
		return nil
	}
}

// connectionSubject names a connection in messages: "profile NAME", or,
// for one that names no profile, "the connection to tenant T" when it gives
// a tenant, else "this connection" — never a profile that does not exist.
func connectionSubject(c *driver.Config) string {
	switch {
	case c.Profile != "":
		return "profile " + c.Profile
	case c.Tenant != "" && !strings.EqualFold(c.Tenant, driver.DefaultTenant):
		return "the connection to tenant " + c.Tenant
	}
	return "this connection"
}

// loadProfiles loads the config file for the auth commands.
func loadProfiles() (*config.File, error) {
	path, err := config.Path()
	if err != nil {
		return nil, err
	}
	return config.Load(path, config.LoadOptions{ValidProperty: driver.IsProperty, PropertyNames: driver.PropertyNames()})
}

// defaultProfile is the profile login and logout use when none is named: the
// config file's only profile, or the one named "default".
func defaultProfile() (string, error) {
	f, err := loadProfiles()
	if err != nil {
		return "", err
	}
	names := f.ProfileNames()
	switch {
	case len(names) == 1:
		return names[0], nil
	case slices.Contains(names, "default"):
		return "default", nil
	case len(names) == 0:
		return "", noProfile(f, ", or give --dsn")
	}
	return "", fmt.Errorf("%s has several profiles (%s): choose one with --profile NAME", displayPath(f), strings.Join(names, ", "))
}

// noProfile is the error for a config file without profiles: absent (and
// where its name came from), or present with none.
func noProfile(f *config.File, alt string) error {
	if !f.Exists && f.Path != "" {
		return fmt.Errorf("the configuration file %s does not exist: create it with a [profiles.NAME] section (see the README)%s", f.Describe(), alt)
	}
	return fmt.Errorf("%s has no profile: add a [profiles.NAME] section (see the README)%s", displayPath(f), alt)
}

func displayPath(f *config.File) string {
	if f.Path == "" {
		return "the config file"
	}
	return f.Path
}

// authStatusAll prints the sign-in status of every profile of the config file.
func authStatusAll(ctx context.Context, a *app) error {
	f, err := loadProfiles()
	if err != nil {
		return fmt.Errorf("auth status: %w", err)
	}
	names := f.ProfileNames()
	if len(names) == 0 {
		return withCode(ExitError, fmt.Errorf("auth status: %w", noProfile(f, "")))
	}
	// Every profile is shown; one that cannot be opened here (an unset
	// ${NAME}) is reported below, one line each, and does not hide the rest.
	var problems []error
	shown := 0
	for _, name := range names {
		cfg := &driver.Config{Profile: name}
		a.signInHooks(cfg, false)
		cn, err := driver.NewConnector(cfg)
		if err != nil {
			problems = append(problems, fmt.Errorf("auth status: %w", err))
			continue
		}
		st, err := cn.SignInStatus(ctx)
		cn.Close()
		if err != nil {
			problems = append(problems, fmt.Errorf("auth status: profile %s: %w", name, err))
			continue
		}
		if shown > 0 {
			fmt.Fprintln(a.io.Stdout)
		}
		shown++
		fmt.Fprintln(a.io.Stdout, st.String())
	}
	return errors.Join(problems...)
}
