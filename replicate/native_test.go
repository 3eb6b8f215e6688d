package replicate

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestNameStyles: snake_case and lower name the tables and columns replicate
// creates — the result's, the SourceName and soft-delete columns — so they
// are queried unquoted; state, deletes and history keep working.
func TestNameStyles(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := sourceDB(t, "CREATE TABLE Tasks (TaskId TEXT PRIMARY KEY, PlanId TEXT, CreatedByUserId TEXT, ETag TEXT)",
			"INSERT INTO Tasks VALUES ('t1', 'p1', 'u1', 'e1'), ('t2', 'p1', 'u2', 'e2')")
		opts := Options{NameStyle: NameSnake, SourceName: "prod", TablePrefix: "PROD_"}
		r := runOK(t, src, dst, "REPLICATE Tasks WITH SoftDelete", opts)
		if r.Table != "prod_tasks" {
			t.Fatalf("table %q, want prod_tasks", r.Table)
		}
		ph := "?"
		if kind == "postgres" {
			ph = "$1"
		}
		// Unquoted names, as a psql or mysql user writes them.
		if got := scalar[string](t, dst, "SELECT created_by_user_id FROM prod_tasks WHERE task_id = "+ph+" AND source_name = 'prod' AND is_deleted = "+map[bool]string{true: "false", false: "0"}[kind == "postgres"], "t2"); got != "u2" {
			t.Fatalf("created_by_user_id = %q", got)
		}
		if n := scalar[int](t, dst, "SELECT COUNT(e_tag) FROM prod_tasks WHERE plan_id = 'p1' AND deleted_date_time IS NULL"); n != 2 {
			t.Fatalf("%d rows", n)
		}
		mustExec(t, src, "DELETE FROM Tasks WHERE TaskId = 't1'")
		wantCounts(t, runOK(t, src, dst, "REPLICATE Tasks WITH SoftDelete", opts), counts{Deleted: 1, Unchanged: 1})
		if n := scalar[int](t, dst, "SELECT COUNT(*) FROM prod_tasks WHERE deleted_date_time IS NOT NULL"); n != 1 {
			t.Fatalf("%d rows marked deleted", n)
		}
		wantCounts(t, runOK(t, src, dst, "REPLICATE Tasks WITH SoftDelete", opts), counts{Unchanged: 1})
		h, err := NewHistory(context.Background(), dst, HistoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l, err := h.Runs(context.Background(), RunFilter{})
		if err != nil || l.Total != 3 {
			t.Fatalf("history: %+v, %v", l, err)
		}
		rec, err := h.Run(context.Background(), l.Runs[0].ID)
		if err != nil || len(rec.Tables) != 1 || rec.Tables[0].Table != "prod_tasks" {
			t.Fatalf("run record: %+v, %v", rec, err)
		}

		// lower, and the exact table alongside: each style is its own table.
		r = runOK(t, src, dst, "REPLICATE Tasks", Options{NameStyle: NameLower})
		if r.Table != "tasks" {
			t.Fatalf("lower: table %q", r.Table)
		}
		if got := scalar[string](t, dst, "SELECT createdbyuserid FROM tasks WHERE taskid = 't2'"); got != "u2" {
			t.Fatalf("lower: %q", got)
		}
		if kind == "postgres" {
			runOK(t, src, dst, "REPLICATE Tasks", Options{})
			if got := scalar[string](t, dst, `SELECT "PlanId" FROM "Tasks" WHERE "TaskId" = 't2'`); got != "p1" {
				t.Fatalf("exact: %q", got)
			}
		}
	})
	// Columns that collide in a style are an error naming both.
	src, _ := sourceDB(t, "CREATE TABLE T (TaskId TEXT PRIMARY KEY, task_id TEXT)")
	dst, _ := sqliteDest(t)
	res := run(t, src, dst, "REPLICATE T", Options{NameStyle: NameSnake})
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "TaskId and task_id are both named task_id") {
		t.Fatalf("collision: %v", res[0].Err)
	}
	if _, err := Run(context.Background(), src, dst, "REPLICATE T", Options{NameStyle: "camel"}); err == nil || !strings.Contains(err.Error(), "snake_case") {
		t.Fatalf("unknown style: %v", err)
	}
}

// TestNativeIDs: with a catalog source, columns that are a table's whole
// key elsewhere (PlanId, BucketId, TaskId) are indexed in every
// destination — TaskId not where it leads the key — and MySQL id columns
// are case-sensitive VARCHARs; a source without a catalog gets no index.
func TestNativeIDs(t *testing.T) {
	t.Parallel()
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		src, _ := plannerLikeSource(t)
		mustExec(t, src, "INSERT INTO Tasks (TaskId, PlanId, BucketId, Title, CreatedByUserId) VALUES ('t1', 'planAbc', 'b1', 'x', 'u1')")
		mustExec(t, src, "INSERT INTO TaskAssignments (TaskId, PlanId, BucketId, UserId) VALUES ('t1', 'planAbc', 'b1', 'u1')")
		res := run(t, src, dst, "REPLICATE TABLES (Tasks, TaskAssignments)", Options{})
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		d, err := newDialect(context.Background(), dst)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := dst.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tasks, err := d.describe(context.Background(), conn, Name{Table: "Tasks"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"PlanId", "BucketId"} {
			if !tasks.leadsIndex(c) {
				t.Errorf("Tasks.%s has no index (indexed: %v)", c, tasks.indexed)
			}
		}
		if tasks.leadsIndex("Title") || tasks.leadsIndex("CreatedByUserId") {
			t.Errorf("Tasks: unexpected indexes %v", tasks.indexed)
		}
		assign, err := d.describe(context.Background(), conn, Name{Table: "TaskAssignments"})
		if err != nil {
			t.Fatal(err)
		}
		if !assign.leadsIndex("PlanId") || !assign.leadsIndex("TaskId") {
			t.Errorf("TaskAssignments indexes %v", assign.indexed)
		}
		if kind == "mysql" {
			if typ := tasks.typeOf(d, "PlanId"); !strings.HasPrefix(typ, "varchar(") {
				t.Errorf("PlanId is %s, want a VARCHAR", typ)
			}
			if typ := tasks.typeOf(d, "CreatedByUserId"); !strings.HasPrefix(typ, "varchar(") {
				t.Errorf("CreatedByUserId is %s, want a VARCHAR", typ)
			}
			// Planner ids are case-sensitive.
			if n := scalar[int](t, dst, "SELECT COUNT(*) FROM Tasks WHERE PlanId = UPPER('planAbc')"); n != 0 {
				t.Errorf("PlanId = UPPER(...) matched %d rows", n)
			}
		}
		// Run again: the indexes exist, nothing changes.
		for _, r := range run(t, src, dst, "REPLICATE TABLES (Tasks, TaskAssignments)", Options{}) {
			if r.Err != nil || r.Unchanged != 1 || len(r.Warnings) != 0 {
				t.Fatalf("second run: %+v", r)
			}
		}

		// A source without a catalog: no guessing from names.
		plain, _ := sourceDB(t, "CREATE TABLE Plain (TaskId TEXT PRIMARY KEY, PlanId TEXT)", "INSERT INTO Plain VALUES ('t', 'p')")
		runOK(t, plain, dst, "REPLICATE Plain", Options{})
		pi, err := d.describe(context.Background(), conn, Name{Table: "Plain"})
		if err != nil {
			t.Fatal(err)
		}
		if pi.leadsIndex("PlanId") {
			t.Error("a source without a catalog got an index")
		}
	})
}
