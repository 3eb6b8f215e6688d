package cli

import (
	"github.com/plannersql/planner/internal/testkit"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSourceSignInErrorShown: when the source cannot sign in, REPLICATE ALL
// (and TABLES) report the sign-in error, as REPLICATE Tasks does — not a
// guess that the source has no catalog — in the summary, the command's
// error, jobs run and the run history, and every line names the statement
// (never an empty table) once.
func TestSourceSignInErrorShown(t *testing.T) {
	t.Parallel()
	const secret = "hunter2secret"
	refused := testkit.RefusedPort(t)
	dsn := "AuthScheme=AzureServicePrincipal;Tenant=contoso.onmicrosoft.com;OAuthClientId=66666666-7777-8888-9999-000000000000;" +
		"OAuthClientSecret=" + secret + ";AuthorityURL=http://127.0.0.1:" + refused + ";GraphURL=http://127.0.0.1:" + refused + "/v1.0"
	dir := t.TempDir()
	bad := []string{"sys_tables", "is not SQLite", "; : ", "|       |", "replicate: replicate:", "replicate: table", secret}
	check := func(t *testing.T, what, out string, want ...string) {
		t.Helper()
		for _, w := range append(want, "connection refused") {
			if !strings.Contains(out, w) {
				t.Errorf("%s does not say %q:\n%s", what, w, out)
			}
		}
		for _, b := range bad {
			if strings.Contains(out, b) {
				t.Errorf("%s says %q:\n%s", what, b, out)
			}
		}
	}
	for _, script := range []string{"REPLICATE ALL;", "REPLICATE TABLES (Tasks, Plans);", "REPLICATE Tasks;"} {
		label := strings.TrimSuffix(strings.TrimPrefix(script, "REPLICATE "), ";")
		if !strings.HasPrefix(label, "Tasks") {
			label = strings.TrimSuffix(script, ";")
		}
		r := run(t, runOpts{dir: dir}, "replicate", "--dsn", dsn, "--progress", "off", "--to", "sqlite:x.db", script)
		if r.code != 1 {
			t.Fatalf("%s: exit %d\n%s%s", script, r.code, r.stdout, r.stderr)
		}
		check(t, script+": stdout", r.stdout, "| "+label+" ", "connect to the source")
		check(t, script+": stderr", r.stderr, "1 of 1 tables failed; "+label+": connect to the source: ")
	}

	// The same through a job, and its history.
	cfg := `
[profiles.svc]
AuthScheme = "AzureServicePrincipal"
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "66666666-7777-8888-9999-000000000000"
OAuthClientSecret = "` + secret + `"
AuthorityURL = "http://127.0.0.1:` + refused + `"
GraphURL = "http://127.0.0.1:` + refused + `/v1.0"

[jobs.nightly]
source = "svc"
script = "REPLICATE ALL;"
[[jobs.nightly.destinations]]
url = "sqlite:job.db"
`
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, runOpts{dir: dir}, "jobs", "run", "nightly", "--config", path)
	if r.code != 1 {
		t.Fatalf("jobs run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	check(t, "jobs run stdout", r.stdout, "| REPLICATE ALL ")
	check(t, "jobs run stderr", r.stderr, "REPLICATE ALL: connect to the source: ")
	r = mustRun(t, runOpts{dir: dir}, "jobs", "history", "nightly", "--config", path)
	check(t, "jobs history", r.stdout, "1 of 1 tables failed; REPLICATE ALL: connect to the source: ")
	id := regexp.MustCompile(`[0-9a-f]{28}`).FindString(r.stdout)
	r = mustRun(t, runOpts{dir: dir}, "jobs", "history", "nightly", "--config", path, "--run", id)
	check(t, "jobs history --run", r.stdout, "\n1 table: 0 inserted", "| REPLICATE ALL | failed ", "| connect to the source: ")
}

// TestJobsRunLogsEachFailureOnce: a failed table is logged once (by the
// run, with the job and destination), the count is in good English, and a
// table without a source name carries no empty source attribute.
func TestJobsRunLogsEachFailureOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	cfg := `[jobs.d]
source = "sandbox"
script = "REPLICATE Plans; REPLICATE Bad SELECT * FROM Nope;"
[[jobs.d.destinations]]
url = "sqlite:d.db"
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		r := run(t, runOpts{dir: dir}, "jobs", "run", "d", "--config", path, "--log-format", format)
		if r.code != ExitError {
			t.Fatalf("%s: exit %d\n%s%s", format, r.code, r.stdout, r.stderr)
		}
		var failed []string
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.Contains(l, "ERROR") && strings.Contains(l, "Bad") {
				failed = append(failed, l)
			}
		}
		if len(failed) != 1 {
			t.Errorf("%s: the failure is logged %d times:\n%s", format, len(failed), r.stderr)
		}
		for _, bad := range []string{`source=""`, `"source":""`, "1 failures"} {
			if strings.Contains(r.stderr, bad) {
				t.Errorf("%s: stderr says %q:\n%s", format, bad, r.stderr)
			}
		}
		if !strings.Contains(r.stderr, "job d: 1 failure; first: sqlite:d.db: Bad: query the source: ") {
			t.Errorf("%s: stderr lacks the failure:\n%s", format, r.stderr)
		}
	}
}
