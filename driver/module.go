package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/plannersql/planner/schema"
	"modernc.org/sqlite/vtab"
)

// rowRec is one row of a planner table: the row's value in its table's
// declaration (a *T), its column values once materialized (nil, int64 or
// string, as SQLite receives them: rows kept for a write, rows created), and
// the version a later write of the row sends.
type rowRec struct {
	src  any
	vals []any
	obj  string // the Graph object the row's version belongs to, e.g. "task:<id>"
	etag string // that object's version as read
}

// scanReq is what a cursor asks a table for, besides the pushed-down value.
type scanReq struct {
	limit   int64  // rows wanted (offset included), -1 when unknown
	used    uint64 // columns the query references (bit N = column N)
	details bool   // the query uses a column flagged detail
	parts   uint8  // the parts of a row the query's columns need (column.parts)
}

// module is the SQLite module of one planner table.
type module struct {
	cn   *Connector
	decl tableDecl
	t    *schema.Table
}

// VolatileArgs implements vtab.VolatileArgsOpter: SQLite's values reach
// Filter, Insert and Update whole, as views of SQLite's memory that
// copyValues copies at once. Without it, modernc.org/sqlite reads text
// arguments as C strings, which end at the first NUL byte, and a value such
// as 'a' || char(0) || 'b' (or a bound "a\x00b") would arrive as "a":
// checkNUL could not see what was cut.
func (m *module) VolatileArgs() bool { return true }

func (m *module) Create(ctx vtab.Context, args []string) (vtab.Table, error) {
	return m.Connect(ctx, args)
}

// Connect declares the table and binds it to the connection named in its
// module arguments (conn=<id>).
func (m *module) Connect(ctx vtab.Context, args []string) (vtab.Table, error) {
	var id uint64
	for _, a := range args[3:] {
		if v, ok := strings.CutPrefix(a, "conn="); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("planner: bad module argument %q", a)
			}
			id = n
		}
	}
	st := m.cn.state(id)
	if st == nil {
		return nil, fmt.Errorf("planner: table %s: no connection %d", m.t.Name, id)
	}
	if err := ctx.Declare(m.t.DDL()); err != nil {
		return nil, err
	}
	return &vtable{m: m, st: st, keys: keyColumns(m.t), seed: maphash.MakeSeed()}, nil
}

// keyColumns returns the indexes of t's key columns.
func keyColumns(t *schema.Table) []int {
	var out []int
	for i, c := range t.Columns {
		if c.Key {
			out = append(out, i)
		}
	}
	return out
}

// vtable is one connection's instance of a planner table.
type vtable struct {
	m  *module
	st *connState

	writing bool             // inside a write transaction: remember rows read
	rows    map[int64]rowRec // rows read while writing, by rowid
	// used holds, per rowid of rows, the columns the read that kept it
	// asked for: a row read twice in one statement (an UPDATE whose
	// subquery reads the same table) keeps the read of more columns.
	used   map[int64]uint64
	nextID int64
	sess   *session
	keys   []int        // the key columns: a row's rowid is their hash
	seed   maphash.Seed // of rowidOf
}

var (
	_ vtab.Table         = (*vtable)(nil)
	_ vtab.Updater       = (*vtable)(nil)
	_ vtab.Transactional = (*vtable)(nil)
)

// The idxNum of a plan is the pushed-down column's index + 1 (0 for a full
// scan). idxStr records where LIMIT and OFFSET arguments are and the columns
// used: "l=<argv>;o=<argv>;u=<hex>".

// BestIndex chooses the cheapest Graph endpoint for the usable constraints.
// It never fails: an unusable plan gets a huge cost instead (an error here
// would fail the whole query).
func (t *vtable) BestIndex(info *vtab.IndexInfo) error {
	tb := t.m.t
	// The statement's scope keeps what it reads for the statement's other
	// tables when SQLite plans more than one.
	scopeOf(t.st.context()).plan(tb.Name)
	scan, _ := t.m.decl.cost(-1)
	best, bestReq, bestRows := -1, scan.requests, scan.rows
	// An equality under NOCASE or RTRIM matches ids Graph would not find
	// by the value given: SQLite compares the rows of a scan instead.
	collated := t.st.collated()
	for i, c := range info.Constraints {
		if collated || !c.Usable || c.Op != vtab.OpEQ || c.Column < 0 || c.Column >= len(tb.Columns) {
			continue
		}
		est, ok := t.m.decl.cost(c.Column)
		if !ok {
			continue
		}
		if best < 0 || est.requests < bestReq || est.requests == bestReq && est.rows < bestRows {
			best, bestReq, bestRows = i, est.requests, est.rows
		}
	}
	argc := 0
	if best >= 0 {
		c := &info.Constraints[best]
		c.ArgIndex = argc
		c.Omit = true
		argc++
		info.IdxNum = int64(c.Column + 1)
		if tb.Columns[c.Column].Key && len(tb.Key) == 1 {
			info.IdxFlags = vtab.IndexScanUnique
		}
	}
	// Take LIMIT/OFFSET only when nothing else is left for SQLite to filter
	// or sort: otherwise the limit would apply to the wrong rows.
	lim, off := -1, -1
	others := false
	for i, c := range info.Constraints {
		switch {
		case i == best:
		case c.Op == vtab.OpLIMIT:
			lim = i
		case c.Op == vtab.OpOFFSET:
			off = i
		default:
			others = true
		}
	}
	var idx strings.Builder
	if lim >= 0 && !others && len(info.OrderBy) == 0 && info.Constraints[lim].Usable &&
		(off < 0 || info.Constraints[off].Usable) {
		info.Constraints[lim].ArgIndex = argc
		info.Constraints[lim].Omit = true
		fmt.Fprintf(&idx, "l=%d;", argc)
		argc++
		if off >= 0 {
			info.Constraints[off].ArgIndex = argc
			info.Constraints[off].Omit = true
			fmt.Fprintf(&idx, "o=%d;", argc)
		}
	}
	fmt.Fprintf(&idx, "u=%x", info.ColUsed)
	info.IdxStr = idx.String()
	info.EstimatedCost = bestReq*1000 + float64(bestRows)
	info.EstimatedRows = bestRows
	return nil
}

// Open implements vtab.Table.
func (t *vtable) Open() (vtab.Cursor, error) {
	scopeOf(t.st.context()).opened()
	return &cursor{t: t}, nil
}

// Disconnect implements vtab.Table.
func (t *vtable) Disconnect() error { return nil }

// Destroy implements vtab.Table.
func (t *vtable) Destroy() error { return nil }

// Begin starts a write transaction on the table: SQLite calls it before the
// scan that feeds an UPDATE or DELETE, so rows read from now on are kept for
// the write.
func (t *vtable) Begin() error {
	t.writing = true
	t.rows = map[int64]rowRec{}
	t.used = map[int64]uint64{}
	t.sess = t.m.cn.session(t.st)
	return nil
}

// Sync implements vtab.Transactional.
func (t *vtable) Sync() error { return nil }

// Commit ends the write transaction.
func (t *vtable) Commit() error { t.endWrite(); return nil }

// Rollback ends the write transaction. Writes already sent to Graph stand;
// conn's transaction reports that.
func (t *vtable) Rollback() error { t.endWrite(); return nil }

// Savepoint implements vtab.Transactional.
func (t *vtable) Savepoint(int) error { return nil }

// Release implements vtab.Transactional.
func (t *vtable) Release(int) error { return nil }

// RollbackTo implements vtab.Transactional.
func (t *vtable) RollbackTo(int) error { return nil }

func (t *vtable) endWrite() {
	t.writing = false
	t.rows = nil
	t.used = nil
	t.sess = nil
}

func (t *vtable) newRowid() int64 {
	t.nextID++
	return t.nextID
}

// keep remembers a row read while writing, under its rowid, for the
// UPDATE or DELETE of it: a row has one rowid however often the statement
// reads it, and the read of more columns is kept (a subquery's read of a
// few columns of the row being updated must not stand in for the full
// read the update compares its new values with); of two reads of the same
// columns, the later.
func (t *vtable) keep(rowid int64, rec rowRec, used uint64) {
	if had, ok := t.used[rowid]; ok && had != used && had|used == had {
		return
	}
	t.rows[rowid] = rec
	if t.used != nil {
		t.used[rowid] = used
	}
}

// rowidOf returns the rowid of a row: a hash of its key columns' values, so
// that a row has the same rowid in every scan of the statement. SQLite
// relies on that: a RIGHT or FULL JOIN remembers the rowids of the inner
// table's rows that matched and rescans the table for the others, and an
// OR of two pushed-down constraints (MULTI-INDEX OR) drops the rowids the
// first scan returned from the second. A rowid counting rows as they are
// read made every row of the rescan unmatched, and a row matching both
// sides of an OR a duplicate.
func (t *vtable) rowidOf(src any) int64 {
	if len(t.keys) == 0 || src == nil {
		return t.newRowid()
	}
	var h maphash.Hash
	h.SetSeed(t.seed)
	for _, i := range t.keys {
		v := t.m.decl.value(src, i)
		if f, ok := v.(lazy); ok {
			v = f()
		}
		switch x := v.(type) {
		case nil:
			h.WriteByte(0)
		case string:
			h.WriteByte(1)
			h.WriteString(x)
			h.WriteByte(0)
		default:
			h.WriteByte(2)
			h.WriteString(fmt.Sprint(x))
			h.WriteByte(0)
		}
	}
	return int64(h.Sum64())
}

// writeSession returns the session writes use.
func (t *vtable) writeSession() *session {
	if t.sess == nil {
		t.sess = t.m.cn.session(t.st)
	}
	return t.sess
}

// Insert implements vtab.Updater.
func (t *vtable) Insert(cols []vtab.Value, rowid *int64) error {
	tb := t.m.t
	if !tb.Insert {
		return t.st.fail(readOnlyTable(tb, "INSERT"))
	}
	if t.st.inReadOnlyTx() {
		return t.st.fail(fmt.Errorf("planner: INSERT on %s: the transaction is read-only (sql.TxOptions{ReadOnly: true}); nothing was sent to Graph", tb.Name))
	}
	vals := copyValues(cols)
	for i, c := range tb.Columns {
		switch {
		case vals[i] == nil && c.Required:
			return t.st.fail(fmt.Errorf("planner: INSERT into %s: column %s is required", tb.Name, c.Name))
		case vals[i] != nil && !c.Insertable:
			return t.st.fail(fmt.Errorf("planner: INSERT into %s: column %s is read-only (set by Microsoft Graph); leave it out", tb.Name, c.Name))
		}
		if err := checkNUL(tb, c, vals[i], "INSERT into"); err != nil {
			return t.st.fail(err)
		}
		if err := checkType(tb, c, vals[i], "INSERT into"); err != nil {
			return t.st.fail(err)
		}
	}
	if checking, _ := t.st.checkingKey(""); checking {
		return t.checkInsert(vals, rowid)
	}
	ctx := t.st.context()
	rec, err := t.m.decl.insertRow(ctx, t.writeSession(), vals)
	if errors.Is(err, errSkipped) {
		// INSERT OR IGNORE of a row that exists: nothing written, and the
		// statement's count leaves it out.
		t.st.skipped()
		*rowid = t.newRowid()
		return nil
	}
	if err != nil {
		return t.st.fail(writeError("INSERT into", tb, vals, err))
	}
	t.st.wrote()
	id := t.rowidOf(rec.src)
	*rowid = id
	if t.rows != nil {
		t.rows[id] = rec
	}
	t.st.created(tb, rec)
	return nil
}

// checkInsert is Insert in the check pass of a multi-row INSERT
// (connState.precheck): the row's checks, and its key against the keys of
// the statement's rows before it, sending nothing.
func (t *vtable) checkInsert(vals []any, rowid *int64) error {
	tb := t.m.t
	key, err := t.m.decl.checkRow(vals)
	if err != nil {
		return t.st.fail(writeError("INSERT into", tb, vals, err))
	}
	*rowid = t.newRowid()
	if key == "" {
		return nil
	}
	if _, seen := t.st.checkingKey(tb.Name + "\x00" + key); seen {
		switch t.st.onConflict() {
		case "IGNORE", "REPLACE":
		default:
			return t.st.fail(writeError("INSERT into", tb, vals, ErrDuplicateKey))
		}
	}
	return nil
}

// Update implements vtab.Updater: it sends only the columns whose values
// changed since the row was read.
func (t *vtable) Update(oldRowid int64, cols []vtab.Value, newRowid *int64) error {
	tb := t.m.t
	if !tb.Update {
		return t.st.fail(readOnlyTable(tb, "UPDATE"))
	}
	if t.st.inReadOnlyTx() {
		return t.st.fail(fmt.Errorf("planner: UPDATE on %s: the transaction is read-only (sql.TxOptions{ReadOnly: true}); nothing was sent to Graph", tb.Name))
	}
	old, ok := t.rows[oldRowid]
	if !ok {
		return t.st.fail(fmt.Errorf("planner: UPDATE %s: row %d was not read in this statement", tb.Name, oldRowid))
	}
	vals := copyValues(cols)
	changed := make([]bool, len(vals))
	anyChange := false
	for i, c := range tb.Columns {
		if sameValue(old.vals[i], vals[i]) || c.Type == schema.DateTime && sameTime(old.vals[i], vals[i]) {
			continue
		}
		if !c.Updatable {
			return t.st.fail(unchangeable(tb, c))
		}
		if vals[i] == nil && !c.Nullable {
			return t.st.fail(fmt.Errorf("planner: UPDATE %s: column %s cannot be NULL", tb.Name, c.Name))
		}
		if err := checkNUL(tb, c, vals[i], "UPDATE"); err != nil {
			return t.st.fail(err)
		}
		if err := checkType(tb, c, vals[i], "UPDATE"); err != nil {
			return t.st.fail(err)
		}
		changed[i] = true
		anyChange = true
	}
	if newRowid != nil {
		*newRowid = oldRowid
	}
	if !anyChange {
		return nil
	}
	ctx := t.st.context()
	x := t.writeSession()
	rec, err := t.m.decl.updateRow(ctx, x, x.freshRow(old), vals, changed)
	if err != nil && isStale(err) {
		// Read again; write again when nothing the UPDATE changes moved.
		var cur rowRec
		if cur, err = t.staleWrite(ctx, x, old, changed, err); err == nil {
			if rec, err = t.m.decl.updateRow(ctx, x, cur, vals, changed); err != nil && isStale(err) {
				err = &staleError{cause: err}
			}
		}
	}
	if err != nil {
		return t.st.fail(writeError("UPDATE", tb, old.vals, err))
	}
	t.st.wrote()
	t.rows[oldRowid] = rec
	return nil
}

// Delete implements vtab.Updater.
func (t *vtable) Delete(oldRowid int64) error {
	tb := t.m.t
	if !tb.Delete {
		return t.st.fail(readOnlyTable(tb, "DELETE from"))
	}
	if t.st.inReadOnlyTx() {
		return t.st.fail(fmt.Errorf("planner: DELETE on %s: the transaction is read-only (sql.TxOptions{ReadOnly: true}); nothing was sent to Graph", tb.Name))
	}
	old, ok := t.rows[oldRowid]
	if !ok {
		return t.st.fail(fmt.Errorf("planner: DELETE from %s: row %d was not read in this statement", tb.Name, oldRowid))
	}
	ctx := t.st.context()
	x := t.writeSession()
	err := t.m.decl.deleteRow(ctx, x, x.freshRow(old))
	if err != nil && isStale(err) {
		// Read again; delete when the row is as it was read.
		var cur rowRec
		if cur, err = t.staleWrite(ctx, x, old, nil, err); err == nil {
			if err = t.m.decl.deleteRow(ctx, x, cur); err != nil && isStale(err) {
				err = &staleError{cause: err}
			}
		}
	}
	if err != nil {
		return t.st.fail(writeError("DELETE from", tb, old.vals, err))
	}
	t.st.wrote()
	delete(t.rows, oldRowid)
	return nil
}

// unchangeable is the error of an UPDATE changing column c, which UPDATE
// cannot set: it says why and what to do instead.
func unchangeable(tb *schema.Table, c schema.Column) error {
	var why string
	switch {
	case c.Key && len(tb.Key) == 1:
		why = fmt.Sprintf("it is the row's key (%s); DELETE the row and INSERT one with the new value", c.Name)
	case c.Key:
		why = fmt.Sprintf("it is part of the row's key (%s); DELETE the row and INSERT one with the new value", strings.Join(tb.Key, ", "))
	case c.Insertable:
		why = "only INSERT sets it; INSERT a row with the new value (and DELETE this one)"
	default:
		why = "Graph sets it (sys_columns' IsUpdatable lists the columns UPDATE may set)"
	}
	return fmt.Errorf("planner: UPDATE %s: column %s cannot be changed: %s", tb.Name, c.Name, why)
}

func readOnlyTable(tb *schema.Table, op string) error {
	if !tb.Updatable() {
		return fmt.Errorf("planner: %s %s: the table is read-only", op, tb.Name)
	}
	var can []string
	if tb.Insert {
		can = append(can, "INSERT")
	}
	if tb.Update {
		can = append(can, "UPDATE")
	}
	if tb.Delete {
		can = append(can, "DELETE")
	}
	return fmt.Errorf("planner: %s %s: not supported; the table accepts %s", op, tb.Name, strings.Join(can, ", "))
}

// checkType refuses a value SQLite would store but Graph cannot take.
func checkType(tb *schema.Table, c schema.Column, v any, op string) error {
	if v == nil {
		return nil
	}
	bad := func(want string) error {
		return fmt.Errorf("planner: %s %s: column %s wants %s, got %v", op, tb.Name, c.Name, want, v)
	}
	switch c.Type {
	case schema.Integer:
		if _, ok := v.(int64); !ok {
			return bad("an integer")
		}
	case schema.Boolean:
		if n, ok := v.(int64); !ok || n != 0 && n != 1 {
			return bad("0 or 1")
		}
	case schema.DateTime:
		s, ok := v.(string)
		if !ok {
			return bad("RFC 3339 text such as '2026-12-01T17:00:00Z'")
		}
		if _, err := parseTime(s); err != nil {
			return bad("RFC 3339 text such as '2026-12-01T17:00:00Z'")
		}
	case schema.Text, schema.JSON:
		if _, ok := v.(string); !ok {
			return bad("text")
		}
	}
	return nil
}

// ErrNULByte: a value written holds a NUL byte (char(0)), which SQLite's C
// string paths cut the text at and Planner's apps do not show: the statement
// is refused, naming the column, before the row's request.
var ErrNULByte = errors.New("the value holds a NUL byte")

// checkNUL refuses a text value with a NUL byte (SCHEMA: text values are
// never cut; a value SQLite cannot carry is refused), and a JSON value with
// one in any of its strings or keys, which JSON text writes as the escape
// \u0000 (json_object('k', 'a' || char(0) || 'b') makes one): the same
// value a TEXT column refuses must not reach Graph inside a JSON column.
func checkNUL(tb *schema.Table, c schema.Column, v any, op string) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Errorf("planner: %s %s: column %s: %w at byte %d of %d; nothing was sent for the row: remove it, "+
			"e.g. replace(value, char(0), '')", op, tb.Name, c.Name, ErrNULByte, i, len(s))
	}
	if c.Type == schema.JSON {
		if at, found := jsonNUL(s); found {
			return fmt.Errorf("planner: %s %s: column %s: %w (written \\u0000 in the JSON text) %s; nothing was sent for the row: "+
				"remove it, e.g. build the value from replace(value, char(0), '')", op, tb.Name, c.Name, ErrNULByte, at)
		}
	}
	return nil
}

// jsonNUL reports where the JSON text s holds a NUL character in a string
// or an object key (the escape \u0000), as "in the value at $.a[0]" or "in
// the key at $.a"; found is false when there is none, or when s is not
// JSON (the column's own checks say so).
func jsonNUL(s string) (at string, found bool) {
	if !strings.Contains(s, `\u0000`) {
		return "", false
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return "", false
	}
	var walk func(v any, path string) (string, bool)
	walk = func(v any, path string) (string, bool) {
		switch x := v.(type) {
		case string:
			if strings.IndexByte(x, 0) >= 0 {
				return "in the value at " + path, true
			}
		case []any:
			for i, e := range x {
				if at, ok := walk(e, fmt.Sprintf("%s[%d]", path, i)); ok {
					return at, true
				}
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				p := path + "." + jsonPathKey(k)
				if strings.IndexByte(k, 0) >= 0 {
					return "in the key at " + p, true
				}
				if at, ok := walk(x[k], p); ok {
					return at, true
				}
			}
		}
		return "", false
	}
	return walk(v, "$")
}

// jsonPathKey writes an object key in a JSON path as SQLite's json_extract
// reads it: bare when it is a plain name, else quoted (a NUL shown as \u0000).
func jsonPathKey(k string) string {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return strconv.QuoteToASCII(k)
		}
	}
	return k
}

// copyValues copies SQLite's arguments, which are only valid during the call.
func copyValues(cols []vtab.Value) []any {
	out := make([]any, len(cols))
	for i, v := range cols {
		switch x := v.(type) {
		case []byte:
			out[i] = string(x)
		case string:
			out[i] = strings.Clone(x)
		case bool:
			if x {
				out[i] = int64(1)
			} else {
				out[i] = int64(0)
			}
		case float64:
			if x == float64(int64(x)) {
				out[i] = int64(x)
			} else {
				out[i] = x
			}
		default:
			out[i] = x
		}
	}
	return out
}

// sameTime reports whether two DATETIME values name the same time in
// different text ('2026-12-01T09:30:00Z' for a stored
// '2026-12-01T09:30:00.0000000Z'): no change to send.
func sameTime(a, b any) bool {
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if !ok1 || !ok2 {
		return false
	}
	tx, _, ok1 := parseDateTimeText(x)
	ty, _, ok2 := parseDateTimeText(y)
	return ok1 && ok2 && tx.Equal(ty)
}

func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a == b
}

// cursor iterates over one scan of a table.
type cursor struct {
	t     *vtable
	next  func() (rowRec, error, bool)
	stop  func()
	cur   rowRec
	vals  []any  // the current row's values SQLite asked for
	have  uint64 // which of vals are set (bit N = column N < 64)
	rowid int64
	used  uint64 // the columns the scan asked for (scanReq.used)
	eof   bool
	skip  int64 // OFFSET rows still to skip
	left  int64 // LIMIT rows still to return, -1 unlimited
}

// Filter starts a scan for the plan BestIndex chose.
func (c *cursor) Filter(idxNum int, idxStr string, vals []vtab.Value) error {
	c.Close()
	t := c.t
	tb := t.m.t
	args := copyValues(vals)
	req := scanReq{limit: -1}
	c.left = -1
	col, val := -1, ""
	if idxNum > 0 && idxNum <= len(tb.Columns) {
		col = idxNum - 1
		if len(args) == 0 {
			return t.st.fail(fmt.Errorf("planner: %s: missing value for %s", tb.Name, tb.Columns[col].Name))
		}
		// The value as SQLite holds it (copyValues turns blobs into text
		// and integral reals into integers, as writes want).
		switch v := any(vals[0]).(type) {
		case string:
			val = strings.Clone(v)
		case nil, []byte:
			// col = NULL matches nothing, and a TEXT column never equals
			// a blob in SQLite (X'..', CAST(.. AS BLOB)).
			c.eof = true
			return nil
		case float64:
			val = realText(v)
		default:
			val = fmt.Sprint(v)
		}
	}
	for _, part := range strings.Split(idxStr, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "l", "o":
			i, _ := strconv.Atoi(v)
			if i >= len(args) {
				continue
			}
			n, _ := args[i].(int64)
			if k == "l" {
				c.left = n
			} else {
				c.skip = n
			}
		case "u":
			req.used, _ = strconv.ParseUint(v, 16, 64)
		}
	}
	if c.left >= 0 {
		req.limit = c.left + c.skip
		if c.left == 0 {
			c.eof = true
			return nil
		}
	}
	c.used = req.used
	ctx, cancel := context.WithCancel(t.st.context())
	seq := t.m.decl.read(ctx, t.m.cn.session(t.st), col, val, req)
	next, stop := iter.Pull2(seq)
	c.next = func() (rowRec, error, bool) { return next() }
	c.stop = func() { stop(); cancel() }
	c.eof = false
	return c.advance()
}

// advance moves to the next row, honouring OFFSET and LIMIT.
func (c *cursor) advance() error {
	for {
		if c.left == 0 {
			c.eof = true
			return nil
		}
		rec, err, ok := c.next()
		if !ok {
			c.eof = true
			return nil
		}
		if err != nil {
			c.eof = true
			return c.t.st.fail(readError(c.t.m.t, err))
		}
		if c.skip > 0 {
			c.skip--
			continue
		}
		if c.left > 0 {
			c.left--
		}
		c.cur = rec
		c.have = 0
		c.rowid = c.t.rowidOf(rec.src)
		if c.t.writing {
			rec.vals = c.t.m.decl.materialize(rec.src)
			c.cur = rec
			c.t.keep(c.rowid, rec, c.used)
		}
		return nil
	}
}

// Next implements vtab.Cursor.
func (c *cursor) Next() error {
	if c.eof {
		return nil
	}
	return c.advance()
}

// Eof implements vtab.Cursor.
func (c *cursor) Eof() bool { return c.eof }

// Column implements vtab.Cursor: the value is computed from the row when
// SQLite first asks for it (most queries use few columns), then kept for
// the row, since SQLite may ask again.
func (c *cursor) Column(i int) (vtab.Value, error) {
	if i < 0 || i >= len(c.t.m.t.Columns) || c.cur.src == nil {
		return nil, nil
	}
	if c.cur.vals != nil {
		return c.cur.vals[i], nil
	}
	if i < 64 && c.have&(1<<uint(i)) != 0 {
		return c.vals[i], nil
	}
	v := c.t.m.decl.value(c.cur.src, i)
	if f, ok := v.(lazy); ok {
		v = f()
	}
	if i < 64 {
		if c.vals == nil {
			c.vals = make([]any, len(c.t.m.t.Columns))
		}
		c.vals[i] = v
		c.have |= 1 << uint(i)
	}
	return v, nil
}

// Rowid implements vtab.Cursor.
func (c *cursor) Rowid() (int64, error) { return c.rowid, nil }

// Close implements vtab.Cursor.
func (c *cursor) Close() error {
	if c.stop != nil {
		c.stop()
		c.stop, c.next = nil, nil
	}
	c.eof = true
	return nil
}

// readError names the table a read failed on, keeping the cause for errors.As.
func readError(tb *schema.Table, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &tableReadError{table: tb.Name, err: err}
}

// tableReadError is a failed read of a table: "planner: reading <table>:"
// and the cause, whose own "planner: " prefix is not repeated.
type tableReadError struct {
	table string
	err   error
}

func (e *tableReadError) Error() string {
	return "planner: reading " + e.table + ": " + strings.TrimPrefix(e.err.Error(), "planner: ")
}

func (e *tableReadError) Unwrap() error { return e.err }

// realText is SQLite's text of a REAL value, which a TEXT column compares
// with: 15 significant digits, and ".0" after an integral value ('5.0').
func realText(v float64) string {
	s := strconv.FormatFloat(v, 'g', 15, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}
