package graphtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The tests of this file are named after the points of issue 12 ("field
// fidelity"): what real tenants send and enforce.

// TestFidelity02DateTimesKeptAsSent: a date-time a client sends comes back
// with the fractional digits it had (Graph's resolution is seven), in UTC,
// over Graph's whole range of years 1 to 9999.
func TestFidelity02DateTimesKeptAsSent(t *testing.T) {
	_, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	task := newTask(t, c, pid, nil)
	tid := str(task, "id")
	cases := []struct{ sent, want string }{
		{"2026-12-01T09:30:00.5Z", "2026-12-01T09:30:00.5Z"},
		{"2026-12-01T09:30:00Z", "2026-12-01T09:30:00Z"},
		{"2026-12-01T09:30:00.000Z", "2026-12-01T09:30:00.000Z"},
		{"2026-12-01T09:30:00.123Z", "2026-12-01T09:30:00.123Z"},
		{"2026-12-01T09:30:00.1234567Z", "2026-12-01T09:30:00.1234567Z"},
		{"2026-12-01T09:30:00.123456789Z", "2026-12-01T09:30:00.1234567Z"},
		{"2026-12-01T09:30:00.50", "2026-12-01T09:30:00.50Z"},
		{"2026-12-01T11:30:00.25+02:00", "2026-12-01T09:30:00.25Z"},
		{"2026-12-01", "2026-12-01T00:00:00Z"},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
		{"1969-12-31T23:59:59.9Z", "1969-12-31T23:59:59.9Z"},
		{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999Z"},
	}
	etag := str(task, "@odata.etag")
	for _, tc := range cases {
		got := patch(t, c, "/planner/tasks/"+tid, etag, map[string]any{"dueDateTime": tc.sent, "startDateTime": nil})
		etag = etagOf(got)
		if d := str(got, "dueDateTime"); d != tc.want {
			t.Errorf("dueDateTime %q came back as %q, want %q", tc.sent, d, tc.want)
		}
		if d := str(c.get("/planner/tasks/"+tid), "dueDateTime"); d != tc.want {
			t.Errorf("GET after %q: dueDateTime %q, want %q", tc.sent, d, tc.want)
		}
	}
	// Start after due is compared as instants, whatever the digits.
	r := c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"startDateTime": "2026-12-01T09:30:00.5000000Z", "dueDateTime": "2026-12-01T09:30:00.5Z"}, "If-Match", etag)
	if r.status != 204 {
		t.Errorf("start equal to due with other digits: %d %s", r.status, r.body)
	}
	etag = etagOf(c.get("/planner/tasks/" + tid))
	r = c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"startDateTime": "2026-12-01T09:30:00.5000001Z", "dueDateTime": "2026-12-01T09:30:00.5Z"}, "If-Match", etag)
	if r.status != 400 {
		t.Errorf("start 100 ns after due: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"10000-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "yesterday"} {
		if r := c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"dueDateTime": bad}, "If-Match", etag); r.status != 400 {
			t.Errorf("dueDateTime %q: %d %s", bad, r.status, r.body)
		}
	}
}

// TestFidelity01ReferenceKeysKeptAsSent: the service stores whatever key a
// client sends and the key is the reference's identity: keys other clients
// wrote (seeded) come back verbatim beside the documented encoding of the
// same URL, and each can be updated and removed by its exact key.
func TestFidelity01ReferenceKeysKeptAsSent(t *testing.T) {
	s, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	tid := str(newTask(t, c, pid, nil), "id")
	const odd = "https%3A//contoso%2Esharepoint%2Ecom/sites/ops/Shared%20Documents/Budget%2Exlsx"
	documented := EncodeReferenceKey("https://contoso.sharepoint.com/sites/ops/Shared%20Documents/Budget.xlsx")
	const raw = "https://contoso.sharepoint.com/sites/ops/raw key.docx" // no encoding of a URL at all
	if documented == odd {
		t.Fatal("the test needs two keys")
	}
	app := Identity{ApplicationID: "7a1f0b8e-0000-4000-8000-00000000a99f"}
	if err := s.SeedReference(tid, odd, Reference{Alias: "Budget", Type: "Excel", LastModifiedBy: app, LastModifiedDateTime: "2026-11-02T09:00:00.5Z"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedReference(tid, raw, Reference{Alias: "Raw"}); err != nil {
		t.Fatal(err)
	}
	d := c.get("/planner/tasks/" + tid + "/details")
	d = patch(t, c, "/planner/tasks/"+tid+"/details", etagOf(d), map[string]any{"references": map[string]any{
		documented: map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference", "alias": "Budget (documented key)"},
	}})
	refs := d["references"].(map[string]any)
	if len(refs) != 3 {
		t.Fatalf("references %v: want the three keys as sent", refs)
	}
	budget := refs[odd].(map[string]any)
	if budget["alias"] != "Budget" || budget["lastModifiedDateTime"] != "2026-11-02T09:00:00.5Z" ||
		budget["lastModifiedBy"].(map[string]any)["application"].(map[string]any)["id"] != app.ApplicationID || budget["lastModifiedBy"].(map[string]any)["user"] != nil {
		t.Errorf("seeded reference = %v", budget)
	}
	if refs[documented].(map[string]any)["alias"] != "Budget (documented key)" || refs[raw].(map[string]any)["alias"] != "Raw" {
		t.Errorf("references = %v", refs)
	}
	// Update and remove address exactly one key each.
	d = patch(t, c, "/planner/tasks/"+tid+"/details", etagOf(d), map[string]any{"references": map[string]any{
		odd: map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference", "alias": "Budget FY27"},
		raw: nil,
	}})
	refs = d["references"].(map[string]any)
	if len(refs) != 2 || refs[odd].(map[string]any)["alias"] != "Budget FY27" || refs[documented].(map[string]any)["alias"] != "Budget (documented key)" {
		t.Errorf("after update and removal: %v", refs)
	}
	if n := c.get("/planner/tasks/" + tid)["referenceCount"]; n != 2.0 {
		t.Errorf("referenceCount %v", n)
	}
	// A new key through the API is stored as sent too (%20 kept, not re-encoded).
	const extra = "https%3A//contoso%2Esharepoint%2Ecom/sites/ops/Q3%20plan%2Epptx"
	d = patch(t, c, "/planner/tasks/"+tid+"/details", etagOf(d), map[string]any{"references": map[string]any{
		extra: map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference", "alias": "Q3"},
	}})
	if _, ok := d["references"].(map[string]any)[extra]; !ok {
		t.Errorf("key %q not kept as sent: %v", extra, d["references"])
	}
	// New keys still follow the documented rules.
	if r := c.do("PATCH", "/planner/tasks/"+tid+"/details", map[string]any{"references": map[string]any{
		"https://contoso.com/new": map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference"},
	}}, "If-Match", etagOf(d)); r.status != 400 {
		t.Errorf("a new unencoded key: %d %s", r.status, r.body)
	}
	if err := s.SeedReference("AAAAAAAAAAAAAAAAAAAAAAAAAAAA", odd, Reference{}); err == nil {
		t.Error("seeding on an unknown task succeeded")
	}
}

// TestFidelity07TasksOfDeletedPlans: with WithTasksOfDeletedPlans, the tasks
// of a plan deleted directly or with its group stay in the users' task lists
// (and only there); by default they go with the plan.
func TestFidelity07TasksOfDeletedPlans(t *testing.T) {
	for _, keep := range []bool{false, true} {
		var opts []Option
		if keep {
			opts = append(opts, WithTasksOfDeletedPlans())
		}
		s, c := demo(t, opts...)
		me := s.Me().ID
		mine := func() map[string]string {
			items, _ := c.list("/me/planner/tasks")
			byUser, _ := c.list("/users/" + me + "/planner/tasks")
			if len(items) != len(byUser) {
				t.Fatalf("/me/planner/tasks has %d tasks, /users/{id}/planner/tasks %d", len(items), len(byUser))
			}
			out := map[string]string{}
			for _, it := range items {
				out[str(it, "id")] = str(it, "planId")
			}
			return out
		}
		before := mine()
		total := s.TaskCount()
		// Delete one plan through the API and the group of another.
		var victim, groupVictim string
		var groupPlans []string
		for _, g := range s.Groups() {
			if !g.Unified || len(g.PlanIDs) == 0 || !contains(g.Members, me) {
				continue
			}
			if victim == "" && len(g.PlanIDs) > 1 {
				victim = g.PlanIDs[0]
			} else if groupVictim == "" && len(g.PlanIDs) == 1 {
				groupVictim, groupPlans = g.ID, g.PlanIDs
			}
		}
		if victim == "" || groupVictim == "" {
			t.Fatal("the demo tenant needs a group with two plans and one with one")
		}
		gone := map[string]bool{victim: true}
		for _, p := range groupPlans {
			gone[p] = true
		}
		orphans, n := 0, 0
		for _, p := range before {
			if gone[p] {
				orphans++
			}
		}
		for p := range gone {
			n += len(s.TaskIDs(p))
		}
		if orphans == 0 {
			t.Fatal("Me has no task in the deleted plans")
		}
		plan := c.get("/planner/plans/" + victim)
		c.must(204, "DELETE", "/planner/plans/"+victim, nil, "If-Match", etagOf(plan))
		if err := s.DeleteGroup(groupVictim); err != nil {
			t.Fatal(err)
		}
		if r := c.do("GET", "/groups/"+groupVictim, nil); r.status != 404 {
			t.Errorf("deleted group: %d", r.status)
		}
		after := mine()
		kept := 0
		for id, p := range after {
			if !gone[p] {
				continue
			}
			kept++
			if r := c.do("GET", "/planner/tasks/"+id, nil); r.status != 404 {
				t.Errorf("GET of a task of a deleted plan: %d", r.status)
			}
			if r := c.do("GET", "/planner/plans/"+p, nil); r.status != 404 {
				t.Errorf("GET of a deleted plan: %d", r.status)
			}
		}
		want := 0
		if keep {
			want = orphans
		}
		if kept != want || len(after) != len(before)-orphans+want {
			t.Errorf("keep=%v: %d tasks of deleted plans listed, want %d (before %d, after %d)", keep, kept, want, len(before), len(after))
		}
		if got := s.TaskCount(); got != total-n {
			t.Errorf("keep=%v: TaskCount %d, want %d", keep, got, total-n)
		}
	}
}

// TestFidelity05LeastPrivilegeScopes: without Group.Read.All or
// GroupMember.Read.All (or Directory.Read.All), /me/memberOf lists the
// user's groups with @odata.type and id only, every other property null;
// directory roles likewise without Directory.Read.All.
func TestFidelity05LeastPrivilegeScopes(t *testing.T) {
	s, _ := demo(t)
	me := s.Me().ID
	memberOf := func(token, query string) []map[string]any {
		items, _ := newClient(t, s, token).list("/me/memberOf" + query)
		if len(items) == 0 {
			t.Fatal("/me/memberOf is empty")
		}
		return items
	}
	limited := func(it map[string]any) bool {
		for k, v := range it {
			if k != "@odata.type" && k != "id" && v != nil {
				return false
			}
		}
		return str(it, "id") != "" && str(it, "@odata.type") != ""
	}
	cases := []struct {
		scopes                      []string
		query                       string
		groupsFull, rolesOK, unitOK bool
	}{
		{[]string{"User.Read", "Tasks.ReadWrite"}, "", false, false, false},
		{[]string{"User.Read", "Tasks.Read"}, "?$select=id,displayName,groupTypes", false, false, false},
		{[]string{"User.Read", "Tasks.ReadWrite", "GroupMember.Read.All"}, "", true, false, false},
		{[]string{"User.Read", "Tasks.ReadWrite", "Group.Read.All"}, "", true, false, false},
		{[]string{"User.Read", "AdministrativeUnit.Read.All"}, "", false, false, true},
		{[]string{"User.Read", "Directory.Read.All"}, "", true, true, true},
	}
	for _, tc := range cases {
		groups, units := 0, 0
		for _, it := range memberOf(s.TokenFor(me, tc.scopes...), tc.query) {
			switch str(it, "@odata.type") {
			case "#microsoft.graph.group":
				groups++
				if limited(it) == tc.groupsFull {
					t.Errorf("%v: group %v", tc.scopes, it)
				}
				if !tc.groupsFull {
					if v, ok := it["groupTypes"]; !ok || v != nil {
						t.Errorf("%v: a limited group must have groupTypes null: %v", tc.scopes, it)
					}
				}
			case "#microsoft.graph.directoryRole":
				if limited(it) == tc.rolesOK {
					t.Errorf("%v: role %v", tc.scopes, it)
				}
			case "#microsoft.graph.administrativeUnit":
				// Administrative units are members' directory objects too,
				// limited without AdministrativeUnit.Read.All.
				units++
				if limited(it) == tc.unitOK {
					t.Errorf("%v: administrative unit %v", tc.scopes, it)
				}
				if _, ok := it["groupTypes"]; ok {
					t.Errorf("%v: an administrative unit has no groupTypes: %v", tc.scopes, it)
				}
			}
		}
		if groups == 0 {
			t.Errorf("%v: no group listed", tc.scopes)
		}
		if units != 1 {
			t.Errorf("%v: %d administrative units listed, want the demo tenant's one", tc.scopes, units)
		}
	}
	// Tokens from the OAuth endpoints carry the scopes asked for.
	for scope, full := range map[string]bool{
		"https://graph.microsoft.com/Tasks.ReadWrite offline_access":                                                  false,
		"https://graph.microsoft.com/Tasks.ReadWrite https://graph.microsoft.com/GroupMember.Read.All offline_access": true,
	} {
		tok, _ := login(t, s, scope)["access_token"].(string)
		for _, it := range memberOf(tok, "") {
			if str(it, "@odata.type") == "#microsoft.graph.group" && limited(it) == full {
				t.Errorf("signed in with %q: group %v", scope, it)
			}
		}
	}
	// The scopes are the token's: the test token has GroupMember.Read.All.
	for _, it := range memberOf(s.Token(), "") {
		if str(it, "@odata.type") == "#microsoft.graph.group" && limited(it) {
			t.Errorf("Token(): limited group %v", it)
		}
	}
}

// TestFidelity06UnreadableGroups: the statuses a client meets for a group it
// names but cannot read: not a member (the group is readable, its plans are
// 403), deleted or unknown (404), and no directory permission (GET of the
// group 403 while its plans stay readable to a member).
func TestFidelity06UnreadableGroups(t *testing.T) {
	s, c := demo(t)
	me := s.Me().ID
	var member, other, otherPlan string
	for _, g := range s.Groups() {
		if !g.Unified || len(g.PlanIDs) == 0 {
			continue
		}
		if contains(g.Members, me) && member == "" {
			member = g.ID
		} else if !contains(g.Members, me) {
			other, otherPlan = g.ID, g.PlanIDs[0]
		}
	}
	deleted := member
	for _, g := range s.Groups() {
		if g.Unified && g.ID != member && contains(g.Members, me) && len(g.PlanIDs) > 0 {
			deleted = g.ID
		}
	}
	if other == "" || deleted == member {
		t.Fatal("the demo tenant needs two member groups and a non-member group with plans")
	}
	if err := s.DeleteGroup(deleted); err != nil {
		t.Fatal(err)
	}
	least := newClient(t, s, s.TokenFor(me, "User.Read", "Tasks.ReadWrite"))
	cases := []struct {
		who    *client
		path   string
		status int
		code   string
	}{
		{c, "/groups/" + other, 200, ""},
		{c, "/groups/" + other + "/planner/plans", 403, "accessDenied"},
		{c, "/planner/plans/" + otherPlan, 403, "accessDenied"},
		{c, "/groups/" + deleted, 404, "Request_ResourceNotFound"},
		{c, "/groups/" + deleted + "/planner/plans", 404, "itemNotFound"},
		{least, "/groups/" + member, 403, "Authorization_RequestDenied"},
		{least, "/groups/" + member + "/planner/plans", 200, ""},
		{least, "/groups/" + other + "/planner/plans", 403, "accessDenied"},
	}
	for _, tc := range cases {
		r := tc.who.do("GET", tc.path, nil)
		if r.status != tc.status || (tc.code != "" && r.errCode(t) != tc.code) {
			t.Errorf("GET %s: %d %s, want %d %s", tc.path, r.status, r.body, tc.status, tc.code)
		}
	}
}

// TestFidelity08Limits: a plan's limit on tasks that are not completed
// (MaximumActiveTasksInProject) besides its limit on all tasks, and the
// per-user limits on assigned and created tasks, each with its 403 code.
func TestFidelity08Limits(t *testing.T) {
	_, c := demo(t, WithLimits(Limits{ActiveTasksPerPlan: 3, TasksPerPlan: 5}))
	pid := str(newPlan(t, c, "Limits"), "id")
	code := func(r resp) string {
		if r.status != 403 {
			return fmt.Sprintf("status %d", r.status)
		}
		return r.errCode(t)
	}
	var open []map[string]any
	for i := 0; i < 3; i++ {
		open = append(open, newTask(t, c, pid, nil))
	}
	if got := code(c.do("POST", "/planner/tasks", map[string]any{"planId": pid, "title": "fourth active"})); got != "MaximumActiveTasksInProject" {
		t.Errorf("fourth active task: %s", got)
	}
	// Completed tasks only count toward the total.
	done := newTask(t, c, pid, map[string]any{"percentComplete": 100})
	// Completing a task frees a place among the active ones.
	c.must(204, "PATCH", "/planner/tasks/"+str(open[0], "id"), map[string]any{"percentComplete": 100}, "If-Match", etagOf(open[0]))
	newTask(t, c, pid, nil)
	// Reopening a completed task when the plan is full of active ones fails.
	if got := code(c.do("PATCH", "/planner/tasks/"+str(done, "id"), map[string]any{"percentComplete": 50}, "If-Match", etagOf(done))); got != "MaximumActiveTasksInProject" {
		t.Errorf("reopening: %s", got)
	}
	if got := code(c.do("POST", "/planner/tasks", map[string]any{"planId": pid, "title": "sixth", "percentComplete": 100})); got != "MaximumTasksInProject" {
		t.Errorf("sixth task: %s", got)
	}
	r := c.do("POST", "/planner/tasks", map[string]any{"planId": pid, "title": "sixth"})
	if got := code(r); got != "MaximumTasksInProject" || !strings.Contains(string(r.body), "Tasks in a Plan") {
		t.Errorf("sixth task: %s %s", got, r.body)
	}

	// Per-user limits count across the tenant.
	s2 := NewServer(t)
	me := s2.Me().ID
	app := newClient(t, s2, s2.AppToken())
	assigned, created := 0, 0
	for _, p := range s2.PlanIDs() {
		items, _ := app.list("/planner/plans/" + p + "/tasks")
		for _, it := range items {
			if _, ok := it["assignments"].(map[string]any)[me]; ok {
				assigned++
			}
			if by, _ := it["createdBy"].(map[string]any); by != nil {
				if u, _ := by["user"].(map[string]any); u != nil && u["id"] == me {
					created++
				}
			}
		}
	}
	if assigned == 0 || created == 0 {
		t.Fatalf("Me is assigned %d and created %d demo tasks", assigned, created)
	}
	s3 := NewServer(t, WithLimits(Limits{TasksAssignedToUser: assigned + 1, TasksCreatedByUser: created + 2}))
	c3, app3 := newClient(t, s3, s3.Token()), newClient(t, s3, s3.AppToken())
	pid3 := firstAccessiblePlan(t, c3)
	assign := map[string]any{"assignments": map[string]any{me: map[string]any{"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"}}}
	newTask(t, c3, pid3, assign) // assigned+1, created+1
	if got := code(c3.do("POST", "/planner/tasks", map[string]any{"planId": pid3, "title": "x", "assignments": assign["assignments"]})); got != "MaximumTasksAssignedToUser" {
		t.Errorf("one assignment too many on create: %s", got)
	}
	other := newTask(t, c3, pid3, nil) // created+2
	if got := code(c3.do("PATCH", "/planner/tasks/"+str(other, "id"), assign, "If-Match", etagOf(other))); got != "MaximumTasksAssignedToUser" {
		t.Errorf("one assignment too many on update: %s", got)
	}
	if got := code(c3.do("POST", "/planner/tasks", map[string]any{"planId": pid3, "title": "x"})); got != "MaximumTasksCreatedByUser" {
		t.Errorf("one task too many created by Me: %s", got)
	}
	// An application alone creates tasks no user created.
	if r := app3.do("POST", "/planner/tasks", map[string]any{"planId": pid3, "title": "by the app"}); r.status != 201 {
		t.Errorf("app-only create: %d %s", r.status, r.body)
	}
	def := Limits{}.withDefaults()
	if def.ActiveTasksPerPlan != 3000 || def.TasksAssignedToUser != 9000 || def.TasksCreatedByUser != 20000 {
		t.Errorf("default limits = %+v", def)
	}
}

// TestFidelity09ChecklistKeys: new checklist items are keyed by GUIDs (the
// docs' rule; '.', ':', '%', '@' and '#' can never appear), while a key
// another client wrote stays addressable whatever its form.
func TestFidelity09ChecklistKeys(t *testing.T) {
	s, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	tid := str(newTask(t, c, pid, nil), "id")
	item := func(title string) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": title}
	}
	path := "/planner/tasks/" + tid + "/details"
	etag := func() string { return etagOf(c.get(path)) }
	for _, k := range []string{"item-1", "20886", "a.b", "x:y", "%41", "a@b", "#1", " ", "8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c5", "8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c5g", "{8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c5d"} {
		r := c.do("PATCH", path, map[string]any{"checklist": map[string]any{k: item(k)}}, "If-Match", etag())
		if r.status != 400 || r.errCode(t) != "invalidRequest" || !strings.Contains(string(r.body), "GUID") {
			t.Errorf("new checklist key %q: %d %s", k, r.status, r.body)
		}
	}
	good := []string{"8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c5d", "8D5B6A4E2F1C4A7B9E3D0C1F2A3B4C5E", "{8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c5f}", "(8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c60)"}
	for _, k := range good {
		patch(t, c, path, etag(), map[string]any{"checklist": map[string]any{k: item(k)}})
	}
	// The Planner apps write short numeric keys (docs-contrib#3479).
	if err := s.SeedChecklistItem(tid, "20886", ChecklistItem{Title: "Seeded", LastModifiedBy: Identity{ApplicationID: plannerWebApp}}); err != nil {
		t.Fatal(err)
	}
	d := patch(t, c, path, etag(), map[string]any{"checklist": map[string]any{"20886": map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "isChecked": true}}})
	it := d["checklist"].(map[string]any)["20886"].(map[string]any)
	if it["title"] != "Seeded" || it["isChecked"] != true || len(d["checklist"].(map[string]any)) != len(good)+1 {
		t.Errorf("seeded item after update: %v", d["checklist"])
	}
	d = patch(t, c, path, etagOf(d), map[string]any{"checklist": map[string]any{"20886": nil}})
	if _, ok := d["checklist"].(map[string]any)["20886"]; ok {
		t.Error("the seeded item was not removed")
	}
}

// TestFidelity10BatchDependsOn: Graph refuses (400, the whole batch) a batch
// that is neither fully parallel nor fully sequential, and a dependsOn
// naming a later request; fully sequential and fully parallel batches run.
func TestFidelity10BatchDependsOn(t *testing.T) {
	_, c := demo(t)
	req := func(id string, deps ...string) map[string]any {
		m := map[string]any{"id": id, "method": "GET", "url": "/me"}
		if len(deps) > 0 {
			m["dependsOn"] = deps
		}
		return m
	}
	cases := []struct {
		name string
		reqs []map[string]any
		msg  string // "" = accepted
	}{
		{"parallel", []map[string]any{req("1"), req("2"), req("3")}, ""},
		{"sequential", []map[string]any{req("1"), req("2", "1"), req("3", "2")}, ""},
		{"sequential, naming earlier ones too", []map[string]any{req("1"), req("2", "1"), req("3", "1", "2")}, ""},
		{"the docs' old example: 1 and 3 first, then 2, then 4", []map[string]any{req("1"), req("2", "1"), req("3"), req("4", "2", "3")}, "fully sequential or fully parallel"},
		{"a chain and a free request", []map[string]any{req("1"), req("2", "1"), req("3")}, "fully sequential or fully parallel"},
		{"skipping the one before", []map[string]any{req("1"), req("2", "1"), req("3", "1")}, "fully sequential or fully parallel"},
		{"depends on a later request", []map[string]any{req("1", "2"), req("2")}, "Invalid dependency for request Id: 1"},
		{"sequential in the wrong order", []map[string]any{req("b", "a"), req("a")}, "Invalid dependency for request Id: b"},
	}
	for _, tc := range cases {
		r := c.do("POST", "/$batch", map[string]any{"requests": tc.reqs})
		if tc.msg == "" {
			if r.status != 200 {
				t.Errorf("%s: %d %s", tc.name, r.status, r.body)
			}
			continue
		}
		if r.status != 400 || r.errCode(t) != "BadRequest" || !strings.Contains(string(r.body), tc.msg) {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, r.status, r.body, tc.msg)
		}
	}
}

// TestFidelity11Versioning: Planner accepts a write made against an older
// etag when it does not conflict with newer changes, answers 409 when it
// does, and 412 when the etag is missing or is not a version of the object
// it can judge (planner-overview, "Planner resource versioning").
func TestFidelity11Versioning(t *testing.T) {
	s, c := demo(t)
	other := newClient(t, s, s.AppToken())
	pid := firstAccessiblePlan(t, c)
	users := s.Users()
	assign := map[string]any{"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"}
	task := newTask(t, c, pid, nil)
	tid := str(task, "id")
	path := "/planner/tasks/" + tid
	read := etagOf(task) // what our client read

	// Another client changes the title and assigns someone.
	patch(t, other, path, read, map[string]any{"title": "by the other client", "assignments": map[string]any{users[1].ID: assign}})
	cases := []struct {
		name   string
		method string
		body   map[string]any
		etag   string
		status int
	}{
		{"another property", "PATCH", map[string]any{"priority": 1}, read, 204},
		{"another assignee", "PATCH", map[string]any{"assignments": map[string]any{users[2].ID: assign}}, read, 204},
		{"the same property", "PATCH", map[string]any{"title": "ours"}, read, 409},
		{"the same assignee", "PATCH", map[string]any{"assignments": map[string]any{users[1].ID: nil}}, read, 409},
		{"all assignments", "PATCH", map[string]any{"assignments": nil}, read, 409},
		{"delete", "DELETE", nil, read, 409},
		{"missing If-Match", "PATCH", map[string]any{"priority": 3}, "", 412},
		{"an etag never issued", "PATCH", map[string]any{"priority": 3}, `W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc="`, 412},
	}
	for _, tc := range cases {
		var r resp
		if tc.etag == "" {
			r = c.do(tc.method, path, tc.body)
		} else {
			r = c.do(tc.method, path, tc.body, "If-Match", tc.etag)
		}
		if r.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
			continue
		}
		if r.status >= 400 && r.errCode(t) != "resourceModified" && r.errCode(t) != "invalidRequest" {
			t.Errorf("%s: code %q", tc.name, r.errCode(t))
		}
	}
	got := c.get(path)
	as := got["assignments"].(map[string]any)
	if got["title"] != "by the other client" || got["priority"] != 1.0 || len(as) != 2 || as[users[1].ID] == nil || as[users[2].ID] == nil {
		t.Errorf("merged task: %v", got)
	}

	// Checklist items are judged key by key; a change of the task's counts
	// by the service does not conflict with a client's change of the task.
	dpath := path + "/details"
	d0 := c.get(dpath)
	k1, k2 := "8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c01", "8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c02"
	item := func(title string) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": title}
	}
	before := etagOf(c.get(path))
	patch(t, other, dpath, etagOf(d0), map[string]any{"checklist": map[string]any{k1: item("theirs")}})
	c.must(204, "PATCH", dpath, map[string]any{"checklist": map[string]any{k2: item("ours")}}, "If-Match", etagOf(d0))
	if r := c.do("PATCH", dpath, map[string]any{"checklist": map[string]any{k1: item("ours too")}}, "If-Match", etagOf(d0)); r.status != 409 {
		t.Errorf("the same checklist item: %d %s", r.status, r.body)
	}
	if etagOf(c.get(path)) == before {
		t.Fatal("new checklist items change the task's counts and etag")
	}
	c.must(204, "PATCH", path, map[string]any{"percentComplete": 50}, "If-Match", before)

	// Only recent versions can be judged: beyond them the etag is 412.
	plan := newPlan(t, c, "History")
	ppath := "/planner/plans/" + str(plan, "id")
	cur := plan
	for i := 0; i < maxHistory+1; i++ {
		cur = patch(t, c, ppath, etagOf(cur), map[string]any{"title": fmt.Sprint("v", i)})
	}
	if r := c.do("DELETE", ppath, nil, "If-Match", etagOf(plan)); r.status != 412 || r.errCode(t) != "resourceModified" {
		t.Errorf("an etag older than the history: %d %s", r.status, r.body)
	}
	c.must(204, "DELETE", ppath, nil, "If-Match", etagOf(cur))
}

// TestFidelity11ErrorCodes: every Graph error the emulator sends names a
// code, including the ones Planner leaves empty.
func TestFidelity11ErrorCodes(t *testing.T) {
	s, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	tid := s.TaskIDs(pid)[0]
	task := c.get("/planner/tasks/" + tid)
	anon := newClient(t, s, "")
	cases := []struct {
		name   string
		r      resp
		status int
	}{
		{"bad id", c.do("GET", "/planner/tasks/short", nil), 400},
		{"bad JSON", c.do("PATCH", "/planner/tasks/"+tid, "{", "If-Match", etagOf(task)), 400},
		{"bad order hint", c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"orderHint": "x"}, "If-Match", etagOf(task)), 400},
		{"bad If-Match", c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"title": "x"}, "If-Match", "nonsense"), 400},
		{"no token", anon.do("GET", "/me", nil), 401},
		{"no scope", newClient(t, s, s.TokenFor(s.Me().ID, "User.Read")).do("GET", "/planner/tasks/"+tid, nil), 403},
		{"not found", c.do("GET", "/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil), 404},
		{"method", c.do("PUT", "/planner/tasks/"+tid, map[string]any{}), 405},
		{"no If-Match", c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"title": "x"}), 412},
		{"media type", c.do("POST", "/planner/tasks", "x", "Content-Type", "text/plain"), 415},
		{"entity set", c.do("GET", "/planner/plans", nil), 400},
	}
	for _, tc := range cases {
		if tc.r.status != tc.status || tc.r.errCode(t) == "" {
			t.Errorf("%s: %d %s, want %d with a code", tc.name, tc.r.status, tc.r.body, tc.status)
		}
	}
	s.FailNext(1, 409, "/planner/tasks/")
	if r := c.do("GET", "/planner/tasks/"+tid, nil); r.status != 409 || r.errCode(t) == "" {
		t.Errorf("injected 409: %d %s", r.status, r.body)
	}
	res, _ := batch(t, c, []map[string]any{
		{"id": "1", "method": "GET", "url": "/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"id": "2", "method": "GET", "url": "/me", "dependsOn": []string{"1"}},
	})
	for id, want := range map[string]int{"1": 404, "2": 424} {
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(res[id].Body, &body)
		if res[id].Status != want || body.Error.Code == "" {
			t.Errorf("batch item %s: %d %s", id, res[id].Status, res[id].Body)
		}
	}
}

// TestFidelity12ChecklistOrderHints: with WithStrictChecklistOrderHints the
// documented checklist hints built from empty neighbours (" !", " !!",
// " ! !") are refused, as users report of the service; hints relative to an
// existing item, and items without a hint, still work. By default the
// documented hints are accepted.
func TestFidelity12ChecklistOrderHints(t *testing.T) {
	for _, strict := range []bool{false, true} {
		var opts []Option
		if strict {
			opts = append(opts, WithStrictChecklistOrderHints())
		}
		_, c := demo(t, opts...)
		tid := str(newTask(t, c, firstAccessiblePlan(t, c), nil), "id")
		path := "/planner/tasks/" + tid + "/details"
		n := 0
		item := func(hint string) map[string]any {
			n++
			m := map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": fmt.Sprint("item ", n)}
			if hint != "" {
				m["orderHint"] = hint
			}
			return map[string]any{fmt.Sprintf("8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c%02d", n): m}
		}
		for _, h := range []string{" !", " !!", " ! !", "!"} {
			r := c.do("PATCH", path, map[string]any{"checklist": item(h)}, "If-Match", etagOf(c.get(path)))
			want := 204
			if strict {
				want = 400
			}
			if r.status != want {
				t.Errorf("strict=%v: checklist orderHint %q: %d %s", strict, h, r.status, r.body)
			}
		}
		// Without a hint the item goes last; relative hints are fine.
		d := patch(t, c, path, etagOf(c.get(path)), map[string]any{"checklist": item("")})
		var last string
		for _, v := range d["checklist"].(map[string]any) {
			if h := str(v.(map[string]any), "orderHint"); h > last {
				last = h
			}
		}
		d = patch(t, c, path, etagOf(d), map[string]any{"checklist": item(last + " !")})
		d = patch(t, c, path, etagOf(d), map[string]any{"checklist": item(" " + last + "!")})
		if got := len(d["checklist"].(map[string]any)); (strict && got != 3) || (!strict && got != 7) {
			t.Errorf("strict=%v: %d checklist items", strict, got)
		}
		// Other order hints keep the documented grammar.
		task := c.get("/planner/tasks/" + tid)
		c.must(204, "PATCH", "/planner/tasks/"+tid, map[string]any{"orderHint": " !"}, "If-Match", etagOf(task))
	}
}

// TestTenantsHaveFieldFidelityCases: the demo tenant and awkward generated
// tenants exercise what other clients leave in real tenants: tasks created,
// completed and assigned by an application alone, details written by one,
// due dates with 1 and 3 fractional digits, assignment times with 3,
// reference keys with the URL's own %20 escapes, and checklist keys as the
// Planner apps write them.
func TestTenantsHaveFieldFidelityCases(t *testing.T) {
	for name, opts := range map[string][]Option{
		"demo":    nil,
		"awkward": {WithGenerated(GenSpec{Seed: 7, Plans: 2, TasksPerPlan: 60, Awkward: true})},
	} {
		t.Run(name, func(t *testing.T) { checkFidelityCases(t, NewServer(t, opts...)) })
	}
}

func checkFidelityCases(t *testing.T, s *Server) {
	app := newClient(t, s, s.AppToken())
	appOnly := func(v any) bool {
		m, _ := v.(map[string]any)
		return m != nil && m["user"] == nil && m["application"] != nil
	}
	found := map[string]bool{}
	for _, pid := range s.PlanIDs() {
		tasks, _ := app.list("/planner/plans/" + pid + "/tasks")
		for _, tk := range tasks {
			if appOnly(tk["createdBy"]) {
				found["created by an app"] = true
			}
			if appOnly(tk["completedBy"]) {
				found["completed by an app"] = true
			}
			for _, a := range tk["assignments"].(map[string]any) {
				a := a.(map[string]any)
				if appOnly(a["assignedBy"]) {
					found["assigned by an app"] = true
				}
				if d := str(a, "assignedDateTime"); len(d) == len("2026-01-01T00:00:00.000Z") {
					found["assignedDateTime with 3 digits"] = true
				}
			}
			switch d := str(tk, "dueDateTime"); len(d) {
			case len("2026-01-01T00:00:00.5Z"):
				found["due with 1 digit"] = true
			case len("2026-01-01T00:00:00.000Z"):
				found["due with 3 digits"] = true
			}
			d := app.get("/planner/tasks/" + str(tk, "id") + "/details")
			for k, v := range d["checklist"].(map[string]any) {
				if appOnly(v.(map[string]any)["lastModifiedBy"]) {
					found["checklist item by an app"] = true
				}
				if !validChecklistKey(k) {
					found["checklist key of the Planner apps"] = true
				}
			}
			for k := range d["references"].(map[string]any) {
				if strings.Contains(k, "%20") {
					found["reference key with %20"] = true
				}
			}
		}
	}
	for _, want := range []string{"created by an app", "completed by an app", "assigned by an app", "assignedDateTime with 3 digits",
		"due with 1 digit", "due with 3 digits", "checklist item by an app", "checklist key of the Planner apps", "reference key with %20"} {
		if !found[want] {
			t.Errorf("the demo tenant has no %s", want)
		}
	}
}

// TestFidelity08LimitsCountWhatAWriteAdds: a limit refuses the write that
// would take a count over it, not every write to an object already over
// it (a task other clients filled, a limit lowered with WithLimits): such
// an object still takes changes of its other properties and removals, and
// refuses one more item.
func TestFidelity08LimitsCountWhatAWriteAdds(t *testing.T) {
	s, c := demo(t, WithLimits(Limits{AssigneesPerTask: 1, ChecklistItemsPerTask: 1, ReferencesPerTask: 1, UsersSharedWithPlan: 1}))
	pid := firstAccessiblePlan(t, c)
	var task map[string]any
	items, _ := c.list("/planner/plans/" + pid + "/tasks")
	for _, it := range items {
		if len(it["assignments"].(map[string]any)) >= 2 {
			task = it
			break
		}
	}
	if task == nil {
		t.Fatal("no demo task with two assignees")
	}
	id := str(task, "id")
	users := s.Users()
	for i, k := range []string{"d280ed1a-9f6b-4f9c-a962-fb4d00dc50f1", "d280ed1a-9f6b-4f9c-a962-fb4d00dc50f2"} {
		if err := s.SeedChecklistItem(id, k, ChecklistItem{Title: "seeded"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SeedReference(id, "https%3A//contoso%2Ecom/"+k, Reference{Alias: fmt.Sprint("ref", i)}); err != nil {
			t.Fatal(err)
		}
	}
	code := func(r resp) string {
		if r.status/100 == 2 {
			return "ok"
		}
		return r.errCode(t)
	}
	task = c.get("/planner/tasks/" + id)
	if got := code(c.do("PATCH", "/planner/tasks/"+id, map[string]any{"title": "renamed"}, "If-Match", etagOf(task))); got != "ok" {
		t.Errorf("renaming a task with 2 assignees (limit 1): %s", got)
	}
	task = c.get("/planner/tasks/" + id)
	var newUser string
	for _, u := range users {
		if _, ok := task["assignments"].(map[string]any)[u.ID]; !ok {
			newUser = u.ID
			break
		}
	}
	assign := map[string]any{"assignments": map[string]any{newUser: map[string]any{"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"}}}
	if got := code(c.do("PATCH", "/planner/tasks/"+id, assign, "If-Match", etagOf(task))); got != "MaximumAssigneesInTasks" {
		t.Errorf("a third assignee (limit 1): %s", got)
	}
	details := c.get("/planner/tasks/" + id + "/details")
	if got := code(c.do("PATCH", "/planner/tasks/"+id+"/details", map[string]any{"description": "changed"}, "If-Match", etagOf(details))); got != "ok" {
		t.Errorf("a description on details over the checklist and reference limits: %s", got)
	}
	details = c.get("/planner/tasks/" + id + "/details")
	remove := map[string]any{"checklist": map[string]any{"d280ed1a-9f6b-4f9c-a962-fb4d00dc50f1": nil}}
	if got := code(c.do("PATCH", "/planner/tasks/"+id+"/details", remove, "If-Match", etagOf(details))); got != "ok" {
		t.Errorf("removing a checklist item over the limit: %s", got)
	}
	details = c.get("/planner/tasks/" + id + "/details")
	add := map[string]any{"references": map[string]any{"https%3A//contoso%2Ecom/new": map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference"}}}
	if got := code(c.do("PATCH", "/planner/tasks/"+id+"/details", add, "If-Match", etagOf(details))); got != "MaximumReferencesOnTask" {
		t.Errorf("a third reference (limit 1): %s", got)
	}
	pd := c.get("/planner/plans/" + pid + "/details")
	shared := 0
	for _, on := range pd["sharedWith"].(map[string]any) {
		if on == true {
			shared++
		}
	}
	if shared < 2 {
		t.Fatalf("demo plan shared with %d users", shared)
	}
	if got := code(c.do("PATCH", "/planner/plans/"+pid+"/details", map[string]any{"categoryDescriptions": map[string]any{"category1": "Renamed"}}, "If-Match", etagOf(pd))); got != "ok" {
		t.Errorf("renaming a label of a plan shared with %d users (limit 1): %s", shared, got)
	}
}

// TestFidelity11WrongKindEtag: another kind of object's etag in If-Match (a
// task's for its details, a plan's for its details, a bucket's for a task,
// a board format's for another) is 412 ErrorPreconditionFailed "The
// If-Match header contains an invalid value.", as the service answers now
// (Softeria/ms-365-mcp-server#290), on PATCH and DELETE of every kind; the
// object is left as it was. A value that is no etag at all stays 400.
func TestFidelity11WrongKindEtag(t *testing.T) {
	_, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	task := newTask(t, c, pid, nil)
	tp := "/planner/tasks/" + str(task, "id")
	plan := c.get("/planner/plans/" + pid)
	pdet := c.get("/planner/plans/" + pid + "/details")
	bucket := newBucket(t, c, pid, "Wrong etags")
	tdet := c.get(tp + "/details")
	bb := c.get(tp + "/bucketTaskBoardFormat")
	pb := c.get(tp + "/progressTaskBoardFormat")
	ab := c.get(tp + "/assignedToTaskBoardFormat")
	cases := []struct {
		name, method, path, etag string
		body                     any
	}{
		{"task's etag on its details", "PATCH", tp + "/details", etagOf(task), map[string]any{"description": "x"}},
		{"details' etag on the task", "PATCH", tp, etagOf(tdet), map[string]any{"title": "x"}},
		{"details' etag deleting the task", "DELETE", tp, etagOf(tdet), nil},
		{"plan's etag on its details", "PATCH", "/planner/plans/" + pid + "/details", etagOf(plan), map[string]any{"categoryDescriptions": map[string]any{"category1": "x"}}},
		{"plan details' etag on the plan", "PATCH", "/planner/plans/" + pid, etagOf(pdet), map[string]any{"title": "x"}},
		{"plan details' etag deleting the plan", "DELETE", "/planner/plans/" + pid, etagOf(pdet), nil},
		{"a bucket's etag on a task", "PATCH", tp, etagOf(bucket), map[string]any{"title": "x"}},
		{"a task's etag on a bucket", "PATCH", "/planner/buckets/" + str(bucket, "id"), etagOf(task), map[string]any{"name": "x"}},
		{"a task's etag on its bucket board format", "PATCH", tp + "/bucketTaskBoardFormat", etagOf(task), map[string]any{"orderHint": " !"}},
		{"the bucket board's etag on the progress board", "PATCH", tp + "/progressTaskBoardFormat", etagOf(bb), map[string]any{"orderHint": " !"}},
		{"the progress board's etag on the assigned-to board", "PATCH", tp + "/assignedToTaskBoardFormat", etagOf(pb), map[string]any{"unassignedOrderHint": " !"}},
		{"the assigned-to board's etag on the details", "PATCH", tp + "/details", etagOf(ab), map[string]any{"description": "x"}},
	}
	for _, tc := range cases {
		r := c.do(tc.method, tc.path, tc.body, "If-Match", tc.etag)
		if r.status != 412 || r.errCode(t) != "ErrorPreconditionFailed" || !strings.Contains(string(r.body), "The If-Match header contains an invalid value.") {
			t.Errorf("%s: %d %s, want 412 ErrorPreconditionFailed", tc.name, r.status, r.body)
		}
	}
	// Nothing changed: each object's etag is the one read.
	for path, m := range map[string]map[string]any{tp: task, tp + "/details": tdet, "/planner/plans/" + pid: plan,
		"/planner/plans/" + pid + "/details": pdet, "/planner/buckets/" + str(bucket, "id"): bucket, tp + "/bucketTaskBoardFormat": bb} {
		if got := etagOf(c.get(path)); got != etagOf(m) {
			t.Errorf("%s changed: %s -> %s", path, etagOf(m), got)
		}
	}
	if r := c.do("PATCH", tp, map[string]any{"title": "x"}, "If-Match", `W/"not base64!"`); r.status != 400 {
		t.Errorf("a value that is no etag: %d %s, want 400", r.status, r.body)
	}
}
