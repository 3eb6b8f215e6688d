package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// ---- TaskBoardFormats

// boardRow is a row of TaskBoardFormats: a task and its three board
// formats, each nil when the query uses none of its columns.
type boardRow struct {
	t *graph.Task
	b *graph.BucketTaskBoardFormat
	p *graph.ProgressTaskBoardFormat
	a *graph.AssignedToTaskBoardFormat
}

// The parts of a boardRow (column.parts): its three formats.
const (
	partBucket uint8 = 1 << iota
	partProgress
	partAssignedTo
)

// boardKinds are the formats a query's parts need.
func boardKinds(parts uint8) graph.BoardFormats {
	var k graph.BoardFormats
	if parts&partBucket != 0 {
		k |= graph.BucketBoard
	}
	if parts&partProgress != 0 {
		k |= graph.ProgressBoard
	}
	if parts&partAssignedTo != 0 {
		k |= graph.AssignedToBoard
	}
	return k
}

// boardCosts: a task and its formats are one $batch; a plan's 100 tasks
// one listing and ceil(3·100/20) $batch requests.
var boardCosts = taskCostSet{id: cost{1, 1}, plan: cost{16, 100}, bucket: cost{4, 20}}

var boardSource = taskSource[boardRow]{
	rows: func(ctx context.Context, x *session, q scanReq, tasks iter.Seq2[*graph.Task, error]) iter.Seq2[*boardRow, error] {
		kinds := boardKinds(q.parts)
		return chunked(ctx, tasks, 20*max(x.cfg.MaxConcurrency, 1), func(ctx context.Context, ts []*graph.Task) iter.Seq2[*boardRow, error] {
			return x.boardRows(ctx, ts, kinds)
		})
	},
	// A lookup by TaskId reads the task's formats with those a nested loop
	// asks for next (prefetchBoards); a task not read yet is read with them.
	one: func(ctx context.Context, x *session, id string, q scanReq) iter.Seq2[*boardRow, error] {
		kinds := boardKinds(q.parts)
		return func(yield func(*boardRow, error) bool) {
			if err := x.prefetchBoards(ctx, id, kinds); err != nil {
				yield(nil, err)
				return
			}
			for r, err := range expandChunk(ctx, x, x.task(ctx, id), kinds) {
				if !yield(r, err) {
					return
				}
			}
		}
	},
}

// boardKey is the scope's key prefix of the first of the formats kinds.
func boardKey(kinds graph.BoardFormats) string {
	switch {
	case kinds&graph.BucketBoard != 0:
		return "bboard"
	case kinds&graph.ProgressBoard != 0:
		return "pboard"
	}
	return "aboard"
}

// prefetchBoards reads into the scope, when it lacks them, the formats
// kinds of the task id together with those a nested loop asks for next:
// the tasks an IN list names, else those that follow id in the listing it
// came from (read-ahead doubling per round, as for details). Tasks not read
// yet are read in the same $batch requests as their formats.
func (x *session) prefetchBoards(ctx context.Context, id string, kinds graph.BoardFormats) error {
	if kinds == 0 {
		return nil
	}
	sc := x.sc
	t, known := sc.get("task:" + id)
	if known && (t == nil || x.heldBoards(&boardRow{t: t.(*graph.Task)}, kinds)) {
		return nil
	}
	ids := []string{id}
	switch {
	case sc.hinted("task", id):
		for _, h := range sc.hintsNotHeld("task", boardKey(kinds)) {
			if h != id {
				ids = append(ids, h)
			}
		}
	case known:
		sc.mu.Lock()
		batches := sc.ahead
		sc.ahead = min(2*sc.ahead, max(x.cfg.MaxConcurrency, 1))
		sc.mu.Unlock()
		ids = sc.readAhead(id, 20, batches)
	}
	var formatsOnly, withTask []string
	for _, i := range ids {
		t, known := sc.get("task:" + i)
		switch {
		case !known:
			withTask = append(withTask, i)
		case t != nil && !x.heldBoards(&boardRow{t: t.(*graph.Task)}, kinds):
			formatsOnly = append(formatsOnly, i)
		}
	}
	for _, part := range []struct {
		ids      []string
		withTask bool
	}{{formatsOnly, false}, {withTask, true}} {
		j := 0
		for tf, err := range x.g.Tasks.ListBoardFormats(ctx, part.ids, kinds, part.withTask) {
			i := part.ids[min(j, len(part.ids)-1)]
			j++
			switch {
			case err != nil && x.absent(err):
				sc.put("task:"+i, gone{})
			case err != nil:
				return err
			default:
				if tf.Task != nil {
					sc.put("task:"+i, tf.Task)
				}
				x.keepBoards(i, tf)
			}
		}
	}
	return nil
}

// expandChunk yields the board rows of the tasks seq yields.
func expandChunk(ctx context.Context, x *session, seq iter.Seq2[*graph.Task, error], kinds graph.BoardFormats) iter.Seq2[*boardRow, error] {
	return func(yield func(*boardRow, error) bool) {
		var ts []*graph.Task
		for t, err := range seq {
			if err != nil {
				yield(nil, err)
				return
			}
			ts = append(ts, t)
		}
		for r, err := range x.boardRows(ctx, ts, kinds) {
			if !yield(r, err) {
				return
			}
		}
	}
}

// boardRows yields the tasks ts with their formats kinds: from the scope,
// else read for every task that lacks one, in $batch requests filled with
// the formats of several tasks (ceil(k·n/20) for k formats of n tasks). A
// task whose formats are gone (deleted meanwhile) has no row. In a shared
// scope the formats another reader is fetching (a statement of the same
// run going on at once) are waited for, not fetched again.
func (x *session) boardRows(ctx context.Context, ts []*graph.Task, kinds graph.BoardFormats) iter.Seq2[*boardRow, error] {
	return func(yield func(*boardRow, error) bool) {
		sc := x.sc
		shared := sc.shared()
		rows := make([]*boardRow, len(ts))
		var need, waitIDs []string
		var needAt, waitAt []int
		var waits []*flight
		own := &flight{done: make(chan struct{})}
		flightKey := func(id string) string { return "boards" + strconv.Itoa(int(kinds)) + ":" + id }
		sc.mu.Lock()
		for i, t := range ts {
			r := &boardRow{t: t}
			rows[i] = r
			if x.heldBoardsLocked(r, kinds) {
				continue
			}
			if f := sc.flights[flightKey(t.ID)]; shared && f != nil {
				waitIDs, waitAt, waits = append(waitIDs, t.ID), append(waitAt, i), append(waits, f)
				continue
			}
			if shared {
				sc.flights[flightKey(t.ID)] = own
			}
			need = append(need, t.ID)
			needAt = append(needAt, i)
		}
		sc.mu.Unlock()
		fetch := func(need []string, needAt []int) error {
			i := 0
			for tf, err := range x.g.Tasks.ListBoardFormats(ctx, need, kinds, false) {
				at, id := needAt[min(i, len(need)-1)], need[min(i, len(need)-1)]
				i++
				switch {
				case err != nil && x.absent(err):
					rows[at] = nil
					if shared {
						sc.put(boardKey(kinds)+":"+id, gone{})
					}
				case err != nil:
					return err
				default:
					r := rows[at]
					r.b, r.p, r.a = tf.Bucket, tf.Progress, tf.AssignedTo
					if shared {
						x.keepBoards(id, tf)
					}
				}
			}
			return nil
		}
		err := fetch(need, needAt)
		if shared {
			sc.mu.Lock()
			for _, id := range need {
				if sc.flights[flightKey(id)] == own {
					delete(sc.flights, flightKey(id))
				}
			}
			own.err = err
			sc.mu.Unlock()
			close(own.done)
		}
		if err != nil {
			yield(nil, err)
			return
		}
		// The formats other readers fetched: from the scope once they are
		// in, else (their fetch failed, or was stopped) fetched here.
		var again []string
		var againAt []int
		for j, f := range waits {
			select {
			case <-f.done:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			at := waitAt[j]
			if o, known := sc.get(boardKey(kinds) + ":" + waitIDs[j]); known && o == nil {
				rows[at] = nil // gone
				continue
			}
			if !x.heldBoards(rows[at], kinds) {
				again, againAt = append(again, waitIDs[j]), append(againAt, at)
			}
		}
		if err := fetch(again, againAt); err != nil {
			yield(nil, err)
			return
		}
		for _, r := range rows {
			if r != nil && !yield(r, nil) {
				return
			}
		}
	}
}

// heldBoards fills r with the formats kinds the scope holds and reports
// whether it holds them all.
func (x *session) heldBoards(r *boardRow, kinds graph.BoardFormats) bool {
	x.sc.mu.Lock()
	defer x.sc.mu.Unlock()
	return x.heldBoardsLocked(r, kinds)
}

// heldBoardsLocked is heldBoards with the scope's lock held.
func (x *session) heldBoardsLocked(r *boardRow, kinds graph.BoardFormats) bool {
	all := true
	if kinds&graph.BucketBoard != 0 {
		r.b, _ = x.sc.objs["bboard:"+r.t.ID].(*graph.BucketTaskBoardFormat)
		all = all && r.b != nil
	}
	if kinds&graph.ProgressBoard != 0 {
		r.p, _ = x.sc.objs["pboard:"+r.t.ID].(*graph.ProgressTaskBoardFormat)
		all = all && r.p != nil
	}
	if kinds&graph.AssignedToBoard != 0 {
		r.a, _ = x.sc.objs["aboard:"+r.t.ID].(*graph.AssignedToTaskBoardFormat)
		all = all && r.a != nil
	}
	return all
}

// keepBoards keeps the formats read of the task id in the scope.
func (x *session) keepBoards(id string, tf graph.TaskBoardFormats) {
	if tf.Bucket != nil {
		x.sc.put("bboard:"+id, tf.Bucket)
	}
	if tf.Progress != nil {
		x.sc.put("pboard:"+id, tf.Progress)
	}
	if tf.AssignedTo != nil {
		x.sc.put("aboard:"+id, tf.AssignedTo)
	}
}

// boardHint is a TEXT order-hint column of one format; UPDATE records its
// change as "<format>.<prop>" in the patch.
func boardHint(name, desc string, part uint8, format, prop string, get func(*boardRow) *string) column[boardRow] {
	return column[boardRow]{name: name, typ: schema.Text, flags: null, parts: part, desc: desc,
		get: func(r *boardRow) any {
			if p := get(r); p != nil {
				return text(*p)
			}
			return nil
		},
		patch: func(p graph.Patch, _, v any) error {
			if v == nil {
				p[format+"."+prop] = nil
			} else {
				p[format+"."+prop] = str(v)
			}
			return nil
		}}
}

// boardETag is the read-only ETag column of one format.
func boardETag(name, desc string, part uint8, get func(*boardRow) *string) column[boardRow] {
	return column[boardRow]{name: name, typ: schema.Text, flags: null, parts: part, desc: desc,
		get: func(r *boardRow) any {
			if p := get(r); p != nil {
				return text(*p)
			}
			return nil
		}}
}

// boardFormatsTable: each task's place on the plan's three boards.
var boardFormatsTable = (&table[boardRow]{
	name: "TaskBoardFormats",
	desc: "Each task's position on the plan's three boards: grouped by bucket, by progress and by assignee.",
	cols: append(boardSource.scope(func(r *boardRow) **graph.Task { return &r.t }, 0, "GET /planner/tasks/{id} and its board formats", boardCosts),
		boardHint("BucketOrderHint", "The task's position in its bucket's column of the board grouped by bucket (order-hint format; "+
			"plannerBucketTaskBoardTaskFormat.orderHint).", partBucket, "bucket", "orderHint",
			func(r *boardRow) *string {
				if r.b == nil {
					return nil
				}
				return &r.b.OrderHint
			}),
		boardHint("ProgressOrderHint", "The task's position in its column (not started, in progress, completed) of the board grouped "+
			"by progress (plannerProgressTaskBoardTaskFormat.orderHint).", partProgress, "progress", "orderHint",
			func(r *boardRow) *string {
				if r.p == nil {
					return nil
				}
				return &r.p.OrderHint
			}),
		boardHint("UnassignedOrderHint", "The task's position in the Unassigned column of the board grouped by assignee, "+
			"when it has no assignee (plannerAssignedToTaskBoardTaskFormat.unassignedOrderHint).", partAssignedTo, "assignedTo", "unassignedOrderHint",
			func(r *boardRow) *string {
				if r.a == nil {
					return nil
				}
				return &r.a.UnassignedOrderHint
			}),
		column[boardRow]{name: "OrderHintsByAssignee", typ: schema.JSON, flags: null, parts: partAssignedTo,
			desc: `The task's position in each assignee's column of the board grouped by assignee, as a JSON object {"<userId>": "<orderHint>"} ` +
				"(plannerAssignedToTaskBoardTaskFormat.orderHintsByAssignee). On write, keys added or changed are set, keys removed are cleared.",
			get: func(r *boardRow) any {
				if r.a == nil {
					return nil
				}
				return lazyJSON(r.a.OrderHintsByAssignee, r.a.OrderHintsByAssignee == nil)
			},
			patch: func(p graph.Patch, old, v any) error {
				set, removed, err := objectDiff("OrderHintsByAssignee", old, v, userKey)
				if err != nil {
					return err
				}
				m := map[string]any{}
				for user, raw := range set {
					var h *string
					if err := json.Unmarshal(raw, &h); err != nil {
						return fmt.Errorf("column OrderHintsByAssignee: values must be order hints (text) or null (user %s)", user)
					}
					if h == nil {
						m[user] = nil
					} else {
						m[user] = *h
					}
				}
				for _, user := range removed {
					m[user] = nil
				}
				p["assignedTo.orderHintsByAssignee"] = m
				return nil
			}},
		boardETag("BucketFormatETag", "The version of the task's by-bucket board format.", partBucket,
			func(r *boardRow) *string {
				if r.b == nil {
					return nil
				}
				return &r.b.ETag
			}),
		boardETag("ProgressFormatETag", "The version of the task's by-progress board format.", partProgress,
			func(r *boardRow) *string {
				if r.p == nil {
					return nil
				}
				return &r.p.ETag
			}),
		boardETag("AssignedToFormatETag", "The version of the task's by-assignee board format.", partAssignedTo,
			func(r *boardRow) *string {
				if r.a == nil {
					return nil
				}
				return &r.a.ETag
			}),
	),
	scan:     boardSource.scan,
	scanCost: cost{171, 1000},
	// Each format has its own version; update handles them.
	version: func(r *boardRow) version { return taskVersion(r.t) },
	update:  updateBoards,
	notes: []string{
		"Each task has three board formats, each its own Graph object with its own ETag. A query reads only the formats " +
			"whose columns it uses: WHERE TaskId = ? is one $batch request (the task and its formats); WHERE PlanId = ? " +
			"or BucketId = ? lists the tasks and reads k formats of n tasks in ceil(k·n/20) $batch requests.",
		"UPDATE sends each changed format its own PATCH with its own ETag. A hint in the documented grammar is sent as " +
			"given; another task's value puts the task at that task's place in the same column (the tasks of the bucket, " +
			"of the progress column, or of the assignee's or the Unassigned column), whose formats are then read.",
	},
	examples: []schema.Example{
		{Title: "A bucket's tasks in board order", SQL: "SELECT t.Title FROM TaskBoardFormats f JOIN Tasks t ON t.TaskId = f.TaskId WHERE f.BucketId = ? ORDER BY f.BucketOrderHint"},
		{Title: "Move a task to the top of its bucket", SQL: "UPDATE TaskBoardFormats SET BucketOrderHint = (SELECT min(BucketOrderHint) FROM TaskBoardFormats WHERE BucketId = ?1) WHERE TaskId = ?2"},
	},
}).init()

// updateBoards sends the changed formats of a row, each with its own ETag,
// placing copied hints among the task's neighbours on that board.
func updateBoards(ctx context.Context, x *session, old *boardRow, _ version, p graph.Patch) (*boardRow, string, error) {
	parts := map[string]graph.Patch{}
	for k, v := range p {
		format, prop, _ := strings.Cut(k, ".")
		if parts[format] == nil {
			parts[format] = graph.Patch{}
		}
		parts[format][prop] = v
	}
	out := *old
	id := old.t.ID
	if bp := parts["bucket"]; bp != nil && old.b != nil {
		sib := x.boardSiblings(ctx, old.t, graph.BucketBoard, func(t *graph.Task) bool { return t.BucketID == old.t.BucketID },
			func(r *boardRow) string { return r.b.OrderHint })
		if err := placePatched(bp, "orderHint", old.b.OrderHint, hintPlace{}, sib); err != nil {
			return nil, "", err
		}
		if len(bp) > 0 {
			f, err := patchBoard(ctx, x, "bboard:"+id, old.b.ETag, bp,
				func(etag string) (*graph.BucketTaskBoardFormat, error) {
					return x.g.Tasks.UpdateBucketTaskBoardFormat(ctx, id, etag, bp)
				},
				func() (*graph.BucketTaskBoardFormat, error) { return x.g.Tasks.GetBucketTaskBoardFormat(ctx, id) },
				func(f *graph.BucketTaskBoardFormat) string { return f.ETag })
			if err != nil {
				return nil, "", err
			}
			out.b = f
		}
	}
	if pp := parts["progress"]; pp != nil && old.p != nil {
		col := progressColumn(old.t)
		sib := x.boardSiblings(ctx, old.t, graph.ProgressBoard, func(t *graph.Task) bool { return progressColumn(t) == col },
			func(r *boardRow) string { return r.p.OrderHint })
		if err := placePatched(pp, "orderHint", old.p.OrderHint, hintPlace{}, sib); err != nil {
			return nil, "", err
		}
		if len(pp) > 0 {
			f, err := patchBoard(ctx, x, "pboard:"+id, old.p.ETag, pp,
				func(etag string) (*graph.ProgressTaskBoardFormat, error) {
					return x.g.Tasks.UpdateProgressTaskBoardFormat(ctx, id, etag, pp)
				},
				func() (*graph.ProgressTaskBoardFormat, error) { return x.g.Tasks.GetProgressTaskBoardFormat(ctx, id) },
				func(f *graph.ProgressTaskBoardFormat) string { return f.ETag })
			if err != nil {
				return nil, "", err
			}
			out.p = f
		}
	}
	if ap := parts["assignedTo"]; ap != nil && old.a != nil {
		sib := x.boardSiblings(ctx, old.t, graph.AssignedToBoard, func(t *graph.Task) bool { return len(t.Assignments) == 0 },
			func(r *boardRow) string { return r.a.UnassignedOrderHint })
		if err := placePatched(ap, "unassignedOrderHint", old.a.UnassignedOrderHint, hintPlace{}, sib); err != nil {
			return nil, "", err
		}
		if m, ok := ap["orderHintsByAssignee"].(map[string]any); ok {
			for user, v := range m {
				h, ok := v.(string)
				if !ok {
					continue
				}
				sib := x.boardSiblings(ctx, old.t, graph.AssignedToBoard, func(t *graph.Task) bool { _, ok := t.Assignments[user]; return ok },
					func(r *boardRow) string { return r.a.OrderHintsByAssignee[user] })
				cur, place := old.a.OrderHintsByAssignee[user], hintPlace{}
				if h == "" {
					// No hint: last in the column, as NULL or '' is for the
					// other hints (placePatched).
					cur, place.appendNew = "", true
				}
				placed, err := placeHint(h, cur, place, sib)
				if err != nil {
					return nil, "", err
				}
				if placed == "" {
					delete(m, user)
				} else {
					m[user] = placed
				}
			}
			if len(m) == 0 {
				delete(ap, "orderHintsByAssignee")
			}
		}
		if len(ap) > 0 {
			f, err := patchBoard(ctx, x, "aboard:"+id, old.a.ETag, ap,
				func(etag string) (*graph.AssignedToTaskBoardFormat, error) {
					return x.g.Tasks.UpdateAssignedToTaskBoardFormat(ctx, id, etag, ap)
				},
				func() (*graph.AssignedToTaskBoardFormat, error) {
					return x.g.Tasks.GetAssignedToTaskBoardFormat(ctx, id)
				},
				func(f *graph.AssignedToTaskBoardFormat) string { return f.ETag })
			if err != nil {
				return nil, "", err
			}
			out.a = f
		}
	}
	return &out, "", nil
}

// patchBoard sends a format's PATCH at the version read (or ours, when this
// session wrote it since) and returns the format as the service now has it.
func patchBoard[F any](ctx context.Context, x *session, obj, etag string, p graph.Patch,
	update func(etag string) (*F, error), get func() (*F, error), etagOf func(*F) string) (*F, error) {
	v := version{obj, etag}
	sent, err := x.current(v, func() (string, error) {
		f, err := get()
		if err != nil {
			return "", err
		}
		return etagOf(f), nil
	})
	if err != nil {
		return nil, err
	}
	f, err := update(sent)
	if err != nil {
		return nil, err
	}
	if f == nil {
		if f, err = get(); err != nil {
			return nil, err
		}
	}
	x.wrote(obj, sent, etagOf(f))
	return f, nil
}

// progressColumn is the column of the board grouped by progress a task is
// in: 0 not started, 1 in progress, 2 completed.
func progressColumn(t *graph.Task) int {
	switch pc := t.PercentComplete; {
	case pc == nil || *pc == 0:
		return 0
	case *pc >= 100:
		return 2
	}
	return 1
}

// boardSiblings returns a siblings function for placeHint: the hints hint
// of the formats kind of the plan's tasks in the same board column as t
// (same reports whether a task is), t left out. It reads the plan's tasks
// and their formats only when called.
func (x *session) boardSiblings(ctx context.Context, t *graph.Task, kind graph.BoardFormats, same func(*graph.Task) bool, hint func(*boardRow) string) func() ([]string, error) {
	return func() ([]string, error) {
		var ts []*graph.Task
		for o, err := range x.tasksOfPlan(ctx, t.PlanID) {
			if err != nil {
				return nil, err
			}
			if o.ID != t.ID && same(o) {
				ts = append(ts, o)
			}
		}
		var out []string
		for r, err := range x.boardRows(ctx, ts, kind) {
			if err != nil {
				return nil, err
			}
			out = append(out, hint(r))
		}
		return out, nil
	}
}
