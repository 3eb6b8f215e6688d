package driver

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
)

// envOn opens a planner DB on an existing emulator; cfgf adjusts the
// configuration (the token is Token() unless it sets another).
func envOn(t *testing.T, srv *graphtest.Server, cfgf func(*Config)) *env {
	t.Helper()
	rec := &recorder{base: http.DefaultTransport}
	cfg := NewConfig()
	cfg.GraphURL = srv.GraphURL()
	cfg.InitiateOAuth = OAuthOff
	cfg.OAuthAccessToken = srv.Token()
	cfg.HTTPClient = &http.Client{Transport: rec}
	if cfgf != nil {
		cfgf(cfg)
	}
	cn, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(cn)
	t.Cleanup(func() { db.Close() })
	return &env{t: t, srv: srv, cn: cn, db: db, rec: rec}
}

// queryErr runs q to its end and returns its error.
func (e *env) queryErr(q string, args ...any) error {
	rows, err := e.db.Query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// TestFidelity05LeastPrivilegeScopes: signed in without Group.Read.All or
// GroupMember.Read.All, /me/memberOf lists the user's groups without
// properties; scans that discover plans through it fail with an error
// naming the missing permission and the count, instead of returning no rows.
// GroupId and PlanScope=me, which need no group permission, still work.
func TestFidelity05LeastPrivilegeScopes(t *testing.T) {
	srv := graphtest.NewServer(t)
	me := srv.Me().ID
	groups := 0
	for _, g := range srv.Groups() {
		if slices.Contains(g.Members, me) {
			groups++
		}
	}
	least := srv.TokenFor(me, "User.Read", "Tasks.ReadWrite", "offline_access")
	e := envOn(t, srv, func(c *Config) { c.OAuthAccessToken = least })
	for _, q := range []string{"SELECT count(*) FROM Tasks", "SELECT * FROM Plans", "SELECT * FROM Groups", "SELECT * FROM TaskAssignments"} {
		err := e.queryErr(q)
		if err == nil {
			t.Errorf("%s: no error with a least-privilege sign-in", q)
			continue
		}
		for _, w := range []string{"/me/memberOf returned " + itoa(groups) + " groups with no properties", "Group.Read.All or GroupMember.Read.All", "Scope", "GroupId", "PlanScope=me"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", q, err, w)
			}
		}
		if !errors.Is(err, ErrMissingPermission) {
			t.Errorf("%s: error %v is not ErrMissingPermission", q, err)
		}
		if strings.Count(err.Error(), "planner: ") != 1 {
			t.Errorf("%s: error %q repeats its package prefix", q, err)
		}
	}
	// The same scans with the permission find the plans.
	full := envOn(t, srv, func(c *Config) {
		c.OAuthAccessToken = srv.TokenFor(me, "User.Read", "Tasks.ReadWrite", "GroupMember.Read.All")
	})
	if n := full.one("SELECT count(*) FROM Plans"); n == "0" {
		t.Error("no plan with GroupMember.Read.All")
	}
	// GroupId and PlanScope=me need no group permission.
	plan := full.plans()[0]
	gid := full.one("SELECT GroupId FROM Plans WHERE PlanId = ?", plan)
	named := envOn(t, srv, func(c *Config) { c.OAuthAccessToken = least; c.GroupIDs = []string{gid} })
	if n := named.one("SELECT count(*) FROM Plans WHERE PlanId = ?", plan); n != "1" {
		t.Errorf("GroupId with least privilege: %s plans", n)
	}
	if n := named.one("SELECT count(*) FROM Tasks"); n == "0" {
		t.Error("GroupId with least privilege: no tasks")
	}
	// The plans of a named group take one request: the group itself is not read.
	if total, by := named.counted(func() { named.query("SELECT PlanId FROM Plans") }); total != 1 || by["GET /groups/{id}/planner/plans"] != 1 {
		t.Errorf("Plans with one GroupId: %d requests %v, want 1", total, by)
	}
	// Discovery through /me/memberOf costs one request per page of it.
	if total, by := full.counted(func() { full.query("SELECT GroupId FROM Groups") }); total != 1 || by["GET /me/memberOf"] != 1 {
		t.Errorf("Groups: %d requests %v, want 1", total, by)
	}
	mine := envOn(t, srv, func(c *Config) { c.OAuthAccessToken = least; c.PlanScope = PlanScopeMe })
	if n := mine.one("SELECT count(*) FROM Plans"); n == "0" {
		t.Error("PlanScope=me with least privilege: no plans")
	}
}

// TestFidelity06UnreadableGroupInGroupId: a group named in GroupId that the
// account cannot read fails the scan with an error naming the group and
// Graph's status, instead of being dropped without a word. An error (not a
// warning) because the group was named on purpose: the rows of the other
// groups alone would look complete, and a library has no channel to warn
// on; the error says what to change.
func TestFidelity06UnreadableGroupInGroupId(t *testing.T) {
	srv := graphtest.NewServer(t)
	me := srv.Me().ID
	var member, other, gone string
	for _, g := range srv.Groups() {
		switch {
		case !g.Unified || len(g.PlanIDs) == 0:
		case !slices.Contains(g.Members, me):
			other = g.ID
		case member == "":
			member = g.ID
		default:
			gone = g.ID
		}
	}
	if err := srv.DeleteGroup(gone); err != nil {
		t.Fatal(err)
	}
	least := srv.TokenFor(me, "User.Read", "Tasks.ReadWrite")
	cases := []struct {
		name   string
		groups []string
		token  string
		query  string
		status int
		want   []string
	}{
		{"not a member", []string{member, other}, "", "SELECT count(*) FROM Tasks", 403, []string{"GroupId " + other, "403 Forbidden", "not a member"}},
		{"deleted", []string{gone, member}, "", "SELECT count(*) FROM Plans", 404, []string{"GroupId " + gone, "404 Not Found", "deleted"}},
		{"not a member, Groups", []string{other}, "", "SELECT * FROM Groups", 0, nil},
		{"deleted, Groups", []string{member, gone}, "", "SELECT * FROM Groups", 404, []string{"GroupId " + gone, "404 Not Found"}},
		{"no directory permission, Groups", []string{member}, least, "SELECT * FROM Groups", 403, []string{"GroupId " + member, "Group.Read.All or GroupMember.Read.All"}},
		{"no directory permission, Plans", []string{member}, least, "SELECT count(*) FROM Plans", 0, nil},
	}
	for _, tc := range cases {
		e := envOn(t, srv, func(c *Config) {
			c.GroupIDs = tc.groups
			if tc.token != "" {
				c.OAuthAccessToken = tc.token
			}
		})
		err := e.queryErr(tc.query)
		if tc.status == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var ge *graph.Error
		if err == nil || !errors.As(err, &ge) || ge.StatusCode != tc.status {
			t.Errorf("%s: error %v, want Graph's %d", tc.name, err, tc.status)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// TestFidelity07TasksOfDeletedPlans: /me/planner/tasks and
// /users/{id}/planner/tasks can keep listing tasks whose plan or group was
// deleted. TaskAssignments WHERE UserId returns what a scan returns (see
// TestPushdownMatchesScan): the rows of those tasks are left out, so every
// PlanId it returns is in Plans, joins agree with it, and replication
// copies no row of a deleted plan (documented in docs/tables.md). Deciding
// costs one $batch for the plans the list names.
func TestFidelity07TasksOfDeletedPlans(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithTasksOfDeletedPlans())
	me := srv.Me().ID
	e := envOn(t, srv, nil)
	before := e.query("SELECT TaskId, PlanId FROM TaskAssignments WHERE UserId = ? ORDER BY TaskId", me)
	var doomed string
	for _, r := range before {
		doomed = r[1]
	}
	orphans := 0
	for _, r := range before {
		if r[1] == doomed {
			orphans++
		}
	}
	e.exec("DELETE FROM Plans WHERE PlanId = ?", doomed)
	if n := e.one("SELECT count(*) FROM Plans WHERE PlanId = ?", doomed); n != "0" {
		t.Fatalf("the plan is still listed: %s", n)
	}
	// Graph still lists the deleted plan's tasks for the user.
	listed := 0
	for tk, err := range e.cn.client.Tasks.ListByUser(context.Background(), me) {
		if err != nil {
			t.Fatal(err)
		}
		if tk.PlanID == doomed {
			listed++
		}
	}
	if listed != orphans {
		t.Fatalf("Graph lists %d tasks of the deleted plan for the user, want %d (WithTasksOfDeletedPlans)", listed, orphans)
	}
	var after [][]string
	total, by := e.counted(func() {
		after = e.query("SELECT TaskId, PlanId FROM TaskAssignments WHERE UserId = ? ORDER BY TaskId", me)
	})
	if len(after) != len(before)-orphans {
		t.Errorf("TaskAssignments WHERE UserId: %d rows, want the %d of existing plans", len(after), len(before)-orphans)
	}
	// The user's task list, and the plans it names in one $batch.
	if total != 2 || by["GET /users/{id}/planner/tasks"] != 1 || by["POST /$batch"] != 1 {
		t.Errorf("TaskAssignments WHERE UserId sent %d requests (%v), want the task list and one $batch", total, by)
	}
	scan := e.query("SELECT TaskId, PlanId FROM TaskAssignments WHERE +UserId = ? ORDER BY TaskId", me)
	if !slices.EqualFunc(after, scan, slices.Equal) {
		t.Errorf("WHERE UserId returns %v, the scan %v", after, scan)
	}
	if n := e.one("SELECT count(*) FROM TaskAssignments a WHERE a.UserId = ? AND NOT EXISTS (SELECT 1 FROM Plans p WHERE p.PlanId = a.PlanId)", me); n != "0" {
		t.Errorf("%s assignments with a PlanId not in Plans", n)
	}
	if n := e.one("SELECT count(*) FROM TaskAssignments a JOIN Tasks t ON t.TaskId = a.TaskId WHERE a.UserId = ?", me); n != itoa(len(after)) {
		t.Errorf("assignments joined with Tasks: %s, want %d", n, len(after))
	}
	if n := e.one("SELECT count(*) FROM TaskAssignments WHERE PlanId = ?", doomed); n != "0" {
		t.Errorf("TaskAssignments WHERE PlanId of a deleted plan: %s", n)
	}
	// Replication copies what the query returns.
	dst, err := dest.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "dst.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := replicate.Run(context.Background(), e.db, dst, "REPLICATE MyAssignments SELECT * FROM TaskAssignments WHERE UserId = '"+me+"'", replicate.Options{}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dst.QueryRow("SELECT count(*) FROM MyAssignments WHERE PlanId = ?", doomed).Scan(&n); err != nil || n != 0 {
		t.Errorf("replicated %d assignments of the deleted plan (%v), want none", n, err)
	}
}

// The tests of this file are named after the points of issue 12 ("field
// fidelity"): what real tenants send and enforce.

// TestFidelity08LimitHints: when Planner refuses a write for one of its
// limits, the error names the limit and the fix that frees room (complete or
// delete tasks for the active-task limit, delete tasks for the total, ...).
func TestFidelity08LimitHints(t *testing.T) {
	e := newEnv(t, nil, graphtest.WithLimits(graphtest.Limits{ActiveTasksPerPlan: 2, TasksPerPlan: 3}))
	me := e.srv.Me().ID
	plan := e.plans()[0]
	// A fresh plan in the same group, so the counts are ours.
	gid := e.one("SELECT GroupId FROM Plans WHERE PlanId = ?", plan)
	e.exec("INSERT INTO Plans (GroupId, Title) VALUES (?, 'Limits')", gid)
	pid := e.one("SELECT PlanId FROM Plans WHERE GroupId = ? AND Title = 'Limits'", gid)
	e.exec("INSERT INTO Tasks (PlanId, Title) VALUES (?, 'one'), (?, 'two')", pid, pid)
	cases := []struct {
		name, query string
		args        []any
		want        []string
		notWant     string
	}{
		{"active", "INSERT INTO Tasks (PlanId, Title) VALUES (?, 'three')", []any{pid},
			[]string{"MaximumActiveTasksInProject", "complete or delete"}, "remove items"},
		{"total", "INSERT INTO Tasks (PlanId, Title, PercentComplete) VALUES (?, 'done', 100)", []any{pid}, nil, ""},
		{"total again", "INSERT INTO Tasks (PlanId, Title, PercentComplete) VALUES (?, 'done 2', 100)", []any{pid},
			[]string{"MaximumTasksInProject", "delete some of its tasks"}, "remove items"},
		{"reopen", "UPDATE Tasks SET PercentComplete = 0 WHERE PlanId = ? AND Title = 'done'", []any{pid},
			[]string{"MaximumActiveTasksInProject", "complete or delete"}, ""},
	}
	for _, tc := range cases {
		_, err := e.db.Exec(tc.query, tc.args...)
		if tc.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("%s: %s succeeded", tc.name, tc.query)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
		if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
			t.Errorf("%s: error %q still says %q", tc.name, err, tc.notWant)
		}
	}

	// The per-user limit on assigned tasks names the assignee's way out.
	assigned := e.one("SELECT count(*) FROM TaskAssignments WHERE UserId = ?", me)
	n, _ := stringsAtoi(assigned)
	e2 := newEnv(t, nil, graphtest.WithLimits(graphtest.Limits{TasksAssignedToUser: n}))
	task := e2.one("SELECT TaskId FROM Tasks WHERE PlanId = ? AND TaskId NOT IN (SELECT TaskId FROM TaskAssignments WHERE UserId = ?) LIMIT 1", e2.plans()[0], me)
	_, err := e2.db.Exec("INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)", task, me)
	if err == nil || !strings.Contains(err.Error(), "MaximumTasksAssignedToUser") || !strings.Contains(err.Error(), "unassign") {
		t.Errorf("assignment over the limit: %v", err)
	}
}

// TestFidelity06GroupNamedTwice: a group GroupId names twice, in one form or
// in two (upper case, braces), is one group: its plans' rows are given once,
// with the requests of naming it once.
func TestFidelity06GroupNamedTwice(t *testing.T) {
	srv := graphtest.NewServer(t)
	me := srv.Me().ID
	var member string
	for _, g := range srv.Groups() {
		if g.Unified && slices.Contains(g.Members, me) && len(g.PlanIDs) > 0 {
			member = g.ID
			break
		}
	}
	once := envOn(t, srv, func(c *Config) { c.GroupIDs = []string{member} })
	for _, twice := range [][]string{{member, member}, {member, strings.ToUpper(member)}, {"{" + member + "}", member}} {
		e := envOn(t, srv, func(c *Config) { c.GroupIDs = twice })
		for _, q := range []string{"SELECT count(*) FROM Groups", "SELECT count(*) FROM Plans", "SELECT count(*) FROM Buckets",
			"SELECT count(*) FROM Tasks", "SELECT count(*) FROM TaskAssignments", "SELECT count(*) FROM PlanSharedWith"} {
			var want, got string
			wantN, _ := once.counted(func() { want = once.one(q) })
			gotN, _ := e.counted(func() { got = e.one(q) })
			if got != want || gotN != wantN {
				t.Errorf("GroupId %v: %s = %s in %d requests, want %s in %d (the group named once)", twice, q, got, gotN, want, wantN)
			}
		}
	}
}

// TestFidelity05EveryTableNamesTheMissingPermission: for sign-ins that
// lack a permission discovery needs (a delegated token without User.Read,
// whose /me/memberOf Graph refuses; an application without Group.Read.All
// or GroupMember.Read.All, whose /groups Graph refuses; an application with
// PlanScope=me; a sign-in without any Planner permission, whose plans Graph
// refuses in every group it reaches), every table's scan either returns rows
// or fails with an error naming what to add or change, never Graph's bare
// refusal nor no rows without a word; sign-ins
// with what discovery needs (GroupMember.Read.All rather than
// Group.Read.All, an application with GroupMember.Read.All) return rows.
func TestFidelity05EveryTableNamesTheMissingPermission(t *testing.T) {
	srv := graphtest.NewServer(t)
	me := srv.Me().ID
	cases := []struct {
		name     string
		cfg      func(*Config)
		perm     bool     // the error is ErrMissingPermission
		wants    []string // nil = rows in every table
		groupsOK bool     // Groups has rows all the same (it needs no Planner permission)
	}{
		{"Tasks.Read only", func(c *Config) { c.OAuthAccessToken = srv.TokenFor(me, "Tasks.Read") }, true,
			[]string{"lacks User.Read", "/me/memberOf", "Scope", "GroupId", "PlanScope=me"}, false},
		{"application with Tasks.Read.All only", func(c *Config) { c.OAuthAccessToken = srv.AppTokenWithRoles("Tasks.Read.All") }, true,
			[]string{"Group.Read.All or GroupMember.Read.All application permission", "/groups", "admin consent", "GroupId"}, false},
		{"application, PlanScope=me", func(c *Config) { c.OAuthAccessToken = srv.AppToken(); c.PlanScope = PlanScopeMe }, false,
			[]string{"PlanScope=me", "application", "sign in as a user", "PlanScope=groups", "GroupId"}, true},
		// Without a Planner permission Graph refuses the plans of every
		// group the sign-in reaches: no rows would look like empty plans.
		{"no Planner permission", func(c *Config) { c.OAuthAccessToken = srv.TokenFor(me, "User.Read", "GroupMember.Read.All") }, true,
			[]string{"refused (403) the plans of each of the 3 groups the sign-in reaches", "lacks a Planner permission", "Tasks.Read", "Scope"}, true},
		{"application without a Planner permission", func(c *Config) { c.OAuthAccessToken = srv.AppTokenWithRoles("GroupMember.Read.All") }, true,
			[]string{"refused (403) the plans of each of the 4 groups", "Tasks.Read.All"}, true},
		{"PlanScope=me without a Planner permission", func(c *Config) {
			c.OAuthAccessToken = srv.TokenFor(me, "User.Read", "GroupMember.Read.All")
			c.PlanScope = PlanScopeMe
		}, true, []string{"PlanScope=me", "/me/planner/plans", "lacks Tasks.Read", "Scope"}, true},
		{"GroupMember.Read.All", func(c *Config) {
			c.OAuthAccessToken = srv.TokenFor(me, "User.Read", "Tasks.Read", "GroupMember.Read.All")
		}, false, nil, false},
		{"application with Tasks.Read.All and GroupMember.Read.All", func(c *Config) {
			c.OAuthAccessToken = srv.AppTokenWithRoles("Tasks.Read.All", "GroupMember.Read.All")
		}, false, nil, false},
	}
	for _, tc := range cases {
		e := envOn(t, srv, tc.cfg)
		for _, tb := range []string{"Groups", "Plans", "PlanDetails", "PlanCategories", "PlanSharedWith", "Buckets", "Tasks",
			"TaskDetails", "TaskAssignments", "TaskCategories", "TaskChecklistItems", "TaskReferences", "TaskBoardFormats"} {
			var n int
			err := e.db.QueryRow("SELECT count(*) FROM " + tb).Scan(&n)
			if tc.wants == nil {
				if err != nil || n == 0 {
					t.Errorf("%s: %s: %d rows, %v", tc.name, tb, n, err)
				}
				continue
			}
			if tc.groupsOK && tb == "Groups" {
				// Groups need a directory permission only.
				if err != nil || n == 0 {
					t.Errorf("%s: %s: %d rows, %v", tc.name, tb, n, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s: %s: %d rows and no error", tc.name, tb, n)
				continue
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %s: error %q does not say %q", tc.name, tb, err, w)
				}
			}
			var ge *graph.Error
			if !errors.As(err, &ge) {
				t.Errorf("%s: %s: error %v does not wrap Graph's", tc.name, tb, err)
			}
			if errors.Is(err, ErrMissingPermission) != tc.perm {
				t.Errorf("%s: %s: errors.Is(ErrMissingPermission) = %v, want %v", tc.name, tb, !tc.perm, tc.perm)
			}
		}
	}
	// A user's task list involves no membership: its refusal is a missing
	// permission too, in whatever scope.
	for _, cfg := range []func(*Config){
		func(c *Config) { c.OAuthAccessToken = srv.TokenFor(me, "User.Read", "GroupMember.Read.All") },
		func(c *Config) {
			c.OAuthAccessToken = srv.TokenFor(me, "User.Read", "GroupMember.Read.All")
			c.PlanScope = PlanScopeMe
		},
		func(c *Config) { c.OAuthAccessToken = srv.AppTokenWithRoles("GroupMember.Read.All") },
	} {
		e := envOn(t, srv, cfg)
		err := e.queryErr("SELECT * FROM TaskAssignments WHERE UserId = ?", me)
		if !errors.Is(err, ErrMissingPermission) || !strings.Contains(err.Error(), "tasks assigned to user "+me) || !strings.Contains(err.Error(), "Tasks.Read") {
			t.Errorf("TaskAssignments WHERE UserId without a Planner permission: %v", err)
		}
	}
}

// TestFidelity06NotAMicrosoft365Group: a group named in GroupId that Graph
// reads as a security group (a member's or not) holds no plan and is not in
// Groups, which lists Microsoft 365 groups: reading it (the Groups scan
// and lookup) fails naming the group and its kind, instead of showing a
// row no other sign-in shows, or none without a word. Replication with an
// unreadable group named fails the same way and copies nothing. An id no
// group can have fails naming it and the setting, before any request.
func TestFidelity06NotAMicrosoft365Group(t *testing.T) {
	srv := graphtest.NewServer(t)
	me := srv.Me().ID
	var member, other string
	var security []string
	for _, g := range srv.Groups() {
		switch {
		case !g.Unified:
			security = append(security, g.ID)
		case !slices.Contains(g.Members, me):
			other = g.ID
		case len(g.PlanIDs) > 0 && member == "":
			member = g.ID
		}
	}
	if len(security) < 2 {
		t.Fatalf("the demo tenant has %d security groups, want a member's and another", len(security))
	}
	for _, sec := range security {
		e := envOn(t, srv, func(c *Config) { c.GroupIDs = []string{member, sec} })
		for _, q := range []string{"SELECT count(*) FROM Groups", "SELECT count(*) FROM Groups WHERE GroupId = '" + sec + "'"} {
			err := e.queryErr(q)
			if err == nil || !strings.Contains(err.Error(), "GroupId "+sec) || !strings.Contains(err.Error(), "not a Microsoft 365 group") {
				t.Errorf("GroupId %s: %s: %v, want an error naming the group and its kind", sec, q, err)
			}
		}
		// The Microsoft 365 group named with it is still read alone.
		if n := e.one("SELECT count(*) FROM Groups WHERE GroupId = ?", member); n != "1" {
			t.Errorf("GroupId %s: the named Microsoft 365 group: %s rows", sec, n)
		}
	}
	// An id no group can have is refused when the connector is made (from
	// a Config or a DSN), before any request, naming the setting to correct.
	for _, bad := range []string{"not-a-guid", "", "0f8fad5b-d9cb-469f-a165-70867728950g", "../../me"} {
		cfg := NewConfig()
		cfg.GraphURL, cfg.InitiateOAuth, cfg.OAuthAccessToken = srv.GraphURL(), OAuthOff, srv.Token()
		cfg.GroupIDs = []string{member, bad}
		before := len(srv.Requests())
		_, err := NewConnector(cfg)
		if err == nil || !strings.Contains(err.Error(), "GroupId "+strconv.Quote(bad)) || !strings.Contains(err.Error(), "correct or remove it in GroupId") {
			t.Errorf("GroupId %q: %v, want an error naming it and the setting", bad, err)
		}
		if !errors.Is(err, graph.ErrInvalidID) {
			t.Errorf("GroupId %q: %v is not graph.ErrInvalidID", bad, err)
		}
		if bad != "" {
			_, err = sql.Open("planner", "GraphURL="+srv.GraphURL()+";InitiateOAuth=OFF;OAuthAccessToken="+srv.Token()+";GroupId="+member+","+bad)
			if err == nil || !strings.Contains(err.Error(), "GroupId "+strconv.Quote(bad)) {
				t.Errorf("DSN GroupId %q: %v, want an error naming it", bad, err)
			}
		}
		if n := len(srv.Requests()) - before; n != 0 {
			t.Errorf("GroupId %q: %d requests before the refusal", bad, n)
		}
	}
	e := envOn(t, srv, func(c *Config) { c.GroupIDs = []string{member, other} })
	dst, err := dest.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "dst.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	_, err = replicate.Run(context.Background(), e.db, dst, "REPLICATE T SELECT * FROM Tasks", replicate.Options{})
	if err == nil || !strings.Contains(err.Error(), "GroupId "+other) || !strings.Contains(err.Error(), "403") {
		t.Errorf("replication with an unreadable group named: %v", err)
	}
	var n int
	if err := dst.QueryRow("SELECT count(*) FROM T").Scan(&n); err == nil && n != 0 {
		t.Errorf("replication copied %d rows of a failed read", n)
	}
}

// TestFidelity05ApplicationLookupsNameThePermission: an application reaches
// every group, so a 403 to a read by id is a missing permission, not a
// group it is not a member of: lookups of an application's sign-in
// (AuthScheme=AzureServicePrincipal) without Tasks.Read.All fail naming it,
// as its scans do, instead of returning no rows.
func TestFidelity05ApplicationLookupsNameThePermission(t *testing.T) {
	srv := graphtest.NewServer(t)
	full := envOn(t, srv, nil)
	plan := full.plans()[0]
	task := full.one("SELECT TaskId FROM Tasks WHERE PlanId = ? LIMIT 1", plan)
	bucket := full.one("SELECT BucketId FROM Buckets WHERE PlanId = ? LIMIT 1", plan)
	e := envOn(t, srv, func(c *Config) {
		c.AuthScheme = AuthAzureServicePrincipal
		c.OAuthAccessToken = srv.AppTokenWithRoles("GroupMember.Read.All")
	})
	for _, q := range []struct {
		sql string
		arg string
	}{
		{"SELECT count(*) FROM Plans WHERE PlanId = ?", plan},
		{"SELECT count(*) FROM PlanDetails WHERE PlanId = ?", plan},
		{"SELECT count(*) FROM Buckets WHERE BucketId = ?", bucket},
		{"SELECT count(*) FROM Buckets WHERE PlanId = ?", plan},
		{"SELECT count(*) FROM Tasks WHERE TaskId = ?", task},
		{"SELECT count(*) FROM Tasks WHERE PlanId = ?", plan},
		{"SELECT count(*) FROM Tasks WHERE BucketId = ?", bucket},
		{"SELECT count(*) FROM TaskDetails WHERE TaskId = ?", task},
		{"SELECT count(*) FROM TaskChecklistItems WHERE TaskId = ?", task},
		{"SELECT count(*) FROM TaskBoardFormats WHERE TaskId = ?", task},
	} {
		err := e.queryErr(q.sql, q.arg)
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.StatusCode != 403 || !strings.Contains(err.Error(), "Tasks.Read.All") {
			t.Errorf("%s: %v, want Graph's 403 naming Tasks.Read.All", q.sql, err)
		}
	}
	// A signed-in user's lookup of a group it is not a member of stays no rows.
	var other string
	for _, g := range srv.Groups() {
		if g.Unified && len(g.PlanIDs) > 0 && !slices.Contains(g.Members, srv.Me().ID) {
			other = g.PlanIDs[0]
		}
	}
	if n := full.one("SELECT count(*) FROM Plans WHERE PlanId = ?", other); n != "0" {
		t.Errorf("a plan of another group: %s rows", n)
	}
}
