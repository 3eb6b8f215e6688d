package graphtest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// demo returns a demo server and a client for Me.
func demo(t *testing.T, opts ...Option) (*Server, *client) {
	t.Helper()
	s := NewServer(t, opts...)
	return s, newClient(t, s, s.Token())
}

// newPlan creates a plan in a group Me belongs to and returns its JSON.
func newPlan(t *testing.T, c *client, title string) map[string]any {
	t.Helper()
	var gid string
	for _, g := range c.s.Groups() {
		if g.Unified && contains(g.Members, c.s.Me().ID) {
			gid = g.ID
			break
		}
	}
	return c.must(201, "POST", "/planner/plans", map[string]any{
		"title":     title,
		"container": map[string]any{"containerId": gid, "type": "group"},
	})
}

func newBucket(t *testing.T, c *client, planID, name string) map[string]any {
	t.Helper()
	return c.must(201, "POST", "/planner/buckets", map[string]any{"name": name, "planId": planID})
}

func newTask(t *testing.T, c *client, planID string, fields map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"planId": planID, "title": "A task"}
	for k, v := range fields {
		body[k] = v
	}
	return c.must(201, "POST", "/planner/tasks", body)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// patch PATCHes with If-Match and Prefer: return=representation, requiring 200.
func patch(t *testing.T, c *client, path, etag string, body any) map[string]any {
	t.Helper()
	return c.must(200, "PATCH", path, body, "If-Match", etag, "Prefer", "return=representation")
}

func TestAuthentication(t *testing.T) {
	s, _ := demo(t)
	other := NewServer(t)
	cases := []struct {
		name, auth, wantMsg string
	}{
		{"no header", "", "Access token is empty."},
		{"not bearer", "Basic abc", "Access token is empty."},
		{"garbage", "Bearer garbage", "IDX14100"},
		{"other emulator's token", "Bearer " + other.Token(), "Access token validation failure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, s, "")
			var r resp
			if tc.auth == "" {
				r = c.do("GET", "/me", nil)
			} else {
				r = c.do("GET", "/me", nil, "Authorization", tc.auth)
			}
			if r.status != 401 {
				t.Fatalf("status %d, want 401: %s", r.status, r.body)
			}
			if code := r.errCode(t); code != "InvalidAuthenticationToken" {
				t.Errorf("code %q", code)
			}
			if !strings.Contains(string(r.body), tc.wantMsg) {
				t.Errorf("body %s lacks %q", r.body, tc.wantMsg)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestErrorShapeAndHeaders(t *testing.T) {
	_, c := demo(t)
	r := c.do("GET", "/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil, "client-request-id", "my-correlation-42")
	if r.status != 404 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	e := m["error"].(map[string]any)
	if e["code"] != "itemNotFound" || e["message"] != "The requested item is not found." {
		t.Errorf("error = %v", e)
	}
	inner := e["innerError"].(map[string]any)
	for _, k := range []string{"date", "request-id", "client-request-id"} {
		if str(inner, k) == "" {
			t.Errorf("innerError.%s missing: %v", k, inner)
		}
	}
	if inner["client-request-id"] != "my-correlation-42" || r.header.Get("client-request-id") != "my-correlation-42" {
		t.Errorf("client-request-id not echoed: %v / %q", inner, r.header.Get("client-request-id"))
	}
	if r.header.Get("request-id") != inner["request-id"] {
		t.Errorf("request-id header %q != body %v", r.header.Get("request-id"), inner["request-id"])
	}
	if r.header.Get("Date") == "" {
		t.Error("no Date header")
	}
	if r.header.Get("X-Tasks-CorrelationId") == "" {
		t.Error("Planner responses carry X-Tasks-CorrelationId")
	}
}

func TestIDValidation(t *testing.T) {
	s, c := demo(t)
	cases := []struct {
		path   string
		status int
		code   string
	}{
		{"/planner/tasks/short", 400, "invalidRequest"},
		{"/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAA!!", 400, "invalidRequest"},
		{"/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", 404, "itemNotFound"},
		{"/planner/plans/zzzzzzzzzzzzzzzzzzzzzzzzzzzz", 404, "itemNotFound"},
		{"/planner/buckets/not-a-valid-id", 400, "invalidRequest"},
		{"/planner/plans/" + strings.ToLower(s.PlanIDs()[0]) + "x", 400, "invalidRequest"},
		{"/groups/not-a-guid", 400, "Request_BadRequest"},
		{"/groups/00000000-0000-4000-8000-000000000000", 404, "Request_ResourceNotFound"},
		{"/users/not-a-guid", 400, "Request_BadRequest"},
		{"/users/00000000-0000-4000-8000-000000000000", 404, "Request_ResourceNotFound"},
		{"/users/" + s.Me().UserPrincipalName, 200, ""},
		{"/nonsense", 400, "BadRequest"},
	}
	for _, tc := range cases {
		r := c.do("GET", tc.path, nil)
		if r.status != tc.status {
			t.Errorf("GET %s: status %d, want %d: %s", tc.path, r.status, tc.status, r.body)
			continue
		}
		if tc.status >= 400 && r.errCode(t) != tc.code {
			t.Errorf("GET %s: code %q, want %q", tc.path, r.errCode(t), tc.code)
		}
	}
	// Ids are case-sensitive: a plan id with its case flipped is unknown.
	pid := s.PlanIDs()[0]
	flipped := []byte(pid)
	for i, ch := range flipped {
		if ch >= 'a' && ch <= 'z' {
			flipped[i] = ch - 32
			break
		} else if ch >= 'A' && ch <= 'Z' {
			flipped[i] = ch + 32
			break
		}
	}
	if r := c.do("GET", "/planner/plans/"+string(flipped), nil); r.status != 404 && r.status != 403 {
		t.Errorf("case-flipped id: status %d", r.status)
	}
}

func TestPlansEntitySetNeedsFilter(t *testing.T) {
	s, c := demo(t)
	r := c.do("GET", "/planner/plans", nil)
	if r.status != 400 || r.errCode(t) != "invalidRequest" || !strings.Contains(string(r.body), "cannot be queried without a filter on owner property") {
		t.Fatalf("GET /planner/plans: %d %s", r.status, r.body)
	}
	pid := firstAccessiblePlan(t, c)
	plan := c.get("/planner/plans/" + pid)
	gid := plan["container"].(map[string]any)["containerId"].(string)
	items, _ := c.list("/planner/plans?$filter=owner%20eq%20'" + gid + "'")
	if len(items) == 0 {
		t.Error("owner filter returned no plans")
	}
	_ = s
}

func TestDelegatedMembershipAndAppOnly(t *testing.T) {
	s, c := demo(t)
	app := newClient(t, s, s.AppToken())
	var hidden Group
	for _, g := range s.Groups() {
		if g.Unified && len(g.PlanIDs) > 0 && !contains(g.Members, s.Me().ID) {
			hidden = g
		}
	}
	if hidden.ID == "" {
		t.Fatal("the demo tenant has a plan in a group Me is not a member of")
	}
	pid := hidden.PlanIDs[0]
	for _, path := range []string{
		"/groups/" + hidden.ID + "/planner/plans",
		"/planner/plans/" + pid,
		"/planner/plans/" + pid + "/tasks",
		"/planner/plans/" + pid + "/buckets",
		"/planner/plans/" + pid + "/details",
		"/planner/tasks/" + s.TaskIDs(pid)[0],
		"/planner/buckets/" + s.BucketIDs(pid)[0],
	} {
		r := c.do("GET", path, nil)
		if r.status != 403 || r.errCode(t) != "accessDenied" || !strings.Contains(string(r.body), "You do not have the required permissions to access this item.") {
			t.Errorf("delegated GET %s: %d %s", path, r.status, r.body)
		}
		if r := app.do("GET", path, nil); r.status != 200 {
			t.Errorf("app GET %s: %d %s", path, r.status, r.body)
		}
	}
	// App-only tokens cannot use /me.
	for _, path := range []string{"/me", "/me/planner/tasks", "/me/memberOf"} {
		r := app.do("GET", path, nil)
		if r.status != 400 || !strings.Contains(string(r.body), "only valid with delegated authentication flow") {
			t.Errorf("app GET %s: %d %s", path, r.status, r.body)
		}
	}
	// No application permission lists plans shared with a user.
	if r := app.do("GET", "/users/"+s.Me().ID+"/planner/plans", nil); r.status != 403 {
		t.Errorf("app /users/{id}/planner/plans: %d", r.status)
	}
	// But assigned tasks of any user are readable app-only.
	items, _ := app.list("/users/" + s.Me().ID + "/planner/tasks")
	mine, _ := c.list("/me/planner/tasks")
	if len(items) != len(mine) || len(mine) == 0 {
		t.Errorf("app sees %d of Me's tasks, Me sees %d", len(items), len(mine))
	}
	// A delegated user cannot create a plan in a group they are not in.
	r := c.do("POST", "/planner/plans", map[string]any{"title": "x", "container": map[string]any{"containerId": hidden.ID, "type": "group"}})
	if r.status != 403 {
		t.Errorf("create plan in foreign group: %d %s", r.status, r.body)
	}
}

func TestScopesAreEnforced(t *testing.T) {
	s, _ := demo(t)
	readOnly := newClient(t, s, s.TokenFor(s.Me().ID, "Tasks.Read", "User.Read"))
	pid := firstAccessiblePlan(t, readOnly)
	plan := readOnly.get("/planner/plans/" + pid)
	r := readOnly.do("PATCH", "/planner/plans/"+pid, map[string]any{"title": "x"}, "If-Match", etagOf(plan))
	if r.status != 403 {
		t.Errorf("PATCH with Tasks.Read: %d", r.status)
	}
	if r := readOnly.do("GET", "/groups", nil); r.status != 403 || r.errCode(t) != "Authorization_RequestDenied" {
		t.Errorf("GET /groups with User.Read: %d %s", r.status, r.body)
	}
	readOnly.get("/me/memberOf") // User.Read is enough
	noTasks := newClient(t, s, s.TokenFor(s.Me().ID, "User.Read"))
	if r := noTasks.do("GET", "/planner/plans/"+pid, nil); r.status != 403 {
		t.Errorf("Planner read without Tasks.Read: %d", r.status)
	}
	appRead := newClient(t, s, s.AppTokenWithRoles("Tasks.Read.All"))
	appRead.get("/planner/plans/" + pid)
	if r := appRead.do("PATCH", "/planner/plans/"+pid, map[string]any{"title": "x"}, "If-Match", etagOf(plan)); r.status != 403 {
		t.Errorf("app PATCH with Tasks.Read.All: %d", r.status)
	}
	if s.TokenFor("00000000-0000-4000-8000-000000000000") != "" {
		t.Error("TokenFor an unknown user returns a token")
	}
}

func TestDirectory(t *testing.T) {
	s, c := demo(t)
	all, _ := c.list("/groups")
	unified, _ := c.list("/groups?$filter=groupTypes/any(c:c+eq+'Unified')")
	if len(all) != len(s.GroupIDs()) || len(unified) >= len(all) || len(unified) == 0 {
		t.Fatalf("groups: all %d, unified %d, tenant %d", len(all), len(unified), len(s.GroupIDs()))
	}
	for _, g := range unified {
		if types := g["groupTypes"].([]any); len(types) != 1 || types[0] != "Unified" {
			t.Errorf("non-Unified group in filtered list: %v", g)
		}
	}
	if r := c.do("GET", "/groups?$filter=startswith(displayName,'A')", nil); r.status != 400 {
		t.Errorf("unsupported filter: %d", r.status)
	}
	items, _ := c.list("/me/memberOf")
	kinds := map[string]int{}
	for _, it := range items {
		kind := str(it, "@odata.type")
		if kind == "#microsoft.graph.group" && len(it["groupTypes"].([]any)) == 0 {
			kind += " (security)"
		}
		kinds[kind]++
	}
	if kinds["#microsoft.graph.group"] == 0 || kinds["#microsoft.graph.group (security)"] == 0 || kinds["#microsoft.graph.directoryRole"] == 0 {
		t.Errorf("memberOf kinds = %v", kinds)
	}
	// $top pages the directory.
	_, pages := c.list("/me/memberOf?$top=1")
	if pages != len(items) {
		t.Errorf("$top=1: %d pages for %d objects", pages, len(items))
	}
	if r := c.do("GET", "/groups?$top=5000", nil); r.status != 400 {
		t.Errorf("$top=5000: %d", r.status)
	}
	sel := c.get("/me?$select=displayName")
	if _, ok := sel["mail"]; ok || sel["displayName"] != s.Me().DisplayName || sel["id"] != s.Me().ID {
		t.Errorf("$select: %v", sel)
	}
	g := c.get("/groups/" + all[0]["id"].(string))
	if g["id"] != all[0]["id"] {
		t.Errorf("GET group: %v", g)
	}
	users, _ := c.list("/users")
	if len(users) != len(s.Users()) {
		t.Errorf("users: %d, want %d", len(users), len(s.Users()))
	}
}

func TestCreateReadUpdateDelete(t *testing.T) {
	s, c := demo(t)
	start := time.Now()
	p := newPlan(t, c, "Release 3")
	pid := str(p, "id")
	if len(pid) != 28 || !validPlannerID(pid) {
		t.Fatalf("plan id %q", pid)
	}
	if etagOf(p) == "" || str(p, "title") != "Release 3" {
		t.Fatalf("plan = %v", p)
	}
	cont := p["container"].(map[string]any)
	if cont["type"] != "group" || !strings.HasSuffix(str(cont, "url"), "/groups/"+str(cont, "containerId")) || p["owner"] != nil {
		t.Errorf("container = %v owner = %v", cont, p["owner"])
	}
	if p["createdBy"].(map[string]any)["user"].(map[string]any)["id"] != s.Me().ID {
		t.Errorf("createdBy = %v", p["createdBy"])
	}
	created, err := time.Parse(time.RFC3339Nano, str(p, "createdDateTime"))
	if err != nil || created.Before(start.Add(-time.Second)) {
		t.Errorf("createdDateTime %v (%v)", p["createdDateTime"], err)
	}
	pd := c.get("/planner/plans/" + pid + "/details")
	if pd["id"] != pid || len(pd["categoryDescriptions"].(map[string]any)) != 25 {
		t.Errorf("plan details = %v", pd)
	}
	b := newBucket(t, c, pid, "Todo")
	task := newTask(t, c, pid, map[string]any{"bucketId": b["id"], "dueDateTime": "2026-12-01T17:00:00Z"})
	tid := str(task, "id")
	for k, want := range map[string]any{
		"planId": pid, "bucketId": b["id"], "title": "A task", "percentComplete": 0.0, "priority": 5.0,
		"hasDescription": false, "checklistItemCount": 0.0, "activeChecklistItemCount": 0.0, "referenceCount": 0.0,
		"previewType": "automatic", "dueDateTime": "2026-12-01T17:00:00Z", "completedDateTime": nil,
	} {
		if fmt.Sprint(task[k]) != fmt.Sprint(want) {
			t.Errorf("task.%s = %v, want %v", k, task[k], want)
		}
	}
	if str(task, "orderHint") == "" {
		t.Error("the service generates an orderHint when none is given")
	}
	// Details and board formats exist with the task.
	for _, part := range []string{"details", "bucketTaskBoardFormat", "progressTaskBoardFormat", "assignedToTaskBoardFormat"} {
		m := c.get("/planner/tasks/" + tid + "/" + part)
		if m["id"] != tid || etagOf(m) == "" {
			t.Errorf("%s = %v", part, m)
		}
		if r := c.do("DELETE", "/planner/tasks/"+tid+"/"+part, nil, "If-Match", etagOf(m)); r.status != 405 {
			t.Errorf("DELETE %s: %d", part, r.status)
		}
	}
	if r := c.do("POST", "/planner/tasks/"+tid+"/details", map[string]any{}); r.status != 405 {
		t.Errorf("POST details: %d", r.status)
	}
	// PATCH: 204 by default, 200 with the object when preferred.
	r := c.do("PATCH", "/planner/tasks/"+tid, map[string]any{"title": "Renamed"}, "If-Match", etagOf(task))
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	task2 := c.get("/planner/tasks/" + tid)
	if task2["title"] != "Renamed" || etagOf(task2) == etagOf(task) {
		t.Errorf("after PATCH: %v", task2)
	}
	task3 := patch(t, c, "/planner/tasks/"+tid, etagOf(task2), map[string]any{"priority": 1})
	if task3["priority"] != 1.0 || task3["title"] != "Renamed" || etagOf(task3) == etagOf(task2) {
		t.Errorf("PATCH representation: %v", task3)
	}
	// Plan and bucket PATCH.
	p2 := patch(t, c, "/planner/plans/"+pid, etagOf(p), map[string]any{"title": "Release 3.1"})
	if p2["title"] != "Release 3.1" {
		t.Errorf("plan PATCH: %v", p2)
	}
	b2 := patch(t, c, "/planner/buckets/"+str(b, "id"), etagOf(b), map[string]any{"name": "Doing"})
	if b2["name"] != "Doing" {
		t.Errorf("bucket PATCH: %v", b2)
	}
	// A DELETE with an etag older than a change conflicts with it.
	if r := c.do("DELETE", "/planner/tasks/"+tid, nil, "If-Match", etagOf(task2)); r.status != 409 {
		t.Errorf("DELETE with stale etag: %d", r.status)
	}
	c.must(204, "DELETE", "/planner/tasks/"+tid, nil, "If-Match", etagOf(task3))
	for _, path := range []string{"/planner/tasks/" + tid, "/planner/tasks/" + tid + "/details"} {
		if r := c.do("GET", path, nil); r.status != 404 {
			t.Errorf("GET %s after delete: %d", path, r.status)
		}
	}
	if got := s.TaskIDs(pid); len(got) != 0 {
		t.Errorf("plan still has tasks %v", got)
	}
}

func TestETags(t *testing.T) {
	_, c := demo(t)
	pid := str(newPlan(t, c, "ETags"), "id")
	task := newTask(t, c, pid, nil)
	tid := str(task, "id")
	details := c.get("/planner/tasks/" + tid + "/details")

	// Every write gives a new, ordinal-greater etag.
	tags := []string{etagOf(task)}
	cur := task
	for i := 0; i < 5; i++ {
		cur = patch(t, c, "/planner/tasks/"+tid, etagOf(cur), map[string]any{"title": fmt.Sprintf("v%d", i)})
		tags = append(tags, etagOf(cur))
	}
	for i := 1; i < len(tags); i++ {
		if !(tags[i] > tags[i-1]) {
			t.Errorf("etag %d %q not greater than %q", i, tags[i], tags[i-1])
		}
		if !strings.HasPrefix(tags[i], `W/"`) || !strings.HasSuffix(tags[i], `"`) {
			t.Errorf("etag %q is not W/\"...\"", tags[i])
		}
	}
	// Task and details are independent objects.
	if got := etagOf(c.get("/planner/tasks/" + tid + "/details")); got != etagOf(details) {
		t.Errorf("details etag changed by task PATCH: %s -> %s", etagOf(details), got)
	}
	d1 := patch(t, c, "/planner/tasks/"+tid+"/details", etagOf(details), map[string]any{"description": "one"})
	taskAfterDesc := c.get("/planner/tasks/" + tid)
	if taskAfterDesc["hasDescription"] != true {
		t.Error("hasDescription follows the details")
	}
	d2 := patch(t, c, "/planner/tasks/"+tid+"/details", etagOf(d1), map[string]any{"description": "two"})
	if got := etagOf(c.get("/planner/tasks/" + tid)); got != etagOf(taskAfterDesc) {
		t.Errorf("a details edit that changes no task field changed the task's etag")
	}
	if etagOf(d2) <= etagOf(d1) {
		t.Errorf("details etag did not grow: %s -> %s", etagOf(d1), etagOf(d2))
	}

	cases := []struct {
		name, path, ifMatch string
		status              int
		msg                 string
	}{
		{"missing If-Match", "/planner/tasks/" + tid, "", 412, "must be specified"},
		{"stale etag, conflicting change", "/planner/tasks/" + tid, tags[0], 409, "conflicts"},
		{"etag never issued", "/planner/tasks/" + tid, "W/\"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc=\"", 412, "no longer matches"},
		{"garbage", "/planner/tasks/" + tid, "not an etag", 400, "The If-Match header contains an invalid value."},
		{"bad base64", "/planner/tasks/" + tid, `W/"%%%"`, 400, "invalid value"},
		{"task etag on details", "/planner/tasks/" + tid + "/details", etagOf(taskAfterDesc), 412, "The If-Match header contains an invalid value."},
		{"wildcard", "/planner/tasks/" + tid, "*", 400, "invalid value"},
	}
	for _, tc := range cases {
		var r resp
		if tc.ifMatch == "" {
			r = c.do("PATCH", tc.path, map[string]any{"title": "x"})
		} else {
			r = c.do("PATCH", tc.path, map[string]any{"title": "x"}, "If-Match", tc.ifMatch)
		}
		if r.status != tc.status || r.errCode(t) == "" || !strings.Contains(string(r.body), tc.msg) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	// The etag may be sent without W/ too.
	cur = c.get("/planner/tasks/" + tid)
	c.must(204, "PATCH", "/planner/tasks/"+tid, map[string]any{"title": "strong"}, "If-Match", strings.TrimPrefix(etagOf(cur), "W/"))
}

func TestOpenTypeMerge(t *testing.T) {
	s, c := demo(t)
	pid := str(newPlan(t, c, "Merge"), "id")
	users := s.Users()
	a, b := users[1].ID, users[2].ID
	task := newTask(t, c, pid, map[string]any{
		"assignments": map[string]any{
			a: map[string]any{"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"},
		},
		"appliedCategories": map[string]any{"category1": true, "category3": true},
	})
	tid := str(task, "id")
	asg := task["assignments"].(map[string]any)[a].(map[string]any)
	if asg["assignedBy"].(map[string]any)["user"].(map[string]any)["id"] != s.Me().ID || str(asg, "assignedDateTime") == "" || str(asg, "orderHint") == " !" {
		t.Errorf("assignment server fields: %v", asg)
	}
	// Add b, keep a; drop category1, add category25.
	task = patch(t, c, "/planner/tasks/"+tid, etagOf(task), map[string]any{
		"assignments":       map[string]any{b: map[string]any{"@odata.type": "microsoft.graph.plannerAssignment", "orderHint": " !"}},
		"appliedCategories": map[string]any{"category1": false, "category25": true},
	})
	got := task["assignments"].(map[string]any)
	if len(got) != 2 || got[a] == nil || got[b] == nil {
		t.Errorf("assignments after merge: %v", got)
	}
	cats := task["appliedCategories"].(map[string]any)
	if len(cats) != 2 || cats["category3"] != true || cats["category25"] != true {
		t.Errorf("categories after merge: %v", cats)
	}
	// null removes a key.
	task = patch(t, c, "/planner/tasks/"+tid, etagOf(task), map[string]any{"assignments": map[string]any{a: nil}, "appliedCategories": map[string]any{"category3": nil}})
	if got := task["assignments"].(map[string]any); len(got) != 1 || got[b] == nil {
		t.Errorf("after null: %v", got)
	}
	if cats := task["appliedCategories"].(map[string]any); len(cats) != 1 {
		t.Errorf("categories after null: %v", cats)
	}

	// Checklist and references on the details.
	const item1Key, item2Key = "8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c5d", "{9E1F6B2A-7C3D-4E5F-8A9B-0C1D2E3F4A5B}"
	d := c.get("/planner/tasks/" + tid + "/details")
	ref1 := EncodeReferenceKey("https://contoso.sharepoint.com/sites/x/Doc.docx")
	ref2 := EncodeReferenceKey("http://example.com/a#b@c")
	d = patch(t, c, "/planner/tasks/"+tid+"/details", etagOf(d), map[string]any{
		"description": "Hello",
		"checklist": map[string]any{
			item1Key: map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": "First"},
			item2Key: map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": "Second", "isChecked": true},
		},
		"references": map[string]any{
			ref1: map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference", "alias": "Doc", "type": "Word"},
			ref2: map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference", "alias": "Ex"},
		},
	})
	check := d["checklist"].(map[string]any)
	item1 := check[item1Key].(map[string]any)
	if len(check) != 2 || item1["isChecked"] != false || str(item1, "orderHint") == "" || str(item1, "lastModifiedDateTime") == "" ||
		item1["lastModifiedBy"].(map[string]any)["user"].(map[string]any)["id"] != s.Me().ID {
		t.Errorf("checklist = %v", check)
	}
	refs := d["references"].(map[string]any)
	if len(refs) != 2 || refs[ref1] == nil || refs[ref2] == nil || !strings.Contains(ref1, "%2E") {
		t.Errorf("references keys = %v", refs)
	}
	// Item values merge their properties.
	d = patch(t, c, "/planner/tasks/"+tid+"/details", etagOf(d), map[string]any{
		"checklist":  map[string]any{item2Key: map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": "Second (renamed)"}, item1Key: nil},
		"references": map[string]any{ref1: map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference", "alias": "Renamed"}},
	})
	check = d["checklist"].(map[string]any)
	item2 := check[item2Key].(map[string]any)
	if len(check) != 1 || item2["title"] != "Second (renamed)" || item2["isChecked"] != true {
		t.Errorf("checklist after merge = %v", check)
	}
	r1 := d["references"].(map[string]any)[ref1].(map[string]any)
	if r1["alias"] != "Renamed" || r1["type"] != "Word" {
		t.Errorf("reference after merge = %v", r1)
	}
	task = c.get("/planner/tasks/" + tid)
	if task["checklistItemCount"] != 1.0 || task["activeChecklistItemCount"] != 0.0 || task["referenceCount"] != 2.0 || task["hasDescription"] != true {
		t.Errorf("task counts = %v %v %v %v", task["checklistItemCount"], task["activeChecklistItemCount"], task["referenceCount"], task["hasDescription"])
	}

	// Plan details: sharedWith and categoryDescriptions merge too.
	pd := c.get("/planner/plans/" + pid + "/details")
	pd = patch(t, c, "/planner/plans/"+pid+"/details", etagOf(pd), map[string]any{
		"sharedWith":           map[string]any{a: true},
		"categoryDescriptions": map[string]any{"category1": "Red", "category25": "Last"},
	})
	pd = patch(t, c, "/planner/plans/"+pid+"/details", etagOf(pd), map[string]any{
		"sharedWith":           map[string]any{a: false},
		"categoryDescriptions": map[string]any{"category25": nil},
	})
	cd := pd["categoryDescriptions"].(map[string]any)
	if cd["category1"] != "Red" || cd["category25"] != nil {
		t.Errorf("categoryDescriptions = %v", cd)
	}
	if sw := pd["sharedWith"].(map[string]any); sw[a] != nil || sw[s.Me().ID] != true {
		t.Errorf("sharedWith = %v", sw)
	}

	// Board formats.
	af := c.get("/planner/tasks/" + tid + "/assignedToTaskBoardFormat")
	af = patch(t, c, "/planner/tasks/"+tid+"/assignedToTaskBoardFormat", etagOf(af), map[string]any{
		"orderHintsByAssignee": map[string]any{b: " !"}, "unassignedOrderHint": " !",
	})
	if h := af["orderHintsByAssignee"].(map[string]any)[b]; h == nil || h == " !" {
		t.Errorf("orderHintsByAssignee = %v", af["orderHintsByAssignee"])
	}
	af = patch(t, c, "/planner/tasks/"+tid+"/assignedToTaskBoardFormat", etagOf(af), map[string]any{"orderHintsByAssignee": map[string]any{b: nil}})
	if len(af["orderHintsByAssignee"].(map[string]any)) != 0 {
		t.Errorf("orderHintsByAssignee after null = %v", af["orderHintsByAssignee"])
	}
	bf := c.get("/planner/tasks/" + tid + "/bucketTaskBoardFormat")
	bf2 := patch(t, c, "/planner/tasks/"+tid+"/bucketTaskBoardFormat", etagOf(bf), map[string]any{"orderHint": str(bf, "orderHint") + " !"})
	if !(str(bf2, "orderHint") > str(bf, "orderHint")) {
		t.Errorf("bucket board hint %q not after %q", bf2["orderHint"], bf["orderHint"])
	}
	pf := c.get("/planner/tasks/" + tid + "/progressTaskBoardFormat")
	patch(t, c, "/planner/tasks/"+tid+"/progressTaskBoardFormat", etagOf(pf), map[string]any{"orderHint": " !"})
}

func TestValidation(t *testing.T) {
	s, c := demo(t)
	pid := str(newPlan(t, c, "Validation"), "id")
	other := str(newPlan(t, c, "Other"), "id")
	foreignBucket := str(newBucket(t, c, other, "Elsewhere"), "id")
	task := newTask(t, c, pid, nil)
	tid := str(task, "id")
	uid := s.Users()[1].ID
	asg := func(v map[string]any) map[string]any { return map[string]any{"assignments": map[string]any{uid: v}} }
	cases := []struct {
		name   string
		path   string
		body   any
		status int
	}{
		{"read-only createdBy", "/planner/tasks/" + tid, map[string]any{"createdBy": map[string]any{}}, 400},
		{"read-only completedDateTime", "/planner/tasks/" + tid, map[string]any{"completedDateTime": "2026-01-01T00:00:00Z"}, 400},
		{"read-only checklistItemCount", "/planner/tasks/" + tid, map[string]any{"checklistItemCount": 3}, 400},
		{"read-only previewType on task", "/planner/tasks/" + tid, map[string]any{"previewType": "checklist"}, 400},
		{"other id", "/planner/tasks/" + tid, map[string]any{"id": "x"}, 400},
		{"planId change", "/planner/tasks/" + tid, map[string]any{"planId": other}, 400},
		{"start after due", "/planner/tasks/" + tid, map[string]any{"startDateTime": "2026-02-01T00:00:00Z", "dueDateTime": "2026-01-01T00:00:00Z"}, 400},
		{"bad date", "/planner/tasks/" + tid, map[string]any{"dueDateTime": "tomorrow"}, 400},
		{"server value echoed as order hint", "/planner/tasks/" + tid, map[string]any{"orderHint": str(task, "orderHint")}, 400},
		{"order hint with a control char", "/planner/tasks/" + tid, map[string]any{"orderHint": "a\x01 !"}, 400},
		{"order hint with neighbours reversed", "/planner/tasks/" + tid, map[string]any{"orderHint": "b a!"}, 400},
		{"category26", "/planner/tasks/" + tid, map[string]any{"appliedCategories": map[string]any{"category26": true}}, 400},
		{"category value not bool", "/planner/tasks/" + tid, map[string]any{"appliedCategories": map[string]any{"category2": "yes"}}, 400},
		{"priority 11", "/planner/tasks/" + tid, map[string]any{"priority": 11}, 400},
		{"percent 101", "/planner/tasks/" + tid, map[string]any{"percentComplete": 101}, 400},
		{"percent fraction", "/planner/tasks/" + tid, map[string]any{"percentComplete": 50.5}, 400},
		{"title null", "/planner/tasks/" + tid, map[string]any{"title": nil}, 400},
		{"title number", "/planner/tasks/" + tid, map[string]any{"title": 5}, 400},
		{"bucket of another plan", "/planner/tasks/" + tid, map[string]any{"bucketId": foreignBucket}, 400},
		{"assignment without @odata.type", "/planner/tasks/" + tid, asg(map[string]any{"orderHint": " !"}), 400},
		{"assignment without orderHint", "/planner/tasks/" + tid, asg(map[string]any{"@odata.type": "#microsoft.graph.plannerAssignment"}), 400},
		{"empty assignment", "/planner/tasks/" + tid, asg(map[string]any{}), 400},
		{"assignment key not a user id", "/planner/tasks/" + tid, map[string]any{"assignments": map[string]any{"bob": nil}}, 400},
		{"malformed JSON", "/planner/tasks/" + tid, `{"title": `, 400},
		{"JSON array", "/planner/tasks/" + tid, `[1,2]`, 400},
		{"empty body", "/planner/tasks/" + tid, "", 400},
		{"checklist item without type", "/planner/tasks/" + tid + "/details", map[string]any{"checklist": map[string]any{"3f2a1b0c-0000-4000-8000-000000000001": map[string]any{"title": "x"}}}, 400},
		{"new checklist item without title", "/planner/tasks/" + tid + "/details", map[string]any{"checklist": map[string]any{"3f2a1b0c-0000-4000-8000-000000000001": map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem"}}}, 400},
		{"reference without type", "/planner/tasks/" + tid + "/details", map[string]any{"references": map[string]any{EncodeReferenceKey("https://a.b/c"): map[string]any{"alias": "x"}}}, 400},
		{"reference key not encoded", "/planner/tasks/" + tid + "/details", map[string]any{"references": map[string]any{"https://a.b/c": map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference"}}}, 400},
		{"reference not http", "/planner/tasks/" + tid + "/details", map[string]any{"references": map[string]any{EncodeReferenceKey("ftp://a.b/c"): map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference"}}}, 400},
		{"bad previewType", "/planner/tasks/" + tid + "/details", map[string]any{"previewType": "big"}, 400},
		{"bad categoryDescriptions key", "/planner/plans/" + pid + "/details", map[string]any{"categoryDescriptions": map[string]any{"category0": "x"}}, 400},
		{"plan container change", "/planner/plans/" + pid, map[string]any{"container": map[string]any{"containerId": "x"}}, 400},
		{"plan owner change", "/planner/plans/" + pid, map[string]any{"owner": "x"}, 400},
		{"bucket name null", "/planner/buckets/" + foreignBucket, map[string]any{"name": nil}, 400},
	}
	etagFor := func(path string) string { return etagOf(c.get(path)) }
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("PATCH", tc.path, tc.body, "If-Match", etagFor(tc.path))
			if r.status != tc.status {
				t.Errorf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
	// Unknown properties are ignored.
	c.must(204, "PATCH", "/planner/tasks/"+tid, map[string]any{"title": "ok", "someFutureProperty": 1, "@odata.etag": "ignored"}, "If-Match", etagFor("/planner/tasks/"+tid))
	// The body must be JSON.
	r := c.do("PATCH", "/planner/tasks/"+tid, nil, "If-Match", etagFor("/planner/tasks/"+tid), "Content-Type", "text/plain")
	if r.status != 415 {
		t.Errorf("text/plain body: %d", r.status)
	}
	// Creation rules.
	createCases := []struct {
		name string
		path string
		body map[string]any
		want int
	}{
		{"task without planId", "/planner/tasks", map[string]any{"title": "x"}, 400},
		{"task without title", "/planner/tasks", map[string]any{"planId": pid}, 400},
		{"task in unknown plan", "/planner/tasks", map[string]any{"planId": "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "title": "x"}, 404},
		{"task with foreign bucket", "/planner/tasks", map[string]any{"planId": pid, "title": "x", "bucketId": foreignBucket}, 400},
		{"task with client id", "/planner/tasks", map[string]any{"planId": pid, "title": "x", "id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 400},
		{"bucket without name", "/planner/buckets", map[string]any{"planId": pid}, 400},
		{"bucket without plan", "/planner/buckets", map[string]any{"name": "x"}, 400},
		{"plan without container", "/planner/plans", map[string]any{"title": "x"}, 400},
		{"plan in a security group", "/planner/plans", map[string]any{"title": "x", "container": map[string]any{"containerId": securityGroup(s), "type": "group"}}, 400},
		{"plan with roster container", "/planner/plans", map[string]any{"title": "x", "container": map[string]any{"containerId": securityGroup(s), "type": "roster"}}, 400},
	}
	for _, tc := range createCases {
		if r := c.do("POST", tc.path, tc.body); r.status != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.want, r.body)
		}
	}
	// A plan can be created with the container url or the deprecated owner.
	g := c.get("/planner/plans/" + pid)["container"].(map[string]any)["containerId"].(string)
	c.must(201, "POST", "/planner/plans", map[string]any{"title": "By url", "container": map[string]any{"url": "https://graph.microsoft.com/v1.0/groups/" + g}})
	c.must(201, "POST", "/planner/plans", map[string]any{"title": "By owner", "owner": g})
}

func securityGroup(s *Server) string {
	for _, g := range s.Groups() {
		if !g.Unified && contains(g.Members, s.Me().ID) {
			return g.ID
		}
	}
	return ""
}

func TestCompletion(t *testing.T) {
	s, c := demo(t)
	pid := str(newPlan(t, c, "Done"), "id")
	task := newTask(t, c, pid, nil)
	tid := str(task, "id")
	task = patch(t, c, "/planner/tasks/"+tid, etagOf(task), map[string]any{"percentComplete": 100})
	if str(task, "completedDateTime") == "" || task["completedBy"].(map[string]any)["user"].(map[string]any)["id"] != s.Me().ID {
		t.Errorf("completed task: %v %v", task["completedDateTime"], task["completedBy"])
	}
	task = patch(t, c, "/planner/tasks/"+tid, etagOf(task), map[string]any{"percentComplete": 50})
	if task["completedDateTime"] != nil || task["completedBy"] != nil {
		t.Errorf("reopened task: %v %v", task["completedDateTime"], task["completedBy"])
	}
	created := newTask(t, c, pid, map[string]any{"percentComplete": 100})
	if str(created, "completedDateTime") == "" {
		t.Error("a task created complete has completedDateTime")
	}
}

func TestOrderHintsThroughTheAPI(t *testing.T) {
	_, c := demo(t)
	pid := str(newPlan(t, c, "Order"), "id")
	// Buckets without hints are appended in order.
	var buckets []map[string]any
	for _, name := range []string{"A", "B", "C"} {
		buckets = append(buckets, newBucket(t, c, pid, name))
	}
	hint := func(m map[string]any) string { return str(m, "orderHint") }
	if !(hint(buckets[0]) < hint(buckets[1]) && hint(buckets[1]) < hint(buckets[2])) {
		t.Fatalf("generated bucket hints out of order: %q %q %q", hint(buckets[0]), hint(buckets[1]), hint(buckets[2]))
	}
	// Move C between A and B, then A after C... and check the list order.
	moved := patch(t, c, "/planner/buckets/"+str(buckets[2], "id"), etagOf(buckets[2]), map[string]any{"orderHint": hint(buckets[0]) + " " + hint(buckets[1]) + "!"})
	if !(hint(buckets[0]) < hint(moved) && hint(moved) < hint(buckets[1])) {
		t.Errorf("moved hint %q not between %q and %q", hint(moved), hint(buckets[0]), hint(buckets[1]))
	}
	if len(hint(moved)) > 8 {
		t.Errorf("server hint %q is not short", hint(moved))
	}
	first := patch(t, c, "/planner/buckets/"+str(buckets[1], "id"), etagOf(buckets[1]), map[string]any{"orderHint": " " + hint(buckets[0]) + "!"})
	items, _ := c.list("/planner/plans/" + pid + "/buckets")
	sort.Slice(items, func(i, j int) bool { return hint(items[i]) < hint(items[j]) })
	var names []string
	for _, it := range items {
		names = append(names, str(it, "name"))
	}
	if strings.Join(names, "") != "BAC" {
		t.Errorf("order after moves = %v (B hint %q)", names, hint(first))
	}
	// A composed value of a composed value (the documentation's example form).
	a, cc := hint(items[1]), hint(items[2])
	composed := " " + a + "! " + a + " " + cc + "!!"
	task := newTask(t, c, pid, map[string]any{"orderHint": composed})
	if h := hint(task); !(h < a) || h == composed {
		t.Errorf("composed hint %q resolved to %q", composed, h)
	}
	// New tasks without a hint go to the top of the list.
	t1 := newTask(t, c, pid, nil)
	t2 := newTask(t, c, pid, nil)
	if !(hint(t2) < hint(t1)) {
		t.Errorf("second new task %q not above first %q", hint(t2), hint(t1))
	}
}

func TestLimits(t *testing.T) {
	s := NewServer(t, WithGenerated(GenSpec{Seed: 1, Users: 22, Plans: 1, TasksPerPlan: 1}),
		WithLimits(Limits{BucketsPerPlan: 6, TasksPerPlan: 3}))
	c := newClient(t, s, s.Token())
	pid := firstAccessiblePlan(t, c)
	tid := s.TaskIDs(pid)[0]
	details := c.get("/planner/tasks/" + tid + "/details")
	checklist := map[string]any{}
	for i := 0; i < 21; i++ {
		checklist[fmt.Sprintf("3f2a1b0c-0000-4000-8000-0000000000%02d", i)] = map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": "x"}
	}
	refs := map[string]any{}
	for i := 0; i < 16; i++ {
		refs[EncodeReferenceKey(fmt.Sprintf("https://example.com/%d", i))] = map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference"}
	}
	assignments := map[string]any{}
	for _, u := range s.Users()[:21] {
		assignments[u.ID] = map[string]any{"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"}
	}
	task := c.get("/planner/tasks/" + tid)
	cases := []struct {
		path, etag string
		body       map[string]any
		code       string
	}{
		{"/planner/tasks/" + tid + "/details", etagOf(details), map[string]any{"checklist": checklist}, "MaximumChecklistItemsOnTask"},
		{"/planner/tasks/" + tid + "/details", etagOf(details), map[string]any{"references": refs}, "MaximumReferencesOnTask"},
		{"/planner/tasks/" + tid, etagOf(task), map[string]any{"assignments": assignments}, "MaximumAssigneesInTasks"},
	}
	for _, tc := range cases {
		r := c.do("PATCH", tc.path, tc.body, "If-Match", tc.etag)
		if r.status != 403 || r.errCode(t) != tc.code {
			t.Errorf("%s: %d %s", tc.code, r.status, r.body)
		}
	}
	// 20 checklist items and 15 references are fine.
	delete(checklist, "3f2a1b0c-0000-4000-8000-000000000020")
	for k := range refs {
		if len(refs) == 15 {
			break
		}
		delete(refs, k)
	}
	patch(t, c, "/planner/tasks/"+tid+"/details", etagOf(details), map[string]any{"checklist": checklist, "references": refs})

	for i := len(s.BucketIDs(pid)); i < 6; i++ {
		newBucket(t, c, pid, fmt.Sprint("b", i))
	}
	if r := c.do("POST", "/planner/buckets", map[string]any{"name": "one too many", "planId": pid}); r.status != 403 || r.errCode(t) != "MaximumBucketsInProject" {
		t.Errorf("bucket limit: %d %s", r.status, r.body)
	}
	newTask(t, c, pid, nil)
	newTask(t, c, pid, nil)
	if r := c.do("POST", "/planner/tasks", map[string]any{"planId": pid, "title": "x"}); r.status != 403 || r.errCode(t) != "MaximumTasksInProject" {
		t.Errorf("task limit: %d %s", r.status, r.body)
	}
	def := Limits{}.withDefaults()
	if def.TasksPerPlan != 9000 || def.BucketsPerPlan != 200 || def.ChecklistItemsPerTask != 20 || def.ReferencesPerTask != 15 || def.AssigneesPerTask != 20 {
		t.Errorf("default limits = %+v", def)
	}
}

func TestCascadingDeletes(t *testing.T) {
	s, c := demo(t)
	pid := str(newPlan(t, c, "Cascade"), "id")
	b1 := newBucket(t, c, pid, "one")
	b2 := newBucket(t, c, pid, "two")
	me := s.Me().ID
	mine := map[string]any{me: map[string]any{"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"}}
	t1 := newTask(t, c, pid, map[string]any{"bucketId": b1["id"], "assignments": mine})
	t2 := newTask(t, c, pid, map[string]any{"bucketId": b2["id"], "assignments": mine})
	t3 := newTask(t, c, pid, nil)
	before, _ := c.list("/me/planner/tasks")

	c.must(204, "DELETE", "/planner/buckets/"+str(b1, "id"), nil, "If-Match", etagOf(b1))
	if r := c.do("GET", "/planner/tasks/"+str(t1, "id"), nil); r.status != 404 {
		t.Errorf("task of deleted bucket: %d", r.status)
	}
	c.get("/planner/tasks/" + str(t2, "id"))
	after, _ := c.list("/me/planner/tasks")
	if len(after) != len(before)-1 {
		t.Errorf("/me/planner/tasks: %d before, %d after deleting a bucket", len(before), len(after))
	}
	plan := c.get("/planner/plans/" + pid)
	c.must(204, "DELETE", "/planner/plans/"+pid, nil, "If-Match", etagOf(plan))
	for _, path := range []string{
		"/planner/plans/" + pid, "/planner/plans/" + pid + "/details", "/planner/buckets/" + str(b2, "id"),
		"/planner/tasks/" + str(t2, "id"), "/planner/tasks/" + str(t3, "id") + "/details",
	} {
		if r := c.do("GET", path, nil); r.status != 404 {
			t.Errorf("GET %s after plan delete: %d", path, r.status)
		}
	}
	final, _ := c.list("/me/planner/tasks")
	if len(final) != len(before)-2 {
		t.Errorf("/me/planner/tasks after plan delete: %d, want %d", len(final), len(before)-2)
	}
	if contains(s.PlanIDs(), pid) {
		t.Error("PlanIDs still lists the deleted plan")
	}
}

func TestUserListsAndExpand(t *testing.T) {
	s, c := demo(t)
	me := s.Me().ID
	mine, _ := c.list("/me/planner/tasks")
	if len(mine) == 0 {
		t.Fatal("Me has no assigned tasks in the demo tenant")
	}
	for _, task := range mine {
		if task["assignments"].(map[string]any)[me] == nil {
			t.Errorf("/me/planner/tasks returned a task not assigned to Me: %v", task["title"])
		}
	}
	byID, _ := c.list("/users/" + me + "/planner/tasks")
	byUPN, _ := c.list("/users/" + s.Me().UserPrincipalName + "/planner/tasks")
	if len(byID) != len(mine) || len(byUPN) != len(mine) {
		t.Errorf("/users/{id}/planner/tasks: %d, by UPN %d, /me %d", len(byID), len(byUPN), len(mine))
	}
	// Planner ignores query options on its lists.
	ignored, _ := c.list("/me/planner/tasks?$top=1&$filter=percentComplete%20eq%20100&$orderby=title&$select=title")
	if len(ignored) != len(mine) || str(ignored[0], "planId") == "" {
		t.Errorf("query options changed the result: %d items", len(ignored))
	}
	withDetails, _ := c.list("/me/planner/tasks?$expand=details")
	if d, ok := withDetails[0]["details"].(map[string]any); !ok || d["id"] != withDetails[0]["id"] {
		t.Errorf("$expand=details: %v", withDetails[0]["details"])
	}
	// /me/planner/plans lists only plans shared with Me: the demo's
	// "Website Refresh" is in Me's group but not shared with Me.
	shared, _ := c.list("/me/planner/plans")
	var all []string
	for _, g := range s.Groups() {
		if g.Unified && contains(g.Members, me) {
			plans, _ := c.list("/groups/" + g.ID + "/planner/plans")
			for _, p := range plans {
				all = append(all, str(p, "title"))
			}
		}
	}
	var sharedTitles []string
	for _, p := range shared {
		sharedTitles = append(sharedTitles, str(p, "title"))
	}
	if len(all) != 4 || len(shared) != 3 || contains(sharedTitles, "Website Refresh") {
		t.Errorf("group plans %v, shared with Me %v", all, sharedTitles)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	_, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	for _, tc := range [][2]string{
		{"PUT", "/planner/plans/" + pid},
		{"DELETE", "/planner/plans/" + pid + "/details"},
		{"POST", "/planner/plans/" + pid + "/tasks"},
		{"DELETE", "/me"},
	} {
		if r := c.do(tc[0], tc[1], map[string]any{}); r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", tc[0], tc[1], r.status)
		}
	}
}

func TestDataAccessors(t *testing.T) {
	s, _ := demo(t)
	if s.BucketIDs("nope") != nil || s.TaskIDs("nope") != nil {
		t.Error("unknown plan ids give ids")
	}
	if len(s.Users()) != 9 || s.Users()[0] != s.Me() {
		t.Errorf("Users() = %d, first %+v", len(s.Users()), s.Users()[0])
	}
	if got := s.GroupIDs(); len(got) != 6 || !sort.StringsAreSorted(got) {
		t.Errorf("GroupIDs() = %v", got)
	}
	if got := s.PlanIDs(); len(got) != 5 || !sort.StringsAreSorted(got) {
		t.Errorf("PlanIDs() = %v", got)
	}
	total := 0
	for _, pid := range s.PlanIDs() {
		total += len(s.TaskIDs(pid))
		if len(s.BucketIDs(pid)) == 0 {
			t.Errorf("plan %s has no buckets", pid)
		}
	}
	if total != s.TaskCount() {
		t.Errorf("TaskIDs total %d, TaskCount %d", total, s.TaskCount())
	}
	if s.GraphURL() != s.URL()+"/v1.0" || s.AuthorityURL() != s.URL() {
		t.Errorf("URLs %q %q %q", s.URL(), s.GraphURL(), s.AuthorityURL())
	}
	id, secret := s.ConfidentialClient()
	if !validGUID(id) || !validGUID(s.ClientID()) || !validGUID(s.TenantID()) || len(secret) < 30 {
		t.Errorf("client ids %q %q tenant %q", id, s.ClientID(), s.TenantID())
	}
}
