package driver

import (
	"strings"
	"testing"

	"github.com/plannersql/planner/internal/sqltext"
)

func TestParamCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sql  string
		want int
	}{
		{"SELECT 1", 0},
		{"SELECT ?, ?", 2},
		{"SELECT ?3, ?", 4},
		{"SELECT :a, :a, @b, $c, #d, $e::f(g)", 5},
		{"SELECT '?', \"?\", [?], `?` -- ?\n /* ? */", 0},
		{"SELECT 'it''s ?', ?", 1},
		{`SELECT 'C:\', ?`, 1},
	}
	for _, tt := range tests {
		if got := paramCount(sqltext.Lex(tt.sql)); got != tt.want {
			t.Errorf("paramCount(%q) = %d, want %d", tt.sql, got, tt.want)
		}
	}
}

func TestRewrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sql, want, returning string
	}{
		{"SHOW TABLES;", "SELECT TableName, Description, IsUpdatable FROM sys_tables", ""},
		{"show tables like 'Task%' -- mine", "SELECT TableName, Description, IsUpdatable FROM sys_tables WHERE TableName LIKE 'Task%'", ""},
		{`DESCRIBE "Tasks"`, "FROM sys_columns WHERE TableName = 'Tasks'", ""},
		{"desc [tasks];", "FROM sys_columns WHERE TableName = 'Tasks'", ""},
		{"SHOW COLUMNS FROM Buckets", "FROM sys_columns WHERE TableName = 'Buckets'", ""},
		{"INSERT INTO Buckets (PlanId, Name) VALUES ('p', 'a RETURNING b') RETURNING BucketId, Name || '!';",
			"INSERT INTO Buckets (PlanId, Name) VALUES ('p', 'a RETURNING b')", "BucketId, Name || '!'"},
		{"SELECT \"Title\" || ' RETURNING ' FROM Tasks", "SELECT \"Title\" || ' RETURNING ' FROM Tasks", ""},
	}
	for _, tt := range tests {
		q, err := rewrite(tt.sql)
		if err != nil {
			t.Errorf("rewrite(%q): %v", tt.sql, err)
			continue
		}
		if !strings.Contains(q.sql, tt.want) || q.returning != tt.returning {
			t.Errorf("rewrite(%q) = %q returning %q; want %q returning %q", tt.sql, q.sql, q.returning, tt.want, tt.returning)
		}
	}
	if _, err := rewrite("DESCRIBE Nope"); err == nil || !strings.Contains(err.Error(), `no table named "Nope"`) {
		t.Errorf("DESCRIBE Nope: %v", err)
	}
}

func TestConflictMode(t *testing.T) {
	t.Parallel()
	tests := []struct{ sql, want string }{
		{"INSERT INTO TaskCategories VALUES (1, 2)", ""},
		{"insert or ignore into TaskCategories (TaskId, Category) VALUES (?, ?)", "IGNORE"},
		{"INSERT OR REPLACE INTO t SELECT 1", "REPLACE"},
		{"REPLACE INTO t VALUES (1)", "REPLACE"},
		{"INSERT OR Abort INTO t VALUES (1)", "ABORT"},
		{"INSERT OR FAIL INTO t VALUES (1)", "FAIL"},
		{"INSERT OR ROLLBACK INTO t VALUES (1)", "ROLLBACK"},
		{"WITH x(a) AS (SELECT replace('a', 'b', 'c')) INSERT OR IGNORE INTO t SELECT a FROM x", "IGNORE"},
		{"WITH RECURSIVE x(a) AS (SELECT 1) REPLACE INTO t SELECT a FROM x", "REPLACE"},
		{"WITH x(a) AS (SELECT 1) SELECT replace(a, 'or', 'ignore') FROM x", ""},
		{"SELECT replace(Title, 'a', 'b') FROM Tasks", ""},
		{"UPDATE OR IGNORE Tasks SET Title = 'x'", ""},
		{"", ""},
	}
	for _, tt := range tests {
		var toks []sqltext.Token
		for _, tk := range sqltext.Lex(tt.sql) {
			if tk.Kind != sqltext.Comment {
				toks = append(toks, tk)
			}
		}
		if got := conflictMode(toks); got != tt.want {
			t.Errorf("conflictMode(%q) = %q, want %q", tt.sql, got, tt.want)
		}
	}
}

// TestComparesCollated: which statements compare with a collation other
// than BINARY (their equalities are not pushed down to Graph).
func TestComparesCollated(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT * FROM Tasks WHERE TaskId = 'a' COLLATE NOCASE":                                               true,
		"SELECT * FROM Tasks WHERE TaskId COLLATE RTRIM = ?":                                                  true,
		"SELECT * FROM Tasks t JOIN Plans p ON p.PlanId = t.PlanId COLLATE nocase":                            true,
		"SELECT * FROM Tasks WHERE TaskId IN (SELECT TaskId COLLATE NOCASE FROM TaskCategories)":              true,
		"SELECT * FROM Tasks ORDER BY Title COLLATE NOCASE LIMIT 1":                                           false,
		"SELECT Title COLLATE NOCASE, count(*) FROM Tasks GROUP BY 1 COLLATE NOCASE":                          true,
		"SELECT BucketId, count(*) FROM Tasks GROUP BY Title COLLATE NOCASE HAVING count(*) > 1":              false,
		"SELECT group_concat(Title, ',' ORDER BY Title COLLATE NOCASE) FROM Tasks WHERE PlanId = ?":           false,
		"SELECT * FROM (SELECT * FROM Tasks ORDER BY Title COLLATE NOCASE) WHERE TaskId = 'a' COLLATE NOCASE": true,
		"SELECT * FROM Tasks WHERE TaskId = 'a' COLLATE BINARY":                                               false,
		"SELECT 'COLLATE NOCASE' FROM Tasks WHERE TaskId = ?":                                                 false,
	} {
		r, err := rewrite(q)
		if err != nil {
			t.Fatal(err)
		}
		if r.collate != want {
			t.Errorf("%s: collate %v, want %v", q, r.collate, want)
		}
	}
}
