// Package auth signs planner in to the Microsoft identity platform and keeps
// the sign-in of each connection profile.
//
// [TokenSource] is what the driver uses: it returns an oauth2.TokenSource for
// a profile's settings, signing in or refreshing as InitiateOAuth says:
//
//   - GETANDREFRESH: refresh the stored refresh token; when nothing usable
//     is stored (nothing, an expired sign-in, or one issued by another
//     authority or to another app), sign in interactively — AzureAD with the
//     browser (authorization code with PKCE and a loopback redirect),
//     DeviceCode with a code typed in on another device — and save the
//     result. Interactive sign-in reaches a person only through the
//     settings' hooks (Settings.OpenBrowser, Settings.DeviceCodePrompt);
//     without the hook the scheme needs, it is not attempted.
//   - REFRESH: refresh the stored (or else the given) refresh token, never
//     prompt.
//   - OFF, or AuthScheme Token: the given access token as is.
//
// A stored refresh token is presented only to the authority that issued it
// (kept in the record, with the app it was issued to): when AuthorityURL or
// OAuthClientId changed, the user signs in again. AuthorityURL must be
// https to one of [LoginHosts] (or any host with AllowCustomHosts), or a
// loopback address.
//
// AzureServicePrincipal signs in as the app (client credentials with the
// client secret, scope <graph resource>/.default) and stores nothing.
//
// Delegated token sources refresh ahead of expiry (Settings.ExpiryMargin),
// save every rotated refresh token at once, and do so under the store's
// cross-process lock after re-reading the stored record, so that
// connections and processes sharing a profile never lose a rotated token.
// A refresh the identity platform refuses with invalid_grant ends in a
// [SignInError] that matches [ErrSignInExpired].
//
// [Login], [GetStatus] and [Logout] serve `planner auth login|status|logout`.
//
// Tokens, client secrets and authorization codes never appear in errors,
// in Prompt output, or in the formatting of this package's types.
package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/plannersql/planner/internal/tokenstore"
	"golang.org/x/oauth2"
)

// Authentication schemes (the AuthScheme connection property).
const (
	SchemeAzureAD          = "AzureAD"               // browser sign-in: authorization code with PKCE
	SchemeDeviceCode       = "DeviceCode"            // device code flow, for headless machines
	SchemeServicePrincipal = "AzureServicePrincipal" // client credentials with a secret (app-only)
	SchemeToken            = "Token"                 // Settings.AccessToken used as given
)

// Values of InitiateOAuth.
const (
	InitiateGetAndRefresh = "GETANDREFRESH" // sign in when nothing is stored, refresh when needed
	InitiateRefresh       = "REFRESH"       // refresh a stored or given refresh token, never prompt
	InitiateOff           = "OFF"           // use Settings.AccessToken as is
)

// Defaults of Settings.
const (
	DefaultAuthorityURL  = "https://login.microsoftonline.com"
	DefaultGraphURL      = "https://graph.microsoft.com/v1.0"
	DefaultTenant        = "organizations"
	DefaultLoginTimeout  = 5 * time.Minute  // browser sign-in
	DefaultExpiryMargin  = 5 * time.Minute  // refresh this long before an access token expires
	DefaultLockTimeout   = 30 * time.Second // wait for another process refreshing the same profile
	DefaultTokenTimeout  = 60 * time.Second // each identity-platform request, when Settings.HTTPClient is nil
	defaultDeviceTimeout = 15 * time.Minute // device code lifetime when the server names none
)

// DefaultScopes are the delegated scopes requested when Settings.Scopes is
// empty: Planner read/write, group discovery, the user's profile, a refresh
// token, and an id_token naming the account.
var DefaultScopes = []string{
	"https://graph.microsoft.com/Tasks.ReadWrite",
	"https://graph.microsoft.com/Group.Read.All",
	"https://graph.microsoft.com/User.Read",
	"offline_access", "openid", "profile",
}

// requiredDelegated are added to any delegated scope list: without them
// there is no refresh token or account name.
var requiredDelegated = []string{"offline_access", "openid", "profile"}

// ErrSignInExpired matches (errors.Is) a [SignInError] for a sign-in the
// identity platform no longer accepts (invalid_grant: revoked, expired,
// rotated away, or issued to another app).
var ErrSignInExpired = errors.New("auth: sign-in expired")

// ErrNoSignIn matches (errors.Is) a [SignInError] for a profile with no
// usable stored sign-in when no interactive sign-in is possible.
var ErrNoSignIn = errors.New("auth: no sign-in stored")

// ErrNoPrompt, returned (wrapped) by a sign-in hook, says that nobody can
// be asked to sign in here (a job, a service): the sign-in then fails with a
// [SignInError] saying how to sign in, as when no hook is set.
var ErrNoPrompt = errors.New("nobody can be asked to sign in here")

// SignInError says that the user must sign in again. Its message is exactly
// the one to show, e.g. "sign-in for profile prod has expired or was
// revoked: sign in again (connect with InitiateOAuth=GETANDREFRESH, or run
// `planner auth login --profile prod`)". It never holds a token.
type SignInError struct {
	Profile string // "" when the connection named none (Unnamed)
	// Unnamed says that the connection named no profile: the message then
	// names no profile (none exists), but the connection's Tenant when it
	// gave one, and signing in again is `planner auth login --dsn` with
	// the same connection string, not --profile.
	Unnamed bool
	Tenant  string // an unnamed connection's Tenant, as given ("" when none)
	Expired bool   // true: ErrSignInExpired; false: ErrNoSignIn
	// Elsewhere, when set, says why the stored sign-in is not used: it was
	// issued by another authority or to another app (e.g. "was issued by
	// https://a, not by AuthorityURL https://b").
	Elsewhere string
	Err       error // the identity platform's answer, if any
}

// loginCommand is the planner command that signs the profile in ahead of
// time.
func loginCommand(profile string, unnamed bool) string {
	if unnamed {
		return "`planner auth login --dsn` with the same connection string"
	}
	return fmt.Sprintf("`planner auth login --profile %s`", profile)
}

// signInAgain is how to sign in again, for messages.
func signInAgain(profile string, unnamed bool) string {
	return "connect with InitiateOAuth=GETANDREFRESH, or run " + loginCommand(profile, unnamed)
}

// signInAgain is how to sign in again with s, for messages.
func (s *Settings) signInAgain() string { return signInAgain(s.Profile, s.unnamed) }

// subjectOf names a connection in messages: its profile, else — it named
// none, and the profile its sign-in is stored under exists nowhere but in
// the token store — the tenant it gave, else "this connection".
func subjectOf(profile string, unnamed bool, tenant string) string {
	switch {
	case !unnamed:
		return "profile " + profile
	case tenant != "":
		return "the connection to tenant " + tenant
	}
	return "this connection"
}

// subject names s's connection in messages (see subjectOf).
func (s *Settings) subject() string { return subjectOf(s.Profile, s.unnamed, s.givenTenant) }

// errorf is an error about s's connection: "auth: profile NAME: ...", or,
// for a connection that named no profile, "auth: the connection to tenant
// T: ..." when it gave a tenant, else "auth: ...".
func (s *Settings) errorf(format string, args ...any) error {
	if s.unnamed && s.givenTenant == "" {
		return fmt.Errorf("auth: "+format, args...)
	}
	return fmt.Errorf("auth: "+s.subject()+": "+format, args...)
}

// subjectf is an error whose sentence starts with s's connection:
// "auth: profile NAME uses ...", "auth: this connection uses ...".
func (s *Settings) subjectf(format string, args ...any) error {
	return fmt.Errorf("auth: "+s.subject()+" "+format, args...)
}

// signInError is the SignInError of s's connection.
func (s *Settings) signInError(expired bool, elsewhere string, err error) *SignInError {
	return &SignInError{Profile: s.Profile, Unnamed: s.unnamed, Tenant: s.givenTenant, Expired: expired, Elsewhere: elsewhere, Err: err}
}

// Error is the message for the user.
func (e *SignInError) Error() string {
	what := subjectOf(e.Profile, e.Unnamed, e.Tenant)
	how := signInAgain(e.Profile, e.Unnamed)
	if why, ok := noPrompt(e.Err); ok {
		// A hook said nobody can be asked here: connecting again the same
		// way would fail the same way, so say why and what works.
		how = "run " + loginCommand(e.Profile, e.Unnamed) + " where someone can answer it, or connect with InitiateOAuth=GETANDREFRESH from a program that can prompt"
		what += ", and " + why
	}
	switch {
	case e.Expired:
		return fmt.Sprintf("sign-in for %s has expired or was revoked: sign in again (%s)", what, how)
	case e.Elsewhere != "":
		return fmt.Sprintf("the sign-in stored for %s %s, and a refresh token is presented only where it was issued: sign in again (%s)",
			what, e.Elsewhere, how)
	}
	return fmt.Sprintf("no sign-in stored for %s: sign in (%s)", what, how)
}

// noPrompt reports whether err's chain holds ErrNoPrompt, and returns it
// with the reason a hook gave by wrapping it as fmt.Errorf("%w: reason",
// ErrNoPrompt): "nobody can be asked to sign in here (reason)".
func noPrompt(err error) (string, bool) {
	if !errors.Is(err, ErrNoPrompt) {
		return "", false
	}
	base := ErrNoPrompt.Error()
	for x := err; x != nil; x = errors.Unwrap(x) {
		// The hook's error is fmt.Errorf("%w: why", ErrNoPrompt).
		if msg := x.Error(); errors.Unwrap(x) == ErrNoPrompt && strings.HasPrefix(msg, base) {
			if why := strings.TrimLeft(msg[len(base):], ": "); why != "" {
				return base + " (" + why + ")", true
			}
		}
	}
	return base, true
}

// Is matches ErrSignInExpired or ErrNoSignIn.
func (e *SignInError) Is(target error) bool {
	return (target == ErrSignInExpired && e.Expired) || (target == ErrNoSignIn && !e.Expired)
}

// Unwrap returns the identity platform's answer.
func (e *SignInError) Unwrap() error { return e.Err }

// DeviceCode is what the device code flow asks the user to do: open
// VerificationURI on any device and enter UserCode before ExpiresAt.
// Message is the identity platform's own instructions, ready to show. It
// holds nothing secret (the device code itself is never shown).
type DeviceCode struct {
	UserCode        string
	VerificationURI string
	Message         string
	ExpiresAt       time.Time
	Interval        time.Duration // how often planner polls for the result
}

// Settings are a profile's sign-in settings (the connection properties of
// the same names) and the hooks of interactive sign-in. Format them freely:
// every verb prints the secrets as [redacted].
type Settings struct {
	Profile       string // "": the connection names none (its sign-in is stored as tokenstore.DefaultProfile's)
	AuthScheme    string // AzureAD (default), DeviceCode, AzureServicePrincipal or Token
	InitiateOAuth string // GETANDREFRESH (default), REFRESH or OFF
	Tenant        string // directory id or domain; default "organizations"
	ClientID      string // the app registration (OAuthClientId)
	ClientSecret  string // AzureServicePrincipal only
	AccessToken   string // InitiateOAuth=OFF / AuthScheme=Token
	RefreshToken  string // used when nothing is stored
	Location      string // OAuthSettingsLocation; see package tokenstore
	// CallbackURL fixes the loopback redirect of AzureAD sign-in, e.g.
	// http://localhost:8400/ (host localhost or 127.0.0.1; no port: a random
	// one). The listener is always bound to 127.0.0.1. Default
	// http://127.0.0.1:<random port>/.
	CallbackURL  string
	Scopes       []string // delegated scopes; default DefaultScopes
	AuthorityURL string   // identity platform; default DefaultAuthorityURL
	GraphURL     string   // Graph base URL: its host names the app-only resource
	// AllowCustomHosts lets AuthorityURL name a host outside LoginHosts.
	AllowCustomHosts bool
	HTTPClient       *http.Client

	// OpenBrowser shows the AzureAD sign-in page at url (opens a browser,
	// prints it, ...); an error ends the sign-in at once. Nil: no browser
	// sign-in.
	OpenBrowser func(url string) error
	// DeviceCodePrompt shows the device code instructions; an error ends
	// the sign-in. Nil: no device code sign-in.
	DeviceCodePrompt func(ctx context.Context, dc DeviceCode) error
	// Notify receives messages about where the sign-in is kept (e.g. the
	// keychain fallback); nil drops them.
	Notify func(msg string)
	// LoginTimeout bounds interactive sign-in: default DefaultLoginTimeout
	// for the browser, the device code's lifetime for DeviceCode.
	LoginTimeout time.Duration
	// ExpiryMargin: access tokens are refreshed this long before they
	// expire (default DefaultExpiryMargin).
	ExpiryMargin time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Wait waits d between device code polls (default: a timer honouring
	// ctx). Tests replace it to avoid waiting.
	Wait func(ctx context.Context, d time.Duration) error

	// unnamed is set by normalize when Profile was empty, givenTenant to
	// the Tenant such a connection gave (not the default): messages name
	// it by that.
	unnamed     bool
	givenTenant string
}

func redactValue(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// String describes the settings without their secrets.
func (s Settings) String() string {
	return fmt.Sprintf("{Profile:%q AuthScheme:%q InitiateOAuth:%q Tenant:%q ClientID:%q ClientSecret:%s AccessToken:%s RefreshToken:%s "+
		"Location:%q CallbackURL:%q Scopes:%q AuthorityURL:%q GraphURL:%q LoginTimeout:%s ExpiryMargin:%s}",
		s.Profile, s.AuthScheme, s.InitiateOAuth, s.Tenant, s.ClientID, redactValue(s.ClientSecret), redactValue(s.AccessToken), redactValue(s.RefreshToken),
		s.Location, s.CallbackURL, s.Scopes, s.AuthorityURL, s.GraphURL, s.LoginTimeout, s.ExpiryMargin)
}

// Format prints String for every verb, so that no verb (%v, %+v, %#v, %s,
// %d, ...) shows a secret.
func (s Settings) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, "auth.Settings")
	}
	_, _ = io.WriteString(f, s.String())
}

// canPrompt reports whether the settings' hooks can reach a person for the
// scheme's interactive sign-in.
func (s *Settings) canPrompt() bool {
	if s.AuthScheme == SchemeDeviceCode {
		return s.DeviceCodePrompt != nil
	}
	return s.OpenBrowser != nil
}

// notify delivers a store notice.
func (s *Settings) notify(msg string) {
	if msg != "" && s.Notify != nil {
		s.Notify(msg)
	}
}

// issuedElsewhere says why rec's refresh token must not be presented with
// these settings — it was issued by another authority or to another app —
// or "" when it may.
func (s *Settings) issuedElsewhere(rec *tokenstore.Record) string {
	switch {
	case rec.Authority == "":
		return "does not record which authority issued it"
	case !sameAuthority(rec.Authority, s.AuthorityURL):
		return fmt.Sprintf("was issued by %s, not by AuthorityURL %s", rec.Authority, s.AuthorityURL)
	case rec.ClientID != "" && !strings.EqualFold(rec.ClientID, s.ClientID):
		return fmt.Sprintf("was issued to the app %s, not to OAuthClientId %s", rec.ClientID, s.ClientID)
	}
	return ""
}

// canonical returns the accepted value v matches (ignoring case).
func canonical(v, def string, accepted ...string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, true
	}
	for _, a := range accepted {
		if strings.EqualFold(v, a) {
			return a, true
		}
	}
	return v, false
}

// normalize fills in defaults and checks the settings.
func (s Settings) normalize() (Settings, error) {
	s.unnamed = s.Profile == ""
	if t := strings.TrimSpace(s.Tenant); s.unnamed && t != "" && !strings.EqualFold(t, DefaultTenant) {
		s.givenTenant = t
	}
	var ok bool
	if s.AuthScheme, ok = canonical(s.AuthScheme, SchemeAzureAD, SchemeAzureAD, SchemeDeviceCode, SchemeServicePrincipal, SchemeToken); !ok {
		return s, s.errorf("unknown AuthScheme %q: use AzureAD, DeviceCode, AzureServicePrincipal or Token", s.AuthScheme)
	}
	if s.InitiateOAuth, ok = canonical(s.InitiateOAuth, InitiateGetAndRefresh, InitiateGetAndRefresh, InitiateRefresh, InitiateOff); !ok {
		return s, s.errorf("unknown InitiateOAuth %q: use GETANDREFRESH, REFRESH or OFF", s.InitiateOAuth)
	}
	if strings.TrimSpace(s.Tenant) == "" {
		s.Tenant = DefaultTenant
	}
	s.Tenant = strings.TrimSpace(s.Tenant)
	if s.AuthorityURL == "" {
		s.AuthorityURL = DefaultAuthorityURL
	}
	s.AuthorityURL = strings.TrimRight(s.AuthorityURL, "/")
	if !s.usesToken() {
		if err := CheckAuthorityURL(s.AuthorityURL, s.AllowCustomHosts); err != nil {
			return s, s.errorf("%w", err)
		}
		if !validTenant(s.Tenant) {
			return s, s.errorf("Tenant %q is not a directory (tenant) id or domain: use a GUID, a domain such as contoso.onmicrosoft.com, "+
				"or organizations, common or consumers", s.Tenant)
		}
	}
	if s.GraphURL == "" {
		s.GraphURL = DefaultGraphURL
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Wait == nil {
		s.Wait = realWait
	}
	if s.ExpiryMargin <= 0 {
		s.ExpiryMargin = DefaultExpiryMargin
	}
	if s.HTTPClient == nil {
		// Token requests run detached from the caller's context (the
		// source outlives it), so they need a timeout of their own.
		s.HTTPClient = &http.Client{Timeout: DefaultTokenTimeout}
	}
	s.HTTPClient = guardRedirects(s.HTTPClient, s.AuthorityURL)
	if s.delegated() {
		if len(s.Scopes) == 0 {
			s.Scopes = slices.Clone(DefaultScopes)
		} else {
			s.Scopes = slices.Clone(s.Scopes)
		}
		for _, r := range requiredDelegated {
			if !slices.ContainsFunc(s.Scopes, func(x string) bool { return strings.EqualFold(x, r) }) {
				s.Scopes = append(s.Scopes, r)
			}
		}
	}
	if s.usesToken() {
		return s, nil
	}
	if strings.TrimSpace(s.ClientID) == "" {
		return s, s.subjectf("has no OAuthClientId: register an app in the Microsoft Entra admin center " +
			"(App registrations > New registration; under Authentication add the platform \"Mobile and desktop applications\" " +
			"with the redirect URI http://localhost and allow public client flows), then set OAuthClientId to its Application (client) ID")
	}
	if s.AuthScheme == SchemeServicePrincipal && s.ClientSecret == "" {
		return s, s.subjectf("uses AuthScheme=AzureServicePrincipal but has no OAuthClientSecret: " +
			"create a client secret under the app's Certificates & secrets and set OAuthClientSecret (e.g. ${ENV_VAR} in the config file)")
	}
	return s, nil
}

// usesToken: the access token is used as given.
func (s *Settings) usesToken() bool {
	return s.InitiateOAuth == InitiateOff || s.AuthScheme == SchemeToken
}

// delegated: a user signs in (AzureAD or DeviceCode) and tokens are stored.
func (s *Settings) delegated() bool {
	return !s.usesToken() && (s.AuthScheme == SchemeAzureAD || s.AuthScheme == SchemeDeviceCode)
}

func (s *Settings) endpoint(name string) string {
	return s.AuthorityURL + "/" + url.PathEscape(s.Tenant) + "/oauth2/v2.0/" + name
}

// oauthConfig is the public client's configuration.
func (s *Settings) oauthConfig(redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       s.endpoint("authorize"),
			TokenURL:      s.endpoint("token"),
			DeviceAuthURL: s.endpoint("devicecode"),
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect,
		Scopes:      s.Scopes,
	}
}

// appScope is the client credentials scope: <graph resource>/.default,
// from GraphURL's host for national clouds, else Microsoft Graph's.
func (s *Settings) appScope() string {
	if u, err := url.Parse(s.GraphURL); err == nil && u.Scheme == "https" && u.Hostname() != "" && !IsLoopback(u.Hostname()) {
		return "https://" + u.Host + "/.default"
	}
	return "https://graph.microsoft.com/.default"
}

// httpCtx is ctx carrying the HTTP client for golang.org/x/oauth2, and
// detached from ctx's cancellation when keep is set (token sources outlive
// the call that made them).
func (s *Settings) httpCtx(ctx context.Context, keep bool) context.Context {
	if keep {
		ctx = context.WithoutCancel(ctx)
	}
	return context.WithValue(ctx, oauth2.HTTPClient, s.HTTPClient)
}

func realWait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status describes a profile's sign-in. It never holds a token.
type Status struct {
	Profile    string
	AuthScheme string
	SignedIn   bool      // a sign-in is stored (delegated) or the app signed in (Login, app-only)
	Account    string    // the user's UPN
	Name       string    // the user's display name
	TenantID   string    // directory id (app-only: the Tenant setting)
	ClientID   string    // the app
	Authority  string    // identity platform
	Scopes     []string  // granted scopes
	Expiry     time.Time // expiry of the last access token issued
	Saved      time.Time // when the sign-in was last saved
	Location   string    // OAuthSettingsLocation of the store ("" when nothing is stored)
	StoredIn   string    // where it is kept, for people
	Notice     string    // a message about the store (e.g. the keychain fallback)
}

// String renders the status for people, one "key: value" per line.
func (st *Status) String() string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-10s %s\n", k+":", v)
		}
	}
	line("profile", st.Profile)
	line("scheme", st.AuthScheme)
	if st.SignedIn {
		line("signed in", "yes")
	} else {
		line("signed in", "no")
	}
	acct := st.Account
	if st.Name != "" && acct != "" {
		acct = fmt.Sprintf("%s (%s)", acct, st.Name)
	}
	line("account", acct)
	line("tenant", st.TenantID)
	line("client", st.ClientID)
	line("authority", st.Authority)
	line("scopes", strings.Join(st.Scopes, " "))
	if !st.Expiry.IsZero() {
		line("expiry", st.Expiry.Format(time.RFC3339))
	}
	if !st.Saved.IsZero() {
		line("saved", st.Saved.Format(time.RFC3339))
	}
	line("stored in", st.StoredIn)
	line("notice", st.Notice)
	return b.String()
}

func statusFrom(s *Settings, rec *tokenstore.Record, store tokenstore.Store, notice tokenstore.Notice) *Status {
	st := &Status{Profile: s.Profile, AuthScheme: s.AuthScheme, ClientID: s.ClientID, Authority: s.AuthorityURL, Notice: string(notice)}
	if store != nil {
		st.Location, st.StoredIn = store.Location(), store.Describe()
	}
	if rec != nil {
		st.SignedIn = rec.RefreshToken != ""
		st.Account, st.Name, st.TenantID = rec.Account, rec.Name, rec.TenantID
		if rec.ClientID != "" {
			st.ClientID = rec.ClientID
		}
		if rec.Authority != "" {
			st.Authority = rec.Authority
		}
		st.Scopes = slices.Clone(rec.Scopes)
		st.Expiry, st.Saved = rec.Expiry, rec.Saved
	}
	return st
}

// openStore opens the profile's store and passes on its notice.
func (s *Settings) openStore() (tokenstore.Store, tokenstore.Notice, error) {
	store, notice, err := tokenstore.Open(s.Location, s.Profile)
	if err != nil {
		return nil, "", s.errorf("%w", err)
	}
	s.notify(string(notice))
	return store, notice, nil
}

// TokenSource returns the access tokens of s's profile. See the package
// documentation for what each InitiateOAuth and AuthScheme does. Delegated
// sign-ins are checked at once (a first token is obtained), so that a
// missing or expired sign-in is reported here. The returned source is safe
// for concurrent use and outlives ctx.
func TokenSource(ctx context.Context, s Settings) (oauth2.TokenSource, error) {
	s, err := s.normalize()
	if err != nil {
		return nil, err
	}
	ts, err := tokenSource(ctx, s)
	return ts, err
}

// tokenSource is TokenSource with normalized settings.
func tokenSource(ctx context.Context, s Settings) (oauth2.TokenSource, error) {
	switch {
	case s.usesToken():
		if s.AccessToken == "" {
			return nil, s.subjectf("uses InitiateOAuth=OFF or AuthScheme=Token but has no OAuthAccessToken: set it, or use InitiateOAuth=GETANDREFRESH to sign in")
		}
		return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: s.AccessToken, TokenType: "Bearer"}), nil
	case s.AuthScheme == SchemeServicePrincipal:
		src := appSource(ctx, &s)
		if _, err := src.Token(); err != nil {
			return nil, err
		}
		return src, nil
	}
	store, _, err := s.openStore()
	if err != nil {
		return nil, err
	}
	rec, err := loadRecord(store)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	canPrompt := s.InitiateOAuth == InitiateGetAndRefresh && s.canPrompt()
	rt := s.RefreshToken
	elsewhere, expired := "", false
	if rec != nil && rec.RefreshToken != "" {
		if elsewhere = s.issuedElsewhere(rec); elsewhere == "" {
			rt = rec.RefreshToken
		} else {
			rec = nil // never presented here; a new sign-in replaces it
		}
	}
	if rt != "" {
		src := newUserSource(ctx, &s, store, rec, rt, nil)
		_, err := src.Token()
		if err == nil {
			return src, nil
		}
		if !errors.Is(err, ErrSignInExpired) || !canPrompt {
			return nil, err
		}
		expired = true
	}
	if !canPrompt {
		return nil, s.signInError(false, elsewhere, nil)
	}
	// Sign in interactively, under the profile's lock so that connections
	// opened together do not all prompt: the others find the new sign-in.
	lctx := ctx
	if s.LoginTimeout > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, s.LoginTimeout+DefaultLockTimeout)
		defer cancel()
	}
	unlock, err := store.Lock(lctx)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	if again, err := loadRecord(store); err == nil && again != nil && again.RefreshToken != "" && again.RefreshToken != rt && s.issuedElsewhere(again) == "" {
		unlock()
		src := newUserSource(ctx, &s, store, again, again.RefreshToken, nil)
		if _, err := src.Token(); err != nil {
			return nil, err
		}
		return src, nil
	}
	tok, rec, err := interactiveSignIn(ctx, &s, store)
	unlock()
	if errors.Is(err, ErrNoPrompt) {
		return nil, s.signInError(expired, elsewhere, err)
	}
	if err != nil {
		return nil, err
	}
	return newUserSource(ctx, &s, store, rec, tok.RefreshToken, tok), nil
}

// loadRecord is store.Load with ErrNotFound as nil.
func loadRecord(store tokenstore.Store) (*tokenstore.Record, error) {
	rec, err := store.Load()
	if errors.Is(err, tokenstore.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// interactiveSignIn runs the scheme's interactive flow and saves the result.
func interactiveSignIn(ctx context.Context, s *Settings, store tokenstore.Store) (*oauth2.Token, *tokenstore.Record, error) {
	var (
		tok *oauth2.Token
		err error
	)
	if s.AuthScheme == SchemeDeviceCode {
		tok, err = deviceLogin(ctx, s)
	} else {
		tok, err = browserLogin(ctx, s)
	}
	if err != nil {
		return nil, nil, err
	}
	if tok.RefreshToken == "" {
		return nil, nil, s.errorf("the identity platform returned no refresh token: include offline_access in Scope")
	}
	rec := recordFrom(s, nil, tok)
	if err := store.Save(rec); err != nil {
		return nil, nil, s.errorf("signed in, but the sign-in could not be saved: %w", err)
	}
	return tok, rec, nil
}

// Login signs s's profile in interactively — in the browser, or with a
// device code when AuthScheme is DeviceCode — whatever is stored, and saves
// the sign-in. For AzureServicePrincipal it checks the client credentials
// (nothing is stored). It needs the hook of the scheme
// (Settings.OpenBrowser or Settings.DeviceCodePrompt).
func Login(ctx context.Context, s Settings) (*Status, error) {
	s, err := s.normalize()
	if err != nil {
		return nil, err
	}
	switch {
	case s.usesToken():
		return nil, s.subjectf("uses InitiateOAuth=OFF or AuthScheme=Token: its OAuthAccessToken is used as given, there is nothing to sign in to")
	case s.AuthScheme == SchemeServicePrincipal:
		tok, err := appSource(ctx, &s).Token()
		if err != nil {
			return nil, err
		}
		st := statusFrom(&s, nil, nil, "")
		st.SignedIn, st.TenantID, st.Expiry = true, s.Tenant, tok.Expiry
		st.StoredIn = "nothing stored: the app signs in with its client secret each time"
		return st, nil
	}
	if !s.canPrompt() {
		return nil, s.errorf("interactive sign-in needs a terminal or a browser, and none was given")
	}
	store, notice, err := s.openStore()
	if err != nil {
		return nil, err
	}
	_, rec, err := interactiveSignIn(ctx, &s, store)
	if err != nil {
		return nil, err
	}
	return statusFrom(&s, rec, store, notice), nil
}

// GetStatus describes s's stored sign-in without contacting the identity
// platform. Nothing stored is not an error: Status.SignedIn is false.
func GetStatus(ctx context.Context, s Settings) (*Status, error) {
	s, err := s.normalize()
	if err != nil {
		return nil, err
	}
	if !s.delegated() {
		st := statusFrom(&s, nil, nil, "")
		st.TenantID = s.Tenant
		if s.usesToken() {
			st.StoredIn = "nothing stored: OAuthAccessToken is used as given"
			st.SignedIn = s.AccessToken != ""
		} else {
			st.StoredIn = "nothing stored: the app signs in with its client secret each time"
		}
		return st, nil
	}
	store, notice, err := s.openStore()
	if err != nil {
		return nil, err
	}
	rec, err := loadRecord(store)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	return statusFrom(&s, rec, store, notice), nil
}

// Logout deletes s's stored sign-in; it reports whether there was one. The
// refresh token is forgotten locally (the identity platform keeps it valid
// until it expires or is revoked).
func Logout(ctx context.Context, s Settings) (bool, error) {
	s, err := s.normalize()
	if err != nil {
		return false, err
	}
	if !s.delegated() {
		return false, nil
	}
	store, _, err := s.openStore()
	if err != nil {
		return false, err
	}
	lctx, cancel := context.WithTimeout(ctx, DefaultLockTimeout)
	defer cancel()
	unlock, err := store.Lock(lctx)
	if err != nil {
		return false, s.errorf("%w", err)
	}
	defer unlock()
	ok, err := store.Delete()
	if err != nil {
		return false, s.errorf("%w", err)
	}
	return ok, nil
}
