package cli

import (
	"github.com/plannersql/planner/internal/testkit"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDestinationErrors drives the binary with destinations that cannot be
// used: an unknown scheme is a usage error (exit 2) listing the accepted
// schemes; a missing directory, an unknown SQLite parameter, a refused
// connection each say what is wrong and what to do; no message repeats a
// prefix or pgx's text, none ends with a generic hint, and no file is
// created.
func TestDestinationErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	refused := testkit.RefusedPort(t)
	tests := []struct {
		name, to string
		code     int
		want     []string
	}{
		{"unknown scheme", "oracle://scott:tiger99@db/orcl", ExitUsage, []string{`unknown destination kind "oracle://"`, "sqlite:PATH", "postgres://", "mysql://"}},
		{"no scheme", "warehouse", ExitUsage, []string{`unknown destination kind "warehouse"`}},
		{"missing directory", "sqlite:" + filepath.Join(dir, "nonexistent-dir", "x.db"), 1, []string{"directory " + filepath.Join(dir, "nonexistent-dir") + " does not exist"}},
		{"unknown sqlite parameter", "sqlite:" + filepath.Join(dir, "x.db") + "?mode=ro&journal=wal", ExitUsage, []string{"unknown parameter journal", "accepted: _pragma"}},
		{"read-only missing file", "sqlite:" + filepath.Join(dir, "x.db") + "?mode=ro", 1, []string{"does not exist, and mode=ro does not create it"}},
		{"postgres refused", "postgres://postgres:tiger99@localhost:" + refused + "/test", 1, []string{"connection refused", "start the database server"}},
		{"mysql refused", "mysql://root:tiger99@127.0.0.1:" + refused + "/test", 1, []string{"connection refused", "start the database server"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, runOpts{dir: dir}, "replicate", "--sandbox", "--progress", "off", "--to", tt.to, "REPLICATE Plans")
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
			for _, bad := range []string{"planner: planner:", "replicate: replicate:", "destination: destination", "tiger99", "check the URL and that the database is running"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr %q contains %q", r.stderr, bad)
				}
			}
			// pgx reports each attempt: the same failure is said once.
			if strings.Count(r.stderr, "connect: connection refused") > 1 {
				t.Errorf("stderr repeats the driver's text: %q", r.stderr)
			}
		})
	}
	t.Cleanup(func() {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			names := []string{}
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("files created: %v", names)
		}
	})
}
