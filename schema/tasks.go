package schema

// taskScope are the pushdown columns every task-derived table shares.
func taskScope(keyFlags flags, taskEndpoint string) []Column {
	return []Column{
		push(col("TaskId", Text, key|keyFlags, "The task's id."), taskEndpoint),
		push(col("PlanId", Text, 0, "The id of the task's plan."), "GET /planner/plans/{id}/tasks"),
		push(col("BucketId", Text, null, "The id of the task's bucket (NULL when the task is in no bucket)."), "GET /planner/buckets/{id}/tasks"),
	}
}

var tasks = &Table{
	Name: "Tasks",
	Description: "Every task of every plan the account can reach, unassigned tasks included " +
		"(not only the tasks assigned to the user).",
	Key:    []string{"TaskId"},
	Insert: true, Update: true, Delete: true,
	Columns: []Column{
		push(col("TaskId", Text, key, "The task's id (28 characters, case-sensitive)."), "GET /planner/tasks/{id}"),
		push(col("PlanId", Text, required, "The id of the task's plan."), "GET /planner/plans/{id}/tasks"),
		push(col("BucketId", Text, nullIU, "The id of the task's bucket, which must be in the same plan; UPDATE moves the task."), "GET /planner/buckets/{id}/tasks"),
		col("Title", Text, required|upd, "The task's title."),
		col("OrderHint", Text, nullIU, "The task's position in list views (order-hint format)."),
		col("AssigneePriority", Text, nullIU, `The task's position in "assigned to me" views (order-hint format).`),
		col("PercentComplete", Integer, nullIU, "0 (not started), 1–99 (in progress) or 100 (completed)."),
		col("Priority", Integer, nullIU, "0 (highest) … 10 (lowest); Planner shows 0–1 urgent, 2–4 important, 5–7 medium, 8–10 low."),
		col("StartDateTime", DateTime, nullIU, "When the task starts (must not be after DueDateTime)."),
		col("DueDateTime", DateTime, nullIU, "When the task is due."),
		col("CreatedDateTime", DateTime, null, "When the task was created."),
		col("CompletedDateTime", DateTime, null, "When the task was completed (set by the service when PercentComplete reaches 100)."),
		col("CreatedByUserId", Text, null, "The id of the user who created the task."),
		col("CompletedByUserId", Text, null, "The id of the user who completed the task."),
		col("HasDescription", Boolean, null, "1 when the task's details have a non-empty description."),
		col("PreviewType", Text, null, "What the task's card shows: automatic, noPreview, checklist, description or reference (set it through TaskDetails)."),
		col("ReferenceCount", Integer, null, "The number of external references on the task."),
		col("ChecklistItemCount", Integer, null, "The number of checklist items on the task."),
		col("ActiveChecklistItemCount", Integer, null, "The number of unchecked checklist items."),
		col("ConversationThreadId", Text, nullIU, "The id of the group conversation thread about the task."),
		col("Assignments", JSON, nullIU, `The assignees, as a JSON object {"<userId>": {"assignedBy": …, "assignedDateTime": …, "orderHint": …}}. On write, the keys present are the assignees: added keys assign, missing keys unassign (TaskAssignments does the same row by row).`),
		col("AppliedCategories", JSON, nullIU, `The labels on the task, as a JSON object {"category3": true}. On write, the keys set to true are the labels.`),
		col("ETag", Text, null, "The task's version (the details have their own)."),
	},
	Notes: []string{
		"WHERE TaskId = ? is one request; WHERE PlanId = ? lists only that plan's tasks (one request per 400 tasks); WHERE BucketId = ? lists that bucket's tasks.",
		"A scan with no pushdown discovers groups and plans and lists each plan's tasks concurrently (bounded by MaxConcurrency), streaming rows.",
		"UPDATE sends only the columns whose values changed, with the row's ETag in If-Match.",
	},
	Examples: []Example{
		{"Overdue tasks", "SELECT Title, DueDateTime FROM Tasks WHERE PercentComplete < 100 AND DueDateTime < strftime('%Y-%m-%dT%H:%M:%SZ','now') ORDER BY DueDateTime"},
		{"Tasks per bucket in one plan", "SELECT b.Name, count(*) FROM Tasks t JOIN Buckets b ON b.BucketId = t.BucketId WHERE t.PlanId = ? GROUP BY b.Name"},
		{"Create a task", "INSERT INTO Tasks (PlanId, BucketId, Title, DueDateTime) VALUES (?, ?, 'Write the report', '2026-12-01T17:00:00Z') RETURNING TaskId"},
		{"Complete a task", "UPDATE Tasks SET PercentComplete = 100 WHERE TaskId = ?"},
	},
}

var taskDetails = &Table{
	Name:        "TaskDetails",
	Description: "The details of each task: description, preview type, and the checklist and references as JSON.",
	Key:         []string{"TaskId"},
	Update:      true,
	Columns: append(taskScope(0, "GET /planner/tasks/{id}/details"),
		col("Description", Text, null|upd, "The task's description (plain text)."),
		col("PreviewType", Text, null|upd, "What the task's card shows: automatic, noPreview, checklist, description or reference."),
		col("Checklist", JSON, null, "The checklist as a JSON object keyed by item id (TaskChecklistItems has one row per item)."),
		col("References", JSON, null, "The external references as a JSON object keyed by the decoded URL (TaskReferences has one row per reference)."),
		col("ETag", Text, null, "The details' own version, not the task's."),
	),
	Notes: []string{"Details cost the task listing plus one $batch request per 20 tasks."},
	Examples: []Example{
		{"Tasks whose description mentions a word", "SELECT t.Title FROM Tasks t JOIN TaskDetails d ON d.TaskId = t.TaskId WHERE t.PlanId = ? AND d.Description LIKE '%budget%'"},
	},
}

var taskAssignments = &Table{
	Name:        "TaskAssignments",
	Description: "One row per assignee of each task.",
	Key:         []string{"TaskId", "UserId"},
	Insert:      true, Delete: true,
	Columns: append(taskScope(required, "GET /planner/tasks/{id}"),
		push(col("UserId", Text, key|required, "The assignee's user id."), "GET /users/{id}/planner/tasks"),
		col("AssignedByUserId", Text, null, "The id of the user who made the assignment."),
		col("AssignedDateTime", DateTime, null, "When the assignment was made."),
		col("OrderHint", Text, null|ins, "The assignment's order hint (defaults to ' !' on INSERT)."),
	),
	Notes: []string{"WHERE UserId = ? lists that user's assigned tasks. INSERT assigns a user to a task; DELETE unassigns.",
		"WHERE UserId = ? returns the rows as Graph's list of the user's tasks has them, and that list is known to keep " +
			"tasks whose plan or group was deleted: such rows have a PlanId that is not in Plans (and a BucketId not in Buckets). " +
			"Graph answers 404 for those tasks, so joins with Tasks or TaskDetails leave them out, and so does a scan without " +
			"UserId (it lists the tasks of existing plans). Replication copies them like any row; join with Plans to leave them out."},
	Examples: []Example{
		{"Open tasks per assignee", "SELECT a.UserId, count(*) FROM TaskAssignments a JOIN Tasks t ON t.TaskId = a.TaskId WHERE t.PercentComplete < 100 GROUP BY a.UserId"},
		{"Assign a user", "INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)"},
	},
}

var taskChecklistItems = &Table{
	Name:        "TaskChecklistItems",
	Description: "One row per checklist item of each task.",
	Key:         []string{"TaskId", "ItemId"},
	Insert:      true, Update: true, Delete: true,
	Columns: append(taskScope(required, "GET /planner/tasks/{id} and /details"),
		col("ItemId", Text, key|ins, "The item's id within the task (generated on INSERT when not given)."),
		col("Title", Text, required|upd, "The item's text."),
		col("IsChecked", Boolean, nullIU, "1 when the item is checked."),
		col("OrderHint", Text, nullIU, "The item's position (order-hint format)."),
		col("LastModifiedDateTime", DateTime, null, "When the item last changed."),
		col("LastModifiedByUserId", Text, null, "The id of the user who last changed the item."),
	),
	Notes: []string{"A task holds at most 20 checklist items; INSERT beyond that fails with Graph's MaximumChecklistItemsOnTask error."},
	Examples: []Example{
		{"Checklist progress per task", "SELECT TaskId, sum(IsChecked) AS Done, count(*) AS Items FROM TaskChecklistItems WHERE PlanId = ? GROUP BY TaskId"},
		{"Tick an item", "UPDATE TaskChecklistItems SET IsChecked = 1 WHERE TaskId = ? AND ItemId = ?"},
	},
}

var taskReferences = &Table{
	Name:        "TaskReferences",
	Description: "One row per external reference (link) attached to each task.",
	Key:         []string{"TaskId", "Url"},
	Insert:      true, Update: true, Delete: true,
	Columns: append(taskScope(required, "GET /planner/tasks/{id} and /details"),
		col("Url", Text, key|required, "The reference's URL, decoded (http or https)."),
		col("Alias", Text, nullIU, "The reference's display name."),
		col("Type", Text, nullIU, "The reference's type: PowerPoint, Word, Excel, Other, or any string."),
		col("PreviewPriority", Text, nullIU, "Which reference the task card previews (order-hint format)."),
		col("LastModifiedDateTime", DateTime, null, "When the reference last changed."),
		col("LastModifiedByUserId", Text, null, "The id of the user who last changed the reference."),
	),
	Examples: []Example{
		{"Every link in a plan", "SELECT t.Title, r.Alias, r.Url FROM TaskReferences r JOIN Tasks t ON t.TaskId = r.TaskId WHERE r.PlanId = ?"},
	},
}

var taskCategories = &Table{
	Name:        "TaskCategories",
	Description: "One row per label applied to each task, with the plan's name for it.",
	Key:         []string{"TaskId", "Category"},
	Insert:      true, Delete: true,
	Columns: append(taskScope(required, "GET /planner/tasks/{id} and the plan details"),
		col("Category", Text, key|required, "The label: 'category1' … 'category25'."),
		col("Name", Text, null, "The plan's name for the label (NULL when the plan has none)."),
	),
	Notes: []string{"INSERT applies a label to a task; DELETE removes it."},
	Examples: []Example{
		{"Tasks by label name", "SELECT c.Name, count(*) FROM TaskCategories c WHERE c.PlanId = ? GROUP BY c.Name"},
	},
}
