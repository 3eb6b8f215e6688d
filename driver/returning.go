package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/plannersql/planner/schema"
)

// created records a row a write created on the connection: its key for
// LastInsertID and, during INSERT ... RETURNING, the row itself.
func (s *connState) created(t *schema.Table, rec rowRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The last key column is the generated one (TaskId, PlanId, ItemId...).
	if _, i := t.Column(t.Key[len(t.Key)-1]); i >= 0 && i < len(rec.vals) {
		s.lastID = str(rec.vals[i])
	}
	if s.capture == t.Name {
		s.returned = append(s.returned, rec)
	}
}

// LastInsertID returns the key of the last row an INSERT created on the
// connection: the id Microsoft Graph generated (TaskId, PlanId, BucketId) or,
// for child tables, the last key column (ItemId, ReferenceKey, UserId, Category). Use
// it on a *sql.Conn or inside a *sql.Tx, which pin one connection; INSERT ...
// RETURNING works on any handle.
func LastInsertID(ctx context.Context, c *sql.Conn) (string, error) {
	var id string
	err := c.Raw(func(dc any) error {
		pc, ok := dc.(*conn)
		if !ok {
			return fmt.Errorf("planner: LastInsertID: %T is not a planner connection", dc)
		}
		pc.st.mu.Lock()
		id = pc.st.lastID
		pc.st.mu.Unlock()
		if id == "" {
			return errors.New("planner: LastInsertID: no row was inserted on this connection")
		}
		return nil
	})
	return id, err
}

// queryReturning runs INSERT ... RETURNING against a planner table. SQLite
// evaluates RETURNING from the values given, before Graph generated the ids,
// so the driver runs the INSERT alone, keeps the rows Graph created, and
// evaluates the RETURNING expressions over them in a scratch table named like
// the target (so Tasks.TaskId and TaskId both resolve).
func (c *conn) queryReturning(ctx context.Context, q rewritten, args []driver.NamedValue) (driver.Rows, error) {
	// The created rows' values are in the order of the connection's
	// declaration of the table.
	t := q.table
	if d := byName(c.st.cn.decls, t.Name); d != nil {
		t = d.schema()
	}
	st := c.st
	st.mu.Lock()
	st.capture, st.returned = t.Name, nil
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		st.capture, st.returned = "", nil
		st.mu.Unlock()
	}()
	sctx, end := c.st.cn.statement(ctx, q.original, args, nil)
	defer end()
	st.start(sctx, q)
	defer st.clearContext()
	if err := st.precheck(q, func() error {
		_, err := c.sc.(driver.ExecerContext).ExecContext(sctx, q.sql, args)
		return err
	}); err != nil {
		return nil, err
	}
	if _, err := c.sc.(driver.ExecerContext).ExecContext(sctx, q.sql, args); err != nil {
		return nil, st.translate(err)
	}
	st.mu.Lock()
	created := st.returned
	st.mu.Unlock()

	ex := c.sc.(driver.ExecerContext)
	scratch := "planner_returning_" + strings.ToLower(t.Name)
	cols := make([]string, len(t.Columns))
	marks := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = schema.QuoteIdent(col.Name) + " " + string(col.Type)
		if col.Type == schema.DateTime {
			cols[i] += " COLLATE " + schema.DateTimeCollation
		}
		marks[i] = "?"
	}
	if _, err := ex.ExecContext(ctx, fmt.Sprintf("CREATE TEMP TABLE IF NOT EXISTS %s(%s)", schema.QuoteIdent(scratch), strings.Join(cols, ", ")), nil); err != nil {
		return nil, fmt.Errorf("planner: RETURNING: %w", err)
	}
	defer ex.ExecContext(context.WithoutCancel(ctx), "DELETE FROM temp."+schema.QuoteIdent(scratch), nil)
	ins := fmt.Sprintf("INSERT INTO temp.%s VALUES (%s)", schema.QuoteIdent(scratch), strings.Join(marks, ", "))
	for _, rec := range created {
		nv := make([]driver.NamedValue, len(rec.vals))
		for i, v := range rec.vals {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
		}
		if _, err := ex.ExecContext(ctx, ins, nv); err != nil {
			return nil, fmt.Errorf("planner: RETURNING: %w", err)
		}
	}
	sel := fmt.Sprintf("SELECT %s FROM temp.%s AS %s", q.returning, schema.QuoteIdent(scratch), schema.QuoteIdent(t.Name))
	r, err := c.sc.(driver.QueryerContext).QueryContext(ctx, sel, nil)
	if err != nil {
		return nil, fmt.Errorf("planner: RETURNING %s: %w", q.returning, err)
	}
	defer r.Close()
	out := &staticRows{cols: r.Columns()}
	if x, ok := r.(driver.RowsColumnTypeDatabaseTypeName); ok {
		for i := range out.cols {
			out.types = append(out.types, x.ColumnTypeDatabaseTypeName(i))
		}
	}
	for {
		dest := make([]driver.Value, len(out.cols))
		if err := r.Next(dest); err != nil {
			if err == io.EOF {
				break
			}
			return nil, err
		}
		out.rows = append(out.rows, dest)
	}
	return out, nil
}

// staticRows is a materialised result.
type staticRows struct {
	cols  []string
	types []string
	rows  [][]driver.Value
	i     int
}

func (r *staticRows) Columns() []string { return r.cols }
func (r *staticRows) Close() error      { return nil }
func (r *staticRows) Next(dest []driver.Value) error {
	if r.i >= len(r.rows) {
		return io.EOF
	}
	copy(dest, r.rows[r.i])
	r.i++
	return nil
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *staticRows) ColumnTypeDatabaseTypeName(i int) string {
	if i < len(r.types) {
		return r.types[i]
	}
	return ""
}
