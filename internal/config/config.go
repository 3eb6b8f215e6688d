// Package config reads the planner user's configuration file: named
// connection profiles and replication jobs.
//
// The file lives at os.UserConfigDir()/planner/config.toml
// (~/.config/planner/config.toml on Linux, ~/Library/Application Support/planner/config.toml
// on macOS, %AppData%\planner\config.toml on Windows); the environment
// variable PLANNER_CONFIG names another file. It is TOML:
//
//	# Connection profiles: [profiles.<name>] holds connection properties,
//	# named as in a connection string (case-insensitive). A DSN selects one
//	# with Profile=<name>; keys in the DSN override the profile's.
//	[profiles.prod]
//	Tenant = "contoso.onmicrosoft.com"
//	OAuthClientId = "11111111-2222-3333-4444-555555555555"
//	AuthScheme = "AzureAD"
//	OAuthSettingsLocation = "keyring://planner-prod"
//
//	[profiles.fabrikam]
//	AuthScheme = "AzureServicePrincipal"
//	Tenant = "fabrikam.onmicrosoft.com"
//	OAuthClientId = "66666666-7777-8888-9999-000000000000"
//	OAuthClientSecret = "${FABRIKAM_SECRET}"   # taken from the environment
//	MaxConcurrency = 4                          # numbers and booleans may be bare
//	GroupId = ["group-id-1", "group-id-2"]     # arrays become comma-separated lists
//
//	# Replication jobs: [jobs.<name>].
//	[jobs.nightly]
//	source = "prod"                      # a profile name, or "sandbox"
//	schedule = "every 1 day at 02:00"    # optional; see `planner jobs`
//	script = "REPLICATE ALL;"            # or: script_file = "nightly.sql"
//	                                     # (relative to this file's directory)
//	[[jobs.nightly.destinations]]        # one or more destinations
//	url = "postgres://localhost/warehouse"   # or "sqlite:planner.db", "mysql://user@host:3306/db"
//	prefix = "PROD_"                     # optional table name prefix
//	schema = "prod"                      # optional destination schema
//	source_name = "prod"                 # optional SourceName: several accounts share tables
//	name_style = "snake_case"            # optional: exact (default), lower, snake_case
//
// Values may reference environment variables as ${NAME}; an unset variable is
// an error naming it, the file and the line ($${ stands for a literal ${).
// That error belongs to the profile or job holding the reference, since
// each process has its own environment (a job's database password may be
// set only in the service that runs it): Load reports it only together with
// problems of the file itself; otherwise File.Profile and File.Job return it
// for that profile or job (see Profile.Err and Job.Err), and every other
// profile and job works.
// Expansion applies to every value except a job's inline script, which is
// SQL text kept as written. Any unknown key is an error naming the file, the
// line and the key. A relative sqlite: destination path is kept as written.
//
// Whoever can write the file decides where sign-ins and tokens go (GraphURL,
// AuthorityURL, OAuthSettingsLocation, destination URLs) and, since ${NAME}
// may place any environment variable in any value, which variables are sent
// there. So on Unix, Load refuses a file that group or others may write, in a
// directory that group or others may write (unless sticky, like /tmp), or that
// belongs to another user than the current one or root — as ssh refuses such
// a ~/.ssh/config — and says which chmod fixes it. A symbolic link is checked
// at both ends. That check is the defence: ${NAME} itself is not restricted,
// since only the file's owner, who can read the environment anyway, can
// write the file.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// EnvVar is the environment variable that names the configuration file.
const EnvVar = "PLANNER_CONFIG"

// SandboxSource is the job source that selects the built-in emulated tenant
// instead of a profile.
const SandboxSource = "sandbox"

// IsSandbox reports whether a job source names the sandbox: "sandbox" in
// any case, as the parser reads a job's source (and writes it back as
// SandboxSource). Every other source names a profile.
func IsSandbox(source string) bool { return strings.EqualFold(source, SandboxSource) }

// Path returns the configuration file's path: $PLANNER_CONFIG when set,
// else os.UserConfigDir()/planner/config.toml.
func Path() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: cannot locate the user config directory (%w): set %s to the config file's path", err, EnvVar)
	}
	return filepath.Join(dir, "planner", "config.toml"), nil
}

// LoadOptions tunes Load.
type LoadOptions struct {
	// ValidProperty reports whether name is a connection property (the
	// driver owns the list; names are case-insensitive). When nil and
	// PropertyNames is set, membership in PropertyNames (ignoring case)
	// decides; when both are nil, every profile key is accepted.
	ValidProperty func(name string) bool
	// PropertyNames, when set, is listed in errors about unknown profile
	// keys and used to suggest the closest name.
	PropertyNames []string
	// MustExist makes a missing file an error. A missing file named by
	// $PLANNER_CONFIG or given with --config (Origin) is always an error;
	// otherwise it loads as empty.
	MustExist bool
	// LookupEnv resolves ${NAME} references (default os.LookupEnv).
	LookupEnv func(name string) (string, bool)
	// Origin says where the path came from, for messages about the file,
	// such as "given with --config". Empty: Load works it out ("named by
	// PLANNER_CONFIG", or "the default location").
	Origin string
}

// File is a loaded configuration file.
type File struct {
	// Path is the file's path as given to Load ("" for none).
	Path string
	// Exists reports whether the file was found.
	Exists bool
	// Origin says where Path came from: "given with --config", "named by
	// PLANNER_CONFIG", "the default location" (or "" when unknown).
	Origin   string
	profiles []*Profile
	jobs     []Job
}

// Property is one connection property of a profile.
type Property struct {
	Key   string // as written in the file
	Value string // environment references expanded; arrays joined with ","
	Line  int    // 1-based line in the file (0 when not from a file)
}

// Profile is a named connection: [profiles.<Name>].
type Profile struct {
	Name       string
	Properties []Property // in file order
	File       string     // the file it came from
	Line       int        // line of its [profiles.<Name>] header

	err error // see Err
}

// Err reports what keeps the profile from being used in this environment:
// its ${NAME} references to unset variables, one error per line naming the
// variable, the file and the line (Properties then lack those values).
// File.Profile returns it as its error.
func (p *Profile) Err() error { return p.err }

// Get returns the value of the property named key (case-insensitive).
func (p *Profile) Get(key string) (string, bool) {
	for _, pr := range p.Properties {
		if strings.EqualFold(pr.Key, key) {
			return pr.Value, true
		}
	}
	return "", false
}

// Job is a replication job: [jobs.<Name>].
type Job struct {
	Name     string
	Source   string // a profile name, or "sandbox"
	Schedule string // kept as written; validated by internal/schedule
	Script   string // inline SQL (empty when ScriptFile is set)
	// ScriptFile is the script's path, made absolute against the config
	// file's directory (empty when Script is set).
	ScriptFile   string
	Destinations []Destination
	Line         int // line of its [jobs.<Name>] header

	err error // see Err
}

// Err reports what keeps the job from running in this environment: its
// ${NAME} references to unset variables, one error per line naming the
// variable, the file and the line (the job's fields may then be
// incomplete). It does not cover the job's source profile (see
// File.Profile).
func (j *Job) Err() error { return j.err }

// Destination is one [[jobs.<name>.destinations]] entry.
type Destination struct {
	URL        string // postgres://..., mysql://..., sqlite:path
	Prefix     string // table name prefix, e.g. "PROD_"
	Schema     string // destination schema
	SourceName string // SourceName option: the source account's name in shared tables
	// NameStyle is how tables and columns are named in the destination:
	// "exact" (the default, also ""), "lower" or "snake_case"
	// (replicate.Options.NameStyle).
	NameStyle string
	Line      int // line of its [[jobs.<name>.destinations]] header
}

// LoadScript returns the job's SQL: Script, or the contents of ScriptFile,
// which (on Unix) is refused when others may write it, as the
// configuration file is.
func (j *Job) LoadScript() (string, error) {
	if j.ScriptFile == "" {
		return j.Script, nil
	}
	b, err := os.ReadFile(j.ScriptFile)
	if err != nil {
		return "", fmt.Errorf("config: job %q: cannot read its script_file: %w", j.Name, err)
	}
	if err := checkScriptFile(j.ScriptFile); err != nil {
		return "", err // it names the file; callers name the job
	}
	return string(b), nil
}

// Profiles returns every profile, in file order.
func (f *File) Profiles() []*Profile { return slices.Clone(f.profiles) }

// ProfileNames returns the names of every profile, in file order.
func (f *File) ProfileNames() []string {
	names := make([]string, len(f.profiles))
	for i, p := range f.profiles {
		names[i] = p.Name
	}
	return names
}

// Profile returns the profile named name: an exact match, else the only
// one whose name matches ignoring case. An unknown name returns nil and an
// error that lists the known profiles and the file; a profile that refers
// to unset environment variables is returned with its Err as the error.
func (f *File) Profile(name string) (*Profile, error) {
	var folded []*Profile
	for _, p := range f.profiles {
		if p.Name == name {
			return p, p.err
		}
		if strings.EqualFold(p.Name, name) {
			folded = append(folded, p)
		}
	}
	if len(folded) == 1 {
		return folded[0], folded[0].err
	}
	return nil, f.unknown("profile", name, f.ProfileNames())
}

// Jobs returns every job, in file order.
func (f *File) Jobs() []Job { return slices.Clone(f.jobs) }

// Job returns the job named name (exact, else case-insensitive match). A
// job that refers to unset environment variables is returned with its Err
// as the error; an unknown name returns nil and an error listing the jobs.
func (f *File) Job(name string) (*Job, error) {
	var folded []int
	names := make([]string, len(f.jobs))
	for i := range f.jobs {
		names[i] = f.jobs[i].Name
		if f.jobs[i].Name == name {
			j := f.jobs[i]
			return &j, j.err
		}
		if strings.EqualFold(f.jobs[i].Name, name) {
			folded = append(folded, i)
		}
	}
	if len(folded) == 1 {
		j := f.jobs[folded[0]]
		return &j, j.err
	}
	return nil, f.unknown("job", name, names)
}

// Describe names the file for messages: its path and where the path came
// from, as in "/etc/planner.toml (named by PLANNER_CONFIG)".
func (f *File) Describe() string {
	switch {
	case f.Path == "":
		return "the configuration"
	case f.Origin == "":
		return f.Path
	}
	return f.Path + " (" + f.Origin + ")"
}

// Absent returns the error for a configuration file that does not exist,
// saying where its name came from and what to do.
func (f *File) Absent() error {
	hint := "create it"
	switch f.Origin {
	case originFlag:
		hint = "check the path, or leave out --config to use $" + EnvVar + " or the default location"
	case originEnv:
		hint = "check the path, or unset " + EnvVar + " to use the default location"
	case originDefault:
		hint = "create it (see the README), or set $" + EnvVar + " to another file"
	}
	return fmt.Errorf("config: the configuration file %s does not exist: %s", f.Describe(), hint)
}

// The origins of a configuration file's path.
const (
	originFlag    = "given with --config"
	originEnv     = "named by " + EnvVar
	originDefault = "the default location"
)

// OriginFlag is the Origin of a path given on the command line.
const OriginFlag = originFlag

// origin works out where path came from when the caller did not say.
func origin(path string) string {
	if named := os.Getenv(EnvVar); named != "" {
		if named == path {
			return originEnv
		}
		return ""
	}
	if dir, err := os.UserConfigDir(); err == nil && path == filepath.Join(dir, "planner", "config.toml") {
		return originDefault
	}
	return ""
}

func (f *File) unknown(what, name string, known []string) error {
	where := f.Describe()
	if !f.Exists && f.Path != "" {
		return fmt.Errorf("config: no %s %q: the configuration file %s does not exist; create it with a [%ss.%s] section", what, name, where, what, name)
	}
	if len(known) == 0 {
		return fmt.Errorf("config: no %s %q: %s defines no %ss; add a [%ss.%s] section", what, name, where, what, what, name)
	}
	return fmt.Errorf("config: no %s %q in %s; known %ss: %s", what, name, where, what, strings.Join(known, ", "))
}

// Load reads and validates the configuration file at path. See the package
// documentation for the format and for when a missing file is an error.
func Load(path string, opts LoadOptions) (*File, error) {
	f := &File{Path: path, Origin: opts.Origin}
	if f.Origin == "" {
		f.Origin = origin(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if opts.MustExist || f.Origin == originEnv || f.Origin == originFlag {
				return nil, f.Absent()
			}
			return f, nil
		}
		return nil, fmt.Errorf("config: cannot read the configuration file %s: %w", f.Describe(), err)
	}
	if err := checkPermissions(path); err != nil {
		return nil, err
	}
	f.Exists = true
	if err := f.parse(string(data), opts); err != nil {
		return nil, err
	}
	return f, nil
}

// Parse validates a configuration held in memory; name is used in errors
// and as the base of relative script_file paths.
func Parse(name, src string, opts LoadOptions) (*File, error) {
	f := &File{Path: name, Exists: true}
	if err := f.parse(src, opts); err != nil {
		return nil, err
	}
	return f, nil
}

// parser holds the state of one parse.
type parser struct {
	f    *File
	opts LoadOptions
	loc  locator
	errs []error // every problem, in file order
	// fileErrs counts the problems of the file itself: all but references
	// to unset environment variables (see unsetf).
	fileErrs int
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, p.problem(line, format, args...))
	p.fileErrs++
}

// unsetf records a reference to the unset environment variable name: a
// problem of the profile or job being parsed in this environment, not of the
// file.
func (p *parser) unsetf(line int, name, format string, args ...any) {
	p.errs = append(p.errs, &UnsetVarError{Name: name, err: p.problem(line, format, args...)})
}

// UnsetVarError is a ${NAME} reference to an environment variable that is
// not set where the config file is read. Its message names the file, the
// line, the key and the variable; what to do about it depends on who reads
// the file (the CLI, a service, the console), so the message leaves that to
// the caller.
type UnsetVarError struct {
	Name string // the variable
	err  error
}

func (e *UnsetVarError) Error() string { return e.err.Error() }

func (p *parser) problem(line int, format string, args ...any) error {
	where := p.f.Path
	if line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	return fmt.Errorf("config: %s: %s", where, fmt.Sprintf(format, args...))
}

func (f *File) parse(src string, opts LoadOptions) error {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	var doc map[string]any
	md, err := toml.Decode(src, &doc)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("config: %s:%d: %s", f.Path, pe.Position.Line, pe.Message)
		}
		return fmt.Errorf("config: %s: %w", f.Path, err)
	}
	p := &parser{f: f, opts: opts, loc: locator{lines: scanLines(src)}}

	// Walk the keys in document order: it gives the order of profiles,
	// properties and jobs, and the line of every key.
	lines := map[string]int{} // path (joined with \x00, array indices included) → line
	var order []elem
	arrays := map[string]int{} // array-of-tables path → current index
	for _, k := range md.Keys() {
		line := p.loc.find(k)
		// Insert the current element index after each array-of-tables
		// component so that keys of different elements differ.
		var path []string
		for i := range k {
			path = append(path, k[i])
			key := strings.Join(k[:i+1], "\x00")
			if i == len(k)-1 && md.Type(k...) == "ArrayHash" {
				arrays[key]++
			}
			if n, ok := arrays[key]; ok {
				path = append(path, "#"+strconv.Itoa(n-1))
			}
		}
		id := strings.Join(path, "\x00")
		if _, seen := lines[id]; !seen {
			lines[id] = line
			order = append(order, elem{path, line})
		}
	}
	lineOf := func(path ...string) int { return lines[strings.Join(path, "\x00")] }

	var profileNames, jobNames []string
	reported := map[string]bool{}
	for _, e := range order {
		if top := e.path[0]; top != "profiles" && top != "jobs" {
			if !reported[top] {
				reported[top] = true
				p.errorf(e.line, "unknown key %q (the file holds [profiles.<name>] and [jobs.<name>] sections)", top)
			}
			continue
		}
		switch {
		case len(e.path) == 2 && e.path[0] == "profiles":
			profileNames = append(profileNames, e.path[1])
		case len(e.path) == 2 && e.path[0] == "jobs":
			jobNames = append(jobNames, e.path[1])
		}
	}
	for _, name := range []string{"profiles", "jobs"} {
		if v, ok := doc[name]; ok {
			if _, isMap := v.(map[string]any); !isMap {
				p.errorf(lineOf(name), "%q must be a table of named sections, like [%s.<name>]", name, name)
			}
		}
	}

	profiles, _ := doc["profiles"].(map[string]any)
	for _, name := range profileNames {
		p.profile(name, profiles[name], lineOf("profiles", name), order, lineOf)
	}
	jobs, _ := doc["jobs"].(map[string]any)
	for _, name := range jobNames {
		p.job(name, jobs[name], lineOf("jobs", name), lineOf)
	}
	if p.fileErrs == 0 {
		return nil // unset variables, if any, stay with their profiles and jobs
	}
	return errors.Join(p.errs...) // every problem, unset variables included
}

// elem is a key of the document, array-of-tables indices included, and
// its line.
type elem struct {
	path []string
	line int
}

func (p *parser) profile(name string, v any, line int, order []elem, lineOf func(...string) int) {
	table, ok := v.(map[string]any)
	if !ok {
		p.errorf(line, "profile %q must be a table: write [profiles.%s] followed by its properties", name, quoteKey(name))
		return
	}
	prof := &Profile{Name: name, File: p.f.Path, Line: line}
	nerr := len(p.errs)
	defer func() { prof.err = errors.Join(p.errs[nerr:]...) }()
	// Properties in file order.
	var keys []string
	for _, e := range order {
		if len(e.path) == 3 && e.path[0] == "profiles" && e.path[1] == name {
			keys = append(keys, e.path[2])
		}
	}
	// Keys defined through an inline table are missing from order; add
	// them sorted.
	var rest []string
	for k := range table {
		if !slices.Contains(keys, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)

	seen := map[string]string{}
	for _, k := range keys {
		kl := lineOf("profiles", name, k)
		if kl == 0 {
			kl = line
		}
		if !p.validProperty(k) {
			p.errorf(kl, "unknown property %q in profile %q%s", k, name, p.suggest(k))
			continue
		}
		if prev, dup := seen[strings.ToLower(k)]; dup {
			p.errorf(kl, "property %q in profile %q repeats %q (names are case-insensitive)", k, name, prev)
			continue
		}
		seen[strings.ToLower(k)] = k
		val, ok := p.scalar(table[k], kl, fmt.Sprintf("property %q of profile %q", k, name))
		if !ok {
			continue
		}
		val, ok = p.expand(val, kl, k)
		if !ok {
			continue
		}
		prof.Properties = append(prof.Properties, Property{Key: k, Value: val, Line: kl})
	}
	p.f.profiles = append(p.f.profiles, prof)
}

func (p *parser) validProperty(k string) bool {
	if p.opts.ValidProperty != nil {
		return p.opts.ValidProperty(k)
	}
	if p.opts.PropertyNames != nil {
		return slices.ContainsFunc(p.opts.PropertyNames, func(n string) bool { return strings.EqualFold(n, k) })
	}
	return true
}

func (p *parser) suggest(k string) string {
	if len(p.opts.PropertyNames) == 0 {
		return ""
	}
	return suggestion(k, p.opts.PropertyNames)
}

// suggestion returns "; did you mean X?" for the closest of names, or the
// list of names when none is close.
func suggestion(k string, names []string) string {
	if best, ok := Closest(k, names); ok {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return "; accepted: " + strings.Join(names, ", ")
}

// Closest returns the name of names closest to k (ignoring case) when it is
// close enough to be a likely typo of it.
func Closest(k string, names []string) (string, bool) {
	best, bestD := "", math.MaxInt
	for _, n := range names {
		if d := editDistance(strings.ToLower(k), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best, best != "" && bestD <= max(2, len(k)/4)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// scalar converts a TOML value to the text of a property.
func (p *parser) scalar(v any, line int, what string) (string, bool) {
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
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				switch e.(type) {
				case int64, float64, bool:
					s, _ = p.scalar(e, line, what)
				default:
					p.errorf(line, "%s: an array may hold only strings, numbers or booleans", what)
					return "", false
				}
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), true
	case map[string]any, []map[string]any:
		p.errorf(line, "%s must be a value, not a table", what)
	case time.Time:
		p.errorf(line, "%s must be a string, not a date (quote it)", what)
	default:
		p.errorf(line, "%s has an unsupported type %T", what, v)
	}
	return "", false
}

// expand replaces ${NAME} with the environment variable NAME; $${ is a
// literal ${. It reports the names the value referred to.
func (p *parser) expand(s string, line int, key string) (string, bool) {
	v, _, ok := p.expandVars(s, line, key)
	return v, ok
}

// expandVars is expand, also returning the variables referred to.
func (p *parser) expandVars(s string, line int, key string) (string, []string, bool) {
	if !strings.Contains(s, "${") {
		return s, nil, true
	}
	var vars []string
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		name := ""
		if end > 0 {
			name = s[i+2 : i+end]
		}
		if end < 0 || !validEnvName(name) {
			p.errorf(line, "value of %q has a malformed ${...} reference; write ${NAME} with NAME made of letters, digits and _ (or $${ for a literal ${)", key)
			return "", vars, false
		}
		vars = append(vars, name)
		val, ok := p.opts.LookupEnv(name)
		if !ok {
			p.unsetf(line, name, "value of %q refers to the environment variable %s, which is not set", key, name)
			return "", vars, false
		}
		b.WriteString(val)
		i += end + 1
	}
	return b.String(), vars, true
}

// fromEmpty explains a value that is empty because the variables it is
// made of are: " (it is made of ${A}, which is empty)".
func fromEmpty(vars []string) string {
	if len(vars) == 0 {
		return ""
	}
	refs := make([]string, len(vars))
	for i, v := range vars {
		refs[i] = "${" + v + "}"
	}
	verb := "which is"
	if len(vars) > 1 {
		verb = "which are"
	}
	return fmt.Sprintf(" (it is made of %s, %s empty)", strings.Join(refs, " and "), verb)
}

func validEnvName(n string) bool {
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

var (
	jobKeys         = []string{"source", "schedule", "script", "script_file", "destinations"}
	destinationKeys = []string{"url", "prefix", "schema", "source_name", "name_style"}
)

// canonical returns the accepted key that k names (ignoring case).
func canonical(k string, accepted []string) (string, bool) {
	for _, a := range accepted {
		if strings.EqualFold(a, k) {
			return a, true
		}
	}
	return "", false
}

func (p *parser) job(name string, v any, line int, lineOf func(...string) int) {
	table, ok := v.(map[string]any)
	if !ok {
		p.errorf(line, "job %q must be a table: write [jobs.%s] followed by its keys", name, quoteKey(name))
		return
	}
	job := Job{Name: name, Line: line}
	fields := map[string]string{}
	fieldVars := map[string][]string{} // the ${NAME}s each field is made of
	keys := sortedKeys(table)
	nerr, nfile := len(p.errs), p.fileErrs
	for _, k := range keys {
		kl := lineOf("jobs", name, k)
		if kl == 0 {
			kl = line
		}
		c, ok := canonical(k, jobKeys)
		if !ok {
			p.errorf(kl, "unknown key %q in job %q%s", k, name, suggestion(k, jobKeys))
			continue
		}
		if _, dup := fields[c]; dup {
			p.errorf(kl, "key %q in job %q is given twice (names are case-insensitive)", k, name)
			continue
		}
		fields[c] = ""
		if c == "destinations" {
			job.Destinations = p.destinations(name, table[k], kl, k, lineOf)
			continue
		}
		s, isString := table[k].(string)
		if !isString {
			p.errorf(kl, "%q of job %q must be a string", k, name)
			continue
		}
		if c != "script" {
			var vars []string
			if s, vars, ok = p.expandVars(s, kl, k); !ok {
				continue
			}
			fieldVars[c] = vars
		}
		fields[c] = s
	}
	job.Source, job.Schedule, job.Script = fields["source"], fields["schedule"], fields["script"]
	if len(p.errs) > nerr {
		if p.fileErrs == nfile {
			// Only unset variables: the job stays, unable to run here.
			job.err = errors.Join(p.errs[nerr:]...)
			p.f.jobs = append(p.f.jobs, job)
		}
		return
	}
	switch {
	case job.Source == "":
		p.errorf(line, "job %q has no source%s: set source = \"<profile>\" or \"%s\"", name, fromEmpty(fieldVars["source"]), SandboxSource)
	case IsSandbox(job.Source):
		job.Source = SandboxSource
	default:
		if !p.hasProfile(job.Source) {
			p.errorf(lineOf("jobs", name, "source"), "job %q: source %q is neither a profile of this file nor %q (profiles: %s)",
				name, job.Source, SandboxSource, orNone(p.profileNames()))
		}
	}
	_, hasScript := fields["script"]
	_, hasFile := fields["script_file"]
	switch {
	case hasScript && hasFile:
		p.errorf(line, "job %q sets both script and script_file; keep one", name)
	case !hasScript && !hasFile:
		p.errorf(line, "job %q has no script: set script = \"REPLICATE ALL;\" or script_file = \"<file>.sql\"", name)
	case hasFile:
		sf := fields["script_file"]
		if sf == "" {
			p.errorf(lineOf("jobs", name, "script_file"), "job %q: script_file is empty%s", name, fromEmpty(fieldVars["script_file"]))
		} else {
			if !filepath.IsAbs(sf) {
				sf = filepath.Join(filepath.Dir(p.f.Path), sf)
			}
			if abs, err := filepath.Abs(sf); err == nil {
				sf = abs
			}
			job.ScriptFile = sf
		}
	case strings.TrimSpace(job.Script) == "":
		p.errorf(lineOf("jobs", name, "script"), "job %q: script is empty", name)
	}
	if _, ok := fields["destinations"]; !ok {
		p.errorf(line, "job %q has no destination: add a [[jobs.%s.destinations]] section with a url", name, quoteKey(name))
	}
	p.f.jobs = append(p.f.jobs, job)
}

// hasProfile reports whether a profile named n (ignoring case) has been
// parsed; profiles are parsed before jobs.
func (p *parser) hasProfile(n string) bool {
	return slices.ContainsFunc(p.f.profiles, func(pr *Profile) bool { return strings.EqualFold(pr.Name, n) })
}

func (p *parser) profileNames() []string { return p.f.ProfileNames() }

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (p *parser) destinations(job string, v any, line int, key string, lineOf func(...string) int) []Destination {
	elems, ok := v.([]map[string]any)
	if !ok {
		p.errorf(line, "%q of job %q must be an array of tables: write [[jobs.%s.destinations]] sections", key, job, quoteKey(job))
		return nil
	}
	if len(elems) == 0 {
		p.errorf(line, "job %q has an empty destinations list", job)
		return nil
	}
	var out []Destination
	for i, e := range elems {
		idx := "#" + strconv.Itoa(i)
		dl := lineOf("jobs", job, key, idx)
		if dl == 0 {
			dl = line
		}
		d := Destination{Line: dl}
		seen := map[string]bool{}
		var urlVars []string
		urlUnset := false // its ${NAME} is unset: that error says all
		for _, k := range sortedKeys(e) {
			kl := lineOf("jobs", job, key, idx, k)
			if kl == 0 {
				kl = dl
			}
			c, ok := canonical(k, destinationKeys)
			if !ok {
				p.errorf(kl, "unknown key %q in destination %d of job %q%s", k, i+1, job, suggestion(k, destinationKeys))
				continue
			}
			if seen[c] {
				p.errorf(kl, "key %q in destination %d of job %q is given twice (names are case-insensitive)", k, i+1, job)
				continue
			}
			seen[c] = true
			s, isString := e[k].(string)
			if !isString {
				p.errorf(kl, "%q of destination %d of job %q must be a string", k, i+1, job)
				continue
			}
			var vars []string
			if s, vars, ok = p.expandVars(s, kl, k); !ok {
				urlUnset = urlUnset || c == "url"
				continue
			}
			switch c {
			case "url":
				d.URL, urlVars = s, vars
			case "prefix":
				d.Prefix = s
			case "schema":
				d.Schema = s
			case "source_name":
				d.SourceName = s
			case "name_style":
				switch strings.ToLower(s) {
				case "", "exact", "lower", "snake_case", "snake":
					d.NameStyle = strings.ToLower(s)
				default:
					p.errorf(kl, "name_style %q of destination %d of job %q: use exact, lower or snake_case", s, i+1, job)
				}
			}
		}
		switch {
		case urlUnset:
		case d.URL == "" && !seen["url"]:
			p.errorf(dl, "destination %d of job %q has no url (postgres://..., mysql://..., sqlite:<file>)", i+1, job)
		case strings.TrimSpace(d.URL) == "":
			p.errorf(lineOf("jobs", job, key, idx, "url"), "destination %d of job %q has an empty url%s", i+1, job, fromEmpty(urlVars))
		}
		out = append(out, d)
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// quoteKey writes a TOML key: bare when possible, else a basic string.
func quoteKey(k string) string {
	if k != "" && strings.IndexFunc(k, func(r rune) bool { return r > 127 || !isBareKeyByte(byte(r)) }) < 0 {
		return k
	}
	return quoteString(k)
}

// quoteString writes s as a TOML basic string.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
