package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plannersql/planner/internal/config"
)

// fakeConfig stands in for the driver's *Config.
type fakeConfig struct {
	vals     map[string]string
	explicit map[string]bool
}

var fakeProps = []string{"Profile", "AuthScheme", "Tenant", "OAuthClientId", "OAuthClientSecret", "MaxConcurrency", "GroupId"}

func canonicalProp(k string) string {
	for _, p := range fakeProps {
		if strings.EqualFold(p, k) {
			return p
		}
	}
	return ""
}

func (c *fakeConfig) IsSet(name string) bool { return c.explicit[canonicalProp(name)] }

func (c *fakeConfig) Set(key, value string) error {
	p := canonicalProp(key)
	if p == "" {
		return errors.New("planner: unknown connection property " + key)
	}
	if p == "MaxConcurrency" && value == "0" {
		return errors.New("planner: connection property MaxConcurrency=\"0\": want a whole number from 1 to 256")
	}
	c.vals[p] = value
	c.explicit[p] = true
	return nil
}

func TestApplyProfile(t *testing.T) {
	const file = `# profiles
[profiles.prod]
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "app-prod"
AuthScheme = "DeviceCode"
GroupId = ["g1", "g2"]

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
	opts := config.LoadOptions{ValidProperty: func(n string) bool { return canonicalProp(n) != "" }, PropertyNames: fakeProps}
	tests := []struct {
		name    string
		path    string
		profile string
		dsn     map[string]string // set explicitly before the profile
		want    map[string]string
		wantErr []string
	}{
		{name: "profile fills in", path: path, profile: "prod",
			want: map[string]string{"Tenant": "contoso.onmicrosoft.com", "OAuthClientId": "app-prod", "AuthScheme": "DeviceCode", "GroupId": "g1,g2"}},
		{name: "DSN keys win", path: path, profile: "PROD", dsn: map[string]string{"tenant": "fabrikam.com", "AuthScheme": "AzureAD"},
			want: map[string]string{"Tenant": "fabrikam.com", "OAuthClientId": "app-prod", "AuthScheme": "AzureAD"}},
		{name: "unknown profile", path: path, profile: "staging", wantErr: []string{`no profile "staging"`, path, "prod, bad, loop"}},
		{name: "bad value has file:line", path: path, profile: "bad", wantErr: []string{path + ":9", "MaxConcurrency"}},
		{name: "profile naming a profile", path: path, profile: "loop", wantErr: []string{path + ":12", "cannot name another profile"}},
		{name: "unknown key has file:line", path: badKey, profile: "x", wantErr: []string{badKey + ":3", `"Tennant"`, "Tenant"}},
		{name: "missing file", path: filepath.Join(dir, "none.toml"), profile: "prod", wantErr: []string{"none.toml does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeConfig{vals: map[string]string{}, explicit: map[string]bool{}}
			for k, v := range tt.dsn {
				if err := c.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			err := ApplyProfile(tt.path, tt.profile, c, opts)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if c.vals[k] != v {
					t.Errorf("%s = %q, want %q", k, c.vals[k], v)
				}
			}
		})
	}
}
