package replicate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plannersql/planner/replicate/internal/dberr"

	"github.com/plannersql/planner/schema"
)

// mysqlDialect writes to MySQL or MariaDB through go-sql-driver/mysql.
type mysqlDialect struct {
	mariadb     bool   // MariaDB: ON DUPLICATE KEY UPDATE c = VALUES(c)
	rowAlias    bool   // MySQL >= 8.0.19: INSERT ... AS new ON DUPLICATE KEY UPDATE c = new.c
	binCollate  string // a case- and accent-sensitive collation for key columns
	maxPacket   int    // max_allowed_packet
	savedMode   string // the session's sql_mode before the run
	modeChanged bool
}

var _ dialect = (*mysqlDialect)(nil)

// newMySQLDialect asks the server which syntax and collations it supports.
func newMySQLDialect(ctx context.Context, db *sql.DB) (*mysqlDialect, error) {
	d := &mysqlDialect{binCollate: "utf8mb4_bin", maxPacket: 4 << 20}
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION(), @@max_allowed_packet").Scan(&version, &d.maxPacket); err != nil {
		return nil, fmt.Errorf("replicate: query the MySQL server version: %w", err)
	}
	d.mariadb = strings.Contains(strings.ToLower(version), "mariadb")
	if !d.mariadb {
		d.rowAlias = mysqlVersionAtLeast(version, 8, 0, 19)
	}
	// Prefer a NO PAD binary collation: with PAD SPACE, 'a' and 'a ' are the same key.
	rows, err := db.QueryContext(ctx, "SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin')")
	if err != nil {
		return nil, fmt.Errorf("replicate: list MySQL collations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		d.binCollate = c
	}
	return d, rows.Err()
}

func mysqlVersionAtLeast(v string, major, minor, patch int) bool {
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	want := []int{major, minor, patch}
	for i := range want {
		if i >= len(parts) {
			return false
		}
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return false
		}
		if n != want[i] {
			return n > want[i]
		}
	}
	return true
}

func (*mysqlDialect) kind() string { return "mysql" }

func (*mysqlDialect) quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func (*mysqlDialect) checkIdent(s string) error {
	switch {
	case s == "" || strings.ContainsRune(s, 0):
		return fmt.Errorf("invalid name %q: names must be non-empty and contain no NUL", s)
	case utf8.RuneCountInString(s) > 64:
		return fmt.Errorf("name %q is longer than MySQL's 64 characters: choose a shorter name", s)
	case strings.HasSuffix(s, " "):
		return fmt.Errorf("name %q ends with a space, which MySQL does not allow", s)
	case strings.ContainsFunc(s, func(r rune) bool { return r > 0xFFFF }):
		return fmt.Errorf("name %q has a character outside Unicode's Basic Multilingual Plane (such as an emoji), which MySQL names cannot hold", s)
	}
	return nil
}

func (*mysqlDialect) sameName(a, b string) bool { return strings.EqualFold(a, b) }
func (*mysqlDialect) placeholder(int) string    { return "?" }
func (*mysqlDialect) maxParams() int            { return 65535 }
func (*mysqlDialect) tableSuffix() string       { return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" }
func (*mysqlDialect) transactionalDDL() bool    { return false }
func (*mysqlDialect) identityColumn() string    { return "BIGINT AUTO_INCREMENT PRIMARY KEY" }
func (d *mysqlDialect) maxBatchBytes() int      { return min(8<<20, d.maxPacket/2) }

// columnType maps types to MySQL. Text key columns are VARCHAR(keyLen) with a
// binary collation (ids are case-sensitive); other text is MEDIUMTEXT (TEXT's
// 64 KB is too small for long descriptions in utf8mb4).
func (d *mysqlDialect) columnType(t schema.Type, key bool, keyLen int) string {
	switch t {
	case schema.Integer:
		return "BIGINT"
	case schema.Boolean:
		return "BOOLEAN"
	case schema.DateTime:
		return "DATETIME(6)"
	case typeReal:
		return "DOUBLE"
	case typeBlob:
		if key {
			return fmt.Sprintf("VARBINARY(%d)", keyLen*4)
		}
		return "LONGBLOB"
	case schema.JSON:
		if !key {
			return "JSON"
		}
	}
	if key {
		return fmt.Sprintf("VARCHAR(%d) CHARACTER SET utf8mb4 COLLATE %s", keyLen, d.binCollate)
	}
	return "MEDIUMTEXT"
}

func (d *mysqlDialect) upsert(table string, cols, key []string, rows int) string {
	s := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, quoteList(d, cols), valuesList(d, len(cols), rows))
	upd := conflictUpdates(cols, key, d.sameName)
	if len(upd) == 0 {
		k := d.quote(key[0])
		return s + " ON DUPLICATE KEY UPDATE " + k + " = " + k
	}
	set := make([]string, len(upd))
	alias := d.quote("planner_new")
	for i, c := range upd {
		if d.rowAlias {
			set[i] = fmt.Sprintf("%s = %s.%s", d.quote(c), alias, d.quote(c))
		} else {
			set[i] = fmt.Sprintf("%s = VALUES(%s)", d.quote(c), d.quote(c))
		}
	}
	if d.rowAlias {
		s += " AS " + alias
	}
	return s + " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
}

func (d *mysqlDialect) rowsIn(width, n, first int) string {
	return tupleList(d, "IN (", width, n, first)
}

// mysqlTimeLayout is how DATETIME(6) values are sent: UTC, microseconds.
const mysqlTimeLayout = "2006-01-02 15:04:05.000000"

// bind converts to what go-sql-driver sends for the column type. Times are
// sent as UTC text so the connection's loc setting cannot shift them.
func (d *mysqlDialect) bind(v any, t schema.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	if err := d.checkPacket(v); err != nil {
		return nil, err
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
		if y := tm.Year(); y < 1000 || y > 9999 {
			return nil, fmt.Errorf("value %s is outside MySQL DATETIME's range (1000-01-01 to 9999-12-31)", formatTime(tm))
		}
		return tm.Truncate(time.Microsecond).Format(mysqlTimeLayout), nil
	case typeReal:
		f, err := asFloat(v)
		if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, valueError(v, t)
		}
		return f, err
	case typeBlob:
		return asBytes(v), nil
	case schema.JSON:
		str := asString(v)
		if err := checkJSON(str, "a MySQL JSON column"); err != nil {
			return nil, err
		}
		return str, nil
	default:
		str := asString(v)
		if !utf8.ValidString(str) {
			return nil, errors.New("value is not valid UTF-8, which MySQL's utf8mb4 text cannot hold")
		}
		return str, nil
	}
}

// checkPacket refuses a value the server would not take in one packet
// (max_allowed_packet): it would drop the connection mid-statement.
func (d *mysqlDialect) checkPacket(v any) error {
	n := 0
	switch x := v.(type) {
	case string:
		n = len(x)
	case []byte:
		n = len(x)
	default:
		return nil
	}
	// Room for the statement around the value.
	if limit := d.maxPacket - 64<<10; d.maxPacket > 0 && n > limit {
		return fmt.Errorf("value of %d bytes is larger than the server takes in one statement (max_allowed_packet is %d bytes); raise max_allowed_packet in the server's configuration", n, d.maxPacket)
	}
	return nil
}

func (*mysqlDialect) boolValue(b bool) any { return boolInt(b) }

func (*mysqlDialect) timeValue(t time.Time) any {
	return t.UTC().Truncate(time.Microsecond).Format(mysqlTimeLayout)
}

func (*mysqlDialect) defaultSchema(ctx context.Context, q querier) (string, error) {
	var s sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&s); err != nil {
		return "", err
	}
	if !s.Valid {
		return "", errors.New("no database selected: name one in the destination URL (mysql://user@host/db) or qualify the table as db.Table")
	}
	return s.String, nil
}

// setup makes the session strict, so a value that does not fit is an error
// instead of a silent truncation.
func (d *mysqlDialect) setup(ctx context.Context, conn *sql.Conn) (func(), error) {
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&d.savedMode); err != nil {
		return nil, fmt.Errorf("replicate: read sql_mode: %w", err)
	}
	if !strings.Contains(d.savedMode, "STRICT_ALL_TABLES") {
		mode := strings.Trim(d.savedMode+",STRICT_ALL_TABLES", ",")
		if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ?", mode); err != nil {
			return nil, fmt.Errorf("replicate: set sql_mode: %w", err)
		}
		d.modeChanged = true
	}
	return func() {
		if d.modeChanged {
			conn.ExecContext(context.Background(), "SET SESSION sql_mode = ?", d.savedMode) //nolint:errcheck
		}
	}, nil
}

func (d *mysqlDialect) prepareSchema(ctx context.Context, conn *sql.Conn, s string, tables []bookTable) error {
	if s != "" {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", s).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := conn.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+d.quote(s)+" CHARACTER SET utf8mb4"); err != nil {
				return fmt.Errorf("create database %s: %w", displayIdent(s), err)
			}
		}
	}
	_, err := ensureBook(ctx, d, conn, tables, false)
	return err
}

// isMySQLDuplicate reports whether err says a table, column or index exists
// already (created by a concurrent run: MySQL DDL is not transactional).
func isMySQLDuplicate(err error) bool {
	return dberr.Classify(err) == dberr.Duplicate
}

// markJSON gives MariaDB's JSON columns, which its catalog calls longtext
// (with a json_valid check), the type json: a change of the source's type
// from JSON to text then widens them, dropping the check, instead of
// failing on it.
func (d *mysqlDialect) markJSON(ctx context.Context, q querier, schema string, ti *tableInfo) error {
	rows, err := q.QueryContext(ctx, `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, schema, ti.name)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var clause string
		if err := rows.Scan(&clause); err != nil {
			return err
		}
		for i, c := range ti.cols {
			if ti.types[i] == "longtext" && strings.EqualFold(strings.TrimSpace(clause), "json_valid("+d.quote(c)+")") {
				ti.types[i] = "json"
			}
		}
	}
	return rows.Err()
}

func (d *mysqlDialect) describe(ctx context.Context, q querier, n Name) (tableInfo, error) {
	var ti tableInfo
	s := n.Schema
	if s == "" {
		var err error
		if s, err = d.defaultSchema(ctx, q); err != nil {
			return ti, err
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, s, n.Table)
	if err != nil {
		return ti, fmt.Errorf("describe %s: %w", n, err)
	}
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&ti.name, &c, &typ); err != nil {
			rows.Close()
			return ti, err
		}
		ti.cols = append(ti.cols, c)
		ti.types = append(ti.types, strings.ToLower(typ))
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ti.cols) == 0 {
		return ti, err
	}
	ti.exists = true
	if d.mariadb {
		if err := d.markJSON(ctx, q, s, &ti); err != nil {
			return ti, fmt.Errorf("describe %s: %w", n, err)
		}
	}
	rows, err = q.QueryContext(ctx, `SELECT INDEX_NAME, COLUMN_NAME, SEQ_IN_INDEX FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`, s, ti.name)
	if err != nil {
		return ti, fmt.Errorf("describe %s: %w", n, err)
	}
	defer rows.Close()
	ti.indexed = map[string]bool{}
	for rows.Next() {
		var index, c string
		var seq int
		if err := rows.Scan(&index, &c, &seq); err != nil {
			return ti, err
		}
		if index == "PRIMARY" {
			ti.key = append(ti.key, c)
		}
		if seq == 1 {
			ti.indexed[strings.ToLower(c)] = true
		}
	}
	return ti, rows.Err()
}

// mysqlLockName is the GET_LOCK name of a table (at most 64 characters).
func mysqlLockName(n Name) string {
	h := sha256.Sum256([]byte(lockKey(n)))
	return "planner_replicate:" + hex.EncodeToString(h[:16])
}

// lockAndBegin takes a named lock (GET_LOCK) on the session; the data
// transaction begins in startData, after DDL, which MySQL commits implicitly.
func (d *mysqlDialect) lockAndBegin(ctx context.Context, conn *sql.Conn, n Name, timeout time.Duration) (txn, error) {
	name := mysqlLockName(n)
	secs := timeout.Seconds() // MariaDB honours fractions
	if !d.mariadb {
		secs = math.Ceil(secs) // MySQL waits whole seconds
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, secs).Scan(&got); err != nil {
		return nil, err
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, &LockedError{Table: n.String(), Holder: mysqlHolder(ctx, conn, name), Waited: timeout}
	}
	t := &mysqlTxn{conn: conn, lock: name}
	// Metadata locks another session holds on the table (LOCK TABLES, a
	// long transaction) are waited for up to the table lock timeout, not
	// lock_wait_timeout's default of a year; restored on release.
	if timeout > 0 {
		var prev int64
		if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.lock_wait_timeout").Scan(&prev); err == nil && prev > int64(math.Ceil(timeout.Seconds())) {
			if _, err := conn.ExecContext(ctx, "SET SESSION lock_wait_timeout = ?", int64(max(1, math.Ceil(timeout.Seconds())))); err == nil {
				t.prevWait = prev
			}
		}
	}
	return t, nil
}

// mysqlHolder describes the connection holding a named lock, or "".
func mysqlHolder(ctx context.Context, conn *sql.Conn, name string) string {
	var id sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", name).Scan(&id); err != nil || !id.Valid {
		return ""
	}
	s := fmt.Sprintf("MySQL connection %d", id.Int64)
	var user, host sql.NullString
	if conn.QueryRowContext(ctx, "SELECT USER, HOST FROM information_schema.PROCESSLIST WHERE ID = ?", id.Int64).Scan(&user, &host) == nil {
		s += fmt.Sprintf(", %s@%s", user.String, host.String)
	}
	return s
}

// mysqlTxn holds a GET_LOCK lock and, after startData, a transaction.
type mysqlTxn struct {
	conn     *sql.Conn
	lock     string
	tx       *sql.Tx
	done     bool
	prevWait int64 // the session's lock_wait_timeout to restore, or 0
}

func (t *mysqlTxn) q() querier {
	if t.tx != nil {
		return t.tx
	}
	return t.conn
}

func (t *mysqlTxn) startData(ctx context.Context) error {
	tx, err := t.conn.BeginTx(ctx, nil)
	t.tx = tx
	return err
}

func (t *mysqlTxn) release() {
	if !t.done {
		t.done = true
		t.conn.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", t.lock) //nolint:errcheck // the lock also ends with the session
		if t.prevWait > 0 {
			t.conn.ExecContext(context.Background(), "SET SESSION lock_wait_timeout = ?", t.prevWait) //nolint:errcheck // best effort
		}
	}
}

func (t *mysqlTxn) commit(context.Context) error {
	defer t.release()
	if t.tx == nil {
		return nil
	}
	return t.tx.Commit()
}

func (t *mysqlTxn) rollback() error {
	defer t.release()
	if t.tx == nil {
		return nil
	}
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

// indexable: MySQL indexes TEXT and BLOB columns only by a prefix, and
// JSON not at all.
func (*mysqlDialect) indexable(sqlType string) bool {
	t := strings.ToLower(sqlType)
	return !strings.Contains(t, "text") && !strings.Contains(t, "blob") && !strings.HasPrefix(t, "json")
}

func (*mysqlDialect) narrower(have, want string) bool { return narrowerType(have, want, true) }

func (d *mysqlDialect) createIndexSQL(n Name, index, col string) string {
	return fmt.Sprintf("CREATE INDEX %s ON %s (%s)", d.quote(index), qualify(d, n), d.quote(col))
}

func (d *mysqlDialect) alterTypes(ctx context.Context, q querier, _ Name, table string, cols []ddlColumn, defs []string) error {
	clauses := make([]string, len(cols))
	for i, c := range cols {
		clauses[i] = "MODIFY COLUMN " + d.quote(c.name) + " " + defs[i]
	}
	_, err := q.ExecContext(ctx, "ALTER TABLE "+table+" "+strings.Join(clauses, ", "))
	return err
}
