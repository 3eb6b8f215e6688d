package replicate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/plannersql/planner/replicate/internal/dberr"

	"github.com/plannersql/planner/schema"
)

// sqliteDialect writes to SQLite (modernc.org/sqlite). One value serves one run
// on one dedicated connection: it remembers the schemas it attached.
type sqliteDialect struct {
	busyTimeout int      // the connection's busy_timeout (ms) before the run
	attached    []string // schemas this run attached
}

var _ dialect = (*sqliteDialect)(nil)

func (*sqliteDialect) kind() string { return "sqlite" }

func (*sqliteDialect) quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (*sqliteDialect) checkIdent(s string) error {
	if s == "" || strings.ContainsRune(s, 0) {
		return fmt.Errorf("invalid name %q: names must be non-empty and contain no NUL", s)
	}
	return nil
}

// sameName compares like SQLite: case-insensitive for ASCII letters only.
func (*sqliteDialect) sameName(a, b string) bool { return asciiFold(a) == asciiFold(b) }

func asciiFold(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func (*sqliteDialect) placeholder(int) string { return "?" }
func (*sqliteDialect) maxParams() int         { return 32766 }
func (*sqliteDialect) tableSuffix() string    { return "" }
func (*sqliteDialect) transactionalDDL() bool { return true }
func (*sqliteDialect) identityColumn() string { return "INTEGER PRIMARY KEY" }
func (*sqliteDialect) maxBatchBytes() int     { return 64 << 20 }

func (*sqliteDialect) columnType(t schema.Type, _ bool, _ int) string {
	switch t {
	case schema.Integer, schema.Boolean:
		return "INTEGER"
	case typeReal:
		return "REAL"
	case typeBlob:
		return "BLOB"
	default: // TEXT, DATETIME (RFC 3339 text), JSON (text)
		return "TEXT"
	}
}

func (d *sqliteDialect) upsert(table string, cols, key []string, rows int) string {
	return onConflictUpsert(d, table, cols, key, rows, "excluded")
}

func (d *sqliteDialect) rowsIn(width, n, first int) string {
	return tupleList(d, "IN (VALUES ", width, n, first)
}

// bind converts to the column type's form, as the other destinations do:
// SQLite would keep any value in any column (text in an INTEGER column, a
// time in Go's default text form), so a value of another type is converted
// (integers, reals and booleans to text as the source shows them, times to
// RFC 3339 text, "12" to 12), and one that does not convert is refused.
func (*sqliteDialect) bind(v any, t schema.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case schema.Integer:
		return asInt64(v)
	case schema.Boolean:
		return asBoolInt(v)
	case schema.DateTime:
		tm, err := asTime(v)
		if err != nil {
			return nil, err
		}
		return formatTime(tm), nil
	case typeReal:
		f, err := asFloat(v)
		if err == nil && math.IsNaN(f) {
			return nil, errNaNSQLite
		}
		return f, err
	case typeBlob:
		return asBytes(v), nil
	default: // TEXT, JSON
		switch v.(type) {
		case uint, uint64, uint32, uint16, uint8, int, int8, int16, int32, int64, float32, float64, bool, string, []byte, time.Time:
			return asString(v), nil
		}
		return nil, valueError(v, t)
	}
}

// errNaNSQLite refuses NaN, which SQLite would store as NULL.
var errNaNSQLite = errors.New("value is NaN, which SQLite stores as NULL")

func (*sqliteDialect) boolValue(b bool) any { return boolInt(b) }

func (*sqliteDialect) timeValue(t time.Time) any { return formatTime(t) }

func (*sqliteDialect) defaultSchema(context.Context, querier) (string, error) { return "main", nil }

func (d *sqliteDialect) setup(ctx context.Context, conn *sql.Conn) (func(), error) {
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&d.busyTimeout); err != nil {
		return nil, fmt.Errorf("replicate: read busy_timeout: %w", err)
	}
	return func() {
		ctx := context.Background()
		for _, s := range d.attached {
			conn.ExecContext(ctx, "DETACH DATABASE "+d.quote(s)) //nolint:errcheck // best effort; the connection is returned either way
		}
		conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", d.busyTimeout)) //nolint:errcheck
	}, nil
}

// schemaFile returns the file holding schema s next to the main database
// file: "<dir>/<main name without extension>.<s, lower-cased>.db", with
// characters other than letters, digits, '_' and '-' percent-encoded.
func schemaFile(mainFile, s string) string {
	dir, base := filepath.Split(mainFile)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	var b strings.Builder
	for _, r := range asciiFold(s) {
		if r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			continue
		}
		for _, c := range []byte(string(r)) {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return filepath.Join(dir, base+"."+b.String()+".db")
}

// databases lists the connection's attached databases: name → file.
func (d *sqliteDialect) databases(ctx context.Context, q querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT name, file FROM pragma_database_list")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dbs := map[string]string{}
	for rows.Next() {
		var name, file string
		if err := rows.Scan(&name, &file); err != nil {
			return nil, err
		}
		dbs[asciiFold(name)] = file
	}
	return dbs, rows.Err()
}

func (d *sqliteDialect) prepareSchema(ctx context.Context, conn *sql.Conn, s string, tables []bookTable) error {
	if s != "" && !d.sameName(s, "main") {
		if d.sameName(s, "temp") {
			return errors.New("schema temp is not a destination: its tables vanish with the connection")
		}
		dbs, err := d.databases(ctx, conn)
		if err != nil {
			return fmt.Errorf("list attached databases: %w", err)
		}
		if _, ok := dbs[asciiFold(s)]; !ok {
			mainFile := dbs["main"]
			if mainFile == "" {
				return fmt.Errorf("schema %s needs a file-backed main database (the destination is in memory); replicate to an unqualified table instead", displayIdent(s))
			}
			file := schemaFile(mainFile, s)
			if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS "+d.quote(s), file); err != nil {
				return fmt.Errorf("attach %s for schema %s: %w", file, displayIdent(s), err)
			}
			d.attached = append(d.attached, s)
			var mode string
			if err := conn.QueryRowContext(ctx, "PRAGMA main.journal_mode").Scan(&mode); err == nil && strings.EqualFold(mode, "wal") {
				if err := conn.QueryRowContext(ctx, "PRAGMA "+d.quote(s)+".journal_mode = WAL").Scan(&mode); err != nil {
					return fmt.Errorf("set WAL on %s: %w", file, err)
				}
			}
		}
	}
	work, err := ensureBook(ctx, d, conn, tables, true)
	if err != nil || !work {
		return err
	}
	// Two runs starting on a new file would both find the tables missing
	// and the second CREATE TABLE fail: create them under the write lock,
	// looking again once it is held.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // "no transaction is active" is the usual answer
		return err
	}
	if _, err := ensureBook(ctx, d, conn, tables, false); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // the error says what failed
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

func (d *sqliteDialect) describe(ctx context.Context, q querier, n Name) (tableInfo, error) {
	s := n.Schema
	if s == "" {
		s = "main"
	}
	var ti tableInfo
	err := q.QueryRowContext(ctx, "SELECT name FROM "+d.quote(s)+".sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE", n.Table).Scan(&ti.name)
	if errors.Is(err, sql.ErrNoRows) {
		return ti, nil
	}
	if err != nil {
		return ti, fmt.Errorf("describe %s: %w", n, err)
	}
	ti.exists = true
	rows, err := q.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info(?, ?) ORDER BY cid", ti.name, s)
	if err != nil {
		return ti, fmt.Errorf("describe %s: %w", n, err)
	}
	pk := map[int]string{}
	for rows.Next() {
		var name, typ string
		var p int
		if err := rows.Scan(&name, &typ, &p); err != nil {
			rows.Close()
			return ti, err
		}
		ti.cols = append(ti.cols, name)
		ti.types = append(ti.types, strings.ToLower(typ))
		if p > 0 {
			pk[p] = name
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ti, err
	}
	for i := 1; i <= len(pk); i++ {
		ti.key = append(ti.key, pk[i])
	}
	ti.indexed = map[string]bool{}
	if len(ti.key) > 0 {
		ti.indexed[strings.ToLower(ti.key[0])] = true
	}
	rows, err = q.QueryContext(ctx, "SELECT ii.name FROM pragma_index_list(?, ?) il JOIN pragma_index_info(il.name, ?) ii WHERE ii.seqno = 0", ti.name, s, s)
	if err != nil {
		return ti, fmt.Errorf("describe %s: %w", n, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c sql.NullString
		if err := rows.Scan(&c); err != nil {
			return ti, err
		}
		ti.indexed[strings.ToLower(c.String)] = true
	}
	return ti, rows.Err()
}

// lockAndBegin starts a write transaction (BEGIN IMMEDIATE): SQLite's write
// lock is the table lock. It waits up to timeout for another writer, a
// second at a time so that ctx can end the wait.
func (d *sqliteDialect) lockAndBegin(ctx context.Context, conn *sql.Conn, n Name, timeout time.Duration) (txn, error) {
	deadline := time.Now().Add(timeout)
	for {
		wait := min(max(time.Until(deadline), 0), time.Second)
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", wait.Milliseconds())); err != nil {
			return nil, err
		}
		_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", d.busyTimeout)); rerr != nil && err == nil {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck
			return nil, rerr
		}
		if err != nil {
			// A cancelled context can interrupt the call after the
			// transaction began: never keep the write lock.
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // "no transaction is active" is the usual answer
		}
		switch {
		case err == nil:
			return &sqliteTxn{conn: conn}, nil
		case !isSQLiteBusy(err):
			return nil, err
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case !time.Now().Before(deadline):
			return nil, &LockedError{Table: n.String(), Waited: timeout}
		}
	}
}

func isSQLiteBusy(err error) bool {
	c := dberr.SQLiteCode(err)
	return c == 5 || c == 6 // SQLITE_BUSY, SQLITE_LOCKED
}

// sqliteTxn is a transaction begun with BEGIN IMMEDIATE on the run's connection.
type sqliteTxn struct {
	conn *sql.Conn
	done bool
}

func (t *sqliteTxn) q() querier                      { return t.conn }
func (t *sqliteTxn) startData(context.Context) error { return nil }

func (t *sqliteTxn) commit(ctx context.Context) error {
	if _, err := t.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	t.done = true
	return nil
}

func (t *sqliteTxn) rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	_, err := t.conn.ExecContext(context.Background(), "ROLLBACK")
	if err != nil && strings.Contains(err.Error(), "no transaction is active") {
		return nil // SQLite already rolled back (an interrupted statement)
	}
	return err
}

func (*sqliteDialect) indexable(string) bool     { return true }
func (*sqliteDialect) narrower(_, _ string) bool { return false }

func (d *sqliteDialect) createIndexSQL(n Name, index, col string) string {
	name := d.quote(index)
	if n.Schema != "" {
		name = d.quote(n.Schema) + "." + name
	}
	return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", name, d.quote(n.Table), d.quote(col))
}

// alterTypes rebuilds the table, as SQLite cannot change a column's type:
// a copy with the new types, the rows copied, the old table dropped, the
// copy renamed, and the old table's indexes created again — all in the
// table's transaction.
func (d *sqliteDialect) alterTypes(ctx context.Context, q querier, n Name, table string, cols []ddlColumn, defs []string) error {
	s := n.Schema
	if s == "" {
		s = "main"
	}
	info, err := d.describe(ctx, q, n)
	if err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?, ?) ORDER BY cid`, info.name, s)
	if err != nil {
		return err
	}
	var colDefs []string
	pk := map[int]string{}
	for rows.Next() {
		var name, typ string
		var notNull, p int
		var deflt sql.NullString
		if err := rows.Scan(&name, &typ, &notNull, &deflt, &p); err != nil {
			rows.Close()
			return err
		}
		for i, c := range cols {
			if d.sameName(c.name, name) {
				typ = defs[i]
			}
		}
		def := d.quote(name) + " " + typ
		if notNull != 0 {
			def += " NOT NULL"
		}
		if deflt.Valid {
			def += " DEFAULT " + deflt.String
		}
		colDefs = append(colDefs, def)
		if p > 0 {
			pk[p] = name
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var key []string
	for i := 1; i <= len(pk); i++ {
		key = append(key, pk[i])
	}
	if len(key) > 0 {
		colDefs = append(colDefs, "PRIMARY KEY ("+quoteList(d, key)+")")
	}
	indexes, err := queryAll(ctx, q, "SELECT sql FROM "+d.quote(s)+".sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", info.name)
	if err != nil {
		return err
	}
	tmp := d.quote(s) + "." + d.quote("planner_replicate_rebuild")
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS " + tmp,
		"CREATE TABLE " + tmp + " (" + strings.Join(colDefs, ", ") + ")",
		"INSERT INTO " + tmp + " SELECT * FROM " + table,
		"DROP TABLE " + table,
		"ALTER TABLE " + tmp + " RENAME TO " + d.quote(info.name),
	} {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	for _, ix := range indexes {
		// CREATE [UNIQUE] INDEX name ON ...: create it in the table's schema.
		if s != "main" {
			if rest, ok := strings.CutPrefix(ix, "CREATE INDEX "); ok {
				ix = "CREATE INDEX " + d.quote(s) + "." + rest
			} else if rest, ok := strings.CutPrefix(ix, "CREATE UNIQUE INDEX "); ok {
				ix = "CREATE UNIQUE INDEX " + d.quote(s) + "." + rest
			}
		}
		if _, err := q.ExecContext(ctx, ix); err != nil {
			return fmt.Errorf("recreate index: %w", err)
		}
	}
	return nil
}

// queryAll returns the first column of every row.
func queryAll(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
