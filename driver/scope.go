package driver

import (
	"context"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/plannersql/planner/graph"
)

// Reading economically: a scope is what the reads of one statement share,
// or, with a Snapshot, the reads of every statement of one run.
//
// Every object a read fetches is kept in its scope by kind and id ("task:<id>",
// "details:<id>", "bucket:<id>", "plan:<id>", "plandetails:<id>",
// "group:<id>"), and every listing read to its end by its key
// ("tasks:plan:<id>", "buckets:plan:<id>", "plans", "groups", ...). Later
// reads in the scope are served from it: a lookup by key finds the object
// (SQLite's nested loops ask the inner table for one key at a time, and the
// outer table has usually read that key already), and a listing read again
// (an inner table scanned once per outer row) is replayed. What the scope
// does not hold is fetched in batches: the details of the tasks a lookup's
// listing holds next, 20 per $batch, several batches at once (read-ahead),
// and the objects an IN list of keys names. A scope ends with its
// statement: a new statement reads the tenant as it is now. A write drops
// what it made stale.
//
// A user's task list (/users/{id}/planner/tasks) keeps tasks of deleted
// plans, which Graph answers 404 for: its tasks are kept as "utask:<id>",
// not as tasks, so that a lookup of one asks Graph (with read-ahead along
// the list) rather than trusting the list.
//
// Groups, plans, buckets and plan details are few and always kept. Tasks
// and task details are kept only when the statement reads more than one
// planner table (or a table twice, or in a run): a single-table scan
// streams, holding no more than its read-ahead, while a join keeps what it
// read until it ends (the price of reading each object once).
type scope struct {
	run bool // a Snapshot's scope: keeps everything until released

	mu         sync.Mutex
	planned    map[string]bool     // tables SQLite planned for the statement
	opens      int                 // cursors opened in the statement
	objs       map[string]any      // kind:id → object, or gone{} (404)
	lists      map[string][]string // complete listings: key → ids in order
	partial    map[string][]string // listings of tasks being read: key → ids so far
	pos        map[string]listPos  // task id → where it stands in a listing
	bucketPlan map[string]string   // bucket id → its plan's id
	flights    map[string]*flight  // kind:id → the fetch under way
	hints      map[string]bool     // kind:id of the ids the statement's IN lists name
	covered    map[string]bool     // plan id → whether scans cover it (coverage.go)
	ahead      int                 // batches the next details read-ahead may send
	users      map[string]bool     // users whose task lists the statement asked for
	bg         sync.WaitGroup      // background fetches
	cancels    []context.CancelFunc
	ended      bool
}

// gone marks an object that is not there: Graph answered 404 (a plan's
// details also 403), or its id is one no object can have.
type gone struct{}

// listPos is where a task stands in a listing.
type listPos struct {
	key string
	i   int
}

// flight is a fetch under way; done is closed when it ends, err set first.
type flight struct {
	done chan struct{}
	err  error
}

func newScope() *scope {
	return &scope{planned: map[string]bool{}, objs: map[string]any{}, lists: map[string][]string{},
		partial: map[string][]string{}, pos: map[string]listPos{}, bucketPlan: map[string]string{},
		flights: map[string]*flight{}, covered: map[string]bool{}, ahead: 1}
}

type scopeKey struct{}

// withScope returns ctx carrying sc: the statement's reads share it.
func withScope(ctx context.Context, sc *scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, sc)
}

// scopeOf returns the scope ctx carries, or a new one (reads outside a
// statement, which share nothing).
func scopeOf(ctx context.Context) *scope {
	if sc, ok := ctx.Value(scopeKey{}).(*scope); ok {
		return sc
	}
	return newScope()
}

// plan records that SQLite planned a read of table for the statement.
func (sc *scope) plan(table string) {
	sc.mu.Lock()
	sc.planned[table] = true
	sc.mu.Unlock()
}

// opened records a cursor opened by the statement.
func (sc *scope) opened() {
	sc.mu.Lock()
	sc.opens++
	sc.mu.Unlock()
}

// shared reports whether the scope keeps tasks and details: a run, or a
// statement that reads several planner tables or one table twice. The
// caller holds sc.mu.
func (sc *scope) sharedLocked() bool {
	return sc.run || len(sc.planned) >= 2 || sc.opens >= 2
}

func (sc *scope) shared() bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.sharedLocked()
}

// end ends a statement's scope: background fetches are stopped and waited
// for, and what it holds is released. A run's scope ends with its Snapshot.
func (sc *scope) end() {
	sc.mu.Lock()
	if sc.ended {
		sc.mu.Unlock()
		return
	}
	sc.ended = true
	cancels := sc.cancels
	sc.cancels = nil
	sc.mu.Unlock()
	for _, c := range cancels {
		c()
	}
	sc.bg.Wait()
	sc.mu.Lock()
	sc.objs, sc.lists, sc.partial, sc.pos, sc.bucketPlan, sc.hints, sc.covered = map[string]any{}, map[string][]string{},
		map[string][]string{}, map[string]listPos{}, map[string]string{}, nil, map[string]bool{}
	sc.mu.Unlock()
}

// get returns the object kind:id the scope holds; known is false when the
// scope knows nothing of it, obj nil when it is gone.
func (sc *scope) get(key string) (obj any, known bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	v, ok := sc.objs[key]
	if !ok {
		return nil, false
	}
	if _, isGone := v.(gone); isGone {
		return nil, true
	}
	return v, true
}

// put keeps an object (or gone{}) under kind:id.
func (sc *scope) put(key string, obj any) {
	sc.mu.Lock()
	sc.putLocked(key, obj)
	sc.mu.Unlock()
}

func (sc *scope) putLocked(key string, obj any) {
	if sc.ended && !sc.run {
		return
	}
	sc.objs[key] = obj
	switch o := obj.(type) {
	case *graph.Task:
		if o.BucketID != "" {
			sc.bucketPlan[o.BucketID] = o.PlanID
		}
	case *graph.Bucket:
		sc.bucketPlan[o.ID] = o.PlanID
	}
}

// forget drops what a write made stale: the object obj ("task:<id>", ...)
// and the listings it may be in (a write may add, move or remove it). A
// task's rows in other tables are built from the task and its details, so
// both go.
func (sc *scope) forget(obj string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	delete(sc.objs, obj)
	kind, id, _ := strings.Cut(obj, ":")
	var lists string
	switch kind {
	case "task", "details":
		delete(sc.objs, "task:"+id)
		delete(sc.objs, "details:"+id)
		lists = "tasks"
	case "bucket":
		lists = "buckets"
	case "plan":
		lists = "plans"
		clear(sc.covered)
	}
	for k := range sc.lists {
		if lists != "" && strings.HasPrefix(k, lists) {
			delete(sc.lists, k)
		}
	}
}

// coverage returns what the scope knows of whether scans cover the plan
// id: a decision kept (cover), or the scan's own listing of plans.
func (sc *scope) coverage(id string) (ok, known bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if ok, known := sc.covered[id]; known {
		return ok, true
	}
	if ids, listed := sc.lists["plans"]; listed {
		return slices.Contains(ids, id), true
	}
	return false, false
}

// plansUndecided returns the ids of the plans of the tasks and buckets the
// scope holds whose coverage is undecided and which it does not hold.
func (sc *scope) plansUndecided() []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if id == "" || seen[id] {
			return
		}
		seen[id] = true
		if _, ok := sc.covered[id]; ok {
			return
		}
		if _, ok := sc.objs["plan:"+id]; ok {
			return
		}
		out = append(out, id)
	}
	for _, p := range sc.bucketPlan {
		add(p)
	}
	for k, o := range sc.objs {
		if t, ok := o.(*graph.Task); ok && strings.HasPrefix(k, "task:") {
			add(t.PlanID)
		}
	}
	sort.Strings(out)
	return out
}

// cover keeps the decision whether scans cover the plan id.
func (sc *scope) cover(id string, ok bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.ended && !sc.run {
		return
	}
	sc.covered[id] = ok
}

// userLookup records that the statement asks for the tasks of a user and
// reports whether it asked for another user's before, in a shared scope:
// then the lookups are a nested loop's, one per outer row, and the tasks of
// every plan (a scan's requests, read once) serve them better than a task
// list per user.
func (sc *scope) userLookup(id string) (repeated bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if !sc.sharedLocked() {
		return false
	}
	if sc.users == nil {
		sc.users = map[string]bool{}
	}
	sc.users[id] = true
	return len(sc.users) >= 2
}

// hinted reports whether an IN list of the statement names the id of the
// kind ("task", "plan", "bucket", "group").
func (sc *scope) hinted(kind, id string) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.hints[kind+":"+id]
}

// setHints records the ids the statement's IN lists name, by kind.
func (sc *scope) setHints(ids map[string][]string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for kind, list := range ids {
		if sc.hints == nil {
			sc.hints = map[string]bool{}
		}
		for _, id := range list {
			sc.hints[kind+":"+id] = true
		}
	}
}

// hintsNotHeld returns the ids of the kind the statement's IN lists name
// whose held:id the scope neither holds nor is fetching (held is the kind
// the caller fetches: "details" for the details of hinted tasks).
func (sc *scope) hintsNotHeld(kind, held string) []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var out []string
	for k := range sc.hints {
		id, ok := strings.CutPrefix(k, kind+":")
		if !ok {
			continue
		}
		if _, ok := sc.objs[held+":"+id]; ok || sc.flights[held+":"+id] != nil {
			continue
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// readAhead returns id and the ids that follow it in the listing it was
// read from (the keys a nested loop will most likely ask for next), up to
// per×batches in all. While the listing is still being read, the count is
// cut to whole batches of per, so that no batch goes out part empty.
func (sc *scope) readAhead(id string, per, batches int) []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := []string{id}
	p, ok := sc.pos[id]
	if !ok {
		return out
	}
	ids, partial := sc.partial[p.key], true
	if ids == nil {
		ids, partial = sc.lists[p.key], false
	}
	if p.i < len(ids) {
		out = append(out, ids[p.i+1:min(len(ids), p.i+per*batches)]...)
	}
	if partial && len(out) > per {
		out = out[:len(out)-len(out)%per]
	}
	return out
}

// background runs f in a goroutine the scope's end stops and waits for.
func (sc *scope) background(ctx context.Context, f func(ctx context.Context)) bool {
	sc.mu.Lock()
	if sc.ended && !sc.run {
		sc.mu.Unlock()
		return false
	}
	ctx, cancel := context.WithCancel(ctx)
	sc.cancels = append(sc.cancels, cancel)
	sc.bg.Add(1)
	sc.mu.Unlock()
	go func() {
		defer sc.bg.Done()
		defer cancel()
		f(ctx)
	}()
	return true
}

// listed yields a listing: replayed from the scope when a read in it listed
// it to its end, else fetched, keeping each object (always when keep, else
// only when the scope is shared) and, once read to its end, the listing.
// Listings of tasks kept in the scope also record where each task stands,
// and are read up to taskReadAhead tasks ahead of the consumer: the lookups
// of a nested loop read the details of the tasks ahead in batches.
func listed[T any](ctx context.Context, sc *scope, key, kind string, keep bool, id func(*T) string, fetch func(context.Context) iter.Seq2[*T, error]) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		if objs, ok := replay[T](sc, key, kind); ok {
			for _, o := range objs {
				if !yield(o, nil) {
					return
				}
			}
			return
		}
		sc.mu.Lock()
		record := keep || sc.sharedLocked()
		track := record && (kind == "task" || kind == "utask")
		// In a shared scope a small listing (groups, plans, buckets) is
		// read to its end before its first object is yielded, so that a
		// second reader in the statement (an inner table scanned once per
		// outer row) finds it complete rather than reading it again;
		// readers arriving meanwhile wait for it.
		// A run's listings, tasks too, are read the same way: a run keeps
		// everything it reads anyway, and statements running at once
		// through one Snapshot (a script into several destinations at
		// once) so share one read of each listing.
		eager := (keep && sc.sharedLocked()) || sc.run
		var f *flight
		if eager {
			if f = sc.flights["list:"+key]; f == nil {
				f = &flight{done: make(chan struct{})}
				sc.flights["list:"+key] = f
			} else {
				sc.mu.Unlock()
				select {
				case <-f.done:
				case <-ctx.Done():
					yield(nil, ctx.Err())
					return
				}
				if objs, ok := replay[T](sc, key, kind); ok {
					for _, o := range objs {
						if !yield(o, nil) {
							return
						}
					}
					return
				}
				sc.mu.Lock()
				eager, f = false, nil // the other reader failed: read it ourselves
			}
		}
		if track && !eager {
			sc.partial[key] = nil
		}
		sc.mu.Unlock()
		if eager {
			var objs []*T
			var err error
			for v, e := range fetch(ctx) {
				if e != nil {
					err = e
					break
				}
				objs = append(objs, v)
			}
			sc.mu.Lock()
			if err == nil {
				ids := make([]string, len(objs))
				for i, o := range objs {
					ids[i] = id(o)
					sc.putLocked(kind+":"+ids[i], o)
					if track {
						sc.pos[ids[i]] = listPos{key, i}
					}
				}
				if !sc.ended || sc.run {
					sc.lists[key] = ids
				}
			}
			delete(sc.flights, "list:"+key)
			f.err = err
			sc.mu.Unlock()
			close(f.done)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, o := range objs {
				if !yield(o, nil) {
					return
				}
			}
			return
		}
		// Objects are kept as they are fetched, before the consumer sees
		// them: a pumped listing's read-ahead is known to lookups at once.
		var ids []string
		recorded := func(ctx context.Context) iter.Seq2[*T, error] {
			return func(yield func(*T, error) bool) {
				for v, err := range fetch(ctx) {
					if err == nil && record {
						k := id(v)
						sc.mu.Lock()
						sc.putLocked(kind+":"+k, v)
						if track {
							sc.pos[k] = listPos{key, len(sc.partial[key])}
							sc.partial[key] = append(sc.partial[key], k)
						}
						sc.mu.Unlock()
						ids = append(ids, k)
					}
					if !yield(v, err) || err != nil {
						return
					}
				}
			}
		}
		seq := recorded
		if track {
			seq = func(ctx context.Context) iter.Seq2[*T, error] { return pump(ctx, recorded, taskReadAhead) }
		}
		complete := true
		for v, err := range seq(ctx) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(v, nil) {
				complete = false
				break
			}
		}
		if record && complete {
			sc.mu.Lock()
			if !sc.ended || sc.run {
				sc.lists[key] = ids
			}
			delete(sc.partial, key)
			sc.mu.Unlock()
		}
	}
}

// pump reads the sequence fetch(ctx) up to n values ahead of its consumer,
// in a goroutine; when the consumer stops early, the fetch's context is
// cancelled and the goroutine waited for.
func pump[T any](ctx context.Context, fetch func(context.Context) iter.Seq2[*T, error], n int) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		type item struct {
			v   *T
			err error
		}
		ch := make(chan item, n)
		go func() {
			defer close(ch)
			for v, err := range fetch(ctx) {
				select {
				case ch <- item{v, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
		defer func() {
			cancel()
			for range ch {
			}
		}()
		for it := range ch {
			if !yield(it.v, it.err) || it.err != nil {
				return
			}
		}
	}
}

// replay returns the objects of a complete listing the scope holds.
func replay[T any](sc *scope, key, kind string) ([]*T, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	ids, ok := sc.lists[key]
	if !ok {
		return nil, false
	}
	out := make([]*T, 0, len(ids))
	for _, id := range ids {
		o, ok := sc.objs[kind+":"+id].(*T)
		if !ok {
			return nil, false
		}
		out = append(out, o)
	}
	return out, true
}
