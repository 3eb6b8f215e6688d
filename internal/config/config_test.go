package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// props is a stand-in for the driver's list of connection properties.
var props = []string{"Profile", "AuthScheme", "InitiateOAuth", "Tenant", "OAuthClientId", "OAuthClientSecret",
	"OAuthAccessToken", "OAuthRefreshToken", "OAuthSettingsLocation", "Scope", "GraphURL", "AuthorityURL",
	"Sandbox", "GroupId", "MaxConcurrency", "Timeout"}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const example = `# planner configuration
[profiles.prod]                       # connection properties
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "11111111-2222-3333-4444-555555555555"
AuthScheme = "AzureAD"
OAuthSettingsLocation = "keyring://planner-prod"

[profiles.fabrikam]
AuthScheme = "AzureServicePrincipal"
Tenant = "fabrikam.onmicrosoft.com"
OAuthClientId = "abc"
OAuthClientSecret = "${FABRIKAM_SECRET}"
MaxConcurrency = 4
Sandbox = false
GroupId = ["g1", "g2"]
Scope = """
Tasks.Read
"""

[jobs.nightly]
source = "prod"
schedule = "every 1 day at 02:00"
script = "REPLICATE ALL;"
[[jobs.nightly.destinations]]
url = "postgres://localhost/warehouse"
prefix = "PROD_"
schema = "prod"
source_name = "prod"
[[jobs.nightly.destinations]]
url = "sqlite:${DATA}/planner.db"

[jobs.demo]
source = "Sandbox"
script_file = "sql/demo.sql"
[[jobs.demo.destinations]]
url = "sqlite:demo.db"
name_style = "Snake_Case"
`

func TestParseExample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	f, err := Parse(path, example, LoadOptions{PropertyNames: props, LookupEnv: env(map[string]string{"FABRIKAM_SECRET": "s3cr3t", "DATA": "/var/data"})})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.ProfileNames(), []string{"prod", "fabrikam"}; !cmp.Equal(got, want) {
		t.Errorf("profile names %v, want %v (file order)", got, want)
	}
	fab, err := f.Profile("fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{Name: "fabrikam", File: path, Line: 8, Properties: []Property{
		{"AuthScheme", "AzureServicePrincipal", 9},
		{"Tenant", "fabrikam.onmicrosoft.com", 10},
		{"OAuthClientId", "abc", 11},
		{"OAuthClientSecret", "s3cr3t", 12},
		{"MaxConcurrency", "4", 13},
		{"Sandbox", "false", 14},
		{"GroupId", "g1,g2", 15},
		{"Scope", "Tasks.Read\n", 16},
	}}
	if d := cmp.Diff(want, fab, cmp.AllowUnexported(Profile{})); d != "" {
		t.Errorf("profile fabrikam (-want +got):\n%s", d)
	}
	if v, ok := fab.Get("oauthclientsecret"); !ok || v != "s3cr3t" {
		t.Errorf("Get is not case-insensitive: %q %v", v, ok)
	}
	if p, err := f.Profile("PROD"); err != nil || p.Name != "prod" {
		t.Errorf("Profile(PROD) = %v, %v; want the prod profile", p, err)
	}
	jobs := f.Jobs()
	wantJobs := []Job{
		{Name: "nightly", Source: "prod", Schedule: "every 1 day at 02:00", Script: "REPLICATE ALL;", Line: 20,
			Destinations: []Destination{
				{URL: "postgres://localhost/warehouse", Prefix: "PROD_", Schema: "prod", SourceName: "prod", Line: 24},
				{URL: "sqlite:/var/data/planner.db", Line: 29},
			}},
		{Name: "demo", Source: "sandbox", ScriptFile: filepath.Join(dir, "sql", "demo.sql"), Line: 32,
			Destinations: []Destination{{URL: "sqlite:demo.db", NameStyle: "snake_case", Line: 35}}},
	}
	if d := cmp.Diff(wantJobs, jobs, cmp.AllowUnexported(Job{})); d != "" {
		t.Errorf("jobs (-want +got):\n%s", d)
	}
	if _, err := f.Job("nightly"); err != nil {
		t.Error(err)
	}
	if _, err := f.Job("weekly"); err == nil || !strings.Contains(err.Error(), "nightly, demo") {
		t.Errorf("unknown job error %v does not list the known jobs", err)
	}
}

func TestJobLoadScript(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.MkdirAll(filepath.Join(dir, "sql"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sql", "demo.sql"), []byte("REPLICATE Tasks;"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path, LoadOptions{LookupEnv: env(map[string]string{"FABRIKAM_SECRET": "x", "DATA": "d"})})
	if err != nil {
		t.Fatal(err)
	}
	j, err := f.Job("demo")
	if err != nil {
		t.Fatal(err)
	}
	s, err := j.LoadScript()
	if err != nil || s != "REPLICATE Tasks;" {
		t.Errorf("LoadScript = %q, %v", s, err)
	}
	j, _ = f.Job("nightly")
	if s, err := j.LoadScript(); err != nil || s != "REPLICATE ALL;" {
		t.Errorf("inline LoadScript = %q, %v", s, err)
	}
	missing := Job{Name: "x", ScriptFile: filepath.Join(dir, "nope.sql")}
	if _, err := missing.LoadScript(); err == nil || !strings.Contains(err.Error(), `job "x"`) {
		t.Errorf("missing script_file: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error
	}{
		{"unknown property", "[profiles.p]\nTenant = \"t\"\nTenent = \"x\"\n",
			[]string{"cfg.toml:3:", `unknown property "Tenent" in profile "p"`, `did you mean "Tenant"?`}},
		{"unknown property far", "[profiles.p]\nFrobnicate = 1\n",
			[]string{"cfg.toml:2:", `"Frobnicate"`, "accepted: Profile, AuthScheme"}},
		{"duplicate property case", "[profiles.p]\nTenant = \"a\"\ntenant = \"b\"\n",
			[]string{"cfg.toml:3:", "case-insensitive"}},
		{"unknown top-level", "color = \"red\"\n[profiles.p]\n", []string{"cfg.toml:1:", `unknown key "color"`}},
		{"unknown top-level table", "[profile.p]\nTenant = \"t\"\n", []string{"cfg.toml:1:", `unknown key "profile"`}},
		{"profiles not a table", "profiles = 3\n", []string{"cfg.toml:1:", `"profiles" must be a table`}},
		{"malformed env ref", "[profiles.p]\nTenant = \"${1abc}\"\n", []string{"cfg.toml:2:", "malformed"}},
		{"unclosed env ref", "[profiles.p]\nTenant = \"${abc\"\n", []string{"cfg.toml:2:", "malformed"}},
		{"syntax error", "[profiles.p]\nTenant = \"t\n", []string{"cfg.toml:2:"}},
		{"duplicate key syntax", "[profiles.p]\nTenant = \"t\"\nTenant = \"u\"\n", []string{"cfg.toml:3:"}},
		{"table as property", "[profiles.p]\nTenant = { a = 1 }\n", []string{"cfg.toml:2:", "must be a value, not a table"}},
		{"date as property", "[profiles.p]\nTimeout = 1979-05-27\n", []string{"cfg.toml:2:", "not a date"}},
		{"unknown job key", "[jobs.j]\nsource = \"sandbox\"\nscript = \"x\"\nsorce = \"p\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n",
			[]string{"cfg.toml:4:", `unknown key "sorce" in job "j"`, `did you mean "source"?`}},
		{"unknown destination key in second", "[jobs.j]\nsource = \"sandbox\"\nscript = \"x\"\n[[jobs.j.destinations]]\nurl = \"sqlite:a\"\nprefix = \"A\"\n[[jobs.j.destinations]]\nurl = \"sqlite:b\"\nprefx = \"B\"\n",
			[]string{"cfg.toml:9:", `unknown key "prefx" in destination 2 of job "j"`}},
		{"bad name style", "[jobs.j]\nsource = \"sandbox\"\nscript = \"x\"\n[[jobs.j.destinations]]\nurl = \"sqlite:a\"\nname_style = \"camel\"\n",
			[]string{"cfg.toml:6:", `name_style "camel"`, "exact, lower or snake_case"}},
		{"job source unknown", "[profiles.prod]\n[jobs.j]\nsource = \"prd\"\nscript = \"x\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n",
			[]string{"cfg.toml:3:", `source "prd"`, "profiles: prod"}},
		{"job without script", "[jobs.j]\nsource = \"sandbox\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n",
			[]string{"cfg.toml:1:", "has no script"}},
		{"job with both scripts", "[jobs.j]\nsource = \"sandbox\"\nscript = \"x\"\nscript_file = \"y\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n",
			[]string{"cfg.toml:1:", "both script and script_file"}},
		{"job without destination", "[jobs.j]\nsource = \"sandbox\"\nscript = \"x\"\n",
			[]string{"cfg.toml:1:", "no destination"}},
		{"destination without url", "[jobs.j]\nsource = \"sandbox\"\nscript = \"x\"\n[[jobs.j.destinations]]\nprefix = \"P\"\n",
			[]string{"cfg.toml:4:", "has no url"}},
		{"job without source", "[jobs.j]\nscript = \"x\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n",
			[]string{"cfg.toml:1:", "has no source"}},
		{"job field not string", "[jobs.j]\nsource = \"sandbox\"\nscript = 3\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n",
			[]string{"cfg.toml:3:", `"script" of job "j" must be a string`}},
		{"line after multi-line string", "[profiles.p]\nScope = '''\nTenent = \"x\"\n'''\nTenent = \"y\"\n",
			[]string{"cfg.toml:5:", `"Tenent"`}},
		{"line after multi-line array", "[profiles.p]\nGroupId = [\n  \"a\", # comment ]\n  \"b\",\n]\nTenent = \"y\"\n",
			[]string{"cfg.toml:6:", `"Tenent"`}},
		{"quoted keys", "[profiles.\"my prod\"]\n\"Tenent\" = \"y\"\n", []string{"cfg.toml:2:", `"Tenent" in profile "my prod"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.toml", tt.src, LoadOptions{PropertyNames: props, LookupEnv: env(nil)})
			if err == nil {
				t.Fatalf("no error for:\n%s", tt.src)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestEnvExpansion(t *testing.T) {
	src := "[profiles.p]\nTenant = \"${T}\"\nOAuthClientId = \"a${EMPTY}b\"\nScope = \"$${T} $5 ${T}${T}\"\n"
	f, err := Parse("c.toml", src, LoadOptions{LookupEnv: env(map[string]string{"T": "x", "EMPTY": ""})})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.Profile("p")
	want := []Property{{"Tenant", "x", 2}, {"OAuthClientId", "ab", 3}, {"Scope", "${T} $5 xx", 4}}
	if d := cmp.Diff(want, p.Properties); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Inline scripts are SQL text: not expanded.
	src = "[jobs.j]\nsource = \"sandbox\"\nscript = \"SELECT '${NOT_EXPANDED}';\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n"
	f, err = Parse("c.toml", src, LoadOptions{LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Jobs()[0].Script; got != "SELECT '${NOT_EXPANDED}';" {
		t.Errorf("script = %q, want it unexpanded", got)
	}
}

func TestValidPropertyFunc(t *testing.T) {
	var asked []string
	opts := LoadOptions{ValidProperty: func(n string) bool { asked = append(asked, n); return strings.EqualFold(n, "tenant") }}
	if _, err := Parse("c.toml", "[profiles.p]\nTENANT = \"t\"\n", opts); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("c.toml", "[profiles.p]\nTENANT = \"t\"\nColour = \"red\"\n", opts)
	if err == nil || !strings.Contains(err.Error(), "c.toml:3:") {
		t.Errorf("err = %v, want an error at c.toml:3", err)
	}
	if !cmp.Equal(asked, []string{"TENANT", "TENANT", "Colour"}) {
		t.Errorf("ValidProperty asked about %v", asked)
	}
}

func TestManyErrorsReported(t *testing.T) {
	_, err := Parse("c.toml", "[profiles.p]\nA = 1\nB = 2\n[profiles.q]\nC = 3\n", LoadOptions{PropertyNames: props})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"c.toml:2:", "c.toml:3:", "c.toml:5:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %s", err, w)
		}
	}
}

func TestPathAndLoad(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv(EnvVar, "")
	p, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" && p != filepath.Join(dir, "planner", "config.toml") {
		t.Errorf("Path() = %s", p)
	}
	// A missing default file is an empty configuration.
	f, err := Load(p, LoadOptions{})
	if err != nil {
		t.Fatalf("missing default file: %v", err)
	}
	if f.Exists || len(f.Profiles()) != 0 || len(f.Jobs()) != 0 {
		t.Errorf("missing file gave %+v", f)
	}
	if _, err := f.Profile("prod"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Profile on a missing file: %v", err)
	}
	if _, err := Load(p, LoadOptions{MustExist: true}); err == nil {
		t.Error("MustExist: no error for a missing file")
	}

	named := filepath.Join(dir, "other.toml")
	t.Setenv(EnvVar, named)
	if p, _ := Path(); p != named {
		t.Errorf("Path() = %s, want $%s = %s", p, EnvVar, named)
	}
	_, err = Load(named, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), named) || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("missing file named by %s: err = %v", EnvVar, err)
	}
	if err := os.WriteFile(named, []byte("[profiles.a]\nTenant = \"t\"\n[profiles.b]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err = Load(named, LoadOptions{PropertyNames: props})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Profile("c")
	if err == nil || !strings.Contains(err.Error(), "a, b") || !strings.Contains(err.Error(), named) {
		t.Errorf("unknown profile error %v should list a, b and the file", err)
	}
	if err := os.WriteFile(named, []byte("[profiles.a]\nbad = \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(named, LoadOptions{}); err == nil || !strings.Contains(err.Error(), named+":2:") {
		t.Errorf("syntax error = %v, want file:line", err)
	}
}

func TestScanLines(t *testing.T) {
	src := "a = 1\n[t . \"x.y\"]\nb.c = \"\"\"\nd = 2\n\"\"\"\n'e' = [\n 1, # ]\n 2]\n[[arr]]\nf = { g = 1 }\n  # comment\nh = \"#\" # c\n"
	var got []string
	for _, k := range scanLines(src) {
		got = append(got, strings.Join(k.path, "/")+":"+strconv.Itoa(k.line)+"-"+strconv.Itoa(k.endLine))
	}
	want := []string{"a:1-1", "t/x.y:2-2", "t/x.y/b/c:3-5", "t/x.y/e:6-8", "arr:9-9", "arr/f:10-10", "arr/h:12-12"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestSetProfileProperties(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "planner", "config.toml")
	// Creates the file (0600) and the section.
	if err := SetProfileProperties(path, "prod", []Property{{Key: "Tenant", Value: "t1"}}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o600) {
		t.Fatalf("created file: %v %v", st, err)
	}
	orig := "# my config\n[profiles.prod] # main\n  tenant = \"old\" # keep me?\nScope = [\n \"a\",\n]\n\n[profiles.other]\nTenant = \"o\"\n[jobs.j]\nsource = \"prod\"\nscript = \"x\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n"
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	err := SetProfileProperties(path, "prod", []Property{{Key: "Tenant", Value: "new \"t\"\\"}, {Key: "OAuthClientId", Value: "${CID}"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := "# my config\n[profiles.prod] # main\n  tenant = \"new \\\"t\\\"\\\\\"\nScope = [\n \"a\",\n]\nOAuthClientId = \"${CID}\"\n\n[profiles.other]\nTenant = \"o\"\n[jobs.j]\nsource = \"prod\"\nscript = \"x\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x\"\n"
	if d := cmp.Diff(want, string(b)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "windows" && st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v not kept", st.Mode().Perm())
	}
	f, err := Load(path, LoadOptions{LookupEnv: env(map[string]string{"CID": "cid"})})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.Profile("prod")
	if v, _ := p.Get("Tenant"); v != "new \"t\"\\" {
		t.Errorf("Tenant = %q", v)
	}
	if v, _ := p.Get("OAuthClientId"); v != "cid" {
		t.Errorf("OAuthClientId = %q", v)
	}
	// A new profile with an awkward name is appended.
	if err := SetProfileProperties(path, "a b", []Property{{Key: "Tenant", Value: "z"}}); err != nil {
		t.Fatal(err)
	}
	f, err = Load(path, LoadOptions{LookupEnv: env(map[string]string{"CID": "cid"})})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.ProfileNames(); !cmp.Equal(got, []string{"prod", "other", "a b"}) {
		t.Errorf("profiles %v", got)
	}
	// Refuses a profile written as an inline table.
	if err := os.WriteFile(path, []byte("profiles.x = { Tenant = \"t\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SetProfileProperties(path, "x", []Property{{Key: "Tenant", Value: "u"}}); err == nil {
		t.Error("no error updating an inline-table profile")
	}
}

// TestUnsetVariables: a ${NAME} of an unset variable is a problem of the
// profile or job holding it in this environment, not of the file: the
// other profiles and jobs load and work, File.Profile returns the error for
// its profile and Job.Err for its job; with a problem of the file itself,
// Load reports every problem, unset variables included.
func TestUnsetVariables(t *testing.T) {
	src := `[profiles.svc]
AuthScheme = "AzureServicePrincipal"
OAuthClientSecret = "pre-${NOPE_SECRET}"

[profiles.dev]
Tenant = "contoso"

[jobs.nightly]
source = "svc"
script = "REPLICATE ALL;"
[[jobs.nightly.destinations]]
url = "postgres://u:${PGPW_UNSET}@h/db"

[jobs.local]
source = "dev"
script = "REPLICATE ALL;"
[[jobs.local.destinations]]
url = "sqlite:x.db"
`
	f, err := Parse("cfg.toml", src, LoadOptions{PropertyNames: props, LookupEnv: env(nil)})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if p, err := f.Profile("dev"); err != nil || p.Err() != nil {
		t.Errorf("profile dev: %v", err)
	}
	p, err := f.Profile("svc")
	if err == nil || err.Error() != `config: cfg.toml:3: value of "OAuthClientSecret" refers to the environment variable NOPE_SECRET, which is not set` || p.Err() != err {
		t.Errorf("profile svc: %v", err)
	}
	if _, ok := p.Get("OAuthClientSecret"); ok {
		t.Error("profile svc has the property whose variable is unset")
	}
	// The error names the variable for callers that say what to do about it.
	if ue, ok := errors.AsType[*UnsetVarError](fmt.Errorf("wrapped: %w", err)); !ok || ue.Name != "NOPE_SECRET" {
		t.Errorf("profile svc: %#v is not an UnsetVarError naming NOPE_SECRET", err)
	}
	for _, tt := range []struct{ job, err string }{
		{"local", ""},
		{"nightly", `config: cfg.toml:12: value of "url" refers to the environment variable PGPW_UNSET, which is not set`},
	} {
		j, err := f.Job(tt.job)
		if j == nil {
			t.Fatalf("Job(%s): %v", tt.job, err)
		}
		if got := fmt.Sprint(j.Err()); (tt.err == "" && j.Err() != nil) || (tt.err != "" && got != tt.err) || err != j.Err() {
			t.Errorf("job %s: Err() = %v, want %q (Job's error %v)", tt.job, j.Err(), tt.err, err)
		}
	}
	// With a problem of the file itself, Load reports every problem.
	_, err = Parse("cfg.toml", src+"\n[profiles.bad]\nTenent = \"x\"\n", LoadOptions{PropertyNames: props, LookupEnv: env(nil)})
	for _, w := range []string{"cfg.toml:3:", "NOPE_SECRET", "cfg.toml:12:", "PGPW_UNSET", `unknown property "Tenent"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
	if err != nil && strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("want one problem per line:\n%v", err)
	}
}
