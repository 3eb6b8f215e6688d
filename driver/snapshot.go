package driver

import (
	"context"
	"database/sql/driver"
	"sort"
	"sync"
)

// Snapshot is a run-scoped read of the tenant: while it is open, every
// statement run on the connector with a context from [Snapshot.Context]
// reads each Graph object at most once — groups, plans, buckets, tasks and
// the details of plans and tasks are fetched on demand by the first
// statement that needs them, kept, and served from the snapshot to every
// later statement of the run. A run of several statements (a REPLICATE
// script, REPLICATE ALL, one source copied into several destinations) so
// costs the requests of reading the tenant once, and its tables are
// consistent with each other: Tasks and TaskAssignments, say, come from the
// same read of each task.
//
// The snapshot holds what it has read until [Snapshot.Close]; its memory is
// that of the objects read: a REPLICATE ALL keeps every task and its
// details, about 5.6 KB a task (280 MB for 50,000 tasks; docs/benchmarks.md). Statements run with other contexts, or on another connector,
// read the tenant as it is, and so do statements after Close. A write made
// through the snapshot's context drops the objects it changed from it.
// A Snapshot may be used by several goroutines; statements running at once
// through it (one script into several destinations at once) share one read
// of each listing, task details and board formats.
//
//	snap := cn.NewSnapshot()
//	defer snap.Close()
//	ctx = snap.Context(ctx)
//	results, err := replicate.Run(ctx, db, dst, "REPLICATE ALL", opts)
//
// Without a snapshot each statement is its own scope: a statement reads
// each object at most once (joins, IN lists and subqueries are served from
// what the statement read, or in batches), and the next statement reads
// afresh.
type Snapshot struct {
	cn *Connector

	mu     sync.Mutex
	sc     *scope
	closed bool
}

// NewSnapshot opens a run-scoped snapshot of the connector's tenant; it is
// empty until a statement reads through it. Close it when the run ends.
func (c *Connector) NewSnapshot() *Snapshot {
	sc := newScope()
	sc.run = true
	return &Snapshot{cn: c, sc: sc}
}

type snapshotKey struct{}

// Context returns a context, derived from ctx, whose statements on the
// snapshot's connector read through the snapshot.
func (s *Snapshot) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, snapshotKey{}, s)
}

// Close ends the snapshot: it waits for the reads it started in the
// background and releases what it holds. Statements run later with its
// context read the tenant afresh. Close is idempotent and returns nil.
func (s *Snapshot) Close() error {
	s.mu.Lock()
	sc := s.sc
	s.closed = true
	s.mu.Unlock()
	sc.mu.Lock()
	sc.run = false // a closed run's scope ends like a statement's
	sc.mu.Unlock()
	sc.end()
	return nil
}

// scope returns the snapshot's scope, or nil once it is closed.
func (s *Snapshot) scope() *scope {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.sc
}

// statement opens the scope of one statement: the run's, when ctx carries
// an open Snapshot of this connector, else a new one for this statement
// (planned: the tables SQLite planned when the statement was prepared). It
// records the task ids the statement's IN lists name, and returns the
// statement's context, carrying the scope, and the function that ends it.
func (c *Connector) statement(ctx context.Context, query string, args []driver.NamedValue, planned []string) (context.Context, func()) {
	var sc *scope
	if s, ok := ctx.Value(snapshotKey{}).(*Snapshot); ok && s.cn == c {
		sc = s.scope()
	}
	end := func() {}
	if sc == nil {
		sc = newScope()
		for _, t := range planned {
			sc.planned[t] = true
		}
		end = sc.end
	}
	sc.setHints(inListHints(query, args))
	return withScope(ctx, sc), end
}

// plannedTables returns the tables planned in the scope, sorted.
func (sc *scope) plannedTables() []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := make([]string, 0, len(sc.planned))
	for t := range sc.planned {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
