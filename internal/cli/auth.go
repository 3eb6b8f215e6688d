package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cli/browser"
	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/auth"
	"github.com/plannersql/planner/internal/config"
)

const authUsage = `Usage: planner auth <login | status | logout> [--profile NAME | --dsn DSN]

Manages the sign-in of a connection profile (its tokens are kept in the OS
keychain, or a 0600 file, per OAuthSettingsLocation).

  login    sign in now: in the browser (AuthScheme=AzureAD), with a device
           code (AuthScheme=DeviceCode), or check the client secret
           (AzureServicePrincipal); replaces what is stored
  status   show the stored sign-in (never a token); no network
  logout   forget the stored sign-in

Flags:
%s
Examples:
  planner auth login --profile prod
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
	if *profile == "" && *dsn == "" {
		return usageErrorf("auth %s: give --profile NAME (a profile of the config file) or --dsn", sub)
	}
	cfg := driver.NewConfig()
	if *dsn != "" {
		if cfg, err = driver.ParseDSN(*dsn); err != nil {
			return withCode(ExitUsage, fmt.Errorf("auth %s: bad connection string: %w", sub, err))
		}
	}
	if *profile != "" {
		if err := cfg.Set("Profile", *profile); err != nil {
			return withCode(ExitUsage, err)
		}
	}
	if cfg.Profile != "" {
		path, err := config.Path()
		if err != nil {
			return fmt.Errorf("auth %s: %w", sub, err)
		}
		if err := auth.ApplyProfile(path, cfg.Profile, cfg, config.LoadOptions{
			ValidProperty: driver.IsProperty, PropertyNames: driver.PropertyNames(),
		}); err != nil {
			return fmt.Errorf("auth %s: %w", sub, err)
		}
	}
	if cfg.Sandbox {
		return usageErrorf("auth %s: the sandbox needs no sign-in", sub)
	}
	s := authSettings(cfg)
	auth.SetNotify(func(msg string) { fmt.Fprintln(a.io.Stderr, "planner: "+oneLine(msg)) })
	switch sub {
	case "login":
		auth.SetInteractive(a.io.Stderr, browser.OpenURL)
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		st, err := auth.Login(ctx, s)
		if err != nil {
			if ctx.Err() != nil {
				return withCode(ExitInterrupted, errors.New("auth login: interrupted"))
			}
			return fmt.Errorf("auth login: %w", err)
		}
		fmt.Fprintln(a.io.Stdout, st.String())
		return nil
	case "status":
		st, err := auth.GetStatus(ctx, s)
		if err != nil {
			return fmt.Errorf("auth status: %w", err)
		}
		fmt.Fprintln(a.io.Stdout, st.String())
		if !st.SignedIn {
			return withCode(ExitError, fmt.Errorf("auth status: profile %s is not signed in: run 'planner auth login --profile %s'", s.Profile, s.Profile))
		}
		return nil
	default:
		had, err := auth.Logout(ctx, s)
		if err != nil {
			return fmt.Errorf("auth logout: %w", err)
		}
		if had {
			fmt.Fprintf(a.io.Stdout, "signed out of profile %s\n", s.Profile)
		} else {
			fmt.Fprintf(a.io.Stdout, "profile %s had no stored sign-in\n", s.Profile)
		}
		return nil
	}
}

// authSettings maps connection properties to auth.Settings (as the driver
// does for its connections).
func authSettings(cfg *driver.Config) auth.Settings {
	var scopes []string
	if sc := strings.TrimSpace(cfg.Scope); sc != "" {
		scopes = strings.FieldsFunc(sc, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	}
	return auth.Settings{
		Profile:       cfg.Profile,
		AuthScheme:    cfg.AuthScheme,
		InitiateOAuth: cfg.InitiateOAuth,
		Tenant:        cfg.Tenant,
		ClientID:      cfg.OAuthClientID,
		ClientSecret:  cfg.OAuthClientSecret,
		AccessToken:   cfg.OAuthAccessToken,
		RefreshToken:  cfg.OAuthRefreshToken,
		Location:      cfg.OAuthSettingsLocation,
		CallbackURL:   cfg.CallbackURL,
		Scopes:        scopes,
		AuthorityURL:  cfg.AuthorityURL,
		GraphURL:      cfg.GraphURL,
		HTTPClient:    cfg.HTTPClient,
	}
}
