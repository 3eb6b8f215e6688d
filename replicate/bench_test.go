package replicate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/schema"
)

// benchRows is the size of the benchmark tables.
const benchRows = 100_000

// graphID returns a 28-character Graph-like id.
func graphID(kind string, i int) string {
	var b [21]byte
	copy(b[:], kind)
	binary.BigEndian.PutUint64(b[13:], uint64(i)*2654435761)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// benchTask returns a realistic row of the planner's Tasks table (23 columns,
// about 700 bytes), in schema column order.
func benchTask(i, version int) []any {
	r := rand.New(rand.NewPCG(uint64(i), uint64(version)))
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(500 * 24 * time.Hour))))
	ts := func(t time.Time) string { return t.Format("2006-01-02T15:04:05.0000000Z") }
	user := func() string {
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
	}
	pct := []int64{0, 50, 100}[r.IntN(3)]
	var completed, completedBy any
	if pct == 100 {
		completed, completedBy = ts(created.Add(72*time.Hour)), user()
	}
	var start any
	if r.IntN(2) == 0 {
		start = ts(created.Add(24 * time.Hour))
	}
	assignee := user()
	return []any{
		graphID("task", i), graphID("plan", i%100), graphID("bucket", i%700),
		fmt.Sprintf("Prepare the quarterly review #%d (v%d) — “draft”", i, version),
		"8585269235419217847", " !", pct, int64(r.IntN(11)),
		start, ts(created.Add(14 * 24 * time.Hour)), ts(created), completed,
		user(), completedBy, int64(r.IntN(2)), "automatic",
		int64(r.IntN(3)), int64(r.IntN(20)), int64(r.IntN(5)), nil,
		fmt.Sprintf(`{"%s":{"@odata.type":"#microsoft.graph.plannerAssignment","assignedBy":{"user":{"id":"%s"}},"assignedDateTime":"%s","orderHint":"8585269235419217847"}}`, assignee, user(), ts(created)),
		fmt.Sprintf(`{"category%d":true}`, 1+r.IntN(25)),
		fmt.Sprintf(`W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBA%dWCc="`, version),
	}
}

// benchSource creates a SQLite source with the planner's Tasks table (its
// declared types) holding n rows.
func benchSource(b *testing.B, n int) (*sql.DB, string) {
	b.Helper()
	tb := schema.Lookup("Tasks")
	var cols []string
	for _, c := range tb.Columns {
		def := schema.QuoteIdent(c.Name) + " " + string(c.Type)
		if c.Key {
			def += " PRIMARY KEY"
		}
		cols = append(cols, def)
	}
	db, path := sourceDB(b, "CREATE TABLE Tasks ("+strings.Join(cols, ", ")+")")
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.Prepare("INSERT INTO Tasks VALUES (" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")")
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := st.Exec(benchTask(i, 0)...); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return db, path
}

// memTask converts a benchTask row to what a driver returns for the planner's
// declared types: DATETIME as time.Time (as modernc.org/sqlite, and so the
// planner driver, returns it).
func memTask(i, version int) []driver.Value {
	row := benchTask(i, version)
	out := make([]driver.Value, len(row))
	for j, c := range schema.Lookup("Tasks").Columns {
		out[j] = row[j]
		if s, ok := row[j].(string); ok && c.Type == schema.DateTime {
			out[j], _ = time.Parse(time.RFC3339Nano, s)
		}
	}
	return out
}

// benchMemSource creates an in-memory source with n Tasks rows.
func benchMemSource(b *testing.B, n int) (*sql.DB, *memTable) {
	b.Helper()
	tbl := &memTable{}
	for _, c := range schema.Lookup("Tasks").Columns {
		tbl.cols = append(tbl.cols, c.Name)
		tbl.types = append(tbl.types, string(c.Type))
	}
	for i := range n {
		tbl.rows = append(tbl.rows, memTask(i, 0))
	}
	return openMem(b, tbl), tbl
}

// benchSources are the sources the benchmarks read: a SQLite file (what a
// database source costs) and an in-memory driver (replicate's own cost).
var benchSources = []string{"sqlite", "memory"}

func openBenchSource(b *testing.B, kind string) (*sql.DB, func(i, version int) error) {
	b.Helper()
	if kind == "memory" {
		db, tbl := benchMemSource(b, benchRows)
		return db, func(i, version int) error {
			tbl.mu.Lock() // no run reads the table while it changes
			defer tbl.mu.Unlock()
			tbl.rows[i] = memTask(i, version)
			return nil
		}
	}
	db, _ := benchSource(b, benchRows)
	cols := schema.Lookup("Tasks").ColumnNames()
	var set []string
	for _, c := range cols[1:] {
		set = append(set, schema.QuoteIdent(c)+" = ?")
	}
	upd := "UPDATE Tasks SET " + strings.Join(set, ", ") + " WHERE TaskId = ?"
	return db, func(i, version int) error {
		row := benchTask(i, version)
		_, err := db.Exec(upd, append(row[1:], row[0])...)
		return err
	}
}

// benchScript names the key so that the in-memory source needs no catalog.
const benchScript = "REPLICATE Tasks WITH Key='TaskId'"

// baselineCopy is the plain copy replicate is measured against: read the
// source and insert each row with one prepared statement in one transaction,
// into a table with the same DDL replicate creates.
func baselineCopy(b *testing.B, src, dst *sql.DB, d dialect) time.Duration {
	b.Helper()
	ctx := context.Background()
	tb := schema.Lookup("Tasks")
	var ddl []ddlColumn
	for _, c := range tb.Columns {
		ddl = append(ddl, ddlColumn{name: c.Name, typ: c.Type, key: c.Key})
	}
	table := qualify(d, Name{Table: "Baseline"})
	if _, err := dst.Exec(createTableSQL(d, table, ddl)); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	rows, err := src.QueryContext(ctx, "SELECT * FROM Tasks")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	tx, err := dst.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	st, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%s)", table, placeholders(d, 1, len(ddl))))
	if err != nil {
		b.Fatal(err)
	}
	vals := make([]any, len(ddl))
	ptrs := make([]any, len(ddl))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		for i, v := range vals {
			// The same conversions replicate makes (RFC 3339 text for
			// SQLite, bool for PostgreSQL booleans...).
			if vals[i], err = d.bind(v, ddl[i].typ); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.ExecContext(ctx, vals...); err != nil {
			b.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkSQLiteFull copies 100,000 Tasks rows into a new SQLite table with
// REPLICATE and, side by side, with the plain prepared-insert loop.
func BenchmarkSQLiteFull(b *testing.B) {
	for _, srcKind := range benchSources {
		b.Run("source="+srcKind, func(b *testing.B) {
			src, _ := openBenchSource(b, srcKind)
			var repl, base time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				dir := b.TempDir()
				dstBase, err := openDest(context.Background(), filepath.Join(dir, fmt.Sprintf("base%d.db", i)))
				if err != nil {
					b.Fatal(err)
				}
				dstRepl, err := openDest(context.Background(), filepath.Join(dir, fmt.Sprintf("repl%d.db", i)))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				base += baselineCopy(b, src, dstBase, &sqliteDialect{})
				start := time.Now()
				res, err := Run(context.Background(), src, dstRepl, benchScript, Options{})
				repl += time.Since(start)
				if err != nil || res[0].Err != nil || res[0].Inserted != benchRows {
					b.Fatalf("%v %+v", err, res)
				}
				dstBase.Close()
				dstRepl.Close()
			}
			n := float64(b.N * benchRows)
			b.ReportMetric(n/repl.Seconds(), "rows/s")
			b.ReportMetric(n/base.Seconds(), "baseline-rows/s")
			b.ReportMetric(100*base.Seconds()/repl.Seconds(), "%-of-baseline")
		})
	}
}

// BenchmarkSQLiteIncremental changes 1% of 100,000 rows between runs and
// compares an incremental run with the first, full run.
func BenchmarkSQLiteIncremental(b *testing.B) {
	for _, srcKind := range benchSources {
		b.Run("source="+srcKind, func(b *testing.B) {
			src, change := openBenchSource(b, srcKind)
			dst, err := openDest(context.Background(), filepath.Join(b.TempDir(), "dst.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer dst.Close()
			benchIncremental(b, src, dst, change)
		})
	}
}

// benchIncremental times a full run, then b.N incremental runs, each after
// changing 1% of the rows.
func benchIncremental(b *testing.B, src, dst *sql.DB, change func(i, version int) error) {
	start := time.Now()
	res, err := Run(context.Background(), src, dst, benchScript, Options{})
	full := time.Since(start)
	if err != nil || res[0].Err != nil {
		b.Fatalf("%v %+v", err, res)
	}
	const changed = benchRows / 100
	var incr time.Duration
	var written int64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range changed {
			if err := change((i*changed+j*97)%benchRows, i+1); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		res, err := Run(context.Background(), src, dst, benchScript, Options{})
		incr += time.Since(start)
		if err != nil || res[0].Err != nil {
			b.Fatalf("%v %+v", err, res)
		}
		if res[0].Updated != changed || res[0].Inserted+res[0].Deleted != 0 {
			b.Fatalf("incremental run wrote %+v, want %d updates", countsOf(res[0]), changed)
		}
		written += res[0].Updated
	}
	b.ReportMetric(float64(written)/float64(b.N), "rows-written/op")
	b.ReportMetric(full.Seconds()*1000, "full-run-ms")
	b.ReportMetric(incr.Seconds()*1000/float64(b.N), "incremental-ms")
	b.ReportMetric(100*incr.Seconds()/float64(b.N)/full.Seconds(), "%-of-full-run")
}

// BenchmarkPostgresFull copies 100,000 Tasks rows into PostgreSQL with
// REPLICATE (multi-row upserts) and, side by side, row at a time.
func BenchmarkPostgresFull(b *testing.B) {
	src, _ := openBenchSource(b, "memory")
	var repl, base time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dst, _ := pgDest(b)
		b.StartTimer()
		base += baselineCopy(b, src, dst, &postgresDialect{})
		start := time.Now()
		res, err := Run(context.Background(), src, dst, benchScript, Options{})
		repl += time.Since(start)
		if err != nil || res[0].Err != nil || res[0].Inserted != benchRows {
			b.Fatalf("%v %+v", err, res)
		}
	}
	n := float64(b.N * benchRows)
	b.ReportMetric(n/repl.Seconds(), "rows/s")
	b.ReportMetric(n/base.Seconds(), "row-at-a-time-rows/s")
	b.ReportMetric(base.Seconds()/repl.Seconds(), "speedup")
}

// BenchmarkPostgresIncremental is BenchmarkSQLiteIncremental into PostgreSQL.
func BenchmarkPostgresIncremental(b *testing.B) {
	src, change := openBenchSource(b, "memory")
	dst, _ := pgDest(b)
	benchIncremental(b, src, dst, change)
}
