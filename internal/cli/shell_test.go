package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPipedShellSession(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(script, []byte("SELECT 'from-read' AS Src;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.txt")
	stdin := strings.Join([]string{
		"-- a comment line",
		"SELECT count(*) AS N",
		"  FROM Plans;",
		".tables Task%",
		".schema Buckets",
		".mode csv",
		"SELECT 'a;b' AS Semi, NULL AS Nada;",
		".headers off",
		"SELECT 'no-header';",
		".headers on",
		".nullvalue <null>",
		".mode table",
		"SELECT NULL AS Nada;",
		".timer on",
		"SELECT count(*) FROM Tasks;",
		".timer off",
		".output " + out,
		"SELECT 'to-file' AS Dest;",
		".output",
		".read " + script,
		"SHOW TABLES;",
		"DESCRIBE Buckets;",
		".help",
		".quit",
		"SELECT 'after quit';",
	}, "\n")
	r := mustRun(t, runOpts{stdin: stdin}, "shell", "--sandbox")
	checks := []struct{ name, want string }{
		{"query over lines", "| 4 |"},
		{".tables pattern", "TaskChecklistItems\n"},
		{".schema", "CREATE TABLE Buckets (\n  BucketId TEXT"},
		{".schema key", "PRIMARY KEY (BucketId)"},
		{"csv with ; in string", "Semi,Nada\na;b,\n"},
		{"headers off", "\nno-header\n"},
		{".nullvalue", "| <null> |"},
		{".timer", "Graph requests: "},
		{".read", "from-read"},
		{"SHOW TABLES", "| TaskReferences "},
		{"DESCRIBE", "| OrderHint "},
		{".help", ".mode MODE"},
	}
	for _, c := range checks {
		if !strings.Contains(r.stdout, c.want) {
			t.Errorf("%s: stdout lacks %q\n%s", c.name, c.want, r.stdout)
		}
	}
	for _, unwanted := range []string{"planner>", "\x1b[", "after quit", "to-file", "Tables\n"} {
		if strings.Contains(r.stdout, unwanted) {
			t.Errorf("stdout has %q\n%s", unwanted, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "to-file") {
		t.Errorf(".output file: %q, %v", b, err)
	}
}

func TestPipedShellErrors(t *testing.T) {
	tests := []struct {
		name, stdin, wantErr, wantOut string
		args                          []string
	}{
		{"bad SQL continues", "SELEC 1;\nSELECT 'next';\n", "Error: SQL logic error: near \"SELEC\": syntax error", "next", nil},
		{"bail stops", "SELEC 1;\nSELECT 'next';\n", "Error: ", "", []string{"--bail"}},
		{"unknown meta", ".bogus\n", "Error: unknown command .bogus: enter .help for the list", "", nil},
		{"bad mode", ".mode xml\n", "Error: .mode:", "", nil},
		{"missing table", "SELECT * FROM NoSuchTable;\n", "no such table", "", nil},
		{".read missing file", ".read /nonexistent/x.sql\n", "Error: .read:", "", nil},
		{".schema unknown", ".schema Nope\n", "Error: .schema: no table Nope", "", nil},
		{"REPLICATE points to the command", "REPLICATE Tasks;\nSELECT 'next';\n", "Error: REPLICATE copies into another database, so it runs outside the shell: planner replicate", "next", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, runOpts{stdin: tt.stdin}, append([]string{"shell", "--sandbox"}, tt.args...)...)
			if r.code != ExitError {
				t.Errorf("exit %d, want %d", r.code, ExitError)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines != 0 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr %q: want one line with %q", r.stderr, tt.wantErr)
			}
			if tt.wantOut != "" && !strings.Contains(r.stdout, tt.wantOut) {
				t.Errorf("stdout %q lacks %q", r.stdout, tt.wantOut)
			}
			if tt.wantOut == "" && strings.Contains(r.stdout, "next") {
				t.Errorf("ran past the error: %q", r.stdout)
			}
		})
	}
}

func TestOutputModes(t *testing.T) {
	const q = `SELECT 'Ünïcødé 日本' AS Name, NULL AS Missing, 2 AS N UNION ALL SELECT 'b', 'x', 3`
	tests := []struct {
		mode  string
		wants []string
	}{
		{"table", []string{"+--", "| Name         | Missing | N |", "| Ünïcødé 日本 | NULL    | 2 |", "| b            | x       | 3 |"}},
		{"box", []string{"┌", "│ Ünïcødé 日本 │ NULL    │ 2 │"}},
		{"csv", []string{"Name,Missing,N\nÜnïcødé 日本,,2\nb,x,3\n"}},
		{"json", []string{`"Missing":null`}},
		{"jsonl", []string{`{"Name":"b","Missing":"x","N":3}`}},
		{"markdown", []string{"| Name | Missing | N |", "| --- |", "| Ünïcødé 日本 | NULL | 2 |"}},
		{"line", []string{"   Name = Ünïcødé 日本", "Missing = NULL"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			r := mustRun(t, runOpts{}, "query", "--sandbox", "--format", tt.mode, q)
			for _, w := range tt.wants {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			if tt.mode == "json" {
				var v []map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || len(v) != 2 {
					t.Errorf("json: %v, %d rows", err, len(v))
				}
			}
			// The shell's .mode gives the same output.
			sh := mustRun(t, runOpts{stdin: ".mode " + tt.mode + "\n" + q + ";\n"}, "shell", "--sandbox")
			if sh.stdout != r.stdout {
				t.Errorf("shell .mode %s differs:\n%s\nquery:\n%s", tt.mode, sh.stdout, r.stdout)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	r := mustRun(t, runOpts{}, "query", "--sandbox", "--format", "csv", "--no-headers",
		"SELECT Title FROM Plans ORDER BY Title")
	if got := strings.Count(r.stdout, "\n"); got != 4 {
		t.Errorf("want 4 plans, got %d lines:\n%s", got, r.stdout)
	}
	// flags after the statement, statement from stdin, --timer
	r = mustRun(t, runOpts{stdin: "SELECT count(*) AS N FROM Tasks"}, "query", "-", "--sandbox", "--timer", "--format", "jsonl")
	if !strings.Contains(r.stdout, `{"N":48}`) || !strings.Contains(r.stderr, "Graph requests:") {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = mustRun(t, runOpts{}, "query", "--sandbox", "--null", "-", "SELECT NULL AS X")
	if !strings.Contains(r.stdout, "| - |") {
		t.Errorf("--null: %q", r.stdout)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"help", "shell"}, {"shell", "--help"}, {"query", "-h"},
		{"replicate", "--help"}, {"jobs", "--help"}, {"jobs", "serve", "--help"}, {"auth", "--help"},
		{"sandbox", "--help"}, {"sandbox", "serve", "--help"}} {
		r := mustRun(t, runOpts{}, args...)
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Example") {
			t.Errorf("planner %v: no usage with examples:\n%s", args, r.stdout)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.toml")
	os.WriteFile(badConfig, []byte("[jobs.x]\nsource = \"sandbox\"\nbogus_key = 1\n"), 0o600)
	tests := []struct {
		name string
		args []string
		env  []string
		code int
		want string
	}{
		{"no command", nil, nil, ExitUsage, "no command given"},
		{"unknown command", []string{"frobnicate"}, nil, ExitUsage, `unknown command "frobnicate"`},
		{"bad flag", []string{"query", "--frob", "SELECT 1"}, nil, ExitUsage, "flag provided but not defined: -frob"},
		{"no account", []string{"query", "SELECT 1"}, nil, ExitUsage, "no Planner account given"},
		{"bad DSN", []string{"query", "--dsn", "Frob=1", "SELECT 1"}, nil, ExitUsage, `unknown connection property "Frob"`},
		{"bad DSN value", []string{"shell", "--dsn", "MaxConcurrency=lots"}, nil, ExitUsage, "MaxConcurrency"},
		{"bad SQL", []string{"query", "--sandbox", "SELEC 1"}, nil, ExitError, `query: SQL logic error: near "SELEC"`},
		{"two statements", []string{"query", "--sandbox", "SELECT 1; SELECT 2"}, nil, ExitUsage, "give one statement"},
		{"bad format", []string{"query", "--sandbox", "--format", "xml", "SELECT 1"}, nil, ExitUsage, "xml"},
		{"bad REPLICATE", []string{"replicate", "--sandbox", "REPLICATE Tasks WITH Bogus=1"}, nil, ExitUsage, "replicate: "},
		{"unreachable destination", []string{"replicate", "--sandbox", "--to", "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=2"}, nil, ExitError, "destination postgres://u:xxxxx@127.0.0.1:1/db"},
		{"bad config", []string{"jobs", "list", "--config", badConfig}, nil, ExitError, "bogus_key"},
		{"missing config", []string{"jobs", "list", "--config", filepath.Join(dir, "none.toml")}, nil, ExitError, "config: "},
		{"unknown jobs subcommand", []string{"jobs", "frob"}, nil, ExitUsage, `unknown subcommand "frob"`},
		{"bad log format", []string{"jobs", "serve", "--log-format", "xml"}, nil, ExitUsage, "--log-format must be text or json"},
		{"unknown profile", []string{"query", "--profile", "nope", "SELECT 1"}, []string{"PLANNER_CONFIG=" + badConfig}, ExitError, "bogus_key"},
		{"sandbox without serve", []string{"sandbox"}, nil, ExitUsage, "planner sandbox serve"},
		{"bad throttle", []string{"sandbox", "serve", "--throttle", "often"}, nil, ExitUsage, "key=value"},
		{"auth without profile in the config", []string{"auth", "status"}, nil, ExitError, "has no profile: add a [profiles.NAME] section"},
		{"auth login without profile", []string{"auth", "login"}, nil, ExitUsage, "has no profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, runOpts{env: tt.env}, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			if tt.name == "no command" {
				return // prints the usage, then the error line
			}
			if strings.Count(strings.TrimRight(r.stderr, "\n"), "\n") != 0 || !strings.HasPrefix(r.stderr, "planner: ") {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "s3cret") {
				t.Errorf("stderr shows a password: %q", r.stderr)
			}
		})
	}
}
