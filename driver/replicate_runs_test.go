package driver

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// replicateRun runs script from e into each of dsts, one after another
// (as a job copies one source into several destinations), through one
// Snapshot, and returns the Graph requests the run sent.
func replicateRun(t *testing.T, e *env, script string, dsts ...string) int {
	t.Helper()
	before := e.cn.Requests()
	snap := e.cn.NewSnapshot()
	defer snap.Close()
	ctx := snap.Context(context.Background())
	for _, url := range dsts {
		dst, err := dest.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		results, err := replicate.Run(ctx, e.db, dst, script, replicate.Options{})
		dst.Close()
		if err != nil {
			t.Fatalf("%s into %s: %v", script, url, err)
		}
		for _, r := range results {
			if r.Err != nil {
				t.Fatalf("%s into %s: %s: %v", script, url, r.Table, r.Err)
			}
		}
	}
	snap.Close()
	return e.cn.Requests() - before
}

// TestReplicateRunRequests checks runs the issue does not spell out against
// the floor of reading, once, each table they reference (the requests of
// SELECT * of those tables through one snapshot) + 10 %: scripts mixing
// whole tables and SELECTs (with joins and filters), an incremental second
// REPLICATE ALL, REPLICATE ALL EXCLUDE TABLES (TaskDetails), and one script
// into two destinations (read once).
func TestReplicateRunRequests(t *testing.T) {
	e := newEnv(t, nil, graphtest.WithGenerated(graphtest.GenSpec{Seed: 11, Plans: 5, TasksPerPlan: 200, BucketsPerPlan: 3}))
	plan := e.plans()[0]
	floorOf := func(t *testing.T, queries ...string) int {
		snap := e.cn.NewSnapshot()
		defer snap.Close()
		ctx := snap.Context(context.Background())
		before := e.cn.Requests()
		for _, q := range queries {
			if !strings.Contains(q, " ") {
				q = "SELECT * FROM " + q
			}
			rows, err := e.db.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
		}
		return e.cn.Requests() - before
	}
	all := []string{"Groups", "Plans", "PlanDetails", "Buckets", "Tasks", "TaskDetails", "TaskAssignments",
		"TaskChecklistItems", "TaskReferences", "TaskBoardFormats"}
	tests := []struct {
		name   string
		script string
		tables []string // what the floor reads: tables, or SELECTs
		dsts   int      // destinations at once
		second bool     // run twice into the same destination; judge the second
	}{
		{"mixed script", `REPLICATE Open SELECT * FROM Tasks WHERE PercentComplete < 100;
			REPLICATE TaskDetails;
			REPLICATE X WITH Key='TaskId' SELECT t.TaskId, t.Title, d.Description FROM Tasks t JOIN TaskDetails d USING (TaskId)`,
			[]string{"Tasks", "TaskDetails"}, 1, false},
		{"plan filter", `REPLICATE P SELECT * FROM Tasks WHERE PlanId = '` + plan + `';
			REPLICATE D WITH Key='TaskId' SELECT t.TaskId, d.Description FROM Tasks t JOIN TaskDetails d USING (TaskId) WHERE t.PlanId = '` + plan + `'`,
			[]string{"SELECT * FROM Tasks WHERE PlanId = '" + plan + "'", "SELECT * FROM TaskDetails WHERE PlanId = '" + plan + "'"}, 1, false},
		{"assignments and buckets", `REPLICATE AB WITH Key='TaskId,UserId' SELECT a.TaskId, a.UserId, b.Name FROM TaskAssignments a
			JOIN Tasks t USING (TaskId) JOIN Buckets b USING (BucketId);
			REPLICATE Buckets`,
			[]string{"Tasks", "Buckets"}, 1, false},
		{"all", "REPLICATE ALL", all, 1, false},
		{"all incremental", "REPLICATE ALL", all, 1, true},
		{"all exclude details", "REPLICATE ALL EXCLUDE TABLES (TaskDetails)", all, 1, false},
		{"two destinations", `REPLICATE Open SELECT * FROM Tasks WHERE PercentComplete < 100; REPLICATE ALL`, all, 2, false},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			floor := floorOf(t, tc.tables...)
			dir := t.TempDir()
			var dsts []string
			for i := range tc.dsts {
				dsts = append(dsts, "sqlite:"+filepath.Join(dir, itoa(i)+".db"))
			}
			got := replicateRun(t, e, tc.script, dsts...)
			if tc.second {
				first := got
				got = replicateRun(t, e, tc.script, dsts...)
				if got > first {
					t.Errorf("second run: %d requests, more than the first's %d", got, first)
				}
			}
			budget := floor + floor/10
			t.Logf("%d requests; floor %d", got, floor)
			if got > budget {
				t.Errorf("%d requests, over the floor %d + 10 %%", got, floor)
			}
		})
	}
}
