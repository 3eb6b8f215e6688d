package graph

import (
	"cmp"
	"context"
	"iter"
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
	// One get per object, 0 standing for the task itself.
	var what []BoardFormats
	if withTask {
		what = append(what, 0)
	}
	for _, k := range []BoardFormats{BucketBoard, ProgressBoard, AssignedToBoard} {
		if kinds&k != 0 {
			what = append(what, k)
		}
	}
	type get struct {
		task int // index in ids
		what BoardFormats
	}
	gets := func(yield func(get) bool) {
		for i := range ids {
			for _, w := range what {
				if !yield(get{i, w}) {
					return
				}
			}
		}
	}
	c := s.c
	// Every object of every task, in order, 20 to a $batch call: the calls
	// of a task's objects may differ, so a task is put together as its
	// objects are yielded.
	objects := inOrder(ctx, c, gets, maxBatch, func(ctx context.Context, part []get, parked func()) ([]any, []error) {
		return c.getEach(ctx, len(part), func(j int) (apiPath, func() any) {
			return boardPath(ids[part[j].task], part[j].what), boardModel(part[j].what)
		}, parked)
	})
	return func(yield func(TaskBoardFormats, error) bool) {
		if len(what) == 0 {
			for range ids {
				if !yield(TaskBoardFormats{}, nil) {
					return
				}
			}
			return
		}
		var r TaskBoardFormats
		var rerr error
		k := 0 // objects read
		for v, err := range objects {
			w := what[k%len(what)]
			k++
			switch {
			case err != nil:
				rerr = cmp.Or(rerr, err)
			case w == 0:
				r.Task = v.(*Task)
			case w == BucketBoard:
				r.Bucket = v.(*BucketTaskBoardFormat)
			case w == ProgressBoard:
				r.Progress = v.(*ProgressTaskBoardFormat)
			case w == AssignedToBoard:
				r.AssignedTo = v.(*AssignedToTaskBoardFormat)
			}
			if k%len(what) != 0 {
				continue // more objects of this task to come
			}
			if rerr != nil {
				r = TaskBoardFormats{}
			}
			if !yield(r, rerr) {
				return
			}
			r, rerr = TaskBoardFormats{}, nil
		}
	}
}

// boardPath is the path of a task (what 0) or one of its board formats.
func boardPath(id string, what BoardFormats) apiPath {
	switch what {
	case BucketBoard:
		return taskPath(id, "/bucketTaskBoardFormat")
	case ProgressBoard:
		return taskPath(id, "/progressTaskBoardFormat")
	case AssignedToBoard:
		return taskPath(id, "/assignedToTaskBoardFormat")
	}
	return taskPath(id, "")
}

// boardModel is a batchItem.into for a task (what 0) or one of its board
// formats.
func boardModel(what BoardFormats) func() any {
	switch what {
	case BucketBoard:
		return intoNew[BucketTaskBoardFormat]
	case ProgressBoard:
		return intoNew[ProgressTaskBoardFormat]
	case AssignedToBoard:
		return intoNew[AssignedToTaskBoardFormat]
	}
	return intoNew[Task]
}
