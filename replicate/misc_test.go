package replicate

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
)

// TestDropTableEverywhere rebuilds a table in each database.
func TestDropTableEverywhere(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, tasksDDL)
		fillTasks(t, src, 0, 6)
		runOK(t, src, dst, "REPLICATE Tasks WITH SourceName='a'", Options{})
		// Without SourceName the key differs: only DropTable can rebuild it.
		res := run(t, src, dst, "REPLICATE Tasks", Options{})
		if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "DropTable") {
			t.Fatalf("key change without DropTable: %v", res[0].Err)
		}
		r := runOK(t, src, dst, "REPLICATE Tasks WITH DropTable", Options{})
		wantCounts(t, r, counts{Inserted: 6})
		r = runOK(t, src, dst, "REPLICATE Tasks", Options{})
		wantCounts(t, r, counts{Unchanged: 6})
		assertSame(t, src, dst, kind, "Tasks", "")
	})
}

// TestSingleTableForms covers EXCLUDE COLUMNS and an explicit source table.
func TestSingleTableForms(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 3)
	dst, _ := sqliteDest(t)
	r := runOK(t, src, dst, "REPLICATE Copy EXCLUDE COLUMNS (Assignments, etag) Tasks", Options{TablePrefix: "X_"})
	if r.Table != "Copy" || r.Query != `SELECT * FROM "Tasks"` {
		t.Fatalf("table %q query %q", r.Table, r.Query)
	}
	wantCounts(t, r, counts{Inserted: 3})
	if n := scalar[int](t, dst, "SELECT COUNT(*) FROM pragma_table_info('Copy') WHERE name IN ('Assignments', 'ETag')"); n != 0 {
		t.Fatal("excluded columns were copied")
	}
	for script, want := range map[string]string{
		"REPLICATE Copy EXCLUDE COLUMNS (Nope) Tasks":                                      "EXCLUDE COLUMNS names Nope",
		"REPLICATE Copy EXCLUDE COLUMNS (TaskId) Tasks":                                    "key column TaskId is excluded",
		"REPLICATE Dup SELECT TaskId, Title AS TaskId FROM Tasks":                          "two columns named TaskId",
		"REPLICATE Scoped WITH SourceName='a' SELECT TaskId, 'x' AS SourceName FROM Tasks": "which WITH SourceName adds",
		"REPLICATE PLANNER_REPLICATE_STATE SELECT * FROM Tasks":                            "bookkeeping table",
	} {
		res := run(t, src, dst, script, Options{})
		if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), want) {
			t.Errorf("%s: err %v, want %q", script, res[0].Err, want)
		}
	}
}

// TestUnusableDestination: a destination that is not SQLite, PostgreSQL or
// MySQL fails the whole run.
func TestUnusableDestination(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	bogus := openMem(t, &memTable{cols: []string{"x"}, types: []string{"TEXT"}})
	_, err := Run(context.Background(), src, bogus, "REPLICATE Tasks", Options{})
	if err == nil || !strings.Contains(err.Error(), "unsupported destination driver") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Run(context.Background(), src, bogus, "REPLICATE", Options{}); err == nil {
		t.Fatal("a bad script ran")
	}
}

// TestMySQLKeyTooLong: a key longer than its VARCHAR fails the table instead
// of being truncated.
func TestMySQLKeyTooLong(t *testing.T) {
	t.Parallel()
	dst, _ := mysqlDest(t)
	src, _ := sourceDB(t, "CREATE TABLE Refs (Url TEXT PRIMARY KEY, Alias TEXT)",
		"INSERT INTO Refs VALUES ('https://short', 'a')")
	runOK(t, src, dst, "REPLICATE Refs", Options{})
	mustExec(t, src, "INSERT INTO Refs VALUES (?, 'b')", "https://x/"+strings.Repeat("é", 800))
	res := run(t, src, dst, "REPLICATE Refs", Options{})
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "longer than the column's 768") || !strings.Contains(res[0].Err.Error(), "key column Url") {
		t.Fatalf("err = %v, want a too-long error naming the key column", res[0].Err)
	}
	if n := scalar[int](t, dst, "SELECT COUNT(*) FROM Refs"); n != 1 {
		t.Fatalf("%d rows, want the previous 1", n)
	}
}

// TestLogger: the run logs each table to the given logger.
func TestLogger(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 2)
	dst, _ := sqliteDest(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	run(t, src, dst, "REPLICATE Tasks; REPLICATE Missing", Options{Logger: log})
	out := buf.String()
	for _, want := range []string{`msg="replicate table ok" table=Tasks`, "inserted=2", `msg="replicate table failed" table=Missing`, "phase=lock"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestPostgresSearchPathMissing: a search_path naming no existing schema
// is said to be that, with the path, not "search_path is empty".
func TestPostgresSearchPathMissing(t *testing.T) {
	t.Parallel()
	pgAdmin(t) // skips without a server
	missing := "rt_missing_" + randSuffix()
	dst, err := openDest(context.Background(), withQuery(pgBaseURL(), "search_path", missing))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	src, _ := sourceDB(t, tasksDDL)
	_, err = Run(context.Background(), src, dst, "REPLICATE Tasks", Options{})
	if err == nil || !strings.Contains(err.Error(), "no schema of its search_path ("+missing+") exists") {
		t.Fatalf("got %v", err)
	}
}
