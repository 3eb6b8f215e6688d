package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// Errors a write can fail with, besides Graph's own (which errors.As finds as
// *graph.Error). The messages may change; match with errors.Is.
var (
	// ErrRowChanged: the row changed in Planner since the statement read it
	// (Graph answered 412 or 409 to the write's If-Match), in the columns the
	// write changes: the error names them. Read it again and retry. (A 412
	// whose columns did not change is written again by the driver: see
	// stale.go.)
	ErrRowChanged = errors.New("the row changed since it was read")
	// ErrRowGone: the row no longer exists in Planner.
	ErrRowGone = errors.New("the row no longer exists")
	// ErrDuplicateKey: an INSERT names a row that already exists (a label
	// already applied, a user already assigned or shared with, a checklist
	// item id or a reference key already used), as SQLite's UNIQUE
	// constraint does: nothing is sent for the row. INSERT OR IGNORE skips
	// such rows (and does not count them); INSERT OR REPLACE overwrites them.
	ErrDuplicateKey = errors.New("UNIQUE constraint failed")
)

// errSkipped is the outcome of an INSERT OR IGNORE of a row that exists:
// the module leaves it out of the count of changed rows.
var errSkipped = errors.New("planner: the row exists; INSERT OR IGNORE skipped it")

// onDuplicate says what an INSERT of a row whose key already exists does,
// by the statement's conflict mode: nil to overwrite the row (OR REPLACE),
// errSkipped to leave it (OR IGNORE), else ErrDuplicateKey (ABORT, FAIL,
// ROLLBACK: the statement fails; rows it wrote before stand, since Graph
// has no transactions).
func (x *session) onDuplicate() error {
	switch x.st.onConflict() {
	case "REPLACE":
		return nil
	case "IGNORE":
		return errSkipped
	}
	return ErrDuplicateKey
}

// writeError describes a failed write: the statement, the table, the row's key
// and what to do, keeping the cause for errors.Is/As.
func writeError(op string, tb *schema.Table, vals []any, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	key := keyText(tb, vals)
	switch {
	case errors.Is(err, ErrDuplicateKey):
		cols := make([]string, len(tb.Key))
		for i, k := range tb.Key {
			cols[i] = tb.Name + "." + k
		}
		return fmt.Errorf("planner: %s %s %s: %w: %s: the row already exists and nothing was sent for it; "+
			"INSERT OR IGNORE skips existing rows, INSERT OR REPLACE overwrites them", op, tb.Name, key, err, strings.Join(cols, ", "))
	case errors.As(err, new(*staleError)):
		return fmt.Errorf("planner: %s %s %s: %w", op, tb.Name, key, err)
	case graph.IsPreconditionFailed(err) || graph.IsConflict(err):
		return fmt.Errorf("planner: %s %s %s: %w", op, tb.Name, key, &staleError{cause: err})
	case graph.IsNotFound(err) && op == "INSERT into":
		// A new row has no version to lose: what is missing is an object
		// the row names (its plan, task, bucket or group).
		return fmt.Errorf("planner: %s %s %s: an object the row names does not exist (it was deleted, or the id is wrong): check %s: %w",
			op, tb.Name, key, strings.Join(namedIDs(tb, vals), ", "), err)
	case graph.IsNotFound(err):
		return fmt.Errorf("planner: %s %s %s: %w: %w", op, tb.Name, key, ErrRowGone, err)
	}
	return fmt.Errorf("planner: %s %s %s: %w", op, tb.Name, key, err)
}

// namedIDs returns "Col=value" for the ids an INSERT's row gives: the
// objects it names (PlanId, TaskId, BucketId, GroupId, ContainerId, UserId).
func namedIDs(tb *schema.Table, vals []any) []string {
	var out []string
	for i, c := range tb.Columns {
		if c.Insertable && strings.HasSuffix(c.Name, "Id") && c.Name != "ItemId" && i < len(vals) && vals[i] != nil {
			out = append(out, fmt.Sprintf("%s=%v", c.Name, vals[i]))
		}
	}
	if len(out) == 0 {
		return []string{"the ids it gives"}
	}
	return out
}

func keyText(tb *schema.Table, vals []any) string {
	var parts []string
	for _, k := range tb.Key {
		_, i := tb.Column(k)
		if i >= 0 && i < len(vals) && vals[i] != nil {
			parts = append(parts, fmt.Sprintf("%s=%v", k, vals[i]))
		}
	}
	if len(parts) == 0 {
		return "(new row)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// current returns the ETag to send for a row read at version v: the one
// read, or ours if this session changed the object since; when our write's
// new ETag is unknown, it is fetched with get.
func (x *session) current(v version, get func() (string, error)) (string, error) {
	if x.stale(v) {
		etag, err := get()
		if err != nil {
			return "", err
		}
		x.wrote(v.obj, v.etag, etag)
		return etag, nil
	}
	return x.fresh(v).etag, nil
}

// objectDiff compares two JSON objects key by key, their keys in the form
// canon gives (nil: as written): the keys added or whose values changed,
// and the keys removed.
func objectDiff(col string, oldV, newV any, canon func(string) string) (set map[string]json.RawMessage, removed []string, err error) {
	o, err := jsonObjectKeyed(col, oldV, canon)
	if err != nil {
		return nil, nil, err
	}
	n, err := jsonObjectKeyed(col, newV, canon)
	if err != nil {
		return nil, nil, err
	}
	set = map[string]json.RawMessage{}
	for k, v := range n {
		if ov, ok := o[k]; !ok || !jsonEqual(ov, v) {
			set[k] = v
		}
	}
	for k := range o {
		if _, ok := n[k]; !ok {
			removed = append(removed, k)
		}
	}
	return set, removed, nil
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	ab, _ := json.Marshal(x)
	bb, _ := json.Marshal(y)
	return string(ab) == string(bb)
}
