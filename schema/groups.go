package schema

var groups = &Table{
	Name: "Groups",
	Description: "Microsoft 365 groups the account can reach: the containers of group plans. " +
		"A signed-in user sees the groups they are a member of (/me/memberOf); an application " +
		"(AzureServicePrincipal) sees every Microsoft 365 group of the tenant.",
	Key: []string{"GroupId"},
	Columns: []Column{
		push(col("GroupId", Text, key, "The group's id (a GUID)."), "GET /groups/{id}"),
		col("DisplayName", Text, null, "The group's display name."),
		col("Description", Text, null, "The group's description."),
		col("Mail", Text, null, "The group's SMTP address."),
		col("Visibility", Text, null, "Public, Private or HiddenMembership."),
		col("CreatedDateTime", DateTime, null, "When the group was created."),
	},
	Examples: []Example{
		{"Groups and how many plans each holds", "SELECT g.DisplayName, count(p.PlanId) AS Plans FROM Groups g LEFT JOIN Plans p ON p.GroupId = g.GroupId GROUP BY g.GroupId ORDER BY g.DisplayName"},
	},
}
