package replicate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/plannersql/planner/schema"
)

// querier runs statements: a *sql.Conn or a *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// Bookkeeping column names added to destination tables.
const (
	// colSourceName names the source account (WITH SourceName).
	colSourceName = "SourceName"
	// colIsDeleted is 1 for rows that vanished from the source (WITH SoftDelete).
	colIsDeleted = "IsDeleted"
	// colDeletedAt is when a run noticed the row vanished (WITH SoftDelete).
	colDeletedAt = "DeletedDateTime"
)

// Default bookkeeping table names.
const (
	// DefaultHistoryTable is the history table's name unless Options.HistoryTable says otherwise.
	DefaultHistoryTable = "planner_replicate_history"
	// StateTable holds the per-row hashes that drive change detection.
	StateTable = "planner_replicate_state"
)

// ddlColumn is a destination column to create.
type ddlColumn struct {
	name       string
	typ        schema.Type
	key        bool
	id         bool   // an id column (a key of some source table): MySQL makes it an indexable VARCHAR
	sourceName bool   // the SourceName bookkeeping column
	notNull    bool   // NOT NULL without being a key
	deflt      string // DEFAULT expression, or ""
	rawType    string // the column's SQL type, when set (bookkeeping columns)
}

// tableInfo describes an existing destination table.
type tableInfo struct {
	exists  bool
	name    string          // the catalog's spelling of the table name
	cols    []string        // column names, in order
	types   []string        // their SQL types as the catalog gives them (lower case)
	key     []string        // primary key columns
	indexed map[string]bool // columns (lower case) that lead an index, the primary key's included
}

// typeOf returns the SQL type of the named column, or "".
func (ti *tableInfo) typeOf(d dialect, name string) string {
	for i, c := range ti.cols {
		if d.sameName(c, name) && i < len(ti.types) {
			return ti.types[i]
		}
	}
	return ""
}

// leadsIndex reports whether an index starts with the named column.
func (ti *tableInfo) leadsIndex(name string) bool { return ti.indexed[strings.ToLower(name)] }

// has reports whether the table has the named column.
func (ti *tableInfo) has(d dialect, name string) bool {
	for _, c := range ti.cols {
		if d.sameName(c, name) {
			return true
		}
	}
	return false
}

// txn is one table's destination transaction, holding the table's lock.
type txn interface {
	// q is where statements run: the transaction, or for MySQL before
	// startData, the connection (DDL commits implicitly there).
	q() querier
	// startData begins the data transaction (MySQL); a no-op where DDL is
	// transactional and the transaction has already begun.
	startData(ctx context.Context) error
	// commit commits and releases the lock.
	commit(ctx context.Context) error
	// rollback rolls back and releases the lock; safe after commit.
	rollback() error
}

// dialect is what differs between destination databases.
type dialect interface {
	// kind is "sqlite", "postgres" or "mysql".
	kind() string
	// quote quotes an identifier.
	quote(s string) string
	// checkIdent rejects names the database would refuse or silently change.
	checkIdent(s string) error
	// sameName reports whether two identifiers name the same column or table.
	sameName(a, b string) bool
	// placeholder returns the i-th (1-based) parameter marker.
	placeholder(i int) string
	// maxParams is the most parameters one statement may have.
	maxParams() int
	// columnType returns the column type for t; keyLen is the VARCHAR length a
	// text key column needs (MySQL).
	columnType(t schema.Type, key bool, keyLen int) string
	// tableSuffix follows CREATE TABLE (...).
	tableSuffix() string
	// upsert returns an INSERT of rows rows that updates rows whose key exists.
	upsert(table string, cols, key []string, rows int) string
	// rowsIn returns "IN (...)" of n tuples of width columns, starting at parameter first.
	rowsIn(width, n, first int) string
	// bind converts a source value to what the destination column stores.
	bind(v any, t schema.Type) (any, error)
	// boolValue is the parameter for a BOOLEAN value.
	boolValue(b bool) any
	// timeValue is the parameter for a DATETIME value.
	timeValue(t time.Time) any
	// transactionalDDL reports whether DDL runs inside the data transaction.
	transactionalDDL() bool

	// defaultSchema returns the schema unqualified names resolve to.
	defaultSchema(ctx context.Context, q querier) (string, error)
	// prepareSchema makes the schema usable — creates it (PostgreSQL, MySQL)
	// or attaches its file (SQLite) — and creates or upgrades its
	// bookkeeping tables (ensureBook).
	prepareSchema(ctx context.Context, conn *sql.Conn, schema string, tables []bookTable) error
	// identityColumn is the type of an auto-numbered primary key column.
	identityColumn() string
	// maxBatchBytes bounds the parameter bytes of one statement.
	maxBatchBytes() int
	// describe reads an existing table's columns, their types, key and indexes.
	describe(ctx context.Context, q querier, n Name) (tableInfo, error)
	// indexable reports whether a column of the SQL type can lead an index.
	indexable(sqlType string) bool
	// narrower reports whether SQL type have holds less than want, of the
	// same kind (int than bigint, varchar(n) than text).
	narrower(have, want string) bool
	// alterTypes changes the types of existing columns (cols, with defs
	// their SQL types), keeping every value.
	alterTypes(ctx context.Context, q querier, n Name, table string, cols []ddlColumn, defs []string) error
	// createIndexSQL creates index (if missing) on table n's column col.
	createIndexSQL(n Name, index, col string) string
	// lockAndBegin takes the table's lock and begins its transaction.
	lockAndBegin(ctx context.Context, conn *sql.Conn, n Name, timeout time.Duration) (txn, error)
	// setup prepares the run's connection and returns a function that restores it.
	setup(ctx context.Context, conn *sql.Conn) (restore func(), err error)
}

// qualify renders a quoted, schema-qualified table name.
func qualify(d dialect, n Name) string {
	if n.Schema == "" {
		return d.quote(n.Table)
	}
	return d.quote(n.Schema) + "." + d.quote(n.Table)
}

// placeholders returns n parameter markers starting at first, comma-separated.
func placeholders(d dialect, first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.placeholder(first + i))
	}
	return b.String()
}

// quoteList quotes and joins names.
func quoteList(d dialect, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = d.quote(n)
	}
	return strings.Join(q, ", ")
}

// createTableSQL builds CREATE TABLE with the primary key.
func createTableSQL(d dialect, table string, cols []ddlColumn) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", table)
	var key []string
	for _, c := range cols {
		if c.key {
			key = append(key, c.name)
		}
	}
	keyLen := textKeyLength(cols)
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(columnDefSQL(d, c, keyLen))
	}
	fmt.Fprintf(&b, ", PRIMARY KEY (%s))%s", quoteList(d, key), d.tableSuffix())
	return b.String()
}

// mysqlKeyBytes is the longest primary key InnoDB allows (DYNAMIC rows).
const mysqlKeyBytes = 3072

// textKeyLength is the VARCHAR length, in utf8mb4 characters, of each text
// key column (MySQL needs one): SourceName takes its 64 characters, other
// key columns 8 bytes each, and the text key columns share the rest equally
// — 768 characters for a single text key, 352 each for (TaskId, ReferenceKey) with
// SourceName.
func textKeyLength(cols []ddlColumn) int {
	budget, texts := mysqlKeyBytes, 0
	for _, c := range cols {
		switch {
		case !c.key:
		case c.sourceName:
			budget -= maxSourceNameLen * 4
		case c.typ == schema.Text || c.typ == schema.JSON || c.typ == typeBlob:
			texts++
		default:
			budget -= 8
		}
	}
	return budget / 4 / max(texts, 1)
}

func columnDefSQL(d dialect, c ddlColumn, keyLen int) string {
	s := d.quote(c.name) + " " + columnDefType(d, c, keyLen)
	if c.key || c.notNull {
		s += " NOT NULL"
	}
	if c.deflt != "" {
		s += " DEFAULT " + c.deflt
	}
	return s
}

// addColumnSQL builds ALTER TABLE ... ADD COLUMN.
func addColumnSQL(d dialect, table string, c ddlColumn) string {
	return fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s", table, columnDefSQL(d, c, 0))
}

// deleteSQL builds a DELETE of n keys (after the scope parameters).
func deleteSQL(d dialect, bk bookNames, table string, key []string, scoped bool, n int) string {
	where, next := scopeWhere(d, bk, scoped, 1)
	return fmt.Sprintf("DELETE FROM %s WHERE %s%s", table, where, keyIn(d, key, n, next))
}

// softDeleteSQL marks n keys deleted: parameters are IsDeleted, DeletedDateTime, scope, keys.
func softDeleteSQL(d dialect, bk bookNames, table string, key []string, scoped bool, n int) string {
	where, next := scopeWhere(d, bk, scoped, 3)
	return fmt.Sprintf("UPDATE %s SET %s = %s, %s = %s WHERE %s%s", table,
		d.quote(bk.isDeleted), d.placeholder(1), d.quote(bk.deletedAt), d.placeholder(2), where, keyIn(d, key, n, next))
}

// scopeWhere returns the SourceName condition (with a trailing AND) and the
// next parameter number.
func scopeWhere(d dialect, bk bookNames, scoped bool, first int) (string, int) {
	if !scoped {
		return "", first
	}
	return fmt.Sprintf("%s = %s AND ", d.quote(bk.sourceName), d.placeholder(first)), first + 1
}

func keyIn(d dialect, key []string, n, first int) string {
	if len(key) == 1 {
		return fmt.Sprintf("%s IN (%s)", d.quote(key[0]), placeholders(d, first, n))
	}
	return fmt.Sprintf("(%s) %s", quoteList(d, key), d.rowsIn(len(key), n, first))
}

// conflictUpdates lists the non-key columns an upsert updates.
func conflictUpdates(cols, key []string, same func(a, b string) bool) []string {
	var out []string
	for _, c := range cols {
		isKey := false
		for _, k := range key {
			if same(c, k) {
				isKey = true
			}
		}
		if !isKey {
			out = append(out, c)
		}
	}
	return out
}

// valuesList returns rows tuples of width parameters.
func valuesList(d dialect, width, rows int) string {
	var b strings.Builder
	p := 1
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		b.WriteString(placeholders(d, p, width))
		b.WriteByte(')')
		p += width
	}
	return b.String()
}

// driverKind names the database behind a driver: "sqlite", "postgres",
// "mysql", or "" when unknown. It compares type names, so that replicate
// links no driver its caller did not.
func driverKind(drv driver.Driver) string {
	t := reflect.TypeOf(drv)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.PkgPath() + "." + t.Name() {
	case "modernc.org/sqlite.Driver":
		return "sqlite"
	case "github.com/jackc/pgx/v5/stdlib.Driver":
		return "postgres"
	case "github.com/go-sql-driver/mysql.MySQLDriver":
		return "mysql"
	}
	return ""
}

// probeKind asks the database what it is, for wrapped drivers; "" when
// it answers as none of SQLite, PostgreSQL and MySQL. The error is the
// database's when it cannot be connected to: that is not an answer.
func probeKind(ctx context.Context, db *sql.DB) (string, error) {
	if err := db.PingContext(ctx); err != nil {
		return "", err
	}
	var v string
	if db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v) == nil {
		return "sqlite", nil
	}
	if db.QueryRowContext(ctx, "SELECT version()").Scan(&v) == nil {
		switch {
		case strings.Contains(v, "PostgreSQL"):
			return "postgres", nil
		case strings.Contains(v, "MariaDB"), v != "" && v[0] >= '0' && v[0] <= '9':
			return "mysql", nil
		}
	}
	return "", nil
}

// newDialect detects the destination's database and builds its dialect.
func newDialect(ctx context.Context, db *sql.DB) (dialect, error) {
	kind := driverKind(db.Driver())
	if kind == "" {
		var err error
		if kind, err = probeKind(ctx, db); err != nil {
			return nil, fmt.Errorf("replicate: connect to the destination: %w", err)
		}
	}
	switch kind {
	case "sqlite":
		return &sqliteDialect{}, nil
	case "postgres":
		return &postgresDialect{}, nil
	case "mysql":
		return newMySQLDialect(ctx, db)
	}
	return nil, fmt.Errorf("replicate: unsupported destination driver %s: use SQLite (modernc.org/sqlite), PostgreSQL (github.com/jackc/pgx/v5/stdlib) or MySQL/MariaDB (github.com/go-sql-driver/mysql)",
		reflect.TypeOf(db.Driver()))
}

// LockedError reports that a run of another lock (another job, or another
// destination scope) held the destination table's lock for longer than
// Options.TableLockTimeout; the table failed. errors.Is(err, ErrLocked) is
// true for it.
type LockedError struct {
	// Table is the destination table.
	Table string
	// Holder describes the lock's holder when the database says (PostgreSQL:
	// backend pid, application, client; MySQL: connection id, user, host);
	// empty for SQLite, whose write lock does not say who holds it.
	Holder string
	// Waited is how long the run waited (Options.TableLockTimeout).
	Waited time.Duration
}

// Error says which table is locked, by whom when known, and what to do.
func (e *LockedError) Error() string {
	s := fmt.Sprintf("replicate: table %s is being written by another run", e.Table)
	if e.Holder != "" {
		s += " (held by " + e.Holder + ")"
	}
	return s + fmt.Sprintf("; gave up after waiting %s: run again later, or raise the table lock timeout", e.Waited)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockKey is the name of a table's lock.
func lockKey(n Name) string { return "planner_replicate:" + n.Schema + "." + n.Table }

// sqlTxn wraps a *sql.Tx (PostgreSQL).
type sqlTxn struct {
	tx      *sql.Tx
	release func()
}

func (t *sqlTxn) q() querier                      { return t.tx }
func (t *sqlTxn) startData(context.Context) error { return nil }
func (t *sqlTxn) commit(context.Context) error {
	err := t.tx.Commit()
	if t.release != nil {
		t.release()
	}
	return err
}
func (t *sqlTxn) rollback() error {
	err := t.tx.Rollback()
	if t.release != nil {
		t.release()
	}
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// onConflictUpsert is INSERT ... ON CONFLICT (key) DO UPDATE for PostgreSQL
// and SQLite, which differ only in how they are usually spelled: excluded
// names the pseudo-table of the proposed row.
func onConflictUpsert(d dialect, table string, cols, key []string, rows int, excluded string) string {
	s := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s ON CONFLICT (%s) DO ", table, quoteList(d, cols),
		valuesList(d, len(cols), rows), quoteList(d, key))
	upd := conflictUpdates(cols, key, d.sameName)
	if len(upd) == 0 {
		return s + "NOTHING"
	}
	set := make([]string, len(upd))
	for i, c := range upd {
		set[i] = fmt.Sprintf("%s = %s.%s", d.quote(c), excluded, d.quote(c))
	}
	return s + "UPDATE SET " + strings.Join(set, ", ")
}

// tupleList is "<prefix>(?,?),(?,?)...)": n row tuples of width
// parameters numbered from first, for a row-value IN list.
func tupleList(d dialect, prefix string, width, n, first int) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(" + placeholders(d, first+i*width, width) + ")")
	}
	b.WriteString(")")
	return b.String()
}
