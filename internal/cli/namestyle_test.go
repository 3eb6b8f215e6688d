package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNameStyleFlagAndJob: --name-style and a job destination's name_style
// name the tables and columns replicate creates.
func TestNameStyleFlagAndJob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRun(t, runOpts{dir: dir}, "replicate", "--sandbox", "--progress", "off", "--name-style", "snake_case", "--to", "sqlite:flag.db", "REPLICATE TaskDetails")
	db := openSQLite(t, filepath.Join(dir, "flag.db"))
	if n := queryInt(t, db, "SELECT COUNT(*) FROM task_details WHERE task_id IS NOT NULL AND plan_id IS NOT NULL"); n == 0 {
		t.Fatal("no rows in task_details")
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'task_details_plan_id_idx'"); n != 1 {
		t.Fatal("no index on plan_id")
	}

	cfg := `[jobs.j]
source = "sandbox"
script = "REPLICATE Buckets;"
[[jobs.j.destinations]]
url = "sqlite:job.db"
name_style = "lower"
`
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path}}, "jobs", "run", "j")
	jdb := openSQLite(t, filepath.Join(dir, "job.db"))
	if n := queryInt(t, jdb, "SELECT COUNT(*) FROM pragma_table_info('buckets') WHERE name IN ('bucketid', 'planid', 'orderhint')"); n != 3 {
		t.Fatalf("buckets has %d of its lower-case columns", n)
	}
	if n := queryInt(t, jdb, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'Buckets'"); n != 0 {
		t.Fatal("a table in the exact style was created")
	}
}
