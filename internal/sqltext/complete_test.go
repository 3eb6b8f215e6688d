package sqltext

import (
	"strings"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteComplete is SQLite's own sqlite3_complete(): whether s ends with a
// complete statement, by the rules the sqlite3 shell reads scripts with.
func sqliteComplete(t testing.TB, s string) bool {
	tls := libc.NewTLS()
	defer tls.Close()
	p, err := libc.CString(s)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, p)
	return sqlite3.Xsqlite3_complete(tls, p) != 0
}

// splitComplete is the same question answered by Split: nothing is left
// open (a string, a quoted identifier, a comment, a trigger's body) and
// the last token is a ';' that ended a statement.
func splitComplete(s string) bool {
	var last Token
	for _, t := range Lex(s) {
		if t.Unterminated {
			return false
		}
		if t.Kind != Comment {
			last = t
		}
	}
	stmts := Split(s)
	return last.IsOp(";") && (len(stmts) == 0 || stmts[len(stmts)-1].Terminated)
}

// comparable reports whether sqlite3_complete() can judge s as SQLite's
// tokenizer reads it: it stops at a NUL, reads \v and a byte order mark as
// tokens rather than white space, and knows no Tcl-style parameter $a(x;y),
// one token for the tokenizer, whose ';' it takes for the end. (It also
// reads a "--" comment with no end of line as unfinished, so the fuzz test
// adds one.)
func comparable(s string) bool {
	if strings.ContainsAny(s, "\x00\v") || strings.Contains(s, "\xef\xbb\xbf") {
		return false
	}
	for _, t := range Lex(s) {
		if (t.Kind == Param || t.Kind == Illegal) && strings.ContainsRune(t.Text, '(') {
			return false
		}
	}
	return true
}

func FuzzSplitAgreesWithSQLite(f *testing.F) {
	for _, s := range []string{"SELECT 'a;b' FROM [c;d]; -- e", "CREATE TRIGGER t BEGIN SELECT 1; END;",
		"EXPLAIN QUERY PLAN CREATE TEMP TRIGGER t BEGIN SELECT 1;", "/* ; */ ;", "SELECT x'0;'; SELECT \"a;\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s += "\n"
		if !comparable(s) {
			return
		}
		if got, want := splitComplete(s), sqliteComplete(t, s); got != want {
			t.Fatalf("%q: Split says complete=%v, sqlite3_complete says %v", s, got, want)
		}
	})
}

// TestSplitAgreesWithSQLite: where Split ends statements is where SQLite's
// sqlite3_complete() does, triggers included.
func TestSplitAgreesWithSQLite(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", " ", ";", ";;", "SELECT 1", "SELECT 1;", "SELECT 1; -- c\n", "SELECT 1; /* c */", "SELECT 1; /* open",
		"SELECT 'a;b'", "SELECT 'a;b';", "SELECT 'it''s';", `SELECT "a;b";`, "SELECT [a;b];", "SELECT `a;b`;",
		"SELECT [a;", "SELECT 'open;", "SELECT x'00';", "SELECT $a; SELECT :b; SELECT #c; SELECT @d;",
		"CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;", "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;",
		"create temp trigger t after insert on x begin select 1; end ;", "CREATE TEMPORARY TRIGGER t BEGIN SELECT 1; END",
		"EXPLAIN CREATE TRIGGER t BEGIN SELECT 1; END;", "EXPLAIN QUERY PLAN CREATE TRIGGER t BEGIN SELECT 1;",
		"EXPLAIN x y CREATE TRIGGER t BEGIN SELECT 1;", "CREATE TEMP TEMP TRIGGER t BEGIN SELECT 1;",
		"CREATE TRIGGER t BEGIN SELECT CASE WHEN 1 THEN 2 END; END;", "CREATE TRIGGER t BEGIN SELECT 1;; END;",
		"CREATE TRIGGER t BEGIN SELECT 1; /* c */ END -- c\n;", `CREATE TRIGGER t BEGIN SELECT 1; "END";`,
		"CREATE TABLE trigger(a);", "SELECT 1; CREATE TRIGGER t BEGIN SELECT 1;", "CREATE VIEW v AS SELECT 1; END;",
		"SELECT 1 -- ;\n", "SELECT 1 /* ; */", "SELECT a||b;", "SELECT 'C:\\'; SELECT 2;", `SELECT "a\"; SELECT 2;`,
		"SELECT 1;\f", "SELECT 1;\r\n", "SELECT é;", "SELECT 1_000;", "SELECT 0x;", "SELECT 1e;", "SELECT ?1;",
	} {
		if !comparable(s) {
			t.Fatalf("corpus entry %q cannot be compared", s)
		}
		if got, want := splitComplete(s), sqliteComplete(t, s); got != want {
			t.Errorf("%q: Split says complete=%v, sqlite3_complete says %v", s, got, want)
		}
	}
}
