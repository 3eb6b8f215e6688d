package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/replicate/dest"
	"github.com/plannersql/planner/schema"
)

// sandboxName is the built-in source: the emulated demo tenant.
const sandboxName = config.SandboxSource

// testTimeout bounds a connection test.
const testTimeout = 60 * time.Second

// sourceView is a source connection as the API shows it: a profile of
// the config file, or the built-in sandbox. It never holds a secret.
type sourceView struct {
	Name       string         `json:"name"`
	Builtin    bool           `json:"builtin"` // the built-in sandbox (not in the file)
	Sandbox    bool           `json:"sandbox"`
	AuthScheme string         `json:"auth_scheme"`
	Tenant     string         `json:"tenant,omitempty"`
	ClientID   string         `json:"client_id,omitempty"`
	Properties []propertyView `json:"properties"`
	SignIn     *signInView    `json:"sign_in,omitempty"`
	Jobs       []string       `json:"jobs"` // jobs reading from it
	Line       int            `json:"line,omitempty"`
}

// propertyView is one connection property. A secret shows only Set.
type propertyView struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Secret bool   `json:"secret,omitempty"`
	Set    bool   `json:"set"`
}

// signInView is a stored sign-in: who, which tenant, until when, where it
// is kept. Never a token.
type signInView struct {
	SignedIn bool       `json:"signed_in"`
	Account  string     `json:"account,omitempty"`
	Name     string     `json:"name,omitempty"`
	TenantID string     `json:"tenant_id,omitempty"`
	Expiry   *time.Time `json:"expiry,omitempty"`
	Saved    *time.Time `json:"saved,omitempty"`
	StoredIn string     `json:"stored_in,omitempty"`
	Notice   string     `json:"notice,omitempty"`
	Error    string     `json:"error,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// destinationView is a destination: named in console.toml, or written
// only in jobs of the config file.
type destinationView struct {
	ID          string           `json:"id"`             // the name, or job:<job>:<n>
	Name        string           `json:"name,omitempty"` // named destinations
	URL         string           `json:"url"`            // the password masked
	Kind        string           `json:"kind"`           // sqlite, postgres or mysql
	PasswordSet bool             `json:"password_set"`
	Jobs        []destinationUse `json:"jobs"`
}

// destinationUse is a job destination that writes to a destination.
type destinationUse struct {
	Job   string `json:"job"`
	Index int    `json:"index"` // 0-based among the job's destinations
}

// destKind classifies a destination URL.
func destKind(u string) string {
	l := strings.ToLower(u)
	switch {
	case strings.HasPrefix(l, "postgres://"), strings.HasPrefix(l, "postgresql://"):
		return "postgres"
	case strings.HasPrefix(l, "mysql://"):
		return "mysql"
	}
	return "sqlite"
}

// connectionsView is GET /api/connections.
type connectionsView struct {
	Sources      []sourceView      `json:"sources"`
	Destinations []destinationView `json:"destinations"`
	ConfigPath   string            `json:"config_path"`
	SettingsPath string            `json:"settings_path"`
}

func (s *Server) connections(ctx context.Context, withSignIn bool) (*connectionsView, error) {
	f, err := s.loadRaw()
	if err != nil {
		return nil, err
	}
	st, err := s.loadSettings()
	if err != nil {
		return nil, err
	}
	v := &connectionsView{ConfigPath: s.opts.ConfigPath, SettingsPath: s.opts.SettingsPath,
		Sources: []sourceView{}, Destinations: []destinationView{}}
	v.Sources = append(v.Sources, s.sandboxView(f))
	for _, p := range f.Profiles() {
		v.Sources = append(v.Sources, s.sourceView(ctx, f, p, withSignIn))
	}
	v.Destinations = destinations(f, st)
	return v, nil
}

func jobsUsing(f *config.File, source string) []string {
	out := []string{}
	for _, j := range f.Jobs() {
		if strings.EqualFold(j.Source, source) {
			out = append(out, j.Name)
		}
	}
	return out
}

func (s *Server) sandboxView(f *config.File) sourceView {
	return sourceView{Name: sandboxName, Builtin: true, Sandbox: true, AuthScheme: "none",
		Properties: []propertyView{}, Jobs: jobsUsing(f, sandboxName)}
}

func (s *Server) sourceView(ctx context.Context, f *config.File, p *config.Profile, withSignIn bool) sourceView {
	v := sourceView{Name: p.Name, Line: p.Line, Jobs: jobsUsing(f, p.Name), Properties: []propertyView{}}
	// The kind of source is what the driver reads from the profile: the
	// file may spell an enum in any case ("devicecode") or a bool as the
	// driver accepts it ("yes"), and the page must show the same kind.
	eff := driver.NewConfig()
	for _, pr := range p.Properties {
		pv := propertyView{Key: canonicalProperty(pr.Key), Set: pr.Value != ""}
		if isSecretProperty(pr.Key) {
			pv.Secret = true
		} else {
			pv.Value = pr.Value
		}
		v.Properties = append(v.Properties, pv)
		switch strings.ToLower(pr.Key) {
		case "authscheme":
			v.AuthScheme = pr.Value // as written, unless the driver reads it (below)
		case "tenant":
			v.Tenant = pr.Value
		case "oauthclientid":
			v.ClientID = pr.Value
		}
		if !pv.Secret && !strings.Contains(pr.Value, "${") {
			_ = eff.Set(pr.Key, pr.Value) // a bad value is reported by the source's test and sign-in status
		}
	}
	if eff.AuthScheme != "" {
		v.AuthScheme = string(eff.AuthScheme)
	}
	v.Sandbox = eff.Sandbox
	if v.AuthScheme == "" {
		v.AuthScheme = string(driver.AuthAzureAD)
	}
	if withSignIn && !v.Sandbox {
		v.SignIn = s.signInStatus(ctx, p.Name)
	}
	return v
}

// canonicalProperty returns the driver's spelling of a property name.
func canonicalProperty(k string) string {
	for _, n := range driver.PropertyNames() {
		if strings.EqualFold(n, k) {
			return n
		}
	}
	return k
}

// refuseHooks make a connection fail at once, saying how to sign in,
// instead of waiting for a person who is not there.
func refuseHooks(cfg *driver.Config) {
	refuse := fmt.Errorf("%w: sign in from the Connections page (or 'planner auth login')", driver.ErrNoPrompt)
	cfg.OpenBrowser = func(string) error { return refuse }
	cfg.DeviceCodePrompt = func(context.Context, driver.DeviceCode) error { return refuse }
	cfg.Notify = func(string) {}
}

// sourceConfig returns the driver configuration of a source.
func sourceConfig(name string) *driver.Config {
	if config.IsSandbox(name) {
		return &driver.Config{Sandbox: true}
	}
	return &driver.Config{Profile: name}
}

func (s *Server) signInStatus(ctx context.Context, name string) *signInView {
	cfg := sourceConfig(name)
	refuseHooks(cfg)
	cn, err := s.opts.NewConnector(cfg)
	if err != nil {
		return &signInView{Error: s.sourceError(name, err)}
	}
	defer cn.Close()
	if cn.Config().Sandbox {
		return nil
	}
	st, err := cn.SignInStatus(ctx)
	if err != nil {
		return &signInView{Error: s.scrubErr(err)}
	}
	return &signInView{SignedIn: st.SignedIn, Account: st.Account, Name: st.Name, TenantID: st.TenantID,
		Expiry: optTime(st.Expiry), Saved: optTime(st.Saved), StoredIn: st.StoredIn, Notice: st.Notice}
}

// destinations lists the named destinations, then the URLs jobs write to
// that no name covers.
func destinations(f *config.File, st *settings) []destinationView {
	out := []destinationView{}
	byURL := map[string]int{}
	for _, name := range st.destOrder {
		u := st.Destinations[name]
		shown, pw := displayURL(u)
		byURL[u] = len(out)
		out = append(out, destinationView{ID: name, Name: name, URL: shown, Kind: destKind(u), PasswordSet: pw, Jobs: []destinationUse{}})
	}
	for _, j := range f.Jobs() {
		for i, d := range j.Destinations {
			if k, ok := byURL[d.URL]; ok {
				out[k].Jobs = append(out[k].Jobs, destinationUse{Job: j.Name, Index: i})
				continue
			}
			shown, pw := displayURL(d.URL)
			byURL[d.URL] = len(out)
			out = append(out, destinationView{ID: fmt.Sprintf("job:%s:%d", j.Name, i), URL: shown, Kind: destKind(d.URL),
				PasswordSet: pw, Jobs: []destinationUse{{Job: j.Name, Index: i}}})
		}
	}
	return out
}

// sourceInput creates or updates a source profile.
type sourceInput struct {
	Name string `json:"name"`
	// Properties to set: connection property → value. An empty value
	// removes the property, except for a secret, where it keeps the
	// stored one (secrets are write-only: the form shows them empty).
	Properties map[string]string `json:"properties"`
	// Clear lists secret properties to remove.
	Clear []string `json:"clear"`
}

// validateProperties checks names and values against the driver.
func validateProperties(in map[string]string, clear []string) ([]config.Value, []string, error) {
	var set []config.Value
	var unset []string
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return propertyOrder(a) - propertyOrder(b) })
	probe := driver.NewConfig()
	for _, k := range keys {
		v := strings.TrimSpace(in[k])
		if !driver.IsProperty(k) {
			msg := fmt.Sprintf("unknown connection property %q", k)
			if best, ok := config.Closest(k, driver.PropertyNames()); ok {
				msg += fmt.Sprintf("; did you mean %q?", best)
			}
			return nil, nil, fieldError("properties."+k, "%s", msg)
		}
		name := canonicalProperty(k)
		if name == "Profile" {
			return nil, nil, fieldError("properties.Profile", "a profile cannot name another profile")
		}
		if v == "" {
			if !isSecretProperty(name) {
				unset = append(unset, name)
			}
			continue
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, nil, fieldError("properties."+name, "%s must be on one line", name)
		}
		if !strings.Contains(v, "${") {
			if err := probe.Set(name, v); err != nil {
				msg := strings.TrimPrefix(oneLine(err.Error()), "planner: ")
				if isSecretProperty(name) {
					msg = name + " is not valid"
				}
				return nil, nil, fieldError("properties."+name, "%s", msg)
			}
		}
		set = append(set, config.Value{Key: name, Text: v})
	}
	for _, c := range clear {
		if !isSecretProperty(c) {
			return nil, nil, fieldError("clear", "clear lists secret properties (%s); remove %q by sending it empty", strings.Join(secretProperties, ", "), c)
		}
		unset = append(unset, canonicalProperty(c))
	}
	return set, unset, nil
}

// changedValues drops from set the properties profile p already holds
// with the same meaning, so that saving a form that sends every property
// back leaves the lines the user did not change as they were written
// (MaxConcurrency = 4 stays an integer, GroupId an array, a comment stays
// on its line).
func changedValues(p *config.Profile, set []config.Value) []config.Value {
	out := set[:0:0]
	for _, v := range set {
		same := false
		for _, pr := range p.Properties {
			if strings.EqualFold(pr.Key, v.Key) {
				same = sameValue(v.Key, pr.Value, v.Text)
			}
		}
		if !same {
			out = append(out, v)
		}
	}
	return out
}

// sameValue reports whether two texts of connection property key mean the
// same to the driver ("DeviceCode" and "devicecode", "yes" and "true",
// "90" and "90s"). A secret or a ${NAME} reference is the same only as
// the same text.
func sameValue(key, a, b string) bool {
	if a == b {
		return true
	}
	if isSecretProperty(key) || strings.Contains(a, "${") || strings.Contains(b, "${") {
		return false
	}
	ca, cb := driver.NewConfig(), driver.NewConfig()
	if ca.Set(key, a) != nil || cb.Set(key, b) != nil {
		return false
	}
	return ca.FormatDSN() == cb.FormatDSN()
}

// propertyOrder keeps written properties in the driver's order.
func propertyOrder(k string) int {
	for i, n := range driver.PropertyNames() {
		if strings.EqualFold(n, k) {
			return i
		}
	}
	return 1000
}

// saveSource writes a profile into the config file; create refuses an
// existing name, update a missing one.
func (s *Server) saveSource(name string, in sourceInput, create bool) error {
	set, unset, err := validateProperties(in.Properties, in.Clear)
	if err != nil {
		return err
	}
	unlock, err := s.lockEdits()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.loadRaw()
	if err != nil {
		return err
	}
	p, exists := f.Profile(name)
	switch {
	case config.IsSandbox(name):
		return fieldError("name", "%q is the built-in demo source; choose another name (a profile may still set Sandbox = true)", sandboxName)
	case create && exists == nil:
		return fieldError("name", "a source named %q already exists; choose another name or edit it", name)
	case !create && exists != nil:
		return notFound("source", name)
	}
	if !create {
		set = changedValues(p, set)
	}
	err = config.EditFile(s.opts.ConfigPath, loadOptions(), func(d *config.Document) error {
		path := []string{"profiles", name}
		if create {
			return d.AppendSection(path, false, set, nil)
		}
		if !d.HasSection(path...) {
			return fmt.Errorf("profile %s is %w; edit it by hand", name, config.ErrNotSection)
		}
		return d.SetKeys(path, -1, set, unset)
	})
	if err != nil {
		return errorf(http.StatusConflict, "%v", err)
	}
	s.catalog.forget(name)
	s.configChanged()
	return nil
}

func (s *Server) deleteSource(name string) error {
	unlock, err := s.lockEdits()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.loadRaw()
	if err != nil {
		return err
	}
	p, err := f.Profile(name)
	if err != nil {
		return notFound("source", name)
	}
	if jobs := jobsUsing(f, p.Name); len(jobs) > 0 {
		return errorf(http.StatusConflict, "source %s is used by job %s: change or delete those jobs first", p.Name, strings.Join(jobs, ", "))
	}
	err = config.EditFile(s.opts.ConfigPath, loadOptions(), func(d *config.Document) error {
		if !d.RemoveSection([]string{"profiles", p.Name}) {
			return fmt.Errorf("profile %s is %w; edit it by hand", p.Name, config.ErrNotSection)
		}
		return nil
	})
	if err != nil {
		return errorf(http.StatusConflict, "%v", err)
	}
	s.catalog.forget(p.Name)
	s.configChanged()
	return nil
}

// sourceTest is the outcome of testing a source.
type sourceTest struct {
	OK        bool        `json:"ok"`
	Plans     int         `json:"plans"`      // plans the account can reach
	LatencyMS int64       `json:"latency_ms"` // to sign in and count the plans
	Requests  int         `json:"requests"`   // Graph requests it took
	SignIn    *signInView `json:"sign_in,omitempty"`
	Error     string      `json:"error,omitempty"`
}

// testSource signs in without prompting and counts the plans the account
// reaches.
func (s *Server) testSource(ctx context.Context, name string) (*sourceTest, error) {
	if err := s.sourceExists(name); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	cfg := sourceConfig(name)
	refuseHooks(cfg)
	cn, err := s.opts.NewConnector(cfg)
	if err != nil {
		return &sourceTest{Error: s.sourceError(name, err)}, nil
	}
	db := sql.OpenDB(cn)
	defer db.Close()
	start := time.Now()
	out := &sourceTest{}
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM Plans").Scan(&out.Plans)
	out.LatencyMS = time.Since(start).Milliseconds()
	out.Requests = cn.Requests()
	if err != nil {
		out.Error = s.scrubErr(err)
	} else {
		out.OK = true
	}
	if !cn.Config().Sandbox {
		out.SignIn = s.signInStatus(ctx, name)
	}
	return out, nil
}

// sourceError is the text of err, an error opening source name, with
// what to do when its profile refers to an unset environment variable.
func (s *Server) sourceError(name string, err error) string {
	msg := s.scrubErr(err)
	if f, ferr := s.loadExpanded(); ferr == nil {
		if p, _ := f.Profile(name); p != nil && p.Err() != nil {
			msg += " — set the environment variable where 'planner console' runs and restart it, or edit the source"
		}
	}
	return msg
}

func (s *Server) sourceExists(name string) error {
	if config.IsSandbox(name) {
		return nil
	}
	f, err := s.loadRaw()
	if err != nil {
		return err
	}
	if _, err := f.Profile(name); err != nil {
		return notFound("source", name)
	}
	return nil
}

// destinationTest is the outcome of testing a destination.
type destinationTest struct {
	OK        bool   `json:"ok"`
	Kind      string `json:"kind"`
	Reachable bool   `json:"reachable"`
	Writable  bool   `json:"writable"` // a probe table was created and dropped
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
}

// testDestination connects to rawURL and creates, fills and drops a probe
// table with a name of its own. A SQLite file the test had to create is
// removed again.
func (s *Server) testDestination(ctx context.Context, rawURL string) *destinationTest {
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	out := &destinationTest{Kind: destKind(rawURL)}
	u, err := expandEnv(rawURL)
	if err != nil {
		out.Error = s.scrubErr(fmt.Errorf("destination URL: %w", err))
		return out
	}
	var created []string
	if out.Kind == "sqlite" {
		p := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//")
		if dir := filepath.Dir(p); dir != "" {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				out.Error = fmt.Sprintf("the folder %s does not exist: create it, or choose another path", dir)
				return out
			}
		}
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			created = []string{p, p + "-wal", p + "-shm", p + "-journal"}
		}
	}
	start := time.Now()
	db, err := dest.Open(ctx, u)
	if err != nil {
		out.Error = s.scrubErr(err)
		removeAll(created)
		return out
	}
	out.Reachable = true
	probe := "planner_console_probe_" + randomHex(4)
	q := func(name string) string {
		if out.Kind == "mysql" {
			return "`" + name + "`"
		}
		return `"` + name + `"`
	}
	_, err = db.ExecContext(ctx, "CREATE TABLE "+q(probe)+" (Id INTEGER)")
	if err == nil {
		_, err = db.ExecContext(ctx, "INSERT INTO "+q(probe)+" (Id) VALUES (1)")
		if _, derr := db.ExecContext(ctx, "DROP TABLE "+q(probe)); err == nil {
			err = derr
		}
	}
	out.LatencyMS = time.Since(start).Milliseconds()
	db.Close()
	removeAll(created)
	if err != nil {
		out.Error = s.scrubErr(fmt.Errorf("connected, but cannot create a table (the replicator needs CREATE, INSERT and DROP): %w", err))
		return out
	}
	out.Writable, out.OK = true, true
	return out
}

func removeAll(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// destinationInput creates or updates a named destination.
type destinationInput struct {
	Name string `json:"name"`
	// URL: sqlite:PATH, postgres://..., mysql://... A password shown
	// masked may be sent back masked: the stored one is kept.
	URL string `json:"url"`
	// UpdateJobs, on update (default true), rewrites the job destinations
	// that used the old URL.
	UpdateJobs *bool `json:"update_jobs"`
}

func checkDestinationURL(u string) error {
	u = strings.TrimSpace(u)
	switch {
	case u == "":
		return fieldError("url", "give the destination URL: sqlite:PATH, postgres://user@host/db or mysql://user@host/db")
	case strings.ContainsAny(u, "\r\n"):
		return fieldError("url", "the URL must be on one line")
	}
	l := strings.ToLower(u)
	for _, p := range []string{"sqlite:", "postgres://", "postgresql://", "mysql://"} {
		if strings.HasPrefix(l, p) {
			if p == "sqlite:" && strings.TrimPrefix(strings.TrimPrefix(u[len(p):], "//"), " ") == "" {
				return fieldError("url", "sqlite: needs a file path, such as sqlite:/var/lib/planner/prod.db")
			}
			return nil
		}
	}
	return fieldError("url", "unknown destination %q: use sqlite:PATH, postgres://user@host/db or mysql://user@host/db", u)
}

// saveDestination writes a named destination into console.toml; on update
// the jobs that wrote to its old URL follow it.
func (s *Server) saveDestination(name string, in destinationInput, create bool) error {
	unlock, err := s.lockEdits()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadSettings()
	if err != nil {
		return err
	}
	old, exists := st.Destinations[name]
	switch {
	case create && exists:
		return fieldError("name", "a destination named %q already exists; choose another name or edit it", name)
	case !create && !exists:
		return notFound("destination", name)
	}
	u, ok := restoreURL(strings.TrimSpace(in.URL), old)
	if !ok {
		return fieldError("url", "the URL names another server or user than before: type the password again")
	}
	if err := checkDestinationURL(u); err != nil {
		return err
	}
	if err := editSettings(s.opts.SettingsPath, func(d *config.Document) error {
		return setOrUnset(d, []string{"destinations", name}, [][2]string{{"url", u}})
	}); err != nil {
		return errorf(http.StatusConflict, "%v", err)
	}
	if !create && u != old && (in.UpdateJobs == nil || *in.UpdateJobs) {
		if err := s.rewriteJobURLs(old, u); err != nil {
			return err
		}
	}
	s.configChanged()
	return nil
}

// rewriteJobURLs points every job destination written to from at to.
func (s *Server) rewriteJobURLs(from, to string) error {
	f, err := s.loadRaw()
	if err != nil {
		return err
	}
	err = config.EditFile(s.opts.ConfigPath, loadOptions(), func(d *config.Document) error {
		for _, j := range f.Jobs() {
			for i, dest := range j.Destinations {
				if dest.URL == from {
					if err := d.SetKeys([]string{"jobs", j.Name, "destinations"}, i, []config.Value{{Key: "url", Text: to}}, nil); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return errorf(http.StatusConflict, "the destination was saved, but its jobs were not updated: %v", err)
	}
	return nil
}

func (s *Server) deleteDestination(name string) error {
	unlock, err := s.lockEdits()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadSettings()
	if err != nil {
		return err
	}
	if _, ok := st.Destinations[name]; !ok {
		return notFound("destination", name)
	}
	if err := editSettings(s.opts.SettingsPath, func(d *config.Document) error {
		d.RemoveSection([]string{"destinations", name})
		return nil
	}); err != nil {
		return errorf(http.StatusConflict, "%v", err)
	}
	s.configChanged()
	return nil
}

// destinationURL resolves a destination id (a name, or job:<job>:<n>) to
// its URL as written.
func (s *Server) destinationURL(id string) (string, error) {
	if rest, ok := strings.CutPrefix(id, "job:"); ok {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return "", notFound("destination", id)
		}
		var n int
		if _, err := fmt.Sscanf(rest[i+1:], "%d", &n); err != nil {
			return "", notFound("destination", id)
		}
		f, err := s.loadRaw()
		if err != nil {
			return "", err
		}
		j, err := f.Job(rest[:i])
		if err != nil || n < 0 || n >= len(j.Destinations) {
			return "", notFound("destination", id)
		}
		return j.Destinations[n].URL, nil
	}
	st, err := s.loadSettings()
	if err != nil {
		return "", err
	}
	u, ok := st.Destinations[id]
	if !ok {
		return "", notFound("destination", id)
	}
	return u, nil
}

// catalogTable is a source table with its columns (sys_tables, sys_columns).
type catalogTable struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Updatable   bool            `json:"updatable"`
	Columns     []catalogColumn `json:"columns"`
}

type catalogColumn struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Key         bool   `json:"key"`
	Nullable    bool   `json:"nullable"`
	Description string `json:"description"`
}

// catalogView is GET .../catalog.
type catalogView struct {
	Source string         `json:"source"`
	Tables []catalogTable `json:"tables"`
	// Note says when the catalog could not be read from the source and is
	// the driver's own (the same tables; sign in to check the account).
	Note string `json:"note,omitempty"`
}

// catalogCache keeps each source's catalog: it is fixed for a driver
// version, and reading it needs a sign-in.
type catalogCache struct {
	mu sync.Mutex
	m  map[string]*catalogView
}

func (c *catalogCache) get(name string) *catalogView {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[strings.ToLower(name)]
}

func (c *catalogCache) put(name string, v *catalogView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*catalogView{}
	}
	c.m[strings.ToLower(name)] = v
}

func (c *catalogCache) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, strings.ToLower(name))
}

// sourceCatalog reads sys_tables and sys_columns through the source. When
// the source cannot be opened (not signed in yet), it answers the
// driver's built-in catalog with a note.
func (s *Server) sourceCatalog(ctx context.Context, name string) (*catalogView, error) {
	if err := s.sourceExists(name); err != nil {
		return nil, err
	}
	if v := s.catalog.get(name); v != nil {
		return v, nil
	}
	v, err := s.readCatalog(ctx, name)
	if err != nil {
		fb := builtinCatalog(name)
		fb.Note = "The source could not be read (" + s.scrubErr(err) + "); these are the planner driver's tables, which every source has."
		return fb, nil
	}
	s.catalog.put(name, v)
	return v, nil
}

func (s *Server) readCatalog(ctx context.Context, name string) (*catalogView, error) {
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	cfg := sourceConfig(name)
	refuseHooks(cfg)
	cn, err := s.opts.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(cn)
	defer db.Close()
	v := &catalogView{Source: name, Tables: []catalogTable{}}
	rows, err := db.QueryContext(ctx, "SELECT TableName, Description, IsUpdatable FROM sys_tables ORDER BY TableName")
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for rows.Next() {
		var t catalogTable
		var desc sql.NullString
		if err := rows.Scan(&t.Name, &desc, &t.Updatable); err != nil {
			rows.Close()
			return nil, err
		}
		if strings.HasPrefix(strings.ToLower(t.Name), "sys_") {
			continue // the catalog itself is not replicated
		}
		t.Description, t.Columns = desc.String, []catalogColumn{}
		idx[t.Name] = len(v.Tables)
		v.Tables = append(v.Tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.QueryContext(ctx, "SELECT TableName, ColumnName, DataType, IsKey, IsNullable, Description FROM sys_columns")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tn string
		var c catalogColumn
		var desc sql.NullString
		if err := rows.Scan(&tn, &c.Name, &c.Type, &c.Key, &c.Nullable, &desc); err != nil {
			return nil, err
		}
		c.Description = desc.String
		if i, ok := idx[tn]; ok {
			v.Tables[i].Columns = append(v.Tables[i].Columns, c)
		}
	}
	return v, rows.Err()
}

// builtinCatalog is the driver's catalog, from package schema.
func builtinCatalog(name string) *catalogView {
	v := &catalogView{Source: name, Tables: []catalogTable{}}
	for _, t := range schema.All() {
		ct := catalogTable{Name: t.Name, Description: t.Description, Columns: []catalogColumn{}}
		for _, c := range t.Columns {
			ct.Updatable = ct.Updatable || c.Updatable || c.Insertable
			ct.Columns = append(ct.Columns, catalogColumn{Name: c.Name, Type: string(c.Type), Key: c.Key, Nullable: c.Nullable, Description: c.Description})
		}
		v.Tables = append(v.Tables, ct)
	}
	slices.SortFunc(v.Tables, func(a, b catalogTable) int { return strings.Compare(a.Name, b.Name) })
	return v
}
