package replicate

import (
	"context"
	"fmt"
	"strings"
)

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
	r, d, w := t.r, t.r.d, t.j.with
	conn := r.conn
	destSQL, stateSQL := t.tableSQL()

	predicted, err := t.describe(ctx, conn, stateSQL)
	if err != nil {
		return err
	}
	info := predicted.info
	sc := t.scope(predicted.softCols)
	state := newTableState(0)
	// Unless the statement rewrites the table, the state read now must
	// still be the table's when the rows are applied.
	var snap tableSnapshot
	verify := !w.TruncateTable && !w.DropTable
	if info.exists && verify {
		if state, snap, err = t.loadTableState(ctx, conn, destSQL, stateSQL, info.name, t.scope(t.softColsIn(info))); err != nil {
			return err
		}
	}
	if predicted.rewriteAll {
		state.forgetHashes()
	}

	// Stage the changed rows.
	stage, stageCols, drop, err := t.createStage(ctx, len(predicted.writeCols))
	if err != nil {
		return err
	}
	defer drop()
	// Plain INSERTs into a private table: as many rows a statement as the
	// parameter limit allows (up to 1,000), unless Options.BatchSize says.
	batch := r.opts.BatchSize
	if batch <= 0 {
		batch = min(1000, d.maxParams()/len(stageCols))
	}
	wr := newWriter(ctx, d, conn, stage, stageCols, nil, batch)
	defer wr.close()
	added, err := t.copyRows(ctx, pipe, state, wr, sc, predicted)
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
		if p := recover(); p != nil {
			// A panic (in a Progress callback, a Logger, ...) must not leave
			// the transaction open on the run's connection: closing it would
			// wait for the transaction for ever, and SQLite would keep the
			// write lock.
			tx.rollback() //nolint:errcheck // the panic goes on
			panic(p)
		}
		if err != nil {
			if rerr := tx.rollback(); rerr != nil {
				err = fmt.Errorf("%w (and the rollback failed: %v)", err, rerr)
			}
		}
	}()
	if verify {
		if err := t.verifySnapshot(ctx, snap, destSQL, stateSQL); err != nil {
			return err
		}
	}
	plan, err := t.describe(ctx, conn, stateSQL)
	if err != nil {
		return err
	}
	if !plan.sameWrites(predicted) {
		return t.fail("another run changed the table's columns while this run read its source; nothing was written: run again")
	}
	if err := t.applyPlan(ctx, conn, plan, destSQL, stateSQL); err != nil {
		return err
	}
	if w.TruncateTable && !plan.created {
		if err := t.truncate(ctx, conn, destSQL, stateSQL, plan.stateName, sc); err != nil {
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

// createStage creates the staging table of n columns (c1, c2, ...) on the
// run's connection; drop removes it.
func (t *tableRun) createStage(ctx context.Context, n int) (stage string, cols []string, drop func(), err error) {
	d, conn := t.r.d, t.r.conn
	stage = "temp." + d.quote(stageTable)
	drop = func() { conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+stage) } //nolint:errcheck // a leftover is dropped by the next run
	drop()
	cols = make([]string, n)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d", i+1)
	}
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+d.quote(stageTable)+" ("+strings.Join(cols, ", ")+")"); err != nil {
		return "", nil, drop, t.fail("create the staging table: %w", err)
	}
	return stage, cols, drop, nil
}

// verifySnapshot checks, under the write lock, that the table's state and
// rows in scope are the ones the staged copy read.
func (t *tableRun) verifySnapshot(ctx context.Context, snap tableSnapshot, destSQL, stateSQL string) error {
	d, conn := t.r.d, t.r.conn
	now, err := d.describe(ctx, conn, t.j.dest)
	if err != nil {
		return t.fail("%w", err)
	}
	var again tableSnapshot
	if now.exists {
		if again.found, again.digest, err = stateDigest(ctx, d, conn, stateSQL, now.name, t.j.with.SourceName); err != nil {
			return t.fail("%w", err)
		}
		sc := t.scope(t.softColsIn(now))
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+destSQL+sc.liveCond, sc.liveArgs...).Scan(&again.count); err != nil {
			return t.fail("count rows: %w", err)
		}
	}
	if again != snap {
		return t.fail("another run (of another job or destination scope) changed the table while this run read its source; nothing was written: run again")
	}
	return nil
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
