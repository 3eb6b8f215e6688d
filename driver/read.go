package driver

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"

	"github.com/plannersql/planner/graph"
)

// The reads the table declarations are built from: each names the Graph
// request it sends when its scope (scope.go) does not already hold the
// answer. A 404 on a lookup or a pushed-down listing is no rows.

// lookup yields the object kind:id: from the scope, else fetched with get
// and kept (an error isGone accepts, such as a 404, is kept as gone: no
// rows).
func lookup[T any](sc *scope, key string, isGone func(error) bool, get func() (*T, error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		if o, known := sc.get(key); known {
			if o != nil {
				yield(o.(*T), nil)
			}
			return
		}
		v, err := get()
		switch {
		case err != nil && isGone(err):
			sc.put(key, gone{})
		case err != nil:
			yield(nil, err)
		default:
			sc.put(key, v)
			yield(v, nil)
		}
	}
}

// lookupListed yields the object held:id like lookup, but when an IN list
// of the statement names the id (as a key of kind: "plan" for a plan's
// details too) and the scope does not hold it, it first reads, with fetch
// ($batch requests of 20), the held objects of every id of the kind the
// statement's IN lists name that the scope does not hold.
func lookupListed[T any](x *session, kind, held, id string, isGone func(error) bool, fetch func(ids []string) iter.Seq2[*T, error], get func() (*T, error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		if _, known := x.sc.get(held + ":" + id); !known && x.sc.hinted(kind, id) {
			ids := x.sc.hintsNotHeld(kind, held)
			i := 0
			for v, err := range fetch(ids) {
				k := held + ":" + ids[min(i, len(ids)-1)]
				i++
				switch {
				case err != nil && isGone(err):
					x.sc.put(k, gone{})
				case err != nil:
					yield(nil, err)
					return
				default:
					x.sc.put(k, v)
				}
			}
		}
		for v, err := range lookup(x.sc, held+":"+id, isGone, get) {
			if !yield(v, err) {
				return
			}
		}
	}
}

func groupID(g *graph.Group) string   { return g.ID }
func planID(p *graph.Plan) string     { return p.ID }
func bucketID(b *graph.Bucket) string { return b.ID }
func taskID(t *graph.Task) string     { return t.ID }

// group reads one group (GET /groups/{id}); a 404 is no group.
func (x *session) group(ctx context.Context, id string) iter.Seq2[*graph.Group, error] {
	return lookupListed(x, "group", "group", id, notFound, func(ids []string) iter.Seq2[*graph.Group, error] { return x.g.Groups.ListByID(ctx, ids) },
		func() (*graph.Group, error) { return x.g.Groups.Get(ctx, id) })
}

// allGroups lists the groups scans cover (see groups).
func (x *session) allGroups(ctx context.Context) iter.Seq2[*graph.Group, error] {
	return listed(ctx, x.sc, "groups", "group", true, groupID, func(ctx context.Context) iter.Seq2[*graph.Group, error] { return x.groups(ctx) })
}

// plan reads one plan (GET /planner/plans/{id}).
func (x *session) plan(ctx context.Context, id string) iter.Seq2[*graph.Plan, error] {
	return lookupListed(x, "plan", "plan", id, x.absent, func(ids []string) iter.Seq2[*graph.Plan, error] { return x.g.Plans.ListByID(ctx, ids) },
		func() (*graph.Plan, error) { return x.g.Plans.Get(ctx, id) })
}

// plansOfGroup lists a group's plans (GET /groups/{id}/planner/plans).
func (x *session) plansOfGroup(ctx context.Context, groupID string) iter.Seq2[*graph.Plan, error] {
	return listed(ctx, x.sc, "plans:group:"+groupID, "plan", true, planID, func(ctx context.Context) iter.Seq2[*graph.Plan, error] {
		return notFoundEmpty(x, x.g.Plans.ListByGroup(ctx, groupID))
	})
}

// allPlans lists the plans scans cover, width groups at a time (see plans).
func (x *session) allPlans(ctx context.Context, width int) iter.Seq2[*graph.Plan, error] {
	return listed(ctx, x.sc, "plans", "plan", true, planID, func(ctx context.Context) iter.Seq2[*graph.Plan, error] { return x.plans(ctx, width) })
}

// planDetails reads a plan's details: from the scope; else, when the
// statement listed the plan, with the details of the plans listed with it
// (see planDetailsAhead); else GET /planner/plans/{id}/details.
func (x *session) planDetails(ctx context.Context, planID string) iter.Seq2[*graph.PlanDetails, error] {
	return func(yield func(*graph.PlanDetails, error) bool) {
		if err := x.planDetailsAhead(ctx, planID); err != nil {
			yield(nil, err)
			return
		}
		for d, err := range lookupListed(x, "plan", "plandetails", planID, x.absent, func(ids []string) iter.Seq2[*graph.PlanDetails, error] { return x.g.Plans.ListDetails(ctx, ids) },
			func() (*graph.PlanDetails, error) { return x.g.Plans.GetDetails(ctx, planID) }) {
			if !yield(d, err) {
				return
			}
		}
	}
}

// planDetailsAhead reads, when the scope holds the plan id but not its
// details, those details together with the details of up to 19 other
// plans the scope holds without theirs — those listed after it first, the
// plans a nested loop over a plan listing, or a scan of their tasks, asks
// for next — in one $batch request: never more requests than reading the
// one plan's details alone, and ceil(plans/20) for a statement that needs
// every plan's. Plans are few and always kept in the scope, so the
// candidates are the plans the statement listed. A failure of another
// plan's details is left for its own read; the plan's own is left for the
// caller's lookup, which reports it.
func (x *session) planDetailsAhead(ctx context.Context, id string) error {
	sc := x.sc
	sc.mu.Lock()
	_, held := sc.objs["plandetails:"+id]
	p, listed := sc.objs["plan:"+id].(*graph.Plan)
	if held || !listed || p == nil || sc.hints["plan:"+id] {
		sc.mu.Unlock()
		return nil
	}
	ids := []string{id}
	seen := map[string]bool{id: true}
	add := func(pid string) {
		if len(ids) >= 20 || seen[pid] {
			return
		}
		seen[pid] = true
		if _, ok := sc.objs["plan:"+pid].(*graph.Plan); !ok {
			return
		}
		if _, ok := sc.objs["plandetails:"+pid]; ok {
			return
		}
		ids = append(ids, pid)
	}
	// The listings the plan is in, from the plan on, then the rest of
	// the plans held.
	keys := make([]string, 0, len(sc.lists))
	for k := range sc.lists {
		if k == "plans" || strings.HasPrefix(k, "plans:") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		list := sc.lists[k]
		if i := slices.Index(list, id); i >= 0 {
			for _, pid := range list[i+1:] {
				add(pid)
			}
		}
	}
	var rest []string
	for k := range sc.objs {
		if pid, ok := strings.CutPrefix(k, "plan:"); ok {
			rest = append(rest, pid)
		}
	}
	slices.Sort(rest)
	for _, pid := range rest {
		add(pid)
	}
	sc.mu.Unlock()
	return x.readPlanDetails(ctx, ids)
}

// readPlanDetails reads the details of the plans ids into the scope, those
// it does not hold already, 20 per $batch (up to MaxConcurrency at once).
// Details that fail otherwise than with 404 are left unread: a lookup of
// one reads it alone and reports. Only the context's end is an error.
func (x *session) readPlanDetails(ctx context.Context, ids []string) error {
	x.sc.mu.Lock()
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool {
		_, held := x.sc.objs["plandetails:"+id]
		return held
	})
	x.sc.mu.Unlock()
	i := 0
	for d, err := range x.g.Plans.ListDetails(ctx, ids) {
		pid := ids[min(i, len(ids)-1)]
		i++
		switch {
		case err != nil && x.absent(err):
			x.sc.put("plandetails:"+pid, gone{})
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
		default:
			x.sc.put("plandetails:"+pid, d)
		}
	}
	return nil
}

// planWithDetails reads a plan and its details: from the scope, else in one
// $batch request.
func (x *session) planWithDetails(ctx context.Context, planID string) iter.Seq2[*planWithDetails, error] {
	return func(yield func(*planWithDetails, error) bool) {
		p, pk := x.sc.get("plan:" + planID)
		d, dk := x.sc.get("plandetails:" + planID)
		if !(pk && dk) && x.sc.hinted("plan", planID) {
			// An IN list: every plan it names, with its details.
			ids := x.sc.hintsNotHeld("plan", "plandetails")
			i := 0
			for pd, err := range x.g.Plans.ListWithDetails(ctx, ids) {
				id := ids[min(i, len(ids)-1)]
				i++
				switch {
				case err != nil && x.absent(err):
					x.sc.put("plan:"+id, gone{})
					x.sc.put("plandetails:"+id, gone{})
				case err != nil:
					yield(nil, err)
					return
				default:
					x.sc.put("plan:"+id, pd.Plan)
					x.sc.put("plandetails:"+id, pd.Details)
				}
			}
			p, pk = x.sc.get("plan:" + planID)
			d, dk = x.sc.get("plandetails:" + planID)
		}
		if pk && !dk && p != nil {
			// A plan the statement listed: its details with those of the
			// plans listed with it.
			if err := x.planDetailsAhead(ctx, planID); err != nil {
				yield(nil, err)
				return
			}
			d, dk = x.sc.get("plandetails:" + planID)
		}
		if pk && dk {
			if p != nil && d != nil {
				yield(&planWithDetails{p.(*graph.Plan), d.(*graph.PlanDetails)}, nil)
			}
			return
		}
		pl, pd, err := x.g.Plans.GetWithDetails(ctx, planID)
		if err != nil {
			if x.absent(err) {
				x.sc.put("plan:"+planID, gone{})
			} else {
				yield(nil, err)
			}
			return
		}
		x.sc.put("plan:"+planID, pl)
		x.sc.put("plandetails:"+planID, pd)
		yield(&planWithDetails{pl, pd}, nil)
	}
}

// planDetailsOf yields the plans with their details: from the scope, else
// one $batch per 20 plans (ListDetails runs up to MaxConcurrency batches at
// once).
func (x *session) planDetailsOf(ctx context.Context, plans iter.Seq2[*graph.Plan, error]) iter.Seq2[*planWithDetails, error] {
	return chunked(ctx, plans, 20*x.cfg.MaxConcurrency, func(ctx context.Context, plans []*graph.Plan) iter.Seq2[*planWithDetails, error] {
		return func(yield func(*planWithDetails, error) bool) {
			var need []string
			for _, p := range plans {
				if _, known := x.sc.get("plandetails:" + p.ID); !known {
					need = append(need, p.ID)
				}
			}
			i := 0
			for d, err := range x.g.Plans.ListDetails(ctx, need) {
				id := need[min(i, len(need)-1)]
				i++
				switch {
				case err != nil && x.absent(err):
					x.sc.put("plandetails:"+id, gone{})
				case err != nil:
					yield(nil, err)
					return
				default:
					x.sc.put("plandetails:"+id, d)
				}
			}
			for _, p := range plans {
				if d, _ := x.sc.get("plandetails:" + p.ID); d != nil {
					if !yield(&planWithDetails{p, d.(*graph.PlanDetails)}, nil) {
						return
					}
				}
			}
		}
	})
}

// labelNames returns the names of a plan's labels; nil when the plan
// details cannot be read (gone or forbidden).
func (x *session) labelNames(ctx context.Context, planID string) (graph.CategoryDescriptions, error) {
	for d, err := range x.planDetails(ctx, planID) {
		if err != nil {
			if graph.IsForbidden(err) {
				x.sc.put("plandetails:"+planID, gone{})
				return nil, nil
			}
			return nil, err
		}
		return d.CategoryDescriptions, nil
	}
	return nil, nil
}

// bucket reads one bucket: from the scope; else, when the scope knows the
// bucket's plan (from a task read), by listing that plan's buckets (one
// request serves every bucket of the plan); else GET /planner/buckets/{id}.
func (x *session) bucket(ctx context.Context, id string) iter.Seq2[*graph.Bucket, error] {
	return func(yield func(*graph.Bucket, error) bool) {
		if _, known := x.sc.get("bucket:" + id); !known {
			x.sc.mu.Lock()
			plan := x.sc.bucketPlan[id]
			x.sc.mu.Unlock()
			if plan != "" {
				for _, err := range x.bucketsOfPlan(ctx, plan) {
					if err != nil {
						yield(nil, err)
						return
					}
				}
			}
		}
		for b, err := range lookupListed(x, "bucket", "bucket", id, x.absent, func(ids []string) iter.Seq2[*graph.Bucket, error] { return x.g.Buckets.ListByID(ctx, ids) },
			func() (*graph.Bucket, error) { return x.g.Buckets.Get(ctx, id) }) {
			if !yield(b, err) {
				return
			}
		}
	}
}

// bucketsOfPlan lists a plan's buckets (GET /planner/plans/{id}/buckets).
func (x *session) bucketsOfPlan(ctx context.Context, planID string) iter.Seq2[*graph.Bucket, error] {
	return listed(ctx, x.sc, "buckets:plan:"+planID, "bucket", true, bucketID, func(ctx context.Context) iter.Seq2[*graph.Bucket, error] {
		return notFoundEmpty(x, x.g.Buckets.ListByPlan(ctx, planID))
	})
}

// allBuckets lists the buckets of every plan scans cover, width plans at a
// time.
func (x *session) allBuckets(ctx context.Context, width int) iter.Seq2[*graph.Bucket, error] {
	return fanout(ctx, func(ctx context.Context) iter.Seq2[string, error] { return x.planIDs(ctx, width) }, width, 256,
		func(ctx context.Context, planID string) iter.Seq2[*graph.Bucket, error] {
			return listed(ctx, x.sc, "buckets:plan:"+planID, "bucket", true, bucketID, func(ctx context.Context) iter.Seq2[*graph.Bucket, error] {
				return skipGone(x.g.Buckets.ListByPlan(ctx, planID))
			})
		})
}

// taskReadAhead bounds the tasks each concurrent plan reader buffers.
const taskReadAhead = 100

// task reads one task: from the scope; else in a batch (see batchTasks);
// else GET /planner/tasks/{id}.
func (x *session) task(ctx context.Context, id string) iter.Seq2[*graph.Task, error] {
	return func(yield func(*graph.Task, error) bool) {
		if err := x.batchTasks(ctx, id, false); err != nil {
			yield(nil, err)
			return
		}
		for t, err := range lookup(x.sc, "task:"+id, x.absent, func() (*graph.Task, error) { return x.g.Tasks.Get(ctx, id) }) {
			if !yield(t, err) {
				return
			}
		}
	}
}

// batchTasks fetches the task id the scope does not hold together with the
// tasks a nested loop is about to ask for, in $batch requests (20 per
// call, several at once), with their details when details is set: every
// task an IN list of the statement names, when it names id; or the tasks
// that follow id in the user's task list it came from (read-ahead, doubling
// per round like startDetails). Otherwise it fetches nothing: the caller
// reads id alone.
func (x *session) batchTasks(ctx context.Context, id string, details bool) error {
	sc := x.sc
	if _, known := sc.get("task:" + id); known {
		return nil
	}
	var ids []string
	switch {
	case sc.hinted("task", id):
		ids = sc.hintsNotHeld("task", "task")
	default:
		u, listed := sc.get("utask:" + id)
		if !listed {
			return nil
		}
		if t, ok := u.(*graph.Task); ok && !details {
			// A task of the user's list whose plan scans cover is the
			// task a scan lists (only tasks of deleted plans, or of
			// groups the user left, are not): the user's rows already
			// counted it, so a lookup of it is served from the list.
			if covered, known := sc.coverage(t.PlanID); known && covered {
				sc.put("task:"+id, t)
				return nil
			}
		}
		sc.mu.Lock()
		batches := sc.ahead
		sc.ahead = min(2*sc.ahead, max(x.cfg.MaxConcurrency, 1))
		sc.mu.Unlock()
		per := 20
		if details {
			per = 10 // a task and its details are two requests of a $batch
		}
		for _, next := range sc.readAhead(id, per, batches) {
			if _, known := sc.get("task:" + next); !known || next == id {
				ids = append(ids, next)
			}
		}
	}
	return x.fetchTasks(ctx, ids, details)
}

// fetchTasks reads the tasks ids (and, with details, their details) through
// $batch, 20 requests per call, and keeps them in the scope; an id no task
// can have is never sent, and is gone like a deleted task.
func (x *session) fetchTasks(ctx context.Context, ids []string, details bool) error {
	keep := func(i int, t *graph.Task, d *graph.TaskDetails, err error) error {
		id := ids[min(i, len(ids)-1)]
		switch {
		case err != nil && x.absent(err):
			x.sc.put("task:"+id, gone{})
		case err != nil:
			return err
		default:
			if d != nil {
				x.sc.put("details:"+id, d) // first: a task kept has its details kept
			}
			x.sc.put("task:"+id, t)
		}
		return nil
	}
	i := 0
	if details {
		for td, err := range x.g.Tasks.ListWithDetails(ctx, ids) {
			if err := keep(i, td.Task, td.Details, err); err != nil {
				return err
			}
			i++
		}
		return nil
	}
	for t, err := range x.g.Tasks.ListByID(ctx, ids) {
		if err := keep(i, t, nil, err); err != nil {
			return err
		}
		i++
	}
	return nil
}

// tasksOfPlan lists a plan's tasks (GET /planner/plans/{id}/tasks).
func (x *session) tasksOfPlan(ctx context.Context, planID string) iter.Seq2[*graph.Task, error] {
	return listed(ctx, x.sc, "tasks:plan:"+planID, "task", false, taskID, func(ctx context.Context) iter.Seq2[*graph.Task, error] {
		return notFoundEmpty(x, x.g.Tasks.ListByPlan(ctx, planID))
	})
}

// tasksOfBucket lists a bucket's tasks: in a shared scope that knows the
// bucket's plan, from the plan's listing (one listing serves every bucket of
// the plan, and costs no more than the plan's share of a scan); else GET
// /planner/buckets/{id}/tasks.
func (x *session) tasksOfBucket(ctx context.Context, bucketID string) iter.Seq2[*graph.Task, error] {
	x.sc.mu.Lock()
	plan := x.sc.bucketPlan[bucketID]
	shared := x.sc.sharedLocked()
	x.sc.mu.Unlock()
	if shared && plan != "" {
		return func(yield func(*graph.Task, error) bool) {
			for t, err := range x.tasksOfPlan(ctx, plan) {
				if err != nil {
					yield(nil, err)
					return
				}
				if t.BucketID == bucketID && !yield(t, nil) {
					return
				}
			}
		}
	}
	return listed(ctx, x.sc, "tasks:bucket:"+bucketID, "task", false, taskID, func(ctx context.Context) iter.Seq2[*graph.Task, error] {
		return notFoundEmpty(x, x.g.Tasks.ListByBucket(ctx, bucketID))
	})
}

// tasksOfUser lists the tasks assigned to a user (GET /users/{id}/planner/tasks).
// Its tasks are kept as "utask" (see scope). An unknown user is no rows;
// a refusal (403) is no question of membership, since the list holds only
// what the sign-in may read, but of permission: it says which.
func (x *session) tasksOfUser(ctx context.Context, userID string) iter.Seq2[*graph.Task, error] {
	return listed(ctx, x.sc, "tasks:user:"+userID, "utask", false, taskID, func(ctx context.Context) iter.Seq2[*graph.Task, error] {
		return func(yield func(*graph.Task, error) bool) {
			for t, err := range x.g.Tasks.ListByUser(ctx, userID) {
				switch {
				case err != nil && notFound(err):
					return
				case err != nil && graph.IsForbidden(err):
					err = userTasksRefused(userID, err)
				}
				if !yield(t, err) || err != nil {
					return
				}
			}
		}
	})
}

// allTasks lists the tasks of every plan scans cover, width plans at a time.
func (x *session) allTasks(ctx context.Context, width int) iter.Seq2[*graph.Task, error] {
	// Each plan's worker holds at most taskReadAhead tasks the query has not
	// consumed: a list page holds up to 400, so the next page is requested
	// only once most of the current one is consumed, and a satisfied LIMIT
	// leaves further pages unrequested.
	return fanout(ctx, func(ctx context.Context) iter.Seq2[string, error] { return x.planIDs(ctx, width) }, width, taskReadAhead,
		func(ctx context.Context, planID string) iter.Seq2[*graph.Task, error] {
			return listed(ctx, x.sc, "tasks:plan:"+planID, "task", false, taskID, func(ctx context.Context) iter.Seq2[*graph.Task, error] {
				return skipGone(x.g.Tasks.ListByPlan(ctx, planID))
			})
		})
}

// taskAndDetails reads a task and its details: from the scope; for a task
// read but not its details, the details with read-ahead (see details); for
// a task batchTasks batches, with their details; else the task and its
// details in one $batch request.
func (x *session) taskAndDetails(ctx context.Context, id string) iter.Seq2[taskWithDetails, error] {
	return func(yield func(taskWithDetails, error) bool) {
		sc := x.sc
		t, tk := sc.get("task:" + id)
		if tk && t == nil {
			return // gone
		}
		if !tk {
			if err := x.batchTasks(ctx, id, true); err != nil {
				yield(taskWithDetails{}, err)
				return
			}
			t, tk = sc.get("task:" + id)
			if tk && t == nil {
				return
			}
		}
		if tk {
			d, err := x.details(ctx, id, true)
			if err != nil {
				yield(taskWithDetails{}, err)
				return
			}
			if d != nil {
				yield(taskWithDetails{t.(*graph.Task), d}, nil)
			}
			return
		}
		tt, d, err := x.g.Tasks.GetWithDetails(ctx, id)
		if err != nil {
			if x.absent(err) {
				sc.put("task:"+id, gone{})
			} else {
				yield(taskWithDetails{}, err)
			}
			return
		}
		sc.put("task:"+id, tt)
		sc.put("details:"+id, d)
		yield(taskWithDetails{tt, d}, nil)
	}
}

// details returns the details of the task id (nil when gone): from the
// scope, from a fetch under way, or fetched — with readAhead, together with
// the details of the tasks that follow id in its listing (the keys a nested
// loop asks for next), in up to MaxConcurrency $batch requests at once; the
// number of batches doubles with each read-ahead of the statement, so a
// statement that stops early has fetched little ahead.
func (x *session) details(ctx context.Context, id string, readAhead bool) (*graph.TaskDetails, error) {
	sc := x.sc
	for {
		sc.mu.Lock()
		o, known := sc.objs["details:"+id]
		f := sc.flights["details:"+id]
		sc.mu.Unlock()
		if known {
			d, _ := o.(*graph.TaskDetails)
			return d, nil
		}
		if f == nil {
			ids := []string{id}
			switch {
			case sc.hinted("task", id):
				// An IN list: the details of every task it names.
				ids = append(ids, sc.hintsNotHeld("task", "details")...)
			case readAhead:
				sc.mu.Lock()
				batches := sc.ahead
				sc.ahead = min(2*sc.ahead, max(x.cfg.MaxConcurrency, 1))
				sc.mu.Unlock()
				ids = sc.readAhead(id, 20, batches)
			}
			x.startDetails(ids)
			continue
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err != nil && !(errors.Is(f.err, context.Canceled) && ctx.Err() == nil) {
			return nil, f.err
		}
		// Fetched, or stopped for another reader's sake: look again.
	}
}

// startDetails starts fetching the details of those of ids the scope
// neither holds nor is fetching: one $batch request per 20, each in the
// background (under the statement's context: a cursor's ends with its
// lookup), keeping what it reads in the scope.
func (x *session) startDetails(ids []string) {
	sc := x.sc
	sc.mu.Lock()
	var need []string
	for _, id := range ids {
		if _, ok := sc.objs["details:"+id]; ok || sc.flights["details:"+id] != nil {
			continue
		}
		need = append(need, id)
	}
	type part struct {
		ids []string
		f   *flight
	}
	var parts []part
	for len(need) > 0 {
		n := min(len(need), 20)
		p := part{ids: need[:n], f: &flight{done: make(chan struct{})}}
		for _, id := range p.ids {
			sc.flights["details:"+id] = p.f
		}
		parts = append(parts, p)
		need = need[n:]
	}
	sc.mu.Unlock()
	for _, p := range parts {
		done := func(err error) {
			sc.mu.Lock()
			for _, id := range p.ids {
				if sc.flights["details:"+id] == p.f {
					delete(sc.flights, "details:"+id)
				}
			}
			p.f.err = err
			sc.mu.Unlock()
			close(p.f.done)
		}
		started := sc.background(x.bg, func(ctx context.Context) {
			i := 0
			for d, err := range x.g.Tasks.ListDetails(ctx, p.ids) {
				id := p.ids[min(i, len(p.ids)-1)]
				i++
				switch {
				case err != nil && x.absent(err):
					sc.put("details:"+id, gone{}) // the task was deleted meanwhile
				case err != nil:
					done(err)
					return
				default:
					sc.put("details:"+id, d)
				}
			}
			done(nil)
		})
		if !started {
			done(context.Canceled)
		}
	}
}

// withDetails yields the tasks with their details. When need is false the
// details are not fetched and are empty. A shared scope's details come from
// it or are fetched and kept there (fetches under way for a lookup are
// waited for, not repeated); otherwise one $batch per 20 tasks streams
// through (ListDetails runs up to MaxConcurrency batches at once).
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
	if x.sc.shared() {
		return x.sharedDetails(ctx, tasks)
	}
	// The details stream as the tasks are listed: ListDetailsSeq pulls the
	// next ids when it starts a $batch call, and goes on pulling while the
	// details the consumer waits for wait for a retry, so that the failed
	// items of many calls are retried together.
	return func(yield func(taskWithDetails, error) bool) {
		var handed []*graph.Task // tasks whose ids were pulled, not yet yielded, in order
		var listErr error
		ids := func(yieldID func(string) bool) {
			for t, err := range tasks {
				if err != nil {
					listErr = err
					return
				}
				handed = append(handed, t)
				if !yieldID(t.ID) {
					return
				}
			}
		}
		for d, err := range x.g.Tasks.ListDetailsSeq(ctx, ids) {
			t := handed[0]
			handed = handed[1:]
			if err != nil {
				if x.absent(err) {
					continue // the task was deleted meanwhile
				}
				yield(taskWithDetails{}, err)
				return
			}
			if !yield(taskWithDetails{t, d}, nil) {
				return
			}
		}
		if listErr != nil {
			yield(taskWithDetails{}, listErr)
		}
	}
}

// runDetailsAhead is how many chunks of tasks (20 × MaxConcurrency each) a
// run reads the details of ahead of its consumer: a run reads every task of
// the table and keeps what it reads, so reading ahead costs neither requests
// nor memory, and the failed items of that many chunks wait for their
// retry together (one $batch per 20 of them, rather than one per chunk).
const runDetailsAhead = 4

// sharedDetails yields the tasks with their details through the scope:
// from it, from fetches under way, or fetched in chunks of 20 ×
// MaxConcurrency tasks (one $batch per 20), kept there; a run fetches
// runDetailsAhead chunks ahead of its consumer, a statement the chunk it
// reads. A listing error is yielded after the tasks listed before it.
func (x *session) sharedDetails(ctx context.Context, tasks iter.Seq2[*graph.Task, error]) iter.Seq2[taskWithDetails, error] {
	per := 20 * max(x.cfg.MaxConcurrency, 1)
	ahead := 1
	x.sc.mu.Lock()
	if x.sc.run {
		ahead = runDetailsAhead
	}
	x.sc.mu.Unlock()
	return func(yield func(taskWithDetails, error) bool) {
		next, stop := iter.Pull2(tasks)
		defer stop()
		var chunks [][]*graph.Task // fetching, in order
		var listErr error
		more := true
		for {
			for more && len(chunks) < ahead {
				var ts []*graph.Task
				ids := make([]string, 0, per)
				for len(ts) < per {
					t, err, ok := next()
					if !ok || err != nil {
						listErr, more = err, false
						break
					}
					ts = append(ts, t)
					ids = append(ids, t.ID)
				}
				if len(ts) > 0 {
					x.startDetails(ids)
					chunks = append(chunks, ts)
				}
			}
			if len(chunks) == 0 {
				break
			}
			ts := chunks[0]
			chunks = chunks[1:]
			for _, t := range ts {
				d, err := x.details(ctx, t.ID, false)
				if err != nil {
					yield(taskWithDetails{}, err)
					return
				}
				if d != nil && !yield(taskWithDetails{t, d}, nil) {
					return
				}
			}
		}
		if listErr != nil {
			yield(taskWithDetails{}, listErr)
		}
	}
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
