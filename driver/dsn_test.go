package driver

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		want func(c *Config)
		err  string // substring of the error, "" for none
	}{
		{name: "empty", dsn: "", want: func(c *Config) {}},
		{name: "profile", dsn: "Profile=prod", want: func(c *Config) { c.Profile = "prod" }},
		{name: "case-insensitive keys and values", dsn: "profile=prod; AUTHSCHEME=devicecode;initiateoauth=refresh",
			want: func(c *Config) { c.Profile = "prod"; c.AuthScheme = AuthDeviceCode; c.InitiateOAuth = OAuthRefresh }},
		{name: "quoted values", dsn: `Tenant='contoso;x';Scope="Tasks.Read ""x"""`,
			want: func(c *Config) { c.Tenant = "contoso;x"; c.Scope = `Tasks.Read "x"` }},
		{name: "trailing semicolons and spaces", dsn: " Sandbox = true ;; ", want: func(c *Config) { c.Sandbox = true }},
		{name: "graph url with query", dsn: "GraphURL=http://127.0.0.1:1234/v1.0?a=b;InitiateOAuth=OFF;OAuthAccessToken=tok",
			want: func(c *Config) {
				c.GraphURL = "http://127.0.0.1:1234/v1.0?a=b"
				c.InitiateOAuth = OAuthOff
				c.OAuthAccessToken = "tok"
			}},
		{name: "groups", dsn: "GroupId= a , b,,c", want: func(c *Config) { c.GroupIDs = []string{"a", "b", "c"} }},
		{name: "numbers", dsn: "MaxConcurrency=3;Timeout=90;MaxRetries=0;Verbosity=3",
			want: func(c *Config) {
				c.MaxConcurrency = 3
				c.Timeout = 90 * time.Second
				c.MaxRetries = NoRetries
				c.Verbosity = 3
			}},
		{name: "retries", dsn: "MaxRetries=2", want: func(c *Config) { c.MaxRetries = 2 }},
		{name: "empty value resets", dsn: "AuthScheme=DeviceCode;AuthScheme=", want: func(c *Config) {}},
		{name: "opt-in and log file", dsn: "AllowCustomHosts=yes;Logfile=/tmp/p.log",
			want: func(c *Config) { c.AllowCustomHosts = true; c.Logfile = "/tmp/p.log" }},
		{name: "duration timeout", dsn: "Timeout=1m30s", want: func(c *Config) { c.Timeout = 90 * time.Second }},
		{name: "unknown key", dsn: "Tennant=x", err: `unknown connection property "Tennant"; did you mean Tenant? (accepted properties: Profile, AuthScheme`},
		{name: "unknown key, no near name", dsn: "Colour=blue", err: `unknown connection property "Colour"; accepted properties: Profile, AuthScheme`},
		{name: "bad enum", dsn: "AuthScheme=Password", err: "AuthScheme=\"Password\": accepted values are AzureAD, DeviceCode, AzureServicePrincipal, Token"},
		{name: "bad number", dsn: "MaxConcurrency=0", err: "MaxConcurrency=\"0\": want a whole number from 1 to 256"},
		{name: "bad bool", dsn: "Sandbox=maybe", err: "Sandbox=\"maybe\": want true or false"},
		{name: "no value", dsn: "Sandbox", err: `"Sandbox" has no value`},
		{name: "unclosed quote", dsn: "Tenant='x", err: "no closing '"},
		{name: "secret value not echoed", dsn: "OAuthClientSecret='a", err: "no closing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDSN(tt.dsn)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseDSN(%q) error = %v, want it to contain %q", tt.dsn, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", tt.dsn, err)
			}
			want := NewConfig()
			tt.want(want)
			if !sameConfig(got, want) {
				t.Errorf("ParseDSN(%q) =\n %+v\nwant\n %+v", tt.dsn, got, want)
			}
		})
	}
}

func TestSecretsNeverFormatted(t *testing.T) {
	c, err := ParseDSN("Profile=p;OAuthClientSecret=s3cr3t-value;OAuthAccessToken=tok-value;OAuthRefreshToken=rt-value")
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{c.FormatDSN(), c.String()} {
		for _, secret := range []string{"s3cr3t-value", "tok-value", "rt-value"} {
			if strings.Contains(out, secret) {
				t.Errorf("formatted DSN %q shows a secret", out)
			}
		}
	}
	if got, want := c.String(), "Profile=p;OAuthClientSecret=<redacted>;OAuthAccessToken=<redacted>;OAuthRefreshToken=<redacted>"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := c.FormatDSN(), "Profile=p"; got != want {
		t.Errorf("FormatDSN() = %q, want %q", got, want)
	}
	// A bad secret value is not echoed in the error.
	if _, err := ParseDSN("OAuthClientSecret='abc"); err == nil || strings.Contains(err.Error(), "abc") {
		t.Errorf("error %v shows the secret", err)
	}
	// Nor is the rest of a secret holding an unquoted ';', whatever
	// follows it.
	for _, prop := range []string{"OAuthClientSecret", "oauthaccesstoken", "OAuthRefreshToken"} {
		for _, dsn := range []string{
			prop + "=s3cr3t;T41L-of-it",
			prop + "=s3cr3t;T41L-of-it;Tenant=contoso",
			prop + "=s3cr3t;T41L=of-it",
			"Tenant=contoso;" + prop + "=s3cr3t;T41L-of-it",
		} {
			_, err := ParseDSN(dsn)
			if err == nil || strings.Contains(err.Error(), "T41L") || strings.Contains(err.Error(), "of-it") ||
				!strings.Contains(err.Error(), "quote it") {
				t.Errorf("ParseDSN(%q): %v", dsn, err)
			}
		}
	}
	// A misspelt property after a secret is still named.
	if _, err := ParseDSN("OAuthClientSecret=s3cr3t;Tennant=contoso"); err == nil || !strings.Contains(err.Error(), "did you mean Tenant") {
		t.Errorf("a typo after a secret: %v", err)
	}
}

// roundTrip checks that formatting a config and parsing it back gives the
// same config, secrets aside.
func roundTrip(t *testing.T, c *Config) {
	t.Helper()
	want := c.Clone()
	want.OAuthClientSecret, want.OAuthAccessToken, want.OAuthRefreshToken = "", "", ""
	got, err := ParseDSN(c.FormatDSN())
	if err != nil {
		t.Fatalf("ParseDSN(FormatDSN()) of %q: %v", c.FormatDSN(), err)
	}
	if len(got.GroupIDs) == 0 && len(want.GroupIDs) == 0 {
		got.GroupIDs, want.GroupIDs = nil, nil
	}
	if !sameConfig(got, want) {
		t.Errorf("round trip of %q:\n got %+v\nwant %+v", c.FormatDSN(), got, want)
	}
}

func TestFormatDSNRoundTrip(t *testing.T) {
	for _, dsn := range []string{
		"",
		"Profile=prod",
		"AuthScheme=AzureServicePrincipal;Tenant=contoso.onmicrosoft.com;OAuthClientId=abc;OAuthClientSecret=x",
		`Tenant='a;b';Scope='it''s "quoted"';GraphURL=http://x/v1.0`,
		"Tenant='';Sandbox=true;GroupId=a,b;PlanScope=me;MaxConcurrency=2;Timeout=1.5s;MaxRetries=0;Verbosity=1",
		"AllowCustomHosts=true;Logfile='/var/log/planner log.txt';MaxRetries=3;Verbosity=3",
		"OAuthSettingsLocation=' /tmp/with space '",
	} {
		c, err := ParseDSN(dsn)
		if err != nil {
			t.Fatalf("ParseDSN(%q): %v", dsn, err)
		}
		roundTrip(t, c)
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"", "Profile=prod", "Tenant='a;b'", `Scope="x""y"`, "GroupId=a,b", "Timeout=1m", "a=b=c;;", "'", "=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		c, err := ParseDSN(dsn)
		if err != nil {
			return
		}
		roundTrip(t, c)
	})
}

func TestPropertyNames(t *testing.T) {
	for _, n := range []string{"Profile", "AuthScheme", "InitiateOAuth", "Tenant", "OAuthClientId", "OAuthClientSecret",
		"OAuthAccessToken", "OAuthRefreshToken", "OAuthSettingsLocation", "Scope", "GraphURL", "AuthorityURL",
		"Sandbox", "GroupId", "PlanScope", "MaxConcurrency", "Timeout", "MaxRetries", "Verbosity", "Logfile", "AllowCustomHosts"} {
		if !IsProperty(n) || !IsProperty(strings.ToLower(n)) {
			t.Errorf("%s is not a property", n)
		}
	}
}

// sameConfig compares two configurations' properties.
func sameConfig(a, b *Config) bool {
	return reflect.DeepEqual(a.Clone(), b.Clone())
}

// TestConfigFormatHidesSecrets: no fmt verb shows a Config's secrets, on a
// Config, a *Config or a struct holding one (a program logging its
// settings).
func TestConfigFormatHidesSecrets(t *testing.T) {
	const secret = "S3cr3t-value"
	cfg := Config{Tenant: "contoso", OAuthClientSecret: secret, OAuthAccessToken: secret + "a", OAuthRefreshToken: secret + "r"}
	holder := struct{ DB Config }{cfg}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		for _, v := range []any{cfg, &cfg, holder, &holder} {
			got := fmt.Sprintf(verb, v)
			if strings.Contains(got, secret) || !strings.Contains(got, "Tenant=contoso") {
				t.Errorf("Sprintf(%s, %T) = %s", verb, v, got)
			}
		}
	}
}
