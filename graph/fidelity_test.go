package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"golang.org/x/oauth2"
)

// The tests of this file are named after the points of issue 12 ("field
// fidelity"): what the client must decode and keep whole.

// clientWith returns a client of srv that signs in with token.
func clientWith(srv *graphtest.Server, token string) *Client {
	return NewClient(WithBaseURL(srv.GraphURL()),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"})),
		WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}))
}

// TestFidelity01ReferenceKeys: two keys naming the same URL stay two
// references, each with its key as Graph holds it and its URL decoded from
// the documented escapes only.
func TestFidelity01ReferenceKeys(t *testing.T) {
	f := newFixture(t, nil)
	tk := f.task(t)
	const odd = "https%3A//contoso%2Esharepoint%2Ecom/sites/ops/Shared%20Documents/Budget%2Exlsx"
	const url = "https://contoso.sharepoint.com/sites/ops/Shared%20Documents/Budget.xlsx"
	if err := f.srv.SeedReference(tk.ID, odd, graphtest.Reference{Alias: "Budget"}); err != nil {
		t.Fatal(err)
	}
	d, err := f.c.Tasks.GetDetails(f.ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := f.c.Tasks.UpdateDetails(f.ctx, tk.ID, d.ETag, Patch{"references": map[string]any{
		EncodeReferenceKey(url): map[string]any{"@odata.type": ODataExternalReference, "alias": "Budget (encoded)"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := d2.References[odd], d2.References[EncodeReferenceKey(url)]
	if len(d2.References) != 2 || a.Alias != "Budget" || a.URL != url || b.Alias != "Budget (encoded)" || b.URL != url {
		t.Errorf("references %+v", d2.References)
	}
	for _, tc := range []struct{ key, url string }{
		{"https%3A//a%2eb/c%2520d%3a%40%23", "https://a.b/c%20d:@#"},
		{"https://x.y/raw key", "https://x.y/raw key"},
		{"100%", "100%"},
		{"%2", "%2"},
		{"%zz%25", "%zz%"},
	} {
		if got := DecodeReferenceKey(tc.key); got != tc.url {
			t.Errorf("DecodeReferenceKey(%q) = %q, want %q", tc.key, got, tc.url)
		}
	}
	for _, u := range []string{url, "https://a.b/%%41 #@:.", "https://x/%2520"} {
		if got := DecodeReferenceKey(EncodeReferenceKey(u)); got != u {
			t.Errorf("round trip of %q: %q", u, got)
		}
	}
}

// TestFidelity02DateTimes: every fractional precision Graph sends (0 to 7
// digits, with or without a zone) decodes to the exact instant.
func TestFidelity02DateTimes(t *testing.T) {
	for in, want := range map[string]time.Time{
		`"2026-12-01T09:30:00Z"`:           time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC),
		`"2026-12-01T09:30:00.5Z"`:         time.Date(2026, 12, 1, 9, 30, 0, 500000000, time.UTC),
		`"2026-12-01T09:30:00.123Z"`:       time.Date(2026, 12, 1, 9, 30, 0, 123000000, time.UTC),
		`"2026-12-01T09:30:00.1234567Z"`:   time.Date(2026, 12, 1, 9, 30, 0, 123456700, time.UTC),
		`"2026-12-01T09:30:00.1234567"`:    time.Date(2026, 12, 1, 9, 30, 0, 123456700, time.UTC),
		`"9999-12-31T23:59:59.9999999Z"`:   time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC),
		`"0001-01-01T00:00:00Z"`:           time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		`"2026-12-01T11:30:00.25+02:00"`:   time.Date(2026, 12, 1, 9, 30, 0, 250000000, time.UTC),
		`"2026-12-01T09:30:00.000000000Z"`: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC),
	} {
		var d DateTime
		if err := json.Unmarshal([]byte(in), &d); err != nil || !d.Equal(want) || d.Location() != time.UTC {
			t.Errorf("%s: %v %v, want %v", in, d, err, want)
		}
	}
}

// TestFidelity05LimitedGroups: without a group permission /me/memberOf lists
// groups with id and type only; ListMemberOf shows them and Limited tells
// them apart, while ListMine (which cannot tell their kind) skips them.
func TestFidelity05LimitedGroups(t *testing.T) {
	srv := graphtest.NewServer(t)
	me := srv.Me().ID
	for _, tc := range []struct {
		scopes  []string
		limited bool
	}{
		{[]string{"User.Read", "Tasks.ReadWrite"}, true},
		{[]string{"User.Read", "Tasks.ReadWrite", "GroupMember.Read.All"}, false},
	} {
		c := clientWith(srv, srv.TokenFor(me, tc.scopes...))
		objs, err := collect(t, c.Groups.ListMemberOf(t.Context()))
		if err != nil {
			t.Fatal(err)
		}
		groups, limited, roles := 0, 0, 0
		for _, o := range objs {
			switch {
			case o.IsGroup():
				groups++
				if o.Limited() {
					limited++
				}
			case o.ODataType == "#microsoft.graph.directoryRole":
				roles++
			}
		}
		if groups == 0 || roles == 0 || (tc.limited && limited != groups) || (!tc.limited && limited != 0) {
			t.Errorf("%v: %d groups (%d limited), %d roles", tc.scopes, groups, limited, roles)
		}
		mine, err := collect(t, c.Groups.ListMine(t.Context()))
		if err != nil || (tc.limited && len(mine) != 0) || (!tc.limited && len(mine) == 0) {
			t.Errorf("%v: ListMine %d groups, %v", tc.scopes, len(mine), err)
		}
	}
	var g Group
	_ = json.Unmarshal([]byte(`{"@odata.type":"#microsoft.graph.group","id":"x","displayName":null,"groupTypes":null,"mailEnabled":null,"securityEnabled":null}`), &g)
	var sec Group
	_ = json.Unmarshal([]byte(`{"@odata.type":"#microsoft.graph.group","id":"y","displayName":"VPN","groupTypes":[],"mailEnabled":false,"securityEnabled":true}`), &sec)
	if !g.Limited() || sec.Limited() || !sec.IsGroup() || sec.IsUnified() {
		t.Errorf("Limited: %v %v", g.Limited(), sec.Limited())
	}
}

// TestFidelity13BoardFormats: the three task board formats decode whole, are
// updated with their own etag, and are listed for many tasks through $batch
// at ceil(tasks/20) calls.
func TestFidelity13BoardFormats(t *testing.T) {
	f := newFixture(t, nil)
	ids := f.srv.TaskIDs(f.plan(t))
	me := f.srv.Me().ID
	f.counts.Reset()
	var bucket []*BucketTaskBoardFormat
	for v, err := range f.c.Tasks.ListBucketTaskBoardFormats(f.ctx, ids) {
		if err != nil {
			t.Fatal(err)
		}
		bucket = append(bucket, v)
	}
	if len(bucket) != len(ids) || f.counts.Total() != (len(ids)+19)/20 {
		t.Fatalf("%d formats for %d tasks in %d requests", len(bucket), len(ids), f.counts.Total())
	}
	for i, b := range bucket {
		if b.ID != ids[i] || b.OrderHint == "" || b.ETag == "" {
			t.Errorf("bucket format %d: %+v", i, b)
		}
	}
	var progress []*ProgressTaskBoardFormat
	for v, err := range f.c.Tasks.ListProgressTaskBoardFormats(f.ctx, ids) {
		if err != nil {
			t.Fatal(err)
		}
		progress = append(progress, v)
	}
	var assigned []*AssignedToTaskBoardFormat
	for v, err := range f.c.Tasks.ListAssignedToTaskBoardFormats(f.ctx, ids[:1]) {
		if err != nil {
			t.Fatal(err)
		}
		assigned = append(assigned, v)
	}
	if len(progress) != len(ids) || progress[0].ID != ids[0] || len(assigned) != 1 || assigned[0].UnassignedOrderHint == "" {
		t.Fatalf("progress %d, assigned %+v", len(progress), assigned)
	}
	a, err := f.c.Tasks.UpdateAssignedToTaskBoardFormat(f.ctx, ids[0], assigned[0].ETag, Patch{"orderHintsByAssignee": map[string]any{me: OrderHintBetween("", "")}})
	if err != nil {
		t.Fatal(err)
	}
	if a.OrderHintsByAssignee[me] == "" || a.ETag == assigned[0].ETag || a.ID != ids[0] {
		t.Errorf("updated %+v", a)
	}
	// The task's etag does not open its board format.
	tk, err := f.c.Tasks.Get(f.ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Tasks.UpdateBucketTaskBoardFormat(f.ctx, ids[0], tk.ETag, Patch{"orderHint": " !"}); err == nil {
		t.Error("a task's etag updated its bucket board format")
	}
	// Unknown tasks fail item by item.
	n := 0
	for v, err := range f.c.Tasks.ListProgressTaskBoardFormats(f.ctx, []string{ids[0], "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
		if (n == 0) != (err == nil) || (n == 1 && !IsNotFound(err)) || (n == 0 && v == nil) {
			t.Errorf("item %d: %v %v", n, v, err)
		}
		n++
	}
}

// TestFidelity14IdentitySets: who wrote what is kept whole, user and
// application: a task created, completed, assigned and given checklist
// items and references with an app-only token names the application alone;
// with a delegated token, the user and the client application.
func TestFidelity14IdentitySets(t *testing.T) {
	f := newFixture(t, nil)
	appID, _ := f.srv.ConfidentialClient()
	app := clientWith(f.srv, f.srv.AppToken())
	me := f.srv.Me().ID
	pid := f.plan(t)
	hundred := 100
	created, err := app.Tasks.Create(f.ctx, &Task{PlanID: pid, Title: "by the app", PercentComplete: &hundred,
		Assignments: map[string]Assignment{me: NewAssignment(" !")}})
	if err != nil {
		t.Fatal(err)
	}
	appOnly := func(what string, s *IdentitySet) {
		t.Helper()
		if s == nil || s.User != nil || s.Application == nil || s.Application.ID != appID {
			t.Errorf("%s = %+v, want the application %s alone", what, s, appID)
		}
	}
	appOnly("createdBy", created.CreatedBy)
	appOnly("completedBy", created.CompletedBy)
	appOnly("assignedBy", created.Assignments[me].AssignedBy)
	d, err := app.Tasks.GetDetails(f.ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	item, ref := NewChecklistItemID(), EncodeReferenceKey("https://contoso.com/spec.docx")
	d, err = app.Tasks.UpdateDetails(f.ctx, created.ID, d.ETag, Patch{
		"checklist":  map[string]any{item: map[string]any{"@odata.type": ODataChecklistItem, "title": "step"}},
		"references": map[string]any{ref: map[string]any{"@odata.type": ODataExternalReference, "alias": "Spec"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	appOnly("checklist lastModifiedBy", d.Checklist[item].LastModifiedBy)
	appOnly("reference lastModifiedBy", d.References[ref].LastModifiedBy)

	// A delegated write names the user and the client application.
	mine, err := f.c.Tasks.Create(f.ctx, &Task{PlanID: pid, Title: "by me"})
	if err != nil {
		t.Fatal(err)
	}
	if by := mine.CreatedBy; by == nil || by.User == nil || by.User.ID != me || by.Application == nil || by.Application.ID != f.srv.ClientID() {
		t.Errorf("delegated createdBy = %+v", by)
	}
	// Seeded identities of other clients decode too.
	if err := f.srv.SeedTask(mine.ID, graphtest.TaskSeed{CreatedBy: &graphtest.Identity{ApplicationID: "5f3c0e1b-0000-4000-8000-0000000000aa"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.c.Tasks.Get(f.ctx, mine.ID); err != nil || got.CreatedBy.User != nil || got.CreatedBy.Application.ID != "5f3c0e1b-0000-4000-8000-0000000000aa" {
		t.Errorf("seeded createdBy %+v %v", got, err)
	}
}

// TestFidelity15SharedWith: a plan's sharedWith decodes as user id → true,
// SharedWithIDs lists the users, and a user is removed by writing false.
func TestFidelity15SharedWith(t *testing.T) {
	f := newFixture(t, nil)
	pid := f.plan(t)
	d, err := f.c.Plans.GetDetails(f.ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	users := f.srv.Users()
	d2, err := f.c.Plans.UpdateDetails(f.ctx, pid, d.ETag, Patch{"sharedWith": map[string]any{users[1].ID: true, users[2].ID: true}})
	if err != nil {
		t.Fatal(err)
	}
	ids := d2.SharedWithIDs()
	if !slices.Contains(ids, users[1].ID) || !slices.Contains(ids, users[2].ID) || !slices.IsSorted(ids) {
		t.Fatalf("sharedWith %v", ids)
	}
	d3, err := f.c.Plans.UpdateDetails(f.ctx, pid, d2.ETag, Patch{"sharedWith": map[string]any{users[2].ID: false}})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(d3.SharedWithIDs(), users[2].ID) || !slices.Contains(d3.SharedWithIDs(), users[1].ID) {
		t.Errorf("after removal %v", d3.SharedWithIDs())
	}
	var pd PlanDetails
	_ = json.Unmarshal([]byte(`{"id":"p","sharedWith":{"b":true,"a":true,"c":false}}`), &pd)
	if got := pd.SharedWithIDs(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("SharedWithIDs = %v", got)
	}
}

// TestFidelity05ForbiddenNamesThePermission: a 403 that is no Planner limit
// says what the refused endpoint needs: the directory's endpoints a
// directory permission (User.Read for /me and /me/memberOf, Group.Read.All
// or GroupMember.Read.All for groups, User.ReadBasic.All for other users),
// Planner's a Tasks permission (Tasks.ReadWrite for a write) and
// membership of the plan's group.
func TestFidelity05ForbiddenNamesThePermission(t *testing.T) {
	srv := graphtest.NewServer(t)
	me := srv.Me().ID
	gid := ""
	for _, g := range srv.Groups() {
		if g.Unified && slices.Contains(g.Members, me) && len(g.PlanIDs) > 0 {
			gid = g.ID
			break
		}
	}
	plan := ""
	for _, g := range srv.Groups() {
		if g.ID == gid {
			plan = g.PlanIDs[0]
		}
	}
	tasksOnly := clientWith(srv, srv.TokenFor(me, "Tasks.Read"))
	userOnly := clientWith(srv, srv.TokenFor(me, "User.Read"))
	app := clientWith(srv, srv.AppTokenWithRoles("Tasks.Read.All"))
	readOnly := clientWith(srv, srv.TokenFor(me, "User.Read", "Tasks.Read"))
	firstErr := func(seq func(func(*Group, error) bool)) error {
		for _, err := range seq {
			if err != nil {
				return err
			}
		}
		return nil
	}
	errOf := func(_ any, err error) error { return err }
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"/me/memberOf without User.Read", firstErr(tasksOnly.Groups.ListMemberOf(t.Context())), "lacks User.Read"},
		{"/me without User.Read", errOf(tasksOnly.Users.Me(t.Context())), "lacks User.Read"},
		{"/groups without a group permission", firstErr(app.Groups.List(t.Context())), "Group.Read.All or GroupMember.Read.All"},
		{"/groups/{id} without a group permission", errOf(tasksOnly.Groups.Get(t.Context(), gid)), "Group.Read.All or GroupMember.Read.All"},
		{"/users/{id} without User.ReadBasic.All", errOf(tasksOnly.Users.Get(t.Context(), srv.Users()[1].ID)), "User.ReadBasic.All"},
		{"a plan without a Tasks permission", errOf(userOnly.Plans.Get(t.Context(), plan)), "Tasks.Read"},
		{"a write with Tasks.Read", errOf(readOnly.Plans.Create(t.Context(), &Plan{Title: "refused", Container: &PlanContainer{ContainerID: gid, Type: "group"}})), "Tasks.ReadWrite or Group.ReadWrite.All, which writes need"},
	}
	for _, tc := range cases {
		var ge *Error
		if !errors.As(tc.err, &ge) || ge.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %v, want a 403", tc.name, tc.err)
			continue
		}
		if !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %q does not say %q", tc.name, tc.err, tc.want)
		}
		if !strings.Contains(ge.Path, "/planner/") && strings.Contains(tc.err.Error(), "member of") {
			t.Errorf("%s: %q speaks of membership for a directory endpoint", tc.name, tc.err)
		}
	}
}
