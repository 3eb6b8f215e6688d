package driver

import (
	"context"
	"iter"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// taskSource is how a table's rows come from tasks: each read selects tasks
// through the narrowest endpoint (one task, a plan's, a bucket's, a user's,
// or every task) and rows turns them into the table's rows.
type taskSource[T any] struct {
	rows func(ctx context.Context, x *session, q scanReq, tasks iter.Seq2[*graph.Task, error]) iter.Seq2[*T, error]
	// one, when set, reads the rows of one task in its own way (a task and
	// its details in one $batch).
	one func(ctx context.Context, x *session, id string, q scanReq) iter.Seq2[*T, error]
}

// taskCostSet are the estimates of a task source's pushdowns.
type taskCostSet struct{ id, plan, bucket, user cost }

// taskCosts are the costs of reading tasks; detailCosts of reading them with
// their details ($batch of 20 on top of the listing).
var (
	taskCosts   = taskCostSet{id: cost{1, 1}, plan: cost{1, 100}, bucket: cost{1, 20}, user: cost{1, 50}}
	detailCosts = taskCostSet{id: cost{1, 1}, plan: cost{6, 100}, bucket: cost{2, 20}}
)

// plainTasks reads the tasks themselves.
var plainTasks = taskSource[graph.Task]{
	rows: func(_ context.Context, _ *session, _ scanReq, tasks iter.Seq2[*graph.Task, error]) iter.Seq2[*graph.Task, error] {
		return tasks
	},
}

// byID, byPlan and byBucket read the rows of the tasks an equality on
// TaskId, PlanId or BucketId selects, those of plans scans cover (see
// coverage.go).
func (s taskSource[T]) byID(ctx context.Context, x *session, id string, q scanReq, task func(*T) **graph.Task) iter.Seq2[*T, error] {
	if s.one != nil {
		return covered(ctx, x, s.one(ctx, x, id, q), func(r *T) string { return (*task(r)).PlanID }, true)
	}
	return s.rows(ctx, x, q, covered(ctx, x, x.task(ctx, id), taskPlanID, true))
}

func (s taskSource[T]) byPlan(ctx context.Context, x *session, id string, q scanReq) iter.Seq2[*T, error] {
	return s.rows(ctx, x, q, ifCovered(ctx, x, id, func() iter.Seq2[*graph.Task, error] { return x.tasksOfPlan(ctx, id) }))
}

func (s taskSource[T]) byBucket(ctx context.Context, x *session, id string, q scanReq) iter.Seq2[*T, error] {
	return s.rows(ctx, x, q, covered(ctx, x, x.tasksOfBucket(ctx, id), taskPlanID, true))
}

func taskPlanID(t *graph.Task) string { return t.PlanID }

func (s taskSource[T]) scan(ctx context.Context, x *session, q scanReq) iter.Seq2[*T, error] {
	return s.rows(ctx, x, q, x.allTasks(ctx, x.concurrency(q)))
}

// scope returns the TaskId, PlanId and BucketId columns of a table whose
// rows belong to the task *task(r). idFlags are TaskId's flags; with req, an
// INSERT names the task by TaskId.
func (s taskSource[T]) scope(task func(*T) **graph.Task, idFlags colFlags, idEndpoint string, c taskCostSet) []column[T] {
	id := column[T]{name: "TaskId", typ: schema.Text, flags: key | idFlags, desc: "The task's id.",
		get: func(r *T) any { return (*task(r)).ID },
		push: &pushdown[T]{endpoint: idEndpoint, cost: c.id, fetch: func(ctx context.Context, x *session, id string, q scanReq) iter.Seq2[*T, error] {
			return s.byID(ctx, x, id, q, task)
		}}}
	if idFlags&req != 0 {
		id.set = func(r *T, v any) error { *task(r) = &graph.Task{ID: str(v)}; return nil }
	}
	return []column[T]{
		id,
		{name: "PlanId", typ: schema.Text, desc: "The id of the task's plan.",
			get:  func(r *T) any { return (*task(r)).PlanID },
			push: &pushdown[T]{endpoint: "GET /planner/plans/{id}/tasks", cost: c.plan, fetch: s.byPlan}},
		{name: "BucketId", typ: schema.Text, flags: null, desc: "The id of the task's bucket (NULL when the task is in no bucket).",
			get:  func(r *T) any { return text((*task(r)).BucketID) },
			push: &pushdown[T]{endpoint: "GET /planner/buckets/{id}/tasks", cost: c.bucket, fetch: s.byBucket}},
	}
}

// taskWithDetails pairs a task with its details.
type taskWithDetails struct {
	t *graph.Task
	d *graph.TaskDetails
}

// detailsSource reads rows built from tasks and their details. When always
// is false, the details are fetched only for a query that uses a column
// flagged detail; otherwise rows gets empty details.
func detailsSource[T any](always bool, rows func(td taskWithDetails) []*T) taskSource[T] {
	toRows := func(seq iter.Seq2[taskWithDetails, error]) iter.Seq2[*T, error] {
		return expand(seq, rows)
	}
	return taskSource[T]{
		rows: func(ctx context.Context, x *session, q scanReq, tasks iter.Seq2[*graph.Task, error]) iter.Seq2[*T, error] {
			return toRows(x.withDetails(ctx, tasks, always || q.details))
		},
		one: func(ctx context.Context, x *session, id string, q scanReq) iter.Seq2[*T, error] {
			if !always && !q.details {
				return toRows(x.withDetails(ctx, x.task(ctx, id), false))
			}
			return toRows(x.taskAndDetails(ctx, id))
		},
	}
}
