package driver

import (
	"context"
	"iter"

	"github.com/plannersql/planner/graph"
)

// The reads the table declarations are built from: each names the Graph
// request it sends. A 404 on a lookup or a pushed-down listing is no rows.

// group reads one group (GET /groups/{id}).
func (x *session) group(ctx context.Context, id string) iter.Seq2[*graph.Group, error] {
	return one(x.g.Groups.Get(ctx, id))
}

// plan reads one plan (GET /planner/plans/{id}).
func (x *session) plan(ctx context.Context, id string) iter.Seq2[*graph.Plan, error] {
	return one(x.g.Plans.Get(ctx, id))
}

// plansOfGroup lists a group's plans (GET /groups/{id}/planner/plans).
func (x *session) plansOfGroup(ctx context.Context, groupID string) iter.Seq2[*graph.Plan, error] {
	return notFoundEmpty(x.g.Plans.ListByGroup(ctx, groupID))
}

// planDetails reads a plan's details (GET /planner/plans/{id}/details).
func (x *session) planDetails(ctx context.Context, planID string) iter.Seq2[*graph.PlanDetails, error] {
	return one(x.g.Plans.GetDetails(ctx, planID))
}

// planWithDetails reads a plan and its details in one $batch request.
func (x *session) planWithDetails(ctx context.Context, planID string) iter.Seq2[*planWithDetails, error] {
	return func(yield func(*planWithDetails, error) bool) {
		var p graph.Plan
		var d graph.PlanDetails
		esc := pathEscape(planID)
		if err := x.batchGet(ctx, []batchGet{{"/planner/plans/" + esc, &p}, {"/planner/plans/" + esc + "/details", &d}}); err != nil {
			if !graph.IsNotFound(err) {
				yield(nil, err)
			}
			return
		}
		yield(&planWithDetails{&p, &d}, nil)
	}
}

// planDetailsOf yields the plans with their details: one $batch per 20
// plans (ListDetails runs up to MaxConcurrency batches at once).
func (x *session) planDetailsOf(ctx context.Context, plans iter.Seq2[*graph.Plan, error]) iter.Seq2[*planWithDetails, error] {
	return chunked(ctx, plans, 20*x.cfg.MaxConcurrency, func(ctx context.Context, plans []*graph.Plan) iter.Seq2[*planWithDetails, error] {
		return func(yield func(*planWithDetails, error) bool) {
			ids := make([]string, len(plans))
			for i, p := range plans {
				ids[i] = p.ID
			}
			i := 0
			for d, err := range x.g.Plans.ListDetails(ctx, ids) {
				p := plans[min(i, len(plans)-1)]
				i++
				if err != nil {
					if graph.IsNotFound(err) {
						continue
					}
					yield(nil, err)
					return
				}
				if !yield(&planWithDetails{p, d}, nil) {
					return
				}
			}
		}
	})
}

// labelNames returns the names of a plan's labels, read once per session;
// nil when the plan details cannot be read (gone or forbidden).
func (x *session) labelNames(ctx context.Context, planID string) (graph.CategoryDescriptions, error) {
	x.mu.Lock()
	d, ok := x.labels[planID]
	x.mu.Unlock()
	if ok {
		return d, nil
	}
	pd, err := x.g.Plans.GetDetails(ctx, planID)
	if err != nil && !graph.IsNotFound(err) && !graph.IsForbidden(err) {
		return nil, err
	}
	if pd != nil {
		d = pd.CategoryDescriptions
	}
	x.mu.Lock()
	if x.labels == nil {
		x.labels = map[string]graph.CategoryDescriptions{}
	}
	x.labels[planID] = d
	x.mu.Unlock()
	return d, nil
}

// bucket reads one bucket (GET /planner/buckets/{id}).
func (x *session) bucket(ctx context.Context, id string) iter.Seq2[*graph.Bucket, error] {
	return one(x.g.Buckets.Get(ctx, id))
}

// bucketsOfPlan lists a plan's buckets (GET /planner/plans/{id}/buckets).
func (x *session) bucketsOfPlan(ctx context.Context, planID string) iter.Seq2[*graph.Bucket, error] {
	return notFoundEmpty(x.g.Buckets.ListByPlan(ctx, planID))
}

// allBuckets lists the buckets of every plan scans cover, width plans at a
// time.
func (x *session) allBuckets(ctx context.Context, width int) iter.Seq2[*graph.Bucket, error] {
	return fanout(ctx, func(ctx context.Context) iter.Seq2[string, error] { return x.planIDs(ctx, width) }, width, 256,
		func(ctx context.Context, planID string) iter.Seq2[*graph.Bucket, error] {
			return skipGone(x.g.Buckets.ListByPlan(ctx, planID))
		})
}

// taskReadAhead bounds the tasks each concurrent plan reader buffers.
const taskReadAhead = 100

// task reads one task (GET /planner/tasks/{id}).
func (x *session) task(ctx context.Context, id string) iter.Seq2[*graph.Task, error] {
	return one(x.g.Tasks.Get(ctx, id))
}

// tasksOfPlan lists a plan's tasks (GET /planner/plans/{id}/tasks).
func (x *session) tasksOfPlan(ctx context.Context, planID string) iter.Seq2[*graph.Task, error] {
	return notFoundEmpty(x.g.Tasks.ListByPlan(ctx, planID))
}

// tasksOfBucket lists a bucket's tasks (GET /planner/buckets/{id}/tasks).
func (x *session) tasksOfBucket(ctx context.Context, bucketID string) iter.Seq2[*graph.Task, error] {
	return notFoundEmpty(x.g.Tasks.ListByBucket(ctx, bucketID))
}

// tasksOfUser lists the tasks assigned to a user (GET /users/{id}/planner/tasks).
func (x *session) tasksOfUser(ctx context.Context, userID string) iter.Seq2[*graph.Task, error] {
	return notFoundEmpty(x.g.Tasks.ListByUser(ctx, userID))
}

// allTasks lists the tasks of every plan scans cover, width plans at a time.
func (x *session) allTasks(ctx context.Context, width int) iter.Seq2[*graph.Task, error] {
	// Each plan's worker holds at most taskReadAhead tasks the query has not
	// consumed: a list page holds up to 400, so the next page is requested
	// only once most of the current one is consumed, and a satisfied LIMIT
	// leaves further pages unrequested.
	return fanout(ctx, func(ctx context.Context) iter.Seq2[string, error] { return x.planIDs(ctx, width) }, width, taskReadAhead,
		func(ctx context.Context, planID string) iter.Seq2[*graph.Task, error] {
			return skipGone(x.g.Tasks.ListByPlan(ctx, planID))
		})
}

// taskAndDetails reads a task and its details in one $batch request.
func (x *session) taskAndDetails(ctx context.Context, id string) iter.Seq2[taskWithDetails, error] {
	return func(yield func(taskWithDetails, error) bool) {
		var t graph.Task
		var d graph.TaskDetails
		esc := pathEscape(id)
		err := x.batchGet(ctx, []batchGet{{"/planner/tasks/" + esc, &t}, {"/planner/tasks/" + esc + "/details", &d}})
		if err != nil {
			if !graph.IsNotFound(err) {
				yield(taskWithDetails{}, err)
			}
			return
		}
		yield(taskWithDetails{&t, &d}, nil)
	}
}

// withDetails yields the tasks with their details: one $batch per 20 tasks
// (ListDetails runs up to MaxConcurrency batches at once). When need is
// false the details are not fetched and are empty.
func (x *session) withDetails(ctx context.Context, tasks iter.Seq2[*graph.Task, error], need bool) iter.Seq2[taskWithDetails, error] {
	if !need {
		return func(yield func(taskWithDetails, error) bool) {
			for t, err := range tasks {
				if !yield(taskWithDetails{t: t, d: &graph.TaskDetails{}}, err) || err != nil {
					return
				}
			}
		}
	}
	return chunked(ctx, tasks, 20*x.cfg.MaxConcurrency, func(ctx context.Context, ts []*graph.Task) iter.Seq2[taskWithDetails, error] {
		return func(yield func(taskWithDetails, error) bool) {
			ids := make([]string, len(ts))
			for i, t := range ts {
				ids[i] = t.ID
			}
			i := 0
			for d, err := range x.g.Tasks.ListDetails(ctx, ids) {
				t := ts[min(i, len(ts)-1)]
				i++
				if err != nil {
					if graph.IsNotFound(err) {
						continue // the task was deleted meanwhile
					}
					yield(taskWithDetails{}, err)
					return
				}
				if !yield(taskWithDetails{t, d}, nil) {
					return
				}
			}
		}
	})
}

// ---- Sequence helpers

// mapSeq maps each value of a sequence.
func mapSeq[T, U any](seq iter.Seq2[*T, error], f func(*T) *U) iter.Seq2[*U, error] {
	return func(yield func(*U, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(f(v), nil) {
				return
			}
		}
	}
}

// expand turns each value of a sequence into zero or more rows.
func expand[T, U any](seq iter.Seq2[T, error], f func(T) []*U) iter.Seq2[*U, error] {
	return func(yield func(*U, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range f(v) {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// chunked groups a sequence into slices of up to n and maps each slice to a
// sequence, in order.
func chunked[T, U any](ctx context.Context, seq iter.Seq2[T, error], n int, f func(context.Context, []T) iter.Seq2[U, error]) iter.Seq2[U, error] {
	return func(yield func(U, error) bool) {
		var buf []T
		flush := func() bool {
			if len(buf) == 0 {
				return true
			}
			for u, err := range f(ctx, buf) {
				if !yield(u, err) || err != nil {
					return false
				}
			}
			buf = buf[:0]
			return true
		}
		for v, err := range seq {
			if err != nil {
				var zero U
				yield(zero, err)
				return
			}
			buf = append(buf, v)
			if len(buf) >= n && !flush() {
				return
			}
		}
		flush()
	}
}
