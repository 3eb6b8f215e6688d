package graph

import (
	"context"
	"iter"
	"net/http"
	"strconv"
	"sync"
)

// BoardFormats selects which of a task's board formats ListBoardFormats
// reads (plannerBucketTaskBoardTaskFormat,
// plannerProgressTaskBoardTaskFormat, plannerAssignedToTaskBoardTaskFormat).
type BoardFormats uint8

// The board formats of a task.
const (
	BucketBoard BoardFormats = 1 << iota
	ProgressBoard
	AssignedToBoard
	AllBoards = BucketBoard | ProgressBoard | AssignedToBoard
)

// TaskBoardFormats is a task's board formats read together: the formats
// asked for (nil otherwise), and the task itself when asked for.
type TaskBoardFormats struct {
	Task       *Task
	Bucket     *BucketTaskBoardFormat
	Progress   *ProgressTaskBoardFormat
	AssignedTo *AssignedToTaskBoardFormat
}

// ListBoardFormats returns, for each of the tasks ids in order, the board
// formats kinds selects and, with withTask, the task itself, all through
// $batch: the k objects read per task fill the $batch calls (20 requests
// each), so n tasks cost ceil(k·n/20) calls, up to the client's concurrency
// in flight (GET /planner/tasks/{id}/bucketTaskBoardFormat,
// /progressTaskBoardFormat, /assignedToTaskBoardFormat). A task one of
// whose objects failed yields that error (IsNotFound for a task that is
// gone; ErrInvalidID, with nothing sent, for an id no task can have) and
// iteration continues.
func (s *TasksService) ListBoardFormats(ctx context.Context, ids []string, kinds BoardFormats, withTask bool) iter.Seq2[TaskBoardFormats, error] {
	type get struct {
		task int // index in ids
		path apiPath
		into func(*TaskBoardFormats) any // the value to decode into, set in the task's result
	}
	var gets []get
	for i, id := range ids {
		if withTask {
			gets = append(gets, get{i, taskPath(id, ""), func(r *TaskBoardFormats) any { r.Task = new(Task); return r.Task }})
		}
		if kinds&BucketBoard != 0 {
			gets = append(gets, get{i, taskPath(id, "/bucketTaskBoardFormat"), func(r *TaskBoardFormats) any {
				r.Bucket = new(BucketTaskBoardFormat)
				return r.Bucket
			}})
		}
		if kinds&ProgressBoard != 0 {
			gets = append(gets, get{i, taskPath(id, "/progressTaskBoardFormat"), func(r *TaskBoardFormats) any {
				r.Progress = new(ProgressTaskBoardFormat)
				return r.Progress
			}})
		}
		if kinds&AssignedToBoard != 0 {
			gets = append(gets, get{i, taskPath(id, "/assignedToTaskBoardFormat"), func(r *TaskBoardFormats) any {
				r.AssignedTo = new(AssignedToTaskBoardFormat)
				return r.AssignedTo
			}})
		}
	}
	c := s.c
	return func(yield func(TaskBoardFormats, error) bool) {
		if len(gets) == 0 {
			for range ids {
				if !yield(TaskBoardFormats{}, nil) {
					return
				}
			}
			return
		}
		res := make([]TaskBoardFormats, len(ids))
		errs := make([]error, len(ids))
		var mu sync.Mutex // guards res and errs: batches fill them concurrently
		fail := func(i int, err error) {
			mu.Lock()
			if errs[i] == nil {
				errs[i] = err
			}
			mu.Unlock()
		}
		n := (len(gets) + maxBatch - 1) / maxBatch
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		done := make([]chan struct{}, n)
		start := func(k int) {
			done[k] = make(chan struct{})
			part := gets[k*maxBatch : min((k+1)*maxBatch, len(gets))]
			wg.Go(func() {
				defer close(done[k])
				items := make([]batchItem, 0, len(part))
				sent := make([]int, 0, len(part))
				for j, g := range part {
					if g.path.err != nil {
						fail(g.task, g.path.err) // an id that cannot be in a path fails alone, unsent
						continue
					}
					items = append(items, batchItem{ID: strconv.Itoa(j + 1), Method: http.MethodGet, URL: g.path.s})
					sent = append(sent, j)
				}
				if len(items) == 0 {
					return
				}
				replies, err := c.runBatch(ctx, items)
				for r, j := range sent {
					g := part[j]
					switch {
					case err != nil:
						fail(g.task, err)
					case replies[r].Err != nil:
						fail(g.task, replies[r].Err)
					default:
						mu.Lock()
						v := g.into(&res[g.task])
						mu.Unlock()
						if err := decodeAny(replies[r].Body, v); err != nil {
							fail(g.task, decodeError(http.MethodGet, c.basePath+g.path.s, err))
						}
					}
				}
			})
		}
		next := 0
		for ; next < n && next < c.maxConc; next++ {
			start(next)
		}
		// Yield each task once every batch holding its objects is done:
		// batches finish in any order, tasks are yielded in order.
		emitted := 0
		for k := 0; k < n; k++ {
			<-done[k]
			if next < n {
				start(next)
				next++
			}
			upTo := len(ids)
			if k+1 < n {
				upTo = gets[(k+1)*maxBatch].task // its objects start in the next batch
			}
			for ; emitted < upTo; emitted++ {
				mu.Lock()
				r, err := res[emitted], errs[emitted]
				mu.Unlock()
				if err != nil {
					r = TaskBoardFormats{}
				}
				if !yield(r, err) {
					return
				}
			}
		}
	}
}
