package schema

var plans = &Table{
	Name:        "Plans",
	Description: "Planner plans in every group the account can reach (or the plans named by GroupId / PlanScope).",
	Key:         []string{"PlanId"},
	Insert:      true, Update: true, Delete: true,
	Columns: []Column{
		push(col("PlanId", Text, key, "The plan's id (28 characters, case-sensitive)."), "GET /planner/plans/{id}"),
		col("Title", Text, required|upd, "The plan's title."),
		push(col("GroupId", Text, null|ins, "The id of the group that contains the plan (ContainerId when ContainerType is 'group', else NULL). INSERT takes GroupId or ContainerId and ContainerType."), "GET /groups/{id}/planner/plans"),
		col("ContainerId", Text, null|ins, "The id of the plan's container."),
		col("ContainerType", Text, null|ins, "The container's type: 'group', 'roster' or 'unknownFutureValue'."),
		col("ContainerUrl", Text, null|ins, "The container's canonical Graph URL."),
		col("Owner", Text, null, "The deprecated owner property (the group id). Graph v1.0 no longer returns it, so it is NULL: use GroupId. Kept for compatibility with CData."),
		col("CreatedDateTime", DateTime, null, "When the plan was created."),
		col("CreatedByUserId", Text, null, "The id of the user who created the plan."),
		col("CreatedByUserDisplayName", Text, null, "The display name of the user who created the plan, when Graph gives it."),
		col("CreatedByApplicationId", Text, null, "The id of the application that created the plan."),
		col("CreatedByApplicationDisplayName", Text, null, "The display name of the application that created the plan, when Graph gives it."),
		col("ETag", Text, null, "The plan's version (@odata.etag); writes send it as If-Match."),
	},
	Notes: []string{
		"A scan with no pushdown discovers every group the account can reach and lists each group's plans concurrently.",
		"DELETE removes the plan with all its buckets and tasks.",
	},
	Examples: []Example{
		{"Every plan with its group", "SELECT p.Title, g.DisplayName AS GroupName FROM Plans p JOIN Groups g ON g.GroupId = p.GroupId ORDER BY p.Title"},
		{"Create a plan in a group", "INSERT INTO Plans (Title, GroupId) VALUES ('Launch', '00000000-0000-0000-0000-000000000000')"},
	},
}

var planDetails = &Table{
	Name:        "PlanDetails",
	Description: "The details of each plan: who it is shared with and the names of its labels.",
	Key:         []string{"PlanId"},
	Update:      true,
	Columns: []Column{
		push(col("PlanId", Text, key, "The plan's id."), "GET /planner/plans/{id}/details"),
		push(col("GroupId", Text, null, "The id of the group that contains the plan."), "GET /groups/{id}/planner/plans"),
		col("SharedWith", JSON, null|upd, `The users the plan is shared with, as a JSON object {"<userId>": true}.`),
		col("CategoryDescriptions", JSON, null|upd, `The names of the plan's labels, as a JSON object {"category1": "Name", ...}.`),
		col("ETag", Text, null, "The plan details' own version (not the plan's)."),
	},
	Notes: []string{"Details are fetched through $batch, 20 plans per request."},
	Examples: []Example{
		{"Label names of every plan", "SELECT p.Title, d.CategoryDescriptions FROM Plans p JOIN PlanDetails d ON d.PlanId = p.PlanId"},
	},
}

var planCategories = &Table{
	Name:        "PlanCategories",
	Description: "One row per label (category1 … category25) that has a name in its plan.",
	Key:         []string{"PlanId", "Category"},
	Insert:      true, Update: true, Delete: true,
	Columns: []Column{
		push(col("PlanId", Text, key|required, "The plan's id."), "GET /planner/plans/{id}/details"),
		col("Category", Text, key|required, "The label: 'category1' … 'category25'."),
		col("Name", Text, required|upd, "The label's name in this plan."),
	},
	Notes: []string{"INSERT and UPDATE set a label's name in the plan details; DELETE clears the name (tasks keep the label)."},
	Examples: []Example{
		{"Rename a label", "UPDATE PlanCategories SET Name = 'Blocked' WHERE PlanId = ? AND Category = 'category1'"},
	},
}
