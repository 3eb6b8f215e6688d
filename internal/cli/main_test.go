package cli

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/replicate/dest"
)

// binary is the planner command built once for the test run.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv(envServeChild) != "" {
		os.Exit(m.Run()) // a child process of a test: no binary needed
	}
	dir, err := os.MkdirTemp("", "planner-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "planner")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	build := exec.Command("go", "build", "-o", binary, "github.com/plannersql/planner/cmd/planner")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build planner:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is the outcome of one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// runOpts configure a run of the binary.
type runOpts struct {
	dir   string   // working directory (default: a new temp dir)
	env   []string // extra environment
	stdin string
}

// testEnv is the environment every run gets: a private config dir.
func testEnv(t *testing.T, extra ...string) []string {
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"PATH=" + os.Getenv("PATH"), "PLANNER_HISTORY=" + filepath.Join(home, "history")}
	return append(env, extra...)
}

func newCmd(t *testing.T, o runOpts, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = o.dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	cmd.Env = testEnv(t, o.env...)
	cmd.Stdin = strings.NewReader(o.stdin)
	return cmd
}

func run(t *testing.T, o runOpts, args ...string) result {
	t.Helper()
	cmd := newCmd(t, o, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run planner %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// mustRun runs the binary and fails the test unless it exits 0.
func mustRun(t *testing.T, o runOpts, args ...string) result {
	t.Helper()
	r := run(t, o, args...)
	if r.code != 0 {
		t.Fatalf("planner %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// emulatorDSN returns the DSN of an emulator served on loopback.
func emulatorDSN(srv *graphtest.Server) string {
	return fmt.Sprintf("GraphURL=%s;OAuthAccessToken=%s;InitiateOAuth=OFF", srv.GraphURL(), srv.Token())
}

// openSQLite opens a SQLite destination file for checks.
func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := dest.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// reachable reports whether a TCP service listens on addr; when it does
// not, the test is skipped, unless CI=true, where it fails.
func requireService(t *testing.T, addr, name string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s at %s is unreachable (CI=true): %v", name, addr, err)
	}
	t.Skipf("%s at %s is unreachable: %v", name, addr, err)
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
