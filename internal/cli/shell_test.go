package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
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
		{".read", "from-read"},
		{"SHOW TABLES", "| TaskReferences "},
		{"DESCRIBE", "| OrderHint "},
		{".help", ".mode [MODE]"},
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
	// .timer writes to stderr, and nothing else goes there.
	if !strings.HasPrefix(r.stderr, "Run Time: ") || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "Graph requests: ") {
		t.Errorf("stderr: %q, want the one .timer line", r.stderr)
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
		{"bad SQL continues", "SELEC 1;\nSELECT 'next';\n", "Error: stdin:1: SQL logic error: near \"SELEC\": syntax error", "next", nil},
		{"bail stops", "SELEC 1;\nSELECT 'next';\n", "Error: stdin:1: ", "", []string{"--bail"}},
		{"bail stops in .read", ".read /nonexistent/x.sql\nSELECT 'next';\n", "Error: stdin:1: .read: ", "", []string{"--bail"}},
		{"unknown meta", "\n.bogus\n", "Error: stdin:2: unknown command .bogus: enter .help for the list", "", nil},
		{"bad mode", ".mode xml\n", "Error: stdin:1: .mode:", "", nil},
		{"missing table", "SELECT 1;\n\nSELECT *\n  FROM NoSuchTable;\n", "Error: stdin:3: SQL logic error: no such table", "", nil},
		{"parenthesised WITH", "(WITH x AS (SELECT 1) SELECT 2);\nSELECT 'next';\n", "Error: stdin:1: SQL logic error: near \"(\": syntax error", "next", nil},
		{".read missing file", ".read /nonexistent/x.sql\n", "Error: stdin:1: .read:", "", nil},
		{".read a directory", ".read " + os.TempDir() + "\n", "Error: stdin:1: .read: " + os.TempDir() + " is a directory: give a file of SQL statements", "", nil},
		{".schema unknown", ".schema Nope\n", "Error: stdin:1: .schema: no table Nope", "", nil},
		{"REPLICATE points to the command", "REPLICATE Tasks;\nSELECT 'next';\n", "Error: stdin:1: REPLICATE copies into another database, so it runs outside the shell: planner replicate", "next", nil},
		{"open string at the end", "SELECT 'a';\nSELECT 'open\n\n", "Error: stdin:2: the input ended inside a string opened at stdin:2, column 8, so the statement was not run", "", nil},
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
	// SQL that starts with a "--" comment is the statement, not a flag,
	// wherever it stands; a flag's value may start with "--" too.
	for _, args := range [][]string{
		{"query", "--sandbox", "--format", "csv", "-- the report\nSELECT 'r' AS c"},
		{"query", "-- the report\nSELECT 'r' AS c", "--sandbox", "--format=csv"},
		{"query", "--sandbox", "--format", "csv", "---\nSELECT 'r' AS c"},
	} {
		if r := mustRun(t, runOpts{}, args...); r.stdout != "c\nr\n" {
			t.Errorf("%q: stdout %q", args, r.stdout)
		}
	}
	r = mustRun(t, runOpts{}, "query", "--sandbox", "--format", "csv", "--null", "-- x", "SELECT NULL AS n")
	if r.stdout != "n\n-- x\n" {
		t.Errorf("--null '-- x': %q", r.stdout)
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
		{"meta-command in query", []string{"query", "--sandbox", ".tables"}, nil, ExitUsage, "query: .tables is a shell command"},
		{"exit in query", []string{"query", "--sandbox", "exit"}, nil, ExitUsage, "query: exit is a shell command"},
		{"\\q in query", []string{"query", "--sandbox", `\q`}, nil, ExitUsage, `query: \q is a shell command`},
		{"open string in query", []string{"query", "--sandbox", "SELECT 'it''s\n  open"}, nil, ExitUsage,
			"query: the statement ends inside a string opened at line 1, column 8: close it"},
		{"open identifier in query", []string{"query", "--sandbox", "SELECT [a"}, nil, ExitUsage,
			"query: the statement ends inside a quoted identifier opened at line 1, column 8"},
		{"comment-only query", []string{"query", "--sandbox", "-- nothing else"}, nil, ExitUsage, "query: the statement is empty"},
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
		{"auth without profile in the config", []string{"auth", "status"}, nil, ExitError, "(the default location) does not exist: create it with a [profiles.NAME] section"},
		{"auth login without profile", []string{"auth", "login"}, nil, ExitUsage, "(the default location) does not exist"},
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

// TestShellSettings: .mode, .headers, .timer, .nullvalue and .safe-updates
// with no argument show their setting; .show shows them all.
func TestShellSettings(t *testing.T) {
	stdin := strings.Join([]string{
		".mode", ".headers", ".timer", ".nullvalue", ".safe-updates",
		".mode tsv", ".headers off", ".nullvalue ''", ".timer on",
		".mode", ".headers", ".nullvalue",
		".show",
	}, "\n")
	r := mustRun(t, runOpts{stdin: stdin}, "shell", "--sandbox")
	want := "current output mode: table\nheaders: on\ntimer: off\nnullvalue: \"NULL\"\nsafe-updates: on\n" +
		"current output mode: tsv\nheaders: off\nnullvalue: \"\"\n" +
		"      source: sandbox\n        mode: tsv\n     headers: off\n   nullvalue: \"\"\n      output: stdout\n" +
		"       timer: on\nsafe-updates: on (the sandbox is never guarded)\n   max-width: none\n"
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
}

func TestTSVAndMarkdownWithoutHeaders(t *testing.T) {
	const q = "SELECT 'a' || char(9) || 'b' AS \"x\ty\", NULL AS n, 2 AS i"
	r := mustRun(t, runOpts{}, "query", "--sandbox", "--format", "tsv", q)
	if r.stdout != "x\\ty\tn\ti\na\\tb\t\t2\n" {
		t.Errorf("tsv: %q", r.stdout)
	}
	r = mustRun(t, runOpts{stdin: ".mode tabs\n.headers off\n" + q + ";\n"}, "shell", "--sandbox")
	if r.stdout != "a\\tb\t\t2\n" {
		t.Errorf("shell tsv without headers: %q", r.stdout)
	}
	r = mustRun(t, runOpts{}, "query", "--sandbox", "--format", "markdown", "--no-headers", q)
	if r.stdout != "| a\\tb | NULL | 2 |\n" {
		t.Errorf("markdown without headers: %q", r.stdout)
	}
	r = mustRun(t, runOpts{stdin: ".mode markdown\n.headers off\n" + q + ";\n"}, "shell", "--sandbox")
	if r.stdout != "| a\\tb | NULL | 2 |\n" {
		t.Errorf("shell markdown without headers: %q", r.stdout)
	}
}

// TestExitWordsWithoutSemicolon: exit, quit and help alone on a line are
// commands, as in psql; inside a statement they are SQL.
func TestExitWordsWithoutSemicolon(t *testing.T) {
	for _, w := range []string{"exit", "quit", "QUIT;", "  exit  ", "quit;;", "exit ; -- bye", "exit /* now */", `\q`, ` \q; `, `\quit`} {
		r := mustRun(t, runOpts{stdin: "SELECT 'before';\n" + w + "\nSELECT 'after';\n"}, "shell", "--sandbox")
		if !strings.Contains(r.stdout, "before") || strings.Contains(r.stdout, "after") || r.stderr != "" {
			t.Errorf("%q: stdout %q stderr %q", w, r.stdout, r.stderr)
		}
	}
	r := mustRun(t, runOpts{stdin: "help\n"}, "shell", "--sandbox")
	if !strings.Contains(r.stdout, ".safe-updates") {
		t.Errorf("help: %q", r.stdout)
	}
	r = mustRun(t, runOpts{stdin: "SELECT 1 AS\nexit\n;\n"}, "shell", "--sandbox", "--mode", "csv")
	if r.stdout != "exit\n1\n" {
		t.Errorf("exit inside a statement: %q", r.stdout)
	}
}

// TestScriptErrorLocations: errors in piped input and in .read files say
// file:line, the line where the failing statement starts.
func TestScriptErrorLocations(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.sql")
	os.WriteFile(inc, []byte("SELECT 1;\n-- two\nSELECT *\n  FROM Nope;\n.bogus\n"), 0o600)
	stdin := "SELECT 1;\n/* a\n comment */ SELEC 2;\n\n.read " + inc + "\n.read " + filepath.Join(dir, "none.sql") + "\nSELECT 'x' AS\n  y, z;\n"
	r := run(t, runOpts{stdin: stdin}, "shell", "--sandbox")
	want := []string{
		`Error: stdin:3: SQL logic error: near "SELEC"`,
		"Error: " + inc + ":3: SQL logic error: no such table: Nope",
		"Error: " + inc + ":5: unknown command .bogus",
		"Error: stdin:6: .read: open ",
		"Error: stdin:7: SQL logic error: no such column: z",
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != ExitError || len(lines) != len(want) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want %q...", i+1, lines[i], w)
		}
	}
}

// TestEndOfInput: a last statement without ';' is run, and the shell says
// so (Ctrl-D does the same; see the pseudo-terminal test).
func TestEndOfInput(t *testing.T) {
	r := mustRun(t, runOpts{stdin: "SELECT 'first';\n-- the last one has no ';'\nSELECT\n  'last' AS x -- comment"}, "shell", "--sandbox", "--mode", "csv")
	if r.stdout != "'first'\nfirst\nx\nlast\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if r.stderr != "planner: stdin:3: the input ended in a statement without ';'; running it\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	r = mustRun(t, runOpts{stdin: "SELECT 1;\n-- nothing after\n/* closed */\n"}, "shell", "--sandbox")
	if r.stderr != "" {
		t.Errorf("a script ending in comments: stderr %q", r.stderr)
	}
	// Empty statements end nothing and leave no statement pending.
	r = mustRun(t, runOpts{stdin: ";\n ;; -- x\n.mode csv\nSELECT 'y' AS v;\n"}, "shell", "--sandbox")
	if r.stdout != "v\ny\n" || r.stderr != "" {
		t.Errorf("empty statements: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

// TestTimerOnStderr: with .output FILE, results go to the file and the
// timer line to stderr.
func TestTimerOnStderr(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.txt")
	r := mustRun(t, runOpts{stdin: ".output " + out + "\n.timer on\nSELECT 'result';\n"}, "shell", "--sandbox")
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "result") || strings.Contains(string(b), "Run Time") {
		t.Errorf("file: %q", b)
	}
	if r.stdout != "" || !strings.HasPrefix(r.stderr, "Run Time: ") {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
}

// TestCommandTags: INSERT, UPDATE and DELETE say how many rows they changed,
// as psql does, in the shell and in query; in csv the tag goes to stderr.
func TestCommandTags(t *testing.T) {
	stdin := strings.Join([]string{
		"UPDATE Tasks SET Title = 'x' WHERE TaskId = (SELECT TaskId FROM Tasks ORDER BY TaskId LIMIT 1);",
		"INSERT INTO Buckets (PlanId, Name) SELECT PlanId, 'b' FROM Plans ORDER BY PlanId LIMIT 2;",
		"INSERT INTO Buckets (PlanId, Name) SELECT PlanId, 'c' FROM Plans ORDER BY PlanId LIMIT 1 RETURNING Name;",
		"UPDATE Tasks SET Priority = 1 WHERE 0;",
		"DELETE FROM Tasks;",
		".mode csv",
		"DELETE FROM Buckets WHERE Name = 'b';",
	}, "\n")
	r := mustRun(t, runOpts{stdin: stdin}, "shell", "--sandbox")
	want := "UPDATE 1\nINSERT 0 2\n+------+\n| Name |\n+------+\n| c    |\n+------+\nINSERT 0 1\nUPDATE 0\nDELETE 48\n"
	if r.stdout != want || r.stderr != "DELETE 2\n" {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr %q", r.stdout, want, r.stderr)
	}
	r = mustRun(t, runOpts{}, "query", "--sandbox", "DELETE FROM Tasks WHERE Priority >= 0")
	if r.stdout != "DELETE 48\n" {
		t.Errorf("query: stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = mustRun(t, runOpts{}, "query", "--sandbox", "--format", "json", "INSERT INTO Buckets (PlanId, Name) SELECT PlanId, 'j' FROM Plans RETURNING Name")
	if !strings.HasPrefix(r.stdout, "[\n{\"Name\":\"j\"}") || r.stderr != "INSERT 0 4\n" {
		t.Errorf("query json: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

// TestSafeUpdates: on an account other than the sandbox, UPDATE and DELETE
// without a WHERE of their own are refused until the guard is turned off.
func TestSafeUpdates(t *testing.T) {
	srv := graphtest.NewServer(t)
	dsn := emulatorDSN(srv)
	tasks := srv.TaskCount()
	refused := []string{
		"DELETE FROM Tasks",
		"delete from Tasks -- WHERE TaskId = 'x'",
		"UPDATE Tasks SET Title = (SELECT Title FROM Tasks WHERE TaskId = 'x')",
		"WITH x AS (SELECT TaskId FROM Tasks WHERE Priority = 1) DELETE FROM Tasks",
		"\ufeffDELETE FROM Tasks", // a script saved with a byte order mark
		"with x as (select 1) delete /* WHERE */ from tasks",
		"UPDATE OR IGNORE Tasks SET Title = 'x'",
	}
	for _, q := range refused {
		r := run(t, runOpts{stdin: q + ";\n"}, "shell", "--dsn", dsn)
		if r.code != ExitError || !strings.Contains(r.stderr, "Error: stdin:1: safe updates: ") ||
			!strings.Contains(r.stderr, "without WHERE would change every row") || !strings.Contains(r.stderr, ".safe-updates off") {
			t.Errorf("shell %q: exit %d, stderr %q", q, r.code, r.stderr)
		}
		r = run(t, runOpts{}, "query", "--dsn", dsn, q)
		if r.code != ExitError || !strings.Contains(r.stderr, "planner: query: safe updates: ") || !strings.Contains(r.stderr, "--safe-updates=false") {
			t.Errorf("query %q: exit %d, stderr %q", q, r.code, r.stderr)
		}
	}
	if got := srv.TaskCount(); got != tasks {
		t.Fatalf("the guard let tasks go: %d of %d left", got, tasks)
	}
	// A WHERE of the statement's own passes, subquery or not.
	r := mustRun(t, runOpts{}, "query", "--dsn", dsn,
		"DELETE FROM Tasks WHERE TaskId IN (SELECT TaskId FROM Tasks ORDER BY TaskId LIMIT 2)")
	if r.stdout != "DELETE 2\n" {
		t.Errorf("DELETE with WHERE: %q %q", r.stdout, r.stderr)
	}
	// Turned off: the meta-command, then the flag.
	r = mustRun(t, runOpts{stdin: ".safe-updates\n.safe-updates off\n.safe-updates\nUPDATE Plans SET Title = Title;\n"}, "shell", "--dsn", dsn)
	if r.stdout != "safe-updates: on\nsafe-updates: off\nUPDATE 4\n" {
		t.Errorf("shell .safe-updates off: stdout %q stderr %q", r.stdout, r.stderr)
	}
	// The flag takes on/off as the meta-command does.
	r = mustRun(t, runOpts{stdin: "UPDATE Plans SET Title = Title;\n"}, "shell", "--dsn", dsn, "--safe-updates=off")
	if r.stdout != "UPDATE 4\n" {
		t.Errorf("shell --safe-updates=off: stdout %q stderr %q", r.stdout, r.stderr)
	}
	left := mustRun(t, runOpts{}, "query", "--dsn", dsn, "--format", "csv", "--no-headers", "SELECT count(*) FROM Tasks").stdout
	r = mustRun(t, runOpts{}, "query", "--dsn", dsn, "--safe-updates=false", "DELETE FROM Tasks")
	if r.stdout != "DELETE "+left {
		t.Errorf("query --safe-updates=false: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

// TestBooleanIsZeroOrOne: BOOLEAN columns print 0 and 1 in every mode, as
// SQLite holds them and the docs say.
func TestBooleanIsZeroOrOne(t *testing.T) {
	const q = "SELECT DISTINCT HasDescription FROM Tasks ORDER BY 1"
	for mode, want := range map[string]string{
		"csv":   "HasDescription\n0\n1\n",
		"jsonl": "{\"HasDescription\":0}\n{\"HasDescription\":1}\n",
		"line":  "HasDescription = 0\n\nHasDescription = 1\n",
	} {
		r := mustRun(t, runOpts{}, "query", "--sandbox", "--format", mode, q)
		if r.stdout != want {
			t.Errorf("%s: %q, want %q", mode, r.stdout, want)
		}
	}
	r := mustRun(t, runOpts{}, "query", "--sandbox", "SELECT IsKey FROM sys_columns WHERE TableName = 'Tasks' AND ColumnName = 'TaskId'")
	if !strings.Contains(r.stdout, "|     1 |") {
		t.Errorf("table: %q", r.stdout)
	}
}

// TestDateTimesCanonical: DATETIME values print in the one canonical form
// (UTC, seven fractional digits) in every output mode of query and the
// shell, whether the driver hands them over as time.Time (a DATETIME
// column) or as text (an expression over one, such as max() OVER ()), so a
// CSV export sorted as text is in time order.
func TestDateTimesCanonical(t *testing.T) {
	const q = "SELECT DueDateTime, max(DueDateTime) OVER () AS Latest FROM Tasks WHERE DueDateTime IS NOT NULL ORDER BY DueDateTime LIMIT 3"
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\d[T ][0-9:.]+(Z|[+-]\d\d:\d\d)?`)
	canonical := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)
	for _, mode := range []string{"table", "box", "csv", "tsv", "json", "jsonl", "markdown", "line"} {
		r := mustRun(t, runOpts{}, "query", "--sandbox", "--format", mode, q)
		found := stamp.FindAllString(r.stdout, -1)
		if len(found) != 6 {
			t.Errorf("%s: %d date-times in the output, want 6:\n%s", mode, len(found), r.stdout)
		}
		for _, s := range found {
			if !canonical.MatchString(s) {
				t.Errorf("%s: %q is not in the canonical form:\n%s", mode, s, r.stdout)
			}
		}
		sh := mustRun(t, runOpts{stdin: ".mode " + mode + "\n" + q + ";\n"}, "shell", "--sandbox")
		if sh.stdout != r.stdout {
			t.Errorf("shell .mode %s differs:\n%s\nquery:\n%s", mode, sh.stdout, r.stdout)
		}
	}
	// The demo tenant has due dates written with 1 and 3 fractional digits:
	// a CSV export sorted as text is in time order.
	r := mustRun(t, runOpts{}, "query", "--sandbox", "--format", "csv", "--no-headers",
		"SELECT DueDateTime FROM Tasks WHERE DueDateTime IS NOT NULL ORDER BY DueDateTime")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !slices.IsSorted(lines) {
		t.Errorf("due dates in time order are not in text order:\n%s", r.stdout)
	}
	if !slices.Contains(lines, "2026-11-05T09:30:00.5000000Z") {
		t.Errorf("the due date written as 09:30:00.5Z is missing or not canonical:\n%s", r.stdout)
	}
}

// TestScriptEncodings: a script saved on Windows — a byte order mark, CRLF
// line ends, no newline at the end — reads as any other, meta-commands on
// its first line included, from .read and from stdin.
func TestScriptEncodings(t *testing.T) {
	dir := t.TempDir()
	script := "\ufeff.mode csv\r\nSELECT 'a' AS x;\r\n\ufeffSELECT\r\n  'b' AS y;\r\nSELECT 'c' AS z"
	if err := os.WriteFile(filepath.Join(dir, "win.sql"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "x\na\ny\nb\nz\nc\n"
	r := mustRun(t, runOpts{dir: dir, stdin: ".read win.sql\n"}, "shell", "--sandbox")
	if r.stdout != want || r.stderr != "planner: win.sql:5: the input ended in a statement without ';'; running it\n" {
		t.Errorf(".read: stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = mustRun(t, runOpts{stdin: script}, "shell", "--sandbox")
	if r.stdout != want {
		t.Errorf("stdin: stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = mustRun(t, runOpts{stdin: "\ufeffSELECT 'd' AS w\r\n"}, "query", "--sandbox", "--format", "csv", "-")
	if r.stdout != "w\nd\n" {
		t.Errorf("query -: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

// TestMetaArguments: meta-command arguments may be quoted, a ';' ending
// the line (as SQL statements end) is ignored, .once redirects one
// statement, and psql's backslash commands are named by their equivalent.
func TestMetaArguments(t *testing.T) {
	dir := t.TempDir()
	stdin := strings.Join([]string{
		".mode 'csv';",
		".headers off;",
		".mode",
		".once 'one file.txt'",
		"SELECT 'once' AS a;",
		"SELECT 'back' AS b;",
		`.output "two ""q"".txt" ;`,
		"SELECT 'two';",
		".output;",
		".tables Plan%;",
		".nullvalue ';'",
		"SELECT NULL;",
	}, "\n")
	r := mustRun(t, runOpts{dir: dir, stdin: stdin}, "shell", "--sandbox")
	want := "current output mode: csv\nback\nPlanCategories\nPlanDetails\nPlanSharedWith\nPlans\n;\n"
	if r.stdout != want || r.stderr != "" {
		t.Errorf("stdout %q, want %q; stderr %q", r.stdout, want, r.stderr)
	}
	for name, want := range map[string]string{"one file.txt": "once\n", `two "q".txt`: "two\n"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	r = run(t, runOpts{stdin: "\\dt\n.once\n"}, "shell", "--sandbox")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != ExitError || len(lines) != 2 || !strings.Contains(lines[0], `stdin:1: unknown command \dt (this shell's commands start with '.': .tables does that here)`) ||
		!strings.Contains(lines[1], "stdin:2: .once: give a file name") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestMetaCommandArgumentErrors: a meta-command given the wrong arguments
// says what is wrong with them, and leaves the setting as it was.
func TestMetaCommandArgumentErrors(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		{".mode csv extra", ".mode: give one mode, not 2 words (.mode csv); the modes are table, box, csv"},
		{".mode 'csv json'", `.mode: format: unknown output mode "csv json"`},
		{".mode xml", `.mode: format: unknown output mode "xml"`},
		{".timer maybe", `.timer: give on or off, not "maybe"`},
		{".headers on off", ".headers: give on or off"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			r := run(t, runOpts{stdin: tt.line + "\n.mode\n"}, "shell", "--sandbox")
			if r.code != ExitError || !strings.Contains(r.stderr, "stdin:1: "+tt.want) {
				t.Errorf("exit %d, stderr %q; want %q", r.code, r.stderr, tt.want)
			}
			if r.stdout != "current output mode: table\n" {
				t.Errorf("stdout %q: the mode changed", r.stdout)
			}
		})
	}
}

// TestProfileErrorNamedOnce: an error opening a profile names it once.
func TestProfileErrorNamedOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.toml")
	r := run(t, runOpts{env: []string{"PLANNER_CONFIG=" + missing}}, "query", "--profile", "x", "SELECT 1")
	want := `planner: loading profile "x": config: the configuration file ` + missing + " (named by PLANNER_CONFIG) does not exist"
	if r.code != ExitError || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "profile") != 1 {
		t.Errorf("exit %d, stderr %q; want %q...", r.code, r.stderr, want)
	}
}
