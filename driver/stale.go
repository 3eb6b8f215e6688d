package driver

import (
	"context"
	"fmt"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// Versioning (planner-overview, "Planner resource versioning"): every write
// carries the ETag read. Planner applies a change to an older version when
// it does not conflict with newer changes, and otherwise answers
//
//   - 412 Precondition Failed: the ETag is not a version it still knows (the
//     row was read long ago, or changed many times since): "read the
//     resource again and get a new etag";
//   - 409 Conflict: the change touches what a newer change changed.
//
// On a 412 the driver reads the row again and, when none of the columns
// the statement changes (for a DELETE, none of the row's columns) changed
// since it was read, sends the write again with the new ETag — what Planner
// itself does for a version it still knows, so nobody's change is lost.
// Otherwise, and on every 409, the statement fails with ErrRowChanged,
// naming the columns someone else changed and what to do.

// staleError is a write refused because the row changed since it was read.
type staleError struct {
	cause error    // Graph's 412 or 409
	cols  []string // the columns that changed since, when known
	gone  bool     // the row no longer exists
}

func (e *staleError) Error() string {
	var what string
	switch {
	case e.gone:
		what = "the row was deleted since it was read"
	case len(e.cols) > 0:
		what = "someone changed " + strings.Join(e.cols, ", ") + " since the statement read the row"
	case graph.IsConflict(e.cause):
		what = "the change conflicts with a newer change of the row"
	default:
		what = "the row changed since the statement read it"
	}
	return fmt.Sprintf("%v: %s; nothing was written: read the row again, decide which values to keep, and run the statement again (%v)",
		ErrRowChanged, what, e.cause)
}

func (e *staleError) Unwrap() []error { return []error{ErrRowChanged, e.cause} }

// staleWrite handles a write Graph refused with 412 or 409 (err): it reads
// the row again and, for a 412 when none of the columns that matter (cols:
// those the write changes; nil for all) changed since old was read, returns
// the row as it is now to write again. Otherwise it returns the error to
// report.
func (t *vtable) staleWrite(ctx context.Context, x *session, old rowRec, cols []bool, err error) (rowRec, error) {
	tb := t.m.t
	x.sc.forget(old.obj) // what the statement holds of the row is stale
	cur, found, rerr := t.reread(ctx, x, old)
	switch {
	case rerr != nil:
		return rowRec{}, &staleError{cause: err}
	case !found:
		return rowRec{}, &staleError{cause: err, gone: true}
	}
	var moved []string
	for i, c := range tb.Columns {
		if cols == nil && strings.HasSuffix(c.Name, "ETag") {
			continue // a version, not a value: it changes with any change
		}
		if (cols == nil || cols[i]) && !sameValue(old.vals[i], cur.vals[i]) {
			moved = append(moved, c.Name)
		}
	}
	if len(moved) > 0 || !graph.IsPreconditionFailed(err) || cur.etag == old.etag {
		return rowRec{}, &staleError{cause: err, cols: moved}
	}
	return cur, nil
}

// reread reads the row old again from Graph: through the pushdown of its
// first key column that has one, keeping the row whose key values are
// old's.
func (t *vtable) reread(ctx context.Context, x *session, old rowRec) (rowRec, bool, error) {
	tb := t.m.t
	col := -1
	for _, k := range tb.Key {
		if _, i := tb.Column(k); i >= 0 {
			if _, ok := t.m.decl.cost(i); ok {
				col = i
				break
			}
		}
	}
	if col < 0 {
		return rowRec{}, false, fmt.Errorf("planner: %s: no key column to read a row by", tb.Name)
	}
	all := ^uint64(0)
	for rec, err := range t.m.decl.read(ctx, x, col, str(old.vals[col]), scanReq{limit: -1, used: all}) {
		if err != nil {
			return rowRec{}, false, err
		}
		rec.vals = t.m.decl.materialize(rec.src)
		if sameKey(tb, old.vals, rec.vals) {
			return rec, true, nil
		}
	}
	return rowRec{}, false, nil
}

// sameKey reports whether two rows of tb have the same key values.
func sameKey(tb *schema.Table, a, b []any) bool {
	for _, k := range tb.Key {
		if _, i := tb.Column(k); i < 0 || !sameValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

// isStale reports whether err is Graph's answer to a write with an ETag
// that is not current: 412 or 409.
func isStale(err error) bool { return graph.IsPreconditionFailed(err) || graph.IsConflict(err) }
