package driver

import (
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// The tests of this file are named after the points of issue 12 ("field
// fidelity"): what real tenants send and enforce.

// TestFidelity08LimitHints: when Planner refuses a write for one of its
// limits, the error names the limit and the fix that frees room (complete or
// delete tasks for the active-task limit, delete tasks for the total, ...).
func TestFidelity08LimitHints(t *testing.T) {
	e := newEnv(t, nil, graphtest.WithLimits(graphtest.Limits{ActiveTasksPerPlan: 2, TasksPerPlan: 3}))
	me := e.srv.Me().ID
	plan := e.plans()[0]
	// A fresh plan in the same group, so the counts are ours.
	gid := e.one("SELECT GroupId FROM Plans WHERE PlanId = ?", plan)
	e.exec("INSERT INTO Plans (GroupId, Title) VALUES (?, 'Limits')", gid)
	pid := e.one("SELECT PlanId FROM Plans WHERE GroupId = ? AND Title = 'Limits'", gid)
	e.exec("INSERT INTO Tasks (PlanId, Title) VALUES (?, 'one'), (?, 'two')", pid, pid)
	cases := []struct {
		name, query string
		args        []any
		want        []string
		notWant     string
	}{
		{"active", "INSERT INTO Tasks (PlanId, Title) VALUES (?, 'three')", []any{pid},
			[]string{"MaximumActiveTasksInProject", "complete or delete"}, "remove items"},
		{"total", "INSERT INTO Tasks (PlanId, Title, PercentComplete) VALUES (?, 'done', 100)", []any{pid}, nil, ""},
		{"total again", "INSERT INTO Tasks (PlanId, Title, PercentComplete) VALUES (?, 'done 2', 100)", []any{pid},
			[]string{"MaximumTasksInProject", "delete some of its tasks"}, "remove items"},
		{"reopen", "UPDATE Tasks SET PercentComplete = 0 WHERE PlanId = ? AND Title = 'done'", []any{pid},
			[]string{"MaximumActiveTasksInProject", "complete or delete"}, ""},
	}
	for _, tc := range cases {
		_, err := e.db.Exec(tc.query, tc.args...)
		if tc.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("%s: %s succeeded", tc.name, tc.query)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
		if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
			t.Errorf("%s: error %q still says %q", tc.name, err, tc.notWant)
		}
	}

	// The per-user limit on assigned tasks names the assignee's way out.
	assigned := e.one("SELECT count(*) FROM TaskAssignments WHERE UserId = ?", me)
	n, _ := stringsAtoi(assigned)
	e2 := newEnv(t, nil, graphtest.WithLimits(graphtest.Limits{TasksAssignedToUser: n}))
	task := e2.one("SELECT TaskId FROM Tasks WHERE PlanId = ? AND TaskId NOT IN (SELECT TaskId FROM TaskAssignments WHERE UserId = ?) LIMIT 1", e2.plans()[0], me)
	_, err := e2.db.Exec("INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)", task, me)
	if err == nil || !strings.Contains(err.Error(), "MaximumTasksAssignedToUser") || !strings.Contains(err.Error(), "unassign") {
		t.Errorf("assignment over the limit: %v", err)
	}
}
