package driver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/plannersql/planner/graph"
)

// AuthScheme is how a connection signs in (the AuthScheme property).
type AuthScheme string

// Values of AuthScheme. The zero value means AuthAzureAD.
const (
	AuthAzureAD               AuthScheme = "AzureAD"               // browser sign-in: authorization code with PKCE
	AuthDeviceCode            AuthScheme = "DeviceCode"            // device code flow, for machines without a browser
	AuthAzureServicePrincipal AuthScheme = "AzureServicePrincipal" // client credentials with a secret (app-only)
	AuthToken                 AuthScheme = "Token"                 // OAuthAccessToken used as given
)

// InitiateOAuth says when a connection signs in (the InitiateOAuth
// property).
type InitiateOAuth string

// Values of InitiateOAuth. The zero value means OAuthGetAndRefresh.
const (
	OAuthGetAndRefresh InitiateOAuth = "GETANDREFRESH" // sign in when nothing usable is stored, refresh when needed
	OAuthRefresh       InitiateOAuth = "REFRESH"       // refresh a stored or given refresh token, never prompt
	OAuthOff           InitiateOAuth = "OFF"           // use OAuthAccessToken as is
)

// PlanScope says how scans discover plans (the PlanScope property).
type PlanScope string

// Values of PlanScope. The zero value means PlanScopeGroups.
const (
	PlanScopeGroups PlanScope = "groups" // every plan of every group the account can reach
	PlanScopeMe     PlanScope = "me"     // the plans /me/planner/plans returns
)

// Defaults of the connection properties, used for fields left at their
// zero value.
const (
	DefaultGraphURL       = "https://graph.microsoft.com/v1.0"
	DefaultAuthorityURL   = "https://login.microsoftonline.com"
	DefaultTenant         = "organizations"
	DefaultMaxConcurrency = 8
	DefaultTimeout        = 60 * time.Second
	DefaultMaxRetries     = 6
)

// NoRetries is the MaxRetries value that turns retries off (MaxRetries=0 in
// a DSN): the zero value means DefaultMaxRetries.
const NoRetries = -1

// DeviceCode is what device code sign-in asks the user to do: open
// VerificationURI on any device and enter UserCode before ExpiresAt.
// Message is the identity platform's own instructions, ready to show. It
// holds nothing secret.
type DeviceCode struct {
	UserCode        string
	VerificationURI string
	Message         string
	ExpiresAt       time.Time
}

// Config is a connection's configuration: one field per connection
// property (docs/connection.md), plus what a connection string cannot
// carry. It is plain data: build it in Go, or with [ParseDSN], and pass it
// to [NewConnector], which copies it.
//
// Every field's zero value means the property's default, so a field set in
// Go is exactly a key written in a DSN. A Profile fills in only the fields
// left at their zero value (a key written in the DSN, or a field set in Go,
// wins over the profile's); a consequence is that a profile's true
// (Sandbox, AllowCustomHosts) or non-zero Verbosity cannot be turned off
// from the DSN. NewConnector reads the config file only when Profile is
// set.
type Config struct {
	Profile               string        // a named connection from the user's config file
	AuthScheme            AuthScheme    // default AuthAzureAD
	InitiateOAuth         InitiateOAuth // default OAuthGetAndRefresh
	Tenant                string        // directory id or domain (default "organizations")
	OAuthClientID         string        // the app registration to sign in with (OAuthClientId)
	OAuthClientSecret     string        // AzureServicePrincipal's secret; never formatted or logged
	OAuthAccessToken      string        // a token supplied by the caller; never formatted or logged
	OAuthRefreshToken     string        // a refresh token supplied by the caller; never formatted or logged
	OAuthSettingsLocation string        // keyring://<name>, a file path or memory:// (default: the keychain, else a file)
	CallbackURL           string        // fixed loopback redirect for AzureAD sign-in (default 127.0.0.1, a random port)
	Scope                 string        // replacement scopes, space or comma separated
	GraphURL              string        // Graph base URL (default DefaultGraphURL)
	AuthorityURL          string        // identity platform base URL (default DefaultAuthorityURL)
	AllowCustomHosts      bool          // let GraphURL and AuthorityURL name hosts outside Microsoft's clouds
	Sandbox               bool          // an in-process emulated tenant (needs package sandbox imported)
	GroupIDs              []string      // limit scans to these groups (the GroupId property)
	PlanScope             PlanScope     // default PlanScopeGroups
	MaxConcurrency        int           // concurrent Graph requests (default 8)
	Timeout               time.Duration // per request attempt (default 60s)
	MaxRetries            int           // retries of a throttled or failed request (default 6; NoRetries for none)
	Verbosity             int           // 0–3: nothing, statements, + Graph requests, + bodies (secrets redacted)
	Logfile               string        // where Verbosity output goes (a path, appended to)

	// HTTPClient, when set, is the base HTTP client for Graph and sign-in
	// requests.
	HTTPClient *http.Client
	// TokenSource, when set, supplies access tokens and replaces every
	// sign-in setting.
	TokenSource oauth2.TokenSource
	// Logger, when set, receives the Verbosity output (at level Info)
	// instead of Logfile. With neither, Verbosity > 0 logs to
	// slog.Default(). With one and Verbosity 0, the verbosity is 1.
	Logger *slog.Logger

	// OpenBrowser shows the AzureAD sign-in page at url. An error ends
	// the sign-in at once. Nil: print the URL to stderr and open the
	// default browser ([OpenBrowser]), failing at once where there is none.
	OpenBrowser func(url string) error
	// DeviceCodePrompt shows the device code instructions. An error ends
	// the sign-in. Nil: write dc.Message to stderr.
	DeviceCodePrompt func(ctx context.Context, dc DeviceCode) error
	// Notify receives notices about where the sign-in is kept (e.g. that no
	// OS keychain was usable, so it is in a 0600 file). Nil: each notice is
	// written to stderr once per connector.
	Notify func(msg string)
}

// NewConfig returns an empty Config: every property at its default.
func NewConfig() *Config { return &Config{} }

// Clone returns a copy of c that shares nothing mutable with it.
func (c *Config) Clone() *Config {
	cc := *c
	cc.GroupIDs = slices.Clone(c.GroupIDs)
	return &cc
}

// normalize fills in the defaults of the fields left at their zero value
// and puts the enums in their canonical spelling; values out of range are
// errors naming the property.
func (c *Config) normalize() error {
	var err error
	if c.AuthScheme, err = canonicalEnum("AuthScheme", c.AuthScheme, AuthAzureAD, AuthDeviceCode, AuthAzureServicePrincipal, AuthToken); err != nil {
		return err
	}
	if c.InitiateOAuth, err = canonicalEnum("InitiateOAuth", c.InitiateOAuth, OAuthGetAndRefresh, OAuthRefresh, OAuthOff); err != nil {
		return err
	}
	if c.PlanScope, err = canonicalEnum("PlanScope", c.PlanScope, PlanScopeGroups, PlanScopeMe); err != nil {
		return err
	}
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	for i, id := range c.GroupIDs {
		// A group id is a GUID: refuse another before any request, naming
		// the setting to correct (as a scan would, later and less clearly).
		if !isGUID(strings.TrimSpace(id)) {
			return fmt.Errorf("planner: GroupId %q is not a group id (a group id is a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e); correct or remove it in GroupId: %w", id, graph.ErrInvalidID)
		}
		// Graph's form of a group id (lower case, no braces): scans and
		// lookups compare it with the ids Graph returns.
		c.GroupIDs[i] = guidKey(strings.TrimSpace(id))
	}
	def(&c.Tenant, DefaultTenant)
	def(&c.GraphURL, DefaultGraphURL)
	def(&c.AuthorityURL, DefaultAuthorityURL)
	switch {
	case c.MaxConcurrency == 0:
		c.MaxConcurrency = DefaultMaxConcurrency
	case c.MaxConcurrency < 1 || c.MaxConcurrency > 256:
		return fmt.Errorf("planner: connection property MaxConcurrency=%d: want a whole number from 1 to 256", c.MaxConcurrency)
	}
	switch {
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	case c.Timeout < 0:
		return fmt.Errorf("planner: connection property Timeout=%s: want a positive duration", c.Timeout)
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < NoRetries || c.MaxRetries > 100:
		return fmt.Errorf("planner: connection property MaxRetries=%d: want a whole number from 0 to 100 (NoRetries in Go for none)", c.MaxRetries)
	}
	switch {
	case c.Verbosity < 0 || c.Verbosity > 3:
		return fmt.Errorf("planner: connection property Verbosity=%d: want a whole number from 0 to 3", c.Verbosity)
	case c.Verbosity == 0 && (c.Logfile != "" || c.Logger != nil):
		c.Verbosity = 1
	}
	return nil
}

// canonicalEnum returns the accepted value v spells (ignoring case), the
// first accepted value for "".
func canonicalEnum[E ~string](prop string, v E, accepted ...E) (E, error) {
	if v == "" {
		return accepted[0], nil
	}
	for _, a := range accepted {
		if strings.EqualFold(string(v), string(a)) {
			return a, nil
		}
	}
	names := make([]string, len(accepted))
	for i, a := range accepted {
		names[i] = string(a)
	}
	return v, fmt.Errorf("planner: connection property %s=%q: accepted values are %s", prop, string(v), strings.Join(names, ", "))
}

// usesToken reports whether the access token is used as given (no sign-in).
func (c *Config) usesToken() bool {
	return c.InitiateOAuth == OAuthOff || c.AuthScheme == AuthToken
}
