package console

import (
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/plannersql/planner/internal/config"
)

// SettingsFile is the name of the console's own settings file, kept beside
// the config file: alerts and named destinations. Profiles and jobs stay
// in the config file, where the CLI reads them.
const SettingsFile = "console.toml"

// Alert triggers ("on").
const (
	alertOnFailure = "failure" // the first failed run of a streak, and the recovery
	alertOnAlways  = "always"  // every run
	alertOnNever   = "never"
)

// SMTP transport security ("tls").
const (
	tlsStartTLS = "starttls" // plain connection upgraded with STARTTLS (required)
	tlsImplicit = "tls"      // TLS from the first byte (port 465)
	tlsNone     = "none"     // no encryption: only to a relay on this machine
)

// settings is console.toml. Values are kept as written (${NAME}
// references unexpanded); secrets are expanded only when used.
type settings struct {
	Alerts       alertSettings
	JobAlerts    map[string]jobAlertSettings // by job name
	Destinations map[string]string           // name → URL as written
	destOrder    []string
}

// alertSettings is [alerts] with [alerts.smtp].
type alertSettings struct {
	On            string // failure (default), always, never
	Slow          bool   // also alert when a run takes SlowFactor × its usual time
	SlowFactor    float64
	EmailTo       []string
	WebhookURL    string // secret: may hold a token
	WebhookSecret string // secret: HMAC-SHA256 key of the X-Planner-Signature header
	SMTP          smtpSettings
}

// smtpSettings is [alerts.smtp].
type smtpSettings struct {
	Host     string
	Port     int
	Username string
	Password string // secret
	From     string
	TLS      string // starttls (default), tls, none
	CAFile   string // PEM file of the CA that signed the server's certificate
}

// jobAlertSettings is [alerts.jobs.<name>]: what differs from [alerts].
type jobAlertSettings struct {
	On         string
	Slow       *bool
	EmailTo    []string
	WebhookURL string
}

// settingsKeys are the accepted keys of each table.
var (
	alertKeys    = []string{"on", "slow", "slow_factor", "email_to", "webhook_url", "webhook_secret"}
	smtpKeys     = []string{"host", "port", "username", "password", "from", "tls", "ca_file"}
	jobAlertKeys = []string{"on", "slow", "email_to", "webhook_url"}
)

// loadSettings reads console.toml; a missing file is empty settings.
func loadSettings(path string) (*settings, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &settings{JobAlerts: map[string]jobAlertSettings{}, Destinations: map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console: read %s: %w", path, err)
	}
	// It says where alert secrets and replicated data go and expands
	// ${NAME}: the config file's rule applies.
	if err := config.CheckPermissions(path); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	st, err := parseSettings(string(data))
	if err != nil {
		return nil, fmt.Errorf("console: %s: %w", path, err)
	}
	return st, nil
}

func parseSettings(src string) (*settings, error) {
	var doc map[string]any
	md, err := toml.Decode(src, &doc)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)
		}
		return nil, err
	}
	st := &settings{JobAlerts: map[string]jobAlertSettings{}, Destinations: map[string]string{}}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for k := range doc {
		if k != "alerts" && k != "destinations" {
			bad("unknown key %q (the file holds [alerts], [alerts.smtp], [alerts.jobs.<name>] and [destinations.<name>])", k)
		}
	}
	str := func(where string, v any) string {
		if s, ok := settingText(v); ok {
			return s
		}
		bad("%s must be a value, not a table", where)
		return ""
	}
	table := func(where string, v any, keys []string) map[string]string {
		m, ok := v.(map[string]any)
		if !ok {
			bad("%s must be a table", where)
			return nil
		}
		out := map[string]string{}
		for k, x := range m {
			if _, sub := x.(map[string]any); sub && where == "[alerts]" && (k == "smtp" || k == "jobs") {
				continue
			}
			found := false
			for _, a := range keys {
				if strings.EqualFold(a, k) {
					out[a] = str(where+"."+k, x)
					found = true
				}
			}
			if !found {
				bad("unknown key %q in %s; accepted: %s", k, where, strings.Join(keys, ", "))
			}
		}
		return out
	}
	if a, ok := doc["alerts"]; ok {
		m := table("[alerts]", a, alertKeys)
		st.Alerts = alertSettings{On: m["on"], EmailTo: splitList(m["email_to"]), WebhookURL: m["webhook_url"], WebhookSecret: m["webhook_secret"]}
		if v := m["slow"]; v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad("[alerts] slow must be true or false")
			}
			st.Alerts.Slow = b
		}
		if v := m["slow_factor"]; v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 1.1 || f > 100 {
				bad("[alerts] slow_factor must be a number from 1.1 to 100, such as 2")
			}
			st.Alerts.SlowFactor = f
		}
		am, _ := a.(map[string]any)
		if sm, ok := am["smtp"]; ok {
			m := table("[alerts.smtp]", sm, smtpKeys)
			st.Alerts.SMTP = smtpSettings{Host: m["host"], Username: m["username"], Password: m["password"],
				From: m["from"], TLS: strings.ToLower(m["tls"]), CAFile: m["ca_file"]}
			if v := m["port"]; v != "" {
				p, err := strconv.Atoi(v)
				if err != nil || p < 1 || p > 65535 {
					bad("[alerts.smtp] port must be a number from 1 to 65535")
				}
				st.Alerts.SMTP.Port = p
			}
		}
		if jm, ok := am["jobs"].(map[string]any); ok {
			for name, v := range jm {
				m := table(fmt.Sprintf("[alerts.jobs.%s]", name), v, jobAlertKeys)
				ja := jobAlertSettings{On: m["on"], EmailTo: splitList(m["email_to"]), WebhookURL: m["webhook_url"]}
				if v := m["slow"]; v != "" {
					b, err := strconv.ParseBool(v)
					if err != nil {
						bad("[alerts.jobs.%s] slow must be true or false", name)
					}
					ja.Slow = &b
				}
				st.JobAlerts[name] = ja
			}
		}
	}
	if d, ok := doc["destinations"]; ok {
		dm, ok := d.(map[string]any)
		if !ok {
			bad("destinations must be a table of [destinations.<name>] sections")
		}
		for name, v := range dm {
			m := table(fmt.Sprintf("[destinations.%s]", name), v, []string{"url"})
			if m["url"] == "" {
				bad("[destinations.%s] has no url", name)
			}
			st.Destinations[name] = m["url"]
		}
	}
	// Destinations in file order.
	for _, k := range md.Keys() {
		if len(k) == 2 && k[0] == "destinations" {
			st.destOrder = append(st.destOrder, k[1])
		}
	}
	if len(st.destOrder) != len(st.Destinations) {
		st.destOrder = st.destOrder[:0]
		for n := range st.Destinations {
			st.destOrder = append(st.destOrder, n)
		}
		sort.Strings(st.destOrder)
	}
	if err := st.validate(); err != nil {
		errs = append(errs, err)
	}
	return st, errors.Join(errs...)
}

// validate checks the values that have a fixed set of forms.
func (st *settings) validate() error {
	var errs []error
	check := func(where, on string) {
		switch on {
		case "", alertOnFailure, alertOnAlways, alertOnNever:
		default:
			errs = append(errs, fmt.Errorf("%s on = %q: use failure, always or never", where, on))
		}
	}
	check("[alerts]", st.Alerts.On)
	for n, ja := range st.JobAlerts {
		check("[alerts.jobs."+n+"]", ja.On)
	}
	switch st.Alerts.SMTP.TLS {
	case "", tlsStartTLS, tlsImplicit, tlsNone:
	default:
		errs = append(errs, fmt.Errorf("[alerts.smtp] tls = %q: use starttls, tls or none", st.Alerts.SMTP.TLS))
	}
	if f := st.Alerts.SMTP.From; f != "" && !strings.Contains(f, "${") {
		if _, err := mail.ParseAddress(f); err != nil {
			errs = append(errs, fmt.Errorf("[alerts.smtp] from = %q is not an email address", f))
		}
	}
	return errors.Join(errs...)
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// settingText is a value of console.toml as text: a string as is, a
// number or a bool as written, an array joined with ", "; false for a
// table.
func settingText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, ", "), true
	}
	return "", false
}

// sameSetting reports whether the value cur of key in console.toml means
// text: the same text, number or bool, the same list of addresses in any
// spelling, the same word in any case.
func sameSetting(key string, cur any, text string) bool {
	c, ok := settingText(cur)
	switch {
	case !ok:
		return false
	case key == "email_to":
		return slices.Equal(splitList(c), splitList(text))
	case key == "on" || key == "tls":
		return strings.EqualFold(c, text)
	}
	return c == text
}

// unchanged drops from set the keys the table at path of d already holds
// with the same meaning (sameSetting), so that saving a page untouched
// leaves the lines written by hand as they were (port = 587 stays a
// number, a comment stays on its line).
func unchanged(d *config.Document, path []string, set []config.Value) []config.Value {
	var doc map[string]any
	if _, err := toml.Decode(d.String(), &doc); err != nil {
		return set
	}
	table := doc
	for _, p := range path {
		next, ok := table[p].(map[string]any)
		if !ok {
			return set
		}
		table = next
	}
	out := set[:0:0]
	for _, v := range set {
		same := false
		for k, cur := range table {
			if strings.EqualFold(k, v.Key) {
				same = sameSetting(strings.ToLower(v.Key), cur, v.Text)
			}
		}
		if !same {
			out = append(out, v)
		}
	}
	return out
}

// editSettings edits console.toml in place: only the keys and sections
// named change, the rest of the file stays as written.
func editSettings(path string, edit func(*config.Document) error) error {
	return config.EditTOML(path, func(src string) error {
		_, err := parseSettings(src)
		return err
	}, edit)
}

// setOrUnset sets the keys with a value and removes the empty ones, in
// the section path (created when missing and something is set).
func setOrUnset(d *config.Document, path []string, kv [][2]string) error {
	var set []config.Value
	var unset []string
	for _, p := range kv {
		if p[1] == "" {
			unset = append(unset, p[0])
		} else {
			set = append(set, config.Value{Key: p[0], Text: p[1]})
		}
	}
	if !d.HasSection(path...) {
		if len(set) == 0 {
			return nil
		}
		return d.AppendSection(path, false, set, nil)
	}
	return d.SetKeys(path, -1, unchanged(d, path, set), unset)
}

// expandEnv replaces ${NAME} with the environment variable NAME ($${ is a
// literal ${). An unset variable is an error naming it, never the value.
func expandEnv(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", errors.New("a ${...} reference is not closed: write ${NAME}")
			}
			name := s[i+2 : i+end]
			v, ok := os.LookupEnv(name)
			if !ok {
				return "", fmt.Errorf("the environment variable %s is not set", name)
			}
			b.WriteString(v)
			i += end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// secrets returns the secrets the settings hold, as written and expanded:
// the SMTP password, the webhook signing key, the webhook URLs' secret
// parts and the named destinations' passwords.
func (st *settings) secrets() []string {
	var out []string
	add := func(v string) {
		out = append(out, v)
		if x, err := expandEnv(v); err == nil {
			out = append(out, x)
		}
	}
	add(st.Alerts.SMTP.Password)
	add(st.Alerts.WebhookSecret)
	hooks := []string{st.Alerts.WebhookURL}
	for _, ja := range st.JobAlerts {
		hooks = append(hooks, ja.WebhookURL)
	}
	for _, h := range hooks {
		add(h)
		x, _ := expandEnv(h)
		for _, sec := range append(webhookSecrets(h), webhookSecrets(x)...) {
			add(sec)
		}
	}
	for _, u := range st.Destinations {
		for _, sec := range urlSecrets(u) {
			add(sec)
		}
		if x, err := expandEnv(u); err == nil {
			out = append(out, urlSecrets(x)...)
		}
	}
	return out
}
