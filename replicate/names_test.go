package replicate

import (
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plannersql/planner/schema"
)

// hostileColumns have quotes of every kind, separators and unicode.
var hostileColumns = []struct {
	name string
	typ  schema.Type
}{
	{`Id'"`, schema.Text},
	{"a;b --", schema.Integer},
	{"c`d", schema.DateTime},
	{"x.y [z]", schema.JSON},
	{"ü ☃", schema.Boolean},
}

const hostileTable = "t.a \"b\" `c`; ü ☃"

// hostileSource creates a source table with hostile names.
func hostileSource(t testing.TB) *sql.DB {
	t.Helper()
	var defs []string
	for i, c := range hostileColumns {
		def := schema.QuoteIdent(c.name) + " " + string(c.typ)
		if i == 0 {
			def += " PRIMARY KEY"
		}
		defs = append(defs, def)
	}
	src, _ := sourceDB(t, "CREATE TABLE "+schema.QuoteIdent(hostileTable)+" ("+strings.Join(defs, ", ")+")")
	ins := "INSERT INTO " + schema.QuoteIdent(hostileTable) + " VALUES (?, ?, ?, ?, ?)"
	mustExec(t, src, ins, `o'ne"`, 1, "2026-01-01T00:00:00.5Z", `{"k;":"v'\""}`, 1)
	mustExec(t, src, ins, "two `2`", nil, nil, "[]", 0)
	return src
}

// readHostile reads the hostile table's rows from a database.
func readHostile(t testing.TB, db *sql.DB, kind, table string) [][]string {
	t.Helper()
	var cols []string
	var types []schema.Type
	for _, c := range hostileColumns {
		cols = append(cols, quoteFor(kind, c.name))
		types = append(types, c.typ)
	}
	return readCanon(t, db, kind, "SELECT "+strings.Join(cols, ", ")+" FROM "+table, types)
}

// sqlQuote quotes an identifier the way the REPLICATE grammar reads it.
func sqlQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func TestHostileIdentifiers(t *testing.T) {
	t.Parallel()
	for _, dc := range destCases {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			kind := dc.name
			dst := dc.open(t)
			src := hostileSource(t)
			sch := "s;c\"h `x` ü " + randSuffix()
			switch kind {
			case "postgres":
				pgSchema(t, pgAdmin(t), sch)
			case "mysql":
				mysqlDatabase(t, mysqlAdmin(t), sch)
			}
			script := "REPLICATE " + sqlQuote(sch) + "." + sqlQuote(hostileTable) + " WITH SourceName='it''s', SoftDelete, Key='" +
				strings.ReplaceAll(sqlQuote(hostileColumns[0].name), "'", "''") + "'"
			r := runOK(t, src, dst, script, Options{HistoryTable: "hist `\"; x"})
			wantCounts(t, r, counts{Inserted: 2})
			r = runOK(t, src, dst, script, Options{HistoryTable: "hist `\"; x"})
			wantCounts(t, r, counts{Unchanged: 2})
			want := readHostile(t, src, kind, schema.QuoteIdent(hostileTable))
			table := quoteFor(kind, sch) + "." + quoteFor(kind, hostileTable)
			if kind == "sqlite" {
				// Read the attached file directly: it is a plain SQLite database.
				db, err := sql.Open("sqlite", schemaFile(mainFile(t, dst), sch))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				dst, table = db, quoteFor(kind, hostileTable)
			}
			if diff := cmp.Diff(want, readHostile(t, dst, kind, table)); diff != "" {
				t.Fatalf("hostile table differs (-source +destination):\n%s", diff)
			}
		})
	}
}

// mainFile returns a SQLite destination's main file.
func mainFile(t testing.TB, db *sql.DB) string {
	t.Helper()
	return scalar[string](t, db, "SELECT file FROM pragma_database_list WHERE name = 'main'")
}

// TestSchemaDestinations checks REPLICATE schema.Table in each database: the
// schema (or database, or attached file) is created, bookkeeping lives next
// to the table, and no table of that name appears in the default schema.
func TestSchemaDestinations(t *testing.T) {
	t.Parallel()
	for _, dc := range destCases {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			kind := dc.name
			dst := dc.open(t)
			src, _ := sourceDB(t, tasksDDL)
			fillTasks(t, src, 0, 12)
			sch := "PROD"
			switch kind {
			case "postgres":
				sch = "PROD_" + randSuffix()
				pgSchema(t, pgAdmin(t), sch)
			case "mysql":
				sch = "PROD_" + randSuffix()
				mysqlDatabase(t, mysqlAdmin(t), sch)
			}
			for _, script := range []string{"REPLICATE " + sch + ".Tasks SELECT * FROM Tasks", "REPLICATE " + sch + ".Tasks"} {
				r := runOK(t, src, dst, script, Options{})
				if r.Table != sch+".Tasks" {
					t.Fatalf("Result.Table = %q", r.Table)
				}
			}
			// Options.Schema and TablePrefix apply to REPLICATE Tasks.
			r := runOK(t, src, dst, "REPLICATE Tasks", Options{Schema: sch, TablePrefix: "P_"})
			if r.Table != sch+".P_Tasks" {
				t.Fatalf("Result.Table = %q, want %s.P_Tasks", r.Table, sch)
			}
			wantCounts(t, r, counts{Inserted: 12})
			// An explicit destination before a SELECT is used as written.
			r = runOK(t, src, dst, "REPLICATE Mine SELECT * FROM Tasks", Options{Schema: sch, TablePrefix: "P_"})
			if r.Table != sch+".Mine" {
				t.Fatalf("Result.Table = %q, want %s.Mine", r.Table, sch)
			}

			db, prefix := dst, quoteFor(kind, sch)+"."
			if kind == "sqlite" {
				file := schemaFile(mainFile(t, dst), sch)
				if _, err := os.Stat(file); err != nil {
					t.Fatalf("schema file: %v", err)
				}
				var err error
				if db, err = sql.Open("sqlite", file); err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				prefix = ""
				if n := scalar[int](t, dst, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%Tasks%'"); n != 0 {
					t.Fatal("a Tasks table appeared in the main database")
				}
				if n := scalar[int](t, dst, "SELECT COUNT(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp')"); n != 0 {
					t.Fatalf("the run left %d databases attached to a pooled connection", n)
				}
			}
			assertSameIn(t, src, db, kind, prefix+quoteFor(kind, "Tasks"), "")
			got := scalar[int](t, db, "SELECT COUNT(*) FROM "+prefix+quoteFor(kind, "planner_replicate_history"))
			if got != 4 {
				t.Fatalf("%d history rows in the schema, want 4", got)
			}
			var def string
			switch kind {
			case "postgres":
				def = scalar[string](t, dst, "SELECT current_schema()")
				if n := scalar[int](t, dst, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE '%Tasks'", def); n != 0 {
					t.Fatal("a Tasks table appeared in the default schema")
				}
			case "mysql":
				if n := scalar[int](t, dst, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE '%Tasks'"); n != 0 {
					t.Fatal("a Tasks table appeared in the default database")
				}
			}
		})
	}
}

// TestSchemaErrors covers schema destinations SQLite refuses.
func TestSchemaErrors(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	mem, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	res := run(t, src, mem, "REPLICATE PROD.Tasks", Options{})
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "file-backed") {
		t.Fatalf("schema on an in-memory destination: %v", res[0].Err)
	}
	dst, _ := sqliteDest(t)
	res = run(t, src, dst, "REPLICATE temp.Tasks", Options{})
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "temp") {
		t.Fatalf("temp schema: %v", res[0].Err)
	}
	pg := &postgresDialect{}
	long := strings.Repeat("x", 64)
	if err := pg.checkIdent(long); err == nil {
		t.Fatal("a 64-byte PostgreSQL name was accepted")
	}
}
