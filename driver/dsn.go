package driver

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/plannersql/planner/internal/config"
)

// property describes one connection property: its canonical name, what it
// means and its default (for docs/connection.md), how to set its Config
// field from text, and how to read the field back as text ("" when the
// field is at its zero value). This table is the only place property names
// are spelled: the DSN parser, profiles, FormatDSN, the documentation and
// the errors all use it.
type property struct {
	name   string
	secret bool
	doc    string // meaning, Markdown
	def    string // default, Markdown
	set    func(c *Config, v string) error
	get    func(c *Config) string
}

func stringProp(name, doc, def string, f func(*Config) *string) property {
	return property{
		name: name, doc: doc, def: def,
		set: func(c *Config, v string) error { *f(c) = v; return nil },
		get: func(c *Config) string { return *f(c) },
	}
}

func secretProp(name, doc string, f func(*Config) *string) property {
	p := stringProp(name, doc, "—", f)
	p.secret = true
	return p
}

func enumProp[E ~string](name, doc string, f func(*Config) *E, values ...E) property {
	return property{
		name: name, doc: doc, def: "`" + string(values[0]) + "`",
		set: func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				*f(c) = ""
				return nil
			}
			for _, ok := range values {
				if strings.EqualFold(strings.TrimSpace(v), string(ok)) {
					*f(c) = ok
					return nil
				}
			}
			names := make([]string, len(values))
			for i, x := range values {
				names[i] = string(x)
			}
			return fmt.Errorf("accepted values are %s", strings.Join(names, ", "))
		},
		get: func(c *Config) string { return string(*f(c)) },
	}
}

func boolProp(name, doc string, f func(*Config) *bool) property {
	return property{
		name: name, doc: doc, def: "`false`",
		set: func(c *Config, v string) error {
			b, err := parseBool(v)
			*f(c) = b
			return err
		},
		get: func(c *Config) string {
			if *f(c) {
				return "true"
			}
			return ""
		},
	}
}

func intProp(name, doc, def string, min, max int, f func(*Config) *int) property {
	return property{
		name: name, doc: doc, def: def,
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < min || n > max {
				return fmt.Errorf("want a whole number from %d to %d", min, max)
			}
			*f(c) = n
			return nil
		},
		get: func(c *Config) string {
			if *f(c) == 0 {
				return ""
			}
			return strconv.Itoa(*f(c))
		},
	}
}

// properties lists every connection property in FormatDSN (and
// documentation) order.
var properties = []property{
	stringProp("Profile", "a named connection from the config file (`[profiles.<name>]`); it fills in only the properties the connection string (or the Go `Config`) leaves unset",
		"—", func(c *Config) *string { return &c.Profile }),
	enumProp("AuthScheme", "`AzureAD` (browser sign-in: authorization code with PKCE), `DeviceCode` (a code entered on any device), `AzureServicePrincipal` (client secret; app-only), `Token` (OAuthAccessToken as given)",
		func(c *Config) *AuthScheme { return &c.AuthScheme }, AuthAzureAD, AuthDeviceCode, AuthAzureServicePrincipal, AuthToken),
	enumProp("InitiateOAuth", "`GETANDREFRESH` (sign in on the first connection when nothing usable is stored, refresh when needed), `REFRESH` (refresh a stored or given token, never prompt), `OFF` (use OAuthAccessToken as is)",
		func(c *Config) *InitiateOAuth { return &c.InitiateOAuth }, OAuthGetAndRefresh, OAuthRefresh, OAuthOff),
	stringProp("Tenant", "directory (tenant) id or domain", "`"+DefaultTenant+"`", func(c *Config) *string { return &c.Tenant }),
	stringProp("OAuthClientId", "the app registration to sign in with", "— (required for sign-in)", func(c *Config) *string { return &c.OAuthClientID }),
	secretProp("OAuthClientSecret", "the app's secret, for `AzureServicePrincipal`; use `${ENV}` in a profile", func(c *Config) *string { return &c.OAuthClientSecret }),
	secretProp("OAuthAccessToken", "an access token supplied by the caller (`InitiateOAuth=OFF` or `AuthScheme=Token`)", func(c *Config) *string { return &c.OAuthAccessToken }),
	secretProp("OAuthRefreshToken", "a refresh token supplied by the caller, used when nothing is stored", func(c *Config) *string { return &c.OAuthRefreshToken }),
	stringProp("OAuthSettingsLocation", "where sign-ins persist: `keyring://<name>` (OS keychain), a file path (written with mode 0600, in a directory others cannot write), or `memory://`",
		"the keychain; a file under the user config dir when there is no keychain", func(c *Config) *string { return &c.OAuthSettingsLocation }),
	stringProp("CallbackURL", "fixed loopback redirect URI for `AzureAD` sign-in", "`http://127.0.0.1:<random port>`", func(c *Config) *string { return &c.CallbackURL }),
	stringProp("Scope", "replacement scopes (space or comma separated)", "what Planner needs, plus `offline_access`", func(c *Config) *string { return &c.Scope }),
	stringProp("GraphURL", "Graph base URL: https to a Microsoft Graph host (national clouds included), or http to a loopback address (a local emulator)",
		"`"+DefaultGraphURL+"`", func(c *Config) *string { return &c.GraphURL }),
	stringProp("AuthorityURL", "identity platform base URL: https to a Microsoft login host, or http to a loopback address",
		"`"+DefaultAuthorityURL+"`", func(c *Config) *string { return &c.AuthorityURL }),
	boolProp("AllowCustomHosts", "`true`: GraphURL and AuthorityURL may name https hosts outside Microsoft's clouds (a gateway you trust with your tokens)",
		func(c *Config) *bool { return &c.AllowCustomHosts }),
	boolProp("Sandbox", "`true`: an in-process emulated tenant with demo data; no network, no sign-in (a Go program imports `github.com/plannersql/planner/sandbox`; the CLI does)",
		func(c *Config) *bool { return &c.Sandbox }),
	{
		name: "GroupId", doc: "limit scans to these groups (comma separated ids, in any GUID form: they are compared in Graph's, lower case)", def: "every group the account can reach",
		set: func(c *Config, v string) error {
			c.GroupIDs = nil
			for id := range strings.SplitSeq(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					c.GroupIDs = append(c.GroupIDs, id)
				}
			}
			return nil
		},
		get: func(c *Config) string { return strings.Join(c.GroupIDs, ",") },
	},
	enumProp("PlanScope", "how plans are discovered: `groups` (every plan of every reachable group) or `me` (`/me/planner/plans`)",
		func(c *Config) *PlanScope { return &c.PlanScope }, PlanScopeGroups, PlanScopeMe),
	intProp("MaxConcurrency", "concurrent Graph requests per connection", "`8`", 1, 256, func(c *Config) *int { return &c.MaxConcurrency }),
	{
		name: "Timeout", doc: "per request attempt: seconds or a Go duration (`90s`, `2m`)", def: "`60s`",
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
			switch {
			case c.Timeout == 0:
				return ""
			case c.Timeout%time.Second == 0:
				return strconv.Itoa(int(c.Timeout / time.Second))
			}
			return c.Timeout.String()
		},
	},
	{
		name: "MaxRetries", doc: "retries of a failed request (see *Retries* below), honouring `Retry-After`; `0` for none", def: "`6`",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 || n > 100 {
				return fmt.Errorf("want a whole number from 0 to 100")
			}
			c.MaxRetries = n
			if n == 0 {
				c.MaxRetries = NoRetries
			}
			return nil
		},
		get: func(c *Config) string {
			switch c.MaxRetries {
			case 0:
				return ""
			case NoRetries:
				return "0"
			}
			return strconv.Itoa(c.MaxRetries)
		},
	},
	intProp("Verbosity", "what is logged: `0` nothing, `1` each statement, `2` also each Graph request (method, path, status, ms, throttled, retries), `3` also request and response bodies (tokens, secrets and codes redacted)",
		"`0`; `1` when Logfile (or a Go `Logger`) is set", 0, 3, func(c *Config) *int { return &c.Verbosity }),
	stringProp("Logfile", "where the Verbosity output goes: a file path (`~/` expands to the home directory), appended to (created with mode 0600); Go code may set `Config.Logger` instead",
		"none: `slog.Default()` when Verbosity > 0", func(c *Config) *string { return &c.Logfile }),
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
	name = strings.TrimSpace(name)
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

// unknownProperty is the error for a key that is not a property: it
// suggests the nearest name and lists the accepted ones. Like setText's,
// it carries no "planner: " prefix: the caller adds it once.
func unknownProperty(key string) error {
	k := strings.TrimSpace(key)
	if best, ok := config.Closest(k, PropertyNames()); ok {
		return fmt.Errorf("unknown connection property %q; did you mean %s? (accepted properties: %s)",
			k, best, strings.Join(PropertyNames(), ", "))
	}
	return fmt.Errorf("unknown connection property %q; accepted properties: %s", k, strings.Join(PropertyNames(), ", "))
}

// setText sets the property's field of c from its text form. The error
// names the property (never a secret's value), without a "planner: "
// prefix.
func (p *property) setText(c *Config, value string) error {
	if err := p.set(c, value); err != nil {
		if p.secret {
			return fmt.Errorf("connection property %s: %w", p.name, err)
		}
		return fmt.Errorf("connection property %s=%q: %w", p.name, value, err)
	}
	return nil
}

// Set sets one connection property by name (case-insensitive) from its
// text form, as a DSN key would. An empty value resets the field to its
// default. The error names the property (never a secret's value) and, for
// an unknown one, lists the accepted names.
func (c *Config) Set(key, value string) error {
	p := lookupProperty(key)
	if p == nil {
		return fmt.Errorf("planner: %w", unknownProperty(key))
	}
	if err := p.setText(c, value); err != nil {
		return fmt.Errorf("planner: %w", err)
	}
	return nil
}

// ParseDSN parses a connection string of the form "Key=Value;Key2=Value2".
// Keys are case-insensitive; a value may be quoted with ' or " (a doubled quote
// inside stands for one). Unknown keys and bad values are errors that name the
// key. Fields the DSN does not set stay at their zero value (the default).
// Profile is recorded but not loaded here: NewConnector loads it.
func ParseDSN(dsn string) (*Config, error) {
	c := NewConfig()
	pairs, err := splitDSN(dsn)
	if err != nil {
		return nil, err
	}
	for i, kv := range pairs {
		if i > 0 && lookupProperty(kv[0]) == nil {
			if prev := lookupProperty(pairs[i-1][0]); prev != nil && prev.secret {
				if _, typo := config.Closest(strings.TrimSpace(kv[0]), PropertyNames()); !typo {
					return nil, afterSecret(prev.name)
				}
			}
		}
		if err := c.Set(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// afterSecret is the error for text after a secret's value that is not a
// property: most likely the rest of a secret holding ';', so it is not
// shown.
func afterSecret(name string) error {
	return fmt.Errorf("planner: connection string: the text after %s is not a connection property (it is not shown: it may be "+
		"the rest of the secret); if the value of %s holds a ';', quote it: %s='...'", name, name, name)
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
				if n := len(pairs); n > 0 {
					if prev := lookupProperty(pairs[n-1][0]); prev != nil && prev.secret {
						return nil, afterSecret(prev.name)
					}
				}
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

// FormatDSN returns the connection string for c: every property whose field
// is set (not at its zero value), in a fixed order; ParseDSN gives c back.
// It never includes secrets (OAuthClientSecret, OAuthAccessToken,
// OAuthRefreshToken): give those through the Config, a profile, or the
// environment.
func (c *Config) FormatDSN() string { return c.format(false) }

// String returns the connection string for display, with each secret that is
// set shown as <redacted>.
func (c *Config) String() string { return c.format(true) }

// Format prints String for every verb, so that no verb shows a secret:
// fmt.Printf("%v", cfg), "%+v" and "%#v" of a Config or a *Config — or of
// a struct holding one — print the connection string with its secrets
// redacted ("%#v" prefixed by driver.Config).
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, "driver.Config")
	}
	_, _ = io.WriteString(f, c.String())
}

func (c *Config) format(showRedacted bool) string {
	var parts []string
	for _, p := range properties {
		v := p.get(c)
		if v == "" {
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

// propertyTable renders the connection properties as the Markdown table of
// docs/connection.md.
func propertyTable() string {
	var b strings.Builder
	b.WriteString("| Property | Meaning | Default |\n|---|---|---|\n")
	for _, p := range properties {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", p.name, p.doc, p.def)
	}
	return b.String()
}

// applyProfile fills the fields of c left at their zero value from the
// profile c.Profile of the config file at path. Errors name the file (and
// the line, for a bad key or value) and, for an unknown profile, list the
// profiles the file defines.
func (c *Config) applyProfile(path string) error {
	f, err := config.Load(path, config.LoadOptions{ValidProperty: IsProperty, PropertyNames: PropertyNames()})
	if err != nil {
		return fmt.Errorf("planner: loading profile %q: %w", c.Profile, err)
	}
	prof, err := f.Profile(c.Profile)
	if err != nil {
		return fmt.Errorf("planner: Profile=%s: %w", c.Profile, err)
	}
	for _, pr := range prof.Properties {
		p := lookupProperty(pr.Key)
		if p == nil {
			return fmt.Errorf("planner: %s:%d: profile %q: %w", prof.File, pr.Line, prof.Name, unknownProperty(pr.Key))
		}
		if p.name == "Profile" {
			return fmt.Errorf("planner: %s:%d: profile %q sets Profile: a profile cannot name another profile; remove the key", prof.File, pr.Line, prof.Name)
		}
		if p.get(c) != "" {
			continue // set in the DSN or in Go: it wins
		}
		if err := p.setText(c, pr.Value); err != nil {
			return fmt.Errorf("planner: %s:%d: profile %q: %w", prof.File, pr.Line, prof.Name, err)
		}
	}
	return nil
}
