package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJobsHistoryEveryDialect runs a job into a destination schema of
// every kind — a mixed-case PostgreSQL schema, a MariaDB database, a SQLite
// schema named Données — and a manual replicate into the same destination:
// jobs history lists the job's runs only, and shows one run's tables.
func TestJobsHistoryEveryDialect(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			dest := destinationURL(t, kind, dir)
			schema := "Données"
			if kind != "sqlite" {
				// The destination's own schema or database, named in mixed case.
				schema = ""
			}
			cfgPath := filepath.Join(dir, "config.toml")
			cfg := fmt.Sprintf(`
[jobs.Nightly]
source = "sandbox"
script = "REPLICATE Plans; REPLICATE Buckets;"
[[jobs.Nightly.destinations]]
url = %q
schema = %q
`, dest, schema)
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + cfgPath}}
			mustRun(t, o, "jobs", "run", "Nightly")
			args := []string{"replicate", "--sandbox", "--to", dest, "--progress", "off"}
			if schema != "" {
				args = append(args, "--schema", schema)
			}
			mustRun(t, o, append(args, "REPLICATE Plans")...) // a manual run: not the job's
			mustRun(t, o, "jobs", "run", "Nightly")
			if kind == "sqlite" {
				if _, err := os.Stat(filepath.Join(dir, "dest.données.db")); err != nil {
					t.Fatalf("the schema's file: %v", err)
				}
			}
			r := mustRun(t, o, "jobs", "history", "Nightly")
			if n := strings.Count(r.stdout, "| Nightly "); n != 2 {
				t.Fatalf("%d runs listed, want the job's 2:\n%s", n, r.stdout)
			}
			if !strings.Contains(r.stdout, "| ok ") || strings.Count(r.stdout, "|      2 |") != 2 {
				t.Fatalf("history:\n%s", r.stdout)
			}
			id := strings.Fields(strings.Split(strings.Split(r.stdout, "\n")[3], "|")[3])[0]
			r = mustRun(t, o, "jobs", "history", "Nightly", "--run", id)
			for _, w := range []string{"run " + id, "Plans ", "Buckets ", "status ok"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("run %s lacks %q:\n%s", id, w, r.stdout)
				}
			}
		})
	}
}

// TestJobsHistoryRelativeSQLite: a job's relative sqlite: path names a file
// of the directory planner runs in. Run from elsewhere, jobs history finds
// no file there, and says so and what to do instead of listing no runs
// silently; run from the job's directory it lists the run, with no note.
func TestJobsHistoryRelativeSQLite(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	cfg := `
[jobs.rel]
source = "sandbox"
script = "REPLICATE Plans;"
[[jobs.rel.destinations]]
url = "sqlite:rel.db"
[[jobs.rel.destinations]]
url = "sqlite:` + filepath.Join(dir, "abs.db") + `"
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PLANNER_CONFIG=" + cfgPath}
	mustRun(t, runOpts{dir: dir, env: env}, "jobs", "run", "rel")

	const note = "a relative sqlite: path is taken from the directory planner runs in"
	tests := []struct {
		name     string
		dir      string
		runs     int  // runs listed
		wantNote bool // the note about rel.db
	}{
		{"from the job's directory", dir, 2, false},
		{"from elsewhere", elsewhere, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, runOpts{dir: tt.dir, env: env}, "jobs", "history", "rel")
			if r.code != ExitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if n := strings.Count(r.stdout, "| rel "); n != tt.runs {
				t.Errorf("%d runs listed, want %d:\n%s", n, tt.runs, r.stdout)
			}
			want := "planner: jobs history: job rel, sqlite:rel.db: no file rel.db in " + tt.dir
			if got := strings.Contains(r.stderr, want) && strings.Contains(r.stderr, note) &&
				strings.Contains(r.stderr, "give the destination an absolute path"); got != tt.wantNote {
				t.Errorf("stderr %q: note %v, want %v", r.stderr, got, tt.wantNote)
			}
			if strings.Contains(r.stderr, "abs.db") {
				t.Errorf("a note about the absolute destination: %q", r.stderr)
			}
			if _, err := os.Stat(filepath.Join(elsewhere, "rel.db")); err == nil {
				t.Errorf("jobs history created rel.db in %s", elsewhere)
			}
		})
	}
}
