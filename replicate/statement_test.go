package replicate

import (
	"context"
	"strings"
	"testing"
)

// TestTablePrefixRule: Options.TablePrefix applies to destinations named
// after their source (NamedAfterSource, TABLES, ALL), never to a
// destination written in the statement, even one equal to the source's name.
func TestTablePrefixRule(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 2)
	dst, _ := sqliteDest(t)
	script := func(s string) []Statement {
		st, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, c := range []struct {
		stmts []Statement
		want  string
	}{
		{script("REPLICATE Tasks"), "P_Tasks"},
		{script("REPLICATE Tasks Tasks"), "Tasks"},
		{script("REPLICATE Buckets Tasks"), "Buckets"},
		{script("REPLICATE Open SELECT * FROM Tasks"), "Open"},
		{script("REPLICATE TABLES (Tasks)"), "P_Tasks"},
		{script("REPLICATE ALL"), "P_Tasks"},
		{script("REPLICATE S.Tasks"), "S.P_Tasks"},
		{[]Statement{TableStatement(Name{Table: "Tasks"})}, "P_Tasks"},
		{[]Statement{CopyStatement(Name{Table: "Tasks"}, Name{Table: "Tasks"})}, "Tasks"},
		{[]Statement{QueryStatement(Name{Table: "Q"}, "SELECT * FROM Tasks")}, "Q"},
		{[]Statement{TablesStatement(TableRef{Table: Name{Table: "Tasks"}})}, "P_Tasks"},
		{[]Statement{AllStatement()}, "P_Tasks"},
	} {
		res, err := RunStatements(context.Background(), src, dst, c.stmts, Options{TablePrefix: "P_"})
		if err != nil || len(res) != 1 {
			t.Fatalf("%s: %v, %v", c.stmts[0], res, err)
		}
		if res[0].Table != c.want {
			t.Errorf("%s: copied into %s, want %s", c.stmts[0], res[0].Table, c.want)
		}
	}
}

// TestStatementConstructors: statements built in Go have the grammar's
// defaults, render as the grammar, and are checked before anything runs.
func TestStatementConstructors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		st   Statement
		text string
	}{
		{TableStatement(Name{Table: "Tasks"}), "REPLICATE Tasks"},
		{TableStatement(Name{Schema: "prod", Table: "Tasks"}), "REPLICATE prod.Tasks"},
		{CopyStatement(Name{Table: "ALL"}, Name{Table: "Tasks"}), `REPLICATE "ALL" Tasks`},
		{QueryStatement(Name{Table: "Open Tasks"}, "SELECT * FROM Tasks"), `REPLICATE "Open Tasks" SELECT * FROM Tasks`},
		{TablesStatement(TableRef{Table: Name{Table: "Tasks"}, ExcludeColumns: []string{"Title"}}, TableRef{Table: Name{Table: "Plans"}}),
			"REPLICATE TABLES (Tasks EXCLUDE COLUMNS (Title), Plans)"},
		{AllStatement("Groups", "with"), `REPLICATE ALL EXCLUDE TABLES (Groups, "with")`},
	} {
		if !c.st.With.AlterSchema {
			t.Errorf("%s: AlterSchema off; the grammar's default is on", c.text)
		}
		if got := c.st.String(); got != c.text {
			t.Errorf("String() = %q, want %q", got, c.text)
		}
		back, err := Parse(c.st.String())
		if err != nil || back[0].NamedAfterSource != c.st.NamedAfterSource || back[0].With.AlterSchema != c.st.With.AlterSchema {
			t.Errorf("%s does not parse back: %+v, %v", c.text, back, err)
		}
	}
	st := QueryStatement(Name{Table: "Q"}, "SELECT 1 AS Id")
	st.With = With{Key: []string{"Id"}, SourceName: "it's", HasSourceName: true, SoftDelete: true}
	if got, want := st.String(), "REPLICATE Q WITH AlterSchema=false, SoftDelete, Key='Id', SourceName='it''s' SELECT 1 AS Id"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}

	src, _ := sourceDB(t, tasksDDL)
	dst, _ := sqliteDest(t)
	for _, c := range []struct {
		st   Statement
		want string
	}{
		{Statement{}, "no destination table"},
		{Statement{Dest: Name{Table: "X"}}, "neither a source table"},
		{Statement{Dest: Name{Table: "X"}, Source: Name{Table: "Y"}, Query: "SELECT 1"}, "both a source table"},
		{Statement{Dest: Name{Table: "X"}, Source: Name{Table: "Y"}, NamedAfterSource: true}, "NamedAfterSource"},
		{Statement{Kind: KindTables}, "without tables"},
		{Statement{Kind: KindAll, With: With{Key: []string{"a"}}}, "Key applies to one table"},
		{Statement{Kind: 7}, "unknown statement kind"},
		{TableStatement(Name{Table: "X"}), ""},
	} {
		c.st.With.SourceName, c.st.With.HasSourceName = strings.Repeat("x", 65), c.want == ""
		_, err := RunStatements(context.Background(), src, dst, []Statement{c.st}, Options{})
		want := c.want
		if want == "" {
			want = "SourceName must be at most 64 characters"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %q", c.st, err, want)
		}
	}
	if n := scalar[int](t, dst, "SELECT COUNT(*) FROM sqlite_master"); n != 0 {
		t.Errorf("invalid statements wrote %d objects", n)
	}
}
