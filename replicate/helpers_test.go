package replicate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"modernc.org/sqlite"

	"github.com/plannersql/planner/replicate/internal/desturl"
	"github.com/plannersql/planner/schema"
)

// openDest opens a destination URL for replicate's own tests, as
// dest.Open does for users (package dest imports replicate, so replicate's
// internal tests cannot import it).
func openDest(ctx context.Context, rawURL string) (*sql.DB, error) {
	t, err := desturl.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(t.Driver, t.DSN)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ---- a hookable SQLite source driver --------------------------------------

// hooks make a source query misbehave after a number of rows: fail with err,
// or call onBlock and then block until release is closed (or forever).
type hooks struct {
	match   string // only queries containing this text are hooked
	after   int
	err     error
	onBlock func()
	release <-chan struct{}
	opens   atomic.Int64 // connections opened
	queries atomic.Int64 // queries run
}

var (
	hooksMu  sync.Mutex
	hooksReg = map[string]*hooks{}
)

// hookedDriverName is a database/sql driver wrapping modernc's; its DSN is
// "<hooks id>|<sqlite dsn>".
const hookedDriverName = "replicate-test-sqlite"

func init() { sql.Register(hookedDriverName, hookedDriver{}) }

type hookedDriver struct{}

func (hookedDriver) Open(name string) (driver.Conn, error) {
	id, dsn, _ := strings.Cut(name, "|")
	c, err := (&sqlite.Driver{}).Open(dsn)
	if err != nil {
		return nil, err
	}
	hooksMu.Lock()
	h := hooksReg[id]
	hooksMu.Unlock()
	if h != nil {
		h.opens.Add(1)
	}
	return &hookedConn{Conn: c, h: h}, nil
}

type hookedConn struct {
	driver.Conn
	h *hooks
}

func (c *hookedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.h != nil {
		c.h.queries.Add(1)
	}
	rows, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	if err != nil || c.h == nil || !strings.Contains(query, c.h.match) {
		return rows, err
	}
	return &hookedRows{Rows: rows, h: c.h}, nil
}

type hookedRows struct {
	driver.Rows
	h *hooks
	n int
}

func (r *hookedRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *hookedRows) Next(dest []driver.Value) error {
	if r.n == r.h.after {
		if r.h.err != nil {
			return r.h.err
		}
		if r.h.onBlock != nil {
			r.h.onBlock()
		}
		if r.h.release == nil {
			select {} // until the process is killed
		}
		<-r.h.release
	}
	r.n++
	return r.Rows.Next(dest)
}

// openHooked opens a SQLite file through the hooked driver.
func openHooked(t testing.TB, path string, h *hooks) *sql.DB {
	t.Helper()
	id := randSuffix()
	hooksMu.Lock()
	hooksReg[id] = h
	hooksMu.Unlock()
	db, err := sql.Open(hookedDriverName, id+"|"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ---- destinations ---------------------------------------------------------

func randSuffix() string {
	b := make([]byte, 5)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// needServer skips (or, under CI=true, fails) a test whose server is unreachable.
func needServer(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("%s unreachable: %v", what, err)
}

func pgBaseURL() string {
	if u := os.Getenv("PLANNER_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// withQuery adds query parameters to a URL.
func withQuery(base string, kv ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	for i := 0; i < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// pgAdmin opens the test server's database, or skips.
func pgAdmin(t testing.TB) *sql.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := openDest(ctx, withQuery(pgBaseURL(), "connect_timeout", "3"))
	if err != nil {
		needServer(t, "PostgreSQL", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// pgSchema creates a schema dropped at cleanup.
func pgSchema(t testing.TB, admin *sql.DB, name string) {
	t.Helper()
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA IF EXISTS "` + strings.ReplaceAll(name, `"`, `""`) + `" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
}

// pgDest returns a destination whose default schema is a fresh one, and its URL.
func pgDest(t testing.TB) (*sql.DB, string) {
	t.Helper()
	admin := pgAdmin(t)
	s := "rt_" + randSuffix()
	if _, err := admin.Exec(`CREATE SCHEMA "` + s + `"`); err != nil {
		t.Fatal(err)
	}
	pgSchema(t, admin, s)
	u := withQuery(pgBaseURL(), "search_path", s)
	db, err := openDest(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

func mysqlBaseConfig(t testing.TB) *mysql.Config {
	t.Helper()
	base := os.Getenv("PLANNER_TEST_MYSQL")
	if base == "" {
		base = "root@tcp(127.0.0.1:3306)/test"
	}
	if strings.HasPrefix(base, "mysql://") {
		tg, err := desturl.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		base = tg.DSN
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ParseTime, cfg.Loc, cfg.Timeout = true, time.UTC, 3*time.Second
	return cfg
}

// mysqlAdmin opens the test server, or skips.
func mysqlAdmin(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", mysqlBaseConfig(t).FormatDSN())
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		needServer(t, "MySQL/MariaDB", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mysqlDatabase creates a database dropped at cleanup.
func mysqlDatabase(t testing.TB, admin *sql.DB, name string) {
	t.Helper()
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS `" + strings.ReplaceAll(name, "`", "``") + "`"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
}

// mysqlDest returns a destination using a fresh database, and its DSN.
func mysqlDest(t testing.TB) (*sql.DB, string) {
	t.Helper()
	admin := mysqlAdmin(t)
	name := "rt_" + randSuffix()
	if _, err := admin.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4"); err != nil {
		t.Fatal(err)
	}
	mysqlDatabase(t, admin, name)
	cfg := mysqlBaseConfig(t)
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, cfg.FormatDSN()
}

// sqliteDest returns a fresh SQLite destination file and its path.
func sqliteDest(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dest.db")
	db, err := openDest(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// destCase is a destination kind to run a test against.
type destCase struct {
	name string
	open func(t testing.TB) *sql.DB
}

var destCases = []destCase{
	{"sqlite", func(t testing.TB) *sql.DB { db, _ := sqliteDest(t); return db }},
	{"postgres", func(t testing.TB) *sql.DB { db, _ := pgDest(t); return db }},
	{"mysql", func(t testing.TB) *sql.DB { db, _ := mysqlDest(t); return db }},
}

// forEachDest runs f once per destination kind, as parallel subtests.
func forEachDest(t *testing.T, f func(t *testing.T, kind string, dst *sql.DB)) {
	for _, dc := range destCases {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			f(t, dc.name, dc.open(t))
		})
	}
}

// ---- sources --------------------------------------------------------------

// tasksDDL is a Tasks-shaped source table with every planner column type.
const tasksDDL = `CREATE TABLE Tasks (
	TaskId TEXT PRIMARY KEY, PlanId TEXT, BucketId TEXT, Title TEXT,
	PercentComplete INTEGER, Priority INTEGER, DueDateTime DATETIME, CreatedDateTime DATETIME,
	HasDescription BOOLEAN, Assignments JSON, AppliedCategories JSON, ETag TEXT)`

// sourceDB creates a SQLite source file and returns it and its path.
func sourceDB(t testing.TB, stmts ...string) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "source.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return db, path
}

func mustExec(t testing.TB, db interface {
	Exec(string, ...any) (sql.Result, error)
}, stmt string, args ...any) {
	t.Helper()
	if _, err := db.Exec(stmt, args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// taskRow returns a deterministic task row (12 values for tasksDDL).
func taskRow(i int) []any {
	return []any{
		fmt.Sprintf("task-%04d-%s", i, strings.Repeat("x", 18)),
		fmt.Sprintf("plan-%d", i%7), fmt.Sprintf("bucket-%d", i%13),
		fmt.Sprintf("Task %d: “quotes” 'single' — émoji 🎉", i),
		int64(i % 101), int64(i % 11),
		fmt.Sprintf("2026-%02d-%02dT17:43:36.%07dZ", 1+i%12, 1+i%28, i*7919%10000000),
		"2026-01-02T03:04:05Z",
		int64(i % 2),
		fmt.Sprintf(`{"user-%d":{"@odata.type":"#microsoft.graph.plannerAssignment","orderHint":" !","assignedDateTime":"2026-01-02T03:04:05.1234567Z"}}`, i),
		fmt.Sprintf(`{"category%d":true}`, 1+i%25),
		fmt.Sprintf(`W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc=%d"`, i),
	}
}

// fillTasks creates Tasks with n rows.
func fillTasks(t testing.TB, db *sql.DB, from, to int) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.Prepare("INSERT INTO Tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < to; i++ {
		if _, err := st.Exec(taskRow(i)...); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// plannerLikeSource creates a SQLite source shaped like the planner driver:
// every schema table (declared types, no primary keys) and the sys_tables /
// sys_columns catalog, so keys can only come from the catalog.
func plannerLikeSource(t testing.TB) (*sql.DB, string) {
	t.Helper()
	var stmts []string
	for _, tb := range schema.All() {
		var cols []string
		for _, c := range tb.Columns {
			cols = append(cols, schema.QuoteIdent(c.Name)+" "+string(c.Type))
		}
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s (%s)", schema.QuoteIdent(tb.Name), strings.Join(cols, ", ")))
	}
	db, path := sourceDB(t, stmts...)
	for _, tb := range schema.All() {
		mustExec(t, db, "INSERT INTO sys_tables VALUES (?, ?, ?)", tb.Name, tb.Description, tb.Updatable())
		for _, c := range tb.Columns {
			mustExec(t, db, "INSERT INTO sys_columns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				tb.Name, c.Name, string(c.Type), tb.IsKey(c.Name), c.Nullable, c.Writable(), c.Pushdown, c.Description)
		}
	}
	return db, path
}

// ---- comparing both sides -------------------------------------------------

// canon renders a value of a column type the way every destination must
// agree on: times in UTC (microseconds for PostgreSQL and MySQL), JSON
// re-encoded with sorted keys, booleans and integers as numbers.
func canon(t testing.TB, v any, typ schema.Type, kind string) string {
	t.Helper()
	if v == nil {
		return "NULL"
	}
	switch typ {
	case schema.DateTime:
		tm, err := asTime(v)
		if err != nil {
			t.Fatalf("canon %v: %v", v, err)
		}
		if kind != "sqlite" {
			tm = tm.Truncate(time.Microsecond)
		}
		return tm.Format(time.RFC3339Nano)
	case schema.JSON:
		var x any
		if err := json.Unmarshal([]byte(asString(v)), &x); err != nil {
			t.Fatalf("canon JSON %v: %v", v, err)
		}
		b, _ := json.Marshal(x)
		return string(b)
	case schema.Boolean:
		b, err := asBool(v)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(b)
	case schema.Integer:
		n, err := asInt64(v)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(n)
	}
	return asString(v)
}

// readCanon reads a query's rows as canonical strings, sorted.
func readCanon(t testing.TB, db *sql.DB, kind, query string, types []schema.Type, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(types))
		for i, v := range vals {
			row[i] = canon(t, v, types[i], kind)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i], "\x00") < strings.Join(out[j], "\x00") })
	return out
}

// tasksTypes are the column types of tasksDDL.
var tasksTypes = []schema.Type{schema.Text, schema.Text, schema.Text, schema.Text, schema.Integer, schema.Integer,
	schema.DateTime, schema.DateTime, schema.Boolean, schema.JSON, schema.JSON, schema.Text}

const tasksCols = "TaskId, PlanId, BucketId, Title, PercentComplete, Priority, DueDateTime, CreatedDateTime, HasDescription, Assignments, AppliedCategories, ETag"

// quoteFor quotes an identifier for a destination kind.
func quoteFor(kind, s string) string {
	if kind == "mysql" {
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// colsFor quotes a comma-separated column list.
func colsFor(kind, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = quoteFor(kind, strings.TrimSpace(p))
	}
	return strings.Join(parts, ", ")
}

// assertSame checks that the destination table holds exactly the source's rows.
func assertSame(t testing.TB, src, dst *sql.DB, kind, table, where string, args ...any) {
	t.Helper()
	assertSameIn(t, src, dst, kind, quoteFor(kind, table), where, args...)
}

// assertSameIn is assertSame with a quoted (possibly qualified) table.
func assertSameIn(t testing.TB, src, dst *sql.DB, kind, table, where string, args ...any) {
	t.Helper()
	want := readCanon(t, src, kind, "SELECT "+tasksCols+" FROM Tasks", tasksTypes)
	q := "SELECT " + colsFor(kind, tasksCols) + " FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	got := readCanon(t, dst, kind, q, tasksTypes, args...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("destination %s differs from the source (-source +destination):\n%s", table, diff)
	}
}

// run runs a script and fails the test on a whole-run error (no results).
// It checks the error's contract: nil exactly when every table was copied,
// and joining every table's error otherwise.
func run(t testing.TB, src, dst *sql.DB, script string, opts Options) []Result {
	t.Helper()
	res, err := Run(context.Background(), src, dst, script, opts)
	if res == nil && err != nil {
		t.Fatalf("Run(%q): %v", script, err)
	}
	failed := false
	for _, r := range res {
		if r.Err != nil {
			failed = true
			if !errors.Is(err, r.Err) {
				t.Fatalf("Run(%q): the error (%v) does not join the error of table %s (%v)", script, err, r.Table, r.Err)
			}
		}
	}
	if failed != (err != nil) {
		t.Fatalf("Run(%q): error %v, but a table failed: %v", script, err, failed)
	}
	return res
}

// runOK runs a one-table script and fails the test unless it succeeded.
func runOK(t testing.TB, src, dst *sql.DB, script string, opts Options) Result {
	t.Helper()
	res := run(t, src, dst, script, opts)
	if len(res) != 1 {
		t.Fatalf("Run(%q): %d results, want 1", script, len(res))
	}
	if res[0].Err != nil {
		t.Fatalf("Run(%q): %v", script, res[0].Err)
	}
	return res[0]
}

// counts summarises a result's counts.
type counts struct{ Inserted, Updated, Deleted, Unchanged int64 }

func countsOf(r Result) counts { return counts{r.Inserted, r.Updated, r.Deleted, r.Unchanged} }

func wantCounts(t testing.TB, r Result, want counts) {
	t.Helper()
	if got := countsOf(r); got != want {
		t.Fatalf("%s: counts %+v, want %+v", r.Table, got, want)
	}
}

func scalar[T any](t testing.TB, db *sql.DB, q string, args ...any) T {
	t.Helper()
	var v T
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}
