package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// Errors a write can fail with, besides Graph's own (which errors.As finds as
// *graph.Error). The messages may change; match with errors.Is.
var (
	// ErrRowChanged: the row changed in Planner since the statement read it
	// (Graph answered 412 or 409 to the write's If-Match). Read it again and retry.
	ErrRowChanged = errors.New("the row changed since it was read")
	// ErrRowGone: the row no longer exists in Planner.
	ErrRowGone = errors.New("the row no longer exists")
)

const (
	odataAssignment    = "#microsoft.graph.plannerAssignment"
	odataChecklistItem = "#microsoft.graph.plannerChecklistItem"
	odataReference     = "#microsoft.graph.plannerExternalReference"
)

// writeError describes a failed write: the statement, the table, the row's key
// and what to do, keeping the cause for errors.Is/As.
func writeError(op string, tb *schema.Table, vals []any, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	key := keyText(tb, vals)
	switch {
	case graph.IsPreconditionFailed(err) || graph.IsConflict(err):
		return fmt.Errorf("planner: %s %s %s: %w; read it again and retry: %w", op, tb.Name, key, ErrRowChanged, err)
	case graph.IsNotFound(err):
		return fmt.Errorf("planner: %s %s %s: %w: %w", op, tb.Name, key, ErrRowGone, err)
	}
	return fmt.Errorf("planner: %s %s %s: %w", op, tb.Name, key, err)
}

func keyText(tb *schema.Table, vals []any) string {
	var parts []string
	for _, k := range tb.Key {
		_, i := tb.Column(k)
		if i >= 0 && i < len(vals) && vals[i] != nil {
			parts = append(parts, fmt.Sprintf("%s=%v", k, vals[i]))
		}
	}
	if len(parts) == 0 {
		return "(new row)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// row gives named access to a row's values.
type row struct {
	t    *schema.Table
	vals []any
}

func rowOf(table string, vals []any) row { return row{schema.Lookup(table), vals} }

func (r row) get(name string) any {
	_, i := r.t.Column(name)
	if i < 0 {
		panic("planner: internal error: no column " + name + " in " + r.t.Name)
	}
	return r.vals[i]
}

func (r row) str(name string) string { return str(r.get(name)) }

// changed reports whether the named column is among the changed ones.
func changedCol(t *schema.Table, changed []bool, name string) bool {
	_, i := t.Column(name)
	return i >= 0 && changed[i]
}

// current returns the ETag to send for old: the one read, or ours if this
// session changed the object since; when our write's new ETag is unknown, it
// is fetched with get.
func (x *session) current(old rowRec, get func() (string, error)) (string, error) {
	if x.stale(old) {
		etag, err := get()
		if err != nil {
			return "", err
		}
		x.wrote(old.obj, old.etag, etag)
		return etag, nil
	}
	return x.fresh(old).etag, nil
}

// afterWrite records a write's new version of old's object and returns the
// row as written: built from the service's representation when it sent one,
// else the values given (with the version unknown until refetched).
func afterWrite[T any](x *session, old rowRec, sent string, obj *T, rec func(*T) rowRec, vals []any) rowRec {
	if obj != nil {
		r := rec(obj)
		x.wrote(old.obj, sent, r.etag)
		return r
	}
	x.wrote(old.obj, sent, "")
	return rowRec{obj: old.obj, etag: sent, vals: vals}
}

func first(rows []rowRec) rowRec {
	if len(rows) == 0 {
		return rowRec{}
	}
	return rows[0]
}

// ---- Plans

func insertPlan(ctx context.Context, x *session, vals []any) (rowRec, error) {
	r := rowOf("Plans", vals)
	p := &graph.Plan{Title: r.str("Title")}
	switch {
	case r.get("GroupId") != nil:
		p.Container = &graph.PlanContainer{ContainerID: r.str("GroupId"), Type: "group"}
	case r.get("ContainerId") != nil || r.get("ContainerUrl") != nil:
		typ := r.str("ContainerType")
		if r.get("ContainerId") != nil && typ == "" {
			typ = "group"
		}
		p.Container = &graph.PlanContainer{ContainerID: r.str("ContainerId"), Type: typ, URL: r.str("ContainerUrl")}
	default:
		return rowRec{}, errors.New("give GroupId, or ContainerId and ContainerType, for the new plan")
	}
	created, err := x.g.Plans.Create(ctx, p)
	if err != nil {
		return rowRec{}, err
	}
	return first(planRow(created)), nil
}

func (x *session) planETag(ctx context.Context, id string) func() (string, error) {
	return func() (string, error) {
		p, err := x.g.Plans.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return p.ETag, nil
	}
}

func updatePlan(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	r := rowOf("Plans", vals)
	id := r.str("PlanId")
	etag, err := x.current(old, x.planETag(ctx, id))
	if err != nil {
		return rowRec{}, err
	}
	p, err := x.g.Plans.Update(ctx, id, etag, graph.Patch{"title": r.str("Title")})
	if err != nil {
		return rowRec{}, err
	}
	return afterWrite(x, old, etag, p, func(p *graph.Plan) rowRec { return first(planRow(p)) }, vals), nil
}

func deletePlan(ctx context.Context, x *session, old rowRec) error {
	id := rowOf("Plans", old.vals).str("PlanId")
	etag, err := x.current(old, x.planETag(ctx, id))
	if err != nil {
		return err
	}
	return x.g.Plans.Delete(ctx, id, etag)
}

// ---- PlanDetails and PlanCategories

func (x *session) planDetailsETag(ctx context.Context, planID string) func() (string, error) {
	return func() (string, error) {
		d, err := x.g.Plans.GetDetails(ctx, planID)
		if err != nil {
			return "", err
		}
		return d.ETag, nil
	}
}

// objectDiff compares two JSON objects key by key: the keys added or whose
// values changed, and the keys removed.
func objectDiff(col string, oldV, newV any) (set map[string]json.RawMessage, removed []string, err error) {
	o, err := jsonObject(col, oldV)
	if err != nil {
		return nil, nil, err
	}
	n, err := jsonObject(col, newV)
	if err != nil {
		return nil, nil, err
	}
	set = map[string]json.RawMessage{}
	for k, v := range n {
		if ov, ok := o[k]; !ok || !jsonEqual(ov, v) {
			set[k] = v
		}
	}
	for k := range o {
		if _, ok := n[k]; !ok {
			removed = append(removed, k)
		}
	}
	return set, removed, nil
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	ab, _ := json.Marshal(x)
	bb, _ := json.Marshal(y)
	return string(ab) == string(bb)
}

func validCategory(c string) error {
	n := categoryNumber(c)
	if !strings.HasPrefix(strings.ToLower(c), "category") || n < 1 || n > 25 {
		return fmt.Errorf("%q is not a label: use category1 … category25", c)
	}
	return nil
}

func updatePlanDetails(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	t := schema.Lookup("PlanDetails")
	r := row{t, vals}
	o := row{t, old.vals}
	id := r.str("PlanId")
	patch := graph.Patch{}
	if changedCol(t, changed, "SharedWith") {
		set, removed, err := objectDiff("SharedWith", o.get("SharedWith"), r.get("SharedWith"))
		if err != nil {
			return rowRec{}, err
		}
		m := map[string]any{}
		for k, v := range set {
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return rowRec{}, fmt.Errorf("SharedWith values must be true or false (user %s)", k)
			}
			m[k] = b
		}
		for _, k := range removed {
			m[k] = false
		}
		patch["sharedWith"] = m
	}
	if changedCol(t, changed, "CategoryDescriptions") {
		set, removed, err := objectDiff("CategoryDescriptions", o.get("CategoryDescriptions"), r.get("CategoryDescriptions"))
		if err != nil {
			return rowRec{}, err
		}
		m := map[string]any{}
		for k, v := range set {
			if err := validCategory(k); err != nil {
				return rowRec{}, err
			}
			var s *string
			if err := json.Unmarshal(v, &s); err != nil {
				return rowRec{}, fmt.Errorf("CategoryDescriptions values must be text or null (%s)", k)
			}
			if s == nil {
				m[k] = nil
			} else {
				m[k] = *s
			}
		}
		for _, k := range removed {
			m[k] = nil
		}
		patch["categoryDescriptions"] = m
	}
	etag, err := x.current(old, x.planDetailsETag(ctx, id))
	if err != nil {
		return rowRec{}, err
	}
	d, err := x.g.Plans.UpdateDetails(ctx, id, etag, patch)
	if err != nil {
		return rowRec{}, err
	}
	p := &graph.Plan{ID: id}
	if gid := r.get("GroupId"); gid != nil {
		p.Container = &graph.PlanContainer{ContainerID: str(gid), Type: "group"}
	}
	return afterWrite(x, old, etag, d, func(d *graph.PlanDetails) rowRec { return first(planDetailsRow(planWithDetails{p, d})) }, vals), nil
}

// patchPlanCategory sets (or, with a nil name, clears) a label's name.
func patchPlanCategory(ctx context.Context, x *session, old rowRec, planID, cat string, name any, vals []any) (rowRec, error) {
	if err := validCategory(cat); err != nil {
		return rowRec{}, err
	}
	cat = strings.ToLower(cat)
	var etag string
	var err error
	if old.obj == "" {
		etag, err = x.planDetailsETag(ctx, planID)()
		old = rowRec{obj: "plandetails:" + planID, etag: etag}
	} else {
		etag, err = x.current(old, x.planDetailsETag(ctx, planID))
	}
	if err != nil {
		return rowRec{}, err
	}
	d, err := x.g.Plans.UpdateDetails(ctx, planID, etag, graph.Patch{"categoryDescriptions": map[string]any{cat: name}})
	if err != nil {
		return rowRec{}, err
	}
	return afterWrite(x, old, etag, d, func(d *graph.PlanDetails) rowRec {
		return rowRec{obj: old.obj, etag: d.ETag, vals: []any{planID, cat, name}}
	}, vals), nil
}

func insertPlanCategory(ctx context.Context, x *session, vals []any) (rowRec, error) {
	r := rowOf("PlanCategories", vals)
	return patchPlanCategory(ctx, x, rowRec{}, r.str("PlanId"), r.str("Category"), r.str("Name"), vals)
}

func updatePlanCategory(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	r := rowOf("PlanCategories", vals)
	return patchPlanCategory(ctx, x, old, r.str("PlanId"), r.str("Category"), r.str("Name"), vals)
}

func deletePlanCategory(ctx context.Context, x *session, old rowRec) error {
	r := rowOf("PlanCategories", old.vals)
	_, err := patchPlanCategory(ctx, x, old, r.str("PlanId"), r.str("Category"), nil, old.vals)
	return err
}

// ---- Buckets

func insertBucket(ctx context.Context, x *session, vals []any) (rowRec, error) {
	r := rowOf("Buckets", vals)
	b, err := x.g.Buckets.Create(ctx, &graph.Bucket{PlanID: r.str("PlanId"), Name: r.str("Name"), OrderHint: r.str("OrderHint")})
	if err != nil {
		return rowRec{}, err
	}
	return first(bucketRow(b)), nil
}

func (x *session) bucketETag(ctx context.Context, id string) func() (string, error) {
	return func() (string, error) {
		b, err := x.g.Buckets.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return b.ETag, nil
	}
}

func updateBucket(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	t := schema.Lookup("Buckets")
	r := row{t, vals}
	id := r.str("BucketId")
	patch := graph.Patch{}
	if changedCol(t, changed, "Name") {
		patch["name"] = r.str("Name")
	}
	if changedCol(t, changed, "OrderHint") {
		patch["orderHint"] = r.get("OrderHint")
	}
	etag, err := x.current(old, x.bucketETag(ctx, id))
	if err != nil {
		return rowRec{}, err
	}
	b, err := x.g.Buckets.Update(ctx, id, etag, patch)
	if err != nil {
		return rowRec{}, err
	}
	return afterWrite(x, old, etag, b, func(b *graph.Bucket) rowRec { return first(bucketRow(b)) }, vals), nil
}

func deleteBucket(ctx context.Context, x *session, old rowRec) error {
	id := rowOf("Buckets", old.vals).str("BucketId")
	etag, err := x.current(old, x.bucketETag(ctx, id))
	if err != nil {
		return err
	}
	return x.g.Buckets.Delete(ctx, id, etag)
}

// ---- Tasks

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
	set, removed, err := objectDiff("Assignments", oldV, newV)
	if err != nil {
		return nil, err
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
		m[user] = assignmentValue(a.OrderHint)
	}
	for _, user := range removed {
		m[user] = nil
	}
	return m, nil
}

// categoriesPatch turns the AppliedCategories column's change into Graph's
// open-type update: keys set to true apply a label, others remove it.
func categoriesPatch(oldV, newV any) (map[string]any, error) {
	o, err := jsonObject("AppliedCategories", oldV)
	if err != nil {
		return nil, err
	}
	n, err := jsonObject("AppliedCategories", newV)
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

// taskFields maps the Tasks columns an UPDATE may change to Graph properties.
var taskFields = map[string]string{
	"BucketId": "bucketId", "Title": "title", "OrderHint": "orderHint", "AssigneePriority": "assigneePriority",
	"PercentComplete": "percentComplete", "Priority": "priority", "StartDateTime": "startDateTime",
	"DueDateTime": "dueDateTime", "ConversationThreadId": "conversationThreadId",
}

func taskPatchValue(col string, v any) (any, error) {
	switch col {
	case "PercentComplete", "Priority":
		return patchInt(v), nil
	case "StartDateTime", "DueDateTime":
		return patchTime(v)
	}
	if v == nil {
		return nil, nil
	}
	return str(v), nil
}

func insertTask(ctx context.Context, x *session, vals []any) (rowRec, error) {
	r := rowOf("Tasks", vals)
	t := &graph.Task{
		PlanID: r.str("PlanId"), BucketID: r.str("BucketId"), Title: r.str("Title"),
		OrderHint: r.str("OrderHint"), AssigneePriority: r.str("AssigneePriority"),
		ConversationThreadID: r.str("ConversationThreadId"),
	}
	for _, c := range []struct {
		name string
		dst  **int
	}{{"PercentComplete", &t.PercentComplete}, {"Priority", &t.Priority}} {
		if v := r.get(c.name); v != nil {
			n := int(v.(int64))
			*c.dst = &n
		}
	}
	for _, c := range []struct {
		name string
		dst  **graph.DateTime
	}{{"StartDateTime", &t.StartDateTime}, {"DueDateTime", &t.DueDateTime}} {
		if v := r.get(c.name); v != nil {
			tm, err := parseTime(str(v))
			if err != nil {
				return rowRec{}, err
			}
			*c.dst = &graph.DateTime{Time: tm}
		}
	}
	if v := r.get("Assignments"); v != nil {
		m, err := jsonObject("Assignments", v)
		if err != nil {
			return rowRec{}, err
		}
		t.Assignments = map[string]graph.Assignment{}
		for user, raw := range m {
			var a struct {
				OrderHint string `json:"orderHint"`
			}
			_ = json.Unmarshal(raw, &a)
			t.Assignments[user] = graph.NewAssignment(cmpOr(a.OrderHint, " !"))
		}
	}
	if v := r.get("AppliedCategories"); v != nil {
		m, err := categoriesPatch(nil, v)
		if err != nil {
			return rowRec{}, err
		}
		t.AppliedCategories = map[string]bool{}
		for k, on := range m {
			if on == true {
				t.AppliedCategories[k] = true
			}
		}
	}
	created, err := x.g.Tasks.Create(ctx, t)
	if err != nil {
		return rowRec{}, err
	}
	return taskRec(created), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
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

// patchTask sends patch to a task with the right version and returns the task
// as the service now has it (refetched when the service sent no body).
func (x *session) patchTask(ctx context.Context, old rowRec, id string, patch graph.Patch) (*graph.Task, error) {
	var etag string
	var err error
	if old.obj == "" {
		t, err := x.g.Tasks.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		old = rowRec{obj: "task:" + id, etag: t.ETag}
		etag = t.ETag
	} else if etag, err = x.current(old, x.taskETag(ctx, id)); err != nil {
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
	x.wrote(old.obj, etag, t.ETag)
	return t, nil
}

func updateTask(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	tb := schema.Lookup("Tasks")
	r := row{tb, vals}
	o := row{tb, old.vals}
	patch := graph.Patch{}
	for col, prop := range taskFields {
		if !changedCol(tb, changed, col) {
			continue
		}
		v, err := taskPatchValue(col, r.get(col))
		if err != nil {
			return rowRec{}, fmt.Errorf("column %s: %w", col, err)
		}
		patch[prop] = v
	}
	if changedCol(tb, changed, "Assignments") {
		m, err := assignmentsPatch(o.get("Assignments"), r.get("Assignments"))
		if err != nil {
			return rowRec{}, err
		}
		patch["assignments"] = m
	}
	if changedCol(tb, changed, "AppliedCategories") {
		m, err := categoriesPatch(o.get("AppliedCategories"), r.get("AppliedCategories"))
		if err != nil {
			return rowRec{}, err
		}
		patch["appliedCategories"] = m
	}
	t, err := x.patchTask(ctx, old, r.str("TaskId"), patch)
	if err != nil {
		return rowRec{}, err
	}
	return taskRec(t), nil
}

func deleteTask(ctx context.Context, x *session, old rowRec) error {
	id := rowOf("Tasks", old.vals).str("TaskId")
	etag, err := x.current(old, x.taskETag(ctx, id))
	if err != nil {
		return err
	}
	return x.g.Tasks.Delete(ctx, id, etag)
}

// ---- TaskAssignments and TaskCategories (open types on the task)

func insertAssignment(ctx context.Context, x *session, vals []any) (rowRec, error) {
	r := rowOf("TaskAssignments", vals)
	id, user := r.str("TaskId"), r.str("UserId")
	t, err := x.patchTask(ctx, rowRec{}, id, graph.Patch{"assignments": map[string]any{user: assignmentValue(r.str("OrderHint"))}})
	if err != nil {
		return rowRec{}, err
	}
	return first(assignmentRows(t, user)), nil
}

func deleteAssignment(ctx context.Context, x *session, old rowRec) error {
	r := rowOf("TaskAssignments", old.vals)
	_, err := x.patchTask(ctx, old, r.str("TaskId"), graph.Patch{"assignments": map[string]any{r.str("UserId"): nil}})
	return err
}

func insertTaskCategory(ctx context.Context, x *session, vals []any) (rowRec, error) {
	r := rowOf("TaskCategories", vals)
	cat := strings.ToLower(r.str("Category"))
	if err := validCategory(cat); err != nil {
		return rowRec{}, err
	}
	t, err := x.patchTask(ctx, rowRec{}, r.str("TaskId"), graph.Patch{"appliedCategories": map[string]any{cat: true}})
	if err != nil {
		return rowRec{}, err
	}
	var name any
	if d, err := x.g.Plans.GetDetails(ctx, t.PlanID); err == nil {
		name = text(d.CategoryDescriptions[cat])
	}
	return rowRec{obj: "task:" + t.ID, etag: t.ETag, vals: []any{t.ID, t.PlanID, text(t.BucketID), cat, name}}, nil
}

func deleteTaskCategory(ctx context.Context, x *session, old rowRec) error {
	r := rowOf("TaskCategories", old.vals)
	_, err := x.patchTask(ctx, old, r.str("TaskId"), graph.Patch{"appliedCategories": map[string]any{r.str("Category"): false}})
	return err
}

// ---- TaskDetails, TaskChecklistItems, TaskReferences (the details object)

func (x *session) detailsETag(ctx context.Context, taskID string) func() (string, error) {
	return func() (string, error) {
		d, err := x.g.Tasks.GetDetails(ctx, taskID)
		if err != nil {
			return "", err
		}
		return d.ETag, nil
	}
}

// patchDetails sends patch to a task's details with the right version and
// returns the details as the service now has them.
func (x *session) patchDetails(ctx context.Context, old rowRec, taskID string, patch graph.Patch) (*graph.TaskDetails, error) {
	var etag string
	var err error
	if old.obj == "" {
		d, err := x.g.Tasks.GetDetails(ctx, taskID)
		if err != nil {
			return nil, err
		}
		old = rowRec{obj: "details:" + taskID, etag: d.ETag}
		etag = d.ETag
	} else if etag, err = x.current(old, x.detailsETag(ctx, taskID)); err != nil {
		return nil, err
	}
	d, err := x.g.Tasks.UpdateDetails(ctx, taskID, etag, patch)
	if err != nil {
		return nil, err
	}
	if d == nil {
		if d, err = x.g.Tasks.GetDetails(ctx, taskID); err != nil {
			return nil, err
		}
	}
	x.wrote(old.obj, etag, d.ETag)
	return d, nil
}

func updateTaskDetails(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	tb := schema.Lookup("TaskDetails")
	r := row{tb, vals}
	patch := graph.Patch{}
	if changedCol(tb, changed, "Description") {
		patch["description"] = r.str("Description")
	}
	if changedCol(tb, changed, "PreviewType") {
		patch["previewType"] = r.get("PreviewType")
	}
	id := r.str("TaskId")
	d, err := x.patchDetails(ctx, old, id, patch)
	if err != nil {
		return rowRec{}, err
	}
	return first(taskDetailsRows(taskWithDetails{taskOf(r), d})), nil
}

// taskOf returns the task columns of a details-based row as a task.
func taskOf(r row) *graph.Task {
	return &graph.Task{ID: r.str("TaskId"), PlanID: r.str("PlanId"), BucketID: r.str("BucketId")}
}

// pick returns the row of rows whose column col equals v.
func pick(rows []rowRec, t *schema.Table, col string, v string) (rowRec, error) {
	_, i := t.Column(col)
	for _, r := range rows {
		if str(r.vals[i]) == v {
			return r, nil
		}
	}
	return rowRec{}, fmt.Errorf("the service's answer has no %s %q", col, v)
}

// ---- TaskChecklistItems

// checklistFields maps the columns an UPDATE may change to item properties.
var checklistFields = map[string]string{"Title": "title", "IsChecked": "isChecked", "OrderHint": "orderHint"}

func checklistValue(t *schema.Table, r row, only []bool) map[string]any {
	item := map[string]any{"@odata.type": odataChecklistItem}
	for col, prop := range checklistFields {
		if only != nil && !changedCol(t, only, col) {
			continue
		}
		v := r.get(col)
		switch {
		case col == "IsChecked":
			if v != nil || only != nil {
				item[prop] = patchBool(v)
			}
		case v != nil:
			item[prop] = str(v)
		case only != nil:
			item[prop] = nil
		}
	}
	return item
}

func insertChecklistItem(ctx context.Context, x *session, vals []any) (rowRec, error) {
	t := schema.Lookup("TaskChecklistItems")
	r := row{t, vals}
	id := r.str("ItemId")
	if id == "" {
		id = graph.NewChecklistItemID()
	}
	d, err := x.patchDetails(ctx, rowRec{}, r.str("TaskId"), graph.Patch{"checklist": map[string]any{id: checklistValue(t, r, nil)}})
	if err != nil {
		return rowRec{}, err
	}
	task, err := x.g.Tasks.Get(ctx, r.str("TaskId"))
	if err != nil {
		return rowRec{}, err
	}
	return pick(checklistRows(taskWithDetails{task, d}), t, "ItemId", id)
}

func updateChecklistItem(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	t := schema.Lookup("TaskChecklistItems")
	r := row{t, vals}
	id := r.str("ItemId")
	d, err := x.patchDetails(ctx, old, r.str("TaskId"), graph.Patch{"checklist": map[string]any{id: checklistValue(t, r, changed)}})
	if err != nil {
		return rowRec{}, err
	}
	return pick(checklistRows(taskWithDetails{taskOf(r), d}), t, "ItemId", id)
}

func deleteChecklistItem(ctx context.Context, x *session, old rowRec) error {
	r := rowOf("TaskChecklistItems", old.vals)
	_, err := x.patchDetails(ctx, old, r.str("TaskId"), graph.Patch{"checklist": map[string]any{r.str("ItemId"): nil}})
	return err
}

// ---- TaskReferences

var referenceFields = map[string]string{"Alias": "alias", "Type": "type", "PreviewPriority": "previewPriority"}

func referenceValue(t *schema.Table, r row, only []bool) map[string]any {
	ref := map[string]any{"@odata.type": odataReference}
	for col, prop := range referenceFields {
		if only != nil && !changedCol(t, only, col) {
			continue
		}
		if v := r.get(col); v != nil {
			ref[prop] = str(v)
		} else if only != nil {
			ref[prop] = nil
		}
	}
	return ref
}

func checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("column Url must be an http or https URL, got %q", u)
	}
	return nil
}

func insertReference(ctx context.Context, x *session, vals []any) (rowRec, error) {
	t := schema.Lookup("TaskReferences")
	r := row{t, vals}
	u := r.str("Url")
	if err := checkURL(u); err != nil {
		return rowRec{}, err
	}
	d, err := x.patchDetails(ctx, rowRec{}, r.str("TaskId"), graph.Patch{"references": map[string]any{graph.EncodeReferenceKey(u): referenceValue(t, r, nil)}})
	if err != nil {
		return rowRec{}, err
	}
	task, err := x.g.Tasks.Get(ctx, r.str("TaskId"))
	if err != nil {
		return rowRec{}, err
	}
	return pick(referenceRows(taskWithDetails{task, d}), t, "Url", u)
}

func updateReference(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	t := schema.Lookup("TaskReferences")
	r := row{t, vals}
	u := r.str("Url")
	d, err := x.patchDetails(ctx, old, r.str("TaskId"), graph.Patch{"references": map[string]any{graph.EncodeReferenceKey(u): referenceValue(t, r, changed)}})
	if err != nil {
		return rowRec{}, err
	}
	return pick(referenceRows(taskWithDetails{taskOf(r), d}), t, "Url", u)
}

func deleteReference(ctx context.Context, x *session, old rowRec) error {
	r := rowOf("TaskReferences", old.vals)
	_, err := x.patchDetails(ctx, old, r.str("TaskId"), graph.Patch{"references": map[string]any{graph.EncodeReferenceKey(r.str("Url")): nil}})
	return err
}
