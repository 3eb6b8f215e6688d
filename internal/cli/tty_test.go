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

// TestInteractiveShellTmux drives the shell on a real terminal (tmux):
// the prompt, history recall with the up arrow, tab completion, and Ctrl-C
// cancelling a slow query without leaving the shell.
func TestInteractiveShellTmux(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed")
	}
	srv := graphtest.NewServer(t)
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
	shellCmd := "read _; exec env HOME=" + dir + " XDG_CONFIG_HOME=" + dir + " PLANNER_HISTORY=" + hist +
		" " + binary + " shell --dsn '" + emulatorDSN(srv) + "'"
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
	defer f.Close()
	tm("send-keys", "-t", "t", "Enter") // starts the shell

	const wait = 10 * time.Second
	must := func(s string) {
		t.Helper()
		if !p.expect(t, s, wait) {
			t.Fatalf("the pane never showed %q; it showed:\n%q", s, p.String())
		}
	}
	must("planner> ")
	typ := func(text string) {
		t.Helper()
		if strings.HasSuffix(text, ";") { // a trailing ';' separates tmux commands
			text = strings.TrimSuffix(text, ";") + `\;`
		}
		tm("send-keys", "-t", "t", "-l", text)
	}
	key := func(k string) { t.Helper(); tm("send-keys", "-t", "t", k) }
	typ("SELECT 6*7 AS answer;")
	key("Enter")
	must("42")
	must("planner> ")
	// History: the up arrow recalls the statement.
	key("Up")
	must("SELECT 6*7 AS answer;")
	key("Enter")
	must("42")
	must("planner> ")
	// Tab completion of a table name.
	typ("SELECT count(*) AS n FROM TaskChec")
	key("Tab")
	must("TaskChecklistItems")
	typ(";")
	key("Enter")
	must("35")
	must("planner> ")
	// Ctrl-C cancels a slow query; the shell stays.
	srv.SetLatency(30 * time.Second)
	typ("SELECT count(*) FROM TaskDetails;")
	key("Enter")
	must("TaskDetails;")
	cancelled := false
	for i := 0; i < 5 && !cancelled; i++ {
		key("C-c")
		cancelled = p.expect(t, "query cancelled", 2*time.Second)
	}
	if !cancelled {
		t.Fatalf("Ctrl-C did not cancel the query:\n%q", p.String())
	}
	srv.SetLatency(0)
	must("planner> ")
	typ("SELECT 'still' || ' alive';")
	key("Enter")
	must("still alive")
	must("planner> ")
	key("C-d")
	// The history file is written before the shell exits; the pane's
	// output ends when it does.
	select {
	case <-p.done:
	case <-time.After(wait):
		t.Fatalf("the shell did not exit on Ctrl-D:\n%q", p.String())
	}
	if b, err := os.ReadFile(hist); err != nil || !strings.Contains(string(b), "SELECT 6*7 AS answer;") {
		t.Fatalf("history file: %q, %v", b, err)
	}
}
