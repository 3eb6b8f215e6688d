package replicate

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDriverLinked: importing replicate links no database driver — a
// caller that passes its own *sql.DB carries only the driver it chose.
// Package replicate/dest links them.
func TestNoDriverLinked(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	drivers := []string{"github.com/jackc/pgx/v5", "github.com/go-sql-driver/mysql", "modernc.org/sqlite", "modernc.org/libc"}
	deps := func(pkg string) []string {
		out, err := exec.Command(goCmd, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	linked := func(list []string, prefix string) bool {
		for _, p := range list {
			if p == prefix || strings.HasPrefix(p, prefix+"/") {
				return true
			}
		}
		return false
	}
	r := deps("github.com/plannersql/planner/replicate")
	for _, d := range drivers {
		if linked(r, d) {
			t.Errorf("package replicate links %s", d)
		}
	}
	// The check itself works: dest links every driver.
	dd := deps("github.com/plannersql/planner/replicate/dest")
	for _, d := range drivers[:3] {
		if !linked(dd, d) {
			t.Errorf("package replicate/dest does not link %s", d)
		}
	}
}
