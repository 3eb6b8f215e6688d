package replicate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plannersql/planner/schema"
)

// TestConvergence mutates every column type between runs and checks that the
// destination equals the source after each run, and that runs write only what
// changed.
func TestConvergence(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, tasksDDL)
		fillTasks(t, src, 0, 50)
		mustExec(t, src, "UPDATE Tasks SET BucketId = NULL, DueDateTime = NULL, Assignments = NULL WHERE TaskId = ?", taskRow(3)[0])

		r := runOK(t, src, dst, "REPLICATE Tasks;", Options{})
		wantCounts(t, r, counts{Inserted: 50})
		assertSame(t, src, dst, kind, "Tasks", "")

		r = runOK(t, src, dst, "REPLICATE Tasks;", Options{})
		wantCounts(t, r, counts{Unchanged: 50})

		// Every column type changes, NULLs come and go, rows come and go.
		id := func(i int) any { return taskRow(i)[0] }
		mutations := []struct {
			stmt string
			args []any
		}{
			{"UPDATE Tasks SET Title = 'renamed ''quoted'' 🎉' WHERE TaskId = ?", []any{id(1)}},
			{"UPDATE Tasks SET PercentComplete = 100, Priority = NULL WHERE TaskId = ?", []any{id(2)}},
			{"UPDATE Tasks SET BucketId = 'moved', DueDateTime = '2027-01-01T00:00:00.0000001Z', Assignments = '{}' WHERE TaskId = ?", []any{id(3)}},
			{"UPDATE Tasks SET DueDateTime = '2026-12-31T23:59:59.9999999Z' WHERE TaskId = ?", []any{id(4)}},
			{"UPDATE Tasks SET HasDescription = 1 - HasDescription WHERE TaskId = ?", []any{id(5)}},
			{"UPDATE Tasks SET AppliedCategories = '{\"category1\":true,\"category2\":true}' WHERE TaskId = ?", []any{id(6)}},
			{"UPDATE Tasks SET ETag = 'W/\"new\"' WHERE TaskId = ?", []any{id(7)}},
			{"UPDATE Tasks SET Title = NULL WHERE TaskId = ?", []any{id(8)}},
			{"DELETE FROM Tasks WHERE TaskId IN (?, ?)", []any{id(10), id(11)}},
		}
		for _, m := range mutations {
			mustExec(t, src, m.stmt, m.args...)
		}
		fillTasks(t, src, 50, 53)
		r = runOK(t, src, dst, "REPLICATE Tasks;", Options{})
		wantCounts(t, r, counts{Inserted: 3, Updated: 8, Deleted: 2, Unchanged: 50 - 8 - 2})
		assertSame(t, src, dst, kind, "Tasks", "")

		r = runOK(t, src, dst, "REPLICATE Tasks;", Options{})
		wantCounts(t, r, counts{Unchanged: 51})

		// Everything deleted: the destination empties.
		mustExec(t, src, "DELETE FROM Tasks")
		r = runOK(t, src, dst, "REPLICATE Tasks;", Options{})
		wantCounts(t, r, counts{Deleted: 51})
		assertSame(t, src, dst, kind, "Tasks", "")
	})
}

// TestNoWritesWhenUnchanged proves with a trigger that a second run touches no row.
func TestNoWritesWhenUnchanged(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 30)
	dst, _ := sqliteDest(t)
	runOK(t, src, dst, "REPLICATE Tasks", Options{})
	mustExec(t, dst, "CREATE TABLE writes (n INTEGER)")
	mustExec(t, dst, "INSERT INTO writes VALUES (0)")
	for _, ev := range []string{"INSERT", "UPDATE", "DELETE"} {
		mustExec(t, dst, "CREATE TRIGGER count_"+ev+" AFTER "+ev+" ON Tasks BEGIN UPDATE writes SET n = n + 1; END")
	}
	r := runOK(t, src, dst, "REPLICATE Tasks", Options{})
	wantCounts(t, r, counts{Unchanged: 30})
	if n := scalar[int](t, dst, "SELECT n FROM writes"); n != 0 {
		t.Fatalf("second run wrote %d rows, want 0", n)
	}
	mustExec(t, src, "UPDATE Tasks SET Priority = 99 WHERE TaskId = ?", taskRow(4)[0])
	r = runOK(t, src, dst, "REPLICATE Tasks", Options{})
	wantCounts(t, r, counts{Updated: 1, Unchanged: 29})
	if n := scalar[int](t, dst, "SELECT n FROM writes"); n != 1 {
		t.Fatalf("run with one change wrote %d rows, want 1", n)
	}
}

// TestDerivedColumnsChange covers the TaskDetails trap: a row whose ETag does
// not change while another column (copied from elsewhere) does.
func TestDerivedColumnsChange(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t,
		"CREATE TABLE TaskDetails (TaskId TEXT PRIMARY KEY, PlanId TEXT, BucketId TEXT, Description TEXT, ETag TEXT)",
		"INSERT INTO TaskDetails VALUES ('t1', 'p1', 'b1', 'd', 'W/\"same\"'), ('t2', 'p1', 'b1', 'd', 'W/\"same2\"')")
	dst, _ := sqliteDest(t)
	runOK(t, src, dst, "REPLICATE TaskDetails", Options{})
	mustExec(t, src, "UPDATE TaskDetails SET BucketId = 'b2' WHERE TaskId = 't1'")
	r := runOK(t, src, dst, "REPLICATE TaskDetails", Options{})
	wantCounts(t, r, counts{Updated: 1, Unchanged: 1})
	if b := scalar[string](t, dst, "SELECT BucketId FROM TaskDetails WHERE TaskId = 't1'"); b != "b2" {
		t.Fatalf("BucketId = %q, want b2", b)
	}
}

// TestSourceNameScoping copies two accounts into one table.
func TestSourceNameScoping(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		prod, _ := sourceDB(t, tasksDDL)
		fillTasks(t, prod, 0, 20)
		test, _ := sourceDB(t, tasksDDL)
		fillTasks(t, test, 10, 25) // overlapping ids: the key includes SourceName

		r := runOK(t, prod, dst, "REPLICATE Tasks WITH SourceName='prod'", Options{})
		wantCounts(t, r, counts{Inserted: 20})
		if r.Source != "prod" {
			t.Fatalf("Result.Source = %q", r.Source)
		}
		// The default from Options applies when the statement has none.
		r = runOK(t, test, dst, "REPLICATE Tasks", Options{SourceName: "test"})
		wantCounts(t, r, counts{Inserted: 15})
		sn := quoteFor(kind, "SourceName")
		ph := "?"
		if kind == "postgres" {
			ph = "$1"
		}
		assertSame(t, prod, dst, kind, "Tasks", sn+" = "+ph, "prod")
		assertSame(t, test, dst, kind, "Tasks", sn+" = "+ph, "test")

		// Deleting every prod row leaves test's rows alone.
		mustExec(t, prod, "DELETE FROM Tasks")
		r = runOK(t, prod, dst, "REPLICATE Tasks WITH SourceName='prod'", Options{})
		wantCounts(t, r, counts{Deleted: 20})
		assertSame(t, test, dst, kind, "Tasks", sn+" = "+ph, "test")
		if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, "Tasks")); n != 15 {
			t.Fatalf("%d rows left, want 15", n)
		}
		// TruncateTable is scoped too.
		r = runOK(t, test, dst, "REPLICATE Tasks WITH SourceName='test', TruncateTable", Options{})
		wantCounts(t, r, counts{Inserted: 15, Deleted: 15})

		// A statement without SourceName cannot write the scoped table.
		res := run(t, test, dst, "REPLICATE Tasks", Options{})
		if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "SourceName") {
			t.Fatalf("unscoped run into a scoped table: err = %v, want one mentioning SourceName", res[0].Err)
		}
	})
}

// TestSoftDelete marks vanished rows and unmarks them when they come back.
func TestSoftDelete(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, tasksDDL)
		fillTasks(t, src, 0, 10)
		now := time.Date(2026, 11, 28, 17, 43, 36, 0, time.UTC)
		opts := Options{Now: func() time.Time { return now }}
		runOK(t, src, dst, "REPLICATE Tasks WITH SoftDelete", opts)
		gone := taskRow(3)
		mustExec(t, src, "DELETE FROM Tasks WHERE TaskId = ?", gone[0])
		r := runOK(t, src, dst, "REPLICATE Tasks WITH SoftDelete", opts)
		wantCounts(t, r, counts{Deleted: 1, Unchanged: 9})
		tbl, isDel, delAt, id := quoteFor(kind, "Tasks"), quoteFor(kind, "IsDeleted"), quoteFor(kind, "DeletedDateTime"), quoteFor(kind, "TaskId")
		ph := "?"
		if kind == "postgres" {
			ph = "$1"
		}
		var deleted bool
		var at any
		if err := dst.QueryRow("SELECT "+isDel+", "+delAt+" FROM "+tbl+" WHERE "+id+" = "+ph, gone[0]).Scan(&deleted, &at); err != nil {
			t.Fatal(err)
		}
		if !deleted || canon(t, at, "DATETIME", kind) != "2026-11-28T17:43:36Z" {
			t.Fatalf("vanished row: IsDeleted=%v DeletedDateTime=%v", deleted, at)
		}
		if n := scalar[int](t, dst, "SELECT COUNT(*) FROM "+tbl); n != 10 {
			t.Fatalf("%d rows, want 10 (one marked)", n)
		}
		// Nothing changes: the marked row is not counted again.
		r = runOK(t, src, dst, "REPLICATE Tasks WITH SoftDelete", opts)
		wantCounts(t, r, counts{Unchanged: 9})
		// It comes back, changed.
		gone[3] = "back again"
		mustExec(t, src, "INSERT INTO Tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", gone...)
		r = runOK(t, src, dst, "REPLICATE Tasks WITH SoftDelete", opts)
		wantCounts(t, r, counts{Inserted: 1, Unchanged: 9})
		if err := dst.QueryRow("SELECT "+isDel+", "+delAt+" FROM "+tbl+" WHERE "+id+" = "+ph, gone[0]).Scan(&deleted, &at); err != nil {
			t.Fatal(err)
		}
		if deleted || at != nil {
			t.Fatalf("returned row: IsDeleted=%v DeletedDateTime=%v, want false and NULL", deleted, at)
		}
		assertSame(t, src, dst, kind, "Tasks", "")
	})
}

// TestAlterSchema adds new source columns and keeps dropped ones.
func TestAlterSchema(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE Items (Id TEXT PRIMARY KEY, A TEXT, B INTEGER)",
			"INSERT INTO Items VALUES ('1', 'a', 1), ('2', 'b', 2)")
		runOK(t, src, dst, "REPLICATE Items", Options{})

		mustExec(t, src, "ALTER TABLE Items ADD COLUMN C DATETIME")
		mustExec(t, src, "UPDATE Items SET C = '2026-01-01T00:00:00Z' WHERE Id = '1'")
		res := run(t, src, dst, "REPLICATE Items WITH AlterSchema=false", Options{})
		if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "AlterSchema") {
			t.Fatalf("new column without AlterSchema: err = %v", res[0].Err)
		}
		r := runOK(t, src, dst, "REPLICATE Items", Options{})
		wantCounts(t, r, counts{Updated: 2}) // the new column is filled in
		if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "added column C") {
			t.Fatalf("warnings %q", r.Warnings)
		}
		r = runOK(t, src, dst, "REPLICATE Items", Options{})
		wantCounts(t, r, counts{Unchanged: 2})

		// B is dropped from the source: kept, NULL for new rows, with a warning.
		mustExec(t, src, "ALTER TABLE Items DROP COLUMN B")
		mustExec(t, src, "INSERT INTO Items VALUES ('3', 'c', NULL)")
		r = runOK(t, src, dst, "REPLICATE Items", Options{})
		if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "column B is no longer in the source") {
			t.Fatalf("warnings %q", r.Warnings)
		}
		q := func(c, id string) any {
			ph := "?"
			if kind == "postgres" {
				ph = "$1"
			}
			return scalar[any](t, dst, "SELECT "+quoteFor(kind, c)+" FROM "+quoteFor(kind, "Items")+" WHERE "+quoteFor(kind, "Id")+" = "+ph, id)
		}
		if v := q("B", "3"); v != nil {
			t.Fatalf("dropped column in a new row = %v, want NULL", v)
		}
		if v, _ := asInt64(q("B", "1")); v != 1 {
			t.Fatalf("dropped column in an old row = %v, want 1 (kept)", v)
		}
		if v := q("C", "1"); canon(t, v, "DATETIME", kind) != "2026-01-01T00:00:00Z" {
			t.Fatalf("added column = %v", v)
		}
	})
}

// TestDropAndTruncate checks DropTable and TruncateTable.
func TestDropAndTruncate(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 5)
	dst, _ := sqliteDest(t)
	runOK(t, src, dst, "REPLICATE Tasks", Options{})
	mustExec(t, dst, "ALTER TABLE Tasks ADD COLUMN Extra TEXT")

	r := runOK(t, src, dst, "REPLICATE Tasks WITH TruncateTable", Options{})
	wantCounts(t, r, counts{Inserted: 5, Deleted: 5})
	r = runOK(t, src, dst, "REPLICATE Tasks WITH DropTable", Options{})
	wantCounts(t, r, counts{Inserted: 5})
	if n := scalar[int](t, dst, "SELECT COUNT(*) FROM pragma_table_info('Tasks') WHERE name = 'Extra'"); n != 0 {
		t.Fatal("DropTable kept the old table's column")
	}
	r = runOK(t, src, dst, "REPLICATE Tasks", Options{})
	wantCounts(t, r, counts{Unchanged: 5})
	assertSame(t, src, dst, "sqlite", "Tasks", "")
}

// TestStateRebuild: rows deleted or added behind replicate's back are
// noticed (the state's row count no longer matches) and repaired.
func TestStateRebuild(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 8)
	dst, _ := sqliteDest(t)
	runOK(t, src, dst, "REPLICATE Tasks", Options{})
	mustExec(t, dst, "DELETE FROM Tasks WHERE TaskId = ?", taskRow(2)[0])
	r := runOK(t, src, dst, "REPLICATE Tasks", Options{})
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "state did not match") {
		t.Fatalf("warnings %q", r.Warnings)
	}
	wantCounts(t, r, counts{Inserted: 1, Updated: 7})
	assertSame(t, src, dst, "sqlite", "Tasks", "")
	// A table replicate did not create: adopted the same way.
	mustExec(t, dst, "DROP TABLE planner_replicate_state")
	mustExec(t, dst, "INSERT INTO Tasks (TaskId) VALUES ('stray')")
	r = runOK(t, src, dst, "REPLICATE Tasks", Options{})
	wantCounts(t, r, counts{Updated: 8, Deleted: 1})
	assertSame(t, src, dst, "sqlite", "Tasks", "")
}

// TestKeys covers key discovery and its failures.
func TestKeys(t *testing.T) {
	t.Parallel()
	src, _ := plannerLikeSource(t)
	mustExec(t, src, `INSERT INTO TaskReferences (TaskId, PlanId, Url, ReferenceKey, Alias) VALUES ('t1', 'p', 'https://a/1', 'https%3A//a/1', 'one'), ('t1', 'p', 'https://a/2', 'https%3A//a/2', 'two'), ('t2', 'p', 'https://a/1', 'https%3A//a/1', 'three')`)
	mustExec(t, src, `CREATE TABLE NoKey (A TEXT, B TEXT)`)
	mustExec(t, src, `INSERT INTO NoKey VALUES ('x', '1'), ('y', '1'), ('x', '2')`)
	dst, _ := sqliteDest(t)

	// Composite key from sys_columns (the source table has no primary key).
	r := runOK(t, src, dst, "REPLICATE TaskReferences", Options{})
	wantCounts(t, r, counts{Inserted: 3})
	if pk := scalar[string](t, dst, "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('TaskReferences') WHERE pk > 0 ORDER BY pk)"); pk != "TaskId,ReferenceKey" {
		t.Fatalf("primary key %q, want TaskId,ReferenceKey", pk)
	}
	// Through a simple SELECT too, with a prefixed destination.
	r = runOK(t, src, dst, "REPLICATE PROD_Refs SELECT TaskId, ReferenceKey, Url, Alias FROM TaskReferences WHERE TaskId = 't1'", Options{})
	wantCounts(t, r, counts{Inserted: 2})

	for _, tc := range []struct{ script, want string }{
		{"REPLICATE NoKey", "add WITH Key="},
		{"REPLICATE X SELECT A, count(*) AS N FROM NoKey GROUP BY A", "add WITH Key="},
		{"REPLICATE Y SELECT Alias FROM TaskReferences", "key column TaskId is not in the statement's result"},
		{"REPLICATE Z WITH Key='A' SELECT * FROM NoKey", "two rows with key"},
		{"REPLICATE W WITH Key='Nope' SELECT * FROM NoKey", "key column Nope is not in"},
		{"REPLICATE V WITH Key='A' SELECT NULL AS A", "key column A is NULL"},
	} {
		res := run(t, src, dst, tc.script, Options{})
		if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.script, res[0].Err, tc.want)
		}
	}
	r = runOK(t, src, dst, "REPLICATE NoKey WITH Key='A,B'", Options{})
	wantCounts(t, r, counts{Inserted: 3})
}

// TestReplicateAllAndTables copies every table of a planner-like source.
func TestReplicateAllAndTables(t *testing.T) {
	t.Parallel()
	src, _ := plannerLikeSource(t)
	mustExec(t, src, `INSERT INTO Plans (PlanId, Title) VALUES ('p1', 'Plan')`)
	mustExec(t, src, `INSERT INTO Buckets (BucketId, PlanId, Name) VALUES ('b1', 'p1', 'To do'), ('b2', 'p1', 'Done')`)
	dst, _ := sqliteDest(t)
	res := run(t, src, dst, "REPLICATE ALL EXCLUDE TABLES (TaskDetails, groups) WITH SourceName='prod'", Options{TablePrefix: "PROD_"})
	var tables []string
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Table, r.Err)
		}
		tables = append(tables, r.Table)
	}
	want := "PROD_Plans PROD_PlanDetails PROD_PlanCategories PROD_PlanSharedWith PROD_Buckets PROD_Tasks PROD_TaskAssignments PROD_TaskChecklistItems PROD_TaskReferences PROD_TaskCategories PROD_TaskBoardFormats"
	if strings.Join(tables, " ") != want {
		t.Fatalf("tables %v, want %s", tables, want)
	}
	if n := scalar[int](t, dst, "SELECT COUNT(*) FROM PROD_Buckets WHERE SourceName = 'prod'"); n != 2 {
		t.Fatalf("PROD_Buckets has %d rows", n)
	}
	res = run(t, src, dst, "REPLICATE TABLES (Plans, Buckets EXCLUDE COLUMNS (OrderHint))", Options{})
	if len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("TABLES: %+v", res)
	}
	if n := scalar[int](t, dst, "SELECT COUNT(*) FROM pragma_table_info('Buckets') WHERE name = 'OrderHint'"); n != 0 {
		t.Fatal("EXCLUDE COLUMNS column was copied")
	}
}

// TestHistoryRows checks the history rows of successes and failures, as
// written in the history table (its columns are public).
func TestHistoryRows(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, tasksDDL)
		fillTasks(t, src, 0, 4)
		runOK(t, src, dst, "REPLICATE Tasks WITH SourceName='acct'", Options{})
		res := run(t, src, dst, "REPLICATE Broken SELECT * FROM NoSuchTable", Options{HistoryTable: "planner_replicate_history"})
		if res[0].Status() != StatusFailed {
			t.Fatalf("status %s", res[0].Status())
		}
		q := "SELECT " + colsFor(kind, "Statement, TableName, SourceName, Inserted, Updated, Deleted, Unchanged, Status, Error") +
			" FROM " + quoteFor(kind, "planner_replicate_history") + " ORDER BY " + quoteFor(kind, "Id")
		rows, err := dst.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		type hist struct {
			Statement, Table string
			Source           sql.NullString
			I, U, D, N       int64
			Status           string
			Err              sql.NullString
		}
		var got []hist
		for rows.Next() {
			var h hist
			if err := rows.Scan(&h.Statement, &h.Table, &h.Source, &h.I, &h.U, &h.D, &h.N, &h.Status, &h.Err); err != nil {
				t.Fatal(err)
			}
			got = append(got, h)
		}
		if len(got) != 2 {
			t.Fatalf("%d history rows, want 2: %+v", len(got), got)
		}
		if g := got[0]; g.Statement != "REPLICATE Tasks WITH SourceName='acct'" || g.Table != "Tasks" || g.Source.String != "acct" || g.I != 4 || g.Status != "ok" || g.Err.Valid {
			t.Errorf("success row %+v", g)
		}
		if g := got[1]; g.Table != "Broken" || g.Status != "failed" || !strings.Contains(g.Err.String, "NoSuchTable") {
			t.Errorf("failure row %+v", g)
		}
	})
}

// TestFailureMidTable: a source error or a destination error mid-table
// leaves the previous state, and the next run converges.
func TestFailureMidTable(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		_, path := sourceDB(t, tasksDDL)
		h := &hooks{match: "/*hooked*/", after: -1}
		src := openHooked(t, path, h)
		fillTasks(t, src, 0, 40)
		script := "REPLICATE Tasks SELECT /*hooked*/ * FROM Tasks"
		opts := Options{BatchSize: 5}
		runOK(t, src, dst, script, opts)
		before := readCanon(t, dst, kind, "SELECT "+colsFor(kind, tasksCols)+" FROM "+quoteFor(kind, "Tasks"), tasksTypes)

		mustExec(t, src, "UPDATE Tasks SET Title = 'changed'")
		mustExec(t, src, "DELETE FROM Tasks WHERE rowid % 5 = 0")
		fillTasks(t, src, 100, 110)

		// The source fails after 25 rows, with 20 written in this transaction.
		h.after, h.err = 25, errors.New("graph: 503 service unavailable")
		res := run(t, src, dst, script, opts)
		if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "503") {
			t.Fatalf("err = %v, want the source's", res[0].Err)
		}
		after := readCanon(t, dst, kind, "SELECT "+colsFor(kind, tasksCols)+" FROM "+quoteFor(kind, "Tasks"), tasksTypes)
		if !equalRows(before, after) {
			t.Fatal("a failed run changed the destination")
		}

		// The destination fails mid-table.
		h.after, h.err = -1, nil
		mustExec(t, src, "UPDATE Tasks SET Title = 'boom' WHERE TaskId = ?", taskRow(104)[0])
		switch kind {
		case "sqlite":
			mustExec(t, dst, `CREATE TRIGGER boom BEFORE INSERT ON Tasks WHEN NEW.Title = 'boom' BEGIN SELECT RAISE(ABORT, 'boom rejected'); END`)
		case "postgres":
			mustExec(t, dst, `ALTER TABLE "Tasks" ADD CONSTRAINT boom CHECK ("Title" <> 'boom')`)
		case "mysql":
			mustExec(t, dst, "ALTER TABLE `Tasks` ADD CONSTRAINT boom CHECK (`Title` <> 'boom')")
		}
		res = run(t, src, dst, script, opts)
		if res[0].Err == nil {
			t.Fatal("destination error not reported")
		}
		after = readCanon(t, dst, kind, "SELECT "+colsFor(kind, tasksCols)+" FROM "+quoteFor(kind, "Tasks"), tasksTypes)
		if !equalRows(before, after) {
			t.Fatal("a failed run changed the destination")
		}
		switch kind {
		case "sqlite":
			mustExec(t, dst, "DROP TRIGGER boom")
		case "postgres":
			mustExec(t, dst, `ALTER TABLE "Tasks" DROP CONSTRAINT boom`)
		case "mysql":
			mustExec(t, dst, "ALTER TABLE `Tasks` DROP CONSTRAINT boom")
		}
		r := runOK(t, src, dst, script, opts)
		wantCounts(t, r, counts{Inserted: 10, Updated: 32, Deleted: 8})
		assertSame(t, src, dst, kind, "Tasks", "")
	})
}

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

// TestStop finishes the table in flight and skips the rest.
func TestStop(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL, "CREATE TABLE A (Id TEXT PRIMARY KEY)", "CREATE TABLE B (Id TEXT PRIMARY KEY)")
	fillTasks(t, src, 0, 3000)
	dst, _ := sqliteDest(t)
	stop := make(chan struct{})
	var phases []Phase
	opts := Options{Stop: stop, Progress: func(p Progress) {
		if p.Index == 0 {
			phases = append(phases, p.Phase)
		}
		if p.Index == 0 && p.Phase == PhaseCopy && p.Read == 1000 {
			close(stop) // mid-table
		}
	}}
	res := run(t, src, dst, "REPLICATE Tasks; REPLICATE A; REPLICATE B", opts)
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	if res[0].Err != nil || res[0].Inserted != 3000 {
		t.Fatalf("table in flight: %v, %d rows", res[0].Err, res[0].Inserted)
	}
	for _, r := range res[1:] {
		if !errors.Is(r.Err, ErrStopped) || r.Status() != StatusSkipped {
			t.Fatalf("%s: err %v status %s, want stopped", r.Table, r.Err, r.Status())
		}
		if want := "replicate: " + r.Table + ": stopped before this table"; r.Err.Error() != want {
			t.Errorf("error %q, want %q", r.Err, want)
		}
	}
	if phases[0] != PhaseStart || phases[len(phases)-1] != PhaseDone {
		t.Fatalf("phases %v", phases)
	}
	if n := scalar[int](t, dst, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('A', 'B')"); n != 0 {
		t.Fatal("skipped tables were created")
	}
}

// TestContextCanceled: a canceled run returns an error and skips the rest.
func TestContextCanceled(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, tasksDDL)
	fillTasks(t, src, 0, 10)
	dst, _ := sqliteDest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, src, dst, "REPLICATE Tasks", Options{})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	if len(res) == 1 && (!errors.Is(res[0].Err, ErrStopped) || !errors.Is(res[0].Err, context.Canceled) ||
		res[0].Err.Error() != "replicate: Tasks: stopped before this table (context canceled)") {
		t.Errorf("table error %q, want it stopped by the cancellation", res[0].Err)
	}
	if len(res) > 0 && res[0].Err == nil {
		t.Fatal("a canceled run copied a table")
	}
}

// TestCompositeKeys deletes and rebuilds through keys of every kind (text,
// DATETIME with 7 fractional digits, integer), which each destination stores
// differently: deletes find rows by reading the destination's keys back.
func TestCompositeKeys(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE Events (Id TEXT, At DATETIME, N INTEGER, V TEXT, PRIMARY KEY (Id, At, N))")
		for i := range 30 {
			mustExec(t, src, "INSERT INTO Events VALUES (?, ?, ?, ?)", fmt.Sprintf("e%d", i%3),
				fmt.Sprintf("2026-11-28T17:43:%02d.%07dZ", i, 1234567+i), i%4, fmt.Sprint("v", i))
		}
		types := []schema.Type{schema.Text, schema.DateTime, schema.Integer, schema.Text}
		same := func() {
			t.Helper()
			want := readCanon(t, src, kind, "SELECT Id, At, N, V FROM Events", types)
			got := readCanon(t, dst, kind, "SELECT "+colsFor(kind, "Id, At, N, V")+" FROM "+quoteFor(kind, "Events"), types)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("(-source +destination):\n%s", diff)
			}
		}
		r := runOK(t, src, dst, "REPLICATE Events WITH SourceName='a'", Options{})
		wantCounts(t, r, counts{Inserted: 30})
		mustExec(t, src, "DELETE FROM Events WHERE N = 1")
		mustExec(t, src, "UPDATE Events SET V = 'changed' WHERE N = 2")
		r = runOK(t, src, dst, "REPLICATE Events WITH SourceName='a'", Options{})
		wantCounts(t, r, counts{Updated: 7, Deleted: 8, Unchanged: 15})
		same()

		// A row deleted behind replicate's back is noticed and restored.
		mustExec(t, dst, "DELETE FROM "+quoteFor(kind, "Events")+" WHERE "+quoteFor(kind, "V")+" = 'v0'")
		mustExec(t, src, "DELETE FROM Events WHERE V = 'v3'")
		r = runOK(t, src, dst, "REPLICATE Events WITH SourceName='a'", Options{})
		if len(r.Warnings) != 1 {
			t.Fatalf("warnings %q", r.Warnings)
		}
		wantCounts(t, r, counts{Inserted: 1, Updated: 20, Deleted: 1})
		same()
		r = runOK(t, src, dst, "REPLICATE Events WITH SourceName='a'", Options{})
		wantCounts(t, r, counts{Unchanged: 21})
	})
}
