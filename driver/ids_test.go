package driver

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/schema"
)

// hostileIDs are values that, placed in a request path unchecked, would
// address another endpoint or another object.
var hostileIDs = []string{
	"../../../me", "..", ".", "../me/planner/tasks", "a/b", "a%2Fb", "%2e%2e", "x?y=1", "x#frag",
	" leading", "trailing ", "tab\tid", "new\nline", "ctl\x01", "$count", "delta", "me", "é", "AAAAAAAAAAAAAAAAAAAAAAAAAAA/",
	// Not ids Graph issues (URL-safe base64, never padded): answered
	// without a request too.
	"xqQg5FS2LkCp935s-FIFm2QAFk==", "xqQg5FS2LkCp935s+FIFm2QAFkHM",
}

// pushdownColumns lists, per table, the id columns the driver answers with a
// narrower Graph endpoint (their cost differs from a full scan's).
func pushdownColumns(t *schema.Table) []string {
	decl := byName(tables, t.Name)
	var out []string
	for i, c := range t.Columns {
		if _, ok := decl.cost(i); ok && strings.HasSuffix(c.Name, "Id") {
			out = append(out, c.Name)
		}
	}
	return out
}

// TestHostileIDs checks every id column of every table that reaches a request
// path — reads, UPDATE and DELETE by those columns, and INSERTs that look up
// their parent — with ids that would address another endpoint: no rows, or
// a clear error, and not one request sent.
func TestHostileIDs(t *testing.T) {
	e := newEnv(t, nil, graphtest.WithGenerated(graphtest.GenSpec{Seed: 8, Plans: 2, TasksPerPlan: 3}))
	sent := func() int { return e.cn.Requests() }
	checked := 0
	for _, tb := range schema.All() {
		if strings.HasPrefix(tb.Name, "sys_") {
			continue
		}
		for _, col := range pushdownColumns(tb) {
			checked++
			for _, id := range hostileIDs {
				name := fmt.Sprintf("%s.%s=%q", tb.Name, col, id)
				q := fmt.Sprintf("SELECT * FROM %s WHERE %s = ?", tb.Name, col)
				before, srv := sent(), e.srv.RequestCount()
				if rows := e.query(q, id); len(rows) != 0 {
					t.Errorf("%s: %d rows", name, len(rows))
				}
				// The same as a literal in the SQL, and inside an IN list.
				lit := "'" + strings.ReplaceAll(id, "'", "''") + "'"
				if rows := e.query(fmt.Sprintf("SELECT * FROM %s WHERE %s IN (%s, %s)", tb.Name, col, lit, lit)); len(rows) != 0 {
					t.Errorf("%s IN: %d rows", name, len(rows))
				}
				if tb.Update {
					key := tb.Key[0]
					res, err := e.db.Exec(fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = ?", tb.Name, key, key, col), id)
					if err == nil {
						if n, _ := res.RowsAffected(); n != 0 {
							t.Errorf("%s: UPDATE changed %d rows", name, n)
						}
					}
				}
				if tb.Delete {
					res, err := e.db.Exec(fmt.Sprintf("DELETE FROM %s WHERE %s = ?", tb.Name, col), id)
					if err == nil {
						if n, _ := res.RowsAffected(); n != 0 {
							t.Errorf("%s: DELETE removed %d rows", name, n)
						}
					}
				}
				if n := sent() - before; n != 0 {
					t.Errorf("%s: %d Graph requests sent", name, n)
				}
				if n := e.srv.RequestCount() - srv; n != 0 {
					t.Errorf("%s: the emulator received %d requests", name, n)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d pushdown id columns checked; the table declarations changed?", checked)
	}

	// Inserts into tables kept inside their parent look the parent up by id.
	inserts := []struct {
		table, cols string
		vals        func(id string) []any
	}{
		{"TaskChecklistItems", "TaskId, Title", func(id string) []any { return []any{id, "x"} }},
		{"TaskReferences", "TaskId, Url", func(id string) []any { return []any{id, "https://example.com/a"} }},
		{"TaskAssignments", "TaskId, UserId", func(id string) []any { return []any{id, e.srv.Me().ID} }},
		{"TaskCategories", "TaskId, Category", func(id string) []any { return []any{id, "category1"} }},
		{"PlanCategories", "PlanId, Category, Name", func(id string) []any { return []any{id, "category1", "x"} }},
	}
	for _, in := range inserts {
		for _, id := range hostileIDs {
			before := sent()
			_, err := e.db.Exec(fmt.Sprintf("INSERT INTO %s (%s) VALUES (?, ?%s)", in.table, in.cols, strings.Repeat(", ?", strings.Count(in.cols, ","))[len(", ?"):]), in.vals(id)...)
			if err == nil {
				t.Errorf("INSERT INTO %s with %q: no error", in.table, id)
			} else if !errors.Is(err, graph.ErrInvalidID) || !strings.Contains(err.Error(), "is not a valid") {
				t.Errorf("INSERT INTO %s with %q: %v, want graph.ErrInvalidID", in.table, id, err)
			}
			if n := sent() - before; n != 0 {
				t.Errorf("INSERT INTO %s with %q: %d requests", in.table, id, n)
			}
		}
	}
	// No request the tests above caused carried a hostile id in its path.
	for _, r := range e.srv.Requests() {
		for _, id := range hostileIDs {
			if len(id) > 2 && (strings.Contains(r.Path, id) || strings.Contains(r.Path, url.PathEscape(id))) {
				t.Errorf("request %s %s carries %q", r.Method, r.Path, id)
			}
		}
	}
}

// TestInvalidGroupIDProperty checks that a GroupId connection property that
// is not a group id fails with a clear error when the connector is made,
// before any request.
func TestInvalidGroupIDProperty(t *testing.T) {
	srv := graphtest.NewServer(t)
	cfg := NewConfig()
	cfg.GraphURL, cfg.InitiateOAuth, cfg.OAuthAccessToken = srv.GraphURL(), OAuthOff, srv.Token()
	cfg.GroupIDs = []string{"../../me"}
	_, err := NewConnector(cfg)
	if !errors.Is(err, graph.ErrInvalidID) || !strings.Contains(err.Error(), `GroupId "../../me" is not a group id`) {
		t.Errorf("err %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
