package driver

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// awkwardScopeTenant is an emulated tenant with the objects a pushdown
// lookup can name but a scan does not cover: security groups (the user a
// member of one), Microsoft 365 groups the user is not a member of (one
// holding a plan the plan is shared with the user, so /me/planner/plans
// lists it), groups with no plan, a deleted plan whose tasks the users'
// task lists keep (WithTasksOfDeletedPlans), and plans outside a GroupId
// list. It returns the server and the ids a lookup may be asked for, by
// column name.
func awkwardScopeTenant(t *testing.T) (*graphtest.Server, map[string][]string) {
	t.Helper()
	srv := graphtest.NewServer(t, graphtest.WithTasksOfDeletedPlans(),
		graphtest.WithGenerated(graphtest.GenSpec{Seed: 7, Plans: 4, Groups: 6, TasksPerPlan: 3, BucketsPerPlan: 2, HiddenPlans: 1, Awkward: true}))
	me := srv.Me().ID
	vals := map[string][]string{}
	add := func(col string, ids ...string) {
		for _, id := range ids {
			if !slices.Contains(vals[col], id) {
				vals[col] = append(vals[col], id)
			}
		}
	}
	for _, g := range srv.Groups() {
		add("GroupId", g.ID)
	}
	for _, p := range srv.PlanIDs() {
		add("PlanId", p)
		add("BucketId", srv.BucketIDs(p)...)
		add("TaskId", srv.TaskIDs(p)...)
	}
	for _, u := range srv.Users() {
		add("UserId", u.ID)
	}
	// Share the hidden plan with the user, so that PlanScope=me lists a
	// plan of a group the user is not a member of.
	var hidden string
	for _, g := range srv.Groups() {
		if g.Unified && len(g.PlanIDs) > 0 && !slices.Contains(g.Members, me) {
			hidden = g.PlanIDs[0]
		}
	}
	if hidden == "" {
		t.Fatal("the tenant has no plan in a group the user is not a member of")
	}
	app := envOn(t, srv, func(c *Config) { c.OAuthAccessToken = srv.AppToken(); c.AuthScheme = AuthAzureServicePrincipal })
	app.exec("INSERT INTO PlanSharedWith (PlanId, UserId) VALUES (?, ?)", hidden, me)
	// Delete a plan whose tasks are assigned to the user: their tasks stay in
	// the users' task lists.
	user := envOn(t, srv, nil)
	doomed := user.one("SELECT PlanId FROM TaskAssignments WHERE UserId = ? ORDER BY PlanId DESC LIMIT 1", me)
	user.exec("DELETE FROM Plans WHERE PlanId = ?", doomed)
	return srv, vals
}

// TestPushdownMatchesScan: for every table and every pushdown column, WHERE
// col = X returns exactly the rows of the table's scan whose col is X (the
// scan filtered in SQLite: +col hides the constraint from BestIndex), in
// every way a connection discovers what it covers — a signed-in user, a
// GroupId list, PlanScope=me, an application — for ids in and out of that
// scope: security groups, groups the user is not a member of, plans outside
// the GroupId list, tasks of a deleted plan. The one difference left on
// purpose (docs/tables.md, "A pushdown returns what the scan returns"): the
// buckets and tasks of a plan whose container is a roster, read by id
// without GroupId or PlanScope=me; the emulator has no rosters.
func TestPushdownMatchesScan(t *testing.T) {
	srv, vals := awkwardScopeTenant(t)
	me := srv.Me().ID
	var memberGroup string
	for _, g := range srv.Groups() {
		if g.Unified && len(g.PlanIDs) > 0 && slices.Contains(g.Members, me) {
			memberGroup = g.ID
			break
		}
	}
	modes := []struct {
		name string
		cfg  func(*Config)
	}{
		{"user", nil},
		{"GroupId", func(c *Config) { c.GroupIDs = []string{memberGroup} }},
		{"PlanScope=me", func(c *Config) { c.PlanScope = PlanScopeMe }},
		{"application", func(c *Config) { c.OAuthAccessToken = srv.AppToken(); c.AuthScheme = AuthAzureServicePrincipal }},
		{"application token, AzureAD scheme", func(c *Config) { c.OAuthAccessToken = srv.AppToken() }},
		{"application, GroupId", func(c *Config) {
			c.OAuthAccessToken = srv.AppToken()
			c.AuthScheme = AuthAzureServicePrincipal
			c.GroupIDs = []string{memberGroup}
		}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := envOn(t, srv, m.cfg)
			for _, d := range tables {
				s := d.schema()
				for _, c := range s.Columns {
					if !c.Pushdown {
						continue
					}
					for _, v := range vals[c.Name] {
						lookup, lerr := e.rowsOrErr(fmt.Sprintf("SELECT * FROM %s WHERE %s = ?", s.Name, c.Name), v)
						scan, serr := e.rowsOrErr(fmt.Sprintf("SELECT * FROM %s WHERE +%s = ?", s.Name, c.Name), v)
						if (lerr != nil) != (serr != nil) {
							t.Errorf("%s WHERE %s = %s: lookup error %v, scan error %v", s.Name, c.Name, v, lerr, serr)
							continue
						}
						if !slices.Equal(lookup, scan) {
							t.Errorf("%s WHERE %s = %s: lookup returns\n\t%s\nscan returns\n\t%s", s.Name, c.Name, v,
								strings.Join(lookup, "\n\t"), strings.Join(scan, "\n\t"))
						}
					}
				}
			}
		})
	}
}

// rowsOrErr runs q and returns its rows, each as one string, sorted.
func (e *env) rowsOrErr(q string, args ...any) ([]string, error) {
	rows, err := e.db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				r[i] = "NULL"
			case []byte:
				r[i] = string(x)
			default:
				r[i] = fmt.Sprint(x)
			}
		}
		out = append(out, strings.Join(r, " | "))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// TestPushdownCoverageCost asserts what holding lookups to what scans cover
// costs, per way of discovering it: a signed-in user's Groups lookup is the
// one /me/memberOf listing the scan reads (an IN list or a second lookup
// replays it), an application's one GET /groups/{id}, a group GroupId does
// not name nothing at all; lookups of Planner objects cost nothing more for
// a signed-in user or an application (Graph's 403 decides), one read of the
// plan with GroupId (nothing when the plan is out of scope and named by
// PlanId) and one listing of /me/planner/plans with PlanScope=me.
func TestPushdownCoverageCost(t *testing.T) {
	srv, _ := awkwardScopeTenant(t)
	me := srv.Me().ID
	var member, other, security, memberPlan, otherPlan string
	for _, g := range srv.Groups() {
		switch {
		case !g.Unified && security == "":
			security = g.ID
		case !g.Unified:
		case len(g.PlanIDs) > 0 && slices.Contains(g.Members, me) && member == "":
			member, memberPlan = g.ID, g.PlanIDs[0]
		case len(g.PlanIDs) > 0 && slices.Contains(g.Members, me):
			other, otherPlan = g.ID, g.PlanIDs[0]
		}
	}
	task := srv.TaskIDs(memberPlan)[0]
	otherTask := srv.TaskIDs(otherPlan)[0]
	user := func(c *Config) {}
	named := func(c *Config) { c.GroupIDs = []string{member} }
	mine := func(c *Config) { c.PlanScope = PlanScopeMe }
	app := func(c *Config) { c.OAuthAccessToken = srv.AppToken(); c.AuthScheme = AuthAzureServicePrincipal }
	cases := []struct {
		name  string
		cfg   func(*Config)
		query string
		args  []any
		rows  int
		want  map[string]int // requests by endpoint, $batch sub-requests left out
	}{
		{"user: a group of theirs", user, "SELECT * FROM Groups WHERE GroupId = ?", []any{member}, 1, map[string]int{"GET /me/memberOf": 1}},
		{"user: a security group", user, "SELECT * FROM Groups WHERE GroupId = ?", []any{security}, 0, map[string]int{"GET /me/memberOf": 1}},
		{"user: three groups", user, "SELECT * FROM Groups WHERE GroupId IN (?, ?, ?)", []any{member, other, security}, 2, map[string]int{"GET /me/memberOf": 1}},
		{"user: a GUID in upper case", user, "SELECT * FROM Groups WHERE GroupId = ?", []any{strings.ToUpper(member)}, 0, map[string]int{}},
		{"PlanScope=me: a group", mine, "SELECT * FROM Groups WHERE GroupId = ?", []any{member}, 1, map[string]int{"GET /me/memberOf": 1}},
		{"application: a group", app, "SELECT * FROM Groups WHERE GroupId = ?", []any{member}, 1, map[string]int{"GET /groups/{id}": 1}},
		{"application: a security group", app, "SELECT * FROM Groups WHERE GroupId = ?", []any{security}, 0, map[string]int{"GET /groups/{id}": 1}},
		{"GroupId: the group named", named, "SELECT * FROM Groups WHERE GroupId = ?", []any{member}, 1, map[string]int{"GET /groups/{id}": 1}},
		{"GroupId: another group", named, "SELECT * FROM Groups WHERE GroupId = ?", []any{other}, 0, map[string]int{}},

		{"user: a task", user, "SELECT * FROM Tasks WHERE TaskId = ?", []any{task}, 1, map[string]int{"GET /planner/tasks/{id}": 1}},
		{"user: a plan's tasks", user, "SELECT * FROM Tasks WHERE PlanId = ?", []any{memberPlan}, 3, map[string]int{"GET /planner/plans/{id}/tasks": 1}},
		{"user: a plan", user, "SELECT * FROM Plans WHERE PlanId = ?", []any{memberPlan}, 1, map[string]int{"GET /planner/plans/{id}": 1}},
		{"GroupId: a task of a named group", named, "SELECT * FROM Tasks WHERE TaskId = ?", []any{task}, 1, map[string]int{"GET /planner/tasks/{id}": 1, "GET /planner/plans/{id}": 1}},
		{"GroupId: a task of another group", named, "SELECT * FROM Tasks WHERE TaskId = ?", []any{otherTask}, 0, map[string]int{"GET /planner/tasks/{id}": 1, "GET /planner/plans/{id}": 1}},
		{"GroupId: two tasks of one plan", named, "SELECT * FROM Tasks WHERE TaskId IN (?, ?)", []any{task, srv.TaskIDs(memberPlan)[1]}, 2, map[string]int{"POST /$batch": 1, "GET /planner/plans/{id}": 1}},
		{"GroupId: tasks of two plans", named, "SELECT * FROM Tasks WHERE TaskId IN (?, ?)", []any{task, otherTask}, 1, map[string]int{"POST /$batch": 2}},
		{"GroupId: a plan's tasks", named, "SELECT * FROM Tasks WHERE PlanId = ?", []any{memberPlan}, 3, map[string]int{"GET /planner/plans/{id}": 1, "GET /planner/plans/{id}/tasks": 1}},
		{"GroupId: another plan's tasks", named, "SELECT * FROM Tasks WHERE PlanId = ?", []any{otherPlan}, 0, map[string]int{"GET /planner/plans/{id}": 1}},
		{"GroupId: a plan's labels", named, "SELECT * FROM PlanCategories WHERE PlanId = ?", []any{memberPlan}, -1, map[string]int{"POST /$batch": 1}},
		{"GroupId: plans of another group", named, "SELECT * FROM Plans WHERE GroupId = ?", []any{other}, 0, map[string]int{}},
		{"PlanScope=me: a task", mine, "SELECT * FROM Tasks WHERE TaskId = ?", []any{task}, 1, map[string]int{"GET /planner/tasks/{id}": 1, "GET /me/planner/plans": 1}},
		{"PlanScope=me: a plan", mine, "SELECT * FROM Plans WHERE PlanId = ?", []any{memberPlan}, 1, map[string]int{"GET /me/planner/plans": 1}},
		{"user: tasks assigned to them", user, "SELECT * FROM TaskAssignments WHERE UserId = ?", []any{me}, -1, map[string]int{"GET /users/{id}/planner/tasks": 1, "POST /$batch": 1}},
	}
	for _, tc := range cases {
		e := envOn(t, srv, tc.cfg)
		var rows [][]string
		_, by := e.counted(func() { rows = e.query(tc.query, tc.args...) })
		if tc.rows >= 0 && len(rows) != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.name, len(rows), tc.rows)
		}
		if !maps.Equal(by, tc.want) {
			t.Errorf("%s: %s sent %v, want %v", tc.name, tc.query, by, tc.want)
		}
	}
}

// TestJoinsMatchScanInEveryScope: statements whose inner tables are read by
// key or user (the user's task list trusted for tasks of covered plans, the
// tasks of every plan serving a loop over users, stable rowids for RIGHT
// JOIN and OR) return what SQLite returns over copies of the tables, in
// every way a connection discovers what it covers, on a tenant with tasks of
// a deleted plan in the users' lists and a plan shared from a group the
// user is not a member of.
func TestJoinsMatchScanInEveryScope(t *testing.T) {
	srv, vals := awkwardScopeTenant(t)
	me := srv.Me().ID
	var memberGroup string
	for _, g := range srv.Groups() {
		if g.Unified && len(g.PlanIDs) > 0 && slices.Contains(g.Members, me) {
			memberGroup = g.ID
			break
		}
	}
	modes := []struct {
		name string
		cfg  func(*Config)
	}{
		{"user", nil},
		{"GroupId", func(c *Config) { c.GroupIDs = []string{memberGroup} }},
		{"PlanScope=me", func(c *Config) { c.PlanScope = PlanScopeMe }},
		{"application", func(c *Config) { c.OAuthAccessToken = srv.AppToken(); c.AuthScheme = AuthAzureServicePrincipal }},
	}
	queries := []string{
		"SELECT COUNT(*) FROM PlanSharedWith s WHERE EXISTS (SELECT 1 FROM TaskAssignments a WHERE a.UserId = s.UserId)",
		"SELECT s.PlanId, a.TaskId FROM PlanSharedWith s CROSS JOIN TaskAssignments a WHERE a.UserId = s.UserId",
		"SELECT a.UserId, t.TaskId, t.PlanId FROM (SELECT DISTINCT UserId FROM TaskAssignments) u CROSS JOIN TaskAssignments a CROSS JOIN Tasks t WHERE a.UserId = u.UserId AND t.TaskId = a.TaskId",
		"SELECT b.Name, COUNT(t.TaskId) FROM Tasks t RIGHT JOIN Buckets b ON b.BucketId = t.BucketId GROUP BY b.BucketId",
		"SELECT COUNT(*), COUNT(t.TaskId), COUNT(p.PlanId) FROM Plans p FULL JOIN Tasks t ON t.PlanId = p.PlanId",
	}
	for _, u := range vals["UserId"] {
		queries = append(queries,
			"SELECT t.TaskId, t.Title FROM TaskAssignments a JOIN Tasks t ON t.TaskId = a.TaskId WHERE a.UserId = '"+u+"'",
			"SELECT COUNT(*) FROM TaskAssignments WHERE UserId = '"+u+"' OR TaskId IN (SELECT TaskId FROM Tasks WHERE Priority < 3)")
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := envOn(t, srv, m.cfg)
			ref := oracle(t, e)
			for _, q := range queries {
				got, err := e.rowsOrErr(q)
				if err != nil {
					t.Errorf("%s: %v", q, err)
					continue
				}
				var want []string
				for _, r := range queryAll(t, ref, q) {
					want = append(want, strings.Join(r, " | "))
				}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s:\n got %v\nwant %v", q, got, want)
				}
			}
		})
	}
}
