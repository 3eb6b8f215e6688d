package sqltext

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stmt is a statement as the corpus writes it.
type stmt struct {
	Text       string
	Line       int
	Class      Class
	Terminated bool
}

// TestCorpus splits one script of SQLite-only syntax and checks each
// statement's boundaries, position and class.
func TestCorpus(t *testing.T) {
	t.Parallel()
	script := `-- a report; nothing here ends a statement
SELECT Title || ' (' || "PlanId" || ')' AS "a;b" FROM [Tasks;Old] WHERE Title = 'it''s; fine';
/* a ; in a comment */ WITH open AS (SELECT * FROM Tasks WHERE PercentComplete < 100)
  SELECT PlanId, count(*) OVER (PARTITION BY PlanId ORDER BY DueDateTime) FROM open;
-- ;
/* ; */
INSERT INTO Buckets (PlanId, Name) VALUES ('p', 'a;b') ON CONFLICT (BucketId) DO UPDATE SET Name = excluded.Name RETURNING BucketId;
UPDATE Tasks SET Title = Title || ';' WHERE TaskId = ?1 RETURNING TaskId, "Title";
WITH x AS (SELECT TaskId FROM Tasks WHERE Priority = 1) DELETE FROM Tasks;
DELETE FROM Tasks WHERE TaskId IN (SELECT TaskId FROM x);
VALUES (1, x'0a'), (2, $v);
SHOW TABLES LIKE 'Task%';
DESCRIBE [Tasks];
desc Plans;
REPLICATE PROD_Tasks SELECT * FROM Tasks;
REPLACE INTO t VALUES (1);
CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN
  INSERT INTO log VALUES ('a;b');
  SELECT CASE WHEN 1 THEN 2 END;
END;
PRAGMA table_info(Tasks);;
;
SELECT 'trailing, without a semicolon' -- and a comment`
	want := []stmt{
		{`SELECT Title || ' (' || "PlanId" || ')' AS "a;b" FROM [Tasks;Old] WHERE Title = 'it''s; fine'`, 2, Query, true},
		{"WITH open AS (SELECT * FROM Tasks WHERE PercentComplete < 100)\n  SELECT PlanId, count(*) OVER (PARTITION BY PlanId ORDER BY DueDateTime) FROM open", 3, Query, true},
		{"INSERT INTO Buckets (PlanId, Name) VALUES ('p', 'a;b') ON CONFLICT (BucketId) DO UPDATE SET Name = excluded.Name RETURNING BucketId", 7, Insert, true},
		{`UPDATE Tasks SET Title = Title || ';' WHERE TaskId = ?1 RETURNING TaskId, "Title"`, 8, Update, true},
		{"WITH x AS (SELECT TaskId FROM Tasks WHERE Priority = 1) DELETE FROM Tasks", 9, Delete, true},
		{"DELETE FROM Tasks WHERE TaskId IN (SELECT TaskId FROM x)", 10, Delete, true},
		{"VALUES (1, x'0a'), (2, $v)", 11, Query, true},
		{"SHOW TABLES LIKE 'Task%'", 12, Show, true},
		{"DESCRIBE [Tasks]", 13, Describe, true},
		{"desc Plans", 14, Describe, true},
		{"REPLICATE PROD_Tasks SELECT * FROM Tasks", 15, Replicate, true},
		{"REPLACE INTO t VALUES (1)", 16, Insert, true},
		{"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN\n  INSERT INTO log VALUES ('a;b');\n  SELECT CASE WHEN 1 THEN 2 END;\nEND", 17, Other, true},
		{"PRAGMA table_info(Tasks)", 21, Other, true},
		{"SELECT 'trailing, without a semicolon'", 23, Query, false},
	}
	var got []stmt
	for _, s := range Split(script) {
		got = append(got, stmt{s.Text, s.Pos.Line, s.Class, s.Terminated})
		if s.Next > len(script) || s.Next < s.End {
			t.Errorf("%q: Next %d, End %d", s.Text, s.Next, s.End)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Split (-want +got):\n%s", diff)
	}
}

func TestSplitEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []stmt
	}{
		{"empty", "", nil},
		{"only comments", "-- a;\n/* b; */ ;; -- c", nil},
		{"open string is one statement", "SELECT 'a;\nb", []stmt{{"SELECT 'a;\nb", 1, Query, false}}},
		{"open comment after a statement", "SELECT 1; /* open ;", []stmt{{"SELECT 1", 1, Query, true}}},
		{"open bracket", "SELECT [a;", []stmt{{"SELECT [a;", 1, Query, false}}},
		{"trigger without END waits", "CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1;", []stmt{
			{"CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1;", 1, Other, false}}},
		{"EXPLAIN CREATE TRIGGER", "EXPLAIN CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1; END; SELECT 2;", []stmt{
			{"EXPLAIN CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1; END", 1, Query, true}, {"SELECT 2", 1, Query, true}}},
		{"a table named trigger", "CREATE TABLE trigger (a); SELECT 1;", []stmt{
			{"CREATE TABLE trigger (a)", 1, Other, true}, {"SELECT 1", 1, Query, true}}},
		{"# is no comment", "SELECT #x; SELECT 2", []stmt{{"SELECT #x", 1, Query, true}, {"SELECT 2", 1, Query, false}}},
		{"backslash ends nothing", `SELECT 'C:\'; SELECT "a\"; SELECT 3`, []stmt{
			{`SELECT 'C:\'`, 1, Query, true}, {`SELECT "a\"`, 1, Query, true}, {"SELECT 3", 1, Query, false}}},
		{"CRLF lines", "SELECT 1;\r\nSELECT 2;\r\n", []stmt{{"SELECT 1", 1, Query, true}, {"SELECT 2", 2, Query, true}}},
		{"byte order marks", "\ufeffDELETE FROM t;\r\n\ufeffUPDATE t SET a = 1", []stmt{
			{"DELETE FROM t", 1, Delete, true}, {"UPDATE t SET a = 1", 2, Update, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []stmt
			for _, s := range Split(tt.src) {
				got = append(got, stmt{s.Text, s.Pos.Line, s.Class, s.Terminated})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Split(%q) (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want Class
	}{
		{"SELECT 1", Query}, {"  (SELECT 1)", Query}, {"values (1)", Query}, {"EXPLAIN QUERY PLAN DELETE FROM t", Query},
		{"WITH RECURSIVE c(n) AS (VALUES (1) UNION ALL SELECT n+1 FROM c) SELECT n FROM c", Query},
		{"WITH a AS (SELECT 1), b AS MATERIALIZED (SELECT 2) INSERT INTO t SELECT * FROM a", Insert},
		{"WITH a AS NOT MATERIALIZED (DELETE) UPDATE t SET x = 1", Update},
		{"insert or replace into t values (1)", Insert}, {"Update t set a = 1", Update}, {"delete from t", Delete},
		{"SHOW COLUMNS FROM Tasks", Show}, {"DESCRIBE Tasks", Describe}, {"replicate Tasks", Replicate},
		{"CREATE TABLE t (a)", Other}, {"PRAGMA x", Other}, {"BEGIN", Other}, {"", Other},
		{`"SELECT"`, Other}, {"/* SELECT */ DELETE FROM t", Delete}, {"\ufeffupdate t set a = 1", Update},
		{"(WITH x AS (SELECT 1) SELECT * FROM x)", Query}, {"((with x as (select 1) delete from t))", Delete},
		{"(", Other}, {"((", Other}, {"WITH", Query}, {"(WITH x AS (SELECT 1)", Query},
		{".mode csv", Meta}, {"  .tables", Meta}, {"exit", Meta}, {"QUIT;", Meta}, {"help", Meta},
	}
	for _, tt := range tests {
		if got := Classify(tt.text); got != tt.want {
			t.Errorf("Classify(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestMetaLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, cmd string
		ok        bool
	}{
		{".mode csv", ".mode csv", true}, {"  .headers  ", ".headers", true}, {"exit", ".exit", true},
		{"Quit ;", ".quit", true}, {"help", ".help", true}, {"exit now", "", false}, {"SELECT 1", "", false},
		{"helper", "", false}, {"quit;;", ".quit", true}, {"exit -- bye", ".exit", true},
		{"EXIT /* now */ ;  ", ".exit", true}, {"exit /* open", "", false}, {"exit;x", "", false}, {"help me", "", false},
		{"\ufeff.mode csv", ".mode csv", true}, {"\ufeffexit", ".exit", true}, {`\q`, ".quit", true}, {` \q ; `, ".quit", true},
		{`\?`, ".help", true}, {`\dt Task%`, `\dt Task%`, true}, {"'exit'", "", false}, {`"quit"`, "", false},
	}
	for _, tt := range tests {
		cmd, ok := MetaLine(tt.line)
		if cmd != tt.cmd || ok != tt.ok {
			t.Errorf("MetaLine(%q) = %q, %v; want %q, %v", tt.line, cmd, ok, tt.cmd, tt.ok)
		}
	}
}

// TestWritesEveryRow is the safe-update guard: UPDATE or DELETE with no
// WHERE of its own.
func TestWritesEveryRow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sql  string
		want bool
	}{
		{"DELETE FROM Tasks", true},
		{"\ufeffDELETE FROM Tasks", true},
		{"delete from Tasks -- WHERE TaskId = 'x'", true},
		{"DELETE FROM Tasks /* WHERE */", true},
		{"DELETE FROM \"WHERE\"", true},
		{"DELETE FROM [where]", true},
		{"DELETE FROM Tasks WHERE TaskId = 'x'", false},
		{"DELETE FROM Tasks WHERE TaskId IN (SELECT TaskId FROM Tasks WHERE Priority = 1)", false},
		{"WITH x AS (SELECT TaskId FROM Tasks WHERE Priority = 1) DELETE FROM Tasks", true},
		{"WITH x AS (SELECT TaskId FROM Tasks WHERE Priority = 1) DELETE FROM Tasks WHERE TaskId IN x", false},
		{"UPDATE Tasks SET Title = 'x'", true},
		{"UPDATE Tasks SET Title = (SELECT Name FROM Buckets WHERE BucketId = Tasks.BucketId)", true},
		{"UPDATE Tasks SET Title = 'WHERE'", true},
		{"UPDATE Tasks SET Title = CASE WHEN Priority = 1 THEN 'a' END", true},
		{"UPDATE Tasks SET Title = 'x' WHERE TaskId = ?", false},
		{"UPDATE Tasks SET Title = 'x' RETURNING TaskId", true},
		{"UPDATE Tasks SET Title = b.Name FROM Buckets b WHERE b.BucketId = Tasks.BucketId", false},
		{"INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE SET a = 2", false},
		{"SELECT * FROM Tasks", false},
		{"(DELETE FROM Tasks WHERE TaskId = 'x')", false},
		{"(WITH x AS (SELECT 1) DELETE FROM Tasks)", true},
		{"CREATE TRIGGER t AFTER INSERT ON x BEGIN DELETE FROM y; END", false},
	}
	for _, tt := range tests {
		st := Split(tt.sql)
		if len(st) != 1 {
			t.Fatalf("Split(%q): %d statements", tt.sql, len(st))
		}
		if got := st[0].WritesEveryRow(); got != tt.want {
			t.Errorf("WritesEveryRow(%q) = %v, want %v", tt.sql, got, tt.want)
		}
	}
}

func TestReturnsRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sql  string
		want bool
	}{
		{"SELECT 1", true}, {"SHOW TABLES", true}, {"DESCRIBE Tasks", true}, {"PRAGMA table_info(t)", true},
		{"INSERT INTO t VALUES (1)", false}, {"INSERT INTO t VALUES (1) RETURNING a", true},
		{"INSERT INTO t SELECT * FROM (SELECT 1 AS returning)", false},
		{"UPDATE t SET a = 1 WHERE b RETURNING *", true}, {"DELETE FROM t", false},
		{"CREATE TABLE t (a)", false}, {"begin", false}, {"COMMIT", false},
	}
	for _, tt := range tests {
		if got := Split(tt.sql)[0].ReturnsRows(); got != tt.want {
			t.Errorf("ReturnsRows(%q) = %v, want %v", tt.sql, got, tt.want)
		}
	}
}

func TestBlank(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]bool{"": true, " \n\t": true, "-- x": true, "/* x */ -- y\n": true,
		"/* open": false, "x": false, ";": false} {
		if got := Blank(src); got != want {
			t.Errorf("Blank(%q) = %v, want %v", src, got, want)
		}
	}
}
