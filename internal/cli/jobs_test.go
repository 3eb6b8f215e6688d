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
