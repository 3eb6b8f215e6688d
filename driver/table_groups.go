package driver

import (
	"context"
	"iter"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// groupsTable: the Microsoft 365 groups the account can reach.
var groupsTable = (&table[graph.Group]{
	name: "Groups",
	desc: "Microsoft 365 groups the account can reach: the containers of group plans. " +
		"A signed-in user sees the groups they are a member of (/me/memberOf); an application " +
		"(AzureServicePrincipal) sees every Microsoft 365 group of the tenant.",
	cols: []column[graph.Group]{
		{name: "GroupId", typ: schema.Text, flags: key, desc: "The group's id (a GUID).",
			get: func(g *graph.Group) any { return g.ID },
			push: &pushdown[graph.Group]{endpoint: "GET /me/memberOf (a signed-in user), GET /groups/{id} (an application, or a group GroupId names)", cost: cost{1, 1},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*graph.Group, error] {
					return x.coveredGroup(ctx, id)
				}}},
		textField("DisplayName", null, ro, "The group's display name.", "", func(g *graph.Group) *string { return &g.DisplayName }),
		textField("Description", null, ro, "The group's description.", "", func(g *graph.Group) *string { return &g.Description }),
		textField("Mail", null, ro, "The group's SMTP address.", "", func(g *graph.Group) *string { return &g.Mail }),
		textField("Visibility", null, ro, "Public, Private or HiddenMembership.", "", func(g *graph.Group) *string { return &g.Visibility }),
		dateField("CreatedDateTime", null, ro, "When the group was created.", "", func(g *graph.Group) **graph.DateTime { return &g.CreatedDateTime }),
	},
	scan: func(ctx context.Context, x *session, _ scanReq) iter.Seq2[*graph.Group, error] {
		return x.allGroups(ctx)
	},
	scanCost: cost{1, 10},
	examples: []schema.Example{
		{Title: "Groups and how many plans each holds", SQL: "SELECT g.DisplayName, count(p.PlanId) AS Plans FROM Groups g LEFT JOIN Plans p ON p.GroupId = g.GroupId GROUP BY g.GroupId ORDER BY g.DisplayName"},
	},
}).init()
