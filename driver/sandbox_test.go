package driver_test

import (
	"context"
	"database/sql"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/plannersql/planner/driver"
	_ "github.com/plannersql/planner/sandbox"
)

// TestSandboxPerDB: each sql.DB of Sandbox=true has a tenant of its own, so
// one DB's writes are not seen by another, and closing one leaves the
// other working.
func TestSandboxPerDB(t *testing.T) {
	open := func() *sql.DB {
		db, err := sql.Open("planner", "Sandbox=true")
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	a, b := open(), open()
	defer b.Close()
	count := func(db *sql.DB) int {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM Tasks").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := count(a)
	if n == 0 || count(b) != n {
		t.Fatalf("tasks: %d and %d, want the same demo tenant", n, count(b))
	}
	var plan string
	if err := a.QueryRow("SELECT PlanId FROM Plans LIMIT 1").Scan(&plan); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec("INSERT INTO Tasks (PlanId, Title) VALUES (?, 'only in a')", plan); err != nil {
		t.Fatal(err)
	}
	if count(a) != n+1 || count(b) != n {
		t.Errorf("after a write to a: a has %d tasks, b %d; want %d and %d", count(a), count(b), n+1, n)
	}
	a.Close()
	if count(b) != n {
		t.Error("b changed when a was closed")
	}
}

// TestDriverLinksNoTestCode: the driver package does not depend on the
// emulator or on test packages (the sandbox is opt-in, in package sandbox).
func TestDriverLinksNoTestCode(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/plannersql/planner/driver").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/plannersql/planner/graph") {
		t.Fatalf("go list -deps gave no planner package: %q", out)
	}
	for _, bad := range []string{"github.com/plannersql/planner/graph/graphtest", "net/http/httptest", "testing"} {
		if slices.Contains(deps, bad) {
			t.Errorf("package driver depends on %s", bad)
		}
	}
}

// TestSandboxRegistered: with package sandbox imported, Sandbox=true opens;
// a second registration panics, like sql.Register.
func TestSandboxRegistered(t *testing.T) {
	if _, err := driver.NewConnector(&driver.Config{Sandbox: true}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "twice") {
			t.Errorf("a second RegisterSandbox: panic %v, want one saying it was called twice", r)
		}
	}()
	driver.RegisterSandbox(func(context.Context) (*driver.SandboxTenant, error) { return nil, nil })
}
