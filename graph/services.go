package graph

import (
	"context"
	"fmt"
	"iter"
)

// GroupsService reads directory groups.
type GroupsService struct{ c *Client }

// Get returns a group by id.
func (s *GroupsService) Get(ctx context.Context, id string) (*Group, error) {
	return get[Group](ctx, s.c, idPath(kindGroup, id, ""))
}

// List returns every Microsoft 365 group of the tenant (/groups filtered to
// groupTypes Unified), for app-only access.
func (s *GroupsService) List(ctx context.Context) iter.Seq2[*Group, error] {
	return list(ctx, s.c, fixedPath("/groups?$filter=groupTypes/any(c:c+eq+'Unified')"), (*Group).IsUnified)
}

// ListMine returns the Microsoft 365 groups the signed-in user is a member
// of (/me/memberOf), skipping directory roles and security groups. Groups
// Graph lists without properties (see Group.Limited) are skipped too: use
// ListMemberOf to see them.
func (s *GroupsService) ListMine(ctx context.Context) iter.Seq2[*Group, error] {
	return list(ctx, s.c, fixedPath("/me/memberOf"), func(g *Group) bool { return g.IsGroup() && g.IsUnified() })
}

// ListMemberOf returns every directory object the signed-in user is a direct
// member of (/me/memberOf): groups of every kind and directory roles, each
// with its ODataType ("#microsoft.graph.group", "#microsoft.graph.directoryRole",
// ...). Without permission to read groups (Group.Read.All,
// GroupMember.Read.All or Directory.Read.All; User.Read is enough to list
// them) Graph returns groups with their id and type only: see Group.Limited.
func (s *GroupsService) ListMemberOf(ctx context.Context) iter.Seq2[*Group, error] {
	return list[Group](ctx, s.c, fixedPath("/me/memberOf"), nil)
}

// UsersService reads directory users.
type UsersService struct{ c *Client }

// Me returns the signed-in user (not available to app-only tokens: 400).
func (s *UsersService) Me(ctx context.Context) (*User, error) {
	return get[User](ctx, s.c, fixedPath("/me"))
}

// Get returns a user by id or user principal name.
func (s *UsersService) Get(ctx context.Context, idOrUPN string) (*User, error) {
	return get[User](ctx, s.c, idPath(kindUser, idOrUPN, ""))
}

// PlansService reads and writes plans and their details.
type PlansService struct{ c *Client }

// Get returns a plan.
func (s *PlansService) Get(ctx context.Context, id string) (*Plan, error) {
	return get[Plan](ctx, s.c, idPath(kindPlan, id, ""))
}

// ListByGroup returns the plans of a group.
func (s *PlansService) ListByGroup(ctx context.Context, groupID string) iter.Seq2[*Plan, error] {
	return list[Plan](ctx, s.c, idPath(kindGroup, groupID, "/planner/plans"), nil)
}

// ListMine returns the plans shared with the signed-in user
// (/me/planner/plans), which may miss group plans the user never opened.
func (s *PlansService) ListMine(ctx context.Context) iter.Seq2[*Plan, error] {
	return list[Plan](ctx, s.c, fixedPath("/me/planner/plans"), nil)
}

// GetDetails returns a plan's details.
func (s *PlansService) GetDetails(ctx context.Context, id string) (*PlanDetails, error) {
	return get[PlanDetails](ctx, s.c, idPath(kindPlan, id, "/details"))
}

// GetWithDetails returns a plan and its details, read together in one $batch
// request. A failed item's error is returned (IsNotFound for an unknown plan).
func (s *PlansService) GetWithDetails(ctx context.Context, id string) (*Plan, *PlanDetails, error) {
	return getPair[Plan, PlanDetails](ctx, s.c, idPath(kindPlan, id, ""), idPath(kindPlan, id, "/details"))
}

// ListDetails returns the details of the plans ids, in order, through
// $batch; a failed item yields (nil, err) and iteration continues.
func (s *PlansService) ListDetails(ctx context.Context, ids []string) iter.Seq2[*PlanDetails, error] {
	return listByBatch[PlanDetails](ctx, s.c, ids, func(id string) apiPath { return idPath(kindPlan, id, "/details") })
}

// Create creates a plan from p's Title and Container (or Owner, deprecated).
func (s *PlansService) Create(ctx context.Context, p *Plan) (*Plan, error) {
	if p == nil {
		return nil, fmt.Errorf("graph: POST /planner/plans: no plan given")
	}
	body := map[string]any{"title": p.Title}
	if p.Container != nil {
		body["container"] = p.Container
	}
	if p.Owner != "" {
		body["owner"] = p.Owner
	}
	return create[Plan](ctx, s.c, fixedPath("/planner/plans"), body)
}

// Update patches a plan; etag is the plan's @odata.etag. It returns the plan
// when the service sent it, else (nil, nil).
func (s *PlansService) Update(ctx context.Context, id, etag string, patch Patch) (*Plan, error) {
	return update[Plan](ctx, s.c, idPath(kindPlan, id, ""), etag, patch)
}

// UpdateDetails patches a plan's details; etag is the details' own.
func (s *PlansService) UpdateDetails(ctx context.Context, id, etag string, patch Patch) (*PlanDetails, error) {
	return update[PlanDetails](ctx, s.c, idPath(kindPlan, id, "/details"), etag, patch)
}

// Delete deletes a plan, with its buckets and tasks.
func (s *PlansService) Delete(ctx context.Context, id, etag string) error {
	return del(ctx, s.c, idPath(kindPlan, id, ""), etag)
}

// BucketsService reads and writes buckets.
type BucketsService struct{ c *Client }

// Get returns a bucket.
func (s *BucketsService) Get(ctx context.Context, id string) (*Bucket, error) {
	return get[Bucket](ctx, s.c, idPath(kindBucket, id, ""))
}

// ListByPlan returns a plan's buckets.
func (s *BucketsService) ListByPlan(ctx context.Context, planID string) iter.Seq2[*Bucket, error] {
	return list[Bucket](ctx, s.c, idPath(kindPlan, planID, "/buckets"), nil)
}

// Create creates a bucket from b's PlanID, Name and OrderHint (optional).
func (s *BucketsService) Create(ctx context.Context, b *Bucket) (*Bucket, error) {
	if b == nil {
		return nil, fmt.Errorf("graph: POST /planner/buckets: no bucket given")
	}
	body := map[string]any{"planId": b.PlanID, "name": b.Name}
	if b.OrderHint != "" {
		body["orderHint"] = b.OrderHint
	}
	return create[Bucket](ctx, s.c, fixedPath("/planner/buckets"), body)
}

// Update patches a bucket.
func (s *BucketsService) Update(ctx context.Context, id, etag string, patch Patch) (*Bucket, error) {
	return update[Bucket](ctx, s.c, idPath(kindBucket, id, ""), etag, patch)
}

// Delete deletes a bucket and its tasks.
func (s *BucketsService) Delete(ctx context.Context, id, etag string) error {
	return del(ctx, s.c, idPath(kindBucket, id, ""), etag)
}

// TasksService reads and writes tasks, their details and board formats.
type TasksService struct{ c *Client }

func taskPath(id, suffix string) apiPath { return idPath(kindTask, id, suffix) }

// Get returns a task.
func (s *TasksService) Get(ctx context.Context, id string) (*Task, error) {
	return get[Task](ctx, s.c, taskPath(id, ""))
}

// ListByPlan returns a plan's tasks.
func (s *TasksService) ListByPlan(ctx context.Context, planID string) iter.Seq2[*Task, error] {
	return list[Task](ctx, s.c, idPath(kindPlan, planID, "/tasks"), nil)
}

// ListByBucket returns a bucket's tasks.
func (s *TasksService) ListByBucket(ctx context.Context, bucketID string) iter.Seq2[*Task, error] {
	return list[Task](ctx, s.c, idPath(kindBucket, bucketID, "/tasks"), nil)
}

// ListByUser returns the tasks assigned to a user (/users/{id}/planner/tasks).
func (s *TasksService) ListByUser(ctx context.Context, userID string) iter.Seq2[*Task, error] {
	return list[Task](ctx, s.c, idPath(kindUser, userID, "/planner/tasks"), nil)
}

// ListMine returns the tasks assigned to the signed-in user.
func (s *TasksService) ListMine(ctx context.Context) iter.Seq2[*Task, error] {
	return list[Task](ctx, s.c, fixedPath("/me/planner/tasks"), nil)
}

// GetDetails returns a task's details.
func (s *TasksService) GetDetails(ctx context.Context, id string) (*TaskDetails, error) {
	return get[TaskDetails](ctx, s.c, taskPath(id, "/details"))
}

// GetWithDetails returns a task and its details, read together in one $batch
// request. A failed item's error is returned (IsNotFound for an unknown task).
func (s *TasksService) GetWithDetails(ctx context.Context, id string) (*Task, *TaskDetails, error) {
	return getPair[Task, TaskDetails](ctx, s.c, taskPath(id, ""), taskPath(id, "/details"))
}

// ListDetails returns the details of the tasks ids, in order, through $batch
// (20 per call, up to the client's concurrency in flight); a failed item
// yields (nil, err) and iteration continues.
func (s *TasksService) ListDetails(ctx context.Context, ids []string) iter.Seq2[*TaskDetails, error] {
	return listByBatch[TaskDetails](ctx, s.c, ids, func(id string) apiPath { return taskPath(id, "/details") })
}

// ListDetailsSeq is ListDetails for ids that come as they are read (a
// listing of tasks, say): an id is pulled when the $batch call it goes in
// starts, so the calls are sent as the ids come, up to the client's
// concurrency at once and ahead of the consumer. While the details the
// consumer waits for wait to be sent again (see Client.Batch), further ids
// are pulled and sent, so that their failed items are retried with them.
// ids is pulled from the consumer's goroutine and stops being pulled when
// the consumer stops.
func (s *TasksService) ListDetailsSeq(ctx context.Context, ids iter.Seq[string]) iter.Seq2[*TaskDetails, error] {
	return listBySeq[TaskDetails](ctx, s.c, ids, func(id string) apiPath { return taskPath(id, "/details") })
}

// Create creates a task from t's writable properties (PlanID and Title are
// required). Assignments get their @odata.type; their other read-only
// properties are not sent.
func (s *TasksService) Create(ctx context.Context, t *Task) (*Task, error) {
	if t == nil {
		return nil, fmt.Errorf("graph: POST /planner/tasks: no task given")
	}
	body := map[string]any{"planId": t.PlanID, "title": t.Title}
	str := func(k, v string) {
		if v != "" {
			body[k] = v
		}
	}
	str("bucketId", t.BucketID)
	str("orderHint", t.OrderHint)
	str("assigneePriority", t.AssigneePriority)
	str("conversationThreadId", t.ConversationThreadID)
	if t.PercentComplete != nil {
		body["percentComplete"] = *t.PercentComplete
	}
	if t.Priority != nil {
		body["priority"] = *t.Priority
	}
	if t.StartDateTime != nil && !t.StartDateTime.IsZero() {
		body["startDateTime"] = t.StartDateTime
	}
	if t.DueDateTime != nil && !t.DueDateTime.IsZero() {
		body["dueDateTime"] = t.DueDateTime
	}
	if len(t.Assignments) > 0 {
		as := make(map[string]any, len(t.Assignments))
		for user, a := range t.Assignments {
			as[user] = map[string]any{"@odata.type": ODataAssignment, "orderHint": cmpOr(a.OrderHint, " !")}
		}
		body["assignments"] = as
	}
	if len(t.AppliedCategories) > 0 {
		body["appliedCategories"] = t.AppliedCategories
	}
	return create[Task](ctx, s.c, fixedPath("/planner/tasks"), body)
}

// Update patches a task; etag is the task's own.
func (s *TasksService) Update(ctx context.Context, id, etag string, patch Patch) (*Task, error) {
	return update[Task](ctx, s.c, taskPath(id, ""), etag, patch)
}

// UpdateDetails patches a task's details; etag is the details' own (not the
// task's). Reference keys in the patch must be encoded (EncodeReferenceKey).
func (s *TasksService) UpdateDetails(ctx context.Context, id, etag string, patch Patch) (*TaskDetails, error) {
	return update[TaskDetails](ctx, s.c, taskPath(id, "/details"), etag, patch)
}

// Delete deletes a task.
func (s *TasksService) Delete(ctx context.Context, id, etag string) error {
	return del(ctx, s.c, taskPath(id, ""), etag)
}

// ListBucketTaskBoardFormats returns the by-bucket board formats of the
// tasks ids, in order, through $batch (20 per call, like ListDetails); a
// failed item yields (nil, err) and iteration continues.
func (s *TasksService) ListBucketTaskBoardFormats(ctx context.Context, ids []string) iter.Seq2[*BucketTaskBoardFormat, error] {
	return listByBatch[BucketTaskBoardFormat](ctx, s.c, ids, func(id string) apiPath { return taskPath(id, "/bucketTaskBoardFormat") })
}

// ListProgressTaskBoardFormats returns the by-progress board formats of the
// tasks ids, in order, through $batch, as ListBucketTaskBoardFormats.
func (s *TasksService) ListProgressTaskBoardFormats(ctx context.Context, ids []string) iter.Seq2[*ProgressTaskBoardFormat, error] {
	return listByBatch[ProgressTaskBoardFormat](ctx, s.c, ids, func(id string) apiPath { return taskPath(id, "/progressTaskBoardFormat") })
}

// ListAssignedToTaskBoardFormats returns the by-assignee board formats of
// the tasks ids, in order, through $batch, as ListBucketTaskBoardFormats.
func (s *TasksService) ListAssignedToTaskBoardFormats(ctx context.Context, ids []string) iter.Seq2[*AssignedToTaskBoardFormat, error] {
	return listByBatch[AssignedToTaskBoardFormat](ctx, s.c, ids, func(id string) apiPath { return taskPath(id, "/assignedToTaskBoardFormat") })
}

// GetBucketTaskBoardFormat returns a task's order in the by-bucket board.
func (s *TasksService) GetBucketTaskBoardFormat(ctx context.Context, id string) (*BucketTaskBoardFormat, error) {
	return get[BucketTaskBoardFormat](ctx, s.c, taskPath(id, "/bucketTaskBoardFormat"))
}

// UpdateBucketTaskBoardFormat patches it; etag is the format's own.
func (s *TasksService) UpdateBucketTaskBoardFormat(ctx context.Context, id, etag string, patch Patch) (*BucketTaskBoardFormat, error) {
	return update[BucketTaskBoardFormat](ctx, s.c, taskPath(id, "/bucketTaskBoardFormat"), etag, patch)
}

// GetProgressTaskBoardFormat returns a task's order in the by-progress board.
func (s *TasksService) GetProgressTaskBoardFormat(ctx context.Context, id string) (*ProgressTaskBoardFormat, error) {
	return get[ProgressTaskBoardFormat](ctx, s.c, taskPath(id, "/progressTaskBoardFormat"))
}

// UpdateProgressTaskBoardFormat patches it; etag is the format's own.
func (s *TasksService) UpdateProgressTaskBoardFormat(ctx context.Context, id, etag string, patch Patch) (*ProgressTaskBoardFormat, error) {
	return update[ProgressTaskBoardFormat](ctx, s.c, taskPath(id, "/progressTaskBoardFormat"), etag, patch)
}

// GetAssignedToTaskBoardFormat returns a task's order in the by-assignee
// board.
func (s *TasksService) GetAssignedToTaskBoardFormat(ctx context.Context, id string) (*AssignedToTaskBoardFormat, error) {
	return get[AssignedToTaskBoardFormat](ctx, s.c, taskPath(id, "/assignedToTaskBoardFormat"))
}

// UpdateAssignedToTaskBoardFormat patches it; etag is the format's own.
func (s *TasksService) UpdateAssignedToTaskBoardFormat(ctx context.Context, id, etag string, patch Patch) (*AssignedToTaskBoardFormat, error) {
	return update[AssignedToTaskBoardFormat](ctx, s.c, taskPath(id, "/assignedToTaskBoardFormat"), etag, patch)
}
