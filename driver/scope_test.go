package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/schema"
)

// requests runs q to its last row and returns the Graph HTTP requests it
// sent (a $batch counts one) and its rows, sorted.
func (e *env) requests(t *testing.T, q string, args ...any) (int, [][]string) {
	t.Helper()
	before := e.cn.Requests()
	rows := (&env{t: t, db: e.db}).query(q, args...)
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(strings.Join(a, "\x00"), strings.Join(b, "\x00")) })
	return e.cn.Requests() - before, rows
}

// oracle copies every planner table of e into a plain SQLite database, so
// that a statement's rows can be checked against SQLite's own evaluation.
func oracle(t *testing.T, e *env) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, tb := range schema.All() {
		var cols, marks []string
		for _, c := range tb.Columns {
			cols = append(cols, schema.QuoteIdent(c.Name)+" "+string(c.Type))
			marks = append(marks, "?")
		}
		if _, err := db.Exec(fmt.Sprintf("CREATE TABLE %s (%s)", schema.QuoteIdent(tb.Name), strings.Join(cols, ", "))); err != nil {
			t.Fatal(err)
		}
		rows, err := e.db.Query("SELECT * FROM " + tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		ins := fmt.Sprintf("INSERT INTO %s VALUES (%s)", schema.QuoteIdent(tb.Name), strings.Join(marks, ", "))
		for rows.Next() {
			vals := make([]any, len(tb.Columns))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ins, vals...); err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
	}
	return db
}

// queryAll runs q on db and returns its rows as sorted strings.
func queryAll(t *testing.T, db *sql.DB, q string) [][]string {
	t.Helper()
	e := &env{t: t, db: db}
	rows := e.query(q)
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(strings.Join(a, "\x00"), strings.Join(b, "\x00")) })
	return rows
}

// TestJoinRequests checks the statements of issue 11 and their variants
// against their request budget: the requests of scanning each referenced
// table once, alone, with the same pushed-down constraints, plus 10 % —
// whatever join order SQLite picks — and their rows against SQLite's own
// evaluation of the same statement over copies of the tables.
func TestJoinRequests(t *testing.T) {
	e := newEnv(t, nil, graphtest.WithGenerated(graphtest.GenSpec{Seed: 11, Plans: 5, TasksPerPlan: 400}))
	ref := oracle(t, e)
	for _, q := range joinQueries(e.srv, e.plans()) {
		t.Run(q.name, func(t *testing.T) {
			floor := 0
			var scans []string
			for _, s := range q.scans {
				n, _ := e.requests(t, s)
				floor += n
				scans = append(scans, fmt.Sprint(n))
			}
			if q.scans == nil {
				// A literal IN list: the objects it names in $batch
				// requests of 20 — 50 tasks (with their details for
				// TaskDetails: 100 requests), or the plans or buckets of
				// the tenant (fewer than 20).
				switch {
				case strings.Contains(q.sql, "FROM TaskDetails"):
					floor = 5
				case strings.Contains(q.sql, "FROM Tasks"):
					floor = 3
				default:
					floor = 1
				}
				scans = []string{"ceil(requests/20)"}
			}
			got, rows := e.requests(t, q.sql)
			budget := floor + floor/10
			t.Logf("%d requests; budget %d (scans %s = %d, + 10 %%)", got, budget, strings.Join(scans, " + "), floor)
			if got > budget {
				t.Errorf("%d requests, over the budget of %d (scans %s = %d, + 10 %%)", got, budget, strings.Join(scans, " + "), floor)
			}
			if want := queryAll(t, ref, q.sql); !slices.EqualFunc(rows, want, slices.Equal) {
				t.Errorf("%d rows differ from SQLite's evaluation (%d rows)", len(rows), len(want))
			}
		})
	}
}

// TestStatementsReadAfresh checks that nothing read is reused across
// statements: each of two statements in a row (on one connection, as a
// prepared statement, inside a transaction, with joins that keep what they
// read) sees a write another client made between them.
func TestStatementsReadAfresh(t *testing.T) {
	e := countingEnv(t)
	other := newEnvOn(t, e.srv)
	plan := e.plans()[0]
	task := e.srv.TaskIDs(plan)[0]
	ctx := context.Background()
	conn, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	prepared, err := conn.PrepareContext(ctx, `SELECT t.Title, d.Description, a.UserId FROM Tasks t
		JOIN TaskDetails d USING (TaskId) LEFT JOIN TaskAssignments a USING (TaskId) WHERE t.PlanId = ? AND t.TaskId = ?`)
	if err != nil {
		t.Fatal(err)
	}
	defer prepared.Close()
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	queriers := []struct {
		name  string
		query func(q string, args ...any) (*sql.Rows, error)
	}{
		{"db", func(q string, args ...any) (*sql.Rows, error) { return e.db.QueryContext(ctx, q, args...) }},
		{"conn", func(q string, args ...any) (*sql.Rows, error) { return conn.QueryContext(ctx, q, args...) }},
		{"tx", func(q string, args ...any) (*sql.Rows, error) { return tx.QueryContext(ctx, q, args...) }},
		{"prepared", func(_ string, args ...any) (*sql.Rows, error) { return prepared.QueryContext(ctx, args...) }},
	}
	join := `SELECT t.Title, d.Description, a.UserId FROM Tasks t JOIN TaskDetails d USING (TaskId)
		LEFT JOIN TaskAssignments a USING (TaskId) WHERE t.PlanId = ? AND t.TaskId = ?`
	read := func(t *testing.T, query func(string, ...any) (*sql.Rows, error)) string {
		rows, err := query(join, plan, task)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var title, desc, user sql.NullString
			if err := rows.Scan(&title, &desc, &user); err != nil {
				t.Fatal(err)
			}
			out = append(out, title.String+"|"+desc.String+"|"+user.String)
		}
		return strings.Join(out, ";")
	}
	users := e.srv.Users()
	for i, q := range queriers {
		t.Run(q.name, func(t *testing.T) {
			before := read(t, q.query)
			n := fmt.Sprint(i)
			other.exec("UPDATE Tasks SET Title = ? WHERE TaskId = ?", "title "+n, task)
			other.exec("UPDATE TaskDetails SET Description = ? WHERE TaskId = ?", "description "+n, task)
			other.exec("INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)", task, users[i%len(users)].ID)
			after := read(t, q.query)
			if after == before || !strings.Contains(after, "title "+n+"|description "+n+"|") || !strings.Contains(after, users[i%len(users)].ID) {
				t.Errorf("the second statement did not see the write between them:\nbefore %s\n after %s", before, after)
			}
		})
	}
}

// TestSnapshotReadsOnce checks a run-scoped Snapshot: the statements of a
// run read each Graph object once (every table, one statement each, costs
// the floor: the lists once and the details in $batch requests of 20), see
// one consistent tenant, and statements after Close read afresh.
func TestSnapshotReadsOnce(t *testing.T) {
	spec := graphtest.GenSpec{Seed: 21, Plans: 5, TasksPerPlan: 60, BucketsPerPlan: 3}
	e := newEnv(t, nil, graphtest.WithGenerated(spec), graphtest.WithPageSize(50))
	other := newEnvOn(t, e.srv)
	groups, tasks := len(e.groups()), spec.Plans*spec.TasksPerPlan
	pages := (spec.TasksPerPlan + 49) / 50
	floor := 1 + groups + (spec.Plans+19)/20 + spec.Plans + spec.Plans*pages + (tasks+19)/20
	snap := e.cn.NewSnapshot()
	ctx := snap.Context(context.Background())
	before := e.cn.Requests()
	counts := map[string]int{}
	task := e.srv.TaskIDs(e.plans()[0])[0]
	for i, tb := range schema.All() {
		if i > 0 && schema.All()[i-1].Name == "Tasks" {
			// A change after the run read the tasks is not seen by its
			// later statements: the run's tables stay consistent with
			// each other.
			other.exec("UPDATE Tasks SET Title = 'changed' WHERE TaskId = ?", task)
		}
		var n int
		if err := e.db.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT * FROM "+tb.Name+")").Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[tb.Name] = n
	}
	if got := e.cn.Requests() - before; got != floor {
		t.Errorf("every table through one snapshot: %d requests, want the floor %d (1 + %d groups + %d plan details $batch + %d bucket lists + %d task pages + %d details $batch)",
			got, floor, groups, (spec.Plans+19)/20, spec.Plans, spec.Plans*pages, (tasks+19)/20)
	}
	if counts["Tasks"] != tasks {
		t.Errorf("%d tasks, want %d", counts["Tasks"], tasks)
	}
	var title string
	if err := e.db.QueryRowContext(ctx, "SELECT Title FROM Tasks WHERE TaskId = ?", task).Scan(&title); err != nil || title == "changed" {
		t.Errorf("inside the run: title %q (%v), want the run's own read", title, err)
	}
	reads := e.cn.Requests()
	for range 2 {
		e.db.QueryRowContext(ctx, "SELECT count(*) FROM Tasks t JOIN TaskChecklistItems c USING (TaskId)").Scan(new(int))
	}
	if n := e.cn.Requests() - reads; n != 0 {
		t.Errorf("a join of what the run read sent %d requests, want 0", n)
	}
	snap.Close()
	if err := e.db.QueryRowContext(ctx, "SELECT Title FROM Tasks WHERE TaskId = ?", task).Scan(&title); err != nil || title != "changed" {
		t.Errorf("after Close: title %q (%v), want the tenant as it is now", title, err)
	}
}

// TestINListHints checks which ids a statement's IN lists name: literals
// and parameters of every form, on the key columns, not in NOT IN lists or
// lists holding a subquery or an expression.
func TestINListHints(t *testing.T) {
	args := []driver.NamedValue{{Ordinal: 1, Value: "p1"}, {Ordinal: 2, Value: "p2"}, {Name: "who", Ordinal: 3, Value: "n1"}, {Ordinal: 7, Value: "s7"}}
	tests := []struct {
		q    string
		want map[string][]string
	}{
		{"SELECT * FROM Tasks WHERE TaskId IN ('a', 'b''c')", map[string][]string{"task": {"a", "b'c"}}},
		{"SELECT * FROM Tasks t WHERE t.taskid in (?, ?) AND PlanId IN (?7)", map[string][]string{"task": {"p1", "p2"}, "plan": {"s7"}}},
		{"SELECT * FROM Plans WHERE \"PlanId\" IN (:who, 'x') OR GroupId IN (@who)", map[string][]string{"plan": {"n1", "x"}, "group": {"n1"}}},
		{"SELECT * FROM Buckets WHERE BucketId IN ($who) -- TaskId IN ('no')", map[string][]string{"bucket": {"n1"}}},
		{"SELECT * FROM Tasks WHERE TaskId NOT IN ('a')", map[string][]string{}},
		{"SELECT * FROM Tasks WHERE TaskId IN (SELECT TaskId FROM TaskAssignments)", map[string][]string{}},
		{"SELECT * FROM Tasks WHERE TaskId IN ('a' || 'b', 'c')", map[string][]string{}},
		{"SELECT * FROM Tasks WHERE Title IN ('a')", map[string][]string{}},
	}
	for _, tt := range tests {
		if got := inListHints(tt.q, args); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.q, got, tt.want)
		}
	}
	// Lists written other ways than IN (...): a JSON array bound as one
	// value, the usual way to pass a list from Go (in an IN subquery, of
	// its column's kind; elsewhere, a join with it, of every kind); two or
	// more equalities on one key column (an OR chain); a VALUES list in a
	// query.
	every := func(ids ...string) map[string][]string {
		return map[string][]string{"task": ids, "plan": ids, "bucket": ids, "group": ids}
	}
	jsonArgs := []driver.NamedValue{{Ordinal: 1, Value: `["a", "b", 3, {"k": "c"}]`}, {Name: "who", Ordinal: 2, Value: []byte(`["x","y"]`)}}
	more := []struct {
		q    string
		args []driver.NamedValue
		want map[string][]string
	}{
		{"SELECT * FROM Tasks WHERE TaskId IN (SELECT value FROM json_each(?))", jsonArgs, map[string][]string{"task": {"a", "b", "c"}}},
		{"SELECT * FROM TaskDetails WHERE TaskId IN (SELECT j.value FROM json_each('[\"c\", 1]') AS j)", nil, map[string][]string{"task": {"c"}}},
		{"SELECT * FROM json_each(:who) j JOIN Tasks t ON t.TaskId = j.value", jsonArgs, every("x", "y")},
		{"SELECT * FROM Tasks WHERE TaskId IN (SELECT value FROM json_each(?)) AND TaskId NOT IN (SELECT value FROM json_each(:who))", jsonArgs, map[string][]string{"task": {"a", "b", "c"}}},
		{"SELECT * FROM Tasks WHERE TaskId = ? OR TaskId = ? OR taskid = 'z'", args, map[string][]string{"task": {"p1", "p2", "z"}}},
		{"SELECT * FROM Tasks WHERE TaskId = ?", args, map[string][]string{}},
		{"SELECT * FROM Tasks t JOIN TaskDetails d USING (TaskId) WHERE t.TaskId = ?1 AND d.TaskId = ?1", args, map[string][]string{}},
		{"WITH x(id) AS (VALUES (?), ('q')) SELECT * FROM x JOIN Tasks t ON t.TaskId = x.id", args, every("p1", "q")},
		{"INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)", args, map[string][]string{}},
		{"UPDATE Tasks SET Title = 'x' WHERE TaskId = ? OR TaskId = ?", args, map[string][]string{"task": {"p1", "p2"}}},
	}
	for _, tt := range more {
		got := inListHints(tt.q, tt.args)
		for k := range got {
			slices.Sort(got[k])
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.q, got, tt.want)
		}
	}
	// Bound parameters are read ahead like literals.
	e := newEnv(t, nil, graphtest.WithGenerated(graphtest.GenSpec{Seed: 11, Plans: 2, TasksPerPlan: 30}))
	ids := e.srv.TaskIDs(e.plans()[0])
	q := "SELECT count(*) FROM Tasks WHERE TaskId IN (" + strings.Repeat("?, ", 24) + "?)"
	vals := make([]any, 25)
	for i := range vals {
		vals[i] = ids[i]
	}
	n, rows := e.requests(t, q, vals...)
	if rows[0][0] != "25" || n != 2 {
		t.Errorf("25 bound task ids: %v rows in %d requests, want 25 in 2 ($batch of 20)", rows, n)
	}
	// The same 25 ids written the other ways a program passes a list: 2
	// requests for the tasks, 3 with their details ($batch of 20, a task
	// and its details two requests of it).
	list, _ := json.Marshal(vals)
	eqs := strings.TrimSuffix(strings.Repeat("TaskId = ? OR ", 25), " OR ")
	values := strings.TrimSuffix(strings.Repeat("(?), ", 25), ", ")
	for _, tc := range []struct {
		q    string
		args []any
		want int
	}{
		{"SELECT count(*) FROM Tasks WHERE TaskId IN (SELECT value FROM json_each(?))", []any{string(list)}, 2},
		{"SELECT count(Description) >= 0, count(*) FROM TaskDetails WHERE TaskId IN (SELECT value FROM json_each(?))", []any{string(list)}, 3},
		{"SELECT count(d.Description) >= 0, count(*) FROM json_each(?) j JOIN TaskDetails d ON d.TaskId = j.value", []any{string(list)}, 3},
		{"SELECT count(*) FROM Tasks WHERE " + eqs, vals, 2},
		{"WITH x(id) AS (VALUES " + values + ") SELECT count(d.Description) >= 0, count(*) FROM x JOIN TaskDetails d ON d.TaskId = x.id", vals, 3},
	} {
		n, rows := e.requests(t, tc.q, tc.args...)
		if got := rows[0][len(rows[0])-1]; got != "25" || n > tc.want {
			t.Errorf("%s: %s rows in %d requests, want 25 in %d", tc.q, got, n, tc.want)
		}
	}
}

// TestPlanDetailsLookupsBatched checks that plan details asked for one
// plan at a time — the inner table of a join on PlanId, the label names of
// TaskCategories — are read 20 plans per $batch from the plans the
// statement listed, not with one GET each: a statement costs the floor
// (lists + ceil(plans/20) for the plans' details), and its rows are those
// of SQLite's own evaluation.
func TestPlanDetailsLookupsBatched(t *testing.T) {
	spec := graphtest.GenSpec{Seed: 31, Plans: 45, TasksPerPlan: 4, BucketsPerPlan: 2}
	e := newEnv(t, nil, graphtest.WithGenerated(spec))
	ref := oracle(t, e)
	groups := len(e.groups())
	plans := len(e.plans())
	details := (plans + 19) / 20
	listPlans := 1 + groups
	listTasks := listPlans + plans
	tests := []struct {
		q     string
		floor int
	}{
		{"SELECT t.TaskId, c.Category, c.Name FROM TaskCategories c JOIN Tasks t USING (TaskId)", listTasks + details},
		{"SELECT TaskId, Category, Name FROM TaskCategories", listTasks + details},
		{"SELECT p.Title, d.CategoryDescriptions FROM Plans p JOIN PlanDetails d ON d.PlanId = p.PlanId", listPlans + details},
		{"SELECT p.Title, c.Category, c.Name FROM Plans p JOIN PlanCategories c ON c.PlanId = p.PlanId", listPlans + details},
		{"SELECT p.Title, s.UserId FROM PlanSharedWith s JOIN Plans p ON p.PlanId = s.PlanId", listPlans + details},
		{"SELECT p.Title, s.UserId FROM Plans p CROSS JOIN PlanSharedWith s WHERE s.PlanId = p.PlanId", listPlans + details},
		{"SELECT t.TaskId, d.SharedWith FROM Tasks t JOIN PlanDetails d USING (PlanId)", listTasks + details},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			var rows [][]string
			n, by := e.counted(func() { _, rows = e.requests(t, tt.q) })
			if n > tt.floor || by["GET /planner/plans/{id}/details"] != 0 {
				t.Errorf("%d requests (%v), want the floor %d: plan details in $batch requests of 20", n, by, tt.floor)
			}
			if want := queryAll(t, ref, tt.q); !slices.EqualFunc(rows, want, slices.Equal) {
				t.Errorf("%d rows differ from SQLite's evaluation (%d rows)", len(rows), len(want))
			}
		})
	}
	// Through a run's snapshot, details read by one statement are not read
	// again by the next.
	snap := e.cn.NewSnapshot()
	defer snap.Close()
	ctx := snap.Context(context.Background())
	for _, q := range []string{"SELECT * FROM PlanDetails", "SELECT * FROM Tasks", "SELECT * FROM TaskCategories", "SELECT * FROM PlanSharedWith"} {
		e.srv.ResetRequests()
		if _, err := drain(ctx, e.db, q); err != nil {
			t.Fatal(err)
		}
		if q != "SELECT * FROM PlanDetails" && e.outsideBatch()["POST /$batch"] != 0 {
			t.Errorf("%s after the run read every plan's details: %v", q, e.outsideBatch())
		}
	}
}
