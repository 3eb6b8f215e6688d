package driver

import (
	"context"
	"iter"
	"slices"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// ---- TaskAssignments

// assignmentRow is a row of TaskAssignments: one assignee of a task.
type assignmentRow struct {
	t    *graph.Task
	user string
	a    graph.Assignment
}

// assignmentRows are the assignees of a task by user id; only, when not
// "", keeps that user's.
func assignmentRows(t *graph.Task, only string) []*assignmentRow {
	users := make([]string, 0, len(t.Assignments))
	for u := range t.Assignments {
		if only == "" || u == only {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	out := make([]*assignmentRow, len(users))
	for i, u := range users {
		out[i] = &assignmentRow{t: t, user: u, a: t.Assignments[u]}
	}
	return out
}

var assignmentsSource = taskSource[assignmentRow]{
	rows: func(_ context.Context, _ *session, q scanReq, tasks iter.Seq2[*graph.Task, error]) iter.Seq2[*assignmentRow, error] {
		return expand(tasks, func(t *graph.Task) []*assignmentRow { return assignmentRows(t, "") })
	},
}

// assignmentsTable: one row per assignee of each task.
var assignmentsTable = (&table[assignmentRow]{
	name: "TaskAssignments",
	desc: "One row per assignee of each task.",
	cols: append(assignmentsSource.scope(func(r *assignmentRow) **graph.Task { return &r.t }, req, "GET /planner/tasks/{id}", taskCosts),
		column[assignmentRow]{name: "UserId", typ: schema.Text, flags: key | req, desc: "The assignee's user id.",
			get: func(r *assignmentRow) any { return r.user },
			set: func(r *assignmentRow, v any) error { r.user = userKey(str(v)); return nil },
			push: &pushdown[assignmentRow]{endpoint: "GET /users/{id}/planner/tasks", cost: taskCosts.user,
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*assignmentRow, error] {
					return expand(x.coveredTasksOfUser(ctx, id), func(t *graph.Task) []*assignmentRow { return assignmentRows(t, id) })
				}}},
		userIDCol("AssignedByUserId", "The id of the user who made the assignment (NULL when an application made it alone).", func(r *assignmentRow) *graph.IdentitySet { return r.a.AssignedBy }),
		appIDCol("AssignedByApplicationId", "The id of the application that made the assignment.", func(r *assignmentRow) *graph.IdentitySet { return r.a.AssignedBy }),
		dateField("AssignedDateTime", null, ro, "When the assignment was made.", "", func(r *assignmentRow) **graph.DateTime { return &r.a.AssignedDateTime }),
		textField("OrderHint", null, ins, "The assignee's position among the task's assignees (order-hint format). INSERT puts a new assignee last "+
			"when none is given, and takes a hint in the documented grammar or another assignee's value (see the rules on order hints).", "", func(r *assignmentRow) *string { return &r.a.OrderHint }),
	),
	scan:     assignmentsSource.scan,
	scanCost: cost{21, 1200},
	version:  func(r *assignmentRow) version { return taskVersion(r.t) },
	check:    func(r *assignmentRow) (string, error) { return taskOf(r.t) + "\x00" + r.user, nil },
	insert: func(ctx context.Context, x *session, r *assignmentRow) (*assignmentRow, error) {
		t, err := x.g.Tasks.Get(ctx, r.t.ID)
		if err != nil {
			return nil, err
		}
		old, exists := t.Assignments[r.user]
		if exists {
			// Assigned already: OR REPLACE sends the order hint given, if any.
			if err := x.onDuplicate(); err != nil {
				return nil, err
			}
		}
		hint, err := placeHint(r.a.OrderHint, old.OrderHint, assigneePlace,
			mapHints(t.Assignments, r.user, func(a graph.Assignment) string { return a.OrderHint }))
		if err != nil {
			return nil, err
		}
		if hint == "" {
			return pickItem(assignmentRows(t, r.user), func(*assignmentRow) bool { return true }, "UserId", r.user)
		}
		t, err = x.patchTask(ctx, taskVersion(t), t.ID, graph.Patch{"assignments": map[string]any{r.user: assignmentValue(hint)}})
		if err != nil {
			return nil, err
		}
		return pickItem(assignmentRows(t, r.user), func(*assignmentRow) bool { return true }, "UserId", r.user)
	},
	delete: func(ctx context.Context, x *session, old *assignmentRow, v version) error {
		_, err := x.patchTask(ctx, v, old.t.ID, graph.Patch{"assignments": map[string]any{old.user: nil}})
		return err
	},
	notes: []string{"WHERE UserId = ? lists that user's assigned tasks. INSERT assigns a user to a task; DELETE unassigns.",
		"WHERE UserId = ? returns what a scan returns for the user: the user's assignments in the plans scans cover. " +
			"Graph's list of the user's tasks also keeps tasks whose plan or group was deleted, and tasks of groups the " +
			"user has left (or, with GroupId or PlanScope=me, of plans outside them); their plans are read, 20 per $batch " +
			"(with PlanScope=me, /me/planner/plans is listed once), and their rows left out, so every PlanId in the result " +
			"is in Plans."},
	examples: []schema.Example{
		{Title: "Open tasks per assignee", SQL: "SELECT a.UserId, count(*) FROM TaskAssignments a JOIN Tasks t ON t.TaskId = a.TaskId WHERE t.PercentComplete < 100 GROUP BY a.UserId"},
		{Title: "Assign a user", SQL: "INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)"},
	},
}).init()

// ---- TaskCategories

// categoryRow is a row of TaskCategories: one label applied to a task.
type categoryRow struct {
	t         *graph.Task
	cat, name string
}

// categoryRows are the labels applied to a task, in label order, named by
// desc (the plan's label names; nil when not read).
func categoryRows(t *graph.Task, desc graph.CategoryDescriptions) []*categoryRow {
	var out []*categoryRow
	for _, cat := range sortedCategories(t.AppliedCategories) {
		if t.AppliedCategories[cat] {
			out = append(out, &categoryRow{t: t, cat: cat, name: desc[cat]})
		}
	}
	return out
}

var categoriesSource = taskSource[categoryRow]{
	rows: func(ctx context.Context, x *session, q scanReq, tasks iter.Seq2[*graph.Task, error]) iter.Seq2[*categoryRow, error] {
		return func(yield func(*categoryRow, error) bool) {
			for t, err := range tasks {
				if err != nil {
					yield(nil, err)
					return
				}
				var desc graph.CategoryDescriptions
				if q.details && len(t.AppliedCategories) > 0 {
					d, err := x.labelNames(ctx, t.PlanID)
					if err != nil {
						yield(nil, err)
						return
					}
					desc = d
				}
				for _, r := range categoryRows(t, desc) {
					if !yield(r, nil) {
						return
					}
				}
			}
		}
	},
}

// categoriesTable: one row per label applied to each task.
var categoriesTable = (&table[categoryRow]{
	name: "TaskCategories",
	desc: "One row per label applied to each task, with the plan's name for it.",
	cols: append(categoriesSource.scope(func(r *categoryRow) **graph.Task { return &r.t }, req, "GET /planner/tasks/{id} and the plan details", taskCosts),
		column[categoryRow]{name: "Category", typ: schema.Text, flags: key | req, desc: "The label: 'category1' … 'category25'.",
			get: func(r *categoryRow) any { return r.cat },
			set: func(r *categoryRow, v any) error { r.cat = str(v); return nil }},
		textField("Name", null|detail, ro, "The plan's name for the label (NULL when the plan has none).", "", func(r *categoryRow) *string { return &r.name }),
	),
	scan: func(ctx context.Context, x *session, q scanReq) iter.Seq2[*categoryRow, error] {
		if !q.details {
			return categoriesSource.scan(ctx, x, q)
		}
		// The label names of every plan: their details first, 20 plans per
		// $batch, from the plan listing the task scan then replays.
		return func(yield func(*categoryRow, error) bool) {
			var ids []string
			for p, err := range x.allPlans(ctx, x.concurrency(q)) {
				if err != nil {
					yield(nil, err)
					return
				}
				ids = append(ids, p.ID)
			}
			if err := x.readPlanDetails(ctx, ids); err != nil {
				yield(nil, err)
				return
			}
			for r, err := range categoriesSource.scan(ctx, x, q) {
				if !yield(r, err) || err != nil {
					return
				}
			}
		}
	},
	scanCost: cost{31, 2000},
	version:  func(r *categoryRow) version { return taskVersion(r.t) },
	check: func(r *categoryRow) (string, error) {
		cat := strings.ToLower(r.cat)
		return taskOf(r.t) + "\x00" + cat, validCategory(cat)
	},
	insert: func(ctx context.Context, x *session, r *categoryRow) (*categoryRow, error) {
		cat := strings.ToLower(r.cat)
		if err := validCategory(cat); err != nil {
			return nil, err
		}
		t, err := x.g.Tasks.Get(ctx, r.t.ID)
		if err != nil {
			return nil, err
		}
		if t.AppliedCategories[cat] {
			// Applied already: OR REPLACE finds the row as it would make it.
			if err := x.onDuplicate(); err != nil {
				return nil, err
			}
		} else if t, err = x.patchTask(ctx, taskVersion(t), t.ID, graph.Patch{"appliedCategories": map[string]any{cat: true}}); err != nil {
			return nil, err
		}
		row := &categoryRow{t: t, cat: cat}
		if d, err := x.g.Plans.GetDetails(ctx, t.PlanID); err == nil {
			row.name = d.CategoryDescriptions[cat]
		}
		return row, nil
	},
	delete: func(ctx context.Context, x *session, old *categoryRow, v version) error {
		_, err := x.patchTask(ctx, v, old.t.ID, graph.Patch{"appliedCategories": map[string]any{old.cat: false}})
		return err
	},
	notes: []string{"INSERT applies a label to a task; DELETE removes it."},
	examples: []schema.Example{
		{Title: "Tasks by label name", SQL: "SELECT c.Name, count(*) FROM TaskCategories c WHERE c.PlanId = ? GROUP BY c.Name"},
	},
}).init()

// taskOf returns the id of a row's task ("" when the row names none).
func taskOf(t *graph.Task) string {
	if t == nil {
		return ""
	}
	return t.ID
}
