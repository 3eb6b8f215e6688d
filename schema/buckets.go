package schema

var buckets = &Table{
	Name:        "Buckets",
	Description: "The buckets (board columns) of every plan.",
	Key:         []string{"BucketId"},
	Insert:      true, Update: true, Delete: true,
	Columns: []Column{
		push(col("BucketId", Text, key, "The bucket's id."), "GET /planner/buckets/{id}"),
		push(col("PlanId", Text, required, "The id of the plan the bucket belongs to."), "GET /planner/plans/{id}/buckets"),
		col("Name", Text, required|upd, "The bucket's name."),
		col("OrderHint", Text, nullIU, "The bucket's position (Planner order-hint format; compare with ordinal order). On write, give a hint in the documented grammar or leave it NULL for the service to choose."),
		col("ETag", Text, null, "The bucket's version."),
	},
	Notes: []string{"DELETE removes the bucket and every task in it."},
	Examples: []Example{
		{"Buckets of a plan in board order", "SELECT Name FROM Buckets WHERE PlanId = ? ORDER BY OrderHint COLLATE BINARY"},
	},
}
