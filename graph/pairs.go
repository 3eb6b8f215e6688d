package graph

import (
	"context"
	"iter"
	"net/http"
	"strconv"
)

// Reading objects by id through $batch: what a client that knows the ids
// of many objects (the values of an IN list, the keys a join will ask for)
// uses instead of one GET each. Each method yields in the order of ids; a
// failed item yields (zero, err) and iteration continues (IsNotFound for an
// object that is gone; ErrInvalidID, with nothing sent, for an id no object
// can have). Up to the client's concurrency of calls are in flight.

// ListByID returns the tasks ids, 20 per $batch call.
func (s *TasksService) ListByID(ctx context.Context, ids []string) iter.Seq2[*Task, error] {
	return listByBatch[Task](ctx, s.c, ids, func(id string) apiPath { return taskPath(id, "") })
}

// ListByID returns the plans ids, 20 per $batch call.
func (s *PlansService) ListByID(ctx context.Context, ids []string) iter.Seq2[*Plan, error] {
	return listByBatch[Plan](ctx, s.c, ids, func(id string) apiPath { return idPath(kindPlan, id, "") })
}

// ListByID returns the buckets ids, 20 per $batch call.
func (s *BucketsService) ListByID(ctx context.Context, ids []string) iter.Seq2[*Bucket, error] {
	return listByBatch[Bucket](ctx, s.c, ids, func(id string) apiPath { return idPath(kindBucket, id, "") })
}

// ListByID returns the groups ids, 20 per $batch call.
func (s *GroupsService) ListByID(ctx context.Context, ids []string) iter.Seq2[*Group, error] {
	return listByBatch[Group](ctx, s.c, ids, func(id string) apiPath { return idPath(kindGroup, id, "") })
}

// TaskWithDetails is a task and its details, read together.
type TaskWithDetails struct {
	Task    *Task
	Details *TaskDetails
}

// PlanWithDetails is a plan and its details, read together.
type PlanWithDetails struct {
	Plan    *Plan
	Details *PlanDetails
}

// ListWithDetails returns the plans ids with their details: a plan and its
// details are two requests of the same $batch call, 10 plans a call. A plan
// whose details failed yields the details' error.
func (s *PlansService) ListWithDetails(ctx context.Context, ids []string) iter.Seq2[PlanWithDetails, error] {
	return listPairsByBatch(ctx, s.c, ids, func(id string) (apiPath, apiPath) { return idPath(kindPlan, id, ""), idPath(kindPlan, id, "/details") },
		func(a *Plan, b *PlanDetails) PlanWithDetails { return PlanWithDetails{a, b} })
}

// ListWithDetails returns the tasks ids with their details: a task and its
// details are two requests of the same $batch call, 10 tasks a call. A task
// whose details failed yields the details' error.
func (s *TasksService) ListWithDetails(ctx context.Context, ids []string) iter.Seq2[TaskWithDetails, error] {
	return listPairsByBatch(ctx, s.c, ids, func(id string) (apiPath, apiPath) { return taskPath(id, ""), taskPath(id, "/details") },
		func(a *Task, b *TaskDetails) TaskWithDetails { return TaskWithDetails{a, b} })
}

// listPairsByBatch GETs two objects per id through $batch, both in the same
// call (maxBatch/2 ids per call, up to the client's concurrency in flight),
// and yields them paired in the order of ids, as listByBatch does for one.
func listPairsByBatch[A, B, P any](ctx context.Context, c *Client, ids []string, paths func(id string) (apiPath, apiPath), pair func(*A, *B) P) iter.Seq2[P, error] {
	return inOrder(ctx, c, ids, maxBatch/2, func(ctx context.Context, part []string) ([]P, []error) {
		v, errs := make([]P, len(part)), make([]error, len(part))
		// An id that cannot be in a path fails alone, unsent.
		items := make([]batchItem, 0, 2*len(part))
		sent := make([]int, 0, len(part)) // index in part of each pair of items
		urls := make([][2]string, len(part))
		for j, id := range part {
			pa, pb := paths(id)
			if pa.err != nil || pb.err != nil {
				errs[j] = pa.err
				if errs[j] == nil {
					errs[j] = pb.err
				}
				continue
			}
			urls[j] = [2]string{pa.s, pb.s}
			items = append(items, batchItem{ID: strconv.Itoa(2*j + 1), Method: http.MethodGet, URL: pa.s},
				batchItem{ID: strconv.Itoa(2*j + 2), Method: http.MethodGet, URL: pb.s})
			sent = append(sent, j)
		}
		var replies []BatchResponse
		var err error
		if len(items) > 0 {
			replies, err = c.runBatch(ctx, items)
		}
		for k, j := range sent {
			ra, rb := k*2, k*2+1
			switch {
			case err != nil:
				errs[j] = err
			case replies[ra].Err != nil:
				errs[j] = replies[ra].Err
			case replies[rb].Err != nil:
				errs[j] = replies[rb].Err
			default:
				a, b := new(A), new(B)
				if err := decodeInto(replies[ra].Body, a); err != nil {
					errs[j] = decodeError(http.MethodGet, c.basePath+urls[j][0], err)
				} else if err := decodeInto(replies[rb].Body, b); err != nil {
					errs[j] = decodeError(http.MethodGet, c.basePath+urls[j][1], err)
				} else {
					v[j] = pair(a, b)
				}
			}
		}
		return v, errs
	})
}
