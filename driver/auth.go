package driver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"
	"unicode"

	"github.com/cli/browser"
	"github.com/plannersql/planner/internal/auth"
	"github.com/plannersql/planner/internal/config"
	"golang.org/x/oauth2"
)

// authSettings maps the connector's typed configuration to the sign-in
// settings, with the connector's hooks.
func (c *Connector) authSettings() auth.Settings {
	cfg := c.cfg
	var scopes []string
	if sc := strings.TrimSpace(cfg.Scope); sc != "" {
		scopes = strings.FieldsFunc(sc, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	}
	hc := cfg.HTTPClient
	if c.verbosity >= 2 {
		// Sign-in requests are logged too; they run detached from the
		// caller's context, so the client needs a timeout of its own.
		base := hc
		if base == nil {
			base = &http.Client{Timeout: auth.DefaultTokenTimeout}
		}
		hc = c.loggingClient(base, "identity request")
	}
	return auth.Settings{
		Profile:          cfg.Profile,
		AuthScheme:       string(cfg.AuthScheme),
		InitiateOAuth:    string(cfg.InitiateOAuth),
		Tenant:           cfg.Tenant,
		ClientID:         cfg.OAuthClientID,
		ClientSecret:     cfg.OAuthClientSecret,
		AccessToken:      cfg.OAuthAccessToken,
		RefreshToken:     cfg.OAuthRefreshToken,
		Location:         cfg.OAuthSettingsLocation,
		CallbackURL:      cfg.CallbackURL,
		Scopes:           scopes,
		AuthorityURL:     cfg.AuthorityURL,
		GraphURL:         cfg.GraphURL,
		AllowCustomHosts: cfg.AllowCustomHosts,
		HTTPClient:       hc,
		OpenBrowser:      c.openBrowser,
		DeviceCodePrompt: c.deviceCodePrompt,
		Notify:           c.notify,
		Now:              c.now,
		Wait:             c.wait,
	}
}

// openBrowser shows the sign-in page: the Config's hook, or the URL on
// stderr and the default browser.
func (c *Connector) openBrowser(url string) error {
	if f := c.cfg.OpenBrowser; f != nil {
		return f(url)
	}
	if err := browserAvailable(); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "planner: to sign in, open this page in a browser (it opens by itself if it can):\n\n  %s\n\n", url)
	return c.open(url)
}

// deviceCodePrompt shows device code instructions: the Config's hook, or
// the message on stderr.
func (c *Connector) deviceCodePrompt(ctx context.Context, dc auth.DeviceCode) error {
	d := DeviceCode{UserCode: dc.UserCode, VerificationURI: dc.VerificationURI, Message: dc.Message, ExpiresAt: dc.ExpiresAt}
	if f := c.cfg.DeviceCodePrompt; f != nil {
		return f(ctx, d)
	}
	_, err := fmt.Fprintf(c.stderr, "planner: %s (the code expires at %s)\n", d.Message, d.ExpiresAt.Local().Format(time.Kitchen))
	return err
}

// notify passes a store notice on: to the Config's hook, or once per
// connector to stderr.
func (c *Connector) notify(msg string) {
	if f := c.cfg.Notify; f != nil {
		f(msg)
		return
	}
	c.mu.Lock()
	seen := c.noticed[msg]
	if c.noticed == nil {
		c.noticed = map[string]bool{}
	}
	c.noticed[msg] = true
	c.mu.Unlock()
	if !seen {
		fmt.Fprintln(c.stderr, "planner: "+strings.TrimPrefix(msg, "planner: "))
	}
}

// ErrNoPrompt, returned (wrapped) by Config.OpenBrowser or
// Config.DeviceCodePrompt, says that nobody can be asked to sign in (a job,
// a service): the connection then fails at once with an error saying how to
// sign in, as with InitiateOAuth=REFRESH.
var ErrNoPrompt = auth.ErrNoPrompt

// errNoBrowser is returned by OpenBrowser where no browser can be shown.
var errNoBrowser = errors.New("no browser can be opened here: neither DISPLAY nor WAYLAND_DISPLAY is set")

// browserAvailable fails at once where a browser surely cannot be shown:
// on Linux and the BSDs without a graphical session (over SSH, in a
// container), unless under WSL, whose browser is Windows'.
func browserAvailable() error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" && os.Getenv("WSL_DISTRO_NAME") == "" {
			return errNoBrowser
		}
	}
	return nil
}

// OpenBrowser opens url in the user's default browser (with
// github.com/cli/browser: xdg-open and its kin, open, or start). On Linux
// and the BSDs without DISPLAY or WAYLAND_DISPLAY it fails at once, so that
// sign-in never waits for a page nobody can see. It is what the default
// Config.OpenBrowser uses after printing the URL to stderr.
func OpenBrowser(url string) error {
	if err := browserAvailable(); err != nil {
		return err
	}
	return browser.OpenURL(url)
}

// signIn returns the token source of the connector's sign-in settings.
func (c *Connector) signIn(ctx context.Context) (oauth2.TokenSource, error) {
	ts, err := auth.TokenSource(ctx, c.authSettings())
	if err != nil {
		return nil, fmt.Errorf("planner: %w", err)
	}
	return ts, nil
}

// SignInStatus describes a connection's stored sign-in. It never holds a
// token.
type SignInStatus struct {
	Profile    string // "" when the connection names no profile
	AuthScheme AuthScheme
	SignedIn   bool      // a sign-in is stored (or, app-only, the app signed in)
	Account    string    // the user's UPN
	Name       string    // the user's display name
	TenantID   string    // directory id
	ClientID   string    // the app
	Authority  string    // the identity platform that issued the sign-in
	Scopes     []string  // granted scopes
	Expiry     time.Time // expiry of the last access token issued
	Saved      time.Time // when the sign-in was last saved
	Location   string    // OAuthSettingsLocation of the store ("" when nothing is stored)
	StoredIn   string    // where it is kept, for people
	Notice     string    // a notice about the store (e.g. the keychain fallback)

	text string
}

// String renders the status for people, one "key: value" per line.
func (s *SignInStatus) String() string { return s.text }

func statusFrom(st *auth.Status) *SignInStatus {
	return &SignInStatus{
		Profile: st.Profile, AuthScheme: AuthScheme(st.AuthScheme), SignedIn: st.SignedIn, Account: st.Account,
		Name: st.Name, TenantID: st.TenantID, ClientID: st.ClientID, Authority: st.Authority, Scopes: st.Scopes,
		Expiry: st.Expiry, Saved: st.Saved, Location: st.Location, StoredIn: st.StoredIn, Notice: st.Notice,
		text: st.String(),
	}
}

// errSandboxSignIn refuses sign-in operations on the sandbox.
var errSandboxSignIn = errors.New("planner: the sandbox needs no sign-in")

// SignIn signs the connector's account in now, interactively — in the
// browser, or with a device code when AuthScheme is DeviceCode — whatever
// is stored, and saves the sign-in to OAuthSettingsLocation (what
// `planner auth login` does). For AzureServicePrincipal it checks the
// client credentials; nothing is stored. It uses the Config's
// OpenBrowser and DeviceCodePrompt hooks (or their defaults).
func (c *Connector) SignIn(ctx context.Context) (*SignInStatus, error) {
	if c.cfg.Sandbox {
		return nil, errSandboxSignIn
	}
	st, err := auth.Login(ctx, c.authSettings())
	if err != nil {
		return nil, fmt.Errorf("planner: %w", err)
	}
	return statusFrom(st), nil
}

// SignInStatus describes the stored sign-in without contacting the
// identity platform. Nothing stored is not an error: SignedIn is false.
func (c *Connector) SignInStatus(ctx context.Context) (*SignInStatus, error) {
	if c.cfg.Sandbox {
		return nil, errSandboxSignIn
	}
	st, err := auth.GetStatus(ctx, c.authSettings())
	if err != nil {
		return nil, fmt.Errorf("planner: %w", err)
	}
	return statusFrom(st), nil
}

// SignOut forgets the stored sign-in; it reports whether there was one.
// The refresh token stays valid at the identity platform until it expires
// or is revoked.
func (c *Connector) SignOut(ctx context.Context) (bool, error) {
	if c.cfg.Sandbox {
		return false, errSandboxSignIn
	}
	ok, err := auth.Logout(ctx, c.authSettings())
	if err != nil {
		return false, fmt.Errorf("planner: %w", err)
	}
	return ok, nil
}

// profilePath is the config file profiles are read from.
var profilePath = config.Path
