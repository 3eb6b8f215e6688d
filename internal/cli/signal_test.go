package cli

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestStopAtReadiness: a long-running command catches SIGINT before it
// prints the line that says it is ready (the console's "serving" line, the
// sandbox's DSN), so a supervisor, script or test that signals as soon as
// it reads that line gets a clean stop — exit 0, the sandbox's --dsn-file
// removed — rather than the default action of the signal. Several rounds,
// since the window was short.
func TestStopAtReadiness(t *testing.T) {
	for round := range 3 {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(cfg, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		dsnFile := filepath.Join(dir, "dsn")
		cases := []struct {
			name   string
			args   []string
			stream func(*exec.Cmd) (io.ReadCloser, error)
			ready  string
		}{
			{"console", []string{"console", "--addr", "127.0.0.1:0", "--config", cfg}, (*exec.Cmd).StderrPipe, "planner console: serving"},
			{"sandbox serve", []string{"sandbox", "serve", "--addr", "127.0.0.1:0", "--dsn-file", dsnFile}, (*exec.Cmd).StdoutPipe, "DSN="},
		}
		for _, tc := range cases {
			cmd := newCmd(t, runOpts{dir: dir}, tc.args...)
			lines := startLines(t, cmd, tc.stream)
			waitLine(t, lines, tc.ready)
			cmd.Process.Signal(syscall.SIGINT)
			for range lines {
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("round %d, %s: signalled at its ready line: %v, want exit 0", round, tc.name, err)
			}
		}
		if _, err := os.Stat(dsnFile); !os.IsNotExist(err) {
			t.Errorf("round %d: the --dsn-file outlived sandbox serve: %v", round, err)
		}
	}
}
