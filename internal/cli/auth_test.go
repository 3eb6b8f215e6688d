package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/graph/graphtest"
)

// TestAuthCommands signs a DeviceCode profile in against the emulator,
// shows its status, uses it, and signs it out.
func TestAuthCommands(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithDeviceCode(time.Second, time.Minute))
	dir := t.TempDir()
	store := filepath.Join(dir, "tokens.json")
	appID, secret := srv.ConfidentialClient()
	cfg := fmt.Sprintf(`[profiles.emu]
OAuthClientId = %q
Tenant = %q
AuthorityURL = %q
GraphURL = %q
OAuthSettingsLocation = %q

[profiles.app]
AuthScheme = "AzureServicePrincipal"
OAuthClientId = %q
OAuthClientSecret = %q
Tenant = %q
AuthorityURL = %q
GraphURL = %q
`, srv.ClientID(), srv.TenantID(), srv.URL(), srv.GraphURL(), store,
		appID, secret, srv.TenantID(), srv.URL(), srv.GraphURL())
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path}}

	if r := run(t, o, "auth", "status", "--profile", "emu"); r.code != ExitError || !strings.Contains(r.stdout, "signed in: no") {
		t.Errorf("status before login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// emu's AuthScheme is the default (browser); --device-code signs in
	// without one.
	r := mustRun(t, o, "auth", "login", "--profile", "emu", "--device-code")
	if !strings.Contains(r.stdout, "signed in: yes") || !strings.Contains(r.stderr, "code") {
		t.Errorf("login:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	r = mustRun(t, o, "auth", "status", "--profile", "emu")
	if !strings.Contains(r.stdout, "signed in: yes") {
		t.Errorf("status: %s", r.stdout)
	}
	// With no profile named, status shows every profile.
	r = mustRun(t, o, "auth", "status")
	if !strings.Contains(r.stdout, "emu") || !strings.Contains(r.stdout, "app") {
		t.Errorf("status of every profile:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("status printed the client secret")
	}
	for _, bad := range [][]string{
		{"auth", "login", "--profile", "app", "--device-code"},
		{"auth", "status", "--device-code"},
		{"auth", "login"}, // two profiles: which one?
	} {
		if r := run(t, o, bad...); r.code != ExitUsage || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want a one-line usage error", bad, r.code, r.stderr)
		}
	}
	r = mustRun(t, o, "query", "--profile", "emu", "--format", "csv", "--no-headers", "SELECT count(*) FROM Plans")
	if strings.TrimSpace(r.stdout) == "" || strings.TrimSpace(r.stdout) == "0" {
		t.Errorf("query with the stored sign-in: %q", r.stdout)
	}
	r = mustRun(t, o, "auth", "logout", "--profile", "emu")
	if !strings.Contains(r.stdout, "signed out of profile emu") {
		t.Errorf("logout: %s", r.stdout)
	}
	// Not on a terminal, nobody is asked: the error says so, and advises
	// signing in ahead rather than connecting the same way again.
	r = run(t, o, "query", "--profile", "emu", "SELECT 1")
	if r.code != ExitError || !strings.Contains(r.stderr, "nobody can be asked to sign in here (planner is not running in a terminal)") ||
		!strings.Contains(r.stderr, "run `planner auth login --profile emu` where someone can answer it") {
		t.Errorf("query after logout: exit %d, %q", r.code, r.stderr)
	}
	// A --dsn connection has no profile to log in with: --dsn is advised,
	// and the connection is named by its tenant, not as a profile.
	dsn := fmt.Sprintf("AuthScheme=DeviceCode;OAuthClientId=%s;Tenant=%s;AuthorityURL=%s;GraphURL=%s;OAuthSettingsLocation=%s",
		srv.ClientID(), srv.TenantID(), srv.URL(), srv.GraphURL(), filepath.Join(dir, "dsn-tokens.json"))
	r = run(t, o, "query", "--dsn", dsn, "SELECT 1")
	if r.code != ExitError || !strings.Contains(r.stderr, "no sign-in stored for the connection to tenant "+srv.TenantID()) ||
		!strings.Contains(r.stderr, "`planner auth login --dsn` with the same connection string") || namesDefault.MatchString(r.stderr) {
		t.Errorf("query --dsn without a sign-in: exit %d, %q", r.code, r.stderr)
	}
	// Neither do auth status and logout name a profile for it.
	noTenant := strings.Replace(dsn, "Tenant="+srv.TenantID()+";", "", 1)
	for _, c := range []struct{ dsn, who string }{{dsn, "the connection to tenant " + srv.TenantID()}, {noTenant, "this connection"}} {
		r = run(t, o, "auth", "status", "--dsn", c.dsn)
		if r.code != ExitError || !strings.Contains(r.stderr, c.who+" is not signed in: run `planner auth login --dsn` with the same connection string") ||
			namesDefault.MatchString(r.stdout+r.stderr) {
			t.Errorf("auth status --dsn: exit %d, %q, %q", r.code, r.stdout, r.stderr)
		}
		r = run(t, o, "auth", "logout", "--dsn", c.dsn)
		if r.code != 0 || r.stdout != c.who+" had no stored sign-in\n" || namesDefault.MatchString(r.stderr) {
			t.Errorf("auth logout --dsn: exit %d, %q, %q", r.code, r.stdout, r.stderr)
		}
	}
}

// namesDefault matches a message naming the profile "default", which a
// connection without a profile must not: no such profile need exist.
var namesDefault = regexp.MustCompile(`(?i)profile "?default`)

// TestBrowserHookNoDeadURL: the shell's browser hook prints the sign-in URL
// for copy-paste only once a browser was opened. Where none can be opened,
// the sign-in ends at once (the driver then suggests DeviceCode), so a
// printed URL would be a page nobody waits for.
func TestBrowserHookNoDeadURL(t *testing.T) {
	const page = "http://127.0.0.1:1/tenant/oauth2/v2.0/authorize?state=x"
	for _, tt := range []struct {
		name    string
		open    error
		showURL bool
	}{
		{"no browser", errors.New("no browser can be opened here"), false},
		{"browser opened", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			a := &app{io: IO{Stderr: &stderr}, openURL: func(string) error { return tt.open }}
			cfg := &driver.Config{}
			a.signInHooks(cfg, true)
			err := cfg.OpenBrowser(page)
			if !errors.Is(err, tt.open) {
				t.Errorf("err = %v, want %v", err, tt.open)
			}
			if got := strings.Contains(stderr.String(), page); got != tt.showURL {
				t.Errorf("URL shown: %v, want %v; stderr:\n%s", got, tt.showURL, stderr.String())
			}
		})
	}
}
