package driver

import (
	"context"
	"net/http"
	"strings"

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
		HTTPClient:    hc,
	}
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
