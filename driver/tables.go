package driver

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// tableImpls maps a lower-case table name to its implementation.
var tableImpls = map[string]*tableImpl{
	"groups":             {scan: scanGroups, cost: costs(2, 20, map[string][2]float64{"GroupId": {1, 1}})},
	"plans":              plansImpl,
	"plandetails":        planDetailsImpl,
	"plancategories":     planCategoriesImpl,
	"buckets":            bucketsImpl,
	"tasks":              tasksImpl,
	"taskdetails":        taskDetailsImpl,
	"taskassignments":    taskAssignmentsImpl,
	"taskchecklistitems": checklistImpl,
	"taskreferences":     referencesImpl,
	"taskcategories":     taskCategoriesImpl,
	"sys_tables":         {scan: scanSysTables, cost: costs(0, 15, nil)},
	"sys_columns":        {scan: scanSysColumns, cost: costs(0, 120, map[string][2]float64{})},
}

// costs builds a cost function from the full scan's requests and rows and the
// pushed-down columns' {requests, rows}.
func costs(scanReq float64, scanRows int64, push map[string][2]float64) func(string) (float64, int64) {
	return func(col string) (float64, int64) {
		if c, ok := push[col]; ok {
			return c[0], int64(c[1])
		}
		return scanReq, scanRows
	}
}

func asGraphError(err error, target **graph.Error) bool { return errors.As(err, target) }

// ---- Groups

func scanGroups(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
	var seq iter.Seq2[*graph.Group, error]
	if r.col == "GroupId" {
		seq = one(x.g.Groups.Get(ctx, r.val))
	} else {
		seq = x.groups(ctx)
	}
	return mapRows(seq, groupRow)
}

func groupRow(g *graph.Group) []rowRec {
	return []rowRec{{vals: []any{g.ID, text(g.DisplayName), text(g.Description), text(g.Mail), text(g.Visibility), dateVal(g.CreatedDateTime)}}}
}

// mapRows turns a sequence of Graph objects into rows (zero or more each).
func mapRows[T any](seq iter.Seq2[T, error], f func(T) []rowRec) iter.Seq2[rowRec, error] {
	return func(yield func(rowRec, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield(rowRec{}, err)
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

// ---- Plans

func (x *session) planSeq(ctx context.Context, r scanReq) iter.Seq2[*graph.Plan, error] {
	switch r.col {
	case "PlanId":
		return one(x.g.Plans.Get(ctx, r.val))
	case "GroupId":
		return notFoundEmpty(x.g.Plans.ListByGroup(ctx, r.val))
	}
	return x.plans(ctx, x.concurrency(r))
}

func planGroupID(p *graph.Plan) string {
	if p.Container != nil && strings.EqualFold(p.Container.Type, "group") {
		return p.Container.ContainerID
	}
	if p.Container == nil {
		return p.Owner
	}
	return ""
}

func planRow(p *graph.Plan) []rowRec {
	var cid, ctype, curl string
	if p.Container != nil {
		cid, ctype, curl = p.Container.ContainerID, p.Container.Type, p.Container.URL
	}
	return []rowRec{{
		obj: "plan:" + p.ID, etag: p.ETag,
		vals: []any{p.ID, p.Title, text(planGroupID(p)), text(cid), text(ctype), text(curl), text(p.Owner),
			dateVal(p.CreatedDateTime), userID(p.CreatedBy), userName(p.CreatedBy), appID(p.CreatedBy), appName(p.CreatedBy),
			text(p.ETag)},
	}}
}

var plansImpl = &tableImpl{
	scan: func(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
		return mapRows(x.planSeq(ctx, r), planRow)
	},
	cost:   costs(10, 50, map[string][2]float64{"PlanId": {1, 1}, "GroupId": {1, 2}}),
	insert: insertPlan,
	update: updatePlan,
	delete: deletePlan,
}

// ---- PlanDetails and PlanCategories

// planWithDetails pairs a plan with its details.
type planWithDetails struct {
	p *graph.Plan
	d *graph.PlanDetails
}

// planDetailsSeq yields plans with their details: the plan and its details in
// one $batch for a PlanId, else the plans' listing plus one $batch per 20 plans.
func (x *session) planDetailsSeq(ctx context.Context, r scanReq) iter.Seq2[planWithDetails, error] {
	if r.col == "PlanId" {
		return func(yield func(planWithDetails, error) bool) {
			p, d, err := x.planAndDetails(ctx, r.val)
			if err != nil {
				if !absent(err) {
					yield(planWithDetails{}, err)
				}
				return
			}
			yield(planWithDetails{p, d}, nil)
		}
	}
	return chunked(ctx, x.planSeq(ctx, r), 20*x.cfg.MaxConcurrency, func(ctx context.Context, plans []*graph.Plan) iter.Seq2[planWithDetails, error] {
		return func(yield func(planWithDetails, error) bool) {
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
					yield(planWithDetails{}, err)
					return
				}
				if !yield(planWithDetails{p, d}, nil) {
					return
				}
			}
		}
	})
}

// planAndDetails fetches a plan and its details in one $batch request.
func (x *session) planAndDetails(ctx context.Context, planID string) (*graph.Plan, *graph.PlanDetails, error) {
	return x.g.Plans.GetWithDetails(ctx, planID)
}

func planDetailsRow(pd planWithDetails) []rowRec {
	d := pd.d
	return []rowRec{{
		obj: "plandetails:" + pd.p.ID, etag: d.ETag,
		vals: []any{pd.p.ID, text(planGroupID(pd.p)), lazyJSON(d.SharedWith, d.SharedWith == nil),
			lazyJSON(d.CategoryDescriptions, d.CategoryDescriptions == nil), text(d.ETag)},
	}}
}

var planDetailsImpl = &tableImpl{
	scan: func(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
		return mapRows(x.planDetailsSeq(ctx, r), planDetailsRow)
	},
	cost:   costs(14, 50, map[string][2]float64{"PlanId": {1, 1}, "GroupId": {2, 2}}),
	update: updatePlanDetails,
}

// categoryNumber orders "category10" after "category9".
func categoryNumber(c string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(c), "category"))
	if err != nil {
		return 1 << 30
	}
	return n
}

func sortedCategories[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(categoryNumber(a), categoryNumber(b)), strings.Compare(a, b))
	})
	return keys
}

func planCategoryRows(planID string, d *graph.PlanDetails) []rowRec {
	var out []rowRec
	for _, cat := range sortedCategories(d.CategoryDescriptions) {
		name := d.CategoryDescriptions[cat]
		if name == "" {
			continue
		}
		out = append(out, rowRec{obj: "plandetails:" + planID, etag: d.ETag, vals: []any{planID, cat, name}})
	}
	return out
}

var planCategoriesImpl = &tableImpl{
	scan: func(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
		if r.col == "PlanId" {
			return mapRows(one(x.g.Plans.GetDetails(ctx, r.val)), func(d *graph.PlanDetails) []rowRec {
				return planCategoryRows(r.val, d)
			})
		}
		return mapRows(x.planDetailsSeq(ctx, r), func(pd planWithDetails) []rowRec {
			return planCategoryRows(pd.p.ID, pd.d)
		})
	},
	cost:   costs(14, 200, map[string][2]float64{"PlanId": {1, 6}}),
	insert: insertPlanCategory,
	update: updatePlanCategory,
	delete: deletePlanCategory,
}

// ---- Buckets

func bucketRow(b *graph.Bucket) []rowRec {
	return []rowRec{{obj: "bucket:" + b.ID, etag: b.ETag, vals: []any{b.ID, b.PlanID, b.Name, text(b.OrderHint), text(b.ETag)}}}
}

var bucketsImpl = &tableImpl{
	scan: func(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
		var seq iter.Seq2[*graph.Bucket, error]
		switch r.col {
		case "BucketId":
			seq = one(x.g.Buckets.Get(ctx, r.val))
		case "PlanId":
			seq = notFoundEmpty(x.g.Buckets.ListByPlan(ctx, r.val))
		default:
			w := x.concurrency(r)
			seq = fanout(ctx, func(ctx context.Context) iter.Seq2[string, error] { return x.planIDs(ctx, w) }, w, 256,
				func(ctx context.Context, planID string) iter.Seq2[*graph.Bucket, error] {
					return skipGone(x.g.Buckets.ListByPlan(ctx, planID))
				})
		}
		return mapRows(seq, bucketRow)
	},
	cost:   costs(60, 250, map[string][2]float64{"BucketId": {1, 1}, "PlanId": {1, 5}}),
	insert: insertBucket,
	update: updateBucket,
	delete: deleteBucket,
}

// ---- Tasks

// taskReadAhead bounds the tasks each concurrent plan reader buffers.
const taskReadAhead = 100

// taskSeq yields the tasks a scan covers through the narrowest endpoint.
func (x *session) taskSeq(ctx context.Context, r scanReq) iter.Seq2[*graph.Task, error] {
	switch r.col {
	case "TaskId":
		return one(x.g.Tasks.Get(ctx, r.val))
	case "BucketId":
		return notFoundEmpty(x.g.Tasks.ListByBucket(ctx, r.val))
	case "PlanId":
		return notFoundEmpty(x.g.Tasks.ListByPlan(ctx, r.val))
	case "UserId":
		return notFoundEmpty(x.g.Tasks.ListByUser(ctx, r.val))
	}
	// Each plan's worker holds at most taskReadAhead tasks the query has not
	// consumed: a list page holds up to 400, so the next page is requested
	// only once most of the current one is consumed, and a satisfied LIMIT
	// leaves further pages unrequested.
	w := x.concurrency(r)
	return fanout(ctx, func(ctx context.Context) iter.Seq2[string, error] { return x.planIDs(ctx, w) }, w, taskReadAhead,
		func(ctx context.Context, planID string) iter.Seq2[*graph.Task, error] {
			return skipGone(x.g.Tasks.ListByPlan(ctx, planID))
		})
}

func taskRow(t *graph.Task) []any {
	return []any{
		t.ID, t.PlanID, text(t.BucketID), t.Title, text(t.OrderHint), text(t.AssigneePriority),
		intVal(t.PercentComplete), intVal(t.Priority), dateVal(t.StartDateTime), dateVal(t.DueDateTime),
		dateVal(t.CreatedDateTime), dateVal(t.CompletedDateTime), userID(t.CreatedBy), userID(t.CompletedBy),
		boolVal(t.HasDescription), text(t.PreviewType), intVal(t.ReferenceCount), intVal(t.ChecklistItemCount),
		intVal(t.ActiveChecklistItemCount), text(t.ConversationThreadID),
		lazyJSON(t.Assignments, t.Assignments == nil), lazyJSON(t.AppliedCategories, t.AppliedCategories == nil),
		text(t.ETag),
	}
}

func taskRec(t *graph.Task) rowRec {
	return rowRec{obj: "task:" + t.ID, etag: t.ETag, vals: taskRow(t)}
}

// taskCosts are the costs of tables read from task listings.
var taskCosts = map[string][2]float64{"TaskId": {1, 1}, "BucketId": {1, 20}, "PlanId": {1, 100}, "UserId": {1, 50}}

var tasksImpl = &tableImpl{
	scan: func(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
		return mapRows(x.taskSeq(ctx, r), func(t *graph.Task) []rowRec { return []rowRec{taskRec(t)} })
	},
	cost:   costs(100, 5000, taskCosts),
	insert: insertTask,
	update: updateTask,
	delete: deleteTask,
}

// ---- Task details and the tables built from them

// taskWithDetails pairs a task with its details.
type taskWithDetails struct {
	t *graph.Task
	d *graph.TaskDetails
}

// detailsSeq yields tasks with their details: for a TaskId the task and its
// details in one $batch; otherwise the tasks' listing plus one $batch per 20
// tasks (ListDetails runs up to MaxConcurrency batches at once). When the
// query uses no column of the details, they are not fetched.
func (x *session) detailsSeq(ctx context.Context, r scanReq, need bool) iter.Seq2[taskWithDetails, error] {
	if r.col == "TaskId" && need {
		return func(yield func(taskWithDetails, error) bool) {
			t, d, err := x.g.Tasks.GetWithDetails(ctx, r.val)
			if err != nil {
				if !absent(err) {
					yield(taskWithDetails{}, err)
				}
				return
			}
			yield(taskWithDetails{t, d}, nil)
		}
	}
	tasks := x.taskSeq(ctx, r)
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

// usesAny reports whether the query references any of the named columns.
func usesAny(t *schema.Table, r scanReq, names ...string) bool {
	for _, n := range names {
		if r.uses(t, n) {
			return true
		}
	}
	return false
}

// detailsScan builds the scan of a table read from task details. The details
// are skipped when the query references none of detailCols ("*": always
// needed, because the details decide how many rows there are).
func detailsScan(name string, rows func(taskWithDetails) []rowRec, detailCols ...string) func(context.Context, *session, scanReq) iter.Seq2[rowRec, error] {
	t := schema.Lookup(name)
	always := len(detailCols) == 1 && detailCols[0] == "*"
	return func(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
		return mapRows(x.detailsSeq(ctx, r, always || usesAny(t, r, detailCols...)), rows)
	}
}

var detailCosts = map[string][2]float64{"TaskId": {1, 1}, "BucketId": {2, 20}, "PlanId": {6, 100}}

// taskDetailsRows is the TaskDetails row of a task.
func taskDetailsRows(td taskWithDetails) []rowRec {
	d := td.d
	return []rowRec{{
		obj: "details:" + td.t.ID, etag: d.ETag,
		vals: []any{td.t.ID, td.t.PlanID, text(td.t.BucketID), text(d.Description), text(d.PreviewType),
			lazyJSON(d.Checklist, d.Checklist == nil), lazyJSON(referencesByURL(d), d.References == nil), text(d.ETag)},
	}}
}

// referencesByURL re-keys a task's references by their decoded URL, as the
// References column shows them (graph.TaskDetails keys them as Graph does).
func referencesByURL(d *graph.TaskDetails) map[string]graph.ExternalReference {
	if d.References == nil {
		return nil
	}
	out := make(map[string]graph.ExternalReference, len(d.References))
	for _, ref := range d.References {
		out[ref.URL] = ref
	}
	return out
}

// checklistRows are the TaskChecklistItems rows of a task, in checklist order.
func checklistRows(td taskWithDetails) []rowRec {
	d := td.d
	ids := make([]string, 0, len(d.Checklist))
	for id := range d.Checklist {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(strings.Compare(d.Checklist[a].OrderHint, d.Checklist[b].OrderHint), strings.Compare(a, b))
	})
	out := make([]rowRec, 0, len(ids))
	for _, id := range ids {
		it := d.Checklist[id]
		out = append(out, rowRec{obj: "details:" + td.t.ID, etag: d.ETag, vals: []any{
			td.t.ID, td.t.PlanID, text(td.t.BucketID), id, it.Title, boolVal(it.IsChecked), text(it.OrderHint),
			dateVal(it.LastModifiedDateTime), userID(it.LastModifiedBy),
		}})
	}
	return out
}

// referenceRows are the TaskReferences rows of a task, by URL.
func referenceRows(td taskWithDetails) []rowRec {
	d := td.d
	keys := make([]string, 0, len(d.References))
	for k := range d.References {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(strings.Compare(d.References[a].URL, d.References[b].URL), strings.Compare(a, b))
	})
	out := make([]rowRec, 0, len(keys))
	for _, k := range keys {
		ref := d.References[k]
		out = append(out, rowRec{obj: "details:" + td.t.ID, etag: d.ETag, vals: []any{
			td.t.ID, td.t.PlanID, text(td.t.BucketID), ref.URL, text(ref.Alias), text(ref.Type), text(ref.PreviewPriority),
			dateVal(ref.LastModifiedDateTime), userID(ref.LastModifiedBy),
		}})
	}
	return out
}

var taskDetailsImpl = &tableImpl{
	scan:   detailsScan("TaskDetails", taskDetailsRows, "Description", "PreviewType", "Checklist", "References", "ETag"),
	cost:   costs(350, 5000, detailCosts),
	update: updateTaskDetails,
}

var checklistImpl = &tableImpl{
	scan:   detailsScan("TaskChecklistItems", checklistRows, "*"),
	cost:   costs(350, 20000, detailCosts),
	insert: insertChecklistItem,
	update: updateChecklistItem,
	delete: deleteChecklistItem,
}

var referencesImpl = &tableImpl{
	scan:   detailsScan("TaskReferences", referenceRows, "*"),
	cost:   costs(350, 5000, detailCosts),
	insert: insertReference,
	update: updateReference,
	delete: deleteReference,
}

// ---- Tables read from the task itself

func assignmentRows(t *graph.Task, only string) []rowRec {
	users := make([]string, 0, len(t.Assignments))
	for u := range t.Assignments {
		if only == "" || u == only {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	out := make([]rowRec, 0, len(users))
	for _, u := range users {
		a := t.Assignments[u]
		out = append(out, rowRec{obj: "task:" + t.ID, etag: t.ETag, vals: []any{
			t.ID, t.PlanID, text(t.BucketID), u, userID(a.AssignedBy), dateVal(a.AssignedDateTime), text(a.OrderHint),
		}})
	}
	return out
}

var taskAssignmentsImpl = &tableImpl{
	scan: func(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
		only := ""
		if r.col == "UserId" {
			only = r.val
		}
		return mapRows(x.taskSeq(ctx, r), func(t *graph.Task) []rowRec { return assignmentRows(t, only) })
	},
	cost:   costs(100, 6000, taskCosts),
	insert: insertAssignment,
	delete: deleteAssignment,
}

var taskCategoriesImpl = &tableImpl{
	scan: func(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
		t := schema.Lookup("TaskCategories")
		names := usesAny(t, r, "Name")
		cache := map[string]graph.CategoryDescriptions{}
		return func(yield func(rowRec, error) bool) {
			for task, err := range x.taskSeq(ctx, r) {
				if err != nil {
					yield(rowRec{}, err)
					return
				}
				var desc graph.CategoryDescriptions
				if names && len(task.AppliedCategories) > 0 {
					d, ok := cache[task.PlanID]
					if !ok {
						pd, err := x.g.Plans.GetDetails(ctx, task.PlanID)
						if err != nil && !graph.IsNotFound(err) && !graph.IsForbidden(err) {
							yield(rowRec{}, err)
							return
						}
						if pd != nil {
							d = pd.CategoryDescriptions
						}
						cache[task.PlanID] = d
					}
					desc = d
				}
				for _, cat := range sortedCategories(task.AppliedCategories) {
					if !task.AppliedCategories[cat] {
						continue
					}
					rec := rowRec{obj: "task:" + task.ID, etag: task.ETag, vals: []any{
						task.ID, task.PlanID, text(task.BucketID), cat, text(desc[cat]),
					}}
					if !yield(rec, nil) {
						return
					}
				}
			}
		}
	},
	cost:   costs(110, 3000, taskCosts),
	insert: insertTaskCategory,
	delete: deleteTaskCategory,
}

// ---- The catalog

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func scanSysTables(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
	return func(yield func(rowRec, error) bool) {
		for _, t := range schema.All() {
			if !yield(rowRec{vals: []any{t.Name, t.Description, boolInt(t.Updatable())}}, nil) {
				return
			}
		}
	}
}

func scanSysColumns(ctx context.Context, x *session, r scanReq) iter.Seq2[rowRec, error] {
	return func(yield func(rowRec, error) bool) {
		for _, t := range schema.All() {
			for _, c := range t.Columns {
				rec := rowRec{vals: []any{t.Name, c.Name, string(c.Type), boolInt(c.Key), boolInt(c.Nullable),
					boolInt(c.Writable()), boolInt(c.Pushdown), c.Description}}
				if !yield(rec, nil) {
					return
				}
			}
		}
	}
}
