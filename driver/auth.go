package driver

import (
	"context"
	"net/http"

	"github.com/plannersql/planner/internal/auth"
	"github.com/plannersql/planner/internal/config"
	"golang.org/x/oauth2"
)

// signIn returns the token source for cfg's sign-in settings (see package
// internal/auth). Interactive sign-in happens only when the program
// registered a prompt or browser opener with auth.SetInteractive (the CLI
// does); otherwise a profile with nothing stored fails with a message
// saying to run `planner auth login`.
func signIn(ctx context.Context, cfg *Config, hc *http.Client) (oauth2.TokenSource, error) {
	return auth.TokenSource(ctx, authSettings(cfg, hc))
}

// authSettings maps cfg's connection properties to auth.Settings.
func authSettings(cfg *Config, hc *http.Client) auth.Settings {
	return auth.SettingsFrom(cfg.Get, hc)
}

// applyProfile loads cfg.Profile from the user's config file; properties
// already set in cfg win.
func applyProfile(cfg *Config) error {
	path, err := config.Path()
	if err != nil {
		return err
	}
	return auth.ApplyProfile(path, cfg.Profile, cfg, config.LoadOptions{
		ValidProperty: IsProperty,
		PropertyNames: PropertyNames(),
	})
}
