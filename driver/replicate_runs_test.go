package driver

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// replicateRun runs script from e into each of dsts through one Snapshot
// — one after another, as a job copies one source into several
// destinations, or, when atOnce, each in its own goroutine — and returns
// the Graph requests the run sent.
func replicateRun(t *testing.T, e *env, script string, atOnce bool, dsts ...string) int {
	t.Helper()
	before := e.cn.Requests()
	snap := e.cn.NewSnapshot()
	defer snap.Close()
	ctx := snap.Context(context.Background())
	errs := make([]error, len(dsts))
	into := func(i int) {
		dst, err := dest.Open(context.Background(), dsts[i])
		if err != nil {
			errs[i] = err
			return
		}
		defer dst.Close()
		results, err := replicate.Run(ctx, e.db, dst, script, replicate.Options{})
		if err != nil {
			errs[i] = err
			return
		}
		for _, r := range results {
			if r.Err != nil {
				errs[i] = fmt.Errorf("%s: %w", r.Table, r.Err)
				return
			}
		}
	}
	var wg sync.WaitGroup
	for i := range dsts {
		if !atOnce {
			into(i)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			into(i)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s into %s: %v", script, dsts[i], err)
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
// into two destinations, one after another and at once (one Snapshot used
// by two goroutines): each reads the tenant once.
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
		dsts   int      // destinations
		atOnce bool     // into the destinations at once
		second bool     // run twice into the same destination; judge the second
	}{
		{"mixed script", `REPLICATE Open SELECT * FROM Tasks WHERE PercentComplete < 100;
			REPLICATE TaskDetails;
			REPLICATE X WITH Key='TaskId' SELECT t.TaskId, t.Title, d.Description FROM Tasks t JOIN TaskDetails d USING (TaskId)`,
			[]string{"Tasks", "TaskDetails"}, 1, false, false},
		{"plan filter", `REPLICATE P SELECT * FROM Tasks WHERE PlanId = '` + plan + `';
			REPLICATE D WITH Key='TaskId' SELECT t.TaskId, d.Description FROM Tasks t JOIN TaskDetails d USING (TaskId) WHERE t.PlanId = '` + plan + `'`,
			[]string{"SELECT * FROM Tasks WHERE PlanId = '" + plan + "'", "SELECT * FROM TaskDetails WHERE PlanId = '" + plan + "'"}, 1, false, false},
		{"assignments and buckets", `REPLICATE AB WITH Key='TaskId,UserId' SELECT a.TaskId, a.UserId, b.Name FROM TaskAssignments a
			JOIN Tasks t USING (TaskId) JOIN Buckets b USING (BucketId);
			REPLICATE Buckets`,
			[]string{"Tasks", "Buckets"}, 1, false, false},
		{"all", "REPLICATE ALL", all, 1, false, false},
		{"all incremental", "REPLICATE ALL", all, 1, false, true},
		{"all exclude details", "REPLICATE ALL EXCLUDE TABLES (TaskDetails)", all, 1, false, false},
		{"two destinations", `REPLICATE Open SELECT * FROM Tasks WHERE PercentComplete < 100; REPLICATE ALL`, all, 2, false, false},
		{"two destinations at once", `REPLICATE Open SELECT * FROM Tasks WHERE PercentComplete < 100; REPLICATE ALL`, all, 2, true, false},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			floor := floorOf(t, tc.tables...)
			dir := t.TempDir()
			var dsts []string
			for i := range tc.dsts {
				dsts = append(dsts, "sqlite:"+filepath.Join(dir, itoa(i)+".db"))
			}
			got := replicateRun(t, e, tc.script, tc.atOnce, dsts...)
			if tc.second {
				first := got
				got = replicateRun(t, e, tc.script, tc.atOnce, dsts...)
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
