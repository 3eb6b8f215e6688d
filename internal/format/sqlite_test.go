package format

import (
	"bytes"
	"database/sql"
	"testing"

	_ "modernc.org/sqlite"
)

// TestSQLiteRows renders a real *sql.Rows, whose declared column types come from
// ColumnTypes.
func TestSQLiteRows(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, stmt := range []string{
		`CREATE TABLE Tasks (TaskId TEXT, Title TEXT, PercentComplete INTEGER, HasDescription BOOLEAN,
			Assignments JSON, DueDateTime DATETIME, Score REAL, Raw BLOB)`,
		`INSERT INTO Tasks VALUES
			('t1', 'Write report', 50, 1, '{"u1": {"orderHint": "8585"}}', '2024-05-06T10:03:00Z', 0.5, x'CAFE'),
			('t2', '日本語 | task', NULL, 0, NULL, NULL, NULL, NULL),
			('t3', 'multi' || char(10) || 'line', 100, 1, 'not json', '2024-05-07T00:00:00.25Z', 1e300, 'text')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	query := func() *sql.Rows {
		t.Helper()
		rows, err := db.Query(`SELECT * FROM Tasks ORDER BY TaskId`)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rows.Close() })
		return rows
	}

	tests := []struct {
		opts Options
		want string
	}{
		{Options{Mode: ModeJSON}, `[
{"TaskId":"t1","Title":"Write report","PercentComplete":50,"HasDescription":1,"Assignments":{"u1":{"orderHint":"8585"}},"DueDateTime":"2024-05-06T10:03:00.0000000Z","Score":0.5,"Raw":"yv4="},
{"TaskId":"t2","Title":"日本語 | task","PercentComplete":null,"HasDescription":0,"Assignments":null,"DueDateTime":null,"Score":null,"Raw":null},
{"TaskId":"t3","Title":"multi\nline","PercentComplete":100,"HasDescription":1,"Assignments":"not json","DueDateTime":"2024-05-07T00:00:00.2500000Z","Score":1e+300,"Raw":"text"}
]
`},
		{Options{Mode: ModeTable}, `+--------+---------------+-----------------+----------------+-------------------------------+------------------------------+--------+---------+
| TaskId | Title         | PercentComplete | HasDescription | Assignments                   | DueDateTime                  | Score  | Raw     |
+--------+---------------+-----------------+----------------+-------------------------------+------------------------------+--------+---------+
| t1     | Write report  |              50 |              1 | {"u1": {"orderHint": "8585"}} | 2024-05-06T10:03:00.0000000Z |    0.5 | x'CAFE' |
| t2     | 日本語 | task | NULL            |              0 | NULL                          | NULL                         | NULL   | NULL    |
| t3     | multi\nline   |             100 |              1 | not json                      | 2024-05-07T00:00:00.2500000Z | 1e+300 | text    |
+--------+---------------+-----------------+----------------+-------------------------------+------------------------------+--------+---------+
`},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		n, err := Write(&buf, query(), tt.opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.opts.Mode, err)
		}
		if n != 3 {
			t.Errorf("%s: %d rows", tt.opts.Mode, n)
		}
		if got := buf.String(); got != tt.want {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", tt.opts.Mode, got, tt.want)
		}
	}
}
