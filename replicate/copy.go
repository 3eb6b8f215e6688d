package replicate

import (
	"context"
	"time"

	"github.com/plannersql/planner/schema"
)

// copyRows reads every source row and adds the changed ones to wr: values,
// then SourceName and the soft-delete columns as sc says. It counts rows
// and marks the state entries seen; added holds the new keys.
func (t *tableRun) copyRows(ctx context.Context, pipe *rowPipe, state *tableState, wr *writer, sc scope, p *tablePlan) (map[keyFP]rowHash, error) {
	d, w := t.r.d, t.j.with
	added := map[keyFP]rowHash{}
	t.progress(PhaseCopy)
	cols := t.cols
	nc := len(cols)
	// A SQLite lease without a heartbeat connection (a pool of one) is
	// renewed while the source is read, on the run's connection, which is
	// in no transaction then (the staged copy); else a table read for
	// longer than LeaseTTL would let another run take the lease over.
	var tick <-chan time.Time
	if r := t.r; r.lease != nil && r.hbDone == nil && r.locker != nil {
		tk := time.NewTicker(max(r.leaseTTL()/4, 10*time.Millisecond))
		defer tk.Stop()
		tick = tk.C
	}
	for {
		b, ok := t.nextBatch(ctx, pipe, tick)
		if !ok {
			break
		}
		for row := range b.n {
			vals := b.vals[row*nc : (row+1)*nc]
			h := b.hashes[row]
			t.read++
			if b.bad[row] {
				return nil, t.badKey(vals)
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
				var err error
				if wt := p.writeTypes[i]; wt != cols[i].typ && v != nil {
					// Written in the column's form (a DATETIME into a text
					// column): from the source type's canonical value, so a
					// time given as text in another form is written as RFC
					// 3339, a boolean given as "true" as 1.
					if v, err = canonicalValue(v, cols[i].typ); err != nil {
						return nil, t.valueFailure(vals, i, err)
					}
				}
				bv, err := d.bind(v, p.writeTypes[i])
				if err == nil && p.maxLen[i] > 0 {
					err = checkLength(bv, p.maxLen[i])
				}
				if err != nil {
					return nil, t.valueFailure(vals, i, err)
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

// nextBatch waits for the source's next batch of rows, renewing the lease
// on each tick meanwhile; ok is false when the source has no more.
func (t *tableRun) nextBatch(ctx context.Context, pipe *rowPipe, tick <-chan time.Time) (*rowBatch, bool) {
	var b *rowBatch
	for b == nil {
		select {
		case nb, ok := <-pipe.out:
			if !ok {
				return nil, false
			}
			b = nb
		case <-tick:
			t.r.beatIfDue(ctx)
		}
	}
	for {
		select {
		case <-b.ready:
			return b, true
		case <-tick:
			t.r.beatIfDue(ctx)
		}
	}
}

// badKey is the error of a row whose key cannot be written: a NULL, or a
// value the destination cannot hold. The key cannot be shown, so the row is
// named by its position in the result.
func (t *tableRun) badKey(vals []any) error {
	for i, ki := range t.keyIdx {
		if vals[ki] == nil {
			return t.fail("row %d: key column %s is NULL; the key must identify every row (WITH Key='...')", t.read, displayIdent(t.key[i]))
		}
		if _, err := t.r.d.bind(vals[ki], t.cols[ki].typ); err != nil {
			c := displayIdent(t.cols[ki].src)
			return t.fail("row %d: key column %s: %w; transform it in a select (REPLICATE %s SELECT ..., f(%s) AS %s FROM ...), or choose another key (WITH Key='...')",
				t.read, c, err, displayIdent(t.j.dest.Table), c, c)
		}
	}
	_, err := t.encodeKey(vals, nil)
	return t.fail("row %d: %w", t.read, err)
}

// valueFailure is the error of a value the destination cannot hold: it
// names the table, the row's key and the column, and the ways out.
func (t *tableRun) valueFailure(vals []any, i int, err error) error {
	c := t.cols[i]
	if containsFold(t.key, c.name) {
		return t.fail("row with key %s, key column %s: %w; transform it in a select (REPLICATE %s SELECT ...), or choose another key",
			t.keyText(vals), displayIdent(c.src), err, displayIdent(t.j.dest.Table))
	}
	return t.fail("row with key %s, column %s: %w; exclude the column (EXCLUDE COLUMNS (%s)) or transform it in a select (REPLICATE %s SELECT ..., f(%s) AS %s FROM ...)",
		t.keyText(vals), displayIdent(c.src), err, displayIdent(c.src), displayIdent(t.j.dest.Table), displayIdent(c.src), displayIdent(c.src))
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

// softColsIn reports whether a table shaped as info has soft-delete
// bookkeeping columns (IsDeleted and DeletedDateTime, not from the result).
func (t *tableRun) softColsIn(info tableInfo) bool {
	d, bk := t.r.d, t.bk
	return info.has(d, bk.isDeleted) && info.has(d, bk.deletedAt) && !t.isResultCol(bk.isDeleted) && !t.isResultCol(bk.deletedAt)
}

// softDeleteColumns are the columns SoftDelete adds.
func softDeleteColumns(d dialect, bk bookNames) []ddlColumn {
	boolFalse := "0"
	if d.kind() == "postgres" {
		boolFalse = "false"
	}
	return []ddlColumn{
		{name: bk.isDeleted, typ: schema.Boolean, notNull: true, deflt: boolFalse},
		{name: bk.deletedAt, typ: schema.DateTime},
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
			stmt = softDeleteSQL(d, t.bk, destSQL, key, scoped, n)
		} else {
			stmt = deleteSQL(d, t.bk, destSQL, key, scoped, n)
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

// canonicalValue converts v to the Go value of its source type typ (a time,
// a bool, an int64, a float64); values of other types are returned as they
// are.
func canonicalValue(v any, typ schema.Type) (any, error) {
	switch typ {
	case schema.DateTime:
		return asTime(v)
	case schema.Boolean:
		return asBool(v)
	case schema.Integer:
		return asInt64(v)
	case typeReal:
		return asFloat(v)
	}
	return v, nil
}
