package replicate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	on := With{AlterSchema: true}
	tests := []struct {
		name   string
		script string
		want   []Statement
	}{
		{"seed table", "REPLICATE Tasks;", []Statement{
			{Text: "REPLICATE Tasks", Line: 1, Column: 1, Dest: Name{Table: "Tasks"}, Source: Name{Table: "Tasks"}, NamedAfterSource: true, With: on}}},
		{"seed prefix select", "REPLICATE PROD_Tasks SELECT * FROM Tasks;", []Statement{
			{Text: "REPLICATE PROD_Tasks SELECT * FROM Tasks", Line: 1, Column: 1, Dest: Name{Table: "PROD_Tasks"}, Query: "SELECT * FROM Tasks", With: on}}},
		{"seed schema select", "REPLICATE PROD.Tasks SELECT * FROM Tasks;", []Statement{
			{Text: "REPLICATE PROD.Tasks SELECT * FROM Tasks", Line: 1, Column: 1, Dest: Name{Schema: "PROD", Table: "Tasks"}, Query: "SELECT * FROM Tasks", With: on}}},
		{"no semicolon, lower case", "replicate tasks", []Statement{
			{Text: "replicate tasks", Line: 1, Column: 1, Dest: Name{Table: "tasks"}, Source: Name{Table: "tasks"}, NamedAfterSource: true, With: on}}},
		{"schema table without select", "REPLICATE PROD.Tasks", []Statement{
			{Text: "REPLICATE PROD.Tasks", Line: 1, Column: 1, Dest: Name{Schema: "PROD", Table: "Tasks"}, Source: Name{Table: "Tasks"}, NamedAfterSource: true, With: on}}},
		{"dest named like its source is written, not derived", "REPLICATE Buckets Buckets", []Statement{
			{Text: "REPLICATE Buckets Buckets", Line: 1, Column: 1, Dest: Name{Table: "Buckets"}, Source: Name{Table: "Buckets"}, With: on}}},
		{"dest and source table", "REPLICATE Copy main.Tasks", []Statement{
			{Text: "REPLICATE Copy main.Tasks", Line: 1, Column: 1, Dest: Name{Table: "Copy"}, Source: Name{Schema: "main", Table: "Tasks"}, With: on}}},
		{"AS before select", "REPLICATE X AS SELECT 1 AS Id", []Statement{
			{Text: "REPLICATE X AS SELECT 1 AS Id", Line: 1, Column: 1, Dest: Name{Table: "X"}, Query: "SELECT 1 AS Id", With: on}}},
		{"tables", "REPLICATE TABLES (Tasks, \"Bu ckets\", [Plans] EXCLUDE COLUMNS (Owner, `Title`))", []Statement{
			{Text: "REPLICATE TABLES (Tasks, \"Bu ckets\", [Plans] EXCLUDE COLUMNS (Owner, `Title`))", Line: 1, Column: 1, Kind: KindTables,
				Tables: []TableRef{{Table: Name{Table: "Tasks"}}, {Table: Name{Table: "Bu ckets"}}, {Table: Name{Table: "Plans"}, ExcludeColumns: []string{"Owner", "Title"}}}, With: on}}},
		{"all exclude", "REPLICATE ALL EXCLUDE TABLES (TaskDetails, Groups)", []Statement{
			{Text: "REPLICATE ALL EXCLUDE TABLES (TaskDetails, Groups)", Line: 1, Column: 1, Kind: KindAll, ExcludeTables: []string{"TaskDetails", "Groups"}, With: on}}},
		{"all exclude columns with", "REPLICATE ALL EXCLUDE COLUMNS (Tasks.Title) WITH SourceName='a'", []Statement{
			{Text: "REPLICATE ALL EXCLUDE COLUMNS (Tasks.Title) WITH SourceName='a'", Line: 1, Column: 1, Kind: KindAll, ExcludeColumns: []string{"Tasks.Title"},
				With: With{AlterSchema: true, SourceName: "a", HasSourceName: true}}}},
		{"every option", "REPLICATE T WITH DropTable, TruncateTable=true, AlterSchema=false, Key='A, \"B c\"', SourceName='prod', SoftDelete SELECT * FROM T", []Statement{
			{Text: "REPLICATE T WITH DropTable, TruncateTable=true, AlterSchema=false, Key='A, \"B c\"', SourceName='prod', SoftDelete SELECT * FROM T", Line: 1, Column: 1,
				Dest: Name{Table: "T"}, Query: "SELECT * FROM T",
				With: With{DropTable: true, TruncateTable: true, Key: []string{"A", "B c"}, SourceName: "prod", HasSourceName: true, SoftDelete: true}}}},
		{"options case-insensitive, no source", "replicate t with droptable=0, ALTERSCHEMA=off, sourcename=''", []Statement{
			{Text: "replicate t with droptable=0, ALTERSCHEMA=off, sourcename=''", Line: 1, Column: 1, Dest: Name{Table: "t"}, Source: Name{Table: "t"}, NamedAfterSource: true,
				With: With{HasSourceName: true}}}},
		{"CTE is a query, not options", "REPLICATE X WITH recent AS (SELECT 1 AS Id) SELECT * FROM recent", []Statement{
			{Text: "REPLICATE X WITH recent AS (SELECT 1 AS Id) SELECT * FROM recent", Line: 1, Column: 1, Dest: Name{Table: "X"},
				Query: "WITH recent AS (SELECT 1 AS Id) SELECT * FROM recent", With: on}}},
		{"options then CTE", "REPLICATE X WITH Key='Id' WITH r AS (SELECT 1 AS Id) SELECT * FROM r", []Statement{
			{Text: "REPLICATE X WITH Key='Id' WITH r AS (SELECT 1 AS Id) SELECT * FROM r", Line: 1, Column: 1, Dest: Name{Table: "X"},
				Query: "WITH r AS (SELECT 1 AS Id) SELECT * FROM r", With: With{AlterSchema: true, Key: []string{"Id"}}}}},
		{"script with comments and strings", "-- nightly\nREPLICATE Tasks; /* the ; is not a separator */\n\nREPLICATE \"we\"\"ird\" SELECT ';' AS x, \"a;b\" FROM t -- trailing\n;;",
			[]Statement{
				{Text: "REPLICATE Tasks", Line: 2, Column: 1, Dest: Name{Table: "Tasks"}, Source: Name{Table: "Tasks"}, NamedAfterSource: true, With: on},
				{Text: "REPLICATE \"we\"\"ird\" SELECT ';' AS x, \"a;b\" FROM t", Line: 4, Column: 1, Dest: Name{Table: `we"ird`},
					Query: "SELECT ';' AS x, \"a;b\" FROM t", With: on},
			}},
		{"quoted keywords are names", "REPLICATE \"ALL\"; REPLICATE [TABLES]", []Statement{
			{Text: `REPLICATE "ALL"`, Line: 1, Column: 1, Dest: Name{Table: "ALL"}, Source: Name{Table: "ALL"}, NamedAfterSource: true, With: on},
			{Text: "REPLICATE [TABLES]", Line: 1, Column: 18, Dest: Name{Table: "TABLES"}, Source: Name{Table: "TABLES"}, NamedAfterSource: true, With: on}}},
		{"hostile names", "REPLICATE `s;c``h`.\"t.a \"\"b\"\"\" SELECT 1 AS [ü 🎉]", []Statement{
			{Text: "REPLICATE `s;c``h`.\"t.a \"\"b\"\"\" SELECT 1 AS [ü 🎉]", Line: 1, Column: 1, Dest: Name{Schema: "s;c`h", Table: `t.a "b"`},
				Query: "SELECT 1 AS [ü 🎉]", With: on}}},
		{"dollar quotes", "REPLICATE X SELECT $$a;b$$ AS Id", []Statement{
			{Text: "REPLICATE X SELECT $$a;b$$ AS Id", Line: 1, Column: 1, Dest: Name{Table: "X"}, Query: "SELECT $$a;b$$ AS Id", With: on}}},
		{"unicode identifiers", "REPLICATE Tâches_été", []Statement{
			{Text: "REPLICATE Tâches_été", Line: 1, Column: 1, Dest: Name{Table: "Tâches_été"}, Source: Name{Table: "Tâches_été"}, NamedAfterSource: true, With: on}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.script)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Parse(%q) (-want +got):\n%s", tt.script, diff)
			}
			// String renders each statement so that it parses back the same.
			for _, st := range got {
				again, err := Parse(st.String())
				if err != nil {
					t.Fatalf("Parse(%q) (String of %q): %v", st.String(), st.Text, err)
				}
				st.Text, st.Line, st.Column = "", 0, 0
				again[0].Text, again[0].Line, again[0].Column = "", 0, 0
				if diff := cmp.Diff(st, again[0]); diff != "" {
					t.Fatalf("String() = %q does not parse back (-want +got):\n%s", got[0].String(), diff)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		script    string
		line, col int
		msg       string
	}{
		{"", 1, 1, "empty script"},
		{"-- only a comment", 1, 1, "empty script"},
		{"SELECT 1", 1, 1, "expected REPLICATE, found \"SELECT\""},
		{"REPLICATE Tasks;\nDELETE FROM x", 2, 1, "expected REPLICATE"},
		{"REPLICATE", 1, 10, "expected a destination table name, TABLES (...) or ALL, found end of statement"},
		{"REPLICATE ;", 1, 11, "found end of statement"},
		{"REPLICATE 42", 1, 11, "expected a destination table name"},
		{"REPLICATE a.b.c", 1, 14, "at most schema.table"},
		{"REPLICATE a.", 1, 13, "expected a table name after '.'"},
		{"REPLICATE T WITH", 1, 17, "expected an option name"},
		{"REPLICATE T WITH Bogus", 1, 18, `unknown option "Bogus"; accepted options: DropTable, TruncateTable, AlterSchema, Key, SourceName, SoftDelete`},
		{"REPLICATE T WITH DropTable, DropTable", 1, 29, "option DropTable given twice"},
		{"REPLICATE T WITH DropTable=maybe", 1, 28, "expected true or false for DropTable"},
		{"REPLICATE T WITH Key", 1, 21, "expected '=' and a column list after Key"},
		{"REPLICATE T WITH Key='A,,B'", 1, 22, "bad Key list: expected a column name, found \",\""},
		{"REPLICATE T WITH SourceName", 1, 28, "expected '=' and a name after SourceName"},
		{"REPLICATE T WITH SourceName=", 1, 29, "expected a value for SourceName"},
		{"REPLICATE T WITH SourceName='" + strings.Repeat("x", 65) + "'", 1, 29, "at most 64 characters"},
		{"REPLICATE TABLES (a, b) WITH Key='Id'", 1, 30, "Key applies to one table"},
		{"REPLICATE ALL WITH Key='Id'", 1, 20, "Key applies to one table"},
		{"REPLICATE TABLES (a b)", 1, 21, "expected ',' or ')', found \"b\""},
		{"REPLICATE TABLES (a", 1, 20, "expected ',' or ')'"},
		{"REPLICATE ALL EXCLUDE", 1, 22, "expected TABLES or COLUMNS after EXCLUDE"},
		{"REPLICATE ALL EXCLUDE COLUMNS (Title)", 1, 37, "expected '.' between table and column"},
		{"REPLICATE T src extra", 1, 17, "expected end of statement after the source table"},
		{"REPLICATE T src WITH DropTable", 1, 17, "put WITH options before the source table"},
		{"REPLICATE T EXCLUDE (a)", 1, 21, "expected COLUMNS after EXCLUDE"},
		{"REPLICATE T SELECT 'unterminated", 1, 20, "unterminated string"},
		{"REPLICATE T /* open", 1, 13, "unterminated /* comment"},
		{"REPLICATE \"open", 1, 11, "unterminated quoted identifier"},
		{"REPLICATE T; \n  REPLICATE [x", 2, 13, "unterminated quoted identifier (missing ])"},
		{"REPLICATE T AS", 1, 15, "expected a SELECT or a source table after AS"},
		{"REPLICATE T = 1", 1, 13, "expected WITH, a SELECT, a source table or end of statement"},
		{"REPLICATE Tâché =", 1, 17, "found \"=\""},
	}
	for _, tt := range tests {
		_, err := Parse(tt.script)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tt.script, err)
			continue
		}
		if se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Parse(%q):\n got %d:%d %s\nwant %d:%d ...%s...", tt.script, se.Line, se.Column, se.Msg, tt.line, tt.col, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), "replicate: syntax error at line ") {
			t.Errorf("error text %q", err)
		}
	}
}

func TestSimpleSourceTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  Name
		ok    bool
	}{
		{"SELECT * FROM Tasks", Name{Table: "Tasks"}, true},
		{"select TaskId, Title from \"Tasks\" t where PlanId = 'x;y' order by 1 limit 5", Name{Table: "Tasks"}, true},
		{"SELECT * FROM main.Tasks", Name{Schema: "main", Table: "Tasks"}, true},
		{"SELECT (SELECT count(*) FROM Buckets b WHERE b.PlanId = p.PlanId) AS n, * FROM Plans p", Name{Table: "Plans"}, true},
		{"SELECT * FROM Tasks JOIN Buckets USING (BucketId)", Name{}, false},
		{"SELECT * FROM Tasks, Buckets", Name{}, false},
		{"SELECT PlanId, count(*) FROM Tasks GROUP BY PlanId", Name{}, false},
		{"SELECT * FROM a UNION SELECT * FROM b", Name{}, false},
		{"WITH x AS (SELECT 1) SELECT * FROM x", Name{}, false},
		{"SELECT * FROM json_each('[]')", Name{}, false},
		{"SELECT 1", Name{}, false},
	}
	for _, tt := range tests {
		got, ok := simpleSourceTable(tt.query)
		if got != tt.want || ok != tt.ok {
			t.Errorf("simpleSourceTable(%q) = %v, %v; want %v, %v", tt.query, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNameString(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n    Name
		want string
	}{
		{Name{Table: "Tasks"}, "Tasks"},
		{Name{Schema: "PROD", Table: "Tasks"}, "PROD.Tasks"},
		{Name{Schema: "a b", Table: `we"ird`}, `"a b"."we""ird"`},
		{Name{Table: "Tâches"}, "Tâches"},
		{Name{Table: "1st"}, `"1st"`},
	} {
		if got := tt.n.String(); got != tt.want {
			t.Errorf("%#v.String() = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"REPLICATE Tasks;", "REPLICATE ALL EXCLUDE TABLES (a)", "REPLICATE X WITH Key='a,b' SELECT 1",
		"REPLICATE `a`.[b] /* c */ -- d\n;", "REPLICATE TABLES (a EXCLUDE COLUMNS (b))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stmts, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Column < 1 {
				t.Fatalf("Parse(%q): bad error %v", s, err)
			}
			return
		}
		for _, st := range stmts {
			if !strings.Contains(s, st.Text) {
				t.Fatalf("statement text %q not in the script", st.Text)
			}
		}
	})
}
