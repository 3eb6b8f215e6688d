package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const editSrc = `# my planner config
[profiles.prod]   # the tenant
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = '1111'   # kept as a literal string

# the nightly copy
[jobs.nightly]
source = "prod"
schedule = "every 1 day at 02:00"
script = """
REPLICATE ALL;
"""

[[jobs.nightly.destinations]]
url = "sqlite:a.db"
prefix = "A_"

# second database
[[jobs.nightly.destinations]]
url = "postgres://u@h/db"

[jobs.hourly]
source = "sandbox"
script = "REPLICATE Tasks;"
[[jobs.hourly.destinations]]
url = "sqlite:b.db"
`

func TestDocumentEdits(t *testing.T) {
	tests := []struct {
		name string
		edit func(d *Document) error
		want string // the whole result
	}{
		{
			name: "replace a key in place, keep a key whose value is unchanged as written",
			edit: func(d *Document) error {
				return d.SetKeys([]string{"profiles", "prod"}, -1, []Value{{"tenant", "fabrikam"}, {"OAuthClientId", "1111"}}, nil)
			},
			want: strings.Replace(editSrc, `Tenant = "contoso.onmicrosoft.com"`, `Tenant = "fabrikam"`, 1),
		},
		{
			name: "new key after the section's last key, before the sections below",
			edit: func(d *Document) error {
				return d.SetKeys([]string{"jobs", "nightly"}, -1, []Value{{"schedule", "hourly"}, {"script_file", "x.sql"}}, []string{"script"})
			},
			want: strings.Replace(strings.Replace(editSrc, "schedule = \"every 1 day at 02:00\"\nscript = \"\"\"\nREPLICATE ALL;\n\"\"\"\n",
				"schedule = \"hourly\"\nscript_file = \"x.sql\"\n", 1), "", "", 1),
		},
		{
			name: "multi-line script written as a literal string",
			edit: func(d *Document) error {
				return d.SetKeys([]string{"jobs", "hourly"}, -1, []Value{{"script", "REPLICATE Tasks;\nREPLICATE Plans;\n"}}, nil)
			},
			want: strings.Replace(editSrc, `script = "REPLICATE Tasks;"`, "script = '''\nREPLICATE Tasks;\nREPLICATE Plans;\n'''", 1),
		},
		{
			name: "a multi-line value, then a section after it",
			edit: func(d *Document) error {
				if err := d.AppendSection([]string{"jobs", "m"}, false, []Value{{"source", "sandbox"}, {"script", "REPLICATE Tasks;\nREPLICATE Plans;\n"}}, nil); err != nil {
					return err
				}
				if err := d.AppendSection([]string{"jobs", "m", "destinations"}, true, []Value{{"url", "sqlite:m.db"}}, []string{"jobs", "m"}); err != nil {
					return err
				}
				return d.SetKeys([]string{"jobs", "m"}, -1, []Value{{"schedule", "hourly"}}, nil)
			},
			want: editSrc + "\n[jobs.m]\nsource = \"sandbox\"\nscript = '''\nREPLICATE Tasks;\nREPLICATE Plans;\n'''\nschedule = \"hourly\"\n\n[[jobs.m.destinations]]\nurl = \"sqlite:m.db\"\n",
		},
		{
			name: "array element keys",
			edit: func(d *Document) error {
				return d.SetKeys([]string{"jobs", "nightly", "destinations"}, 1, []Value{{"schema", "prod"}}, nil)
			},
			want: strings.Replace(editSrc, "url = \"postgres://u@h/db\"\n", "url = \"postgres://u@h/db\"\nschema = \"prod\"\n", 1),
		},
		{
			name: "remove an element with its comment",
			edit: func(d *Document) error {
				return d.RemoveElement([]string{"jobs", "nightly", "destinations"}, 1)
			},
			want: strings.Replace(editSrc, "# second database\n[[jobs.nightly.destinations]]\nurl = \"postgres://u@h/db\"\n\n", "", 1),
		},
		{
			name: "append an element after the last of its array",
			edit: func(d *Document) error {
				return d.AppendSection([]string{"jobs", "nightly", "destinations"}, true, []Value{{"url", "sqlite:c.db"}}, []string{"jobs", "nightly"})
			},
			want: strings.Replace(editSrc, "url = \"postgres://u@h/db\"\n", "url = \"postgres://u@h/db\"\n\n[[jobs.nightly.destinations]]\nurl = \"sqlite:c.db\"\n", 1),
		},
		{
			name: "remove a job with its destinations and leading comment",
			edit: func(d *Document) error {
				if !d.RemoveSection([]string{"jobs", "nightly"}) {
					return errors.New("nothing removed")
				}
				return nil
			},
			want: "# my planner config\n[profiles.prod]   # the tenant\nTenant = \"contoso.onmicrosoft.com\"\nOAuthClientId = '1111'   # kept as a literal string\n\n" +
				"[jobs.hourly]\nsource = \"sandbox\"\nscript = \"REPLICATE Tasks;\"\n[[jobs.hourly.destinations]]\nurl = \"sqlite:b.db\"\n",
		},
		{
			name: "append a job at the end, then its first destination",
			edit: func(d *Document) error {
				if err := d.AppendSection([]string{"jobs", "new job"}, false, []Value{{"source", "sandbox"}, {"script", "REPLICATE ALL;"}}, nil); err != nil {
					return err
				}
				return d.AppendSection([]string{"jobs", "new job", "destinations"}, true, []Value{{"url", "sqlite:n.db"}}, []string{"jobs", "new job"})
			},
			want: editSrc + "\n[jobs.\"new job\"]\nsource = \"sandbox\"\nscript = \"REPLICATE ALL;\"\n\n[[jobs.\"new job\".destinations]]\nurl = \"sqlite:n.db\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDocument(editSrc)
			if err := tt.edit(d); err != nil {
				t.Fatal(err)
			}
			if got := d.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if _, err := Parse("x.toml", d.String(), LoadOptions{LookupEnv: anyEnv}); err != nil {
				t.Errorf("the result does not parse: %v", err)
			}
		})
	}
}

func TestDocumentNotSection(t *testing.T) {
	d := NewDocument("[jobs]\nnightly = { source = \"sandbox\", script = \"REPLICATE ALL;\", destinations = [{ url = \"sqlite:a.db\" }] }\n")
	err := d.SetKeys([]string{"jobs", "nightly"}, -1, []Value{{"schedule", "hourly"}}, nil)
	if !errors.Is(err, ErrNotSection) {
		t.Fatalf("err = %v, want ErrNotSection", err)
	}
	if d.HasSection("jobs", "nightly") || !d.HasSection("jobs") {
		t.Error("HasSection is wrong")
	}
}

func TestDocumentCRLF(t *testing.T) {
	d := NewDocument("[profiles.a]\r\nTenant = \"x\"\r\n")
	if err := d.SetKeys([]string{"profiles", "a"}, -1, []Value{{"GroupId", "g"}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := d.String(), "[profiles.a]\r\nTenant = \"x\"\r\nGroupId = \"g\"\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEditFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(editSrc), 0o640); err != nil {
		t.Fatal(err)
	}
	// An edit that breaks the file is refused and nothing is written.
	err := EditFile(path, LoadOptions{}, func(d *Document) error {
		return d.SetKeys([]string{"jobs", "hourly"}, -1, nil, []string{"source"})
	})
	if err == nil || !strings.Contains(err.Error(), "has no source") {
		t.Fatalf("err = %v, want the parse error of the result", err)
	}
	if b, _ := os.ReadFile(path); string(b) != editSrc {
		t.Fatal("a refused edit changed the file")
	}
	if err := EditFile(path, LoadOptions{}, func(d *Document) error {
		return d.SetKeys([]string{"jobs", "hourly"}, -1, []Value{{"schedule", "every 2 hours"}}, nil)
	}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	f, err := LoadRaw(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := f.Job("hourly")
	if err != nil || j.Schedule != "every 2 hours" {
		t.Fatalf("job %+v, %v", j, err)
	}

	// A new file is created 0600.
	fresh := filepath.Join(dir, "sub", "new.toml")
	if err := EditFile(fresh, LoadOptions{}, func(d *Document) error {
		return d.AppendSection([]string{"profiles", "p"}, false, []Value{{"OAuthClientSecret", "${SECRET}"}}, nil)
	}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v, %v", st, err)
	}
	// LoadRaw keeps the reference; the environment is not consulted.
	raw, err := LoadRaw(fresh, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := raw.Profile("p")
	if v, _ := p.Get("OAuthClientSecret"); v != "${SECRET}" {
		t.Errorf("raw value %q, want the reference", v)
	}
}
