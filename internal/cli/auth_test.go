package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestAuthCommands signs a DeviceCode profile in against the emulator,
// shows its status, uses it, and signs it out.
func TestAuthCommands(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithDeviceCode(time.Second, time.Minute))
	dir := t.TempDir()
	store := filepath.Join(dir, "tokens.json")
	cfg := fmt.Sprintf(`[profiles.emu]
AuthScheme = "DeviceCode"
OAuthClientId = %q
Tenant = %q
AuthorityURL = %q
GraphURL = %q
OAuthSettingsLocation = %q
`, srv.ClientID(), srv.TenantID(), srv.URL(), srv.GraphURL(), store)
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path}}

	if r := run(t, o, "auth", "status", "--profile", "emu"); r.code != ExitError || !strings.Contains(r.stdout, "signed in: no") {
		t.Errorf("status before login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := mustRun(t, o, "auth", "login", "--profile", "emu")
	if !strings.Contains(r.stdout, "signed in: yes") || !strings.Contains(r.stderr, "code") {
		t.Errorf("login:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	r = mustRun(t, o, "auth", "status", "--profile", "emu")
	if !strings.Contains(r.stdout, "signed in: yes") {
		t.Errorf("status: %s", r.stdout)
	}
	r = mustRun(t, o, "query", "--profile", "emu", "--format", "csv", "--no-headers", "SELECT count(*) FROM Plans")
	if strings.TrimSpace(r.stdout) == "" || strings.TrimSpace(r.stdout) == "0" {
		t.Errorf("query with the stored sign-in: %q", r.stdout)
	}
	r = mustRun(t, o, "auth", "logout", "--profile", "emu")
	if !strings.Contains(r.stdout, "signed out of profile emu") {
		t.Errorf("logout: %s", r.stdout)
	}
	r = run(t, o, "query", "--profile", "emu", "SELECT 1")
	if r.code != ExitError || !strings.Contains(r.stderr, "planner auth login --profile emu") {
		t.Errorf("query after logout: exit %d, %q", r.code, r.stderr)
	}
}
