package cli

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/schedule"
)

// writeJobsConfig writes a config with an emulator profile (its token from
// the environment) and jobs: two accounts into one database (by SourceName
// and by prefix) and one account into two databases (one with a schema).
func writeJobsConfig(t *testing.T, dir string, srv *graphtest.Server) string {
	t.Helper()
	cfg := fmt.Sprintf(`
[profiles.emu]
GraphURL = %q
OAuthAccessToken = "${EMU_TOKEN}"
InitiateOAuth = "OFF"

# Two accounts, one table per entity, told apart by SourceName.
[jobs.shared_sandbox]
source = "sandbox"
schedule = "every 1h"
script = "REPLICATE Tasks; REPLICATE Plans;"
[[jobs.shared_sandbox.destinations]]
url = "sqlite:shared.db"
source_name = "sandbox"

[jobs.shared_emu]
source = "emu"
schedule = "every 1h"
script_file = "emu.sql"
[[jobs.shared_emu.destinations]]
url = "sqlite:shared.db"
source_name = "emu"
# ... and the same account again under a prefix.
[[jobs.shared_emu.destinations]]
url = "sqlite:shared.db"
prefix = "EMU_"

# One account into two databases.
[jobs.fanout]
source = "emu"
script = "REPLICATE ALL EXCLUDE TABLES (TaskDetails);"
[[jobs.fanout.destinations]]
url = "sqlite:one.db"
[[jobs.fanout.destinations]]
url = "sqlite:two.db"
schema = "prod"
`, srv.GraphURL())
	os.WriteFile(filepath.Join(dir, "emu.sql"), []byte("REPLICATE Tasks;\nREPLICATE Plans;\n"), 0o600)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJobsRunListHistory(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 3, Plans: 2, TasksPerPlan: 9}))
	dir := t.TempDir()
	path := writeJobsConfig(t, dir, srv)
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path, "EMU_TOKEN=" + srv.Token()}}

	r := mustRun(t, o, "jobs", "list")
	for _, w := range []string{"shared_sandbox", "every 1h", "manual (jobs run)", "sqlite:two.db (schema prod)", "SourceName emu"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("jobs list lacks %q:\n%s", w, r.stdout)
		}
	}
	r = mustRun(t, o, "jobs", "run")
	if strings.Contains(r.stdout, srv.Token()) || strings.Contains(r.stderr, srv.Token()) {
		t.Error("the token was printed")
	}
	if !regexp.MustCompile(`; [1-9][0-9]* Graph requests`).MatchString(r.stdout) {
		t.Errorf("jobs run summaries do not count the Graph requests:\n%s", r.stdout)
	}
	shared := openSQLite(t, filepath.Join(dir, "shared.db"))
	emuTasks := srv.TaskCount()
	checks := []struct {
		q    string
		want int
	}{
		{"SELECT count(*) FROM Tasks WHERE SourceName = 'sandbox'", 48},
		{"SELECT count(*) FROM Tasks WHERE SourceName = 'emu'", emuTasks},
		{"SELECT count(*) FROM Plans WHERE SourceName = 'emu'", 2},
		{"SELECT count(*) FROM EMU_Tasks", emuTasks},
	}
	for _, c := range checks {
		if n := queryInt(t, shared, c.q); n != c.want {
			t.Errorf("%s: %d, want %d", c.q, n, c.want)
		}
	}
	one := openSQLite(t, filepath.Join(dir, "one.db"))
	if n := queryInt(t, one, "SELECT count(*) FROM Tasks"); n != emuTasks {
		t.Errorf("one.db Tasks: %d, want %d", n, emuTasks)
	}
	two := openSQLite(t, filepath.Join(dir, "two.prod.db"))
	if n := queryInt(t, two, "SELECT count(*) FROM Tasks"); n != emuTasks {
		t.Errorf("two.db prod.Tasks: %d, want %d", n, emuTasks)
	}
	// Again, one job by name: nothing changes.
	r = mustRun(t, o, "jobs", "run", "shared_emu")
	if !strings.Contains(r.stdout, fmt.Sprintf("0 inserted, 0 updated, 0 deleted, %d unchanged", emuTasks+2)) {
		t.Errorf("second run:\n%s", r.stdout)
	}
	r = mustRun(t, o, "jobs", "history", "shared_emu")
	if got := strings.Count(r.stdout, "| shared_emu "); got != 4 { // 2 runs × 2 destinations
		t.Errorf("history has %d rows, want 4:\n%s", got, r.stdout)
	}
	for _, w := range []string{"| sqlite:shared.db (SourceName emu) ", "| sqlite:shared.db (prefix EMU_) ", "| ok "} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("history lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "sandbox") {
		t.Errorf("history of shared_emu shows the other account's runs:\n%s", r.stdout)
	}
	// One run: its tables and log.
	id := regexp.MustCompile(`\| sqlite:shared.db \(prefix EMU_\) +\| ([0-9a-f]{28}) `).FindStringSubmatch(r.stdout)
	if id == nil {
		t.Fatalf("no run id in:\n%s", r.stdout)
	}
	r = mustRun(t, o, "jobs", "history", "shared_emu", "--run", id[1])
	for _, w := range []string{"run " + id[1] + ": job shared_emu → sqlite:shared.db (prefix EMU_)", "| EMU_Tasks ", "| EMU_Plans ", "log:\n", "replicate table ok"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("run %s lacks %q:\n%s", id[1], w, r.stdout)
		}
	}
	if r := run(t, o, "jobs", "history", "fanout", "--run", id[1]); r.code != ExitError || !strings.Contains(r.stderr, "no run "+id[1]+" in the destinations of job fanout") {
		t.Errorf("a run of another job: exit %d, %q", r.code, r.stderr)
	}
	r = mustRun(t, o, "jobs", "run", "fanout")
	r = mustRun(t, o, "jobs", "history", "fanout", "--limit", "1")
	if strings.Count(r.stdout, "| fanout ") != 2 {
		t.Errorf("fanout history, 1 per destination:\n%s", r.stdout)
	}
	r = mustRun(t, o, "jobs", "history", "fanout", "--limit", "5", "--offset", "1")
	if strings.Count(r.stdout, "| fanout ") != 2 {
		t.Errorf("fanout history, the older run of each destination:\n%s", r.stdout)
	}
	// Unknown job.
	r = run(t, o, "jobs", "run", "nope")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "nope") {
		t.Errorf("unknown job: exit %d, %q", r.code, r.stderr)
	}
}

// TestServeJobs drives the scheduler in process with a fake clock: a job
// runs at its slot, a failing job is retried with backoff, and cancelling
// the context stops the serve loop.
func TestServeJobs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	src := fmt.Sprintf(`
[jobs.good]
source = "sandbox"
schedule = "every 10m"
script = "REPLICATE Plans;"
[[jobs.good.destinations]]
url = "sqlite:%s"

[jobs.bad]
source = "sandbox"
schedule = "every 1 hour"
script = "REPLICATE Plans;"
[[jobs.bad.destinations]]
url = "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"

[jobs.manual]
source = "sandbox"
script = "REPLICATE Plans;"
[[jobs.manual.destinations]]
url = "sqlite:%s"
`, good, good)
	f, err := config.Parse(filepath.Join(dir, "config.toml"), src, config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 30, 0, time.Local)
	clock := schedule.NewFakeClock(t0)
	events := make(chan schedule.Event, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
	go func() {
		done <- ServeJobs(ctx, f, ServeOptions{Clock: clock, Logger: logger, OnEvent: func(e schedule.Event) { events <- e },
			Retry: schedule.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Minute}})
	}()
	var backlog []schedule.Event
	wait := func(kind schedule.EventKind, job string) schedule.Event {
		t.Helper()
		for i, e := range backlog {
			if e.Kind == kind && e.Job == job {
				backlog = append(backlog[:i], backlog[i+1:]...)
				return e
			}
		}
		for {
			select {
			case e := <-events:
				if e.Kind == kind && e.Job == job {
					return e
				}
				backlog = append(backlog, e)
			case err := <-done:
				t.Fatalf("serve ended early: %v", err)
			case <-time.After(20 * time.Second):
				t.Fatalf("no %v event for %s", kind, job)
			}
		}
	}
	if err := clock.BlockUntil(ctx, 2); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2026, 3, 2, 9, 10, 0, 0, time.Local)) // good's slot
	if e := wait(schedule.EventRunFinished, "good"); e.Err != nil {
		t.Fatalf("good run failed: %v", e.Err)
	}
	db := openSQLite(t, good)
	if n := queryInt(t, db, "SELECT count(*) FROM Plans"); n != 4 {
		t.Errorf("Plans: %d", n)
	}
	clock.Set(time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)) // bad's slot (and good's)
	e := wait(schedule.EventRetryScheduled, "bad")
	if e.Err == nil || !strings.Contains(e.Err.Error(), "127.0.0.1:1") {
		t.Errorf("retry event: %+v", e)
	}
	if e := wait(schedule.EventRunFinished, "good"); e.Err != nil {
		t.Fatalf("good's second run failed: %v", e.Err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if n := queryInt(t, db, "SELECT count(*) FROM planner_replicate_history"); n != 2 {
		t.Errorf("history rows: %d, want 2 (two runs of good)", n)
	}
	if !strings.Contains(logs.String(), "job has no schedule") || !strings.Contains(logs.String(), "destination failed") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// TestJobsServeSignal runs the scheduler binary and stops it with SIGTERM.
func TestJobsServeSignal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("[jobs.j]\nsource = \"sandbox\"\nschedule = \"every 1h\"\nscript = \"REPLICATE Plans;\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x.db\"\n"), 0o600)
	cmd := newCmd(t, runOpts{dir: dir}, "jobs", "serve", "--config", path, "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), `"msg":"serving jobs"`) {
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("jobs serve: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if all := strings.Join(lines, "\n"); !strings.Contains(all, `"msg":"stopped"`) {
		t.Errorf("logs:\n%s", all)
	}
}

// TestJobsInvalid: 'jobs list' lists every job, prints the problems of the
// invalid ones one per line below the table (never in a cell) and exits
// 1; 'jobs run' runs the valid jobs and never an invalid one.
func TestJobsInvalid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	cfg := `[profiles.p]
Tenant = "contoso.onmicrosoft.com"

[jobs.good]
source = "sandbox"
schedule = "every 1m"       # the sandbox may run every minute
script = "REPLICATE Plans;"
[[jobs.good.destinations]]
url = "sqlite:good.db"

[jobs.often]
source = "p"                # a tenant: every 5m is too often
schedule = "every 5m"
script = "REPLICATE Plans;"
[[jobs.often.destinations]]
url = "sqlite:often.db"

[jobs.badscript]
source = "sandbox"
script = "REPLICATE Plans WITH Bogus;"
[[jobs.badscript.destinations]]
url = "sqlite:badscript.db"

[jobs.badurl]
source = "sandbox"
script = "REPLICATE Plans;"
[[jobs.badurl.destinations]]
url = "sqlite:badurl.db"
[[jobs.badurl.destinations]]
url = "postgres://u:SECRETpw%zz@127.0.0.1:1/db"
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path}}
	r := run(t, o, "jobs", "list")
	if r.code != ExitError {
		t.Errorf("jobs list exit %d, want %d", r.code, ExitError)
	}
	for _, w := range []string{"| good ", "| often ", "| badscript ", "| badurl ", "invalid (see below)"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("jobs list lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "too often") || strings.Contains(r.stdout, "Bogus") {
		t.Errorf("error text in the table:\n%s", r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	want := []string{
		"planner: jobs list: job often (" + path + ":11): schedule: schedule \"every 5m\": schedule fires too often",
		"planner: jobs list: job badscript (" + path + ":18): script: replicate: syntax error at line 1, column 22: unknown option \"Bogus\"",
		"planner: jobs list: job badurl (" + path + ":29): destination 2: bad PostgreSQL URL postgres://u:xxxxx@127.0.0.1:1/db",
	}
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(want), r.stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("stderr line %d:\n%s\nwant a line starting\n%s", i+1, lines[i], w)
		}
	}

	r = run(t, o, "jobs", "run")
	if r.code != ExitError || !strings.Contains(r.stdout, "job good → sqlite:good.db") {
		t.Errorf("jobs run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "SECRETpw") {
		t.Errorf("a password is shown:\n%s%s", r.stdout, r.stderr)
	}
	for _, bad := range []string{"often", "badscript", "badurl"} {
		if _, err := os.Stat(filepath.Join(dir, bad+".db")); !os.IsNotExist(err) {
			t.Errorf("the invalid job %s ran (%v)", bad, err)
		}
		if !strings.Contains(r.stderr, "planner: jobs run: job "+bad+" (") || !strings.Contains(r.stderr, "the job was not run") {
			t.Errorf("jobs run does not say %s was not run:\n%s", bad, r.stderr)
		}
	}
	r = run(t, o, "jobs", "run", "often")
	if r.code != ExitError || !strings.Contains(r.stderr, "the job was not run") || r.stdout != "" {
		t.Errorf("jobs run often: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestConfigErrors: every problem of a config file on its own line with
// file:line; one that only follows from an unset or empty ${VAR} names it.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	cfg := `[profiles.prod]
Tenant = "contoso"
OAuthClientSecret = "${PROD_SECRET}"
Bogus = 1

[jobs.nightly]
source = "prod"
script = "REPLICATE ALL;"
[[jobs.nightly.destinations]]
url = "${DB_URL}"

[jobs.other]
source = "sandbox"
script = "REPLICATE ALL;"
[[jobs.other.destinations]]
url = "${EMPTY_URL}"

[jobs.third]
source = "${EMPTY_SOURCE}"
script = "REPLICATE ALL;"
[[jobs.third.destinations]]
url = "sqlite:x.db"
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, runOpts{env: []string{"EMPTY_SOURCE=", "EMPTY_URL="}}, "jobs", "list", "--config", path)
	want := []string{
		"planner: config: " + path + ":3: value of \"OAuthClientSecret\" refers to the environment variable PROD_SECRET, which is not set",
		"planner: config: " + path + ":4: unknown property \"Bogus\" in profile \"prod\"",
		"planner: config: " + path + ":10: value of \"url\" refers to the environment variable DB_URL, which is not set",
		"planner: config: " + path + ":16: destination 1 of job \"other\" has an empty url (it is made of ${EMPTY_URL}, which is empty)",
		"planner: config: " + path + ":18: job \"third\" has no source (it is made of ${EMPTY_SOURCE}, which is empty)",
		"planner: set PROD_SECRET, DB_URL in the environment planner runs in (export PROD_SECRET=...), or edit the config file so that it does not need them",
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != ExitError || len(lines) != len(want) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n%s\nwant a line starting\n%s", i+1, lines[i], w)
		}
	}
}

// TestMissingConfigSaysWhy: a missing config file is named with where its
// name came from, and that it does not exist.
func TestMissingConfigSaysWhy(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none.toml")
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"--config", []string{"jobs", "list", "--config", none}, nil,
			"planner: config: the configuration file " + none + " (given with --config) does not exist: check the path"},
		{"$PLANNER_CONFIG", []string{"jobs", "list"}, []string{"PLANNER_CONFIG=" + none},
			"planner: config: the configuration file " + none + " (named by PLANNER_CONFIG) does not exist"},
		{"default, jobs", []string{"jobs", "list"}, nil, "(the default location) does not exist: create it"},
		{"default, auth status", []string{"auth", "status"}, nil,
			"planner: auth status: the configuration file "},
		{"$PLANNER_CONFIG, auth status", []string{"auth", "status"}, []string{"PLANNER_CONFIG=" + none},
			"(named by PLANNER_CONFIG) does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, runOpts{env: tt.env}, tt.args...)
			if r.code != ExitError || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "has no profile") {
				t.Errorf("exit %d, stderr %q; want %q", r.code, r.stderr, tt.want)
			}
			if tt.name == "default, auth status" && !strings.Contains(r.stderr, "(the default location) does not exist") {
				t.Errorf("stderr %q does not say the default file is absent", r.stderr)
			}
		})
	}
}

// TestJobsServeLogsNextRun: at the default log level, 'jobs serve' says
// when each job runs next.
func TestJobsServeLogsNextRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("[jobs.j]\nsource = \"sandbox\"\nschedule = \"every 1m\"\nscript = \"REPLICATE Plans;\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x.db\"\n"), 0o600)
	cmd := newCmd(t, runOpts{dir: dir}, "jobs", "serve", "--config", path, "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var lines []string
	found := false
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), `"msg":"next run"`) {
			found = strings.Contains(sc.Text(), `"level":"INFO"`) && strings.Contains(sc.Text(), `"job":"j"`)
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("jobs serve: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if !found {
		t.Errorf("no INFO 'next run' record for job j:\n%s", strings.Join(lines, "\n"))
	}
}

// TestWritableConfigRefused: every command that reads the config file (the
// driver's profiles too) refuses one that group or others may write, and
// says how to fix it.
func TestWritableConfigRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	cfg := "[profiles.demo]\nSandbox = true\n\n[jobs.j]\nsource = \"demo\"\nscript = \"REPLICATE Plans;\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x.db\"\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o664); err != nil {
		t.Fatal(err)
	}
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path}}
	for _, args := range [][]string{{"jobs", "list"}, {"query", "--profile", "demo", "SELECT 1"}, {"auth", "status"}} {
		r := run(t, o, args...)
		if r.code == 0 || !strings.Contains(r.stderr, "refusing to read the configuration file "+path) ||
			!strings.Contains(r.stderr, "chmod go-w "+path) {
			t.Errorf("planner %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, o, "jobs", "list")
	mustRun(t, o, "query", "--profile", "demo", "SELECT 1")
}

// TestJobsServeHistoryEveryProblem: 'jobs serve' refuses to start naming
// every invalid job, and 'jobs history' names every destination it could
// not read, each on its own line — not only the first.
func TestJobsServeHistoryEveryProblem(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	// Nothing listens on port 1: each destination fails to open at once.
	cfg := `[jobs.one]
source = "sandbox"
schedule = "every 3 fortnights"
script = "REPLICATE Plans;"
[[jobs.one.destinations]]
url = "postgres://planner@127.0.0.1:1/one"

[jobs.two]
source = "sandbox"
schedule = "every 1 hour at 25:00"
script = "REPLICATE Plans;"
[[jobs.two.destinations]]
url = "postgres://planner@127.0.0.1:1/two"
[[jobs.two.destinations]]
url = "mysql://planner@127.0.0.1:1/two"
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path}}
	r := run(t, o, "jobs", "serve")
	if r.code != ExitError {
		t.Errorf("jobs serve: exit %d, want %d\n%s", r.code, ExitError, r.stderr)
	}
	for _, w := range []string{"planner: jobs serve: job one (" + path + ":1)", "planner: jobs serve: job two (" + path + ":8)"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("jobs serve does not say %q:\n%s", w, r.stderr)
		}
	}
	r = run(t, o, "jobs", "history")
	if r.code != ExitError {
		t.Errorf("jobs history: exit %d, want %d", r.code, ExitError)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.HasPrefix(l, "planner: jobs history: job ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 3 {
		t.Errorf("jobs history reports %d of the 3 destinations it could not read:\n%s", len(lines), r.stderr)
	}
}

// TestUnsetVariableStaysWithItsSection: a ${NAME} unset in this process's
// environment stops only the profile or job that refers to it. A shell on
// another profile, the other jobs and auth status of the other profiles
// work; the jobs concerned are listed as invalid and never run, each
// problem on its own line naming the variable, file and line.
func TestUnsetVariableStaysWithItsSection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	cfg := `[profiles.svc]
AuthScheme = "AzureServicePrincipal"
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "66666666-7777-8888-9999-000000000000"
OAuthClientSecret = "${SVC_SECRET_UNSET}"

[profiles.demo]
Sandbox = true

[profiles.dev]
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "11111111-2222-3333-4444-555555555555"
OAuthSettingsLocation = "tokens.json"

[jobs.cloud]
source = "svc"
schedule = "every 1h"
script = "REPLICATE Plans;"
[[jobs.cloud.destinations]]
url = "sqlite:cloud.db"

[jobs.warehouse]
source = "sandbox"
script = "REPLICATE Plans;"
[[jobs.warehouse.destinations]]
url = "postgres://replicator:${PG_PASSWORD_UNSET}@127.0.0.1:1/warehouse"

[jobs.local]
source = "demo"
script = "REPLICATE Plans;"
[[jobs.local.destinations]]
url = "sqlite:local.db"
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path}}
	mustRun(t, o, "query", "--profile", "demo", "SELECT count(*) FROM Plans")
	if r := run(t, o, "query", "--profile", "svc", "SELECT 1"); r.code != ExitError || !strings.Contains(r.stderr, path+":5: value of \"OAuthClientSecret\" refers to the environment variable SVC_SECRET_UNSET, which is not set") {
		t.Errorf("query --profile svc: exit %d\n%s", r.code, r.stderr)
	}
	mustRun(t, o, "jobs", "run", "local")

	want := []string{
		"job cloud (" + path + ":15): source: config: " + path + ":5: value of \"OAuthClientSecret\" refers to the environment variable SVC_SECRET_UNSET, which is not set",
		"job warehouse (" + path + ":22): config: " + path + ":26: value of \"url\" refers to the environment variable PG_PASSWORD_UNSET, which is not set",
	}
	r := run(t, o, "jobs", "list")
	if r.code != ExitError || !strings.Contains(r.stdout, "| local ") || strings.Count(r.stdout, "invalid (see below)") != 2 {
		t.Errorf("jobs list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, o, "jobs", "run")
	if r.code != ExitError || !strings.Contains(r.stdout, "job local → sqlite:local.db") {
		t.Errorf("jobs run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, "planner: jobs run: "+w+"; the job was not run") {
			t.Errorf("jobs run does not say\n%s\n%s", w, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cloud.db")); !os.IsNotExist(err) {
		t.Errorf("the job cloud ran (%v)", err)
	}
	// auth status shows the profiles it can, and names the one it cannot.
	r = run(t, o, "auth", "status")
	if r.code != ExitError || !strings.Contains(r.stdout, "profile:   dev") || !strings.Contains(r.stderr, "SVC_SECRET_UNSET") {
		t.Errorf("auth status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestUnsetVariableHint: an error caused by a ${NAME} that is not set ends
// with one line saying what to do — set the variables, each named once, or
// edit the file — whichever command met it; with the variables set there is
// no such line.
func TestUnsetVariableHint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	cfg := `
[profiles.svc]
AuthScheme = "AzureServicePrincipal"
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "11111111-2222-3333-4444-555555555555"
OAuthClientSecret = "${HINT_SECRET}"

[jobs.a]
source = "svc"
script = "REPLICATE Plans;"
[[jobs.a.destinations]]
url = "postgres://u:${HINT_PW}@127.0.0.1:1/db"

[jobs.b]
source = "sandbox"
script = "REPLICATE Plans;"
[[jobs.b.destinations]]
url = "postgres://u:${HINT_PW}@127.0.0.1:1/db"

[jobs.c]
source = "svc"
script = "REPLICATE Plans;"
[[jobs.c.destinations]]
url = "sqlite:c.db"
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	one := "planner: set HINT_SECRET in the environment planner runs in (export HINT_SECRET=...), or edit the config file so that it does not need it"
	tests := []struct {
		name string
		env  []string
		args []string
		want string // the last line of stderr; "" for no hint
	}{
		{"query", nil, []string{"query", "--profile", "svc", "SELECT 1"}, one},
		{"replicate", nil, []string{"replicate", "--source", "svc", "REPLICATE Plans"}, one},
		{"auth status", nil, []string{"auth", "status", "--profile", "svc"}, one},
		{"jobs list: each variable once", nil, []string{"jobs", "list"},
			"planner: set HINT_PW, HINT_SECRET in the environment planner runs in (export HINT_PW=...), or edit the config file so that it does not need them"},
		{"set", []string{"HINT_SECRET=s", "HINT_PW=p"}, []string{"jobs", "list"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, runOpts{dir: dir, env: append([]string{"PLANNER_CONFIG=" + path}, tt.env...)}, tt.args...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			switch {
			case tt.want == "" && strings.Contains(r.stderr, "in the environment planner runs in"):
				t.Errorf("a hint with the variables set:\n%s", r.stderr)
			case tt.want != "" && (r.code != ExitError || last != tt.want || strings.Count(r.stderr, "in the environment planner runs in") != 1):
				t.Errorf("exit %d, stderr:\n%s\nwant it to end with\n%s", r.code, r.stderr, tt.want)
			}
		})
	}
}
