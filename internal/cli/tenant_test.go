package cli

import (
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestReplicateOtherTenant: replicating a second tenant into the tables a
// first tenant filled, with no SourceName, is refused (the mirror would
// delete the first tenant's rows); a prefix works.
func TestReplicateOtherTenant(t *testing.T) {
	t.Parallel()
	a := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 11, Plans: 1, TasksPerPlan: 3}))
	b := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 12, Plans: 1, TasksPerPlan: 3}))
	if a.TenantID() == b.TenantID() {
		t.Fatal("the emulators share a tenant id")
	}
	dir := t.TempDir()
	o := runOpts{dir: dir}
	mustRun(t, o, "replicate", "--dsn", emulatorDSN(a), "--progress", "off", "--to", "sqlite:t.db", "REPLICATE Plans")
	r := run(t, o, "replicate", "--dsn", emulatorDSN(b), "--progress", "off", "--to", "sqlite:t.db", "REPLICATE Plans")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{"tenant " + a.TenantID(), "tenant " + b.TenantID(), "SourceName", "prefix", "DropTable"} {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("output does not say %q:\n%s%s", w, r.stdout, r.stderr)
		}
	}
	mustRun(t, o, "replicate", "--dsn", emulatorDSN(b), "--progress", "off", "--prefix", "B_", "--to", "sqlite:t.db", "REPLICATE Plans")
	// The sandbox is one tenant, whichever process opens it.
	mustRun(t, o, "replicate", "--sandbox", "--progress", "off", "--to", "sqlite:s.db", "REPLICATE Plans")
	mustRun(t, o, "replicate", "--sandbox", "--progress", "off", "--to", "sqlite:s.db", "REPLICATE Plans")
}
