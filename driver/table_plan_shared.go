package driver

import (
	"context"
	"iter"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// ---- PlanSharedWith

// planShare is a row of PlanSharedWith: one user a plan's details share it
// with.
type planShare struct {
	p    *graph.Plan
	d    *graph.PlanDetails
	user string
}

// planShares are the users a plan is shared with (those whose sharedWith
// value is true), by user id.
func planShares(pd *planWithDetails) []*planShare {
	ids := pd.d.SharedWithIDs()
	out := make([]*planShare, len(ids))
	for i, id := range ids {
		out[i] = &planShare{p: pd.p, d: pd.d, user: id}
	}
	return out
}

// planSharedWithTable: one row per user a plan's details share it with.
var planSharedWithTable = (&table[planShare]{
	name: "PlanSharedWith",
	desc: "One row per user a plan is shared with (the plan details' sharedWith).",
	cols: []column[planShare]{
		{name: "PlanId", typ: schema.Text, flags: key | req, desc: "The plan's id.",
			get: func(r *planShare) any { return r.p.ID },
			set: func(r *planShare, v any) error { r.p = &graph.Plan{ID: str(v)}; return nil },
			push: &pushdown[planShare]{endpoint: "GET /planner/plans/{id} and /details", cost: cost{1, 3},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*planShare, error] {
					return expand(x.coveredPlanWithDetails(ctx, id), planShares)
				}}},
		{name: "GroupId", typ: schema.Text, flags: null, desc: "The id of the group that contains the plan.",
			get: func(r *planShare) any { return text(planGroupID(r.p)) },
			push: &pushdown[planShare]{endpoint: "GET /groups/{id}/planner/plans", cost: cost{2, 3},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*planShare, error] {
					return expand(x.planDetailsOf(ctx, x.coveredPlansOfGroup(ctx, id)), planShares)
				}}},
		{name: "UserId", typ: schema.Text, flags: key | req, desc: "The id of a user the plan is shared with.",
			get: func(r *planShare) any { return r.user },
			set: func(r *planShare, v any) error { r.user = userKey(str(v)); return nil }},
	},
	scan: func(ctx context.Context, x *session, q scanReq) iter.Seq2[*planShare, error] {
		return expand(x.planDetailsOf(ctx, x.allPlans(ctx, x.concurrency(q))), planShares)
	},
	scanCost: cost{12, 30},
	version:  func(r *planShare) version { return version{"plandetails:" + r.p.ID, r.d.ETag} },
	check: func(r *planShare) (string, error) {
		if r.p == nil {
			return "", nil
		}
		return r.p.ID + "\x00" + r.user, nil
	},
	insert: func(ctx context.Context, x *session, r *planShare) (*planShare, error) {
		p, d, err := x.g.Plans.GetWithDetails(ctx, r.p.ID)
		if err != nil {
			return nil, err
		}
		if d.SharedWith[r.user] {
			// Shared already: OR REPLACE finds the row as it would make it.
			if err := x.onDuplicate(); err != nil {
				return nil, err
			}
			return &planShare{p: p, d: d, user: r.user}, nil
		}
		d, err = x.patchPlanDetails(ctx, version{"plandetails:" + p.ID, d.ETag}, p.ID, graph.Patch{"sharedWith": map[string]any{r.user: true}})
		if err != nil {
			return nil, err
		}
		return &planShare{p: p, d: d, user: r.user}, nil
	},
	delete: func(ctx context.Context, x *session, old *planShare, v version) error {
		_, err := x.patchPlanDetails(ctx, v, old.p.ID, graph.Patch{"sharedWith": map[string]any{old.user: false}})
		return err
	},
	notes: []string{
		"INSERT shares a plan with a user (sets the user's sharedWith value to true); DELETE stops sharing it (sets it to false). " +
			"Members of a plan's group reach it whether or not it is shared with them; sharing makes it appear in the user's " +
			"/me/planner/plans (PlanScope=me).",
		"WHERE PlanId = ? is one request (the plan and its details in one $batch); WHERE GroupId = ? lists the group's plans " +
			"and reads their details in one $batch per 20 plans.",
	},
	examples: []schema.Example{
		{Title: "Who each plan is shared with", SQL: "SELECT p.Title, s.UserId FROM PlanSharedWith s JOIN Plans p ON p.PlanId = s.PlanId"},
		{Title: "Share a plan", SQL: "INSERT INTO PlanSharedWith (PlanId, UserId) VALUES (?, ?)"},
	},
}).init()

// patchPlanDetails sends patch to a plan's details at version v (the
// current one if our own earlier write superseded it) and returns the
// details as the service now has them (refetched when it sent no body).
func (x *session) patchPlanDetails(ctx context.Context, v version, planID string, patch graph.Patch) (*graph.PlanDetails, error) {
	etag, err := x.current(v, x.planDetailsETag(ctx, planID))
	if err != nil {
		return nil, err
	}
	d, err := x.g.Plans.UpdateDetails(ctx, planID, etag, patch)
	if err != nil {
		return nil, err
	}
	if d == nil {
		if d, err = x.g.Plans.GetDetails(ctx, planID); err != nil {
			return nil, err
		}
	}
	x.wrote(v.obj, etag, d.ETag)
	return d, nil
}
