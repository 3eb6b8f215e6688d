package driver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// planWithDetails is a row of PlanDetails: a plan with its details.
type planWithDetails struct {
	p *graph.Plan
	d *graph.PlanDetails
}

// planDetailsTable: who each plan is shared with and its label names.
var planDetailsTable = (&table[planWithDetails]{
	name: "PlanDetails",
	desc: "The details of each plan: who it is shared with and the names of its labels.",
	cols: []column[planWithDetails]{
		{name: "PlanId", typ: schema.Text, flags: key, desc: "The plan's id.",
			get: func(r *planWithDetails) any { return r.p.ID },
			push: &pushdown[planWithDetails]{endpoint: "GET /planner/plans/{id}/details", cost: cost{1, 1},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*planWithDetails, error] {
					return x.coveredPlanWithDetails(ctx, id)
				}}},
		{name: "GroupId", typ: schema.Text, flags: null, desc: "The id of the group that contains the plan.",
			get: func(r *planWithDetails) any { return text(planGroupID(r.p)) },
			push: &pushdown[planWithDetails]{endpoint: "GET /groups/{id}/planner/plans", cost: cost{2, 1},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*planWithDetails, error] {
					return x.planDetailsOf(ctx, x.coveredPlansOfGroup(ctx, id))
				}}},
		{name: "SharedWith", typ: schema.JSON, flags: null,
			desc:  `The users the plan is shared with, as a JSON object {"<userId>": true}.`,
			get:   func(r *planWithDetails) any { return lazyJSON(r.d.SharedWith, r.d.SharedWith == nil) },
			patch: patchSharedWith},
		{name: "CategoryDescriptions", typ: schema.JSON, flags: null,
			desc: `The names of the plan's labels, as a JSON object {"category1": "Name", ...}.`,
			get: func(r *planWithDetails) any {
				return lazyJSON(r.d.CategoryDescriptions, r.d.CategoryDescriptions == nil)
			},
			patch: patchCategoryDescriptions},
		etagCol("The plan details' own version (not the plan's).", func(r *planWithDetails) string { return r.d.ETag }),
	},
	scan: func(ctx context.Context, x *session, q scanReq) iter.Seq2[*planWithDetails, error] {
		return x.planDetailsOf(ctx, x.allPlans(ctx, x.concurrency(q)))
	},
	scanCost: cost{12, 10},
	version:  func(r *planWithDetails) version { return version{"plandetails:" + r.p.ID, r.d.ETag} },
	update: func(ctx context.Context, x *session, old *planWithDetails, v version, p graph.Patch) (*planWithDetails, string, error) {
		etag, err := x.current(v, x.planDetailsETag(ctx, old.p.ID))
		if err != nil {
			return nil, "", err
		}
		d, err := x.g.Plans.UpdateDetails(ctx, old.p.ID, etag, p)
		if err != nil {
			return nil, "", err
		}
		if d == nil {
			x.wrote(v.obj, etag, "")
			return nil, etag, nil
		}
		x.wrote(v.obj, etag, d.ETag)
		return &planWithDetails{old.p, d}, etag, nil
	},
	notes: []string{"Details are fetched through $batch, 20 plans per request."},
	examples: []schema.Example{
		{Title: "Label names of every plan", SQL: "SELECT p.Title, d.CategoryDescriptions FROM Plans p JOIN PlanDetails d ON d.PlanId = p.PlanId"},
	},
}).init()

// patchSharedWith sends a change of SharedWith: users added or changed are
// set, users removed are set to false.
func patchSharedWith(p graph.Patch, old, v any) error {
	set, removed, err := objectDiff("SharedWith", old, v, userKey)
	if err != nil {
		return err
	}
	m := map[string]any{}
	for k, raw := range set {
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("SharedWith values must be true or false (user %s)", k)
		}
		m[k] = b
	}
	for _, k := range removed {
		m[k] = false
	}
	p["sharedWith"] = m
	return nil
}

// patchCategoryDescriptions sends a change of CategoryDescriptions: labels
// added or renamed are set, labels removed are cleared (null).
func patchCategoryDescriptions(p graph.Patch, old, v any) error {
	set, removed, err := objectDiff("CategoryDescriptions", old, v, labelKey)
	if err != nil {
		return err
	}
	m := map[string]any{}
	for k, raw := range set {
		if err := validCategory(k); err != nil {
			return err
		}
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("CategoryDescriptions values must be text or null (%s)", k)
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
	p["categoryDescriptions"] = m
	return nil
}

func (x *session) planDetailsETag(ctx context.Context, planID string) func() (string, error) {
	return func() (string, error) {
		d, err := x.g.Plans.GetDetails(ctx, planID)
		if err != nil {
			return "", err
		}
		return d.ETag, nil
	}
}

// ---- PlanCategories

// planCategory is a row of PlanCategories: one named label of a plan.
type planCategory struct {
	planID, cat, name string
	etag              string // the plan details' version
}

// planCategoriesTable: one row per label that has a name in its plan.
var planCategoriesTable = (&table[planCategory]{
	name: "PlanCategories",
	desc: "One row per label (category1 … category25) that has a name in its plan.",
	cols: []column[planCategory]{
		{name: "PlanId", typ: schema.Text, flags: key | req, desc: "The plan's id.",
			get: func(r *planCategory) any { return r.planID },
			set: func(r *planCategory, v any) error { r.planID = str(v); return nil },
			push: &pushdown[planCategory]{endpoint: "GET /planner/plans/{id}/details", cost: cost{1, 6},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*planCategory, error] {
					if x.scanRule() == byMembership {
						return expand(x.planDetails(ctx, id), func(d *graph.PlanDetails) []*planCategory { return planCategories(id, d) })
					}
					// The plan's group or listing decides: the plan and its
					// details in one $batch.
					return expand(x.coveredPlanWithDetails(ctx, id), func(pd *planWithDetails) []*planCategory { return planCategories(id, pd.d) })
				}}},
		{name: "Category", typ: schema.Text, flags: key | req, desc: "The label: 'category1' … 'category25'.",
			get: func(r *planCategory) any { return r.cat },
			set: func(r *planCategory, v any) error { r.cat = str(v); return nil }},
		{name: "Name", typ: schema.Text, flags: req, desc: "The label's name in this plan.",
			get:   func(r *planCategory) any { return r.name },
			set:   func(r *planCategory, v any) error { r.name = str(v); return nil },
			patch: func(p graph.Patch, _, v any) error { p["name"] = v; return nil }},
	},
	scan: func(ctx context.Context, x *session, q scanReq) iter.Seq2[*planCategory, error] {
		return expand(x.planDetailsOf(ctx, x.allPlans(ctx, x.concurrency(q))), func(pd *planWithDetails) []*planCategory {
			return planCategories(pd.p.ID, pd.d)
		})
	},
	scanCost: cost{12, 60},
	version:  func(r *planCategory) version { return version{"plandetails:" + r.planID, r.etag} },
	check: func(r *planCategory) (string, error) {
		return r.planID + "\x00" + strings.ToLower(r.cat), validCategory(r.cat)
	},
	insert: func(ctx context.Context, x *session, r *planCategory) (*planCategory, error) {
		if err := validCategory(r.cat); err != nil {
			return nil, err
		}
		d, err := x.g.Plans.GetDetails(ctx, r.planID)
		if err != nil {
			return nil, err
		}
		if d.CategoryDescriptions[strings.ToLower(r.cat)] != "" {
			// The label has a name: OR REPLACE renames it.
			if err := x.onDuplicate(); err != nil {
				return nil, err
			}
		}
		out, _, err := patchPlanCategory(ctx, x, version{"plandetails:" + r.planID, d.ETag}, r.planID, r.cat, r.name)
		return out, err
	},
	update: func(ctx context.Context, x *session, old *planCategory, v version, p graph.Patch) (*planCategory, string, error) {
		return patchPlanCategory(ctx, x, v, old.planID, old.cat, p["name"])
	},
	delete: func(ctx context.Context, x *session, old *planCategory, v version) error {
		_, _, err := patchPlanCategory(ctx, x, v, old.planID, old.cat, nil)
		return err
	},
	notes: []string{"INSERT and UPDATE set a label's name in the plan details; DELETE clears the name (tasks keep the label)."},
	examples: []schema.Example{
		{Title: "Rename a label", SQL: "UPDATE PlanCategories SET Name = 'Blocked' WHERE PlanId = ? AND Category = 'category1'"},
	},
}).init()

// planCategories are the named labels of a plan, in label order.
func planCategories(planID string, d *graph.PlanDetails) []*planCategory {
	var out []*planCategory
	for _, cat := range sortedCategories(d.CategoryDescriptions) {
		if name := d.CategoryDescriptions[cat]; name != "" {
			out = append(out, &planCategory{planID: planID, cat: cat, name: name, etag: d.ETag})
		}
	}
	return out
}

// patchPlanCategory sets (or, with a nil name, clears) a label's name: the
// version v of the plan details when the row was read, else (an INSERT)
// the current one.
func patchPlanCategory(ctx context.Context, x *session, v version, planID, cat string, name any) (*planCategory, string, error) {
	if err := validCategory(cat); err != nil {
		return nil, "", err
	}
	cat = strings.ToLower(cat)
	var etag string
	var err error
	if v.obj == "" {
		etag, err = x.planDetailsETag(ctx, planID)()
		v = version{obj: "plandetails:" + planID, etag: etag}
	} else {
		etag, err = x.current(v, x.planDetailsETag(ctx, planID))
	}
	if err != nil {
		return nil, "", err
	}
	d, err := x.g.Plans.UpdateDetails(ctx, planID, etag, graph.Patch{"categoryDescriptions": map[string]any{cat: name}})
	if err != nil {
		return nil, "", err
	}
	now := ""
	if d != nil {
		now = d.ETag
	}
	x.wrote(v.obj, etag, now)
	// With no representation back, the row carries the ETag sent, which
	// x.stale then reports as superseded by an unknown one.
	return &planCategory{planID: planID, cat: cat, name: str(name), etag: cmp.Or(now, etag)}, etag, nil
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

func validCategory(c string) error {
	n := categoryNumber(c)
	if !strings.HasPrefix(strings.ToLower(c), "category") || n < 1 || n > 25 {
		return fmt.Errorf("%q is not a label: use category1 … category25", c)
	}
	return nil
}
