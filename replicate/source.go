package replicate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/plannersql/planner/schema"
)

// source is the database REPLICATE reads from.
type source struct {
	db   *sql.DB
	kind string // "sqlite", "postgres", "mysql", or "" (another driver, such as planner)
	// err is why the source cannot be used at all (it cannot be connected
	// to: a sign-in that fails, a host that does not resolve); every table
	// fails with it, and nothing is guessed from the failed probes.
	err error
	// hasCatalog is true when the source answers sys_tables and
	// sys_columns (the planner driver's catalog); catalogErr is the probe's
	// error when it does not.
	hasCatalog bool
	catalogErr error
	cat        *catalogInfo
}

// errCannotList is the error of listTables for a source that has no
// catalog replicate can read (no sys_tables, and a database other than
// SQLite, PostgreSQL or MySQL).
var errCannotList = errors.New("replicate: cannot list the source's tables")

// catalogInfo is what the source's sys_columns catalog (the planner
// driver's) says about its columns across tables; empty for sources without
// one.
type catalogInfo struct {
	// refs are the columns (lower case) that are the whole key of a table
	// — GroupId, PlanId, BucketId, TaskId: elsewhere they refer to that
	// table, and destinations index them.
	refs map[string]bool
	// ids are the TEXT columns (lower case) named ...Id: Graph ids, which
	// are case-sensitive.
	ids map[string]bool
}

// loadCatalog reads sys_columns once per run (an empty catalog for a source
// without one). A source that has one and fails to answer returns the
// error, and is asked again by the next table.
func (s *source) loadCatalog(ctx context.Context) error {
	if s.cat != nil {
		return nil
	}
	cat := &catalogInfo{refs: map[string]bool{}, ids: map[string]bool{}}
	if !s.hasCatalog {
		s.cat = cat
		return nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT TableName, ColumnName, DataType, IsKey FROM sys_columns")
	if err != nil {
		return fmt.Errorf("replicate: read the source's catalog (sys_columns): %w", err)
	}
	defer rows.Close()
	keys := map[string][]string{}
	for rows.Next() {
		var table, col string
		var typ sql.NullString
		var isKey any
		if err := rows.Scan(&table, &col, &typ, &isKey); err != nil {
			return fmt.Errorf("replicate: read the source's catalog (sys_columns): %w", err)
		}
		if k, err := asBool(isKey); err == nil && k {
			keys[table] = append(keys[table], col)
		}
		if strings.HasSuffix(col, "Id") && strings.EqualFold(typ.String, "TEXT") {
			cat.ids[strings.ToLower(col)] = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("replicate: read the source's catalog (sys_columns): %w", err)
	}
	for table, k := range keys {
		if len(k) == 1 && !strings.HasPrefix(strings.ToLower(table), "sys_") {
			cat.refs[strings.ToLower(k[0])] = true
		}
	}
	s.cat = cat
	return nil
}

// catalog is what loadCatalog read (empty before, or when it failed).
func (s *source) catalog() catalogInfo {
	if s.cat == nil {
		return catalogInfo{}
	}
	return *s.cat
}

// newSource connects to the source and detects its database from its
// driver or, for other drivers (wrappers, or the planner driver, which is
// SQLite inside), by asking it; then whether it has the planner driver's
// catalog (sys_tables, sys_columns). A source that cannot be connected to
// keeps the error (source.err) rather than a guess from failed probes.
func newSource(ctx context.Context, db *sql.DB) *source {
	s := &source{db: db}
	if err := db.PingContext(ctx); err != nil {
		s.err = fromSource(fmt.Errorf("replicate: connect to the source: %w", err))
		return s
	}
	s.kind = driverKind(db.Driver())
	if s.kind == "" {
		s.kind, _ = probeKind(ctx, db)
	}
	rows, err := db.QueryContext(ctx, "SELECT TableName FROM sys_tables WHERE 1 = 0")
	if err == nil {
		err = rows.Close()
	}
	s.hasCatalog, s.catalogErr = err == nil, err
	return s
}

// quote quotes an identifier for the source (backticks for MySQL, double quotes otherwise).
func (s *source) quote(id string) string {
	if s.kind == "mysql" {
		return "`" + strings.ReplaceAll(id, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`
}

func (s *source) placeholder(i int) string {
	if s.kind == "postgres" {
		return fmt.Sprintf("$%d", i)
	}
	return "?"
}

// tableQuery is the query that reads a whole table.
func (s *source) tableQuery(n Name) string {
	if n.Schema != "" {
		return "SELECT * FROM " + s.quote(n.Schema) + "." + s.quote(n.Table)
	}
	return "SELECT * FROM " + s.quote(n.Table)
}

// keyOf discovers a table's key: from the source's sys_columns catalog (the
// planner driver's), else from the database's own catalog (SQLite,
// PostgreSQL, MySQL primary key). It returns nil when neither knows one.
func (s *source) keyOf(ctx context.Context, n Name) ([]string, error) {
	if s.err != nil {
		return nil, s.err
	}
	keys, known, err := s.catalogKey(ctx, n.Table)
	if err != nil {
		return nil, err
	}
	if known && len(keys) > 0 {
		return keys, nil
	}
	var q string
	var args []any
	switch s.kind {
	case "sqlite":
		if n.Schema != "" {
			q, args = "SELECT name FROM pragma_table_info(?, ?) WHERE pk > 0 ORDER BY pk", []any{n.Table, n.Schema}
		} else {
			q, args = "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", []any{n.Table}
		}
	case "postgres":
		table := s.quote(n.Table)
		if n.Schema != "" {
			table = s.quote(n.Schema) + "." + table
		}
		q, args = `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = to_regclass($1) AND i.indisprimary
			ORDER BY array_position(i.indkey::int2[], a.attnum)`, []any{table}
	case "mysql":
		q, args = `SELECT COLUMN_NAME FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY'
			ORDER BY SEQ_IN_INDEX`, []any{sql.NullString{String: n.Schema, Valid: n.Schema != ""}, n.Table}
	default:
		return nil, nil
	}
	return queryAll(ctx, s.db, q, args...)
}

// catalogKey reads key columns from sys_columns. known is false when the
// source has no sys_columns or it does not list the table; err is the
// catalog's failure to answer.
func (s *source) catalogKey(ctx context.Context, table string) (keys []string, known bool, err error) {
	if !s.hasCatalog {
		return nil, false, nil
	}
	fail := func(err error) ([]string, bool, error) {
		return nil, false, fmt.Errorf("replicate: read the source's catalog (sys_columns): %w", err)
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf("SELECT ColumnName, IsKey FROM sys_columns WHERE lower(TableName) = lower(%s)", s.placeholder(1)), table)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var isKey any
		if err := rows.Scan(&name, &isKey); err != nil {
			return fail(err)
		}
		known = true
		if k, err := asBool(isKey); err == nil && k {
			keys = append(keys, name)
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return keys, known, nil
}

// listTables lists the source's tables for REPLICATE ALL: sys_tables when the
// source has it (less the catalog tables), else the database's own tables.
// A source that cannot be connected to, or whose catalog fails, returns
// that error; one that has no catalog replicate can read returns an error
// matching errCannotList.
func (s *source) listTables(ctx context.Context) ([]string, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.hasCatalog {
		names, err := queryAll(ctx, s.db, "SELECT TableName FROM sys_tables")
		if err != nil {
			return nil, fmt.Errorf("replicate: list the source's tables (sys_tables): %w", err)
		}
		return slices.DeleteFunc(names, func(n string) bool {
			return strings.EqualFold(n, "sys_tables") || strings.EqualFold(n, "sys_columns")
		}), nil
	}
	var q string
	switch s.kind {
	case "sqlite":
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`
	case "postgres":
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	case "mysql":
		q = `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`
	default:
		return nil, fmt.Errorf("%w: it has no sys_tables catalog (%v) and its driver (%T) is not SQLite, PostgreSQL or MySQL; name the tables with REPLICATE TABLES (...)", errCannotList, s.catalogErr, s.db.Driver())
	}
	names, err := queryAll(ctx, s.db, q)
	if err != nil {
		return nil, fmt.Errorf("replicate: list the source's tables: %w", err)
	}
	return names, nil
}

// sourceRows reads a query's rows as raw values, leaving out excluded columns.
type sourceRows struct {
	rows    *sql.Rows
	cols    []column // kept columns
	keep    []int    // index in the query's columns of each kept column
	raw     []any
	ptrs    []any
	vals    []any // kept values of the current row
	peeked  bool  // the first row has been scanned and not yet returned
	done    bool
	scanErr error
}

// newSourceRows reads the columns and their types; a column without a
// declared type takes its type from the first row's value.
func newSourceRows(rows *sql.Rows, exclude []string) (*sourceRows, error) {
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	sr := &sourceRows{rows: rows, raw: make([]any, len(names)), ptrs: make([]any, len(names))}
	for i := range sr.raw {
		sr.ptrs[i] = &sr.raw[i]
	}
	excluded := map[int]bool{}
	for _, x := range exclude {
		found := false
		for i, n := range names {
			if strings.EqualFold(n, x) {
				excluded[i], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("EXCLUDE COLUMNS names %s, which is not a column of the result", displayIdent(x))
		}
	}
	infer := false
	for i, n := range names {
		if excluded[i] {
			continue
		}
		t, ok := typeFromDatabaseName(cts[i].DatabaseTypeName())
		if !ok {
			infer = true
		}
		sr.cols = append(sr.cols, column{name: n, typ: t})
		sr.keep = append(sr.keep, i)
	}
	sr.vals = make([]any, len(sr.keep))
	if infer {
		if sr.scan() {
			sr.peeked = true
		}
		if err := sr.err(); err != nil {
			return nil, err
		}
		for i := range sr.cols {
			if sr.cols[i].typ == "" {
				sr.cols[i].typ = schema.Text
				if sr.peeked && sr.vals[i] != nil {
					sr.cols[i].typ = typeFromValue(sr.vals[i])
				}
			}
		}
	}
	return sr, nil
}

func (sr *sourceRows) scan() bool {
	if sr.done || !sr.rows.Next() {
		sr.done = true
		return false
	}
	if err := sr.rows.Scan(sr.ptrs...); err != nil {
		sr.done, sr.scanErr = true, err
		return false
	}
	for i, k := range sr.keep {
		sr.vals[i] = sr.raw[k]
	}
	return true
}

// next advances to the next row; its values are in sr.vals.
func (sr *sourceRows) next() bool {
	if sr.peeked {
		sr.peeked = false
		return true
	}
	return sr.scan()
}

func (sr *sourceRows) err() error {
	if sr.scanErr != nil {
		return sr.scanErr
	}
	return sr.rows.Err()
}

// readBatchRows is the number of rows per batch handed from the reader
// goroutine to the writer.
const readBatchRows = 256

// pipeBatches is how many batches the reader may be ahead: it starts before
// the lock is taken and the state loaded, and reads on meanwhile.
const pipeBatches = 32

// rowBatch holds rows read from the source: their raw values and, once ready
// is closed, the hash of each row's serialised values.
type rowBatch struct {
	vals   []any     // n rows × columns
	hashes []rowHash // one per row; valid after ready is closed
	keys   []keyFP   // each row's key fingerprint; valid after ready is closed
	bad    []bool    // rows whose key could not be encoded (the consumer reports why)
	n      int
	ready  chan struct{}
}

// rowPipe reads the source in its own goroutine, so that reading (from
// Graph, for the planner driver) overlaps hashing and writing. Hashing runs
// in further goroutines, one batch each, and batches come out in order.
type rowPipe struct {
	out  chan *rowBatch
	free chan *rowBatch
	quit chan struct{}
	done chan struct{}
	err  error // the source's error; read after out is closed
}

// hashWorkers is the number of goroutines hashing batches.
func hashWorkers() int { return max(1, min(4, runtime.GOMAXPROCS(0)-1)) }

// keyFunc encodes a row's key values into kb (reusing its storage) and
// returns its fingerprint; ok is false when a key value is NULL or cannot be
// bound, which the consumer then reports.
type keyFunc func(vals []any, kb []byte) (fp keyFP, out []byte, ok bool)

func startPipe(sr *sourceRows, keyOf keyFunc) *rowPipe {
	p := &rowPipe{out: make(chan *rowBatch, pipeBatches), free: make(chan *rowBatch, pipeBatches+2), quit: make(chan struct{}), done: make(chan struct{})}
	nc := len(sr.cols)
	work := make(chan *rowBatch, pipeBatches)
	var wg sync.WaitGroup
	for range hashWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ser, kb []byte
			for b := range work {
				b.hashes, b.keys, b.bad = b.hashes[:0], b.keys[:0], b.bad[:0]
				for row := range b.n {
					vals := b.vals[row*nc : (row+1)*nc]
					ser = ser[:0]
					for _, v := range vals {
						ser = appendHashValue(ser, v)
					}
					b.hashes = append(b.hashes, hashRow(ser))
					var fp keyFP
					var ok bool
					fp, kb, ok = keyOf(vals, kb)
					b.keys = append(b.keys, fp)
					b.bad = append(b.bad, !ok)
				}
				close(b.ready)
			}
		}()
	}
	go func() {
		defer close(p.done)
		defer wg.Wait()
		defer close(work)
		defer close(p.out)
		for {
			var b *rowBatch
			select {
			case b = <-p.free:
			default:
				b = &rowBatch{vals: make([]any, readBatchRows*nc)}
			}
			b.n = 0
			for b.n < readBatchRows && sr.next() {
				copy(b.vals[b.n*nc:], sr.vals)
				b.n++
			}
			full := b.n == readBatchRows
			if b.n > 0 {
				b.ready = make(chan struct{})
				work <- b // never blocks for long: workers only hash
				select {
				case p.out <- b:
				case <-p.quit:
					return
				}
			}
			if !full {
				p.err = sr.err()
				return
			}
		}
	}()
	return p
}

// recycle hands a consumed batch back to the reader.
func (p *rowPipe) recycle(b *rowBatch) {
	select {
	case p.free <- b:
	default:
	}
}

// stop ends the reader (the caller cancels the source query first, so a
// reader blocked in the source returns) and waits for it.
func (p *rowPipe) stop() {
	close(p.quit)
	for range p.out {
	}
	<-p.done
}
