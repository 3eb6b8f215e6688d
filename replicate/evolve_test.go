package replicate

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// textValues reads a column as text, ordered by Id, NULL as "NULL".
func textValues(t *testing.T, db *sql.DB, kind, table, col string) []string {
	t.Helper()
	expr := quoteFor(kind, col)
	switch kind {
	case "postgres":
		expr += "::text"
	case "mysql":
		expr = "CAST(" + expr + " AS CHAR)"
	default:
		expr = "CAST(" + expr + " AS TEXT)"
	}
	rows, err := db.Query("SELECT " + expr + " FROM " + quoteFor(kind, table) + " ORDER BY " + quoteFor(kind, "Id"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		if !v.Valid {
			v.String = "NULL"
		}
		out = append(out, v.String)
	}
	return out
}

func hasWarning(r Result, s string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

// TestTypeChanges: a result column whose type changes between runs is
// widened in place when that keeps every value (integer → real → text),
// rows are rewritten with the new values, and later runs are unchanged; a
// change the column cannot take fails the table, naming the column, both
// types and DropTable, and writes nothing.
func TestTypeChanges(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE T (Id INTEGER PRIMARY KEY, P INTEGER)",
			"INSERT INTO T VALUES (1, 16), (2, 50), (3, 100)")
		runOK(t, src, dst, "REPLICATE W SELECT Id, P AS V FROM T", Options{})

		r := runOK(t, src, dst, "REPLICATE W SELECT Id, P / 3.0 + 0.25 AS V FROM T", Options{})
		wantCounts(t, r, counts{Updated: 3})
		if !hasWarning(r, "widened it") {
			t.Errorf("warnings %q do not say the column was widened", r.Warnings)
		}
		got := textValues(t, dst, kind, "W", "V")
		for i, want := range []float64{16/3.0 + 0.25, 50/3.0 + 0.25, 100/3.0 + 0.25} {
			var f float64
			fmt.Sscan(got[i], &f)
			if d := f - want; d > 1e-9 || d < -1e-9 {
				t.Fatalf("row %d: %s, want %v (the real value, not a rounded integer)", i+1, got[i], want)
			}
		}
		wantCounts(t, runOK(t, src, dst, "REPLICATE W SELECT Id, P / 3.0 + 0.25 AS V FROM T", Options{}), counts{Unchanged: 3})

		// Real → text.
		r = runOK(t, src, dst, "REPLICATE W SELECT Id, 'n' || P AS V FROM T", Options{})
		wantCounts(t, r, counts{Updated: 3})
		if got := textValues(t, dst, kind, "W", "V"); strings.Join(got, ",") != "n16,n50,n100" {
			t.Fatalf("text values %v", got)
		}
		// Integers into the text column: kept as text, no change of type.
		r = runOK(t, src, dst, "REPLICATE W SELECT Id, P AS V FROM T", Options{})
		wantCounts(t, r, counts{Updated: 3})
		if got := textValues(t, dst, kind, "W", "V"); strings.Join(got, ",") != "16,50,100" {
			t.Fatalf("integers in a text column: %v", got)
		}
		wantCounts(t, runOK(t, src, dst, "REPLICATE W SELECT Id, P AS V FROM T", Options{}), counts{Unchanged: 3})

		// Bytes cannot go into text: the table fails and keeps its rows.
		res := run(t, src, dst, "REPLICATE W SELECT Id, X'01FF' AS V FROM T", Options{})
		err := res[0].Err
		if err == nil {
			t.Fatal("text → blob was accepted")
		}
		for _, w := range []string{"column V", "BLOB", "WITH DropTable"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
		if got := textValues(t, dst, kind, "W", "V"); strings.Join(got, ",") != "16,50,100" {
			t.Fatalf("after the failure: %v", got)
		}
		// DropTable rebuilds it with the new type.
		runOK(t, src, dst, "REPLICATE W WITH DropTable SELECT Id, X'01FF' AS V FROM T", Options{})
	})
}

// TestColumnDroppedByHand: a column dropped from the destination by hand
// comes back with its values: the state is not trusted for it, every row is
// rewritten, and the warning says the column was missing.
func TestColumnDroppedByHand(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE T (Id INTEGER PRIMARY KEY, P INTEGER, Q TEXT)",
			"INSERT INTO T VALUES (1, 16, 'a'), (2, 50, 'b')")
		// Two source names share the table; the first run after the drop
		// rewrites its rows, and the other source's next run rewrites its own.
		for _, sn := range []string{"a", "b"} {
			runOK(t, src, dst, "REPLICATE T WITH SourceName='"+sn+"'", Options{})
		}
		mustExec(t, dst, "ALTER TABLE "+quoteFor(kind, "T")+" DROP COLUMN "+quoteFor(kind, "P"))
		r := runOK(t, src, dst, "REPLICATE T WITH SourceName='a'", Options{})
		if !hasWarning(r, "column P was missing in the destination") {
			t.Errorf("warnings %q", r.Warnings)
		}
		wantCounts(t, r, counts{Updated: 2})
		wantCounts(t, runOK(t, src, dst, "REPLICATE T WITH SourceName='b'", Options{}), counts{Updated: 2})
		if got := textValues(t, dst, kind, "T", "P"); strings.Join(got, ",") != "16,16,50,50" {
			t.Fatalf("P after the runs: %v", got)
		}
		for _, sn := range []string{"a", "b"} {
			wantCounts(t, runOK(t, src, dst, "REPLICATE T WITH SourceName='"+sn+"'", Options{}), counts{Unchanged: 2})
		}
	})
}

// TestTimesIntoTextColumn: DATETIME values written into an existing text
// column take the source's canonical text form (RFC 3339 UTC, seven
// fractional digits), in every destination.
func TestTimesIntoTextColumn(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE T (Id INTEGER PRIMARY KEY, Note TEXT, D DATETIME)",
			"INSERT INTO T VALUES (1, 'a', '2026-01-02T03:04:05.1234567Z'), (2, 'b', '2026-11-28T17:43:36Z')")
		runOK(t, src, dst, "REPLICATE W SELECT Id, Note AS V FROM T", Options{})
		runOK(t, src, dst, "REPLICATE W SELECT Id, D AS V FROM T", Options{})
		got := textValues(t, dst, kind, "W", "V")
		if strings.Join(got, ",") != "2026-01-02T03:04:05.1234567Z,2026-11-28T17:43:36.0000000Z" {
			t.Fatalf("times in a text column: %v", got)
		}
	})
}

// TestTypeChangeToTextStoredType: where a destination stores the new type
// as text (SQLite keeps DATETIME and JSON as TEXT), an integer column is
// widened to it, as integer → text is, and the times are written in their
// canonical text form; where it does not (PostgreSQL timestamptz and jsonb,
// MySQL DATETIME and JSON), the table fails naming both types.
func TestTypeChangeToTextStoredType(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE T (Id INTEGER PRIMARY KEY, P INTEGER, D DATETIME, J JSON)",
			`INSERT INTO T VALUES (1, 16, '2026-01-02T03:04:05.1234567Z', '{"a":1}')`)
		for _, c := range []struct{ col, typ, want string }{
			{"D", "DATETIME", "2026-01-02T03:04:05.1234567Z"},
			{"J", "JSON", `{"a":1}`},
		} {
			table := "W" + c.col
			runOK(t, src, dst, "REPLICATE "+table+" SELECT Id, P AS V FROM T", Options{})
			res := run(t, src, dst, "REPLICATE "+table+" SELECT Id, "+c.col+" AS V FROM T", Options{})
			if kind != "sqlite" {
				if err := res[0].Err; err == nil || !strings.Contains(err.Error(), "now gives "+c.typ) || !strings.Contains(err.Error(), "WITH DropTable") {
					t.Errorf("%s: %v, want the change refused", c.typ, err)
				}
				continue
			}
			if res[0].Err != nil || !hasWarning(res[0], "widened it") {
				t.Fatalf("%s: %v, warnings %q: want the column widened", c.typ, res[0].Err, res[0].Warnings)
			}
			if got := textValues(t, dst, kind, table, "V"); strings.Join(got, ",") != c.want {
				t.Errorf("%s: %v, want %s", c.typ, got, c.want)
			}
			wantCounts(t, runOK(t, src, dst, "REPLICATE "+table+" SELECT Id, "+c.col+" AS V FROM T", Options{}), counts{Unchanged: 1})
		}
	})
}

// TestTypeChangeOtherSourceNames: when a column's type is widened for one
// source name, the rows of the table's other source names (converted by the
// database: PostgreSQL casts true to 'true' and times to its own text form,
// MySQL times to '2026-01-02 03:04:05.123456') are rewritten by their next
// run in the canonical text form, not kept as unchanged.
func TestTypeChangeOtherSourceNames(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		for _, c := range []struct {
			name, typ string
			v         driver.Value
			want      string
		}{
			{"bool", "BOOLEAN", true, "1"},
			{"time", "DATETIME", time.Date(2026, 1, 2, 3, 4, 5, 123456700, time.UTC), "2026-01-02T03:04:05.1234567Z"},
			{"int", "INTEGER", int64(7), "7"},
		} {
			tbl := &memTable{cols: []string{"Id", "V"}, types: []string{"TEXT", c.typ}, rows: [][]driver.Value{{"k1", c.v}}}
			src := openMem(t, tbl)
			table := "S_" + c.name
			stmt := func(sn string) string {
				return "REPLICATE " + table + " WITH Key='Id', SourceName='" + sn + "' SELECT * FROM x"
			}
			runOK(t, src, dst, stmt("a"), Options{})
			runOK(t, src, dst, stmt("b"), Options{})
			tbl.types[1], tbl.rows[0][1] = "TEXT", "zz"
			runOK(t, src, dst, stmt("a"), Options{})
			tbl.types[1], tbl.rows[0][1] = c.typ, c.v
			runOK(t, src, dst, stmt("b"), Options{})
			got := textValues(t, dst, kind, table, "V")
			slices.Sort(got)
			if want := []string{c.want, "zz"}; !slices.Equal(got, want) {
				t.Errorf("%s: values %q, want %q", c.name, got, want)
			}
			wantCounts(t, runOK(t, src, dst, stmt("b"), Options{}), counts{Unchanged: 1})
		}
	})
}

// TestKeyTypeChange: a key column whose type changes in the source fails
// the table before anything is written, naming the column, both types and
// WITH DropTable, in both directions; it never deletes rows as gone and
// inserts them again, nor leaves the database's raw error.
func TestKeyTypeChange(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		for _, c := range []struct {
			name           string
			from, to       string
			fromV, toV     driver.Value
			haveWord, give string
		}{
			{"IntToText", "INTEGER", "TEXT", int64(1), "abc", "in the destination", "now gives TEXT"},
			{"TextToInt", "TEXT", "INTEGER", "1", int64(1), "in the destination", "now gives INTEGER"},
		} {
			tbl := &memTable{cols: []string{"Id", "V"}, types: []string{c.from, "TEXT"}, rows: [][]driver.Value{{c.fromV, "a"}}}
			src := openMem(t, tbl)
			stmt := "REPLICATE K" + c.name + " WITH Key='Id' SELECT * FROM x"
			runOK(t, src, dst, stmt, Options{})
			tbl.types[0], tbl.rows[0][0] = c.to, c.toV
			res := run(t, src, dst, stmt, Options{})
			err := res[0].Err
			if err == nil {
				t.Errorf("%s: accepted (%+v)", c.name, countsOf(res[0]))
			} else {
				for _, w := range []string{"key column Id", c.haveWord, c.give, "WITH DropTable"} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q does not say %q", c.name, err, w)
					}
				}
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, "K"+c.name)); n != 1 {
				t.Errorf("%s: %d rows after the run, want the one row kept", c.name, n)
			}
			runOK(t, src, dst, "REPLICATE K"+c.name+" WITH Key='Id', DropTable SELECT * FROM x", Options{})
		}
	})
}

// TestColumnTypeChangedByHand: a column whose type was changed by hand
// (the database converted its values: PostgreSQL 'true' and its own
// timestamp text, MySQL '2026-01-02 03:04:05.123456') is not trusted to
// the state: the next run rewrites its rows in the column's new form, and
// the run after is unchanged. SQLite cannot change a column's type.
func TestColumnTypeChangedByHand(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		alter := map[string]string{
			"postgres": "ALTER TABLE %s ALTER COLUMN %s TYPE text",
			"mysql":    "ALTER TABLE %s MODIFY %s MEDIUMTEXT",
		}[kind]
		if alter == "" {
			t.Skip("SQLite cannot change a column's type")
		}
		tbl := &memTable{cols: []string{"Id", "D", "B"}, types: []string{"TEXT", "DATETIME", "BOOLEAN"},
			rows: [][]driver.Value{{"k1", time.Date(2026, 1, 2, 3, 4, 5, 123456700, time.UTC), true}}}
		src := openMem(t, tbl)
		stmt := "REPLICATE H WITH Key='Id' SELECT * FROM x"
		runOK(t, src, dst, stmt, Options{})
		for _, c := range []string{"D", "B"} {
			mustExec(t, dst, fmt.Sprintf(alter, quoteFor(kind, "H"), quoteFor(kind, c)))
		}
		wantCounts(t, runOK(t, src, dst, stmt, Options{}), counts{Updated: 1})
		if got := textValues(t, dst, kind, "H", "D"); strings.Join(got, ",") != "2026-01-02T03:04:05.1234567Z" {
			t.Errorf("D after the run: %v, want the canonical text form", got)
		}
		if got := textValues(t, dst, kind, "H", "B"); strings.Join(got, ",") != "1" {
			t.Errorf("B after the run: %v, want 1", got)
		}
		wantCounts(t, runOK(t, src, dst, stmt, Options{}), counts{Unchanged: 1})
	})
}

// TestColumnAddedByHand: a column added to the destination by hand is kept
// and left alone, and the warning does not claim it was in the source.
func TestColumnAddedByHand(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE T (Id INTEGER PRIMARY KEY, P INTEGER)", "INSERT INTO T VALUES (1, 16)")
		runOK(t, src, dst, "REPLICATE T", Options{})
		mustExec(t, dst, "ALTER TABLE "+quoteFor(kind, "T")+" ADD COLUMN "+quoteFor(kind, "Note")+" INTEGER NOT NULL DEFAULT 7")
		mustExec(t, src, "INSERT INTO T VALUES (2, 50)")
		r := runOK(t, src, dst, "REPLICATE T", Options{})
		wantCounts(t, r, counts{Inserted: 1, Unchanged: 1})
		if hasWarning(r, "no longer in the source") || !hasWarning(r, "column Note is not in the source's result") {
			t.Errorf("warnings %q", r.Warnings)
		}
		if got := textValues(t, dst, kind, "T", "Note"); strings.Join(got, ",") != "7,7" {
			t.Errorf("Note: %v", got)
		}
	})
}

// TestTypedTextIntoTextColumn: a DATETIME or BOOLEAN value the source gives
// as text in another form ("2026-01-02 03:04:05+01:00", "true"), written
// into an existing text column, takes the canonical text form (RFC 3339
// UTC, 0/1) in every destination, as a time.Time or bool does; text that is
// no such value fails the table naming the row and column.
func TestTypedTextIntoTextColumn(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		tbl := &memTable{cols: []string{"Id", "D", "B"}, types: []string{"TEXT", "TEXT", "TEXT"}, rows: [][]driver.Value{{"k1", "x", "y"}}}
		src := openMem(t, tbl)
		stmt := "REPLICATE TT WITH Key='Id' SELECT * FROM x"
		runOK(t, src, dst, stmt, Options{})
		tbl.types = []string{"TEXT", "DATETIME", "BOOLEAN"}
		tbl.rows[0] = []driver.Value{"k1", "2026-01-02 03:04:05+01:00", "true"}
		runOK(t, src, dst, stmt, Options{})
		if got := textValues(t, dst, kind, "TT", "D"); strings.Join(got, ",") != "2026-01-02T02:04:05.0000000Z" {
			t.Errorf("D: %v", got)
		}
		if got := textValues(t, dst, kind, "TT", "B"); strings.Join(got, ",") != "1" {
			t.Errorf("B: %v", got)
		}
		tbl.rows[0][1] = "not a time"
		res := run(t, src, dst, stmt, Options{})
		if err := res[0].Err; err == nil || !strings.Contains(err.Error(), "column D") || !strings.Contains(err.Error(), "not a valid DATETIME") {
			t.Errorf("a DATETIME that is no time: %v", err)
		}
	})
}

// TestJSONToText: a JSON column whose source now gives text is widened to
// text in every destination — in MariaDB, whose JSON is longtext with a
// json_valid check, the check goes with it — and text that is no JSON is
// stored.
func TestJSONToText(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		tbl := &memTable{cols: []string{"Id", "V"}, types: []string{"TEXT", "JSON"}, rows: [][]driver.Value{{"k1", `{"a":1}`}}}
		src := openMem(t, tbl)
		stmt := "REPLICATE JT WITH Key='Id' SELECT * FROM x"
		runOK(t, src, dst, stmt, Options{})
		tbl.types[1], tbl.rows[0][1] = "TEXT", "plain text"
		runOK(t, src, dst, stmt, Options{})
		if got := textValues(t, dst, kind, "JT", "V"); strings.Join(got, ",") != "plain text" {
			t.Fatalf("V: %v", got)
		}
		wantCounts(t, runOK(t, src, dst, stmt, Options{}), counts{Unchanged: 1})
	})
}

// TestKeyColumnDroppedByHand: a key column dropped from the destination by
// hand fails the table saying so and how to rebuild it (SQLite cannot drop
// a primary key column).
func TestKeyColumnDroppedByHand(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		if kind == "sqlite" {
			t.Skip("SQLite cannot drop a primary key column")
		}
		src, _ := sourceDB(t, "CREATE TABLE T (Id INTEGER PRIMARY KEY, P INTEGER)", "INSERT INTO T VALUES (1, 16)")
		runOK(t, src, dst, "REPLICATE T", Options{})
		mustExec(t, dst, "ALTER TABLE "+quoteFor(kind, "T")+" DROP COLUMN "+quoteFor(kind, "Id"))
		res := run(t, src, dst, "REPLICATE T", Options{})
		if err := res[0].Err; err == nil || !strings.Contains(err.Error(), "key column Id is missing in the destination") || !strings.Contains(err.Error(), "WITH DropTable") {
			t.Fatalf("got %v", err)
		}
		runOK(t, src, dst, "REPLICATE T WITH DropTable", Options{})
	})
}
