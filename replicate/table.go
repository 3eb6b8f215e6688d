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
	r          *runner
	j          *job
	res        *Result
	index      int
	read       int64
	req0, thr0 int

	cols   []column // the result's columns, less excluded ones
	key    []string // the key columns, as the result spells them
	keyIdx []int    // their positions in cols
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

// countRequests sets the Result's request counts from Options.Requests.
func (t *tableRun) countRequests() {
	if c := t.r.counter; c != nil {
		t.res.Requests, t.res.Throttled = c.Requests()-t.req0, c.Throttled()-t.thr0
	}
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

// tableLockTimeout is how long a table waits for its lock; negative: not at all.
func (r *runner) tableLockTimeout() time.Duration {
	switch t := r.opts.TableLockTimeout; {
	case t == 0:
		return DefaultTableLockTimeout
	case t < 0:
		return 0
	default:
		return t
	}
}

// run copies the table. The source is read ahead in a pipe while the
// destination is prepared. PostgreSQL and MySQL copy in the table's
// transaction, holding the table's lock while the source is read; SQLite,
// whose write lock covers the whole file, stages the changed rows in a
// temporary table first and takes the write lock only to apply them
// (runStaged).
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

	if r.isBookkeeping(j.dest.Table, d.sameName) {
		return t.fail("%s is replicate's own bookkeeping table; choose another destination name", displayIdent(j.dest.Table))
	}

	// Discover the key before the query opens: a single-connection source
	// could not run the catalog query while the rows are open.
	key := append([]string(nil), w.Key...)
	if len(key) == 0 && j.hasSrcTable {
		if key, err = r.src.keyOf(ctx, j.srcTable); err != nil {
			return t.fail("discover the key of source table %s: %w", j.srcTable, fromSource(err))
		}
	}

	srcCtx, cancelSrc := context.WithCancel(ctx)
	defer cancelSrc()
	rows, err := r.src.db.QueryContext(srcCtx, j.query)
	if err != nil {
		return t.fail("query the source: %w", fromSource(err))
	}
	defer rows.Close()
	sr, err := newSourceRows(rows, j.exclude)
	if err != nil {
		return t.fail("read the source: %w", fromSource(err))
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
	t.cols, t.key, t.keyIdx = cols, key, keyIdx

	// Read ahead while the table is locked, prepared and its state loaded.
	pipe := startPipe(sr, func(vals []any, kb []byte) (keyFP, []byte, bool) {
		kb, err := t.encodeKey(vals, kb)
		if err != nil {
			return keyFP{}, kb, false
		}
		return fingerprint(kb), kb, true
	})
	defer func() { cancelSrc(); pipe.stop() }()

	if err := r.prepareSchema(ctx, j.dest.Schema); err != nil {
		return err
	}
	if _, ok := d.(*sqliteDialect); ok {
		return t.runStaged(ctx, pipe)
	}
	return t.runDirect(ctx, pipe)
}

// encodeKey encodes a row's key as written to the destination; it runs in
// the pipe's workers and again only to explain a bad key.
func (t *tableRun) encodeKey(vals []any, kb []byte) ([]byte, error) {
	kb = kb[:0]
	for i, ki := range t.keyIdx {
		if vals[ki] == nil {
			return kb, fmt.Errorf("key column %s is NULL; the key must identify every row (WITH Key='...')", displayIdent(t.key[i]))
		}
		bv, err := t.r.d.bind(vals[ki], t.cols[ki].typ)
		if err != nil {
			return kb, fmt.Errorf("key column %s: %w", displayIdent(t.key[i]), err)
		}
		kb = appendHashValue(kb, bv)
	}
	return kb, nil
}

// keyText renders a row's key for an error message.
func (t *tableRun) keyText(vals []any) string {
	kb, _ := t.encodeKey(vals, nil)
	return describeKey(kb)
}

// scope holds the conditions selecting the rows a statement covers.
type scope struct {
	where     string // " WHERE SourceName = $1", or ""
	args      []any
	liveCond  string // where, and IsDeleted = 0 when the table has soft-delete columns
	liveArgs  []any
	softCols  bool
	signature string
}

func (t *tableRun) scope(softCols bool) scope {
	d, w := t.r.d, t.j.with
	var s scope
	s.softCols = softCols
	s.signature = signature(t.cols, t.key, w.SourceName != "")
	if w.SourceName != "" {
		s.where = " WHERE " + d.quote(colSourceName) + " = " + d.placeholder(1)
		s.args = append(s.args, w.SourceName)
	}
	s.liveCond, s.liveArgs = s.where, s.args
	if softCols {
		cond := d.quote(colIsDeleted) + " = " + d.placeholder(len(s.args)+1)
		if s.where == "" {
			s.liveCond = " WHERE " + cond
		} else {
			s.liveCond = s.where + " AND " + cond
		}
		s.liveArgs = append(append([]any{}, s.args...), d.boolValue(false))
	}
	return s
}

// tableSnapshot is what a staged copy saw of the table before taking its
// lock: the state's digest and the rows in scope.
type tableSnapshot struct {
	found  bool
	digest [32]byte
	count  int64
}

// loadTableState loads the state of the rows in scope and checks it against
// the table (its rows in scope). valid reports whether the state can be
// trusted as is; when it cannot, the keys are read from the table (hashes
// unknown: every row is rewritten) with a warning.
func (t *tableRun) loadTableState(ctx context.Context, q querier, destSQL, stateSQL, stateName string, sc scope) (*tableState, tableSnapshot, error) {
	d, w := t.r.d, t.j.with
	var snap tableSnapshot
	state, err := loadState(ctx, d, q, stateSQL, stateName, w.SourceName)
	if err != nil {
		return nil, snap, t.fail("%w", err)
	}
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+destSQL+sc.liveCond, sc.liveArgs...).Scan(&snap.count); err != nil {
		return nil, snap, t.fail("count rows: %w", err)
	}
	snap.found, snap.digest = state.found, state.digest
	switch {
	case state.found && snap.count == int64(len(state.entries)):
	case !state.found && snap.count == 0:
	default:
		// The table changed behind the state's back (or was created by
		// someone else): compare keys with the table itself.
		if state.found || snap.count > 0 {
			t.res.Warnings = append(t.res.Warnings, fmt.Sprintf(
				"the replication state did not match the table (%d rows in the state, %d in the table); compared keys with the table and rewrote every row", len(state.entries), snap.count))
		}
		if state, err = t.readKeys(ctx, q, destSQL, sc.liveCond, sc.liveArgs); err != nil {
			return nil, snap, err
		}
		state.found = false
	}
	if state.found && state.signature != sc.signature {
		for i := range state.entries {
			state.entries[i].hash = rowHash{} // unknown: rewrite every row
		}
	}
	return state, snap, nil
}

// copyRows reads every source row and adds the changed ones to wr: values,
// then SourceName and the soft-delete columns as sc says. It counts rows
// and marks the state entries seen; added holds the new keys.
func (t *tableRun) copyRows(pipe *rowPipe, state *tableState, wr *writer, sc scope) (map[keyFP]rowHash, error) {
	d, w := t.r.d, t.j.with
	added := map[keyFP]rowHash{}
	t.progress(PhaseCopy)
	cols := t.cols
	nc := len(cols)
	for b := range pipe.out {
		<-b.ready
		for row := range b.n {
			vals := b.vals[row*nc : (row+1)*nc]
			h := b.hashes[row]
			t.read++
			if b.bad[row] {
				_, err := t.encodeKey(vals, nil)
				return nil, t.fail("row %d: %w", t.read, err)
			}
			fp := b.keys[row]
			existed := false
			if i, ok := state.index[fp]; ok {
				e := &state.entries[i]
				if e.seen {
					return nil, t.fail("the statement's result has two rows with key %s; choose a key that identifies rows (WITH Key='...')", t.keyText(vals))
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
					return nil, t.fail("the statement's result has two rows with key %s; choose a key that identifies rows (WITH Key='...')", t.keyText(vals))
				}
				added[fp] = h
			}
			for i, v := range vals {
				bv, err := d.bind(v, cols[i].typ)
				if err != nil {
					return nil, t.fail("row with key %s, column %s: %w", t.keyText(vals), displayIdent(cols[i].name), err)
				}
				wr.add(bv)
			}
			if w.SourceName != "" {
				wr.add(w.SourceName)
			}
			if sc.softCols {
				wr.add(d.boolValue(false))
				wr.add(nil)
			}
			if existed {
				t.res.Updated++
			} else {
				t.res.Inserted++
			}
			if err := wr.endRow(); err != nil {
				return nil, t.fail("write: %w", err)
			}
			if t.read%1000 == 0 {
				t.progress(PhaseCopy)
			}
		}
		pipe.recycle(b)
	}
	if err := pipe.err; err != nil {
		return nil, t.fail("read the source: %w", fromSource(err))
	}
	if err := wr.flush(); err != nil {
		return nil, t.fail("write: %w", err)
	}
	t.progress(PhaseCopy)
	return added, nil
}

// lock takes the table's lock and begins its transaction.
func (t *tableRun) lock(ctx context.Context) (txn, error) {
	r := t.r
	t.progress(PhaseLock)
	lockName := t.j.dest
	if lockName.Schema == "" {
		lockName.Schema = r.defSch
	}
	tx, err := r.d.lockAndBegin(ctx, r.conn, lockName, r.tableLockTimeout())
	if err != nil {
		var le *LockedError
		if errors.As(err, &le) {
			le.Table = t.res.Table
			return nil, le
		}
		return nil, t.fail("begin: %w", err)
	}
	return tx, nil
}

// runDirect copies in the table's transaction (PostgreSQL, MySQL).
func (t *tableRun) runDirect(ctx context.Context, pipe *rowPipe) (err error) {
	r, d, j := t.r, t.r.d, t.j
	w := j.with
	tx, err := t.lock(ctx)
	if err != nil {
		return err
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
	plan, err := t.prepareTable(ctx, tx, destSQL, stateSQL)
	if err != nil {
		return err
	}
	if err := tx.startData(ctx); err != nil {
		return t.fail("begin: %w", err)
	}
	q := tx.q()
	sc := t.scope(plan.softCols)

	state := newTableState(0)
	valid := plan.created
	if w.TruncateTable && !plan.created {
		if err := t.truncate(ctx, q, destSQL, stateSQL, plan.info.name, sc); err != nil {
			return err
		}
		valid = true
	}
	if !valid {
		if state, _, err = t.loadTableState(ctx, q, destSQL, stateSQL, plan.info.name, sc); err != nil {
			return err
		}
	}
	wr := newWriter(ctx, d, q, destSQL, plan.writeCols, plan.keyCols, r.opts.BatchSize)
	defer wr.close()
	added, err := t.copyRows(pipe, state, wr, sc)
	if err != nil {
		return err
	}
	return t.finish(ctx, tx, plan, state, added, destSQL, stateSQL, sc)
}

// truncate deletes the rows in scope and their state (TruncateTable).
func (t *tableRun) truncate(ctx context.Context, q querier, destSQL, stateSQL, stateName string, sc scope) error {
	res, err := q.ExecContext(ctx, "DELETE FROM "+destSQL+sc.where, sc.args...)
	if err != nil {
		return t.fail("truncate: %w", err)
	}
	n, _ := res.RowsAffected()
	t.res.Deleted += n
	if err := deleteState(ctx, t.r.d, q, stateSQL, stateName, t.j.with.SourceName, true); err != nil {
		return t.fail("%w", err)
	}
	return nil
}

// finish deletes the rows gone from the source, saves the state, records
// the table's history row and commits.
func (t *tableRun) finish(ctx context.Context, tx txn, plan *tablePlan, state *tableState, added map[keyFP]rowHash, destSQL, stateSQL string, sc scope) error {
	r, d, j := t.r, t.r.d, t.j
	q := tx.q()
	now := r.now()
	gone := map[keyFP]bool{}
	for _, e := range state.entries {
		if !e.seen {
			gone[e.key] = true
		}
	}
	if len(gone) > 0 {
		t.progress(PhaseDelete)
		if err := t.deleteRows(ctx, q, destSQL, sc.liveCond, sc.liveArgs, plan, gone, now); err != nil {
			return err
		}
	}
	if !state.found || state.signature != sc.signature || t.res.Inserted+t.res.Updated+t.res.Deleted > 0 {
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
		if err := saveState(ctx, d, q, stateSQL, plan.info.name, j.with.SourceName, sc.signature, n, live, now); err != nil {
			return t.fail("%w", err)
		}
	}
	t.progress(PhaseCommit)
	t.countRequests()
	if err := r.writeHistory(ctx, q, j.dest.Schema, t.res); err != nil {
		return t.fail("%w", err)
	}
	if err := tx.commit(ctx); err != nil {
		return t.fail("commit: %w", err)
	}
	return nil
}

// stageTable is the temporary table a SQLite copy stages changed rows in.
const stageTable = "planner_replicate_stage"

// runStaged copies into SQLite without holding its write lock while the
// source is read: it reads the table's state (no lock; WAL readers do not
// block writers), reads the whole source and stages the changed rows in a
// temporary table (private to the run's connection, so no lock on the
// destination file), then takes the write lock (BEGIN IMMEDIATE), checks
// that the table's state has not changed meanwhile, applies the staged rows
// with one INSERT ... SELECT, deletes, saves the state and commits. The
// write lock is held for the local work only.
func (t *tableRun) runStaged(ctx context.Context, pipe *rowPipe) (err error) {
	r, d, j := t.r, t.r.d, t.j
	w := j.with
	conn := r.conn
	destSQL := qualify(d, j.dest)
	stateSQL := qualify(d, Name{Schema: j.dest.Schema, Table: StateTable})

	info, err := d.describe(ctx, conn, j.dest)
	if err != nil {
		return t.fail("%w", err)
	}
	exists := info.exists && !w.DropTable
	predicted := t.plan(t.afterDDL(info))
	sc := t.scope(predicted.softCols)
	state := newTableState(0)
	// Unless the statement rewrites the table, the state read now must
	// still be the table's when the rows are applied.
	var snap tableSnapshot
	verify := !w.TruncateTable && !w.DropTable
	if exists && verify {
		if state, snap, err = t.loadTableState(ctx, conn, destSQL, stateSQL, info.name, t.scope(t.softColsNow(info))); err != nil {
			return err
		}
	}

	// Stage the changed rows.
	stage := "temp." + d.quote(stageTable)
	drop := func() { conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+stage) } //nolint:errcheck // a leftover is dropped by the next run
	drop()
	defer drop()
	stageCols := make([]string, len(predicted.writeCols))
	for i := range stageCols {
		stageCols[i] = fmt.Sprintf("c%d", i+1)
	}
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+d.quote(stageTable)+" ("+strings.Join(stageCols, ", ")+")"); err != nil {
		return t.fail("create the staging table: %w", err)
	}
	// Plain INSERTs into a private table: as many rows a statement as the
	// parameter limit allows (up to 1,000), unless Options.BatchSize says.
	batch := r.opts.BatchSize
	if batch <= 0 {
		batch = min(1000, d.maxParams()/len(stageCols))
	}
	wr := newWriter(ctx, d, conn, stage, stageCols, nil, batch)
	defer wr.close()
	added, err := t.copyRows(pipe, state, wr, sc)
	if err != nil {
		return err
	}
	wr.close()

	// Apply under the write lock.
	tx, err := t.lock(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rerr := tx.rollback(); rerr != nil {
				err = fmt.Errorf("%w (and the rollback failed: %v)", err, rerr)
			}
		}
	}()
	if verify {
		now, err := d.describe(ctx, conn, j.dest)
		if err != nil {
			return t.fail("%w", err)
		}
		var again tableSnapshot
		if now.exists {
			if again.found, again.digest, err = stateDigest(ctx, d, conn, stateSQL, now.name, w.SourceName); err != nil {
				return t.fail("%w", err)
			}
			sc := t.scope(t.softColsNow(now))
			if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+destSQL+sc.liveCond, sc.liveArgs...).Scan(&again.count); err != nil {
				return t.fail("count rows: %w", err)
			}
		}
		if again != snap {
			return t.fail("another run (of another job or destination scope) changed the table while this run read its source; nothing was written: run again")
		}
	}
	plan, err := t.prepareTable(ctx, tx, destSQL, stateSQL)
	if err != nil {
		return err
	}
	if !equalStrings(plan.writeCols, predicted.writeCols) || !equalStrings(plan.keyCols, predicted.keyCols) {
		return t.fail("another run changed the table's columns while this run read its source; nothing was written: run again")
	}
	if w.TruncateTable && !plan.created {
		if err := t.truncate(ctx, conn, destSQL, stateSQL, plan.info.name, sc); err != nil {
			return err
		}
	}
	if len(added) > 0 || t.res.Updated > 0 {
		if _, err := conn.ExecContext(ctx, stagedUpsert(d, destSQL, plan.writeCols, plan.keyCols, stage, stageCols)); err != nil {
			return t.fail("write: %w", err)
		}
	}
	return t.finish(ctx, tx, plan, state, added, destSQL, stateSQL, sc)
}

// stagedUpsert copies the staged rows into the table (SQLite): INSERT ...
// SELECT ... WHERE true ON CONFLICT (the WHERE tells SQLite's parser the ON
// is the upsert's, not a join's).
func stagedUpsert(d dialect, table string, cols, key []string, stage string, stageCols []string) string {
	s := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE true ON CONFLICT (%s) DO ", table, quoteList(d, cols),
		strings.Join(stageCols, ", "), stage, quoteList(d, key))
	upd := conflictUpdates(cols, key, d.sameName)
	if len(upd) == 0 {
		return s + "NOTHING"
	}
	set := make([]string, len(upd))
	for i, c := range upd {
		set[i] = fmt.Sprintf("%s = excluded.%s", d.quote(c), d.quote(c))
	}
	return s + "UPDATE SET " + strings.Join(set, ", ")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
func (t *tableRun) prepareTable(ctx context.Context, tx txn, destSQL, stateSQL string) (*tablePlan, error) {
	d, j, w := t.r.d, t.j, t.j.with
	cols, key := t.cols, t.key
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
	np := t.plan(info)
	np.created = p.created
	return np, nil
}

// isResultCol reports whether the statement's result has the column.
func (t *tableRun) isResultCol(name string) bool {
	for _, c := range t.cols {
		if t.r.d.sameName(c.name, name) {
			return true
		}
	}
	return false
}

// plan describes the writes into a table shaped as info (after its DDL).
func (t *tableRun) plan(info tableInfo) *tablePlan {
	p := &tablePlan{info: info}
	p.softCols = t.softColsNow(info)
	for _, c := range t.cols {
		p.writeCols = append(p.writeCols, c.name)
	}
	if t.j.with.SourceName != "" {
		p.writeCols = append(p.writeCols, colSourceName)
		p.keyCols = append(p.keyCols, colSourceName)
	}
	p.keyCols = append(p.keyCols, t.key...)
	if p.softCols {
		p.writeCols = append(p.writeCols, colIsDeleted, colDeletedAt)
	}
	return p
}

// softColsNow reports whether a table shaped as info has soft-delete
// bookkeeping columns (IsDeleted and DeletedDateTime, not from the result).
func (t *tableRun) softColsNow(info tableInfo) bool {
	d := t.r.d
	return info.has(d, colIsDeleted) && info.has(d, colDeletedAt) && !t.isResultCol(colIsDeleted) && !t.isResultCol(colDeletedAt)
}

// afterDDL returns the shape prepareTable will give a table now shaped as
// info (nothing is changed): created or recreated with the result's columns,
// or with the new columns and soft-delete columns added.
func (t *tableRun) afterDDL(info tableInfo) tableInfo {
	w := t.j.with
	out := tableInfo{exists: true, name: info.name}
	if !info.exists || w.DropTable {
		out.name = t.j.dest.Table
		if w.SourceName != "" {
			out.cols = append(out.cols, colSourceName)
		}
		for _, c := range t.cols {
			out.cols = append(out.cols, c.name)
		}
		if w.SoftDelete {
			out.cols = append(out.cols, colIsDeleted, colDeletedAt)
		}
		return out
	}
	out.cols = append(out.cols, info.cols...)
	out.key = info.key
	for _, c := range t.cols {
		if !out.has(t.r.d, c.name) {
			out.cols = append(out.cols, c.name)
		}
	}
	if w.SoftDelete {
		for _, c := range []string{colIsDeleted, colDeletedAt} {
			if !out.has(t.r.d, c) {
				out.cols = append(out.cols, c)
			}
		}
	}
	return out
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
func (t *tableRun) readKeys(ctx context.Context, q querier, destSQL, cond string, args []any) (*tableState, error) {
	out := newTableState(0)
	err := t.scanKeys(ctx, q, destSQL, cond, args, func(kb []byte, _ []any) {
		out.add(fingerprint(kb), rowHash{})
	})
	return out, err
}

// scanKeys reads the destination's keys in scope and calls f with each one,
// encoded as the source's keys are (so that fingerprints match) and as values.
func (t *tableRun) scanKeys(ctx context.Context, q querier, destSQL, cond string, args []any, f func(kb []byte, vals []any)) error {
	d := t.r.d
	cols, keyIdx, key := t.cols, t.keyIdx, t.key
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
	gone map[keyFP]bool, now time.Time) error {
	key := t.key
	d, w := t.r.d, t.j.with
	scoped := w.SourceName != ""
	soft := w.SoftDelete && p.softCols

	// Collect the key values first: the reading cursor must be closed
	// before deleting on the same connection.
	var doomed [][]any
	err := t.scanKeys(ctx, q, destSQL, cond, args, func(kb []byte, vals []any) {
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
			if w.stmt, err = w.q.PrepareContext(w.ctx, w.statement(w.perBatch)); err != nil {
				return err
			}
		}
		_, err = w.stmt.ExecContext(w.ctx, w.args...)
	} else {
		_, err = w.q.ExecContext(w.ctx, w.statement(w.rows), w.args...)
	}
	clear(w.args)
	w.args, w.rows, w.bytes = w.args[:0], 0, 0
	return err
}

// statement is the upsert of rows rows, or a plain INSERT for a writer
// without a key (a staging table).
func (w *writer) statement(rows int) string {
	if len(w.key) == 0 {
		return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", w.table, quoteList(w.d, w.cols), valuesList(w.d, len(w.cols), rows))
	}
	return w.d.upsert(w.table, w.cols, w.key, rows)
}

func (w *writer) close() {
	if w.stmt != nil {
		w.stmt.Close()
		w.stmt = nil
	}
}
