package replicate

import (
	"context"
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

	cols   []column // the result's columns, less excluded ones, named in the destination's style
	key    []string // the key columns, as cols spells them
	keyIdx []int    // their positions in cols
	bk     bookNames
	tenant string // the tenant the table's state records after this run
	// writtenAs is, per column of cols, the type its values are written as
	// when the destination column is of another type than replicate would
	// create (a column widened to text, or changed by hand), else "": part
	// of the state's signature, so that a column changed by hand has its
	// values rewritten in its new form.
	writtenAs []schema.Type
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
	return &tableError{table: t.res.Table, err: fmt.Errorf(format, args...)}
}

// tableError is a table's failure: "replicate: table T: " and its cause,
// whose own "replicate: " prefix is not said twice.
type tableError struct {
	table string
	err   error
}

func (e *tableError) Error() string {
	return "replicate: table " + e.table + ": " + strings.TrimPrefix(e.err.Error(), "replicate: ")
}

func (e *tableError) Unwrap() error { return e.err }

// signature identifies the columns row hashes are computed over; when it
// changes, every row is rewritten.
func signature(cols []column, writtenAs []schema.Type, key []string, scoped, timeText bool) string {
	type col struct {
		N, T string
		W    string `json:",omitempty"` // the type values are written as, when the column is not of T's own type
	}
	s := struct {
		V      int
		Cols   []col
		Key    []string
		Scoped bool
		// TimeText is 7 where DATETIME values are written as text in
		// schema.FormatDateTime's form (seven fractional digits; before, as
		// many as needed): such tables are rewritten once, others keep
		// their signature.
		TimeText int `json:",omitempty"`
	}{V: 1, Key: key, Scoped: scoped}
	for i, c := range cols {
		cc := col{N: c.name, T: string(c.typ)}
		if i < len(writtenAs) {
			cc.W = string(writtenAs[i])
		}
		s.Cols = append(s.Cols, cc)
		if c.typ == schema.DateTime && timeText {
			s.TimeText = 7
		}
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

// run copies the table, phase by phase: check the destination's name,
// discover the key, open the source query and check its result, then read
// it ahead in a pipe while the destination is prepared. PostgreSQL and
// MySQL copy in the table's transaction, holding the table's lock while
// the source is read (runDirect); SQLite, whose write lock covers the whole
// file, stages the changed rows in a temporary table first and takes the
// write lock only to apply them (runStaged).
func (t *tableRun) run(ctx context.Context) error {
	t.progress(PhaseStart)
	if err := t.checkDestination(); err != nil {
		return err
	}
	if err := t.r.src.err; err != nil {
		return t.fail("%w", err)
	}
	if err := t.checkTenantFirst(ctx); err != nil {
		return err
	}
	// Ask the catalogs before the query opens: a single-connection source
	// could not run them while the rows are open.
	key, err := t.discoverKey(ctx)
	if err != nil {
		return err
	}
	if err := t.r.src.loadCatalog(ctx); err != nil {
		return t.fail("%w", fromSource(err))
	}

	srcCtx, cancelSrc := context.WithCancel(ctx)
	defer cancelSrc()
	rows, err := t.r.src.db.QueryContext(srcCtx, t.j.query)
	if err != nil {
		return t.fail("query the source: %w", fromSource(err))
	}
	defer rows.Close()
	sr, err := newSourceRows(rows, t.j.exclude)
	if err != nil {
		return t.fail("read the source: %w", fromSource(err))
	}
	if err := t.bindResult(sr.cols, key); err != nil {
		return err
	}

	// Read ahead while the table is locked, prepared and its state loaded.
	pipe := startPipe(sr, func(vals []any, kb []byte) (keyFP, []byte, bool) {
		kb, err := t.encodeKey(vals, kb)
		if err != nil {
			return keyFP{}, kb, false
		}
		return fingerprint(kb), kb, true
	})
	defer func() { cancelSrc(); pipe.stop() }()

	if err := t.r.prepareSchema(ctx, t.j.dest.Schema); err != nil {
		return err
	}
	if _, ok := t.r.d.(*sqliteDialect); ok {
		return t.runStaged(ctx, pipe)
	}
	return t.runDirect(ctx, pipe)
}

// checkDestination refuses destination names the database would refuse or
// change, and replicate's own tables.
func (t *tableRun) checkDestination() error {
	d, j := t.r.d, t.j
	for _, s := range []string{j.dest.Schema, j.dest.Table} {
		if s == "" {
			continue
		}
		if err := d.checkIdent(s); err != nil {
			return t.fail("%w", err)
		}
	}
	if t.r.isBookkeeping(j.dest.Table, d.sameName) {
		return t.fail("%s is replicate's own bookkeeping table; choose another destination name", displayIdent(j.dest.Table))
	}
	return nil
}

// discoverKey returns the key's column names as the source spells them:
// WITH Key, else the source table's key.
func (t *tableRun) discoverKey(ctx context.Context) ([]string, error) {
	key := append([]string(nil), t.j.with.Key...)
	if len(key) == 0 && t.j.hasSrcTable {
		var err error
		if key, err = t.r.src.keyOf(ctx, t.j.srcTable); err != nil {
			return nil, t.fail("discover the key of source table %s: %w", t.j.srcTable, fromSource(err))
		}
	}
	return key, nil
}

// bindResult names the result's columns in the destination's style, checks
// them, and finds the key among them.
func (t *tableRun) bindResult(cols []column, key []string) error {
	d, w, bk := t.r.d, t.j.with, t.bk
	if len(key) == 0 {
		return t.fail("no key known for the statement's result; add WITH Key='Column[,Column]' naming the columns that identify a row")
	}
	style := t.r.style
	seen := map[string]string{}
	for i := range cols {
		c := &cols[i]
		c.src, c.name = c.name, style.Apply(c.name)
		if err := d.checkIdent(c.name); err != nil {
			return t.fail("column: %w", err)
		}
		f := strings.ToLower(c.name)
		if other, dup := seen[f]; dup {
			if other != c.src {
				return t.fail("the result's columns %s and %s are both named %s in the %s name style; rename one with AS", displayIdent(other), displayIdent(c.src), displayIdent(c.name), style)
			}
			return t.fail("the result has two columns named %s; give them distinct names with AS", displayIdent(c.name))
		}
		seen[f] = c.src
		if w.SourceName != "" && strings.EqualFold(c.name, bk.sourceName) {
			return t.fail("the result has a column %s, which WITH SourceName adds; rename it with AS", displayIdent(c.src))
		}
		if w.SoftDelete && (strings.EqualFold(c.name, bk.isDeleted) || strings.EqualFold(c.name, bk.deletedAt)) {
			return t.fail("the result has a column %s, which WITH SoftDelete adds; rename it with AS", displayIdent(c.src))
		}
	}
	key = append([]string(nil), key...)
	keyIdx := make([]int, len(key))
	for i, k := range key {
		keyIdx[i] = -1
		for ci, c := range cols {
			if strings.EqualFold(c.src, k) || strings.EqualFold(c.name, k) {
				keyIdx[i], key[i] = ci, c.name
			}
		}
		if keyIdx[i] < 0 && containsFold(t.j.exclude, k) {
			return t.fail("key column %s is excluded (EXCLUDE COLUMNS), but rows are matched by it: do not exclude it, or name other key columns with WITH Key='...'", displayIdent(k))
		}
		if keyIdx[i] < 0 {
			return t.fail("key column %s is not in the statement's result; select it, or name other key columns with WITH Key='...'", displayIdent(k))
		}
	}
	t.cols, t.key, t.keyIdx = cols, key, keyIdx
	return nil
}

// isIDColumn reports whether c holds ids per the source's catalog (a TEXT
// column named ...Id): MySQL makes it an indexable, case-sensitive VARCHAR.
func (t *tableRun) isIDColumn(c column) bool {
	return (c.typ == schema.Text) && t.r.src.catalog().ids[strings.ToLower(c.src)]
}

// isForeignKey reports whether c names a table's whole key in the source's
// catalog (PlanId, BucketId, TaskId, ...): its column gets an index.
func (t *tableRun) isForeignKey(c column) bool {
	return t.r.src.catalog().refs[strings.ToLower(c.src)]
}

// tableSQL returns the quoted destination table and its state table.
func (t *tableRun) tableSQL() (destSQL, stateSQL string) {
	d, j := t.r.d, t.j
	return qualify(d, j.dest), qualify(d, Name{Schema: j.dest.Schema, Table: StateTable})
}

// describe reads the destination table and plans its DDL.
func (t *tableRun) describe(ctx context.Context, q querier, stateSQL string) (*tablePlan, error) {
	info, err := t.r.d.describe(ctx, q, t.j.dest)
	if err != nil {
		return nil, t.fail("%w", err)
	}
	var stateCols []string
	t.tenant = t.r.tenant
	if info.exists {
		sig, tenant, err := stateMeta(ctx, t.r.d, q, stateSQL, info.name, t.j.with.SourceName)
		if err != nil {
			return nil, t.fail("%w", err)
		}
		stateCols = signatureColumns(sig)
		if err := t.checkTenant(tenant); err != nil {
			return nil, err
		}
	}
	return t.planTable(info, stateCols)
}

// checkTenant refuses to copy a source of one tenant over the rows another
// tenant's runs wrote into the same table and source name: the mirror would
// delete them. recorded is the tenant the state records ("" when unknown).
func (t *tableRun) checkTenant(recorded string) error {
	if t.tenant == "" {
		t.tenant = recorded // keep what is known
	}
	return t.tenantConflict(recorded)
}

// checkTenantFirst makes the tenant check before the source is read, so
// that a refused table costs the source nothing (a planner source's tenant
// is known from its access token, before any Graph request): it reads the
// state the destination holds now, outside the table's lock. The check is
// made again under the lock (describe), before anything is written; a
// destination that cannot be read here is left to that check.
func (t *tableRun) checkTenantFirst(ctx context.Context) error {
	w := t.j.with
	if t.r.tenant == "" || w.DropTable || w.TruncateTable {
		return nil
	}
	d, q := t.r.d, t.r.conn
	info, err := d.describe(ctx, q, t.j.dest)
	if err != nil || !info.exists {
		return nil
	}
	state, err := d.describe(ctx, q, Name{Schema: t.j.dest.Schema, Table: StateTable})
	if err != nil || !state.exists {
		return nil
	}
	_, stateSQL := t.tableSQL()
	_, recorded, err := stateMeta(ctx, d, q, stateSQL, info.name, w.SourceName)
	if err != nil {
		return nil
	}
	return t.tenantConflict(recorded)
}

// tenantConflict is the refusal of a table whose state records tenant
// recorded when the source is another, or nil.
func (t *tableRun) tenantConflict(recorded string) error {
	w := t.j.with
	if recorded == "" || t.r.tenant == "" || strings.EqualFold(recorded, t.r.tenant) || w.DropTable || w.TruncateTable {
		return nil
	}
	whose := "with no SourceName"
	if w.SourceName != "" {
		whose = fmt.Sprintf("with SourceName %q", w.SourceName)
	}
	return t.fail("the table holds the rows of tenant %s, written by earlier runs %s, but this source is tenant %s: copying it would replace them. "+
		"Give each tenant its own rows with WITH SourceName='...' (--source-name, source_name in a job), its own tables with a prefix or schema, "+
		"or replace the table WITH DropTable", recorded, whose, t.r.tenant)
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
	s.signature = signature(t.cols, t.writtenAs, t.key, w.SourceName != "", d.kind() == "sqlite")
	if w.SourceName != "" {
		s.where = " WHERE " + d.quote(t.bk.sourceName) + " = " + d.placeholder(1)
		s.args = append(s.args, w.SourceName)
	}
	s.liveCond, s.liveArgs = s.where, s.args
	if softCols {
		cond := d.quote(t.bk.isDeleted) + " = " + d.placeholder(len(s.args)+1)
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
	// A SQLite transaction holds the write lock from here to its end, so
	// no run can take the lease over before this one commits.
	if r.lease != nil && r.locker != nil {
		if err := r.lease.fence(ctx, tx.q()); err != nil {
			if rerr := tx.rollback(); rerr != nil {
				err = fmt.Errorf("%w (and the rollback failed: %v)", err, rerr)
			}
			return nil, t.fail("%w", err)
		}
	}
	return tx, nil
}

// runDirect copies in the table's transaction (PostgreSQL, MySQL).
func (t *tableRun) runDirect(ctx context.Context, pipe *rowPipe) (err error) {
	r, d, w := t.r, t.r.d, t.j.with
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

	destSQL, stateSQL := t.tableSQL()
	plan, err := t.describe(ctx, tx.q(), stateSQL)
	if err != nil {
		return err
	}
	if err := t.applyPlan(ctx, tx.q(), plan, destSQL, stateSQL); err != nil {
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
		if err := t.truncate(ctx, q, destSQL, stateSQL, plan.stateName, sc); err != nil {
			return err
		}
		valid = true
	}
	if !valid {
		if state, _, err = t.loadTableState(ctx, q, destSQL, stateSQL, plan.stateName, sc); err != nil {
			return err
		}
	}
	if plan.rewriteAll {
		state.forgetHashes()
	}
	wr := newWriter(ctx, d, q, destSQL, plan.writeCols, plan.keyCols, r.opts.BatchSize)
	wr.tag = plan.shapeTag(t)
	defer wr.close()
	added, err := t.copyRows(ctx, pipe, state, wr, sc, plan)
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
		if err := saveState(ctx, d, q, stateSQL, plan.stateName, j.with.SourceName, sc.signature, t.tenant, n, live, now); err != nil {
			return t.fail("%w", err)
		}
	}
	t.progress(PhaseCommit)
	// Renewed again as it commits: the heartbeat cannot write while this
	// transaction holds the write lock, and an apply longer than LeaseTTL
	// would otherwise leave an expired lease for a waiting run to take.
	if r.lease != nil && r.locker != nil {
		if err := r.lease.fence(ctx, q); err != nil {
			return t.fail("%w", err)
		}
	}
	t.countRequests()
	if err := r.writeHistory(ctx, q, j.dest.Schema, t.res); err != nil {
		return t.fail("%w", err)
	}
	if err := tx.commit(ctx); err != nil {
		return t.fail("commit: %w", err)
	}
	return nil
}
