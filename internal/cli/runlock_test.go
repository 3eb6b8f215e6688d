package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// gate serves an emulator, counts every request, and can hold the first
// request whose path contains a string until released.
type gate struct {
	h       http.Handler
	count   atomic.Int64
	mu      sync.Mutex
	match   string        // armed when not ""
	blocked chan struct{} // closed when a request is held
	release chan struct{}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.count.Add(1)
	g.mu.Lock()
	hold := g.match != "" && strings.Contains(r.URL.Path, g.match)
	var release chan struct{}
	if hold {
		g.match = ""
		close(g.blocked)
		release = g.release
	}
	g.mu.Unlock()
	if hold {
		<-release
	}
	g.h.ServeHTTP(w, r)
}

// arm holds the next request whose path contains match; blocked is closed
// when it is held, and release lets it through.
func (g *gate) arm(match string) (blocked <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.match, g.blocked, g.release = match, make(chan struct{}), make(chan struct{})
	var once sync.Once
	rel := g.release
	return g.blocked, func() { once.Do(func() { close(rel) }) }
}

// gatedEmulator serves an emulated tenant on loopback through a gate and
// returns its DSN.
func gatedEmulator(t *testing.T) (*gate, *graphtest.Server, string) {
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 7, Plans: 3, TasksPerPlan: 12}))
	g := &gate{h: srv.Handler()}
	ts := httptest.NewServer(g)
	t.Cleanup(ts.Close)
	return g, srv, fmt.Sprintf("GraphURL=%s/v1.0;OAuthAccessToken=%s;InitiateOAuth=OFF", ts.URL, srv.Token())
}

// lockScript is what the concurrent runs copy: Plans first, then Tasks,
// whose first request the gate holds (the run then holds its lock).
const lockScript = "REPLICATE Plans; REPLICATE Tasks; REPLICATE Buckets;"

// destinationURL returns a fresh destination of kind (dropped at cleanup).
func destinationURL(t *testing.T, kind, dir string) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("rl_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	switch kind {
	case "sqlite":
		return "sqlite:" + filepath.Join(dir, "dest.db")
	case "postgres":
		requireService(t, "127.0.0.1:5432", "PostgreSQL")
		admin, err := dest.Open(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(`CREATE SCHEMA "` + name + `"`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec(`DROP SCHEMA "` + name + `" CASCADE`)
			admin.Close()
		})
		return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=" + name
	case "mysql":
		requireService(t, "127.0.0.1:3306", "MariaDB")
		admin, err := dest.Open(ctx, "mysql://root@127.0.0.1:3306/test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec("CREATE DATABASE `" + name + "`"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec("DROP DATABASE `" + name + "`")
			admin.Close()
		})
		return "mysql://root@127.0.0.1:3306/" + name
	}
	t.Fatalf("kind %s", kind)
	return ""
}

// baseline is the number of Graph requests one run of lockScript makes.
func baseline(t *testing.T, g *gate, dsn string) int64 {
	t.Helper()
	g.count.Store(0)
	mustRun(t, runOpts{}, "replicate", "--dsn", dsn, "--to", "sqlite:"+filepath.Join(t.TempDir(), "base.db"), "--progress", "off", lockScript)
	n := g.count.Load()
	g.count.Store(0)
	if n == 0 {
		t.Fatal("the baseline run made no requests")
	}
	t.Logf("one run of %q: %d Graph requests", lockScript, n)
	return n
}

// runsOf reads the runs recorded in a destination.
func runsOf(t *testing.T, destURL string, f replicate.RunFilter) []replicate.RunRecord {
	t.Helper()
	h, err := dest.OpenHistory(context.Background(), destURL, replicate.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.Runs(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return l.Runs
}

// startLines starts cmd and returns a channel of the lines of its stderr
// (closed at EOF) and a function that waits for it to exit.
func startLines(t *testing.T, cmd *exec.Cmd, stream func(*exec.Cmd) (io.ReadCloser, error)) <-chan string {
	t.Helper()
	r, err := stream(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

// waitLine reads lines until one contains s; it fails the test at EOF.
func waitLine(t *testing.T, lines <-chan string, s string) string {
	t.Helper()
	var seen []string
	for l := range lines {
		if strings.Contains(l, s) {
			return l
		}
		seen = append(seen, l)
	}
	t.Fatalf("no line with %q; got:\n%s", s, strings.Join(seen, "\n"))
	return ""
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestConcurrentReplicate runs two planner replicate processes into one
// destination at once, for every destination kind: the second either is
// skipped at once (exit 3, nothing read from Graph, a skipped run
// recorded) or waits and then copies everything. Every table is copied in
// the end; request counts and run records prove it, no timing.
func TestConcurrentReplicate(t *testing.T) {
	// What the CLI adds to the recorded message: what to do next.
	const skippedHint = "; nothing was copied: run again once that run has finished, or wait longer with --lock-timeout"

	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		for _, wait := range []bool{false, true} {
			name := kind + "/skip"
			if wait {
				name = kind + "/wait"
			}
			t.Run(name, func(t *testing.T) {
				g, _, dsn := gatedEmulator(t)
				n := baseline(t, g, dsn)
				dir := t.TempDir()
				dest := destinationURL(t, kind, dir)
				args := []string{"replicate", "--dsn", dsn, "--to", dest, "--progress", "off"}

				blocked, release := g.arm("/tasks")
				defer release()
				a := newCmd(t, runOpts{dir: dir}, append(args, lockScript)...)
				var aOut strings.Builder
				a.Stdout, a.Stderr = &aOut, &aOut
				if err := a.Start(); err != nil {
					t.Fatal(err)
				}
				<-blocked // A holds its lock, reading Tasks

				timeout := "0s"
				if wait {
					timeout = "10m"
				}
				b := newCmd(t, runOpts{dir: dir}, append(args, "--lock-timeout", timeout, lockScript)...)
				var bOut strings.Builder
				b.Stdout = &bOut
				lines := startLines(t, b, (*exec.Cmd).StderrPipe)
				var bErr []string
				if wait {
					bErr = append(bErr, waitLine(t, lines, "waiting up to 10m0s"))
					release()
				}
				for l := range lines {
					bErr = append(bErr, l)
				}
				bCode := exitCode(b.Wait())
				release()
				if err := a.Wait(); err != nil {
					t.Fatalf("A: %v\n%s", err, aOut.String())
				}
				stderrB := strings.Join(bErr, "\n")
				runs := runsOf(t, dest, replicate.RunFilter{})
				if len(runs) != 2 {
					t.Fatalf("%d runs recorded, want 2: %+v", len(runs), runs)
				}
				if !wait {
					if bCode != ExitSkipped || !strings.Contains(stderrB, "skipped: run in progress since ") || !strings.Contains(stderrB, " on "+hostname(t)) {
						t.Fatalf("B: exit %d, stderr %q; want %d and the run in progress named", bCode, stderrB, ExitSkipped)
					}
					if strings.Contains(bOut.String()+stderrB, "will be copied") {
						t.Fatalf("B claims another run copies its tables:\n%s%s", bOut.String(), stderrB)
					}
					if got := g.count.Load(); got != n {
						t.Fatalf("%d Graph requests, want %d (one run: the skipped one reads nothing)", got, n)
					}
					// Newest first: B started after A.
					if runs[0].Status != replicate.StatusSkipped || runs[1].Status != replicate.StatusOK || "planner: replicate: "+runs[0].Error+skippedHint != stderrB {
						t.Fatalf("runs %+v: want B skipped (%q), A ok", runs, stderrB)
					}
				} else {
					if bCode != 0 || !strings.Contains(bOut.String(), "0 inserted, 0 updated, 0 deleted") {
						t.Fatalf("B: exit %d\n%s\n%s", bCode, bOut.String(), stderrB)
					}
					if got := g.count.Load(); got != 2*n {
						t.Fatalf("%d Graph requests, want %d (two full runs, one after the other)", got, 2*n)
					}
					for _, r := range runs {
						if r.Status != replicate.StatusOK || r.TableCount != 3 || r.FailedCount != 0 {
							t.Fatalf("run %+v: want ok with 3 tables", r)
						}
					}
				}
				// Every table was copied by a run, and recorded so.
				var ok *replicate.RunRecord
				for i := range runs {
					if runs[i].Status == replicate.StatusOK {
						ok = &runs[i]
					}
				}
				if ok == nil || ok.TableCount != 3 || ok.Inserted == 0 {
					t.Fatalf("no complete run: %+v", runs)
				}
			})
		}
	}
}

// TestConcurrentJobsRun: 'jobs run' of a job whose run is in progress
// elsewhere skips that destination, says why, and exits 3.
func TestConcurrentJobsRun(t *testing.T) {
	g, _, dsn := gatedEmulator(t)
	n := baseline(t, g, dsn)
	dir := t.TempDir()
	var graphURL, token string
	for _, kv := range strings.Split(dsn, ";") {
		if v, ok := strings.CutPrefix(kv, "GraphURL="); ok {
			graphURL = v
		}
		if v, ok := strings.CutPrefix(kv, "OAuthAccessToken="); ok {
			token = v
		}
	}
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(fmt.Sprintf("[profiles.emu]\nGraphURL = %q\nOAuthAccessToken = %q\nInitiateOAuth = \"OFF\"\n"+
		"[jobs.j]\nsource = \"emu\"\nscript = %q\n[[jobs.j.destinations]]\nurl = \"sqlite:dest.db\"\n", graphURL, token, lockScript)), 0o600)
	o := runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + config}}
	blocked, release := g.arm("/tasks")
	defer release()
	a := newCmd(t, o, "jobs", "run", "j")
	var aOut strings.Builder
	a.Stdout, a.Stderr = &aOut, &aOut
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	<-blocked
	r := run(t, o, "jobs", "run", "j", "--lock-timeout", "0")
	release()
	if err := a.Wait(); err != nil {
		t.Fatalf("A: %v\n%s", err, aOut.String())
	}
	if r.code != ExitSkipped || !strings.Contains(r.stdout, "skipped: run in progress since ") || !strings.Contains(r.stderr, "1 run was skipped") {
		t.Fatalf("B: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The skip is logged once, with the skipped run's id.
	if c := strings.Count(r.stderr, "level=WARN"); c != 1 || !regexp.MustCompile(`msg="replicate: run skipped" .* run=[0-9a-f]{28}`).MatchString(r.stderr) {
		t.Errorf("B logs the skip %d times, want once with its run id:\n%s", c, r.stderr)
	}
	if got := g.count.Load(); got != n {
		t.Fatalf("%d Graph requests, want %d", got, n)
	}
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The child process of TestServeReplicas reads its job from these.
const (
	envServeChild   = "PLANNER_TEST_SERVE_CHILD"
	envServeConfig  = "PLANNER_TEST_SERVE_CONFIG"
	envServeT0      = "PLANNER_TEST_SERVE_T0"
	envServeTimeout = "PLANNER_TEST_SERVE_LOCK_TIMEOUT"
)

// TestServeChild is a 'jobs serve' replica for TestServeReplicas: ServeJobs
// on a fake clock. It prints "ready" on stdout once the job waits for its
// slot, moves its clock to each "set TIME" line of stdin, prints a line per
// run end ("finished err=..."), logs JSON to stderr, and stops at EOF.
func TestServeChild(t *testing.T) {
	if os.Getenv(envServeChild) == "" {
		t.Skip("helper process for TestServeReplicas")
	}
	f, err := loadConfig(os.Getenv(envServeConfig))
	if err != nil {
		t.Fatal(err)
	}
	t0, err := time.Parse(time.RFC3339, os.Getenv(envServeT0))
	if err != nil {
		t.Fatal(err)
	}
	timeout, err := time.ParseDuration(os.Getenv(envServeTimeout))
	if err != nil {
		t.Fatal(err)
	}
	clock := schedule.NewFakeClock(t0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out sync.Mutex
	say := func(s string) {
		out.Lock()
		defer out.Unlock()
		fmt.Println(s)
	}
	done := make(chan error, 1)
	go func() {
		done <- ServeJobs(ctx, f, ServeOptions{Clock: clock, LockTimeout: timeout,
			Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil)),
			Retry:  schedule.RetryPolicy{MaxAttempts: 1},
			OnEvent: func(e schedule.Event) {
				if e.Kind == schedule.EventRunFinished {
					say(fmt.Sprintf("finished err=%v", e.Err))
				}
			}})
	}()
	if err := clock.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	say("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "set "); ok {
			tm, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatal(err)
			}
			clock.Set(tm)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// replica is a running TestServeChild.
type replica struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout <-chan string
	stderr <-chan string
}

func startReplica(t *testing.T, config string, t0 time.Time, lockTimeout string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$", "-test.count=1")
	cmd.Env = append(testEnv(t), envServeChild+"=1", envServeConfig+"="+config, envServeT0+"="+t0.Format(time.RFC3339),
		envServeTimeout+"="+lockTimeout)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{cmd: cmd, stdin: stdin}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.stdout = startLines(t, cmd, (*exec.Cmd).StdoutPipe)
	errLines := make(chan string, 1000)
	go func() {
		defer close(errLines)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			errLines <- sc.Text()
		}
	}()
	r.stderr = errLines
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitLine(t, r.stdout, "ready")
	return r
}

func (r *replica) set(t *testing.T, tm time.Time) {
	t.Helper()
	if _, err := fmt.Fprintf(r.stdin, "set %s\n", tm.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
}

// stop closes the replica's stdin and waits for it to exit cleanly.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	r.stdin.Close()
	for range r.stdout {
	}
	var errs []string
	for l := range r.stderr {
		errs = append(errs, l)
	}
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("replica: %v\n%s", err, strings.Join(errs, "\n"))
	}
}

// TestServeReplicas runs two 'jobs serve' processes sharing a config and a
// destination, both reaching the same slot while the first one's run is in
// progress: the second skips the slot at once (lock timeout 0) or waits and
// then finds the slot done. The slot is run once: one run's Graph requests,
// one ok run and one skipped run recorded, for every destination kind.
func TestServeReplicas(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		for _, wait := range []bool{false, true} {
			name := kind + "/skip"
			if wait {
				name = kind + "/wait"
			}
			t.Run(name, func(t *testing.T) {
				g, _, dsn := gatedEmulator(t)
				n := baseline(t, g, dsn)
				dir := t.TempDir()
				dest := destinationURL(t, kind, dir)
				var graphURL, token string
				for _, kv := range strings.Split(dsn, ";") {
					if v, ok := strings.CutPrefix(kv, "GraphURL="); ok {
						graphURL = v
					}
					if v, ok := strings.CutPrefix(kv, "OAuthAccessToken="); ok {
						token = v
					}
				}
				config := filepath.Join(dir, "config.toml")
				os.WriteFile(config, []byte(fmt.Sprintf(`
[profiles.emu]
GraphURL = %q
OAuthAccessToken = %q
InitiateOAuth = "OFF"

[jobs.j]
source = "emu"
schedule = "every 1h"
script = %q
[[jobs.j.destinations]]
url = %q
`, graphURL, token, lockScript, dest)), 0o600)
				t0 := time.Date(2026, 3, 2, 9, 59, 0, 0, time.Local)
				slot := time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)
				timeout := "-1ns" // ServeOptions: do not wait
				if wait {
					timeout = "10m"
				}
				blocked, release := g.arm("/tasks")
				defer release()
				a := startReplica(t, config, t0, "10m")
				a.set(t, slot)
				<-blocked // A runs the slot, holding the lock
				b := startReplica(t, config, t0, timeout)
				b.set(t, slot)
				if wait {
					waitLine(t, b.stderr, "waiting for the run in progress")
					release()
				}
				bLine := waitLine(t, b.stdout, "finished")
				release()
				aLine := waitLine(t, a.stdout, "finished")
				if aLine != "finished err=<nil>" || bLine != "finished err=<nil>" {
					t.Fatalf("A: %q, B: %q; want both without error (a skipped slot is not a failure)", aLine, bLine)
				}
				a.stop(t)
				b.stop(t)
				if got := g.count.Load(); got != n {
					t.Fatalf("%d Graph requests, want %d: the slot ran more than once", got, n)
				}
				runs := runsOf(t, dest, replicate.RunFilter{Job: "j"})
				if len(runs) != 2 {
					t.Fatalf("%d runs, want 2: %+v", len(runs), runs)
				}
				var ok, skipped *replicate.RunRecord
				for i := range runs {
					switch runs[i].Status {
					case replicate.StatusOK:
						ok = &runs[i]
					case replicate.StatusSkipped:
						skipped = &runs[i]
					}
					if !runs[i].Slot.Equal(slot) {
						t.Errorf("run %s slot %s, want %s", runs[i].ID, runs[i].Slot, slot)
					}
				}
				if ok == nil || skipped == nil || ok.TableCount != 3 || ok.Requests != n {
					t.Fatalf("runs %+v: want one ok run of 3 tables (%d requests) and one skipped", runs, n)
				}
				want := "skipped: run in progress since "
				if wait {
					want = "skipped: this slot was already run (ok) since "
				}
				if !strings.HasPrefix(skipped.Error, want) || !strings.Contains(skipped.Error, "run "+ok.ID) {
					t.Fatalf("skipped run's error %q, want %q... naming run %s", skipped.Error, want, ok.ID)
				}
			})
		}
	}
}
