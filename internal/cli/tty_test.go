//go:build unix

package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
)

// paneStream collects what a tmux pane prints (through pipe-pane into a
// FIFO) and lets the test wait for text without sleeping.
type paneStream struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	mark    int
	changed chan struct{}
	done    chan struct{} // closed when the pane's output ends
}

func (p *paneStream) read(f *os.File) {
	defer close(p.done)
	b := make([]byte, 4096)
	for {
		n, err := f.Read(b)
		p.mu.Lock()
		p.buf.Write(b[:n])
		p.mu.Unlock()
		select {
		case p.changed <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// expect waits until s appears after the mark, then moves the mark past it.
func (p *paneStream) expect(t *testing.T, s string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		out := p.buf.String()
		if i := strings.Index(out[p.mark:], s); i >= 0 {
			p.mark += i + len(s)
			p.mu.Unlock()
			return true
		}
		p.mu.Unlock()
		select {
		case <-p.changed:
		case <-deadline.C:
			return false
		}
	}
}

func (p *paneStream) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// paneWait bounds each wait for the pane to show something: a guard against
// a hang, never a measure of speed (it is generous for loaded machines).
const paneWait = 60 * time.Second

// pane is a shell running on a real terminal (tmux), with its output
// collected through pipe-pane.
type pane struct {
	t    *testing.T
	tm   func(args ...string)
	out  *paneStream
	hist string
}

// startPane runs planner with args in a tmux pane with a private home.
func startPane(t *testing.T, args ...string) *pane {
	t.Helper()
	return startPaneEnv(t, nil, args...)
}

// startPaneEnv is startPane with extra environment (NAME=value).
func startPaneEnv(t *testing.T, env []string, args ...string) *pane {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is not installed (CI=true)")
		}
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	fifo := filepath.Join(dir, "pane.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	hist := filepath.Join(dir, "history")
	tm := func(args ...string) {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v: %s", args, err, out)
		}
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	for _, e := range env {
		quoted = append([]string{"'" + strings.ReplaceAll(e, "'", `'\''`) + "'"}, quoted...)
	}
	shellCmd := "read _; exec env HOME=" + dir + " XDG_CONFIG_HOME=" + dir + " PLANNER_HISTORY=" + hist +
		" " + strings.Join(quoted[:len(env)], " ") + " " + binary + " " + strings.Join(quoted[len(env):], " ")
	tm("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "160", "-y", "40", "sh", "-c", shellCmd)
	t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })

	p := &paneStream{changed: make(chan struct{}, 1), done: make(chan struct{})}
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until pipe-pane's cat opens it
		if err != nil {
			close(opened)
			return
		}
		opened <- f
		p.read(f)
	}()
	tm("pipe-pane", "-t", "t", "-o", "cat > "+fifo)
	f, ok := <-opened
	if !ok {
		t.Fatal("open the pane FIFO")
	}
	t.Cleanup(func() { f.Close() })
	tm("send-keys", "-t", "t", "Enter") // starts the shell
	return &pane{t: t, tm: tm, out: p, hist: hist}
}

// must waits until the pane shows s (after what was last matched).
func (p *pane) must(s string) {
	p.t.Helper()
	if !p.out.expect(p.t, s, paneWait) {
		p.t.Fatalf("the pane never showed %q; it showed:\n%q", s, p.out.String())
	}
}

// typ types text literally.
func (p *pane) typ(text string) {
	p.t.Helper()
	if strings.HasSuffix(text, ";") { // a trailing ';' separates tmux commands
		text = strings.TrimSuffix(text, ";") + `\;`
	}
	p.tm("send-keys", "-t", "t", "-l", text)
}

// key sends a key such as Enter, Tab, Up or C-d.
func (p *pane) key(k string) { p.t.Helper(); p.tm("send-keys", "-t", "t", k) }

// exited waits for the shell to exit (the pane's output ends).
func (p *pane) exited() {
	p.t.Helper()
	select {
	case <-p.out.done:
	case <-time.After(paneWait):
		p.t.Fatalf("the shell did not exit:\n%q", p.out.String())
	}
}

// TestInteractiveShellTmux drives the shell on a real terminal (tmux): the
// prompt naming the DSN's host, history recall with the up arrow, tab
// completion, and Ctrl-C cancelling a slow query without leaving the shell.
func TestInteractiveShellTmux(t *testing.T) {
	srv := graphtest.NewServer(t)
	p := startPane(t, "shell", "--dsn", emulatorDSN(srv))
	host := strings.TrimPrefix(srv.URL(), "http://")
	prompt := "planner[" + host + "]> "
	p.must("connected to " + host)
	p.must(prompt)
	p.typ("SELECT 6*7 AS answer;")
	p.key("Enter")
	p.must("42")
	p.must(prompt)
	// History: the up arrow recalls the statement.
	p.key("Up")
	p.must("SELECT 6*7 AS answer;")
	p.key("Enter")
	p.must("42")
	p.must(prompt)
	// Tab completion of a table name.
	p.typ("SELECT count(*) AS n FROM TaskChec")
	p.key("Tab")
	p.must("TaskChecklistItems")
	p.typ(";")
	p.key("Enter")
	p.must("35")
	p.must(prompt)
	// A continuation line has its own prompt, as wide as the first.
	p.typ("SELECT 'two' ||")
	p.key("Enter")
	p.must(strings.Repeat(" ", len(prompt)-5) + "...> ")
	p.typ("' lines';")
	p.key("Enter")
	p.must("two lines")
	p.must(prompt)
	// Ctrl-C cancels a slow query; the shell stays.
	srv.SetLatency(30 * time.Second)
	p.typ("SELECT count(*) FROM TaskDetails;")
	p.key("Enter")
	p.must("TaskDetails;")
	cancelled := false
	for i := 0; i < 5 && !cancelled; i++ {
		p.key("C-c")
		cancelled = p.out.expect(t, "query cancelled", paneWait/5)
	}
	if !cancelled {
		t.Fatalf("Ctrl-C did not cancel the query:\n%q", p.out.String())
	}
	srv.SetLatency(0)
	p.must(prompt)
	p.typ("SELECT 'still' || ' alive';")
	p.key("Enter")
	p.must("still alive")
	p.must(prompt)
	p.key("C-d")
	// The history file is written before the shell exits; the pane's
	// output ends when it does.
	p.exited()
	if b, err := os.ReadFile(p.hist); err != nil || !strings.Contains(string(b), "SELECT 6*7 AS answer;") {
		t.Fatalf("history file: %q, %v", b, err)
	}
}

// TestCompletionTmux: tab completion never deletes what was typed; after
// FROM it offers tables, elsewhere the columns of the statement's tables,
// then keywords. Each completed statement is run, so a wrong completion
// shows as an error instead of the row marker.
func TestCompletionTmux(t *testing.T) {
	p := startPane(t, "shell", "--sandbox")
	const prompt = "planner[sandbox]> "
	p.must(prompt)
	// "Ta" after FROM: the tables share "Task", so Tab makes it "Task" (it
	// used to leave "T", counting the keyword TABLES); a second Tab lists
	// them.
	p.typ("SELECT 'a-' || count(*) AS r FROM Ta")
	p.key("Tab")
	p.must("FROM Task")
	p.key("Tab")
	p.must("TaskChecklistItems")
	p.must("Tasks")
	p.typ("s;")
	p.key("Enter")
	p.must("| a-48")
	p.must(prompt)
	// Lower case: completed in the catalog's spelling, never shorter.
	p.typ("SELECT 'b-' || count(*) AS r FROM ta")
	p.key("Tab")
	p.must("FROM Task")
	p.typ("s;")
	p.key("Enter")
	p.must("| b-48")
	p.must(prompt)
	// Columns of the statement's table (Buckets has one column "Na...").
	p.typ("SELECT 'c-' || count(*) AS r FROM Buckets WHERE Na")
	p.key("Tab")
	p.must("WHERE Name")
	p.typ(" IS NOT NULL;")
	p.key("Enter")
	p.must("| c-")
	p.must(prompt)
	// A qualified column through an alias.
	p.typ("SELECT 'd-' || count(*) AS r FROM Tasks t WHERE t.PercentC")
	p.key("Tab")
	p.must("t.PercentComplete")
	p.typ(" >= 0;")
	p.key("Enter")
	p.must("| d-48")
	p.must(prompt)
	// Keywords after the names, in the case typed.
	p.typ("select 'e-' || count(*) as r from Plans wher")
	p.key("Tab")
	p.must("Plans where")
	p.typ(" 1;")
	p.key("Enter")
	p.must("| e-4")
	p.must(prompt)
	// In a quoted identifier: names only, closed with the quote.
	p.typ(`SELECT 'f-' || count(*) AS r FROM "TaskD`)
	p.key("Tab")
	p.must(`FROM "TaskDetails"`)
	p.typ(";")
	p.key("Enter")
	p.must("| f-48")
	p.must(prompt)
	// In a string: nothing (it used to put the column PlanId there).
	p.typ("SELECT 'g-Pl")
	p.key("Tab")
	p.typ("ans' AS r;")
	p.key("Enter")
	p.must("| g-Plans")
	p.must(prompt)
	// The cursor inside a word: the whole word is completed, and the
	// cursor goes to its end (it used to leave "Tasksks").
	p.typ("SELECT 'h-' || count(*) AS r FROM Tasks")
	for range 3 {
		p.key("Left")
	}
	p.key("Tab")
	p.typ(";")
	p.key("Enter")
	p.must("| h-48")
	p.must(prompt)
}

// TestCtrlDTmux: Ctrl-D with an unfinished statement runs it and says so,
// as the end of piped input does. The shell is opened on a profile, which
// the prompt names.
func TestCtrlDTmux(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("[profiles.demo]\nSandbox = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startPaneEnv(t, []string{"PLANNER_CONFIG=" + cfg}, "shell", "--profile", "demo")
	p.must("planner[demo]> ")
	p.typ("SELECT 'eof-' ||")
	p.key("Enter")
	p.must("...> ")
	p.typ("'ran' AS r")
	p.key("Enter")
	p.must("...> ")
	p.key("C-d")
	p.must("the input ended in a statement without ';'; running it")
	p.must("eof-ran")
	p.exited()
}

// TestJobsRunTerminalTmux: on a terminal, 'jobs run' prints each table once
// (in its summary), not again as an INFO log record; piped, the records
// stay for the logs.
func TestJobsRunTerminalTmux(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	db := filepath.Join(dir, "out.db")
	if err := os.WriteFile(cfg, []byte("[jobs.j]\nsource = \"sandbox\"\nscript = \"REPLICATE Plans; REPLICATE Buckets;\"\n"+
		"[[jobs.j.destinations]]\nurl = \"sqlite:"+db+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startPane(t, "jobs", "run", "--config", cfg)
	p.must("job j → sqlite:")
	p.must("2 tables: ")
	p.exited()
	out := p.out.String()
	for _, table := range []string{"Plans", "Buckets"} {
		if n := strings.Count(out, table); n != 1 {
			t.Errorf("%s appears %d times on the terminal, want once (the summary):\n%s", table, n, out)
		}
	}
	r := mustRun(t, runOpts{dir: dir}, "jobs", "run", "--config", cfg)
	if !strings.Contains(r.stderr, "table=Plans") || !strings.Contains(r.stdout, "| Plans") {
		t.Errorf("piped jobs run: the log should keep its per-table records\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}
