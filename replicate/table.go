package replicate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plannersql/planner/schema"
)

// tableRun copies one job's table.
type tableRun struct {
	r     *runner
	j     *job
	res   *Result
	index int
	read  int64
}

func (t *tableRun) progress(p Phase) {
	if t.r.opts.Progress == nil {
		if p != PhaseCopy {
			t.r.log.Debug("replicate phase", "table", t.res.Table, "phase", p)
		}
		return
	}
	t.r.opts.Progress(Progress{
		Index: t.index, Table: t.res.Table, Phase: p, Read: t.read,
		Inserted: t.res.Inserted, Updated: t.res.Updated, Deleted: t.res.Deleted, Unchanged: t.res.Unchanged,
		Elapsed: t.r.now().Sub(t.res.Started), Err: t.res.Err,
	})
}

func (t *tableRun) fail(format string, args ...any) error {
	return fmt.Errorf("replicate: table %s: "+format, append([]any{t.res.Table}, args...)...)
}

// signature identifies the columns row hashes are computed over; when it
// changes, every row is rewritten.
func signature(cols []column, key []string, scoped bool) string {
	type col struct{ N, T string }
	s := struct {
		V      int
		Cols   []col
		Key    []string
		Scoped bool
	}{V: 1, Key: key, Scoped: scoped}
	for _, c := range cols {
		s.Cols = append(s.Cols, col{c.name, string(c.typ)})
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func (t *tableRun) run(ctx context.Context) (err error) {
	r, d, j := t.r, t.r.d, t.j
	w := j.with
	scoped := w.SourceName != ""
	t.progress(PhaseStart)

	for _, s := range []string{j.dest.Schema, j.dest.Table} {
		if s == "" {
			continue
		}
		if err := d.checkIdent(s); err != nil {
			return t.fail("%w", err)
		}
	}

	if d.sameName(j.dest.Table, StateTable) || d.sameName(j.dest.Table, r.history) {
		return t.fail("%s is replicate's own bookkeeping table; choose another destination name", displayIdent(j.dest.Table))
	}

	// Discover the key before the query opens: a single-connection source
	// could not run the catalog query while the rows are open.
	key := append([]string(nil), w.Key...)
	if len(key) == 0 && j.hasSrcTable {
		if key, err = r.src.keyOf(ctx, j.srcTable); err != nil {
			return t.fail("discover the key of source table %s: %w", j.srcTable, err)
		}
	}

	srcCtx, cancelSrc := context.WithCancel(ctx)
	defer cancelSrc()
	rows, err := r.src.db.QueryContext(srcCtx, j.query)
	if err != nil {
		return t.fail("query the source: %w", err)
	}
	defer rows.Close()
	sr, err := newSourceRows(rows, j.exclude)
	if err != nil {
		return t.fail("read the source: %w", err)
	}
	cols := sr.cols

	// Validate the result's columns and find the key.
	if len(key) == 0 {
		return t.fail("no key known for the statement's result; add WITH Key='Column[,Column]' naming the columns that identify a row")
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if err := d.checkIdent(c.name); err != nil {
			return t.fail("column: %w", err)
		}
		f := strings.ToLower(c.name)
		if seen[f] {
			return t.fail("the result has two columns named %s; give them distinct names with AS", displayIdent(c.name))
		}
		seen[f] = true
		if scoped && strings.EqualFold(c.name, colSourceName) {
			return t.fail("the result has a column %s, which WITH SourceName adds; rename it with AS", colSourceName)
		}
		if w.SoftDelete && (strings.EqualFold(c.name, colIsDeleted) || strings.EqualFold(c.name, colDeletedAt)) {
			return t.fail("the result has a column %s, which WITH SoftDelete adds; rename it with AS", displayIdent(c.name))
		}
	}
	keyIdx := make([]int, len(key))
	for i, k := range key {
		keyIdx[i] = -1
		for ci, c := range cols {
			if strings.EqualFold(c.name, k) {
				keyIdx[i], key[i] = ci, c.name
			}
		}
		if keyIdx[i] < 0 {
			return t.fail("key column %s is not in the statement's result; select it, or name other key columns with WITH Key='...'", displayIdent(k))
		}
	}

	// encodeKey encodes a row's key as written to the destination; it runs
	// in the pipe's workers and again here only to explain a bad key.
	encodeKey := func(vals []any, kb []byte) ([]byte, error) {
		kb = kb[:0]
		for i, ki := range keyIdx {
			if vals[ki] == nil {
				return kb, fmt.Errorf("key column %s is NULL; the key must identify every row (WITH Key='...')", displayIdent(key[i]))
			}
			bv, err := d.bind(vals[ki], cols[ki].typ)
			if err != nil {
				return kb, fmt.Errorf("key column %s: %w", displayIdent(key[i]), err)
			}
			kb = appendHashValue(kb, bv)
		}
		return kb, nil
	}

	// keyText renders a row's key for an error message.
	keyText := func(vals []any) string {
		kb, _ := encodeKey(vals, nil)
		return describeKey(kb)
	}

	// Read ahead while the table is locked, prepared and its state loaded.
	pipe := startPipe(sr, func(vals []any, kb []byte) (keyFP, []byte, bool) {
		kb, err := encodeKey(vals, kb)
		if err != nil {
			return keyFP{}, kb, false
		}
		return fingerprint(kb), kb, true
	})
	defer func() { cancelSrc(); pipe.stop() }()

	if err := r.prepareSchema(ctx, j.dest.Schema); err != nil {
		return err
	}

	// Lock the table and begin its transaction.
	t.progress(PhaseLock)
	lockName := j.dest
	if lockName.Schema == "" {
		lockName.Schema = r.defSch
	}
	tx, err := d.lockAndBegin(ctx, r.conn, lockName, r.opts.LockTimeout)
	if err != nil {
		var le *LockedError
		if errors.As(err, &le) {
			le.Table = t.res.Table
			return le
		}
		return t.fail("begin: %w", err)
	}
	defer func() {
		if err != nil {
			if rerr := tx.rollback(); rerr != nil {
				err = fmt.Errorf("%w (and the rollback failed: %v)", err, rerr)
			}
		}
	}()

	destSQL := qualify(d, j.dest)
	stateSQL := qualify(d, Name{Schema: j.dest.Schema, Table: StateTable})
	plan, err := t.prepareTable(ctx, tx, cols, key, destSQL, stateSQL)
	if err != nil {
		return err
	}
	if err := tx.startData(ctx); err != nil {
		return t.fail("begin: %w", err)
	}
	q := tx.q()
	stateName := plan.info.name

	// scopeArgs are the parameters of the scope condition.
	var scopeArgs []any
	liveCond := ""
	where := ""
	if scoped {
		where = " WHERE " + d.quote(colSourceName) + " = " + d.placeholder(1)
		scopeArgs = append(scopeArgs, w.SourceName)
	}
	if plan.softCols {
		cond := d.quote(colIsDeleted) + " = " + d.placeholder(len(scopeArgs)+1)
		if where == "" {
			liveCond = " WHERE " + cond
		} else {
			liveCond = where + " AND " + cond
		}
	} else {
		liveCond = where
	}
	liveArgs := scopeArgs
	if plan.softCols {
		liveArgs = append(append([]any{}, scopeArgs...), d.boolValue(false))
	}

	var state *tableState
	valid := plan.created
	if w.TruncateTable && !plan.created {
		res, err := q.ExecContext(ctx, "DELETE FROM "+destSQL+where, scopeArgs...)
		if err != nil {
			return t.fail("truncate: %w", err)
		}
		n, _ := res.RowsAffected()
		t.res.Deleted += n
		if err := deleteState(ctx, d, q, stateSQL, stateName, w.SourceName, true); err != nil {
			return t.fail("%w", err)
		}
		valid = true
	}
	sig := signature(cols, key, scoped)
	if valid {
		state = newTableState(0)
	} else {
		if state, err = loadState(ctx, d, q, stateSQL, stateName, w.SourceName); err != nil {
			return t.fail("%w", err)
		}
		var count int64
		if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+destSQL+liveCond, liveArgs...).Scan(&count); err != nil {
			return t.fail("count rows: %w", err)
		}
		switch {
		case state.found && count == int64(len(state.entries)):
			valid = true
		case !state.found && count == 0:
			valid = true
		default:
			// The table changed behind the state's back (or was created
			// by someone else): compare keys with the table itself.
			if state.found || count > 0 {
				t.res.Warnings = append(t.res.Warnings, fmt.Sprintf(
					"the replication state did not match the table (%d rows in the state, %d in the table); compared keys with the table and rewrote every row", len(state.entries), count))
			}
			if state, err = t.readKeys(ctx, q, destSQL, liveCond, liveArgs, cols, keyIdx, key); err != nil {
				return err
			}
		}
		if state.found && state.signature != sig {
			for i := range state.entries {
				state.entries[i].hash = rowHash{} // unknown: rewrite every row
			}
		}
	}

	// Copy: read every source row, write the changed ones.
	wr := newWriter(ctx, d, q, destSQL, plan.writeCols, plan.keyCols, r.opts.BatchSize)
	defer wr.close()
	added := map[keyFP]rowHash{}
	now := r.now()
	t.progress(PhaseCopy)
	nc := len(cols)
	for b := range pipe.out {
		<-b.ready
		for row := range b.n {
			vals := b.vals[row*nc : (row+1)*nc]
			h := b.hashes[row]
			t.read++
			if b.bad[row] {
				_, err := encodeKey(vals, nil)
				return t.fail("row %d: %w", t.read, err)
			}
			fp := b.keys[row]
			existed := false
			if i, ok := state.index[fp]; ok {
				e := &state.entries[i]
				if e.seen {
					return t.fail("the statement's result has two rows with key %s; choose a key that identifies rows (WITH Key='...')", keyText(vals))
				}
				e.seen, existed = true, true
				if e.hash == h {
					t.res.Unchanged++
					if t.read%1000 == 0 {
						t.progress(PhaseCopy)
					}
					continue
				}
				e.hash = h
			} else {
				if _, dup := added[fp]; dup {
					return t.fail("the statement's result has two rows with key %s; choose a key that identifies rows (WITH Key='...')", keyText(vals))
				}
				added[fp] = h
			}
			for i, v := range vals {
				bv, err := d.bind(v, cols[i].typ)
				if err != nil {
					return t.fail("row with key %s, column %s: %w", keyText(vals), displayIdent(cols[i].name), err)
				}
				wr.add(bv)
			}
			if scoped {
				wr.add(w.SourceName)
			}
			if plan.softCols {
				wr.add(d.boolValue(false))
				wr.add(nil)
			}
			if existed {
				t.res.Updated++
			} else {
				t.res.Inserted++
			}
			if err := wr.endRow(); err != nil {
				return t.fail("write: %w", err)
			}
			if t.read%1000 == 0 {
				t.progress(PhaseCopy)
			}
		}
		pipe.recycle(b)
	}
	if err := pipe.err; err != nil {
		return t.fail("read the source: %w", err)
	}
	if err := wr.flush(); err != nil {
		return t.fail("write: %w", err)
	}
	t.progress(PhaseCopy)

	// Delete (or mark) the rows gone from the source.
	gone := map[keyFP]bool{}
	for _, e := range state.entries {
		if !e.seen {
			gone[e.key] = true
		}
	}
	if len(gone) > 0 {
		t.progress(PhaseDelete)
		if err := t.deleteRows(ctx, q, destSQL, liveCond, liveArgs, plan, cols, keyIdx, key, gone, now); err != nil {
			return err
		}
	}

	if !valid || state.signature != sig || !state.found || t.res.Inserted+t.res.Updated+t.res.Deleted > 0 {
		live := func(yield func(keyFP, rowHash) bool) {
			for _, e := range state.entries {
				if e.seen && !yield(e.key, e.hash) {
					return
				}
			}
			for k, h := range added {
				if !yield(k, h) {
					return
				}
			}
		}
		n := len(state.entries) - len(gone) + len(added)
		if err := saveState(ctx, d, q, stateSQL, stateName, w.SourceName, sig, n, live, now); err != nil {
			return t.fail("%w", err)
		}
	}
	t.progress(PhaseCommit)
	histSQL := qualify(d, Name{Schema: j.dest.Schema, Table: r.history})
	if err := writeHistory(ctx, d, q, histSQL, t.res, r.now()); err != nil {
		return t.fail("%w", err)
	}
	if err := tx.commit(ctx); err != nil {
		return t.fail("commit: %w", err)
	}
	return nil
}

// describeKey renders an encoded key for messages.
func describeKey(kb []byte) string {
	vals, err := decodeKey(string(kb))
	if err != nil {
		return "(?)"
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = fmt.Sprintf("%q", asString(v))
		if len(parts[i]) > 80 {
			parts[i] = parts[i][:77] + "..."
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// tablePlan is what prepareTable decided about the destination table.
type tablePlan struct {
	info      tableInfo
	created   bool
	softCols  bool     // the table has IsDeleted/DeletedDateTime bookkeeping columns
	writeCols []string // the columns an upsert writes, in parameter order
	keyCols   []string // the destination's primary key
}

// prepareTable drops, creates or alters the destination table as the
// statement asks, and checks its key.
func (t *tableRun) prepareTable(ctx context.Context, tx txn, cols []column, key []string, destSQL, stateSQL string) (*tablePlan, error) {
	d, j, w := t.r.d, t.j, t.j.with
	q := tx.q()
	scoped := w.SourceName != ""
	info, err := d.describe(ctx, q, j.dest)
	if err != nil {
		return nil, t.fail("%w", err)
	}
	if w.DropTable && info.exists {
		if _, err := q.ExecContext(ctx, "DROP TABLE "+destSQL); err != nil {
			return nil, t.fail("drop: %w", err)
		}
		info = tableInfo{}
	}
	isResultCol := func(name string) bool {
		for _, c := range cols {
			if d.sameName(c.name, name) {
				return true
			}
		}
		return false
	}
	wantKey := append([]string{}, key...)
	if scoped {
		wantKey = append([]string{colSourceName}, key...)
	}
	softDefs := softDeleteColumns(d)
	p := &tablePlan{}
	if !info.exists {
		var ddl []ddlColumn
		if scoped {
			ddl = append(ddl, ddlColumn{name: colSourceName, typ: schema.Text, key: true})
		}
		for _, c := range cols {
			ddl = append(ddl, ddlColumn{name: c.name, typ: c.typ, key: containsFold(key, c.name)})
		}
		if w.SoftDelete {
			ddl = append(ddl, softDefs...)
		}
		if _, err := q.ExecContext(ctx, createTableSQL(d, destSQL, ddl)); err != nil {
			return nil, t.fail("create: %w", err)
		}
		// A state left by a table of the same name is stale.
		if err := deleteState(ctx, d, q, stateSQL, j.dest.Table, "", false); err != nil {
			return nil, t.fail("%w", err)
		}
		if info, err = d.describe(ctx, q, j.dest); err != nil {
			return nil, t.fail("%w", err)
		}
		p.created = true
	} else {
		if !sameSet(d, info.key, wantKey) {
			hint := "replicate into another table, or add WITH DropTable to rebuild it"
			if scoped && !info.has(d, colSourceName) {
				hint = "the table was created without SourceName; " + hint
			} else if !scoped && info.has(d, colSourceName) {
				hint = "the table was created with SourceName: add WITH SourceName='...', or " + hint
			}
			return nil, t.fail("the destination's primary key is (%s) but the statement's key is (%s); %s",
				strings.Join(info.key, ", "), strings.Join(wantKey, ", "), hint)
		}
		for _, c := range cols {
			if info.has(d, c.name) {
				continue
			}
			if !w.AlterSchema {
				return nil, t.fail("column %s is not in the destination table and AlterSchema is off; allow WITH AlterSchema, or EXCLUDE COLUMNS (%s)", displayIdent(c.name), displayIdent(c.name))
			}
			if _, err := q.ExecContext(ctx, addColumnSQL(d, destSQL, ddlColumn{name: c.name, typ: c.typ})); err != nil {
				return nil, t.fail("add column %s: %w", displayIdent(c.name), err)
			}
			t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("added column %s, new in the source", displayIdent(c.name)))
			info.cols = append(info.cols, c.name)
		}
		if w.SoftDelete {
			for _, c := range softDefs {
				if !info.has(d, c.name) {
					if _, err := q.ExecContext(ctx, addColumnSQL(d, destSQL, c)); err != nil {
						return nil, t.fail("add column %s: %w", c.name, err)
					}
					info.cols = append(info.cols, c.name)
				}
			}
		}
		for _, c := range info.cols {
			if isResultCol(c) || (scoped && d.sameName(c, colSourceName)) ||
				(!isResultCol(colIsDeleted) && (d.sameName(c, colIsDeleted) || d.sameName(c, colDeletedAt))) {
				continue
			}
			t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("column %s is no longer in the source; kept in the destination, NULL in new rows", displayIdent(c)))
		}
	}
	p.info = info
	p.softCols = info.has(d, colIsDeleted) && info.has(d, colDeletedAt) && !isResultCol(colIsDeleted) && !isResultCol(colDeletedAt)
	for _, c := range cols {
		p.writeCols = append(p.writeCols, c.name)
	}
	if scoped {
		p.writeCols = append(p.writeCols, colSourceName)
	}
	if p.softCols {
		p.writeCols = append(p.writeCols, colIsDeleted, colDeletedAt)
	}
	p.keyCols = wantKey
	return p, nil
}

// softDeleteColumns are the columns SoftDelete adds.
func softDeleteColumns(d dialect) []ddlColumn {
	boolFalse := "0"
	if d.kind() == "postgres" {
		boolFalse = "false"
	}
	return []ddlColumn{
		{name: colIsDeleted, typ: schema.Boolean, notNull: true, deflt: boolFalse},
		{name: colDeletedAt, typ: schema.DateTime},
	}
}

func sameSet(d dialect, a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if d.sameName(x, y) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// readKeys reads the keys of the table's rows in scope, for when the state
// cannot be trusted. Their hashes are unknown (zero).
func (t *tableRun) readKeys(ctx context.Context, q querier, destSQL, cond string, args []any, cols []column, keyIdx []int, key []string) (*tableState, error) {
	out := newTableState(0)
	err := t.scanKeys(ctx, q, destSQL, cond, args, cols, keyIdx, key, func(kb []byte, _ []any) {
		out.add(fingerprint(kb), rowHash{})
	})
	return out, err
}

// scanKeys reads the destination's keys in scope and calls f with each one,
// encoded as the source's keys are (so that fingerprints match) and as values.
func (t *tableRun) scanKeys(ctx context.Context, q querier, destSQL, cond string, args []any, cols []column, keyIdx []int, key []string,
	f func(kb []byte, vals []any)) error {
	d := t.r.d
	rows, err := q.QueryContext(ctx, "SELECT "+quoteList(d, key)+" FROM "+destSQL+cond, args...)
	if err != nil {
		return t.fail("read the destination's keys: %w", err)
	}
	defer rows.Close()
	vals := make([]any, len(key))
	ptrs := make([]any, len(key))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var kb []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return t.fail("read the destination's keys: %w", err)
		}
		kb = kb[:0]
		for i, v := range vals {
			bv, err := d.bind(v, cols[keyIdx[i]].typ)
			if err != nil {
				return t.fail("read the destination's keys: %w", err)
			}
			vals[i] = bv
			kb = appendHashValue(kb, bv)
		}
		f(kb, vals)
	}
	if err := rows.Err(); err != nil {
		return t.fail("read the destination's keys: %w", err)
	}
	return nil
}

// deleteRows deletes (or, with SoftDelete, marks) the rows whose keys are
// gone: it reads the destination's keys in scope and deletes those whose
// fingerprint is in gone.
func (t *tableRun) deleteRows(ctx context.Context, q querier, destSQL, cond string, args []any, p *tablePlan,
	cols []column, keyIdx []int, key []string, gone map[keyFP]bool, now time.Time) error {
	d, w := t.r.d, t.j.with
	scoped := w.SourceName != ""
	soft := w.SoftDelete && p.softCols

	// Collect the key values first: the reading cursor must be closed
	// before deleting on the same connection.
	var doomed [][]any
	err := t.scanKeys(ctx, q, destSQL, cond, args, cols, keyIdx, key, func(kb []byte, vals []any) {
		if gone[fingerprint(kb)] {
			doomed = append(doomed, append([]any(nil), vals...))
		}
	})
	if err != nil {
		return err
	}

	fixed := 0
	if scoped {
		fixed++
	}
	if soft {
		fixed += 2
	}
	per := min(500, (d.maxParams()-fixed)/len(key))
	for len(doomed) > 0 {
		n := min(per, len(doomed))
		var args []any
		var stmt string
		if soft {
			args = append(args, d.boolValue(true), d.timeValue(now))
			stmt = softDeleteSQL(d, destSQL, key, scoped, n)
		} else {
			stmt = deleteSQL(d, destSQL, key, scoped, n)
		}
		if scoped {
			args = append(args, w.SourceName)
		}
		for _, vals := range doomed[:n] {
			args = append(args, vals...)
		}
		if _, err := q.ExecContext(ctx, stmt, args...); err != nil {
			return t.fail("delete: %w", err)
		}
		t.res.Deleted += int64(n)
		doomed = doomed[n:]
		t.progress(PhaseDelete)
	}
	return nil
}

// writer batches rows into multi-row upserts.
type writer struct {
	ctx      context.Context
	d        dialect
	q        querier
	table    string
	cols     []string
	key      []string
	perBatch int
	maxBytes int
	args     []any
	rows     int
	bytes    int
	stmt     *sql.Stmt // the full-batch statement, prepared on first use
}

func newWriter(ctx context.Context, d dialect, q querier, table string, cols, key []string, batch int) *writer {
	if batch <= 0 {
		batch = 500
		if d.kind() == "sqlite" {
			batch = 64
		}
	}
	batch = max(1, min(batch, d.maxParams()/len(cols)))
	return &writer{ctx: ctx, d: d, q: q, table: table, cols: cols, key: key, perBatch: batch,
		maxBytes: d.maxBatchBytes(), args: make([]any, 0, batch*len(cols))}
}

func (w *writer) add(v any) {
	w.args = append(w.args, v)
	switch x := v.(type) {
	case string:
		w.bytes += len(x)
	case []byte:
		w.bytes += len(x)
	default:
		w.bytes += 8
	}
}

func (w *writer) endRow() error {
	w.rows++
	if w.rows >= w.perBatch || w.bytes >= w.maxBytes {
		return w.flush()
	}
	return nil
}

func (w *writer) flush() error {
	if w.rows == 0 {
		return nil
	}
	var err error
	if w.rows == w.perBatch {
		if w.stmt == nil {
			if w.stmt, err = w.q.PrepareContext(w.ctx, w.d.upsert(w.table, w.cols, w.key, w.perBatch)); err != nil {
				return err
			}
		}
		_, err = w.stmt.ExecContext(w.ctx, w.args...)
	} else {
		_, err = w.q.ExecContext(w.ctx, w.d.upsert(w.table, w.cols, w.key, w.rows), w.args...)
	}
	clear(w.args)
	w.args, w.rows, w.bytes = w.args[:0], 0, 0
	return err
}

func (w *writer) close() {
	if w.stmt != nil {
		w.stmt.Close()
	}
}
