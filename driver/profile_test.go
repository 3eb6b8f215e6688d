package driver

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestProfiles: a profile fills in only the fields the DSN (or Go) leaves
// at their zero value; a Go field has exactly the precedence of the same
// DSN key; errors name the file and line.
func TestProfiles(t *testing.T) {
	const file = `# profiles
[profiles.prod]
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "app-prod"
AuthScheme = "DeviceCode"
GroupId = ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"]
MaxRetries = 2
InitiateOAuth = "OFF"
OAuthAccessToken = "tok"

[profiles.bad]
MaxConcurrency = 0

[profiles.loop]
Profile = "prod"
`
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	badKey := filepath.Join(dir, "badkey.toml")
	if err := os.WriteFile(badKey, []byte("[profiles.x]\nTenant = \"t\"\nTennant = \"typo\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prod := func(c *Config) {
		c.Profile, c.Tenant, c.OAuthClientID, c.AuthScheme = "prod", "contoso.onmicrosoft.com", "app-prod", AuthDeviceCode
		c.GroupIDs, c.MaxRetries, c.InitiateOAuth, c.OAuthAccessToken = []string{"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"}, 2, OAuthOff, "tok"
	}
	tests := []struct {
		name    string
		path    string
		dsn     string        // parsed first
		gofield func(*Config) // then set in Go
		want    func(*Config) // the effective configuration, before defaults
		wantErr []string
	}{
		{name: "profile fills in", path: path, dsn: "Profile=prod", want: prod},
		{name: "DSN keys win", path: path, dsn: "Profile=PROD;tenant=fabrikam.com;AuthScheme=AzureAD;MaxRetries=0",
			want: func(c *Config) {
				prod(c)
				c.Profile, c.Tenant, c.AuthScheme, c.MaxRetries = "PROD", "fabrikam.com", AuthAzureAD, NoRetries
			}},
		{name: "Go fields win the same way", path: path, dsn: "Profile=prod",
			gofield: func(c *Config) { c.Tenant, c.AuthScheme, c.MaxRetries = "fabrikam.com", AuthAzureAD, NoRetries },
			want: func(c *Config) {
				prod(c)
				c.Tenant, c.AuthScheme, c.MaxRetries = "fabrikam.com", AuthAzureAD, NoRetries
			}},
		{name: "unknown profile", path: path, dsn: "Profile=staging", wantErr: []string{`no profile "staging"`, path, "prod, bad, loop"}},
		{name: "bad value has file:line", path: path, dsn: "Profile=bad", wantErr: []string{path + ":12", "MaxConcurrency"}},
		{name: "profile naming a profile", path: path, dsn: "Profile=loop", wantErr: []string{path + ":15", "cannot name another profile"}},
		{name: "unknown key has file:line", path: badKey, dsn: "Profile=x", wantErr: []string{badKey + ":3", `"Tennant"`, "Tenant"}},
		{name: "missing file", path: filepath.Join(dir, "none.toml"), dsn: "Profile=prod", wantErr: []string{"none.toml (named by PLANNER_CONFIG) does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PLANNER_CONFIG", tt.path)
			cfg, err := ParseDSN(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			if tt.gofield != nil {
				tt.gofield(cfg)
			}
			cn, err := NewConnector(cfg)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if n := strings.Count(err.Error(), "planner: "); n != 1 {
					t.Errorf("error %q has the prefix \"planner: \" %d times, want once", err, n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := NewConfig()
			tt.want(want)
			if err := want.normalize(); err != nil {
				t.Fatal(err)
			}
			if got := cn.Config(); !reflect.DeepEqual(got, want) {
				t.Errorf("effective config\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestNoFileWithoutProfile: NewConnector reads no config file unless a
// Profile is named — an unreadable one does not matter.
func TestNoFileWithoutProfile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(bad, []byte("this is [not toml"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLANNER_CONFIG", bad)
	if _, err := NewConnector(&Config{InitiateOAuth: OAuthOff, OAuthAccessToken: "tok"}); err != nil {
		t.Errorf("without Profile: %v", err)
	}
	if _, err := NewConnector(&Config{Profile: "p"}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("with Profile: %v, want an error naming %s", err, bad)
	}
}
