package driver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// tasksTable: every task of every plan the account can reach.
var tasksTable = (&table[graph.Task]{
	name: "Tasks",
	desc: "Every task of every plan the account can reach, unassigned tasks included " +
		"(not only the tasks assigned to the user).",
	cols: []column[graph.Task]{
		{name: "TaskId", typ: schema.Text, flags: key, desc: "The task's id (28 characters, case-sensitive).",
			get: func(t *graph.Task) any { return t.ID },
			push: &pushdown[graph.Task]{endpoint: "GET /planner/tasks/{id}", cost: taskCosts.id, fetch: func(ctx context.Context, x *session, id string, q scanReq) iter.Seq2[*graph.Task, error] {
				return plainTasks.byID(ctx, x, id, q, nil)
			}}},
		{name: "PlanId", typ: schema.Text, flags: req, desc: "The id of the task's plan.",
			get:  func(t *graph.Task) any { return t.PlanID },
			set:  func(t *graph.Task, v any) error { t.PlanID = str(v); return nil },
			push: &pushdown[graph.Task]{endpoint: "GET /planner/plans/{id}/tasks", cost: taskCosts.plan, fetch: plainTasks.byPlan}},
		withPush(textField("BucketId", null, iu, "The id of the task's bucket, which must be in the same plan; UPDATE moves the task.",
			"bucketId", func(t *graph.Task) *string { return &t.BucketID }),
			&pushdown[graph.Task]{endpoint: "GET /planner/buckets/{id}/tasks", cost: taskCosts.bucket, fetch: plainTasks.byBucket}),
		textField("Title", req, iu, "The task's title.", "title", func(t *graph.Task) *string { return &t.Title }),
		textField("OrderHint", null, iu, "The task's position in the plan's list views (order-hint format); another task's value puts the task there.", "orderHint", func(t *graph.Task) *string { return &t.OrderHint }),
		textField("AssigneePriority", null, iu, `The task's position in "assigned to me" views (order-hint format); another task's value puts the task there.`, "assigneePriority", func(t *graph.Task) *string { return &t.AssigneePriority }),
		intField("PercentComplete", null, iu, "0 (not started), 1–99 (in progress) or 100 (completed).", "percentComplete", func(t *graph.Task) **int { return &t.PercentComplete }),
		intField("Priority", null, iu, "0 (highest) … 10 (lowest); Planner shows 0–1 urgent, 2–4 important, 5–7 medium, 8–10 low.", "priority", func(t *graph.Task) **int { return &t.Priority }),
		dateField("StartDateTime", null, iu, "When the task starts (must not be after DueDateTime).", "startDateTime", func(t *graph.Task) **graph.DateTime { return &t.StartDateTime }),
		dateField("DueDateTime", null, iu, "When the task is due.", "dueDateTime", func(t *graph.Task) **graph.DateTime { return &t.DueDateTime }),
		dateField("CreatedDateTime", null, ro, "When the task was created.", "", func(t *graph.Task) **graph.DateTime { return &t.CreatedDateTime }),
		dateField("CompletedDateTime", null, ro, "When the task was completed (set by the service when PercentComplete reaches 100).", "", func(t *graph.Task) **graph.DateTime { return &t.CompletedDateTime }),
		userIDCol("CreatedByUserId", "The id of the user who created the task (NULL when an application created it alone).", func(t *graph.Task) *graph.IdentitySet { return t.CreatedBy }),
		appIDCol("CreatedByApplicationId", "The id of the application that created the task.", func(t *graph.Task) *graph.IdentitySet { return t.CreatedBy }),
		userIDCol("CompletedByUserId", "The id of the user who completed the task (NULL when an application completed it alone).", func(t *graph.Task) *graph.IdentitySet { return t.CompletedBy }),
		appIDCol("CompletedByApplicationId", "The id of the application that completed the task.", func(t *graph.Task) *graph.IdentitySet { return t.CompletedBy }),
		boolField("HasDescription", null, ro, "1 when the task's details have a non-empty description.", "", func(t *graph.Task) **bool { return &t.HasDescription }),
		textField("PreviewType", null, ro, "What the task's card shows: automatic, noPreview, checklist, description or reference (set it through TaskDetails).", "", func(t *graph.Task) *string { return &t.PreviewType }),
		intField("ReferenceCount", null, ro, "The number of external references on the task.", "", func(t *graph.Task) **int { return &t.ReferenceCount }),
		intField("ChecklistItemCount", null, ro, "The number of checklist items on the task.", "", func(t *graph.Task) **int { return &t.ChecklistItemCount }),
		intField("ActiveChecklistItemCount", null, ro, "The number of unchecked checklist items.", "", func(t *graph.Task) **int { return &t.ActiveChecklistItemCount }),
		textField("ConversationThreadId", null, iu, "The id of the group conversation thread about the task.", "conversationThreadId", func(t *graph.Task) *string { return &t.ConversationThreadID }),
		{name: "Assignments", typ: schema.JSON, flags: null,
			desc: `The assignees, as a JSON object {"<userId>": {"assignedBy": …, "assignedDateTime": …, "orderHint": …}}. On write, the keys present are the assignees: added keys assign, missing keys unassign (TaskAssignments does the same row by row).`,
			get:  func(t *graph.Task) any { return lazyJSON(t.Assignments, t.Assignments == nil) },
			set:  setAssignments,
			patch: func(p graph.Patch, old, v any) error {
				m, err := assignmentsPatch(old, v)
				if len(m) > 0 {
					p["assignments"] = m
				}
				return err
			}},
		{name: "AppliedCategories", typ: schema.JSON, flags: null,
			desc: `The labels on the task, as a JSON object {"category3": true}. On write, the keys set to true are the labels.`,
			get:  func(t *graph.Task) any { return lazyJSON(t.AppliedCategories, t.AppliedCategories == nil) },
			set:  setAppliedCategories,
			patch: func(p graph.Patch, old, v any) error {
				m, err := categoriesPatch(old, v)
				p["appliedCategories"] = m
				return err
			}},
		etagCol("The task's version (the details have their own).", func(t *graph.Task) string { return t.ETag }),
	},
	scan:     plainTasks.scan,
	scanCost: cost{21, 1000},
	version:  taskVersion,
	insert: func(ctx context.Context, x *session, t *graph.Task) (*graph.Task, error) {
		for _, h := range taskHints {
			v, err := placeHint(*h.field(t), "", hintPlace{}, x.taskSiblings(ctx, t.PlanID, "", h))
			if err != nil {
				return nil, err
			}
			*h.field(t) = v
		}
		return x.g.Tasks.Create(ctx, t)
	},
	update: func(ctx context.Context, x *session, old *graph.Task, v version, p graph.Patch) (*graph.Task, string, error) {
		for _, h := range taskHints {
			if err := placePatched(p, h.prop, *h.field(old), hintPlace{}, x.taskSiblings(ctx, old.PlanID, old.ID, h)); err != nil {
				return nil, "", err
			}
		}
		if len(p) == 0 {
			return old, "", nil // nothing left to send
		}
		t, err := x.patchTask(ctx, v, old.ID, p)
		return t, "", err
	},
	delete: func(ctx context.Context, x *session, old *graph.Task, v version) error {
		etag, err := x.current(v, x.taskETag(ctx, old.ID))
		if err != nil {
			return err
		}
		return x.g.Tasks.Delete(ctx, old.ID, etag)
	},
	notes: []string{
		"WHERE TaskId = ? is one request; WHERE PlanId = ? lists only that plan's tasks (one request per 400 tasks); WHERE BucketId = ? lists that bucket's tasks.",
		"A scan with no pushdown discovers groups and plans and lists each plan's tasks concurrently (bounded by MaxConcurrency), streaming rows.",
		"UPDATE sends only the columns whose values changed, with the row's ETag in If-Match.",
	},
	examples: []schema.Example{
		{Title: "Overdue tasks", SQL: "SELECT Title, DueDateTime FROM Tasks WHERE PercentComplete < 100 AND DueDateTime < strftime('%Y-%m-%dT%H:%M:%SZ','now') ORDER BY DueDateTime"},
		{Title: "Tasks per bucket in one plan", SQL: "SELECT b.Name, count(*) FROM Tasks t JOIN Buckets b ON b.BucketId = t.BucketId WHERE t.PlanId = ? GROUP BY b.Name"},
		{Title: "Create a task", SQL: "INSERT INTO Tasks (PlanId, BucketId, Title, DueDateTime) VALUES (?, ?, 'Write the report', '2026-12-01T17:00:00Z') RETURNING TaskId"},
		{Title: "Complete a task", SQL: "UPDATE Tasks SET PercentComplete = 100 WHERE TaskId = ?"},
	},
}).init()

func taskVersion(t *graph.Task) version { return version{"task:" + t.ID, t.ETag} }

// taskHint is an order-hint property of tasks.
type taskHint struct {
	prop  string
	field func(*graph.Task) *string
}

// taskHints are the order hints of a task: its place in the plan's list
// and in "assigned to me" views.
var taskHints = []taskHint{
	{"orderHint", func(t *graph.Task) *string { return &t.OrderHint }},
	{"assigneePriority", func(t *graph.Task) *string { return &t.AssigneePriority }},
}

// taskSiblings returns the hints h of the plan's tasks other than skip: the
// list a copied service value places a task in (read only then; the
// statement's reads serve it when they listed the plan). AssigneePriority
// orders "assigned to me" views across plans; the plan's tasks are the
// neighbours the driver can read at the cost of one listing.
func (x *session) taskSiblings(ctx context.Context, planID, skip string, h taskHint) func() ([]string, error) {
	return hintsOf(func() iter.Seq2[*graph.Task, error] { return x.tasksOfPlan(ctx, planID) }, skip, taskID,
		func(t *graph.Task) string { return *h.field(t) })
}

// withPush gives a column a pushdown.
func withPush[T any](c column[T], p *pushdown[T]) column[T] {
	c.push = p
	return c
}

// setAssignments reads INSERT's Assignments: the keys are the assignees.
func setAssignments(t *graph.Task, v any) error {
	m, err := jsonObjectKeyed("Assignments", v, userKey)
	if err != nil {
		return err
	}
	t.Assignments = map[string]graph.Assignment{}
	for user, raw := range m {
		var a struct {
			OrderHint string `json:"orderHint"`
		}
		_ = json.Unmarshal(raw, &a)
		// A new task has no assignees yet: a service value copied from
		// another task places nothing here.
		hint, _ := placeHint(a.OrderHint, "", hintPlace{required: true}, func() ([]string, error) { return nil, nil })
		t.Assignments[user] = graph.NewAssignment(cmp.Or(hint, " !"))
	}
	return nil
}

// setAppliedCategories reads INSERT's AppliedCategories: the keys set to
// true are the labels.
func setAppliedCategories(t *graph.Task, v any) error {
	m, err := categoriesPatch(nil, v)
	if err != nil {
		return err
	}
	t.AppliedCategories = map[string]bool{}
	for k, on := range m {
		if on == true {
			t.AppliedCategories[k] = true
		}
	}
	return nil
}

// assigneePlace: a new assignee needs an order hint (" !" is documented for
// the first); given none, it goes last.
var assigneePlace = hintPlace{required: true, appendNew: true}

// assignmentValue is the open-type value that assigns a user.
func assignmentValue(orderHint string) map[string]any {
	if orderHint == "" {
		orderHint = " !"
	}
	return map[string]any{"@odata.type": odataAssignment, "orderHint": orderHint}
}

// assignmentsPatch turns the Assignments column's change into Graph's
// open-type update: new keys assign, missing keys unassign (null), a changed
// orderHint is sent on its own.
func assignmentsPatch(oldV, newV any) (map[string]any, error) {
	set, removed, err := objectDiff("Assignments", oldV, newV, userKey)
	if err != nil {
		return nil, err
	}
	// The assignees' hints as read, to place a new or moved assignee among.
	var current map[string]struct {
		OrderHint string `json:"orderHint"`
	}
	if oldV != nil {
		_ = json.Unmarshal([]byte(str(oldV)), &current)
	}
	m := map[string]any{}
	for user, v := range set {
		var a struct {
			OrderHint string `json:"orderHint"`
		}
		if len(v) > 0 && string(v) != "null" {
			if err := json.Unmarshal(v, &a); err != nil {
				return nil, fmt.Errorf("column Assignments: values must be objects, such as {\"orderHint\": \" !\"} or {} (user %s)", user)
			}
		} else {
			m[user] = nil
			continue
		}
		if cur, assigned := current[user]; assigned && (a.OrderHint == "" || a.OrderHint == cur.OrderHint) {
			// Assigned already, at its place: nothing to send (its own
			// service hint sent back would be refused).
			continue
		}
		hint, err := placeHint(a.OrderHint, current[user].OrderHint, assigneePlace, func() ([]string, error) {
			var hs []string
			for u, o := range current {
				if u != user {
					hs = append(hs, o.OrderHint)
				}
			}
			return hs, nil
		})
		if err != nil {
			return nil, err
		}
		m[user] = assignmentValue(hint)
	}
	for _, user := range removed {
		m[user] = nil
	}
	return m, nil
}

// categoriesPatch turns the AppliedCategories column's change into Graph's
// open-type update: keys set to true apply a label, others remove it.
func categoriesPatch(oldV, newV any) (map[string]any, error) {
	o, err := jsonObjectKeyed("AppliedCategories", oldV, labelKey)
	if err != nil {
		return nil, err
	}
	n, err := jsonObjectKeyed("AppliedCategories", newV, labelKey)
	if err != nil {
		return nil, err
	}
	on := func(m map[string]json.RawMessage, k string) bool { return string(m[k]) == "true" }
	m := map[string]any{}
	for k := range n {
		if err := validCategory(k); err != nil {
			return nil, err
		}
		if on(n, k) && !on(o, k) {
			m[k] = true
		}
	}
	for k := range o {
		if on(o, k) && !on(n, k) {
			m[k] = false
		}
	}
	return m, nil
}

func (x *session) taskETag(ctx context.Context, id string) func() (string, error) {
	return func() (string, error) {
		t, err := x.g.Tasks.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return t.ETag, nil
	}
}

// patchTask sends patch to a task with the right version (v, or the current
// one when v is zero, for a row not read: an INSERT into a child table) and
// returns the task as the service now has it (refetched when the service
// sent no body).
func (x *session) patchTask(ctx context.Context, v version, id string, patch graph.Patch) (*graph.Task, error) {
	var etag string
	var err error
	if v.obj == "" {
		t, err := x.g.Tasks.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		v = taskVersion(t)
		etag = t.ETag
	} else if etag, err = x.current(v, x.taskETag(ctx, id)); err != nil {
		return nil, err
	}
	t, err := x.g.Tasks.Update(ctx, id, etag, patch)
	if err != nil {
		return nil, err
	}
	if t == nil {
		if t, err = x.g.Tasks.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	x.wrote(v.obj, etag, t.ETag)
	return t, nil
}
