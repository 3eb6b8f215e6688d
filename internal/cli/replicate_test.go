package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/replicate/dest"
)

func TestReplicateSandboxSQLite(t *testing.T) {
	dir := t.TempDir()
	// The README's first command: no configuration, default destination.
	r := mustRun(t, runOpts{dir: dir}, "replicate", "--sandbox")
	if !strings.Contains(r.stdout, "| Tasks ") || !strings.Contains(r.stdout, "336 inserted") {
		t.Fatalf("summary:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "Graph requests") {
		t.Errorf("no request total:\n%s", r.stdout)
	}
	db := openSQLite(t, filepath.Join(dir, "planner.db"))
	if n := queryInt(t, db, "SELECT count(*) FROM Tasks"); n != 48 {
		t.Errorf("Tasks: %d rows, want 48", n)
	}
	// Twice: nothing written.
	r = mustRun(t, runOpts{dir: dir}, "replicate", "--sandbox")
	if !strings.Contains(r.stdout, "0 inserted, 0 updated, 0 deleted, 336 unchanged") {
		t.Errorf("second run wrote rows:\n%s", r.stdout)
	}
	// The shell can query the result through SQLite too (the sqlite3 CLI is optional).
	if n := queryInt(t, db, "SELECT count(*) FROM planner_replicate_history WHERE Status = 'ok'"); n != 26 {
		t.Errorf("history rows: %d, want 26", n)
	}
	// A statement, a prefix, a file.
	script := filepath.Join(dir, "s.sql")
	os.WriteFile(script, []byte("REPLICATE Plans; -- comment\nREPLICATE Open_Tasks SELECT TaskId, Title FROM Tasks WHERE PercentComplete < 100;"), 0o600)
	mustRun(t, runOpts{dir: dir}, "replicate", "--sandbox", "--to", "sqlite:other.db", "--file", script, "--prefix", "X_")
	db2 := openSQLite(t, filepath.Join(dir, "other.db"))
	if n := queryInt(t, db2, "SELECT count(*) FROM X_Plans"); n != 4 {
		t.Errorf("X_Plans: %d", n)
	}
	if n := queryInt(t, db2, "SELECT count(*) FROM Open_Tasks"); n == 0 || n >= 48 {
		t.Errorf("Open_Tasks: %d", n)
	}
	mustRun(t, runOpts{dir: dir}, "replicate", "--sandbox", "--to", "sqlite:other.db", "REPLICATE Buckets")
	if n := queryInt(t, db2, "SELECT count(*) FROM Buckets"); n != 18 {
		t.Errorf("Buckets: %d", n)
	}
}

// testServerDB replicates the sandbox into a server database twice, with
// a unique prefix, and drops what it created.
func testServerDB(t *testing.T, url, kind string) {
	prefix := fmt.Sprintf("cli%d_", time.Now().UnixNano()%1e9)
	ctx := context.Background()
	db, err := dest.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Cleanup(func() {
		for _, tb := range []string{"Groups", "Plans", "PlanDetails", "PlanCategories", "Buckets", "Tasks", "TaskDetails",
			"TaskAssignments", "TaskChecklistItems", "TaskReferences", "TaskCategories"} {
			db.Exec("DROP TABLE IF EXISTS " + quoteFor(kind, prefix+tb))
		}
	})
	r := mustRun(t, runOpts{}, "replicate", "--sandbox", "--to", url, "--prefix", prefix)
	if !strings.Contains(r.stdout, "336 inserted") {
		t.Fatalf("first run:\n%s", r.stdout)
	}
	r = mustRun(t, runOpts{}, "replicate", "--sandbox", "--to", url, "--prefix", prefix)
	if !strings.Contains(r.stdout, "0 inserted, 0 updated, 0 deleted, 336 unchanged") {
		t.Errorf("second run:\n%s", r.stdout)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + quoteFor(kind, prefix+"Tasks")).Scan(&n); err != nil || n != 48 {
		t.Errorf("Tasks: %d, %v", n, err)
	}
}

func TestReplicatePostgres(t *testing.T) {
	requireService(t, "127.0.0.1:5432", "PostgreSQL")
	testServerDB(t, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres")
}

func TestReplicateMariaDB(t *testing.T) {
	requireService(t, "127.0.0.1:3306", "MariaDB")
	testServerDB(t, "mysql://root@127.0.0.1:3306/test", "mysql")
}

// TestReplicateInterrupt sends SIGINT while a replicate against a slow
// emulator runs: the table in flight is finished, the rest skipped, the
// exit status is ExitInterrupted and the destination is consistent.
func TestReplicateInterrupt(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithLatency(15*time.Millisecond))
	dir := t.TempDir()
	cmd := newCmd(t, runOpts{dir: dir}, "replicate", "--dsn", emulatorDSN(srv), "--progress", "on")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	sc.Split(splitCRLF)
	signalled := false
	var errLines []string
	for sc.Scan() {
		line := sc.Text()
		errLines = append(errLines, line)
		if !signalled && strings.Contains(line, "Plans ") && strings.Contains(line, " copy ") {
			cmd.Process.Signal(syscall.SIGINT) // Plans in flight
			signalled = true
		}
	}
	err = cmd.Wait()
	if !signalled {
		t.Fatalf("never saw Plans being copied; stderr:\n%s", strings.Join(errLines, "\n"))
	}
	if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted {
		t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, ExitInterrupted, stdout.String(), strings.Join(errLines, "\n"))
	}
	out := stdout.String()
	if !strings.Contains(out, "| Plans ") || !strings.Contains(out, "stopped before this table") {
		t.Errorf("summary:\n%s", out)
	}
	db := openSQLite(t, filepath.Join(dir, "planner.db"))
	if n := queryInt(t, db, "SELECT count(*) FROM Plans"); n != 4 {
		t.Errorf("the table in flight was not finished: Plans has %d rows", n)
	}
	ok := queryInt(t, db, "SELECT count(*) FROM planner_replicate_history WHERE Status = 'ok'")
	tables := queryInt(t, db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'planner_%'")
	if ok != tables || ok >= 11 {
		t.Errorf("%d tables, %d ok history rows (of 11)", tables, ok)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM sqlite_master WHERE name = 'TaskCategories'"); n != 0 {
		t.Errorf("the last table was copied despite the stop")
	}
}

// TestReplicateInterruptLastTable: SIGINT while the script's last table is
// copied finishes it and skips nothing, so the message does not say to run
// again for skipped tables; the exit status is still ExitInterrupted.
func TestReplicateInterruptLastTable(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithLatency(15*time.Millisecond))
	dir := t.TempDir()
	cmd := newCmd(t, runOpts{dir: dir}, "replicate", "--dsn", emulatorDSN(srv), "--progress", "on", "REPLICATE Plans; REPLICATE Buckets;")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	sc.Split(splitCRLF)
	signalled := false
	var errLines []string
	for sc.Scan() {
		line := sc.Text()
		errLines = append(errLines, line)
		if !signalled && strings.Contains(line, "Buckets ") && strings.Contains(line, " copy ") {
			cmd.Process.Signal(syscall.SIGINT) // the last table in flight
			signalled = true
		}
	}
	cmd.Wait()
	if !signalled {
		t.Fatalf("never saw Buckets being copied; stderr:\n%s", strings.Join(errLines, "\n"))
	}
	stderrText := strings.Join(errLines, "\n")
	if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitInterrupted, stdout.String(), stderrText)
	}
	if want := "planner: replicate: interrupted, but no table was left to skip: the last one was finished"; !strings.Contains(stderrText, want) || strings.Contains(stderrText, "run again") {
		t.Errorf("stderr:\n%s\nwant %q and no 'run again'", stderrText, want)
	}
	db := openSQLite(t, filepath.Join(dir, "planner.db"))
	if n := queryInt(t, db, "SELECT count(*) FROM Buckets"); n != 18 {
		t.Errorf("the last table was not finished: Buckets has %d rows", n)
	}
}

// quoteFor quotes an identifier for a destination kind.
func quoteFor(kind, name string) string {
	if kind == "mysql" {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// splitCRLF splits progress output on \r or \n.
func splitCRLF(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		if b == '\r' || b == '\n' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func TestSandboxServe(t *testing.T) {
	cmd := newCmd(t, runOpts{}, "sandbox", "serve", "--addr", "127.0.0.1:0", "--plans", "3", "--tasks-per-plan", "7", "--seed", "5",
		"--throttle", "every=3,retry-after=0,match=/tasks")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	dsn := ""
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "DSN="); ok {
			dsn = v
			break
		}
	}
	if dsn == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("no DSN printed")
	}
	r := mustRun(t, runOpts{}, "query", "--dsn", dsn, "--format", "csv", "--no-headers", "SELECT count(*) FROM Tasks")
	if strings.TrimSpace(r.stdout) != "21" {
		t.Errorf("tasks through the served emulator: %q", r.stdout)
	}
	// The served emulator throttles every third /tasks request: replication
	// still copies everything, and the summary says the service throttled it.
	dst := "sqlite:" + filepath.Join(t.TempDir(), "throttled.db")
	r = mustRun(t, runOpts{}, "replicate", "--dsn", dsn, "--to", dst, "--progress", "off", "REPLICATE Tasks;")
	if !strings.Contains(r.stdout, "21 inserted") || !strings.Contains(r.stdout, "throttled by the service and retried") {
		t.Errorf("replicate through a throttling emulator:\n%s", r.stdout)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("sandbox serve did not exit 0 on SIGINT: %v", err)
	}
}

// TestSandboxServeHelpExample runs the background example of 'sandbox serve
// --help' as written: serve with --dsn-file, a shell on the DSN, stop.
func TestSandboxServeHelpExample(t *testing.T) {
	help := mustRun(t, runOpts{}, "sandbox", "serve", "--help").stdout
	start := strings.Index(help, "  # In the background")
	end := strings.Index(help, "&& wait\n")
	if start < 0 || end < start {
		t.Fatalf("no background example in the help:\n%s", help)
	}
	var script []string
	for _, l := range strings.Split(help[start:end+len("&& wait")], "\n") {
		script = append(script, strings.TrimPrefix(l, "  "))
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", strings.Join(script, "\n"))
	cmd.Dir = dir
	cmd.Env = testEnv(t)
	for i, e := range cmd.Env {
		if p, ok := strings.CutPrefix(e, "PATH="); ok {
			cmd.Env[i] = "PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + p
		}
	}
	cmd.Stdin = strings.NewReader("SELECT count(*) AS n FROM Tasks;\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("the example failed: %v\nscript:\n%s\nstdout:\n%s\nstderr:\n%s", err, strings.Join(script, "\n"), out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "| 48 |") {
		t.Errorf("the shell in the example did not read the served tenant:\n%s\n%s", out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "sandbox.dsn")); !os.IsNotExist(err) {
		t.Errorf("sandbox.dsn left behind after serve stopped: %v", err)
	}
}

// TestReplicateSummaryCountsThrottledBatchItems: items of a $batch answered
// 429 or 503 (the $batch itself answered 200) are throttling like a
// request's 429, and the summary says so — with or without Retry-After,
// claiming a Retry-After only when one was sent.
func TestReplicateSummaryCountsThrottledBatchItems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(*graphtest.Server)
		want   string
	}{
		{"429 with Retry-After", func(s *graphtest.Server) {
			s.Throttle(graphtest.Throttle{Match: "/details", EveryN: 4, Count: 3, RetryAfter: "0"})
		}, "(3 throttled by the service and retried after its Retry-After)"},
		{"503 without Retry-After", func(s *graphtest.Server) {
			s.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 503, Match: "/details", EveryN: 4, Count: 2})
		}, "(2 throttled by the service and retried after a backoff: no Retry-After was sent)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 5, Plans: 1, TasksPerPlan: 12}))
			tc.inject(srv)
			r := mustRun(t, runOpts{}, "replicate", "--dsn", emulatorDSN(srv), "--to", "sqlite:"+filepath.Join(t.TempDir(), "d.db"),
				"--progress", "off", "REPLICATE TaskDetails")
			if !strings.Contains(r.stdout, tc.want) {
				t.Fatalf("the summary does not say %q:\n%s", tc.want, r.stdout)
			}
		})
	}
}
