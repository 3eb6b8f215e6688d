package replicate

import (
	"context"
	"database/sql"
	"fmt"
)

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
	tag      string    // identifies the destination columns' types
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
	if w.tag != "" {
		// The columns' types are part of the text: pgx caches statements
		// (and the parameter types the server gave them) by their text on
		// the connection, and a statement prepared before a column's type
		// changed would convert values to the old type.
		return "/* " + w.tag + " */ " + w.untagged(rows)
	}
	return w.untagged(rows)
}

func (w *writer) untagged(rows int) string {
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
