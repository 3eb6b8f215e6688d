package replicate

import (
	"strings"
	"testing"
)

// TestUnknownTables: a statement naming a table the source does not have
// fails, naming it, before any table of the statement is copied.
func TestUnknownTables(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, "CREATE TABLE A (Id INTEGER PRIMARY KEY, V TEXT)", "INSERT INTO A VALUES (1, 'x')",
		"CREATE TABLE B (Id INTEGER PRIMARY KEY)")
	tests := []struct {
		script string
		want   []string
	}{
		{"REPLICATE ALL EXCLUDE TABLES (Nope)", []string{"Nope", "not a table of the source", "A, B"}},
		{"REPLICATE ALL EXCLUDE TABLES (a, Nope, Other)", []string{"Nope, Other", "not tables of the source"}},
		{"REPLICATE ALL EXCLUDE COLUMNS (Nope.V)", []string{"Nope"}},
		{"REPLICATE TABLES (A, Nope)", []string{"REPLICATE TABLES names Nope"}},
	}
	for _, tt := range tests {
		dst, _ := sqliteDest(t)
		res := run(t, src, dst, tt.script, Options{})
		if len(res) != 1 || res[0].Err == nil {
			t.Fatalf("%s: %+v, want one failed statement", tt.script, res)
		}
		for _, w := range tt.want {
			if !strings.Contains(res[0].Err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tt.script, res[0].Err, w)
			}
		}
		if n := scalar[int](t, dst, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('A', 'B')"); n != 0 {
			t.Errorf("%s: %d tables copied", tt.script, n)
		}
	}
	// Known names, in any case, are accepted.
	dst, _ := sqliteDest(t)
	if res := run(t, src, dst, "REPLICATE ALL EXCLUDE TABLES (b) EXCLUDE COLUMNS (a.V)", Options{}); len(res) != 1 || res[0].Err != nil || res[0].Table != "A" {
		t.Fatalf("%+v", res)
	}
}

// TestExcludeKeyColumn: excluding a key column fails the table saying it
// was excluded, not that the statement did not select it.
func TestExcludeKeyColumn(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, "CREATE TABLE A (Id INTEGER PRIMARY KEY, V TEXT)", "INSERT INTO A VALUES (1, 'x')")
	for _, script := range []string{"REPLICATE A EXCLUDE COLUMNS (id)", "REPLICATE TABLES (A EXCLUDE COLUMNS (V, Id))", "REPLICATE ALL EXCLUDE COLUMNS (a.ID)"} {
		dst, _ := sqliteDest(t)
		res := run(t, src, dst, script, Options{})
		if len(res) != 1 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "is excluded (EXCLUDE COLUMNS)") {
			t.Errorf("%s: %+v", script, res)
		}
	}
}
