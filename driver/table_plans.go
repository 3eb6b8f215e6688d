package driver

import (
	"context"
	"errors"
	"iter"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// planRow is a row of Plans: the plan, and for an INSERT the GroupId given.
type planRow struct {
	graph.Plan
	groupID string
}

func newPlanRow(p *graph.Plan) *planRow { return &planRow{Plan: *p} }

// planGroupID is the id of the group containing p, or "".
func planGroupID(p *graph.Plan) string {
	if p.Container != nil && strings.EqualFold(p.Container.Type, "group") {
		return p.Container.ContainerID
	}
	if p.Container == nil {
		return p.Owner
	}
	return ""
}

// container returns the plan's container, creating it for an INSERT.
func (r *planRow) container() *graph.PlanContainer {
	if r.Container == nil {
		r.Container = &graph.PlanContainer{}
	}
	return r.Container
}

// containerField is a Plans column bound to a field of the container.
func containerField(name, desc string, field func(*graph.PlanContainer) *string) column[planRow] {
	return column[planRow]{name: name, typ: schema.Text, flags: null, desc: desc,
		get: func(r *planRow) any {
			if r.Container == nil {
				return nil
			}
			return text(*field(r.Container))
		},
		set: func(r *planRow, v any) error { *field(r.container()) = str(v); return nil }}
}

// plansTable: the plans of every group the account can reach.
var plansTable = (&table[planRow]{
	name: "Plans",
	desc: "Planner plans in every group the account can reach (or the plans named by GroupId / PlanScope).",
	cols: []column[planRow]{
		{name: "PlanId", typ: schema.Text, flags: key, desc: "The plan's id (28 characters, case-sensitive).",
			get: func(r *planRow) any { return r.ID },
			push: &pushdown[planRow]{endpoint: "GET /planner/plans/{id}", cost: cost{1, 1},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*planRow, error] {
					return mapSeq(x.coveredPlan(ctx, id), newPlanRow)
				}}},
		textField("Title", req, iu, "The plan's title.", "title", func(r *planRow) *string { return &r.Title }),
		{name: "GroupId", typ: schema.Text, flags: null,
			desc: "The id of the group that contains the plan (ContainerId when ContainerType is 'group', else NULL). INSERT takes GroupId or ContainerId and ContainerType.",
			get:  func(r *planRow) any { return text(planGroupID(&r.Plan)) },
			set:  func(r *planRow, v any) error { r.groupID = guidKey(str(v)); return nil },
			push: &pushdown[planRow]{endpoint: "GET /groups/{id}/planner/plans", cost: cost{1, 1},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*planRow, error] {
					return mapSeq(x.coveredPlansOfGroup(ctx, id), newPlanRow)
				}}},
		containerField("ContainerId", "The id of the plan's container.", func(c *graph.PlanContainer) *string { return &c.ContainerID }),
		containerField("ContainerType", "The container's type: 'group', 'roster' or 'unknownFutureValue'.", func(c *graph.PlanContainer) *string { return &c.Type }),
		containerField("ContainerUrl", "The container's canonical Graph URL.", func(c *graph.PlanContainer) *string { return &c.URL }),
		textField("Owner", null, ro, "The deprecated owner property (the group id). Graph v1.0 no longer returns it, so it is NULL: use GroupId. Kept for compatibility with CData.", "", func(r *planRow) *string { return &r.Owner }),
		dateField("CreatedDateTime", null, ro, "When the plan was created.", "", func(r *planRow) **graph.DateTime { return &r.CreatedDateTime }),
		readOnly("CreatedByUserId", schema.Text, null, "The id of the user who created the plan.", func(r *planRow) any { return userID(r.CreatedBy) }),
		readOnly("CreatedByUserDisplayName", schema.Text, null, "The display name of the user who created the plan, when Graph gives it.", func(r *planRow) any { return userName(r.CreatedBy) }),
		readOnly("CreatedByApplicationId", schema.Text, null, "The id of the application that created the plan.", func(r *planRow) any { return appID(r.CreatedBy) }),
		readOnly("CreatedByApplicationDisplayName", schema.Text, null, "The display name of the application that created the plan, when Graph gives it.", func(r *planRow) any { return appName(r.CreatedBy) }),
		etagCol("The plan's version (@odata.etag); writes send it as If-Match.", func(r *planRow) string { return r.ETag }),
	},
	scan: func(ctx context.Context, x *session, q scanReq) iter.Seq2[*planRow, error] {
		return mapSeq(x.allPlans(ctx, x.concurrency(q)), newPlanRow)
	},
	scanCost: cost{11, 10},
	version:  func(r *planRow) version { return version{"plan:" + r.ID, r.ETag} },
	insert: func(ctx context.Context, x *session, r *planRow) (*planRow, error) {
		switch {
		case r.groupID != "":
			r.Container = &graph.PlanContainer{ContainerID: r.groupID, Type: "group"}
		case r.Container != nil && (r.Container.ContainerID != "" || r.Container.URL != ""):
			if r.Container.ContainerID != "" && r.Container.Type == "" {
				r.Container.Type = "group"
			}
			if strings.EqualFold(r.Container.Type, "group") {
				// A group id in Graph's form, whatever form it was given in.
				r.Container.ContainerID = guidKey(r.Container.ContainerID)
			}
		default:
			return nil, errors.New("give GroupId, or ContainerId and ContainerType, for the new plan")
		}
		created, err := x.g.Plans.Create(ctx, &graph.Plan{Title: r.Title, Container: r.Container})
		if err != nil {
			return nil, err
		}
		return newPlanRow(created), nil
	},
	update: func(ctx context.Context, x *session, old *planRow, v version, p graph.Patch) (*planRow, string, error) {
		etag, err := x.current(v, x.planETag(ctx, old.ID))
		if err != nil {
			return nil, "", err
		}
		out, err := x.g.Plans.Update(ctx, old.ID, etag, p)
		if err != nil {
			return nil, "", err
		}
		if out == nil {
			x.wrote(v.obj, etag, "")
			return nil, etag, nil
		}
		x.wrote(v.obj, etag, out.ETag)
		return newPlanRow(out), etag, nil
	},
	delete: func(ctx context.Context, x *session, old *planRow, v version) error {
		etag, err := x.current(v, x.planETag(ctx, old.ID))
		if err != nil {
			return err
		}
		return x.g.Plans.Delete(ctx, old.ID, etag)
	},
	notes: []string{
		"A scan with no pushdown discovers every group the account can reach and lists each group's plans concurrently.",
		"DELETE removes the plan with all its buckets and tasks.",
	},
	examples: []schema.Example{
		{Title: "Every plan with its group", SQL: "SELECT p.Title, g.DisplayName AS GroupName FROM Plans p JOIN Groups g ON g.GroupId = p.GroupId ORDER BY p.Title"},
		{Title: "Create a plan in a group", SQL: "INSERT INTO Plans (Title, GroupId) VALUES ('Launch', '00000000-0000-0000-0000-000000000000')"},
	},
}).init()

func (x *session) planETag(ctx context.Context, id string) func() (string, error) {
	return func() (string, error) {
		p, err := x.g.Plans.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return p.ETag, nil
	}
}
