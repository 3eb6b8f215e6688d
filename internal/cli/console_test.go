package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/internal/redact"
	"github.com/plannersql/planner/internal/schedule"
)

func TestConsoleFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	blank := filepath.Join(dir, "blank")
	os.WriteFile(blank, []byte("  \n"), 0o600)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"open address without a login", nil, []string{"console", "--addr", "0.0.0.0:0", "--config", cfg}, ExitUsage, "set a password ($PLANNER_CONSOLE_PASSWORD"},
		{"empty password file", nil, []string{"console", "--addr", "127.0.0.1:0", "--password-file", empty, "--config", cfg}, ExitUsage, "is empty"},
		{"blank password", []string{"PLANNER_CONSOLE_PASSWORD= "}, []string{"console", "--addr", "0.0.0.0:0", "--config", cfg}, ExitUsage, "password ($PLANNER_CONSOLE_PASSWORD or --password-file) is only blanks"},
		{"blank token", []string{"PLANNER_CONSOLE_TOKEN=\t"}, []string{"console", "--addr", "0.0.0.0:0", "--config", cfg}, ExitUsage, "$PLANNER_CONSOLE_TOKEN is only blanks"},
		{"blank password file", nil, []string{"console", "--addr", "0.0.0.0:0", "--password-file", blank, "--config", cfg}, ExitUsage, "only blanks"},
		{"half of TLS", nil, []string{"console", "--tls-cert", "c.pem", "--config", cfg}, ExitUsage, "both --tls-cert and --tls-key"},
		{"an argument", nil, []string{"console", "extra"}, ExitUsage, `unexpected argument "extra"`},
		// An empty --config never falls back to $PLANNER_CONFIG or the
		// default file, for the console and every jobs subcommand.
		{"empty --config", []string{"PLANNER_CONFIG=" + cfg}, []string{"console", "--config", ""}, ExitUsage, "give a file name"},
		{"empty --config=", nil, []string{"console", "--config="}, ExitUsage, "give a file name"},
		{"jobs list --config ''", []string{"PLANNER_CONFIG=" + cfg}, []string{"jobs", "list", "--config", " "}, ExitUsage, "give a file name"},
		{"jobs --config= run", nil, []string{"jobs", "--config=", "run"}, ExitUsage, "give a file name"},
		{"jobs history --config ''", nil, []string{"jobs", "history", "--config", ""}, ExitUsage, "give a file name"},
		{"help", nil, []string{"console", "--help"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, runOpts{env: tt.env}, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
	if r := mustRun(t, runOpts{}, "console", "--help"); !strings.Contains(r.stdout, "planner console [--addr 127.0.0.1:8080]") ||
		!strings.Contains(r.stdout, "console.toml") {
		t.Errorf("help:\n%s", r.stdout)
	}
	// --lock-timeout is the lock of a run into a destination (the runner of
	// 'jobs run'), not a per-table wait: the help says so, as jobs' does.
	if r := mustRun(t, runOpts{}, "console", "--help"); !strings.Contains(r.stdout, "wait this long for another run of a job into the same destination, then skip this run") {
		t.Errorf("help does not describe --lock-timeout as the destination's run lock:\n%s", r.stdout)
	}
	if r := mustRun(t, runOpts{}, "help"); !strings.Contains(r.stdout, "console ") {
		t.Errorf("the main help does not list console:\n%s", r.stdout)
	}
}

// TestConsoleServes starts 'planner console' as a user would: the link it
// prints logs in; the scheduler serves the config's jobs; a signal stops
// it.
func TestConsoleServes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	// A sandbox job may run every minute, as with 'planner jobs serve'.
	os.WriteFile(cfg, []byte("[jobs.j]\nsource = \"sandbox\"\nschedule = \"every 1m\"\nscript = \"REPLICATE Plans;\"\n[[jobs.j.destinations]]\nurl = \"sqlite:x.db\"\n"), 0o600)
	cmd := newCmd(t, runOpts{dir: dir}, "console", "--addr", "127.0.0.1:0", "--config", cfg)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// stderr is read line by line until the console has printed its login
	// link and the scheduler has logged the job: a signal sent earlier
	// could stop the console before the scheduler starts. The rest is
	// read until the process ends.
	sc := bufio.NewScanner(stderr)
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/login\?token=[0-9a-f]{48}`)
	const scheduled = `msg="job scheduled" job=j schedule="every 1m"`
	var lines []string
	login, jobSeen := "", false
	for (login == "" || !jobSeen) && sc.Scan() {
		lines = append(lines, sc.Text())
		if login == "" {
			login = link.FindString(sc.Text())
		}
		jobSeen = jobSeen || strings.Contains(sc.Text(), scheduled)
	}
	if login == "" || !jobSeen {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no login link and job scheduled line:\n%s", strings.Join(lines, "\n"))
	}
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		rest <- b.String()
	}()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	res, err := hc.Get(login)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `data-job="j"`) || res.Request.URL.RawQuery != "" {
		t.Errorf("after the login link: %d at %s", res.StatusCode, res.Request.URL)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	all := strings.Join(lines, "\n") + "\n" + <-rest
	if err != nil {
		t.Fatalf("console: %v\n%s", err, all)
	}
	for _, want := range []string{scheduled, "console stopped"} {
		if !strings.Contains(all, want) {
			t.Errorf("stderr lacks %q:\n%s", want, all)
		}
	}
}

// consoleProc is a 'planner console' process serving a config file, with
// a fixed token for its API.
type consoleProc struct {
	t     *testing.T
	base  string
	token string
	cmd   *exec.Cmd
	logs  chan string
	once  sync.Once
	log   string
}

// startConsoleProc starts 'planner console' on a free loopback port.
func startConsoleProc(t *testing.T, o runOpts, cfg string, args ...string) *consoleProc {
	t.Helper()
	token := "test-token-" + rand.Text()
	o.env = append(o.env, "PLANNER_CONSOLE_TOKEN="+token)
	cmd := newCmd(t, o, append([]string{"console", "--addr", "127.0.0.1:0", "--config", cfg}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &consoleProc{t: t, token: token, cmd: cmd, logs: make(chan string, 1)}
	sc := bufio.NewScanner(stderr)
	serving := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)/`)
	var lines []string
	for p.base == "" && sc.Scan() {
		lines = append(lines, sc.Text())
		if m := serving.FindStringSubmatch(sc.Text()); m != nil {
			p.base = m[1]
		}
	}
	if p.base == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("planner console did not start:\n%s", strings.Join(lines, "\n"))
	}
	go func() {
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		p.logs <- strings.Join(lines, "\n") + "\n" + b.String()
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop interrupts the console and returns its log (stderr).
func (p *consoleProc) stop() string {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGINT)
		p.log = <-p.logs // stderr ends when the process does
		p.cmd.Wait()
	})
	return p.log
}

// call sends an API request with the token; it returns the status and
// the decoded JSON answer.
func (p *consoleProc) call(method, path string, body any) (int, map[string]any) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+p.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		p.t.Fatalf("%s %s: %d, not JSON: %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode, out
}

// runJob runs a job from the console's API and waits for its end.
func (p *consoleProc) runJob(job string) map[string]any {
	p.t.Helper()
	st, r := p.call("POST", "/api/jobs/"+job+"/run", nil)
	if st != http.StatusAccepted {
		p.t.Fatalf("run %s: %d %v", job, st, r)
	}
	for {
		st, d := p.call("GET", "/api/runs/"+r["id"].(string)+"?wait=30", nil)
		if st != http.StatusOK {
			p.t.Fatalf("run %s: %d %v", job, st, d)
		}
		if d["finished"] != nil {
			return d
		}
	}
}

// TestConsoleRunsTheJobsRunner: the console runs jobs through the jobs
// runner of 'planner jobs run' — one source connection per run, passed to
// replicate as Options.Requests — so its runs count their Graph requests
// (at the floor of reading the tenant once, recorded in the destination)
// and the tenant guard refuses a second tenant's rows in the same tables.
func TestConsoleRunsTheJobsRunner(t *testing.T) {
	a := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 21, Plans: 2, TasksPerPlan: 30}))
	b := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 22, Plans: 1, TasksPerPlan: 3}))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
[profiles.a]
GraphURL = %q
OAuthAccessToken = "${A_TOKEN}"
InitiateOAuth = "OFF"

[profiles.b]
GraphURL = %q
OAuthAccessToken = "${B_TOKEN}"
InitiateOAuth = "OFF"

[jobs.a]
source = "a"
script = "REPLICATE ALL;"
[[jobs.a.destinations]]
url = "sqlite:shared.db"

[jobs.b]
source = "b"
script = "REPLICATE Plans;"
[[jobs.b.destinations]]
url = "sqlite:shared.db"
`, a.GraphURL(), b.GraphURL())), 0o600)
	p := startConsoleProc(t, runOpts{dir: dir, env: []string{"A_TOKEN=" + a.Token(), "B_TOKEN=" + b.Token()}}, cfg)

	a.ResetRequests()
	d := p.runJob("a")
	got := a.RequestCount()
	floor := readFloor(a)
	t.Logf("REPLICATE ALL of %d tasks from the console: %d requests, floor %d", a.TaskCount(), got, floor)
	if d["status"] != "ok" || d["requests"] != float64(got) || got == 0 || got > floor+floor/10 {
		t.Errorf("job a: status %v, %v requests counted, %d sent, floor %d: %v", d["status"], d["requests"], got, floor, d)
	}
	// The destination's history records the same count.
	_, h := p.call("GET", "/api/jobs/a/history", nil)
	runs, _ := h["destinations"].([]any)[0].(map[string]any)["runs"].([]any)
	if len(runs) != 1 || runs[0].(map[string]any)["requests"] != float64(got) {
		t.Errorf("the destination recorded %v, want %d requests", runs, got)
	}
	// Another tenant into the same tables, without a SourceName or prefix:
	// refused by the tenant guard, which knows the source's tenant from the
	// connection passed as Options.Requests.
	d = p.runJob("b")
	if msg, _ := d["error"].(string); d["status"] != "failed" || !strings.Contains(msg, a.TenantID()) || !strings.Contains(msg, b.TenantID()) {
		t.Errorf("job b: status %v, error %q; want the tenant guard's refusal naming both tenants", d["status"], d["error"])
	}
	if log := p.stop(); strings.Contains(log, a.Token()) || strings.Contains(log, b.Token()) {
		t.Error("a token reached the console's log")
	}
}

// hookReceiver is a webhook receiver on loopback: each POST's body.
func hookReceiver(t *testing.T) (string, <-chan map[string]any) {
	t.Helper()
	calls := make(chan map[string]any, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		calls <- m
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hook", calls
}

// TestJobsServeAlerts: 'planner jobs serve' sends the alerts set in
// console.toml beside its config file — once per failure streak, not per
// retry or failed slot — and says at start what it will send.
func TestJobsServeAlerts(t *testing.T) {
	dir := t.TempDir()
	hook, calls := hookReceiver(t)
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
[jobs.broken]
source = "sandbox"
schedule = "every 10m"
script = "REPLICATE Plans; REPLICATE Broken SELECT * FROM NoSuchTable;"
[[jobs.broken.destinations]]
url = "sqlite:%s"
`, filepath.Join(dir, "out.db"))), 0o600)

	// Without console.toml: no alerts, and the log says so.
	cmd := newCmd(t, runOpts{dir: dir}, "jobs", "serve", "--config", cfg)
	lines := startLines(t, cmd, (*exec.Cmd).StderrPipe)
	waitLine(t, lines, "alerts: none (no "+filepath.Join(dir, "console.toml")+")")
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()

	os.WriteFile(filepath.Join(dir, "console.toml"), []byte("[alerts]\nwebhook_url = \""+hook+"\"\n"), 0o600)
	cmd = newCmd(t, runOpts{dir: dir}, "jobs", "serve", "--config", cfg)
	lines = startLines(t, cmd, (*exec.Cmd).StderrPipe)
	waitLine(t, lines, "alerts: on failure: webhook")
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()

	// The scheduler in process, on a fake clock, with the alerts of
	// 'jobs serve': a failed slot, its retry, the next failed slot.
	f, err := loadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{io: IO{Stderr: io.Discard}, secrets: &redact.Set{}}
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
	alerts := a.serveAlerts(cfg, logger)
	t0 := time.Date(2026, 3, 2, 9, 5, 0, 0, time.Local)
	clock := schedule.NewFakeClock(t0)
	events := make(chan schedule.Event, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- ServeJobs(ctx, f, ServeOptions{Clock: clock, Logger: logger, OnEvent: func(e schedule.Event) { events <- e },
			Retry: schedule.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Minute}, RunEnded: alertRunEnd(alerts)})
	}()
	finished := func() {
		t.Helper()
		for {
			select {
			case e := <-events:
				if e.Kind == schedule.EventRunFinished {
					alerts.Wait()
					return
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no run finished")
			}
		}
	}
	for _, at := range []time.Time{t0.Add(5 * time.Minute), t0.Add(6*time.Minute + 30*time.Second), t0.Add(15 * time.Minute), t0.Add(16*time.Minute + 30*time.Second)} {
		if err := clock.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clock.Set(at)
		finished()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []any
	for len(calls) > 0 {
		c := <-calls
		got = append(got, c["event"])
		if c["event"] == "failed" && (c["job"] != "broken" || !strings.Contains(fmt.Sprint(c["error"]), "NoSuchTable") ||
			!strings.HasPrefix(fmt.Sprint(c["sender"]), "planner jobs serve on ")) {
			t.Errorf("the failure alert: %v", c)
		}
	}
	if len(got) != 1 || got[0] != "failed" {
		t.Errorf("alerts %v for one failure streak (a slot, its retry, the next slot and its retry), want one", got)
	}
	if !strings.Contains(logs.String(), `msg="alert delivered" job=broken event=failed channel=webhook`) || strings.Contains(logs.String(), "/hook") {
		t.Errorf("log:\n%s", logs.String())
	}
}
