package replicate

import (
	"database/sql"
	"database/sql/driver"
	"math"
	"strings"
	"testing"
	"time"
)

// TestUnholdableValues: a value the destination cannot hold fails the table
// before anything is written, naming the table, the row's key and the
// column, and saying what to do (exclude or transform the column); the
// table keeps its previous rows.
func TestUnholdableValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		kinds string // destinations that cannot hold it
		typ   string
		bad   driver.Value
		want  string
	}{
		{"NUL in text", "postgres", "TEXT", "a\x00b", "NUL byte"},
		{"invalid UTF-8", "postgres mysql", "TEXT", "caf\xe9", "not valid UTF-8"},
		{"invalid JSON", "postgres mysql", "JSON", `{"a":`, "not valid JSON"},
		{"NUL escape in JSON", "postgres", "JSON", `{"a":"\u0000"}`, `\u0000`},
		{"year 1 in DATETIME", "mysql", "DATETIME", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "outside MySQL DATETIME's range"},
		{"NaN", "sqlite mysql", "REAL", math.NaN(), "NaN"},
		{"year -5000 in DATETIME", "postgres mysql", "DATETIME", time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), "range"},
		{"text in INTEGER", "sqlite postgres mysql", "INTEGER", "12x", `value "12x" (string) is not a valid INTEGER`},
		{"text in DATETIME", "sqlite postgres mysql", "DATETIME", "not a date", "not a valid DATETIME"},
		{"uint64 in INTEGER", "sqlite postgres mysql", "INTEGER", uint64(math.MaxUint64), "not a valid INTEGER"},
	}
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		for _, tt := range tests {
			good := map[string]driver.Value{"TEXT": "ok", "JSON": `{"a":1}`, "DATETIME": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "REAL": 1.5, "INTEGER": int64(1)}[tt.typ]
			tbl := &memTable{cols: []string{"Id", "V"}, types: []string{"TEXT", tt.typ},
				rows: [][]driver.Value{{"k1", good}, {"k2", good}}}
			src := openMem(t, tbl)
			table := "V_" + strings.NewReplacer(" ", "_", "-", "_").Replace(tt.name)
			stmt := "REPLICATE " + quoteFor(kind, table) + " WITH Key='Id' SELECT * FROM x"
			runOK(t, src, dst, stmt, Options{})
			tbl.rows[1][1] = tt.bad
			res := run(t, src, dst, stmt, Options{})
			if !strings.Contains(tt.kinds, kind) {
				if res[0].Err != nil {
					t.Errorf("%s: %v", tt.name, res[0].Err)
				}
				continue
			}
			err := res[0].Err
			if err == nil {
				t.Errorf("%s: accepted", tt.name)
				continue
			}
			for _, w := range []string{"table " + table, `key ("k2")`, "column V", tt.want, "EXCLUDE COLUMNS (V)", "transform it in a select"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q does not say %q", tt.name, err, w)
				}
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, table)); n != 2 {
				t.Errorf("%s: %d rows after the failure", tt.name, n)
			}
		}
	})
}

// TestUnholdableKeyValues: a key value the destination cannot hold fails
// the table naming the row, the key column and what to do (transform it in
// a select, or choose another key), as a non-key value does.
func TestUnholdableKeyValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		kinds string // destinations that cannot hold it
		bad   driver.Value
		want  string
	}{
		{"NUL in a key", "postgres", "k\x00", "NUL byte"},
		{"invalid UTF-8 in a key", "postgres mysql", "caf\xe9", "not valid UTF-8"},
	}
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		for _, tt := range tests {
			tbl := &memTable{cols: []string{"Id", "V"}, types: []string{"TEXT", "TEXT"},
				rows: [][]driver.Value{{"k1", "a"}, {"k2", "b"}}}
			src := openMem(t, tbl)
			table := "K_" + strings.NewReplacer(" ", "_", "-", "_").Replace(tt.name)
			stmt := "REPLICATE " + quoteFor(kind, table) + " WITH Key='Id' SELECT * FROM x"
			runOK(t, src, dst, stmt, Options{})
			tbl.rows[1][0] = tt.bad
			res := run(t, src, dst, stmt, Options{})
			if !strings.Contains(tt.kinds, kind) {
				if res[0].Err != nil {
					t.Errorf("%s: %v", tt.name, res[0].Err)
				}
				continue
			}
			err := res[0].Err
			if err == nil {
				t.Errorf("%s: accepted", tt.name)
				continue
			}
			for _, w := range []string{"table " + table, "row 2", "key column Id", tt.want, "transform it in a select", "REPLICATE " + table + " SELECT", "WITH Key="} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q does not say %q", tt.name, err, w)
				}
			}
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, table)); n != 2 {
				t.Errorf("%s: %d rows after the failure", tt.name, n)
			}
		}
	})
}

// TestSQLiteCanonicalValues: SQLite, which keeps any value in any column,
// gets the values other destinations get: times given as text in another
// form are written in the canonical RFC 3339 form, numbers given as text
// as numbers.
func TestSQLiteCanonicalValues(t *testing.T) {
	t.Parallel()
	dst, _ := sqliteDest(t)
	tbl := &memTable{cols: []string{"Id", "D", "N", "B"}, types: []string{"TEXT", "DATETIME", "INTEGER", "BOOLEAN"},
		rows: [][]driver.Value{{"k1", "2026-11-28 17:43:36+02:00", "12", "true"}}}
	runOK(t, openMem(t, tbl), dst, "REPLICATE C WITH Key='Id' SELECT * FROM x", Options{})
	var d, n, b string
	if err := dst.QueryRow("SELECT D || '|' || typeof(D), N || '|' || typeof(N), B || '|' || typeof(B) FROM C").Scan(&d, &n, &b); err != nil {
		t.Fatal(err)
	}
	if d != "2026-11-28T15:43:36.0000000Z|text" || n != "12|integer" || b != "1|integer" {
		t.Fatalf("stored %q, %q, %q", d, n, b)
	}
}

// TestMySQLOverPacket: a value larger than the server's max_allowed_packet
// fails the table naming the row and column and saying what to raise,
// rather than the server dropping the connection mid-statement.
func TestMySQLOverPacket(t *testing.T) {
	t.Parallel()
	dst, _ := mysqlDest(t)
	packet := scalar[int](t, dst, "SELECT @@max_allowed_packet")
	if packet > 64<<20 {
		t.Skipf("max_allowed_packet is %d bytes: too large a value to build", packet)
	}
	tbl := &memTable{cols: []string{"Id", "V"}, types: []string{"TEXT", "TEXT"},
		rows: [][]driver.Value{{"k1", "a"}, {"k2", strings.Repeat("x", packet+1)}}}
	res := run(t, openMem(t, tbl), dst, "REPLICATE P WITH Key='Id' SELECT * FROM x", Options{})
	err := res[0].Err
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{`key ("k2")`, "column V", "max_allowed_packet", "EXCLUDE COLUMNS (V)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}
