package driver

import (
	"context"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// taskDetailsTable: each task's description, preview type, checklist and
// references.
var taskDetailsTable = (&table[taskWithDetails]{
	name: "TaskDetails",
	desc: "The details of each task: description, preview type, and the checklist and references as JSON.",
	cols: append(taskDetailsSource.scope(func(r *taskWithDetails) **graph.Task { return &r.t }, 0, "GET /planner/tasks/{id}/details", detailCosts),
		column[taskWithDetails]{name: "Description", typ: schema.Text, flags: null | detail, desc: "The task's description (plain text).",
			get:   func(r *taskWithDetails) any { return text(r.d.Description) },
			patch: func(p graph.Patch, _, v any) error { p["description"] = str(v); return nil }},
		withFlags(textField("PreviewType", null, upd, "What the task's card shows: automatic, noPreview, checklist, description or reference.",
			"previewType", func(r *taskWithDetails) *string { return &r.d.PreviewType }), detail),
		readOnly("Checklist", schema.JSON, null|detail, "The checklist as a JSON object keyed by item id (TaskChecklistItems has one row per item).",
			func(r *taskWithDetails) any { return lazyJSON(r.d.Checklist, r.d.Checklist == nil) }),
		readOnly("References", schema.JSON, null|detail, "The external references as a JSON object keyed as Graph holds them: the URL percent-encoded "+
			"(TaskReferences has one row per reference, its ReferenceKey this key and its Url decoded).",
			func(r *taskWithDetails) any { return lazyJSON(r.d.References, r.d.References == nil) }),
		withFlags(etagCol("The details' own version, not the task's.", func(r *taskWithDetails) string { return r.d.ETag }), detail),
	),
	scan:     taskDetailsSource.scan,
	scanCost: cost{71, 1000},
	version:  func(r *taskWithDetails) version { return version{"details:" + r.t.ID, r.d.ETag} },
	update: func(ctx context.Context, x *session, old *taskWithDetails, v version, p graph.Patch) (*taskWithDetails, string, error) {
		d, err := x.patchDetails(ctx, v, old.t.ID, p)
		if err != nil {
			return nil, "", err
		}
		return &taskWithDetails{old.t, d}, "", nil
	},
	notes: []string{"Details cost the task listing plus one $batch request per 20 tasks."},
	examples: []schema.Example{
		{Title: "Tasks whose description mentions a word", SQL: "SELECT t.Title FROM Tasks t JOIN TaskDetails d ON d.TaskId = t.TaskId WHERE t.PlanId = ? AND d.Description LIKE '%budget%'"},
	},
}).init()

var taskDetailsSource = detailsSource(false, func(td taskWithDetails) []*taskWithDetails { return []*taskWithDetails{&td} })

// withFlags adds flags to a column.
func withFlags[T any](c column[T], f colFlags) column[T] {
	c.flags |= f
	return c
}

func (x *session) detailsETag(ctx context.Context, taskID string) func() (string, error) {
	return func() (string, error) {
		d, err := x.g.Tasks.GetDetails(ctx, taskID)
		if err != nil {
			return "", err
		}
		return d.ETag, nil
	}
}

// patchDetails sends patch to a task's details with the right version (v,
// or the current one when v is zero: an INSERT of a checklist item or
// reference) and returns the details as the service now has them.
func (x *session) patchDetails(ctx context.Context, v version, taskID string, patch graph.Patch) (*graph.TaskDetails, error) {
	var etag string
	var err error
	if v.obj == "" {
		d, err := x.g.Tasks.GetDetails(ctx, taskID)
		if err != nil {
			return nil, err
		}
		v = version{obj: "details:" + taskID, etag: d.ETag}
		etag = d.ETag
	} else if etag, err = x.current(v, x.detailsETag(ctx, taskID)); err != nil {
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
	x.wrote(v.obj, etag, d.ETag)
	return d, nil
}
