package graph

import "testing"

// TestListBoardFormats: a task's board formats (and the task itself) read
// together fill the $batch calls: n tasks with k objects each cost
// ceil(k·n/20) calls, yielded in the order of the ids, an unknown task
// failing alone.
func TestListBoardFormats(t *testing.T) {
	f := newFixture(t, nil)
	ids := f.srv.TaskIDs(f.plan(t))[:7]
	unknown := "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tests := []struct {
		name     string
		ids      []string
		kinds    BoardFormats
		withTask bool
		calls    int
	}{
		{"all formats and the task", ids, AllBoards, true, (4*len(ids) + 19) / 20},
		{"all formats", ids, AllBoards, false, (3*len(ids) + 19) / 20},
		{"one format", ids, BucketBoard, false, 1},
		{"two formats, an unknown task between", append(append(append([]string{}, ids[:3]...), unknown), ids[3:]...), ProgressBoard | AssignedToBoard, false, 1},
		{"nothing", ids, 0, false, 0},
	}
	for _, tc := range tests {
		f.counts.Reset()
		i := 0
		for v, err := range f.c.Tasks.ListBoardFormats(f.ctx, tc.ids, tc.kinds, tc.withTask) {
			id := tc.ids[i]
			i++
			if id == unknown {
				if !IsNotFound(err) {
					t.Errorf("%s: unknown task: %v", tc.name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: task %s: %v", tc.name, id, err)
			}
			check := func(kind BoardFormats, got bool, fid, etag string) {
				t.Helper()
				if want := tc.kinds&kind != 0; got != want || want && (fid != id || etag == "") {
					t.Errorf("%s: task %s format %d: read %v (id %q, etag %q), want %v", tc.name, id, kind, got, fid, etag, want)
				}
			}
			check(BucketBoard, v.Bucket != nil, idOf(v.Bucket), etagOf(v.Bucket))
			check(ProgressBoard, v.Progress != nil, idOf(v.Progress), etagOf(v.Progress))
			check(AssignedToBoard, v.AssignedTo != nil, idOf(v.AssignedTo), etagOf(v.AssignedTo))
			if (v.Task != nil) != tc.withTask || v.Task != nil && v.Task.ID != id {
				t.Errorf("%s: task %s: %+v", tc.name, id, v.Task)
			}
			if v.Bucket != nil && v.Bucket.OrderHint == "" || v.AssignedTo != nil && v.AssignedTo.UnassignedOrderHint == "" && len(v.AssignedTo.OrderHintsByAssignee) == 0 {
				t.Errorf("%s: task %s: formats without hints %+v %+v", tc.name, id, v.Bucket, v.AssignedTo)
			}
		}
		if i != len(tc.ids) {
			t.Errorf("%s: %d results for %d tasks", tc.name, i, len(tc.ids))
		}
		if got := f.counts.Total(); got != tc.calls {
			t.Errorf("%s: %d requests, want %d", tc.name, got, tc.calls)
		}
	}
}

func idOf[T interface {
	*BucketTaskBoardFormat | *ProgressTaskBoardFormat | *AssignedToTaskBoardFormat
}](v T) string {
	switch x := any(v).(type) {
	case *BucketTaskBoardFormat:
		if x != nil {
			return x.ID
		}
	case *ProgressTaskBoardFormat:
		if x != nil {
			return x.ID
		}
	case *AssignedToTaskBoardFormat:
		if x != nil {
			return x.ID
		}
	}
	return ""
}

func etagOf[T interface {
	*BucketTaskBoardFormat | *ProgressTaskBoardFormat | *AssignedToTaskBoardFormat
}](v T) string {
	switch x := any(v).(type) {
	case *BucketTaskBoardFormat:
		if x != nil {
			return x.ETag
		}
	case *ProgressTaskBoardFormat:
		if x != nil {
			return x.ETag
		}
	case *AssignedToTaskBoardFormat:
		if x != nil {
			return x.ETag
		}
	}
	return ""
}
