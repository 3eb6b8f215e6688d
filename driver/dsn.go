package driver

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/plannersql/planner/internal/config"
)

// Auth schemes accepted by the AuthScheme property.
const (
	AuthAzureAD               = "AzureAD"               // browser sign-in: authorization code with PKCE
	AuthDeviceCode            = "DeviceCode"            // device code flow, for headless machines
	AuthAzureServicePrincipal = "AzureServicePrincipal" // client credentials with a secret (app-only)
	AuthToken                 = "Token"                 // OAuthAccessToken used as given
)

// Values of the InitiateOAuth property.
const (
	OAuthGetAndRefresh = "GETANDREFRESH" // sign in when no token is stored, refresh when needed
	OAuthRefresh       = "REFRESH"       // refresh a stored or given refresh token, never prompt
	OAuthOff           = "OFF"           // use OAuthAccessToken as is
)

// Plan discovery modes accepted by the PlanScope property.
const (
	PlanScopeGroups = "groups" // every plan of every group the account can reach
	PlanScopeMe     = "me"     // the plans /me/planner/plans returns
)

// Defaults of the connection properties.
const (
	DefaultGraphURL       = "https://graph.microsoft.com/v1.0"
	DefaultAuthorityURL   = "https://login.microsoftonline.com"
	DefaultTenant         = "organizations"
	DefaultMaxConcurrency = 8
	DefaultTimeout        = 60 * time.Second
	DefaultMaxRetries     = 6
)

// Config is a parsed connection string. The zero value is not ready: use
// [NewConfig] or [ParseDSN], which fill in the defaults.
type Config struct {
	Profile               string        // a named connection from the user's config file; other keys override it
	AuthScheme            string        // AzureAD (default), DeviceCode, AzureServicePrincipal or Token
	InitiateOAuth         string        // GETANDREFRESH (default), REFRESH or OFF
	Tenant                string        // directory id or domain (default "organizations")
	OAuthClientID         string        // the app registration to sign in with
	OAuthClientSecret     string        // secret of a confidential client (AzureServicePrincipal); never formatted
	OAuthAccessToken      string        // a token supplied by the caller; never formatted
	OAuthRefreshToken     string        // a refresh token supplied by the caller; never formatted
	OAuthSettingsLocation string        // keyring://<name>, a file path, or memory:// (default: keychain, else a file)
	CallbackURL           string        // fixed loopback redirect for AzureAD sign-in (default: 127.0.0.1, random port)
	Scope                 string        // extra or replacement scopes, space or comma separated
	GraphURL              string        // Graph base URL (default https://graph.microsoft.com/v1.0)
	AuthorityURL          string        // identity platform base URL (default https://login.microsoftonline.com)
	Sandbox               bool          // an in-process emulated demo tenant: no network, no sign-in
	GroupIDs              []string      // limit scans to these groups (GroupId property, comma separated)
	PlanScope             string        // how plans are discovered: groups (default) or me
	MaxConcurrency        int           // concurrent Graph requests per connection (default 8)
	Timeout               time.Duration // per request attempt (default 60s); seconds or a Go duration
	MaxRetries            int           // retries of a throttled or failed request (default 6)
	Verbosity             int           // 0–3: errors, queries, requests, bodies (tokens redacted)

	// HTTPClient, when set, is the base HTTP client for Graph and sign-in
	// requests. It cannot be given in a DSN.
	HTTPClient *http.Client
	// TokenSource, when set, supplies access tokens and replaces every sign-in
	// setting. It cannot be given in a DSN.
	TokenSource oauth2.TokenSource

	explicit map[string]bool // canonical names of properties set with Set
}

// IsSet reports whether the property name was set explicitly with [Config.Set]
// (or in the DSN), as opposed to holding its default. A profile fills in only
// the properties that are not set.
func (c *Config) IsSet(name string) bool {
	p := lookupProperty(strings.TrimSpace(name))
	return p != nil && c.explicit[p.name]
}

// NewConfig returns a Config with every default filled in.
func NewConfig() *Config {
	return &Config{
		AuthScheme:     AuthAzureAD,
		InitiateOAuth:  OAuthGetAndRefresh,
		Tenant:         DefaultTenant,
		GraphURL:       DefaultGraphURL,
		AuthorityURL:   DefaultAuthorityURL,
		PlanScope:      PlanScopeGroups,
		MaxConcurrency: DefaultMaxConcurrency,
		Timeout:        DefaultTimeout,
		MaxRetries:     DefaultMaxRetries,
	}
}

// Clone returns a copy of c that shares nothing mutable with it.
func (c *Config) Clone() *Config {
	cc := *c
	cc.GroupIDs = slices.Clone(c.GroupIDs)
	cc.explicit = maps.Clone(c.explicit)
	return &cc
}

// property describes one connection property: its canonical name, how to set
// it from text and how to read it back as text.
type property struct {
	name   string
	secret bool
	set    func(c *Config, v string) error
	get    func(c *Config) string
}

func stringProp(name string, f func(*Config) *string) property {
	return property{
		name: name,
		set:  func(c *Config, v string) error { *f(c) = v; return nil },
		get:  func(c *Config) string { return *f(c) },
	}
}

func secretProp(name string, f func(*Config) *string) property {
	p := stringProp(name, f)
	p.secret = true
	return p
}

func enumProp(name string, f func(*Config) *string, values ...string) property {
	return property{
		name: name,
		set: func(c *Config, v string) error {
			for _, ok := range values {
				if strings.EqualFold(v, ok) {
					*f(c) = ok
					return nil
				}
			}
			return fmt.Errorf("accepted values are %s", strings.Join(values, ", "))
		},
		get: func(c *Config) string { return *f(c) },
	}
}

func intProp(name string, min, max int, f func(*Config) *int) property {
	return property{
		name: name,
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < min || n > max {
				return fmt.Errorf("want a whole number from %d to %d", min, max)
			}
			*f(c) = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(*f(c)) },
	}
}

// properties lists every connection property in FormatDSN order.
var properties = []property{
	stringProp("Profile", func(c *Config) *string { return &c.Profile }),
	enumProp("AuthScheme", func(c *Config) *string { return &c.AuthScheme }, AuthAzureAD, AuthDeviceCode, AuthAzureServicePrincipal, AuthToken),
	enumProp("InitiateOAuth", func(c *Config) *string { return &c.InitiateOAuth }, OAuthGetAndRefresh, OAuthRefresh, OAuthOff),
	stringProp("Tenant", func(c *Config) *string { return &c.Tenant }),
	stringProp("OAuthClientId", func(c *Config) *string { return &c.OAuthClientID }),
	secretProp("OAuthClientSecret", func(c *Config) *string { return &c.OAuthClientSecret }),
	secretProp("OAuthAccessToken", func(c *Config) *string { return &c.OAuthAccessToken }),
	secretProp("OAuthRefreshToken", func(c *Config) *string { return &c.OAuthRefreshToken }),
	stringProp("OAuthSettingsLocation", func(c *Config) *string { return &c.OAuthSettingsLocation }),
	stringProp("CallbackURL", func(c *Config) *string { return &c.CallbackURL }),
	stringProp("Scope", func(c *Config) *string { return &c.Scope }),
	stringProp("GraphURL", func(c *Config) *string { return &c.GraphURL }),
	stringProp("AuthorityURL", func(c *Config) *string { return &c.AuthorityURL }),
	{
		name: "Sandbox",
		set: func(c *Config, v string) error {
			b, err := parseBool(v)
			c.Sandbox = b
			return err
		},
		get: func(c *Config) string { return strconv.FormatBool(c.Sandbox) },
	},
	{
		name: "GroupId",
		set: func(c *Config, v string) error {
			c.GroupIDs = nil
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					c.GroupIDs = append(c.GroupIDs, id)
				}
			}
			return nil
		},
		get: func(c *Config) string { return strings.Join(c.GroupIDs, ",") },
	},
	enumProp("PlanScope", func(c *Config) *string { return &c.PlanScope }, PlanScopeGroups, PlanScopeMe),
	intProp("MaxConcurrency", 1, 256, func(c *Config) *int { return &c.MaxConcurrency }),
	{
		name: "Timeout",
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				c.Timeout = time.Duration(n) * time.Second
				return nil
			}
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("want seconds (60) or a duration (90s, 2m)")
			}
			c.Timeout = d
			return nil
		},
		get: func(c *Config) string {
			if c.Timeout%time.Second == 0 {
				return strconv.Itoa(int(c.Timeout / time.Second))
			}
			return c.Timeout.String()
		},
	},
	intProp("MaxRetries", 0, 100, func(c *Config) *int { return &c.MaxRetries }),
	intProp("Verbosity", 0, 3, func(c *Config) *int { return &c.Verbosity }),
}

// PropertyNames returns the canonical names of every connection property.
func PropertyNames() []string {
	names := make([]string, len(properties))
	for i, p := range properties {
		names[i] = p.name
	}
	return names
}

// IsProperty reports whether name is a connection property (case-insensitive).
func IsProperty(name string) bool { return lookupProperty(name) != nil }

func lookupProperty(name string) *property {
	for i := range properties {
		if strings.EqualFold(properties[i].name, name) {
			return &properties[i]
		}
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}

// Get returns one connection property by name (case-insensitive) as text, in
// the form Set accepts, and whether the name is a property. Unlike FormatDSN
// and String it returns secrets (OAuthClientSecret, OAuthAccessToken,
// OAuthRefreshToken) as they are: never log its result.
func (c *Config) Get(name string) (string, bool) {
	p := lookupProperty(strings.TrimSpace(name))
	if p == nil {
		return "", false
	}
	return p.get(c), true
}

// Set sets one connection property by name (case-insensitive). The error names
// the property and, for an unknown one, lists the accepted names.
func (c *Config) Set(key, value string) error {
	p := lookupProperty(strings.TrimSpace(key))
	if p == nil {
		k := strings.TrimSpace(key)
		if best, ok := config.Closest(k, PropertyNames()); ok {
			return fmt.Errorf("planner: unknown connection property %q; did you mean %s? (accepted properties: %s)",
				k, best, strings.Join(PropertyNames(), ", "))
		}
		return fmt.Errorf("planner: unknown connection property %q; accepted properties: %s",
			k, strings.Join(PropertyNames(), ", "))
	}
	if err := p.set(c, value); err != nil {
		if p.secret {
			return fmt.Errorf("planner: connection property %s: %w", p.name, err)
		}
		return fmt.Errorf("planner: connection property %s=%q: %w", p.name, value, err)
	}
	if c.explicit == nil {
		c.explicit = map[string]bool{}
	}
	c.explicit[p.name] = true
	return nil
}

// ParseDSN parses a connection string of the form "Key=Value;Key2=Value2".
// Keys are case-insensitive; a value may be quoted with ' or " (a doubled quote
// inside stands for one). Unknown keys and bad values are errors that name the
// key. Profile is recorded but not loaded here: the connector loads it.
func ParseDSN(dsn string) (*Config, error) {
	c := NewConfig()
	pairs, err := splitDSN(dsn)
	if err != nil {
		return nil, err
	}
	for _, kv := range pairs {
		if err := c.Set(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// splitDSN splits a DSN into key/value pairs.
func splitDSN(dsn string) ([][2]string, error) {
	var pairs [][2]string
	i := 0
	for i < len(dsn) {
		// key
		j := i
		for j < len(dsn) && dsn[j] != '=' && dsn[j] != ';' {
			j++
		}
		key := strings.TrimSpace(dsn[i:j])
		if j >= len(dsn) || dsn[j] == ';' {
			if key != "" {
				return nil, fmt.Errorf("planner: connection string: %q has no value; write %s=<value>", key, key)
			}
			i = j + 1
			continue
		}
		if key == "" {
			return nil, fmt.Errorf("planner: connection string: a value at offset %d has no key", i)
		}
		// value
		j++
		for j < len(dsn) && (dsn[j] == ' ' || dsn[j] == '\t') {
			j++
		}
		var val strings.Builder
		if j < len(dsn) && (dsn[j] == '\'' || dsn[j] == '"') {
			q := dsn[j]
			j++
			closed := false
			for j < len(dsn) {
				if dsn[j] == q {
					if j+1 < len(dsn) && dsn[j+1] == q {
						val.WriteByte(q)
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				val.WriteByte(dsn[j])
				j++
			}
			if !closed {
				return nil, fmt.Errorf("planner: connection string: the value of %s has no closing %c", key, q)
			}
			for j < len(dsn) && (dsn[j] == ' ' || dsn[j] == '\t') {
				j++
			}
			if j < len(dsn) && dsn[j] != ';' {
				return nil, fmt.Errorf("planner: connection string: unexpected text after the quoted value of %s", key)
			}
		} else {
			k := j
			for k < len(dsn) && dsn[k] != ';' {
				k++
			}
			val.WriteString(strings.TrimSpace(dsn[j:k]))
			j = k
		}
		pairs = append(pairs, [2]string{key, val.String()})
		i = j + 1
	}
	return pairs, nil
}

// FormatDSN returns the connection string for c: every property that differs
// from its default, in a fixed order. It never includes secrets
// (OAuthClientSecret, OAuthAccessToken, OAuthRefreshToken): give those through
// the Config, a profile, or the environment.
func (c *Config) FormatDSN() string { return c.format(false) }

// String returns the connection string for display, with each secret that is
// set shown as <redacted>.
func (c *Config) String() string { return c.format(true) }

func (c *Config) format(showRedacted bool) string {
	def := NewConfig()
	var parts []string
	for _, p := range properties {
		v := p.get(c)
		if v == p.get(def) {
			continue
		}
		if p.secret {
			if showRedacted {
				parts = append(parts, p.name+"=<redacted>")
			}
			continue
		}
		parts = append(parts, p.name+"="+quoteValue(v))
	}
	return strings.Join(parts, ";")
}

func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, ";'\"") || strings.TrimSpace(v) != v {
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return v
}
