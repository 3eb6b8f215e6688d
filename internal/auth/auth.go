// Package auth signs planner in to the Microsoft identity platform and keeps
// the sign-in of each connection profile.
//
// [TokenSource] is what the driver uses: it returns an oauth2.TokenSource for
// a profile's settings, signing in or refreshing as InitiateOAuth says:
//
//   - GETANDREFRESH: refresh the stored refresh token; when nothing is stored
//     (or the stored sign-in has expired), sign in interactively — AzureAD
//     with the browser (authorization code with PKCE and a loopback
//     redirect), DeviceCode with a code typed in on another device — and
//     save the result. Interactive sign-in needs a way to reach a person:
//     Settings.Prompt / Settings.OpenBrowser, or what the program registered
//     with [SetInteractive]; a library never prints on its own.
//   - REFRESH: refresh the stored (or else the given) refresh token, never
//     prompt.
//   - OFF, or AuthScheme Token: the given access token as is.
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
	"sync"
	"time"
	"unicode"

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
// stored sign-in when no interactive sign-in is possible.
var ErrNoSignIn = errors.New("auth: no sign-in stored")

// SignInError says that the user must run `planner auth login`. Its message
// is exactly the one to show, e.g. "sign-in for profile prod has expired:
// run `planner auth login --profile prod`".
type SignInError struct {
	Profile string
	Expired bool  // true: ErrSignInExpired; false: ErrNoSignIn
	Err     error // the identity platform's answer, if any
}

// Error is the message for the user.
func (e *SignInError) Error() string {
	if e.Expired {
		return fmt.Sprintf("sign-in for profile %s has expired: run `planner auth login --profile %s`", e.Profile, e.Profile)
	}
	return fmt.Sprintf("no sign-in stored for profile %s: run `planner auth login --profile %s`", e.Profile, e.Profile)
}

// Is matches ErrSignInExpired or ErrNoSignIn.
func (e *SignInError) Is(target error) bool {
	return (target == ErrSignInExpired && e.Expired) || (target == ErrNoSignIn && !e.Expired)
}

// Unwrap returns the identity platform's answer.
func (e *SignInError) Unwrap() error { return e.Err }

// Settings are a profile's sign-in settings (the connection properties of
// the same names) and the hooks of interactive sign-in. Format them freely:
// every verb prints the secrets as [redacted].
type Settings struct {
	Profile       string // default "default"
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
	HTTPClient   *http.Client

	// OpenBrowser opens the sign-in page; Prompt receives the page's URL
	// and the device code instructions. When both are nil, those given to
	// SetInteractive are used; when there are none, there is no interactive
	// sign-in.
	OpenBrowser func(url string) error
	Prompt      io.Writer
	// Notify receives messages about where the sign-in is kept (each said
	// once per process); default: the one given to SetNotify, else dropped.
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
}

func redact(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// String describes the settings without their secrets.
func (s Settings) String() string {
	return fmt.Sprintf("{Profile:%q AuthScheme:%q InitiateOAuth:%q Tenant:%q ClientID:%q ClientSecret:%s AccessToken:%s RefreshToken:%s "+
		"Location:%q CallbackURL:%q Scopes:%q AuthorityURL:%q GraphURL:%q LoginTimeout:%s ExpiryMargin:%s}",
		s.Profile, s.AuthScheme, s.InitiateOAuth, s.Tenant, s.ClientID, redact(s.ClientSecret), redact(s.AccessToken), redact(s.RefreshToken),
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

// interaction is how sign-in reaches a person.
type interaction struct {
	prompt io.Writer
	open   func(string) error
}

func (ia interaction) ok() bool { return ia.prompt != nil || ia.open != nil }

// say writes to the prompt, if any.
func (ia interaction) say(format string, args ...any) {
	if ia.prompt != nil {
		_, _ = fmt.Fprintf(ia.prompt, format, args...)
	}
}

var (
	globalMu     sync.Mutex
	globalIA     interaction
	globalNotify func(string)
	noticed      = map[string]bool{}
)

// SetInteractive registers, for the whole process, where interactive
// sign-in prints its instructions and how it opens the browser. The CLI
// calls it at start-up; without it (and without Settings.Prompt or
// Settings.OpenBrowser) a connection with nothing stored fails with a
// [SignInError] rather than prompting. Pass nil, nil to unregister.
func SetInteractive(prompt io.Writer, open func(url string) error) {
	globalMu.Lock()
	defer globalMu.Unlock()
	globalIA = interaction{prompt: prompt, open: open}
}

// SetNotify registers, for the whole process, the receiver of messages
// about where sign-ins are kept (e.g. "no usable OS keychain ... kept in
// <file>"). Each distinct message is delivered once per process.
func SetNotify(f func(msg string)) {
	globalMu.Lock()
	defer globalMu.Unlock()
	globalNotify = f
}

func (s *Settings) interaction() interaction {
	if s.Prompt != nil || s.OpenBrowser != nil {
		return interaction{prompt: s.Prompt, open: s.OpenBrowser}
	}
	globalMu.Lock()
	defer globalMu.Unlock()
	return globalIA
}

// notify delivers a store notice once per process.
func (s *Settings) notify(msg string) {
	if msg == "" {
		return
	}
	globalMu.Lock()
	f := s.Notify
	if f == nil {
		f = globalNotify
	}
	if f == nil || noticed[msg] {
		globalMu.Unlock()
		return
	}
	noticed[msg] = true
	globalMu.Unlock()
	f(msg)
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
	if s.Profile == "" {
		s.Profile = tokenstore.DefaultProfile
	}
	var ok bool
	if s.AuthScheme, ok = canonical(s.AuthScheme, SchemeAzureAD, SchemeAzureAD, SchemeDeviceCode, SchemeServicePrincipal, SchemeToken); !ok {
		return s, fmt.Errorf("auth: profile %s: unknown AuthScheme %q: use AzureAD, DeviceCode, AzureServicePrincipal or Token", s.Profile, s.AuthScheme)
	}
	if s.InitiateOAuth, ok = canonical(s.InitiateOAuth, InitiateGetAndRefresh, InitiateGetAndRefresh, InitiateRefresh, InitiateOff); !ok {
		return s, fmt.Errorf("auth: profile %s: unknown InitiateOAuth %q: use GETANDREFRESH, REFRESH or OFF", s.Profile, s.InitiateOAuth)
	}
	if strings.TrimSpace(s.Tenant) == "" {
		s.Tenant = DefaultTenant
	}
	s.Tenant = strings.TrimSpace(s.Tenant)
	if s.AuthorityURL == "" {
		s.AuthorityURL = DefaultAuthorityURL
	}
	s.AuthorityURL = strings.TrimRight(s.AuthorityURL, "/")
	if u, err := url.Parse(s.AuthorityURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return s, fmt.Errorf("auth: profile %s: AuthorityURL %q is not an http(s) URL: use e.g. %s", s.Profile, s.AuthorityURL, DefaultAuthorityURL)
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
		return s, fmt.Errorf("auth: profile %s has no OAuthClientId: register an app in the Microsoft Entra admin center "+
			"(App registrations > New registration; under Authentication add the platform \"Mobile and desktop applications\" "+
			"with the redirect URI http://localhost and allow public client flows), then set OAuthClientId to its Application (client) ID", s.Profile)
	}
	if s.AuthScheme == SchemeServicePrincipal && s.ClientSecret == "" {
		return s, fmt.Errorf("auth: profile %s uses AuthScheme=AzureServicePrincipal but has no OAuthClientSecret: "+
			"create a client secret under the app's Certificates & secrets and set OAuthClientSecret (e.g. ${ENV_VAR} in the config file)", s.Profile)
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
	if u, err := url.Parse(s.GraphURL); err == nil && u.Scheme == "https" && u.Hostname() != "" && !isLoopbackHost(u.Hostname()) {
		return "https://" + u.Host + "/.default"
	}
	return "https://graph.microsoft.com/.default"
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
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
		return nil, "", fmt.Errorf("auth: profile %s: %w", s.Profile, err)
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
	switch {
	case s.usesToken():
		if s.AccessToken == "" {
			return nil, fmt.Errorf("auth: profile %s uses InitiateOAuth=OFF or AuthScheme=Token but has no OAuthAccessToken: set it, or use InitiateOAuth=GETANDREFRESH to sign in", s.Profile)
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
		return nil, fmt.Errorf("auth: profile %s: %w", s.Profile, err)
	}
	ia := s.interaction()
	canPrompt := s.InitiateOAuth == InitiateGetAndRefresh && ia.ok()
	rt := s.RefreshToken
	if rec != nil && rec.RefreshToken != "" {
		rt = rec.RefreshToken
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
	}
	if !canPrompt {
		return nil, &SignInError{Profile: s.Profile}
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
		return nil, fmt.Errorf("auth: profile %s: %w", s.Profile, err)
	}
	if again, err := loadRecord(store); err == nil && again != nil && again.RefreshToken != "" && again.RefreshToken != rt {
		unlock()
		src := newUserSource(ctx, &s, store, again, again.RefreshToken, nil)
		if _, err := src.Token(); err != nil {
			return nil, err
		}
		return src, nil
	}
	tok, rec, err := interactiveSignIn(ctx, &s, ia, store)
	unlock()
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
func interactiveSignIn(ctx context.Context, s *Settings, ia interaction, store tokenstore.Store) (*oauth2.Token, *tokenstore.Record, error) {
	var (
		tok *oauth2.Token
		err error
	)
	if s.AuthScheme == SchemeDeviceCode {
		tok, err = deviceLogin(ctx, s, ia)
	} else {
		tok, err = browserLogin(ctx, s, ia)
	}
	if err != nil {
		return nil, nil, err
	}
	if tok.RefreshToken == "" {
		return nil, nil, fmt.Errorf("auth: profile %s: the identity platform returned no refresh token: include offline_access in Scope", s.Profile)
	}
	rec := recordFrom(s, nil, tok)
	if err := store.Save(rec); err != nil {
		return nil, nil, fmt.Errorf("auth: profile %s: signed in, but the sign-in could not be saved: %w", s.Profile, err)
	}
	return tok, rec, nil
}

// Login signs s's profile in interactively — in the browser, or with a
// device code when AuthScheme is DeviceCode — whatever is stored, and saves
// the sign-in. For AzureServicePrincipal it checks the client credentials
// (nothing is stored). It needs Settings.Prompt/OpenBrowser or
// SetInteractive.
func Login(ctx context.Context, s Settings) (*Status, error) {
	s, err := s.normalize()
	if err != nil {
		return nil, err
	}
	switch {
	case s.usesToken():
		return nil, fmt.Errorf("auth: profile %s uses InitiateOAuth=OFF or AuthScheme=Token: its OAuthAccessToken is used as given, there is nothing to sign in to", s.Profile)
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
	ia := s.interaction()
	if !ia.ok() {
		return nil, fmt.Errorf("auth: profile %s: interactive sign-in needs a terminal or a browser, and none was given", s.Profile)
	}
	store, notice, err := s.openStore()
	if err != nil {
		return nil, err
	}
	_, rec, err := interactiveSignIn(ctx, &s, ia, store)
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
		return nil, fmt.Errorf("auth: profile %s: %w", s.Profile, err)
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
		return false, fmt.Errorf("auth: profile %s: %w", s.Profile, err)
	}
	defer unlock()
	ok, err := store.Delete()
	if err != nil {
		return false, fmt.Errorf("auth: profile %s: %w", s.Profile, err)
	}
	return ok, nil
}

// SettingsFrom builds the Settings of a connection from its properties, named
// as in a connection string (Profile, AuthScheme, InitiateOAuth, Tenant,
// OAuthClientId, OAuthClientSecret, OAuthAccessToken, OAuthRefreshToken,
// OAuthSettingsLocation, CallbackURL, Scope, AuthorityURL, GraphURL); get
// returns a property's value. Scope is split on commas and white space and
// replaces the default scopes. hc is the HTTP client for the identity
// platform (nil: one with DefaultTokenTimeout).
func SettingsFrom(get func(name string) (string, bool), hc *http.Client) Settings {
	v := func(name string) string {
		s, _ := get(name)
		return s
	}
	var scopes []string
	if sc := strings.TrimSpace(v("Scope")); sc != "" {
		scopes = strings.FieldsFunc(sc, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	}
	return Settings{
		Profile:       v("Profile"),
		AuthScheme:    v("AuthScheme"),
		InitiateOAuth: v("InitiateOAuth"),
		Tenant:        v("Tenant"),
		ClientID:      v("OAuthClientId"),
		ClientSecret:  v("OAuthClientSecret"),
		AccessToken:   v("OAuthAccessToken"),
		RefreshToken:  v("OAuthRefreshToken"),
		Location:      v("OAuthSettingsLocation"),
		CallbackURL:   v("CallbackURL"),
		Scopes:        scopes,
		AuthorityURL:  v("AuthorityURL"),
		GraphURL:      v("GraphURL"),
		HTTPClient:    hc,
	}
}
