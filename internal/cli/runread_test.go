package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// readFloor is the fewest Graph requests that read every table of srv's
// tenant once: the discovery (/me/memberOf and each group's plans), the
// plans' details in $batch requests of 20, each plan's buckets, each plan's
// task pages (400 a page), the tasks' details in $batch requests of 20, and
// the tasks' three board formats (TaskBoardFormats) filling $batch requests
// of 20.
func readFloor(srv *graphtest.Server) int {
	me := srv.Me().ID
	groups, plans, pages, tasks := 0, 0, 0, 0
	for _, g := range srv.Groups() {
		if !g.Unified || !slices.Contains(g.Members, me) {
			continue
		}
		groups++
		for _, p := range g.PlanIDs {
			plans++
			n := len(srv.TaskIDs(p))
			pages += max(1, (n+399)/400)
			tasks += n
		}
	}
	return 1 + groups + (plans+19)/20 + plans + pages + (tasks+19)/20 + (3*tasks+19)/20
}

var requestsLine = regexp.MustCompile(`; ([0-9]+) Graph requests`)

// TestReplicateReadsEachObjectOnce checks that a REPLICATE run reads each
// Graph object once: planner replicate (REPLICATE ALL, every table) over
// 2,000 tasks, and a job copying one source into two destinations, each
// send at most the requests of reading the tenant once (readFloor) + 10 %.
func TestReplicateReadsEachObjectOnce(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 11, Plans: 5, TasksPerPlan: 400}))
	floor := readFloor(srv)
	budget := floor + floor/10
	dir := t.TempDir()

	srv.ResetRequests()
	r := mustRun(t, runOpts{dir: dir}, "replicate", "--dsn", emulatorDSN(srv), "--to", "sqlite:all.db")
	got := srv.RequestCount()
	t.Logf("REPLICATE ALL of %d tasks: %d requests, floor %d (%.3f×)", srv.TaskCount(), got, floor, float64(got)/float64(floor))
	if got > budget {
		t.Errorf("REPLICATE ALL: %d requests, over the floor %d + 10 %%", got, floor)
	}
	if m := requestsLine.FindStringSubmatch(r.stdout); m == nil || m[1] != strconv.Itoa(got) {
		t.Errorf("the summary does not report the %d requests:\n%s", got, r.stdout)
	}
	if n := queryInt(t, openSQLite(t, filepath.Join(dir, "all.db")), "SELECT count(*) FROM TaskChecklistItems"); n == 0 {
		t.Error("no checklist items copied")
	}

	// One job, one source, two destinations: the source is read once.
	cfg := fmt.Sprintf(`
[profiles.emu]
GraphURL = %q
OAuthAccessToken = "${EMU_TOKEN}"
InitiateOAuth = "OFF"

[jobs.twice]
source = "emu"
script = "REPLICATE ALL"
[[jobs.twice.destinations]]
url = "sqlite:one.db"
[[jobs.twice.destinations]]
url = "sqlite:two.db"
`, srv.GraphURL())
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	mustRun(t, runOpts{dir: dir, env: []string{"PLANNER_CONFIG=" + path, "EMU_TOKEN=" + srv.Token()}}, "jobs", "run", "twice")
	if got := srv.RequestCount(); got > budget {
		t.Errorf("a job into two destinations: %d requests, over the floor %d + 10 %% of reading the source once", got, floor)
	}
	for _, db := range []string{"one.db", "two.db"} {
		if n := queryInt(t, openSQLite(t, filepath.Join(dir, db)), "SELECT count(*) FROM Tasks"); n != srv.TaskCount() {
			t.Errorf("%s: %d tasks, want %d", db, n, srv.TaskCount())
		}
	}
}
