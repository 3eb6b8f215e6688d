package driver

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestFidelity03MultiRowInsert: an INSERT of several rows that the driver
// would refuse at a later row — a NUL byte (literal, bound, JSON), a value
// of the wrong type, a bad label, URL or item id, a key given twice — fails
// before its first row is sent, as a single-row INSERT does: no request at
// all, through Exec, a prepared statement and RETURNING. A statement whose
// rows are all good writes them all, and OR IGNORE / OR REPLACE let a key
// given twice through.
func TestFidelity03MultiRowInsert(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	ids := e.srv.TaskIDs(plan)
	task := ids[0]
	me, other := e.srv.Users()[2].ID, e.srv.Users()[3].ID
	cases := []struct {
		name, sql string
		args      []any
		want      error  // errors.Is
		says      string // the error names it
	}{
		{"tasks, literal NUL", "INSERT INTO Tasks (PlanId, Title) VALUES (?, 'first'), (?, 'nul' || char(0) || 'byte')", []any{plan, plan}, ErrNULByte, "column Title"},
		{"tasks, bound NUL", "INSERT INTO Tasks (PlanId, Title) VALUES (?, 'first'), (?, ?)", []any{plan, plan, "bound\x00"}, ErrNULByte, "column Title"},
		{"tasks, bytes NUL", "INSERT INTO Tasks (PlanId, Title) VALUES (?, 'first'), (?, 'second'), (?, ?)", []any{plan, plan, plan, []byte("b\x00")}, ErrNULByte, "column Title"},
		{"tasks, JSON NUL", "INSERT INTO Tasks (PlanId, Title, AppliedCategories) VALUES (?, 'first', NULL), (?, 'second', ?)", []any{plan, plan, `{"category1\u0000": true}`}, ErrNULByte, "column AppliedCategories"},
		{"tasks, type", "INSERT INTO Tasks (PlanId, Title, PercentComplete) VALUES (?, 'first', 0), (?, 'second', 'half')", []any{plan, plan}, nil, "PercentComplete"},
		{"tasks, date", "INSERT INTO Tasks (PlanId, Title, DueDateTime) VALUES (?, 'first', NULL), (?, 'second', 'tomorrow')", []any{plan, plan}, nil, "DueDateTime"},
		{"buckets", "INSERT INTO Buckets (PlanId, Name) VALUES (?, 'first'), (?, 'x' || char(0))", []any{plan, plan}, ErrNULByte, "column Name"},
		{"checklist NUL", "INSERT INTO TaskChecklistItems (TaskId, Title) VALUES (?, 'first'), (?, 'x' || char(0))", []any{task, task}, ErrNULByte, "column Title"},
		{"checklist id", "INSERT INTO TaskChecklistItems (TaskId, ItemId, Title) VALUES (?, NULL, 'first'), (?, 'a.b', 'second')", []any{task, task}, nil, "ItemId"},
		{"checklist id twice", "INSERT INTO TaskChecklistItems (TaskId, ItemId, Title) VALUES (?, '11111111-2222-3333-4444-555555555555', 'a'), (?, '{11111111-2222-3333-4444-555555555555}', 'b')", []any{task, task}, ErrDuplicateKey, "TaskChecklistItems.ItemId"},
		{"reference url", "INSERT INTO TaskReferences (TaskId, Url) VALUES (?, 'https://contoso.com/first'), (?, 'ftp://contoso.com/x')", []any{task, task}, nil, "Url"},
		{"reference twice", "INSERT INTO TaskReferences (TaskId, Url, Alias) VALUES (?, 'https://contoso.com/twice', 'a'), (?, 'https://contoso.com/twice', 'b')", []any{task, task}, ErrDuplicateKey, "TaskReferences.ReferenceKey"},
		{"reference twice, key and url", "INSERT INTO TaskReferences (TaskId, Url, ReferenceKey) VALUES (?, 'https://contoso.com/k', NULL), (?, NULL, 'https%3A//contoso%2Ecom/k')", []any{task, task}, ErrDuplicateKey, "TaskReferences.ReferenceKey"},
		{"label", "INSERT INTO TaskCategories (TaskId, Category) VALUES (?, 'category24'), (?, 'category26')", []any{task, task}, nil, "category26"},
		{"label twice", "INSERT INTO TaskCategories (TaskId, Category) VALUES (?, 'category24'), (?, 'Category24')", []any{task, task}, ErrDuplicateKey, "TaskCategories.Category"},
		{"assignee twice", "INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?), (?, ?)", []any{ids[1], me, ids[1], strings.ToUpper(me)}, ErrDuplicateKey, "TaskAssignments.UserId"},
		{"assignee NUL", "INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?), (?, ?)", []any{ids[1], me, ids[1], other + "\x00"}, ErrNULByte, "column UserId"},
		{"plan label", "INSERT INTO PlanCategories (PlanId, Category, Name) VALUES (?, 'category24', 'a'), (?, 'category0', 'b')", []any{plan, plan}, nil, "category0"},
		{"plan label twice", "INSERT INTO PlanCategories (PlanId, Category, Name) VALUES (?, 'category24', 'a'), (?, 'CATEGORY24', 'b')", []any{plan, plan}, ErrDuplicateKey, "PlanCategories.Category"},
		{"share twice", "INSERT INTO PlanSharedWith (PlanId, UserId) VALUES (?, ?), (?, ?)", []any{plan, other, plan, other}, ErrDuplicateKey, "PlanSharedWith.UserId"},
	}
	before := e.one("SELECT count(*) FROM Tasks WHERE PlanId = ?", plan)
	for _, tc := range cases {
		for _, via := range []string{"exec", "prepared", "returning"} {
			q := tc.sql
			if via == "returning" {
				q += " RETURNING *"
			}
			e.rec.take()
			total, _ := e.counted(func() {
				var err error
				switch via {
				case "exec":
					_, err = e.db.Exec(q, tc.args...)
				case "prepared":
					st, perr := e.db.Prepare(q)
					if perr != nil {
						t.Fatal(perr)
					}
					_, err = st.Exec(tc.args...)
					st.Close()
				case "returning":
					var rows interface{ Close() error }
					rows, err = e.db.Query(q, tc.args...)
					if err == nil {
						rows.Close()
					}
				}
				if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.says) {
					t.Errorf("%s (%s): %v, want an error naming %s", tc.name, via, err, tc.says)
				}
			})
			if total != 0 {
				t.Errorf("%s (%s): %d requests before the refusal, want 0 (writes %v)", tc.name, via, total, e.rec.take())
			}
		}
	}
	if after := e.one("SELECT count(*) FROM Tasks WHERE PlanId = ?", plan); after != before {
		t.Errorf("tasks of the plan: %s before, %s after", before, after)
	}
	// Good rows are all written; OR IGNORE and OR REPLACE take a key twice.
	for _, tc := range []struct {
		sql  string
		args []any
		n    int64
	}{
		{"INSERT INTO Tasks (PlanId, Title) VALUES (?, 'multi 1'), (?, 'multi 2')", []any{plan, plan}, 2},
		{"INSERT OR IGNORE INTO TaskCategories (TaskId, Category) VALUES (?, 'category24'), (?, 'Category24')", []any{task, task}, 1},
		{"INSERT OR REPLACE INTO TaskReferences (TaskId, Url, Alias) VALUES (?, 'https://contoso.com/r', 'a'), (?, 'https://contoso.com/r', 'b')", []any{task, task}, 2},
	} {
		res, err := e.db.Exec(tc.sql, tc.args...)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if n, _ := res.RowsAffected(); n != tc.n {
			t.Errorf("%s: %d rows, want %d", tc.sql, n, tc.n)
		}
	}
	if got := e.one("SELECT count(*) FROM Tasks WHERE PlanId = ? AND Title IN ('multi 1', 'multi 2')", plan); got != "2" {
		t.Errorf("%s of the two tasks written", got)
	}
	if got := e.one("SELECT Alias FROM TaskReferences WHERE TaskId = ? AND Url = 'https://contoso.com/r'", task); got != "b" {
		t.Errorf("the replaced reference's alias is %s, want b", got)
	}
}

// TestMultiRowInsertOwnTable: a table of the user's own named like a
// planner table (main.Tasks) gets no check pass: its rows are inserted
// once.
func TestMultiRowInsertOwnTable(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	conn, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"CREATE TABLE main.Tasks (PlanId, Title)", "INSERT INTO main.Tasks (PlanId, Title) VALUES ('a', 'b'), ('c', 'd')"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM main.Tasks").Scan(&n); err != nil || n != 2 {
		t.Errorf("main.Tasks holds %d rows (%v), want 2", n, err)
	}
	if r, _ := rewrite("INSERT INTO temp.Tasks (PlanId, Title) VALUES ('a', 'b'), ('c', 'd')"); !r.precheck {
		t.Error("temp.Tasks, the planner table, has no check pass")
	}
}
