package driver

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// A planner table is declared once, in its table_<name>.go file, as a
// table[T] value: its rows are *T values (a Graph object, or a small struct
// pairing one with its parent), and every column is bound to the row by
// typed functions, never by position. The declaration holds
//
//   - the catalog entry: name, description, notes, examples, and per column
//     its name, type, key and nullability, description (package schema is
//     generated from these: see TestSchemaGenerated);
//   - the reads: the full scan, and per pushdown column the narrower Graph
//     read an equality on it selects, each with its cost in requests;
//   - the writes: per column how INSERT sets it (set) and how UPDATE sends a
//     change of it (patch), and per table the Graph call that creates,
//     updates or deletes a row.
//
// A column's position is only its place in SELECT * and in the DDL; values
// travel with their column, so reordering the declarations cannot move data
// between columns (TestColumnOrderCannotShiftData shuffles them to prove it).
//
// Adding a column: one entry in the table's cols — a field-bound helper
// below (textField, intField, dateField, boolField: get, and set/patch
// from its access), userIDCol, etagCol or readOnly for what only Graph
// sets, or a column literal for anything else (JSON columns, values
// derived from several fields); flag it detail when reading it needs the
// task's or plan's details. Then `go test ./driver -run TestSchemaGenerated
// -update` regenerates package schema and docs/tables.md, and
// schema.TestContract pins the new column list. Adding a table: a
// table_<name>.go file with its table[T] value (for rows that come from
// tasks, build the TaskId/PlanId/BucketId columns and the reads with a
// taskSource, as the Task* tables do; detailsSource for rows that need the
// details), listed in tables (tables.go), and the same command. Reads go
// through the session's readers (read.go), which keep what they fetch in
// the statement's scope (scope.go): a new kind of Graph object needs a
// reader there to be read once per statement.

// colFlags are a column's catalog attributes that its binding does not imply.
type colFlags uint8

const (
	key  colFlags = 1 << iota // part of the primary key, in declaration order
	null                      // may be NULL
	req                       // INSERT must set it (the column must have a set function)
	// detail marks a column read from a second object (the task's details,
	// the plan's details): a query that uses no such column does not fetch it.
	detail
)

// column is one column of a table whose rows are *T.
type column[T any] struct {
	name  string
	typ   schema.Type
	flags colFlags
	desc  string
	// get returns the column's value in a row as SQLite receives it: nil,
	// int64 or string, or a lazy func computing one of them.
	get func(*T) any
	// set puts v (never nil, of the column's type) into the row an INSERT
	// builds; nil when INSERT cannot set the column.
	set func(r *T, v any) error
	// patch records an UPDATE's change of the column from old to v (of the
	// column's type, or nil) in p, the PATCH body of the row's Graph object
	// (or of the row's part of it, for tables of child items); nil when
	// UPDATE cannot change the column.
	patch func(p graph.Patch, old, v any) error
	// push, when not nil, is the narrower read an equality (or IN) on the
	// column selects.
	push *pushdown[T]
	// parts are the table-specific parts of a row reading the column needs
	// (bit b: part b, e.g. one of a task's board formats): a query that uses
	// no column of a part does not fetch it (scanReq.parts).
	parts uint8
}

// cost estimates a read: the Graph requests it sends and the rows it yields.
// BestIndex prefers fewer requests, then fewer rows (SQLite is told
// requests×1000 + rows). The estimates are those of a tenant of 10 groups
// of one plan each, 5 buckets and 100 tasks a plan: a lookup by key is one
// request, a listing one request per page of 400 (one per plan or bucket
// here), a scan the discovery (1 + 10) plus one listing per plan, and
// details one $batch per 20 on top.
type cost struct {
	requests float64
	rows     int64
}

// pushdown is the read an equality on a column selects.
type pushdown[T any] struct {
	// endpoint names the Graph request, for the catalog and the docs.
	endpoint string
	cost     cost
	// fetch yields the rows whose column equals val.
	fetch func(ctx context.Context, x *session, val string, q scanReq) iter.Seq2[*T, error]
}

// version is the Graph object a row's writes go to ("task:<id>") and its
// ETag as read.
type version struct {
	obj, etag string
}

// table is the declaration of one planner table whose rows are *T.
type table[T any] struct {
	name, desc string
	notes      []string
	examples   []schema.Example
	cols       []column[T]

	// scan yields every row (no pushdown); scanCost is its estimate.
	scan     func(ctx context.Context, x *session, q scanReq) iter.Seq2[*T, error]
	scanCost cost

	// version returns the object a row's writes go to and its ETag; nil for
	// read-only tables.
	version func(*T) version
	// insert creates the row r (built by the columns' set functions) and
	// returns it as the service created it.
	insert func(ctx context.Context, x *session, r *T) (*T, error)
	// update sends p (built by the changed columns' patch functions) for
	// the row old, read at version v, and returns the row as written and the
	// ETag it sent. The row is nil (with no error) when the service sent no
	// representation back; update has then recorded the write with
	// x.wrote(v.obj, sent, "").
	update func(ctx context.Context, x *session, old *T, v version, p graph.Patch) (out *T, sent string, err error)
	// delete deletes the row old, read at version v.
	delete func(ctx context.Context, x *session, old *T, v version) error
	// check, when set, makes the checks insert makes before its first
	// request, and returns the row's key in the form insert writes it (""
	// when Graph generates it): the check pass of a multi-row INSERT
	// (checkRow) uses it.
	check func(r *T) (key string, err error)

	meta       *schema.Table // built from the declaration by init
	detailMask uint64        // the columns flagged detail (bit i = column i)
	partMasks  [8]uint64     // per part b, the columns that need it
}

// tableDecl is a table declaration seen without its row type: what the
// virtual table module works with.
type tableDecl interface {
	// schema returns the table's catalog entry.
	schema() *schema.Table
	// value returns column i of the row src (a *T of this table).
	value(src any, i int) any
	// cost returns the estimate of reading through column i's pushdown
	// (i < 0: the full scan); ok is false when column i has none.
	cost(i int) (c cost, ok bool)
	// read yields the rows through column i's pushdown with value val, or
	// every row when i < 0.
	read(ctx context.Context, x *session, i int, val string, q scanReq) iter.Seq2[rowRec, error]
	// materialize returns the row's values, lazy ones computed.
	materialize(src any) []any
	// insertRow, updateRow and deleteRow carry out a write of the row with
	// values vals (after the module's checks of required, read-only and
	// typed columns); changed marks the columns an UPDATE changes.
	insertRow(ctx context.Context, x *session, vals []any) (rowRec, error)
	// checkRow makes the checks insertRow makes before its first request
	// and returns the row's key as it would be written ("" when Graph
	// generates it), sending nothing.
	checkRow(vals []any) (key string, err error)
	updateRow(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error)
	deleteRow(ctx context.Context, x *session, old rowRec) error
	// permuted returns a copy whose columns are in the order perm gives
	// (column i of the copy is column perm[i]): the test proving that the
	// order of the declarations cannot move data uses it.
	permuted(perm []int) tableDecl
}

// init builds the catalog entry and checks the declaration; it panics on a
// declaration error (a programming error caught by every test).
func (t *table[T]) init() *table[T] {
	m := &schema.Table{Name: t.name, Description: t.desc, Notes: t.notes, Examples: t.examples}
	for _, c := range t.cols {
		sc := schema.Column{
			Name: c.name, Type: c.typ, Description: c.desc,
			Key: c.flags&key != 0, Nullable: c.flags&null != 0, Required: c.flags&req != 0,
			Insertable: c.set != nil, Updatable: c.patch != nil,
		}
		if c.push != nil {
			sc.Pushdown, sc.Endpoint = true, c.push.endpoint
		}
		switch {
		case c.get == nil:
			panic("planner: table " + t.name + ": column " + c.name + " has no get")
		case sc.Required && c.set == nil:
			panic("planner: table " + t.name + ": column " + c.name + " is required but has no set")
		}
		if sc.Key {
			m.Key = append(m.Key, c.name)
		}
		if c.flags&detail != 0 {
			t.detailMask |= colBit(len(m.Columns))
		}
		for b := range t.partMasks {
			if c.parts&(1<<b) != 0 {
				t.partMasks[b] |= colBit(len(m.Columns))
			}
		}
		m.Insert = m.Insert || sc.Insertable
		m.Update = m.Update || sc.Updatable
		m.Columns = append(m.Columns, sc)
	}
	m.Delete = t.delete != nil
	if (m.Insert && t.insert == nil) || (m.Update && t.update == nil) || (m.Updatable() && t.version == nil) {
		panic("planner: table " + t.name + ": writable columns without the table's write function or version")
	}
	t.meta = m
	return t
}

func (t *table[T]) schema() *schema.Table { return t.meta }

func (t *table[T]) value(src any, i int) any { return t.cols[i].get(src.(*T)) }

func (t *table[T]) cost(i int) (cost, bool) {
	if i < 0 {
		return t.scanCost, true
	}
	if i >= len(t.cols) || t.cols[i].push == nil {
		return cost{}, false
	}
	return t.cols[i].push.cost, true
}

func (t *table[T]) read(ctx context.Context, x *session, i int, val string, q scanReq) iter.Seq2[rowRec, error] {
	q.details = q.used&t.detailMask != 0
	q.parts = 0
	for b, m := range t.partMasks {
		if q.used&m != 0 {
			q.parts |= 1 << b
		}
	}
	var seq iter.Seq2[*T, error]
	if i < 0 {
		seq = t.scan(ctx, x, q)
	} else {
		seq = t.cols[i].push.fetch(ctx, x, val, q)
	}
	return func(yield func(rowRec, error) bool) {
		for r, err := range seq {
			if err != nil {
				yield(rowRec{}, err)
				return
			}
			// BestIndex tells SQLite not to test the pushed-down equality
			// again, so a row whose column is not exactly val (Graph reads
			// ids case-insensitively, and a GUID in another form names the
			// same group) is left out here: the pushdown returns what the
			// scan filtered by SQLite returns.
			if i >= 0 && !t.holds(r, i, val) {
				continue
			}
			if !yield(t.rec(r, nil), nil) {
				return
			}
		}
	}
}

// holds reports whether column i of row r is the text val, as SQLite's
// col = val compares a TEXT column (NULL equals nothing).
func (t *table[T]) holds(r *T, i int, val string) bool {
	v := t.cols[i].get(r)
	if f, ok := v.(lazy); ok {
		v = f()
	}
	s, ok := v.(string)
	return ok && s == val
}

// rec wraps a row; vals, when not nil, are its values as written.
func (t *table[T]) rec(r *T, vals []any) rowRec {
	rec := rowRec{src: r, vals: vals}
	if t.version != nil {
		v := t.version(r)
		rec.obj, rec.etag = v.obj, v.etag
	}
	return rec
}

func (t *table[T]) materialize(src any) []any {
	r := src.(*T)
	vals := make([]any, len(t.cols))
	for i, c := range t.cols {
		v := c.get(r)
		if f, ok := v.(lazy); ok {
			v = f()
		}
		vals[i] = v
	}
	return vals
}

func (t *table[T]) insertRow(ctx context.Context, x *session, vals []any) (rowRec, error) {
	r := new(T)
	for i, c := range t.cols {
		if vals[i] == nil {
			continue
		}
		if err := c.set(r, vals[i]); err != nil {
			return rowRec{}, err
		}
	}
	out, err := t.insert(ctx, x, r)
	if err != nil {
		return rowRec{}, err
	}
	return t.rec(out, t.materialize(out)), nil
}

func (t *table[T]) checkRow(vals []any) (string, error) {
	r := new(T)
	for i, c := range t.cols {
		if vals[i] == nil {
			continue
		}
		if err := c.set(r, vals[i]); err != nil {
			return "", err
		}
	}
	if t.check == nil {
		return "", nil
	}
	return t.check(r)
}

func (t *table[T]) updateRow(ctx context.Context, x *session, old rowRec, vals []any, changed []bool) (rowRec, error) {
	p := graph.Patch{}
	for i, c := range t.cols {
		if !changed[i] {
			continue
		}
		if err := c.patch(p, old.vals[i], vals[i]); err != nil {
			return rowRec{}, err
		}
	}
	out, sent, err := t.update(ctx, x, old.src.(*T), version{old.obj, old.etag}, p)
	if err != nil {
		return rowRec{}, err
	}
	if out == nil {
		// No representation came back: the row is the values written, its
		// version unknown until refetched (x.stale reports it).
		return rowRec{src: old.src, vals: vals, obj: old.obj, etag: sent}, nil
	}
	return t.rec(out, t.materialize(out)), nil
}

func (t *table[T]) deleteRow(ctx context.Context, x *session, old rowRec) error {
	return t.delete(ctx, x, old.src.(*T), version{old.obj, old.etag})
}

func (t *table[T]) permuted(perm []int) tableDecl {
	c := *t
	c.cols = make([]column[T], len(t.cols))
	for i, j := range perm {
		c.cols[i] = t.cols[j]
	}
	c.detailMask, c.partMasks = 0, [8]uint64{}
	return c.init()
}

// ---- Column helpers: a column bound to a field of the row.

// readOnly is a column only Graph sets.
func readOnly[T any](name string, typ schema.Type, f colFlags, desc string, get func(*T) any) column[T] {
	return column[T]{name: name, typ: typ, flags: f, desc: desc, get: get}
}

// access says how INSERT and UPDATE may set a field-bound column.
type access uint8

const (
	ro  access = 0         // neither
	ins access = 1         // INSERT may set it
	upd access = 2         // UPDATE may change it
	iu  access = ins | upd // both
)

// textField is a TEXT column bound to a string field; in a nullable column
// "" reads as NULL. UPDATE sends it as prop.
func textField[T any](name string, f colFlags, a access, desc, prop string, field func(*T) *string) column[T] {
	c := column[T]{name: name, typ: schema.Text, flags: f, desc: desc,
		get: func(r *T) any { return *field(r) }}
	if f&null != 0 {
		c.get = func(r *T) any { return text(*field(r)) }
	}
	if a&ins != 0 {
		c.set = func(r *T, v any) error { *field(r) = str(v); return nil }
	}
	if a&upd != 0 {
		c.patch = func(p graph.Patch, _, v any) error {
			if v == nil {
				p[prop] = nil
			} else {
				p[prop] = str(v)
			}
			return nil
		}
	}
	return c
}

// intField is an INTEGER column bound to an *int field.
func intField[T any](name string, f colFlags, a access, desc, prop string, field func(*T) **int) column[T] {
	c := column[T]{name: name, typ: schema.Integer, flags: f, desc: desc,
		get: func(r *T) any { return intVal(*field(r)) }}
	if a&ins != 0 {
		c.set = func(r *T, v any) error { n := int(v.(int64)); *field(r) = &n; return nil }
	}
	if a&upd != 0 {
		c.patch = func(p graph.Patch, _, v any) error { p[prop] = patchInt(v); return nil }
	}
	return c
}

// boolField is a BOOLEAN column bound to a *bool field.
func boolField[T any](name string, f colFlags, a access, desc, prop string, field func(*T) **bool) column[T] {
	c := column[T]{name: name, typ: schema.Boolean, flags: f, desc: desc,
		get: func(r *T) any { return boolVal(*field(r)) }}
	if a&ins != 0 {
		c.set = func(r *T, v any) error { b := v.(int64) != 0; *field(r) = &b; return nil }
	}
	if a&upd != 0 {
		c.patch = func(p graph.Patch, _, v any) error { p[prop] = patchBool(v); return nil }
	}
	return c
}

// dateField is a DATETIME column bound to a *graph.DateTime field.
func dateField[T any](name string, f colFlags, a access, desc, prop string, field func(*T) **graph.DateTime) column[T] {
	c := column[T]{name: name, typ: schema.DateTime, flags: f, desc: desc,
		get: func(r *T) any { return dateVal(*field(r)) }}
	if a&ins != 0 {
		c.set = func(r *T, v any) error {
			tm, err := parseTime(str(v))
			if err != nil {
				return err
			}
			*field(r) = &graph.DateTime{Time: tm}
			return nil
		}
	}
	if a&upd != 0 {
		c.patch = func(p graph.Patch, _, v any) error {
			t, err := patchTime(v)
			if err != nil {
				return fmt.Errorf("column %s: %w", name, err)
			}
			p[prop] = t
			return nil
		}
	}
	return c
}

// colBit is the ColUsed bit of column i (SQLite folds columns 63 and up
// into bit 63).
func colBit(i int) uint64 {
	if i >= 63 {
		return 1 << 63
	}
	return 1 << uint(i)
}

// userIDCol is a read-only TEXT column holding the user id of an identity set.
func userIDCol[T any](name, desc string, field func(*T) *graph.IdentitySet) column[T] {
	return readOnly(name, schema.Text, null, desc, func(r *T) any { return userID(field(r)) })
}

// appIDCol is a read-only TEXT column holding the application id of an
// identity set: beside every userIDCol, so that what an application did
// alone (an app-only token) has an author.
func appIDCol[T any](name, desc string, field func(*T) *graph.IdentitySet) column[T] {
	return readOnly(name, schema.Text, null, desc, func(r *T) any { return appID(field(r)) })
}

// etagCol is the read-only ETag column.
func etagCol[T any](desc string, field func(*T) string) column[T] {
	return readOnly("ETag", schema.Text, null, desc, func(r *T) any { return text(field(r)) })
}

// ---- The registry.

// byName finds a declaration by its SQL name, case-insensitively.
func byName(decls []tableDecl, name string) tableDecl {
	for _, d := range decls {
		if strings.EqualFold(d.schema().Name, name) {
			return d
		}
	}
	return nil
}
