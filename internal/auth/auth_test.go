package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/testkit"
	"github.com/plannersql/planner/internal/tokenstore"
	"golang.org/x/oauth2"
)

func mustToken(t *testing.T, ts oauth2.TokenSource) *oauth2.Token {
	t.Helper()
	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Error("the token source hands out the refresh token")
	}
	return tok
}

func stored(t *testing.T, s Settings) *tokenstore.Record {
	t.Helper()
	st, _, err := tokenstore.Open(s.Location, s.Profile)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Load()
	if err != nil {
		t.Fatalf("stored record: %v", err)
	}
	return rec
}

func TestAzureADSignIn(t *testing.T) {
	e := newEnv(t)
	s := e.settings("prod")
	open, visits := e.browser(nil, false)
	s.OpenBrowser = open
	ts, err := TokenSource(context.Background(), s)
	e.sec.show(err, s)
	if err != nil {
		t.Fatal(err)
	}
	v := <-visits
	if v.err != nil || v.status != 200 || !strings.Contains(v.body, "close this tab") {
		t.Errorf("browser saw %d %q %v", v.status, v.body, v.err)
	}
	tok := mustToken(t, ts)
	e.sec.show(tok.Expiry)
	if got := e.call("/me", tok.AccessToken); got != 200 {
		t.Errorf("GET /me with the token: %d", got)
	}
	au, _ := url.Parse(v.authURL)
	q := au.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if redirect.Hostname() != "127.0.0.1" || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
		t.Errorf("authorize URL %s", v.authURL)
	}
	// The listener served one callback and is gone.
	if c, err := net.DialTimeout("tcp", redirect.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("the loopback listener %s still accepts connections", redirect.Host)
	}
	rec := stored(t, s)
	me := e.srv.Me()
	if rec.Account != me.UserPrincipalName || rec.Name != me.DisplayName || rec.TenantID != e.srv.TenantID() || rec.ClientID != e.srv.ClientID() || len(rec.Scopes) == 0 {
		t.Errorf("stored record %v", rec)
	}
	for _, sec := range []string{rec.RefreshToken, tok.AccessToken} {
		if !e.sec.has(sec) {
			t.Error("the recorder missed an issued token: the leak check would be blind")
		}
	}
	if n := e.srv.TokenCount("authorization_code"); n != 1 {
		t.Errorf("%d code redemptions", n)
	}
	// A second connection refreshes the stored sign-in without prompting.
	s2 := e.settings("prod")
	ts2, err := TokenSource(context.Background(), s2)
	if err != nil {
		t.Fatal(err)
	}
	if e.call("/me", mustToken(t, ts2).AccessToken) != 200 || e.srv.TokenCount("refresh_token") != 1 {
		t.Errorf("second connection: refreshes %d", e.srv.TokenCount("refresh_token"))
	}
}

func TestAzureADCallbackChecks(t *testing.T) {
	tests := []struct {
		name       string
		tamper     func(u *url.URL)
		also       bool // then the genuine callback
		timeout    time.Duration
		wantStatus int // of the tampered visit
		wantErr    string
	}{
		{"wrong state refused, then the genuine callback", func(u *url.URL) {
			q := u.Query()
			q.Set("state", "forged")
			u.RawQuery = q.Encode()
		}, true, 10 * time.Second, 400, ""},
		{"wrong state only: times out", func(u *url.URL) {
			q := u.Query()
			q.Del("state")
			u.RawQuery = q.Encode()
		}, false, 300 * time.Millisecond, 400, "no sign-in within 300ms"},
		{"other path: 404 and keep waiting", func(u *url.URL) { u.Path = "/favicon.ico" }, true, 10 * time.Second, 404, ""},
		{"error from the identity platform", func(u *url.URL) {
			q := u.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("error_description", "AADSTS65004: User declined to consent.")
			u.RawQuery = q.Encode()
		}, false, 10 * time.Second, 400, "refused in the browser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.settings("p")
			s.LoginTimeout = tt.timeout
			open, visits := e.browser(tt.tamper, tt.also)
			s.OpenBrowser = open
			_, err := Login(context.Background(), s)
			e.sec.show(err)
			first := <-visits
			if first.err != nil || first.status != tt.wantStatus {
				t.Errorf("tampered visit: %d %v, want %d", first.status, first.err, tt.wantStatus)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if second := <-visits; second.status != 200 {
					t.Errorf("genuine callback: %d %q", second.status, second.body)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "planner auth login --profile p") {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if _, err := stored2(s); !errors.Is(err, tokenstore.ErrNotFound) {
				t.Errorf("something was stored after a failed sign-in: %v", err)
			}
		})
	}
}

func stored2(s Settings) (*tokenstore.Record, error) {
	st, _, err := tokenstore.Open(s.Location, s.Profile)
	if err != nil {
		return nil, err
	}
	return st.Load()
}

func TestPKCEAndStateDifferPerAttempt(t *testing.T) {
	e := newEnv(t)
	seen := map[string]bool{}
	for i := range 3 {
		s := e.settings("p")
		open, visits := e.browser(nil, false)
		s.OpenBrowser = open
		if _, err := Login(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		v := <-visits
		q, _ := url.Parse(v.authURL)
		for _, k := range []string{"state", "code_challenge"} {
			val := q.Query().Get(k)
			if val == "" || seen[val] {
				t.Errorf("attempt %d: %s %q empty or repeated", i, k, val)
			}
			seen[val] = true
		}
	}
}

func TestCallbackURL(t *testing.T) {
	tests := []struct {
		in       string
		host     string
		port     int
		path     string
		errorHas string
	}{
		{"", "127.0.0.1", 0, "/", ""},
		{"http://localhost:8400/", "localhost", 8400, "/", ""},
		{"http://127.0.0.1/cb", "127.0.0.1", 0, "/cb", ""},
		{"http://localhost", "localhost", 0, "/", ""},
		{"https://localhost/", "", 0, "", "loopback http URL"},
		{"http://example.com/", "", 0, "", "loopback http URL"},
		{"http://[::1]:80/", "", 0, "", "loopback http URL"},
		{"http://localhost:99999/", "", 0, "", "bad port"},
	}
	for _, tt := range tests {
		host, port, path, err := callback(tt.in)
		if tt.errorHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errorHas) {
				t.Errorf("callback(%q): err %v", tt.in, err)
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port || path != tt.path {
			t.Errorf("callback(%q) = %q %d %q %v", tt.in, host, port, path, err)
		}
	}
	// A fixed callback with localhost is used as the redirect URI, and the
	// listener is on 127.0.0.1 with the path given.
	e := newEnv(t)
	s := e.settings("p")
	s.CallbackURL = "http://localhost/planner-callback"
	open, visits := e.browser(nil, false)
	s.OpenBrowser = open
	if _, err := Login(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	v := <-visits
	au, _ := url.Parse(v.authURL)
	ru, _ := url.Parse(au.Query().Get("redirect_uri"))
	if ru.Hostname() != "localhost" || ru.Path != "/planner-callback" || ru.Port() == "" || v.status != 200 {
		t.Errorf("redirect %s, callback status %d", ru, v.status)
	}
}

func TestDeviceCode(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn time.Duration
		// advance returns how far the clock moves on the n-th wait (0-based)
		// of d; decline declines the code on the first wait.
		advance   func(n int, d time.Duration) time.Duration
		decline   bool
		wantWaits []time.Duration
		wantErr   string
	}{
		{"pending, slow_down, success", 15 * time.Minute,
			func(n int, d time.Duration) time.Duration {
				if n == 1 {
					return d / 2 // polls too early: slow_down
				}
				return d
			}, false, []time.Duration{time.Second, time.Second, 6 * time.Second, 6 * time.Second}, ""},
		{"expired_token", 3 * time.Second, func(_ int, d time.Duration) time.Duration { return d }, false, nil, "device code expired"},
		{"declined", 15 * time.Minute, func(_ int, d time.Duration) time.Duration { return d }, true, nil, "declined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, graphtest.WithDeviceCode(time.Second, tt.expiresIn))
			s := e.settings("dev")
			s.AuthScheme = "devicecode"
			var prompt testkit.Buffer
			var waits []time.Duration
			s.DeviceCodePrompt = func(_ context.Context, dc DeviceCode) error {
				if dc.UserCode == "" || !strings.Contains(dc.Message, dc.UserCode) || !strings.Contains(dc.Message, dc.VerificationURI) {
					t.Errorf("device code %+v", dc)
				}
				fmt.Fprintln(&prompt, dc.Message)
				return nil
			}
			s.Wait = func(ctx context.Context, d time.Duration) error {
				if tt.decline && len(waits) == 0 {
					fields := strings.Fields(prompt.String())
					for i, f := range fields {
						if f == "code" && i+1 < len(fields) {
							if err := e.srv.DeclineDeviceCode(fields[i+1]); err != nil {
								t.Errorf("DeclineDeviceCode: %v", err)
							}
						}
					}
				}
				e.clk.Advance(tt.advance(len(waits), d))
				waits = append(waits, d)
				return ctx.Err()
			}
			ts, err := TokenSource(context.Background(), s)
			e.sec.show(err, prompt.String())
			if !strings.Contains(prompt.String(), "/devicelogin") {
				t.Errorf("prompt %q lacks the verification URL", prompt.String())
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "planner auth login --profile dev") {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits %v, want %v", waits, tt.wantWaits)
			}
			if e.call("/me", mustToken(t, ts).AccessToken) != 200 {
				t.Error("the device code token does not work")
			}
			if rec := stored(t, s); rec.Account != e.srv.Me().UserPrincipalName {
				t.Errorf("stored %v", rec)
			}
		})
	}
}

func TestServicePrincipal(t *testing.T) {
	e := newEnv(t)
	id, secret := e.srv.ConfidentialClient()
	s := e.settings("app")
	s.AuthScheme, s.ClientID, s.ClientSecret = SchemeServicePrincipal, id, secret
	ts, err := TokenSource(context.Background(), s)
	e.sec.show(err, s)
	if err != nil {
		t.Fatal(err)
	}
	tok := mustToken(t, ts)
	if e.call("/groups", tok.AccessToken) != 200 {
		t.Error("the app token cannot list groups")
	}
	if again := mustToken(t, ts); again.AccessToken != tok.AccessToken || e.srv.TokenCount("client_credentials") != 1 {
		t.Error("the app token is not reused while valid")
	}
	e.clk.Advance(56 * time.Minute)
	if again := mustToken(t, ts); again.AccessToken == tok.AccessToken || e.srv.TokenCount("client_credentials") != 2 {
		t.Error("the app token is not renewed before expiry")
	}
	if _, err := stored2(s); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("app-only sign-in stored something: %v", err)
	}
	st, err := Login(context.Background(), s)
	e.sec.show(st, err)
	if err != nil || !st.SignedIn || !strings.Contains(st.StoredIn, "nothing stored") {
		t.Errorf("Login = %v, %v", st, err)
	}
	// Wrong secret: says what to check, never shows the secret.
	s.ClientSecret = secret + "x"
	e.sec.addSecret(s.ClientSecret)
	_, err = TokenSource(context.Background(), s)
	e.sec.show(err)
	if err == nil || !strings.Contains(err.Error(), "OAuthClientSecret") {
		t.Errorf("wrong secret: %v", err)
	}
	s.ClientSecret = ""
	if _, err := TokenSource(context.Background(), s); err == nil || !strings.Contains(err.Error(), "no OAuthClientSecret") {
		t.Errorf("no secret: %v", err)
	}
}

func TestAppScope(t *testing.T) {
	for graphURL, want := range map[string]string{
		"https://graph.microsoft.com/v1.0":         "https://graph.microsoft.com/.default",
		"https://graph.microsoft.us/v1.0":          "https://graph.microsoft.us/.default",
		"https://microsoftgraph.chinacloudapi.cn/": "https://microsoftgraph.chinacloudapi.cn/.default",
		"http://127.0.0.1:4000/v1.0":               "https://graph.microsoft.com/.default",
		"":                                         "https://graph.microsoft.com/.default",
	} {
		s := Settings{GraphURL: graphURL}
		if got := s.appScope(); got != want {
			t.Errorf("GraphURL %q: scope %q, want %q", graphURL, got, want)
		}
	}
}

// signedIn signs profile in with the browser and returns its settings.
func (e *env) signedIn(profile string) Settings {
	e.t.Helper()
	return e.login(e.settings(profile))
}

// login signs s in with the browser and returns s, without a browser again.
func (e *env) login(s Settings) Settings {
	e.t.Helper()
	open, visits := e.browser(nil, false)
	s.OpenBrowser = open
	st, err := Login(context.Background(), s)
	e.sec.show(st, err)
	if err != nil {
		e.t.Fatal(err)
	}
	<-visits
	s.OpenBrowser = nil
	return s
}

func TestRefreshAndOff(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// REFRESH with nothing stored: never prompts, says what to run.
	s := e.settings("ci")
	s.InitiateOAuth = "refresh"
	s.OpenBrowser = func(string) error { t.Error("REFRESH opened a browser"); return nil } // even with a browser
	_, err := TokenSource(ctx, s)
	if !errors.Is(err, ErrNoSignIn) || err.Error() != "no sign-in stored for profile ci: sign in (connect with InitiateOAuth=GETANDREFRESH, or run `planner auth login --profile ci`)" {
		t.Errorf("REFRESH, nothing stored: %v", err)
	}
	// GETANDREFRESH without a way to prompt: the same.
	s.InitiateOAuth, s.OpenBrowser = "", nil
	if _, err := TokenSource(ctx, s); !errors.Is(err, ErrNoSignIn) {
		t.Errorf("GETANDREFRESH, no prompt: %v", err)
	}

	// REFRESH with a given refresh token: used, and its rotation saved.
	src := e.signedIn("src")
	given := stored(t, src).RefreshToken
	s = e.settings("ci")
	s.InitiateOAuth, s.RefreshToken = InitiateRefresh, given
	ts, err := TokenSource(ctx, s)
	e.sec.show(err, s)
	if err != nil {
		t.Fatal(err)
	}
	if e.call("/me", mustToken(t, ts).AccessToken) != 200 {
		t.Error("REFRESH token does not work")
	}
	if rec := stored(t, s); rec.RefreshToken == "" || rec.RefreshToken == given {
		t.Error("the rotated refresh token was not saved")
	}
	// Then the stored one is preferred over the (now rotated-away) given one.
	if _, err := TokenSource(ctx, s); err != nil {
		t.Errorf("REFRESH with a stored sign-in: %v", err)
	}

	// OFF: the access token as is.
	s = e.settings("off")
	s.InitiateOAuth, s.AccessToken = InitiateOff, e.srv.Token()
	ts, err = TokenSource(ctx, s)
	if err != nil || mustToken(t, ts).AccessToken != e.srv.Token() {
		t.Errorf("OFF: %v", err)
	}
	s.AccessToken = ""
	_, err = TokenSource(ctx, s)
	if err == nil || !strings.Contains(err.Error(), "no OAuthAccessToken") {
		t.Errorf("OFF without a token: %v", err)
	}
	s.InitiateOAuth, s.AuthScheme, s.AccessToken = "", SchemeToken, "abc"
	if ts, err := TokenSource(ctx, s); err != nil || mustToken(t, ts).AccessToken != "abc" {
		t.Errorf("AuthScheme=Token: %v", err)
	}
	// No client id: says how to register an app.
	s = e.settings("noapp")
	s.ClientID = ""
	if _, err := TokenSource(ctx, s); err == nil || !strings.Contains(err.Error(), "register an app") {
		t.Errorf("no client id: %v", err)
	}
}

func TestRefreshBeforeExpiryAndRotation(t *testing.T) {
	e := newEnv(t, graphtest.WithTokenTTL(time.Hour))
	s := e.signedIn("p")
	ts, err := TokenSource(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	first := mustToken(t, ts)
	rt1 := stored(t, s).RefreshToken
	refreshes := e.srv.TokenCount("refresh_token")
	e.clk.Advance(50 * time.Minute)
	if tok := mustToken(t, ts); tok.AccessToken != first.AccessToken || e.srv.TokenCount("refresh_token") != refreshes {
		t.Error("refreshed although the token is valid for 10 more minutes")
	}
	e.clk.Advance(6 * time.Minute) // 4 minutes left: inside the 5-minute margin
	second := mustToken(t, ts)
	if second.AccessToken == first.AccessToken || e.srv.TokenCount("refresh_token") != refreshes+1 {
		t.Fatal("not refreshed within the margin")
	}
	if !second.Expiry.Equal(e.clk.Now().Add(time.Hour)) {
		t.Errorf("expiry %v, want an hour after %v (the settings' clock)", second.Expiry, e.clk.Now())
	}
	if e.call("/me", second.AccessToken) != 200 {
		t.Error("refreshed token does not work")
	}
	rt2 := stored(t, s).RefreshToken
	if rt2 == rt1 || rt2 == "" {
		t.Error("the rotated refresh token was not saved")
	}
	e.clk.Advance(2 * time.Hour)
	if e.call("/me", first.AccessToken) != 401 {
		t.Error("the emulator still accepts the expired token")
	}
	if e.call("/me", mustToken(t, ts).AccessToken) != 200 {
		t.Error("no working token after expiry")
	}
	st, err := GetStatus(context.Background(), s)
	e.sec.show(st, err)
	if err != nil || !st.SignedIn || !st.Expiry.Equal(e.clk.Now().Add(time.Hour)) {
		t.Errorf("status after refresh: %v %v", st, err)
	}
}

func TestInvalidGrant(t *testing.T) {
	e := newEnv(t)
	s := e.signedIn("prod")
	ts, err := TokenSource(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	mustToken(t, ts)
	e.srv.RevokeRefreshTokens()
	e.clk.Advance(2 * time.Hour)
	const want = "sign-in for profile prod has expired or was revoked: sign in again (connect with InitiateOAuth=GETANDREFRESH, or run `planner auth login --profile prod`)"
	_, err = ts.Token()
	e.sec.show(err)
	if !errors.Is(err, ErrSignInExpired) || err.Error() != want {
		t.Errorf("Token after revocation: %v", err)
	}
	var se *SignInError
	var oe *OAuthError
	if !errors.As(err, &se) || se.Profile != "prod" || !errors.As(err, &oe) || oe.Code != "invalid_grant" {
		t.Errorf("error chain: %#v", err)
	}
	s.InitiateOAuth = InitiateRefresh
	if _, err := TokenSource(context.Background(), s); !errors.Is(err, ErrSignInExpired) || err.Error() != want {
		t.Errorf("new REFRESH source: %v", err)
	}
	// GETANDREFRESH with a browser: signs in again.
	s.InitiateOAuth = ""
	open, visits := e.browser(nil, false)
	s.OpenBrowser = open
	ts, err = TokenSource(context.Background(), s)
	if err != nil {
		t.Fatalf("GETANDREFRESH after expiry: %v", err)
	}
	<-visits
	if e.call("/me", mustToken(t, ts).AccessToken) != 200 {
		t.Error("new sign-in does not work")
	}
}

// TestSharedProfileRotation: two connections of one profile, each with its
// own store instance of the same token file, refresh concurrently with
// rotation on; neither loses the rotated refresh token.
func TestSharedProfileRotation(t *testing.T) {
	e := newEnv(t)
	s := e.settings("shared")
	s.Location = filepath.Join(t.TempDir(), "tokens.json")
	s = e.login(s)
	s.ExpiryMargin = 1000 * time.Hour // every Token call refreshes
	const conns, rounds = 2, 8
	var wg sync.WaitGroup
	for c := range conns {
		ts, err := TokenSource(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				tok, err := ts.Token()
				e.sec.show(err)
				if err != nil {
					t.Errorf("connection %d round %d: %v", c, r, err)
					return
				}
				if code := e.call("/me", tok.AccessToken); code != 200 {
					t.Errorf("connection %d round %d: /me %d", c, r, code)
				}
			}
		}()
	}
	wg.Wait()
	if n := e.srv.TokenCount("refresh_token"); n != conns*(rounds+1) {
		t.Errorf("%d refreshes, want %d", n, conns*(rounds+1))
	}
	if _, err := TokenSource(context.Background(), s); err != nil {
		t.Errorf("after the race, the stored sign-in is lost: %v", err)
	}
}

// refreshHelper runs in a child process: it refreshes the sign-in stored in
// the file AUTH_REFRESH_HELPER AUTH_N times and prints "ok" or the error.
func refreshHelper() int {
	n, _ := strconv.Atoi(os.Getenv("AUTH_N"))
	s := Settings{
		Profile: "shared", InitiateOAuth: InitiateRefresh, Location: os.Getenv("AUTH_REFRESH_HELPER"),
		Tenant: os.Getenv("AUTH_TENANT"), ClientID: os.Getenv("AUTH_CLIENT"), AuthorityURL: os.Getenv("AUTH_AUTHORITY"),
		ExpiryMargin: 1000 * time.Hour,
	}
	ts, err := TokenSource(context.Background(), s)
	for i := 0; err == nil && i < n; i++ {
		_, err = ts.Token()
	}
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("ok")
	return 0
}

// TestSharedProfileAcrossProcesses: a child process and this one refresh
// the same profile in the same file at once.
func TestSharedProfileAcrossProcesses(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	e := newEnv(t)
	s := e.settings("shared")
	s.Location = filepath.Join(t.TempDir(), "tokens.json")
	s = e.login(s)
	s.ExpiryMargin = 1000 * time.Hour
	const rounds = 10
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "AUTH_REFRESH_HELPER="+s.Location, "AUTH_N="+strconv.Itoa(rounds),
		"AUTH_TENANT="+s.Tenant, "AUTH_CLIENT="+s.ClientID, "AUTH_AUTHORITY="+s.AuthorityURL)
	type result struct {
		out []byte
		err error
	}
	child := make(chan result, 1)
	go func() {
		out, err := cmd.CombinedOutput()
		child <- result{out, err}
	}()
	ts, err := TokenSource(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	for r := range rounds {
		if _, err := ts.Token(); err != nil {
			t.Fatalf("this process, round %d: %v", r, err)
		}
	}
	res := <-child
	e.sec.show(string(res.out))
	if res.err != nil || strings.TrimSpace(string(res.out)) != "ok" {
		t.Fatalf("child: %v: %s", res.err, res.out)
	}
	if n := e.srv.TokenCount("refresh_token"); n != 2*(rounds+1) {
		t.Errorf("%d refreshes, want %d", n, 2*(rounds+1))
	}
	if tok, err := ts.Token(); err != nil || e.call("/me", tok.AccessToken) != 200 {
		t.Errorf("after both processes: %v", err)
	}
}

func TestTwoTenantsSideBySide(t *testing.T) {
	a := newEnv(t)
	b := newEnv(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 7, Plans: 1, TasksPerPlan: 1}))
	if a.srv.TenantID() == b.srv.TenantID() {
		t.Fatal("the two emulators share a tenant id")
	}
	file := filepath.Join(t.TempDir(), "tokens.json")
	var settings []Settings
	for i, e := range []*env{a, b} {
		s := e.settings(fmt.Sprintf("tenant-%d", i))
		s.Location = file
		s = e.login(s)
		settings = append(settings, s)
	}
	var srcs []oauth2.TokenSource
	for _, s := range settings {
		ts, err := TokenSource(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, ts)
	}
	for i, e := range []*env{a, b} {
		other := []*env{b, a}[i]
		tok := mustToken(t, srcs[i])
		if e.call("/me", tok.AccessToken) != 200 || other.call("/me", tok.AccessToken) != 401 {
			t.Errorf("profile %d: its token works on its own tenant only", i)
		}
		if rec := stored(t, settings[i]); rec.TenantID != e.srv.TenantID() {
			t.Errorf("profile %d stored tenant %s, want %s", i, rec.TenantID, e.srv.TenantID())
		}
	}
}

func TestStatusAndLogout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.settings("p")
	st, err := GetStatus(ctx, s)
	if err != nil || st.SignedIn || st.Location != s.Location {
		t.Errorf("before sign-in: %v %v", st, err)
	}
	s = e.signedIn("p")
	st, err = GetStatus(ctx, s)
	e.sec.show(st, err, *st)
	if err != nil || !st.SignedIn || st.Account != e.srv.Me().UserPrincipalName || st.TenantID != e.srv.TenantID() || len(st.Scopes) == 0 || st.Expiry.IsZero() {
		t.Fatalf("status %+v %v", st, err)
	}
	text := st.String()
	for _, want := range []string{"signed in: yes", st.Account, st.TenantID, "memory"} {
		if !strings.Contains(text, want) {
			t.Errorf("status text lacks %q:\n%s", want, text)
		}
	}
	if ok, err := Logout(ctx, s); !ok || err != nil {
		t.Errorf("Logout = %v %v", ok, err)
	}
	if ok, err := Logout(ctx, s); ok || err != nil {
		t.Errorf("second Logout = %v %v", ok, err)
	}
	if st, _ := GetStatus(ctx, s); st.SignedIn {
		t.Error("still signed in after Logout")
	}
	s.InitiateOAuth = InitiateRefresh
	if _, err := TokenSource(ctx, s); !errors.Is(err, ErrNoSignIn) {
		t.Errorf("after Logout: %v", err)
	}
}

func TestHooksAndNotify(t *testing.T) {
	e := newEnv(t)
	s := e.settings("p")
	if _, err := TokenSource(context.Background(), s); !errors.Is(err, ErrNoSignIn) {
		t.Fatalf("without hooks: %v", err)
	}
	// A device code prompt does not make browser sign-in possible.
	s.DeviceCodePrompt = func(context.Context, DeviceCode) error { t.Error("AzureAD used the device code prompt"); return nil }
	if _, err := TokenSource(context.Background(), s); !errors.Is(err, ErrNoSignIn) {
		t.Fatalf("AzureAD with only a device code prompt: %v", err)
	}
	// A browser opener that fails ends the sign-in at once, suggesting
	// DeviceCode.
	s.OpenBrowser = func(string) error { return errors.New("no display") }
	_, err := TokenSource(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "no display") || !strings.Contains(err.Error(), "AuthScheme=DeviceCode") {
		t.Errorf("failing opener: %v", err)
	}
	// A device code prompt that fails ends the sign-in before any poll.
	s.AuthScheme = SchemeDeviceCode
	s.DeviceCodePrompt = func(context.Context, DeviceCode) error { return errors.New("nobody there") }
	s.Wait = func(context.Context, time.Duration) error { t.Error("polled after the prompt failed"); return nil }
	if _, err := TokenSource(context.Background(), s); err == nil || !strings.Contains(err.Error(), "nobody there") {
		t.Errorf("failing prompt: %v", err)
	}

	// The keychain fallback notice reaches Notify.
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "") // no Secret Service: fall back to a file
	var notes []string
	s = e.settings("notice")
	s.Location = ""
	s.Notify = func(m string) { notes = append(notes, m) }
	st, err := GetStatus(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.Location, dir) || st.Notice == "" {
		t.Errorf("default location %q notice %q", st.Location, st.Notice)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], dir) {
		t.Errorf("notices %q, want one naming the file", notes)
	}
}

func TestFormattingHidesSecrets(t *testing.T) {
	sec := &secrets{}
	for _, v := range []string{"client-secret-value", "access-token-value", "refresh-token-value"} {
		sec.addSecret(v)
	}
	s := Settings{Profile: "p", ClientSecret: "client-secret-value", AccessToken: "access-token-value", RefreshToken: "refresh-token-value"}
	sec.show(s, &s, []Settings{s}, map[string]Settings{"x": s})
	sec.check(t)
	if out := fmt.Sprintf("%+v", s); !strings.Contains(out, "[redacted]") || !strings.Contains(out, `Profile:"p"`) {
		t.Errorf("%%+v = %s", out)
	}
	if out := fmt.Sprintf("%#v", s); !strings.HasPrefix(out, "auth.Settings{") {
		t.Errorf("%%#v = %s", out)
	}
}

// TestSignInAdvice: the advice of a failed sign-in fits the connection.
// When a hook says nobody can be asked here (a job, the CLI without a
// terminal), connecting again the same way would fail the same way, so the
// error says why nobody was asked and to sign in where someone can; a
// connection that named no profile is told `planner auth login --dsn`,
// since `--profile default` names a profile the config file may not have.
func TestSignInAdvice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	refuse := func(string) error { return fmt.Errorf("%w: planner is not running in a terminal", ErrNoPrompt) }
	tests := []struct {
		name    string
		profile string
		setup   func(*Settings)
		want    string
	}{
		{"refresh, named", "ci", func(s *Settings) { s.InitiateOAuth = InitiateRefresh },
			"no sign-in stored for profile ci: sign in (connect with InitiateOAuth=GETANDREFRESH, or run `planner auth login --profile ci`)"},
		{"refresh, unnamed", "", func(s *Settings) { s.InitiateOAuth = InitiateRefresh },
			"no sign-in stored for this connection (profile default): sign in (connect with InitiateOAuth=GETANDREFRESH, or run `planner auth login --dsn` with the same connection string)"},
		{"hook refuses, named", "ci", func(s *Settings) { s.OpenBrowser = refuse },
			"no sign-in stored for profile ci, and nobody can be asked to sign in here (planner is not running in a terminal): sign in " +
				"(run `planner auth login --profile ci` where someone can answer it, or connect with InitiateOAuth=GETANDREFRESH from a program that can prompt)"},
		{"hook refuses bare, unnamed device code", "", func(s *Settings) {
			s.AuthScheme = SchemeDeviceCode
			s.DeviceCodePrompt = func(context.Context, DeviceCode) error { return ErrNoPrompt }
		},
			"no sign-in stored for this connection (profile default), and nobody can be asked to sign in here: sign in " +
				"(run `planner auth login --dsn` with the same connection string where someone can answer it, or connect with InitiateOAuth=GETANDREFRESH from a program that can prompt)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.settings(tt.profile)
			tt.setup(&s)
			_, err := TokenSource(ctx, s)
			if !errors.Is(err, ErrNoSignIn) || err.Error() != tt.want {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
	// An expired sign-in of an unnamed connection.
	s := e.signedIn("")
	e.srv.RevokeRefreshTokens()
	e.clk.Advance(2 * time.Hour)
	s.InitiateOAuth = InitiateRefresh
	_, err := TokenSource(ctx, s)
	const want = "sign-in for this connection (profile default) has expired or was revoked: sign in again " +
		"(connect with InitiateOAuth=GETANDREFRESH, or run `planner auth login --dsn` with the same connection string)"
	if !errors.Is(err, ErrSignInExpired) || err.Error() != want {
		t.Errorf("expired: %v\nwant %s", err, want)
	}
}
