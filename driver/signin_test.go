package driver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestSignInDeviceCode: with nothing stored, the first connection signs in
// with a device code — the message reaches the hook, or stderr without one
// — polling at the interval the service gives, waiting on
// authorization_pending, slowing down on slow_down, and giving up on
// expired_token; the sign-in is saved and the query runs.
func TestSignInDeviceCode(t *testing.T) {
	tests := []struct {
		name      string
		hook      bool
		expiresIn time.Duration
		advance   func(n int, d time.Duration) time.Duration
		wantWaits []time.Duration
		wantErr   []string
	}{
		{name: "message on stderr, pending twice", expiresIn: 15 * time.Minute,
			wantWaits: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "message to the hook", hook: true, expiresIn: 15 * time.Minute,
			wantWaits: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "slow_down adds 5 seconds", hook: true, expiresIn: 15 * time.Minute,
			advance: func(n int, d time.Duration) time.Duration {
				if n == 1 {
					return d / 2 // polls too early: slow_down
				}
				return d
			},
			wantWaits: []time.Duration{time.Second, time.Second, 6 * time.Second, 6 * time.Second}},
		{name: "expired_token", hook: true, expiresIn: 3 * time.Second,
			advance: func(int, time.Duration) time.Duration { return 4 * time.Second },
			wantErr: []string{"device code expired", "sign in again", "planner auth login --dsn` with the same connection string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSigninEnv(t, graphtest.WithDeviceCode(time.Second, tt.expiresIn))
			e.advance = tt.advance
			cfg := e.config(AuthDeviceCode)
			if tt.hook {
				cfg.DeviceCodePrompt = e.prompt
			}
			db, _ := e.db(cfg)
			n, err := e.plans(db)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("the query ran after the device code expired")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if e.srv.TokenCount("device_code") != 0 {
					t.Error("a token was issued")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Error("no plans")
			}
			if fmt.Sprint(e.waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits %v, want %v", e.waits, tt.wantWaits)
			}
			out := e.out.String()
			if tt.hook {
				if e.prompts != 1 || !strings.Contains(out, "hook: To sign in") {
					t.Errorf("%d prompts; output %q", e.prompts, out)
				}
			} else if !strings.Contains(out, "planner: To sign in, use a web browser to open the page "+e.srv.URL()+"/devicelogin") {
				t.Errorf("stderr lacks the service's message: %q", out)
			}
			rec := e.stored()
			if rec.Account != e.srv.Me().UserPrincipalName || rec.Authority != e.srv.AuthorityURL() || rec.RefreshToken == "" {
				t.Errorf("stored %v", rec)
			}
			if e.issued() < 4 {
				t.Error("the recorder missed the issued tokens: the leak check would be blind")
			}
		})
	}
}

// TestSignInBrowser: AzureAD prints the page's URL to stderr and opens the
// browser (here an HTTP client playing it); a callback with the wrong state
// is refused and the genuine one accepted; the sign-in is saved.
func TestSignInBrowser(t *testing.T) {
	for _, hook := range []bool{false, true} {
		t.Run(fmt.Sprintf("hook=%v", hook), func(t *testing.T) {
			e := newSigninEnv(t)
			t.Setenv("DISPLAY", ":0")
			open, visits := e.browser(func(u *url.URL) {
				q := u.Query()
				q.Set("state", "forged")
				u.RawQuery = q.Encode()
			})
			cfg := e.config(AuthAzureAD)
			if hook {
				cfg.OpenBrowser = open
			}
			db, cn := e.db(cfg)
			if !hook {
				cn.open = open
			}
			if _, err := e.plans(db); err != nil {
				t.Fatal(err)
			}
			forged, genuine := <-visits, <-visits
			if forged.err != nil || forged.status != 400 {
				t.Errorf("callback with a forged state: %d %v, want 400", forged.status, forged.err)
			}
			if genuine.err != nil || genuine.status != 200 {
				t.Errorf("genuine callback: %d %v", genuine.status, genuine.err)
			}
			au, _ := url.Parse(genuine.authURL)
			q := au.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
				t.Errorf("authorize URL %s", genuine.authURL)
			}
			if printed := strings.Contains(e.out.String(), genuine.authURL); printed == hook {
				t.Errorf("URL on stderr: %v, want %v (the default opener prints it, a hook decides itself)", printed, !hook)
			}
			if e.prompts != 1 || e.srv.TokenCount("authorization_code") != 1 {
				t.Errorf("%d browser opens, %d code redemptions", e.prompts, e.srv.TokenCount("authorization_code"))
			}
			if rec := e.stored(); rec.RefreshToken == "" {
				t.Error("nothing stored")
			}
		})
	}
}

// TestSignInNoBrowser: where no browser can be opened, AzureAD says so at
// once and suggests DeviceCode, from sql.Open on; nothing is stored.
func TestSignInNoBrowser(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(e *signinEnv, cn *Connector)
		wantErr string
	}{
		{"opener fails", func(e *signinEnv, cn *Connector) {
			t.Setenv("DISPLAY", ":0")
			cn.open = func(string) error { return errors.New("xdg-open: no method available") }
		}, "xdg-open: no method available"},
	}
	if runtime.GOOS == "linux" {
		tests = append(tests, struct {
			name    string
			setup   func(e *signinEnv, cn *Connector)
			wantErr string
		}{"no display", func(e *signinEnv, cn *Connector) {
			t.Setenv("DISPLAY", "")
			t.Setenv("WAYLAND_DISPLAY", "")
			t.Setenv("WSL_DISTRO_NAME", "")
		}, "neither DISPLAY nor WAYLAND_DISPLAY is set"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSigninEnv(t)
			cfg := e.config(AuthAzureAD)
			db, cn := e.db(cfg)
			tt.setup(e, cn)
			_, err := e.plans(db)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "AuthScheme=DeviceCode") {
				t.Errorf("error %v, want one saying %q and suggesting AuthScheme=DeviceCode", err, tt.wantErr)
			}
			if e.srv.TokenCount("authorization_code") != 0 {
				t.Error("a code was redeemed")
			}
		})
	}
	// The same through sql.Open and a DSN, with the real opener.
	if runtime.GOOS == "linux" {
		e := newSigninEnv(t)
		t.Setenv("DISPLAY", "")
		t.Setenv("WAYLAND_DISPLAY", "")
		t.Setenv("WSL_DISTRO_NAME", "")
		db, err := sql.Open("planner", fmt.Sprintf("Tenant=%s;OAuthClientId=%s;AuthorityURL=%s;GraphURL=%s;OAuthSettingsLocation=%s",
			e.srv.TenantID(), e.srv.ClientID(), e.srv.AuthorityURL(), e.srv.GraphURL(), e.store))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Ping()
		e.show(err)
		if err == nil || !strings.Contains(err.Error(), "no browser can be opened here") || !strings.Contains(err.Error(), "AuthScheme=DeviceCode") {
			t.Errorf("sql.Open without a display: %v", err)
		}
	}
}

// TestSignInReusedAndRefreshed: a second connector (another DB, as another
// process would) reuses the stored sign-in without prompting; access tokens
// are refreshed within 5 minutes of expiry, not before, and each rotated
// refresh token is saved at once.
func TestSignInReusedAndRefreshed(t *testing.T) {
	e := newSigninEnv(t, graphtest.WithDeviceCode(time.Second, 15*time.Minute), graphtest.WithTokenTTL(time.Hour))
	cfg := e.config(AuthDeviceCode)
	cfg.DeviceCodePrompt = e.prompt
	db1, _ := e.db(cfg)
	if _, err := e.plans(db1); err != nil {
		t.Fatal(err)
	}
	rt1 := e.stored().RefreshToken

	db2, _ := e.db(cfg)
	if _, err := e.plans(db2); err != nil {
		t.Fatal(err)
	}
	if e.prompts != 1 || e.srv.TokenCount("device_code") != 1 {
		t.Errorf("the second DB prompted: %d prompts, %d device code sign-ins", e.prompts, e.srv.TokenCount("device_code"))
	}
	// The second connector refreshed once to get its access token; the
	// rotated refresh token is the stored one.
	if e.srv.TokenCount("refresh_token") != 1 {
		t.Errorf("%d refreshes for the second DB, want 1", e.srv.TokenCount("refresh_token"))
	}
	rt2 := e.stored().RefreshToken
	if rt2 == rt1 || rt2 == "" {
		t.Fatal("the rotated refresh token was not saved")
	}
	e.clk.Advance(50 * time.Minute)
	if _, err := e.plans(db2); err != nil || e.srv.TokenCount("refresh_token") != 1 {
		t.Errorf("10 minutes before expiry: %v, %d refreshes (want none)", err, e.srv.TokenCount("refresh_token")-1)
	}
	e.clk.Advance(6 * time.Minute) // 4 minutes left: inside the margin
	if _, err := e.plans(db2); err != nil || e.srv.TokenCount("refresh_token") != 2 {
		t.Errorf("4 minutes before expiry: %v, %d refreshes (want 1)", err, e.srv.TokenCount("refresh_token")-1)
	}
	rt3 := e.stored().RefreshToken
	if rt3 == rt2 || rt3 == "" {
		t.Error("the refresh token rotated before expiry was not saved")
	}
	// db1 still works: it re-reads the stored record before refreshing, so
	// it never presents a rotated-out token.
	e.clk.Advance(2 * time.Hour)
	if _, err := e.plans(db1); err != nil {
		t.Errorf("the first DB after expiry: %v", err)
	}
	if e.prompts != 1 {
		t.Errorf("%d prompts, want 1", e.prompts)
	}
}

// TestSignInRevoked: REFRESH with a revoked sign-in never prompts and says
// the sign-in expired and how to sign in again; GETANDREFRESH signs in
// again.
func TestSignInRevoked(t *testing.T) {
	e := newSigninEnv(t, graphtest.WithDeviceCode(time.Second, 15*time.Minute))
	cfg := e.config(AuthDeviceCode)
	cfg.DeviceCodePrompt = e.prompt
	db, _ := e.db(cfg)
	if _, err := e.plans(db); err != nil {
		t.Fatal(err)
	}
	e.srv.RevokeRefreshTokens()
	e.clk.Advance(2 * time.Hour) // the access token expires too

	want := "sign-in for the connection to tenant " + e.srv.TenantID() + " has expired or was revoked: sign in again " +
		"(connect with InitiateOAuth=GETANDREFRESH, or run `planner auth login --dsn` with the same connection string)"
	// The open DB's next refresh fails.
	if _, err := e.plans(db); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("open DB after revocation: %v", err)
	}
	// A new REFRESH connection fails at once, without prompting.
	refresh := e.config(AuthDeviceCode)
	refresh.InitiateOAuth = OAuthRefresh
	refresh.DeviceCodePrompt = e.prompt
	db2, _ := e.db(refresh)
	if _, err := e.plans(db2); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("REFRESH after revocation: %v", err)
	}
	if e.prompts != 1 {
		t.Errorf("REFRESH prompted (%d prompts)", e.prompts)
	}
	// GETANDREFRESH signs in again.
	db3, _ := e.db(cfg)
	if _, err := e.plans(db3); err != nil {
		t.Fatal(err)
	}
	if e.prompts != 2 || e.srv.TokenCount("device_code") != 2 {
		t.Errorf("%d prompts, %d device code sign-ins; want 2 of each", e.prompts, e.srv.TokenCount("device_code"))
	}
}

// TestSignInConcurrentFirstConnections: connections opened at once, on one
// DB or on two DBs of one process, sign in once.
func TestSignInConcurrentFirstConnections(t *testing.T) {
	e := newSigninEnv(t, graphtest.WithDeviceCode(time.Second, 15*time.Minute))
	cfg := e.config(AuthDeviceCode)
	cfg.DeviceCodePrompt = e.prompt
	dbA, _ := e.db(cfg)
	dbB, _ := e.db(cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		db := dbA
		if i%2 == 1 {
			db = dbB
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := db.Conn(context.Background())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			var n int
			errs <- c.QueryRowContext(context.Background(), "SELECT count(*) FROM Plans").Scan(&n)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.show(err)
		if err != nil {
			t.Error(err)
		}
	}
	if e.prompts != 1 || e.srv.TokenCount("device_code") != 1 {
		t.Errorf("%d prompts, %d device code sign-ins; want 1", e.prompts, e.srv.TokenCount("device_code"))
	}
}

// TestSignInNoPrompt: a hook returning ErrNoPrompt (a job, a service)
// makes the connection fail at once saying how to sign in.
func TestSignInNoPrompt(t *testing.T) {
	e := newSigninEnv(t)
	cfg := e.config(AuthDeviceCode)
	cfg.DeviceCodePrompt = func(context.Context, DeviceCode) error { return fmt.Errorf("%w: running as a service", ErrNoPrompt) }
	db, _ := e.db(cfg)
	_, err := e.plans(db)
	// The reason the hook gave is shown, and the advice is not to connect
	// the same way again.
	want := "no sign-in stored for the connection to tenant " + e.srv.TenantID() + ", and nobody can be asked to sign in here (running as a service): " +
		"sign in (run `planner auth login --dsn` with the same connection string where someone can answer it"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v", err)
	}
	if len(e.waits) != 0 {
		t.Error("polled although nobody was asked")
	}
}

// TestSignInStatusAndSignOut: the Connector's SignIn, SignInStatus and
// SignOut (what `planner auth` runs).
func TestSignInStatusAndSignOut(t *testing.T) {
	e := newSigninEnv(t, graphtest.WithDeviceCode(time.Second, 15*time.Minute))
	cfg := e.config(AuthDeviceCode)
	cfg.DeviceCodePrompt = e.prompt
	cn := e.connector(cfg)
	ctx := context.Background()
	st, err := cn.SignInStatus(ctx)
	if err != nil || st.SignedIn {
		t.Fatalf("before: %v %v", st, err)
	}
	st, err = cn.SignIn(ctx)
	e.show(st, err)
	if err != nil || !st.SignedIn || st.Account != e.srv.Me().UserPrincipalName || !strings.Contains(st.String(), "signed in: yes") {
		t.Fatalf("SignIn: %v %v", st, err)
	}
	if ok, err := cn.SignOut(ctx); !ok || err != nil {
		t.Errorf("SignOut: %v %v", ok, err)
	}
	if st, _ := cn.SignInStatus(ctx); st.SignedIn {
		t.Error("signed in after SignOut")
	}
}

// TestSignInAbandonedByTheFirstConnection: when the connection running the
// sign-in gives up (its context is cancelled while it polls), a connection
// waiting for that sign-in with a live context signs in itself rather than
// fail with the other's cancellation.
func TestSignInAbandonedByTheFirstConnection(t *testing.T) {
	e := newSigninEnv(t, graphtest.WithDeviceCode(time.Second, 15*time.Minute))
	cfg := e.config(AuthDeviceCode)
	prompted := make(chan struct{}, 4)
	cfg.DeviceCodePrompt = func(ctx context.Context, dc DeviceCode) error {
		err := e.prompt(ctx, dc)
		prompted <- struct{}{}
		return err
	}
	db, cn := e.db(cfg)
	var polls sync.Mutex
	first := true
	cn.wait = func(ctx context.Context, d time.Duration) error {
		polls.Lock()
		block := first
		first = false
		polls.Unlock()
		if block { // the first connection's poll: until it gives up
			<-ctx.Done()
			return ctx.Err()
		}
		return e.wait(ctx, d)
	}
	waiting := make(chan struct{}, 4)
	cn.waiting = func() { waiting <- struct{}{} }

	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	conn := func(ctx context.Context, out chan<- error) {
		c, err := db.Conn(ctx)
		if err == nil {
			err = c.PingContext(ctx)
			c.Close()
		}
		e.show(err)
		out <- err
	}
	errA, errB := make(chan error, 1), make(chan error, 1)
	go conn(ctxA, errA)
	<-prompted // A signs in and polls
	go conn(context.Background(), errB)
	<-waiting // B waits for A's sign-in
	cancelA()
	if err := <-errA; err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "abandoned") {
		t.Errorf("the cancelled connection: %v", err)
	}
	if err := <-errB; err != nil {
		t.Errorf("the waiting connection failed with the other's cancellation: %v", err)
	}
	if e.prompts != 2 || e.srv.TokenCount("device_code") != 1 {
		t.Errorf("%d prompts, %d device code sign-ins; want 2 and 1", e.prompts, e.srv.TokenCount("device_code"))
	}
	if n, err := e.plans(db); err != nil || n == 0 {
		t.Errorf("after the sign-in: %d plans, %v", n, err)
	}
}
