package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jobTable is a config file whose jobs cover each way a job can be judged:
// runnable ones (a profile's, the sandbox spelt SANDBOX, a profile named
// in another case, one run on demand, a sandbox profile's every minute) and each problem (a schedule too
// frequent for a tenant, one that does not parse, an unset variable in the
// job or in its source profile, a script that does not parse, a destination
// URL of no accepted form).
const jobTable = `[profiles.demo]
Sandbox = true

[profiles.tenant]
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "11111111-2222-3333-4444-555555555555"

[profiles.broken]
OAuthClientId = "${PLANNER_TEST_UNSET_CLIENT}"

[jobs.ok]
source = "demo"
schedule = "every 15m"
script = "REPLICATE Plans;"
[[jobs.ok.destinations]]
url = "sqlite:ok.db"

[jobs.upper_sandbox]
source = "SANDBOX"
schedule = "every 1m"
script = "REPLICATE Plans;"
[[jobs.upper_sandbox.destinations]]
url = "sqlite:upper.db"

[jobs.folded_profile]
source = "DEMO"
schedule = "every 30m"
script = "REPLICATE Plans;"
[[jobs.folded_profile.destinations]]
url = "sqlite:folded.db"

[jobs.manual]
source = "sandbox"
script = "REPLICATE Plans;"
[[jobs.manual.destinations]]
url = "sqlite:manual.db"

[jobs.sandbox_profile_fast]
source = "demo"
schedule = "every 1m"
script = "REPLICATE Plans;"
[[jobs.sandbox_profile_fast.destinations]]
url = "sqlite:fast.db"

[jobs.too_often]
source = "tenant"
schedule = "every 1m"
script = "REPLICATE Plans;"
[[jobs.too_often.destinations]]
url = "sqlite:often.db"

[jobs.bad_schedule]
source = "sandbox"
schedule = "every fortnight"
script = "REPLICATE Plans;"
[[jobs.bad_schedule.destinations]]
url = "sqlite:fortnight.db"

[jobs.unset_var]
source = "sandbox"
schedule = "${PLANNER_TEST_UNSET_SCHEDULE}"
script = "REPLICATE Plans;"
[[jobs.unset_var.destinations]]
url = "sqlite:unset.db"

[jobs.broken_source]
source = "broken"
script = "REPLICATE Plans;"
[[jobs.broken_source.destinations]]
url = "sqlite:broken.db"

[jobs.bad_script]
source = "sandbox"
script = "REPLICATE Plans WITH Bogus;"
[[jobs.bad_script.destinations]]
url = "sqlite:script.db"

[jobs.bad_url]
source = "sandbox"
script = "REPLICATE Plans;"
[[jobs.bad_url.destinations]]
url = "postgres://u:SECRETpw%zz@127.0.0.1:1/db"
`

// TestJobJudgementsAgree: 'planner jobs list' and the console (its API, as
// 'planner console' serves it) judge every job of a table the same way —
// the same jobs runnable, the same problem for each of the others — and the
// console's schedule preview applies the sandbox's rule to SANDBOX as the
// config file does.
func TestJobJudgementsAgree(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(jobTable), 0o600); err != nil {
		t.Fatal(err)
	}
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path}}
	wantInvalid := []string{"too_often", "bad_schedule", "unset_var", "broken_source", "bad_script", "bad_url"}

	// The CLI: one problem line per invalid job on stderr.
	r := run(t, o, "jobs", "list")
	cli := map[string]string{}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	// Last, once, what to do about the unset variables.
	if hint := lines[len(lines)-1]; !strings.HasPrefix(hint, "planner: set PLANNER_TEST_UNSET_") || !strings.Contains(hint, "in the environment planner runs in") {
		t.Errorf("jobs list: last line %q, want what to do about the unset variables", hint)
	} else {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		problem, ok := strings.CutPrefix(line, "planner: jobs list: job ")
		if !ok {
			t.Fatalf("jobs list: unexpected line %q", line)
		}
		name, _, _ := strings.Cut(problem, " ")
		cli[name] = "job " + problem
	}
	if r.code != ExitError || len(cli) != len(wantInvalid) {
		t.Errorf("jobs list: exit %d, problems of %d jobs, want %d:\n%s", r.code, len(cli), len(wantInvalid), r.stderr)
	}
	for _, n := range wantInvalid {
		if cli[n] == "" {
			t.Errorf("jobs list finds nothing wrong with %s", n)
		}
	}

	// The console: each job's error, before the advice it adds.
	p := startConsoleProc(t, o, path)
	st, body := p.call("GET", "/api/jobs", nil)
	if st != http.StatusOK {
		t.Fatalf("GET /api/jobs: %d %v", st, body)
	}
	jobs, _ := body["jobs"].([]any)
	if len(jobs) != 11 {
		t.Fatalf("the console lists %d jobs, want 11", len(jobs))
	}
	for _, x := range jobs {
		j, _ := x.(map[string]any)
		name, _ := j["name"].(string)
		msg, _ := j["error"].(string)
		problem, _, _ := strings.Cut(msg, " — ")
		if problem != cli[name] {
			t.Errorf("job %s:\nconsole:   %q\njobs list: %q", name, problem, cli[name])
		}
		if invalid := j["status"] == "invalid"; invalid != (cli[name] != "") {
			t.Errorf("job %s: console status %v, jobs list problem %q", name, j["status"], cli[name])
		}
	}
	for _, c := range []struct {
		source string
		ok     bool
	}{{"SANDBOX", true}, {"sandbox", true}, {"demo", true}, {"Demo", true}, {"tenant", false}, {"TENANT", false}} {
		st, body := p.call("GET", "/api/schedule?schedule=every+1m&source="+c.source, nil)
		if st != http.StatusOK || body["ok"] != c.ok {
			t.Errorf("every 1m for source %s: %d %v, want ok %v", c.source, st, body, c.ok)
		}
	}
}
