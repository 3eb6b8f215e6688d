package graph

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"golang.org/x/oauth2"
)

func taskIDs(ts []*Task) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

func TestPaging(t *testing.T) {
	tests := []struct {
		name      string
		pageSize  int
		empty     bool
		wantPages int
	}{
		{"one page", 400, false, 1},
		{"four pages", 3, false, 4},
		{"empty page in the middle", 4, true, 4}, // 4 + empty + 4 + 2
		{"exact multiple", 5, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.srv.SetPageSize(tt.pageSize)
			f.srv.EmptyPages(tt.empty)
			plan := f.plan(t)
			got, err := collect(t, f.c.Tasks.ListByPlan(f.ctx, plan))
			if err != nil {
				t.Fatal(err)
			}
			ids := taskIDs(got)
			slices.Sort(ids)
			if want := f.srv.TaskIDs(plan); !slices.Equal(ids, want) {
				t.Errorf("got %d tasks %v, want %v", len(ids), ids, want)
			}
			if n := f.counts.Count("GET /planner/plans/{id}/tasks"); n != tt.wantPages {
				t.Errorf("%d pages fetched, want %d", n, tt.wantPages)
			}
			if n := f.srv.Count("GET /planner/plans/{id}/tasks"); n != tt.wantPages {
				t.Errorf("emulator saw %d pages, want %d", n, tt.wantPages)
			}
		})
	}
	t.Run("break stops fetching", func(t *testing.T) {
		f := newFixture(t, nil)
		f.srv.SetPageSize(3)
		n := 0
		for _, err := range f.c.Tasks.ListByPlan(f.ctx, f.plan(t)) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 2 {
				break
			}
		}
		if got := f.srv.RequestCount(); got != 1 {
			t.Errorf("%d requests after breaking on the first page, want 1", got)
		}
	})
	t.Run("every list endpoint", func(t *testing.T) {
		f := newFixture(t, nil)
		f.srv.SetPageSize(2)
		plan := f.plan(t)
		me := f.srv.Me().ID
		buckets, err := collect(t, f.c.Buckets.ListByPlan(f.ctx, plan))
		if err != nil || len(buckets) != len(f.srv.BucketIDs(plan)) {
			t.Fatalf("buckets %d, %v", len(buckets), err)
		}
		var byBucket int
		for _, b := range buckets {
			ts, err := collect(t, f.c.Tasks.ListByBucket(f.ctx, b.ID))
			if err != nil {
				t.Fatal(err)
			}
			byBucket += len(ts)
		}
		if byBucket != len(f.srv.TaskIDs(plan)) {
			t.Errorf("tasks by bucket %d, want %d", byBucket, len(f.srv.TaskIDs(plan)))
		}
		mine, err := collect(t, f.c.Tasks.ListMine(f.ctx))
		if err != nil {
			t.Fatal(err)
		}
		byUser, err := collect(t, f.c.Tasks.ListByUser(f.ctx, me))
		if err != nil || len(byUser) != len(mine) || len(mine) == 0 {
			t.Errorf("mine %d, by user %d, %v", len(mine), len(byUser), err)
		}
		for _, tk := range mine {
			if _, ok := tk.Assignments[me]; !ok {
				t.Errorf("task %s is not assigned to me", tk.ID)
			}
		}
		plans, err := collect(t, f.c.Plans.ListMine(f.ctx))
		if err != nil || len(plans) == 0 {
			t.Errorf("my plans %d, %v", len(plans), err)
		}
	})
}

func TestGroups(t *testing.T) {
	f := newFixture(t, []graphtest.Option{graphtest.WithDemoTenant()})
	f.srv.SetPageSize(2)
	var unified, mine []string
	for _, g := range f.srv.Groups() {
		if !g.Unified {
			continue
		}
		unified = append(unified, g.ID)
		if slices.Contains(g.Members, f.srv.Me().ID) {
			mine = append(mine, g.ID)
		}
	}
	ids := func(gs []*Group) []string {
		var out []string
		for _, g := range gs {
			if !g.IsUnified() || g.DisplayName == "" {
				t.Errorf("group %+v", g)
			}
			out = append(out, g.ID)
		}
		slices.Sort(out)
		return out
	}
	got, err := collect(t, f.c.Groups.ListMine(f.ctx))
	if err != nil {
		t.Fatal(err)
	}
	if g := ids(got); !slices.Equal(g, mine) {
		t.Errorf("ListMine = %v, want the Microsoft 365 groups %v", g, mine)
	}
	app := NewClient(WithBaseURL(f.srv.GraphURL()), WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: f.srv.AppToken()})))
	got, err = collect(t, app.Groups.List(f.ctx))
	if err != nil {
		t.Fatal(err)
	}
	if g := ids(got); !slices.Equal(g, unified) {
		t.Errorf("List = %v, want %v", g, unified)
	}
	g, err := f.c.Groups.Get(f.ctx, mine[0])
	if err != nil || g.ID != mine[0] || g.CreatedDateTime == nil || g.Mail == "" {
		t.Errorf("Get = %+v, %v", g, err)
	}
	me, err := f.c.Users.Me(f.ctx)
	if err != nil || me.ID != f.srv.Me().ID || me.DisplayName == "" {
		t.Errorf("Me = %+v, %v", me, err)
	}
	u, err := f.c.Users.Get(f.ctx, me.UserPrincipalName)
	if err != nil || u.ID != me.ID {
		t.Errorf("Users.Get = %+v, %v", u, err)
	}
	if _, err := app.Users.Me(f.ctx); err == nil || !hasStatus(err, 400) {
		t.Errorf("app-only /me: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	date := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		retryAfter string
		min, max   time.Duration
	}{
		{"whole seconds", "2", 2 * time.Second, 2 * time.Second},
		{"fractional seconds", "2.128", 2128 * time.Millisecond, 2128 * time.Millisecond},
		{"HTTP date", date, 1 * time.Second, 3 * time.Second},
		{"absent: backoff", "", 1, DefaultBaseDelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			plan := f.plan(t)
			f.srv.Throttle(graphtest.Throttle{Match: "/planner/plans/", Count: 1, EveryN: 1, RetryAfter: tt.retryAfter})
			p, err := f.c.Plans.Get(f.ctx, plan)
			if err != nil || p.ID != plan {
				t.Fatalf("Get = %v, %v", p, err)
			}
			ds := f.sleeps.all()
			if len(ds) != 1 || ds[0] < tt.min || ds[0] > tt.max {
				t.Errorf("waits %v, want one in [%v, %v]", ds, tt.min, tt.max)
			}
			if n := f.counts.Count("GET /planner/plans/{id}"); n != 2 {
				t.Errorf("%d attempts, want 2", n)
			}
		})
	}
	t.Run("retries run out", func(t *testing.T) {
		f := newFixture(t, nil, WithRetryPolicy(RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}))
		f.srv.Throttle(graphtest.Throttle{Match: "/planner/plans/", EveryN: 1})
		_, err := f.c.Plans.Get(f.ctx, f.plan(t))
		if !IsThrottled(err) || f.counts.Total() != 3 {
			t.Fatalf("err %v after %d attempts, want 429 after 3", err, f.counts.Total())
		}
		for i, d := range f.sleeps.all() {
			if ceiling := time.Millisecond << i; d <= 0 || d > ceiling {
				t.Errorf("backoff %d = %v, want in (0, %v]", i, d, ceiling)
			}
		}
	})
}

// TestRetryAfterReal waits a real 50ms Retry-After (through the real
// sleep, not a fake) and checks that the retry waited the time the 429 asked
// for. It checks the wait asked of the timer, not the wall clock, so a
// loaded machine cannot fail it.
func TestRetryAfterReal(t *testing.T) {
	f := newFixture(t, nil)
	var waits []time.Duration
	f.c.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return sleepCtx(ctx, d)
	}
	plan := f.plan(t)
	f.srv.Throttle(graphtest.Throttle{Match: "/planner/plans/", Count: 1, EveryN: 1, RetryAfter: "0.05"})
	if _, err := f.c.Plans.Get(f.ctx, plan); err != nil {
		t.Fatal(err)
	}
	reqs := f.srv.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 200 {
		t.Fatalf("requests %+v", reqs)
	}
	if len(waits) != 1 || waits[0] < 50*time.Millisecond {
		t.Errorf("waits before the retry: %v, want one of >= 50ms", waits)
	}
	if reqs[1].Time.Before(reqs[0].Time) {
		t.Errorf("the retry was logged before the 429")
	}
}

func TestPOSTNotBlindlyRetried(t *testing.T) {
	newTask := func(f *fixture, t *testing.T) *Task {
		return &Task{PlanID: f.plan(t), Title: "retry me"}
	}
	tests := []struct {
		name     string
		inject   func(s *graphtest.Server)
		wantErr  bool
		attempts int
	}{
		{"504 is not retried", func(s *graphtest.Server) { s.FailNext(1, 504, "/planner/tasks") }, true, 1},
		{"503 without Retry-After is not retried", func(s *graphtest.Server) { s.FailNext(1, 503, "/planner/tasks") }, true, 1},
		{"dropped after writing is not retried", func(s *graphtest.Server) { s.DropNext(1, "/planner/tasks") }, true, 1},
		{"truncated answer is not retried", func(s *graphtest.Server) { s.TruncateNext(1, "/planner/tasks") }, true, 1},
		{"429 with Retry-After is retried", func(s *graphtest.Server) {
			s.Throttle(graphtest.Throttle{Match: "/planner/tasks", EveryN: 1, Count: 1, RetryAfter: "1"})
		}, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			before := f.srv.TaskCount()
			tt.inject(f.srv)
			created, err := f.c.Tasks.Create(f.ctx, newTask(f, t))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Create = %v, %v", created, err)
			}
			if n := f.counts.Count("POST /planner/tasks"); n != tt.attempts {
				t.Errorf("%d POST attempts, want %d", n, tt.attempts)
			}
			if !tt.wantErr && (len(created.ID) != 28 || created.Title != "retry me" || f.srv.TaskCount() != before+1) {
				t.Errorf("created %+v; %d tasks, had %d", created, f.srv.TaskCount(), before)
			}
		})
	}
	t.Run("connection refused before writing is retried", func(t *testing.T) {
		var calls atomic.Int32
		f := newFixture(t, nil)
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if calls.Add(1) == 1 {
				return nil, errors.New("dial tcp: connection refused") // nothing written
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
		c := NewClient(WithBaseURL(f.srv.GraphURL()), WithHTTPClient(hc),
			WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: f.srv.Token()})))
		c.sleep = f.sleeps.sleep
		if _, err := c.Tasks.Create(f.ctx, newTask(f, t)); err != nil || calls.Load() != 2 {
			t.Errorf("err %v after %d calls", err, calls.Load())
		}
	})
}

func TestWrites(t *testing.T) {
	f := newFixture(t, nil)
	plan := f.plan(t)
	bucket := f.srv.BucketIDs(plan)[0]
	me := f.srv.Me().ID
	due := &DateTime{time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)}
	five := 5
	created, err := f.c.Tasks.Create(f.ctx, &Task{PlanID: plan, BucketID: bucket, Title: `A "quoted" ✨ title`, DueDateTime: due, Priority: &five,
		Assignments: map[string]Assignment{me: NewAssignment(" !")}, AppliedCategories: map[string]bool{"category3": true}})
	if err != nil {
		t.Fatal(err)
	}
	if created.Title != `A "quoted" ✨ title` || !created.DueDateTime.Equal(due.Time) || *created.Priority != 5 ||
		created.Assignments[me].AssignedBy == nil || !created.AppliedCategories["category3"] || created.BucketID != bucket {
		t.Errorf("created %+v", created)
	}

	// Update returns the task (200 with Prefer: return=representation).
	upd, err := f.c.Tasks.Update(f.ctx, created.ID, created.ETag, Patch{"title": "renamed", "dueDateTime": nil, "appliedCategories": map[string]any{"category3": false, "category5": true}})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Title != "renamed" || upd.DueDateTime != nil || upd.AppliedCategories["category3"] || !upd.AppliedCategories["category5"] || upd.ETag == created.ETag {
		t.Errorf("updated %+v", upd)
	}
	// The old ETag is stale: a change of the same property conflicts (409),
	// and so does a delete.
	_, err = f.c.Tasks.Update(f.ctx, created.ID, created.ETag, Patch{"title": "again"})
	if !IsConflict(err) || IsNotFound(err) {
		t.Errorf("stale etag: %v", err)
	}
	if err := f.c.Tasks.Delete(f.ctx, created.ID, created.ETag); !IsConflict(err) {
		t.Errorf("stale delete: %v", err)
	}
	if _, err := f.c.Tasks.Update(f.ctx, created.ID, "", Patch{}); err == nil || !strings.Contains(err.Error(), "ETag is required") {
		t.Errorf("empty etag: %v", err)
	}

	// Details: open types set and delete keys.
	d, err := f.c.Tasks.GetDetails(f.ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	item := NewChecklistItemID()
	ref := "https://contoso.sharepoint.com/sites/a b/Report 1.docx"
	d2, err := f.c.Tasks.UpdateDetails(f.ctx, created.ID, d.ETag, Patch{
		"description": "line 1\nline 2",
		"checklist":   map[string]any{item: map[string]any{"@odata.type": ODataChecklistItem, "title": "check", "isChecked": true}},
		"references":  map[string]any{EncodeReferenceKey(ref): map[string]any{"@odata.type": ODataExternalReference, "alias": "Report", "type": "Word"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d2.Description != "line 1\nline 2" || d2.Checklist[item].Title != "check" || !*d2.Checklist[item].IsChecked || d2.References[EncodeReferenceKey(ref)].Alias != "Report" || d2.References[EncodeReferenceKey(ref)].URL != ref {
		t.Errorf("details %+v", d2)
	}
	d3, err := f.c.Tasks.UpdateDetails(f.ctx, created.ID, d2.ETag, Patch{
		"checklist":  map[string]any{item: nil},
		"references": map[string]any{EncodeReferenceKey(ref): nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(d3.Checklist) != 0 || len(d3.References) != 0 || d3.Description != "line 1\nline 2" {
		t.Errorf("after deleting keys: %+v", d3)
	}
	// A task's ETag is not its details' (412, as the service answers now).
	if _, err := f.c.Tasks.UpdateDetails(f.ctx, created.ID, upd.ETag, Patch{"description": "x"}); !hasStatus(err, 412) ||
		!strings.Contains(err.Error(), "another object's") {
		t.Errorf("task etag on details: %v", err)
	}

	// Board formats.
	bf, err := f.c.Tasks.GetBucketTaskBoardFormat(f.ctx, created.ID)
	if err != nil || bf.ID != created.ID || bf.ETag == "" {
		t.Fatalf("bucket format %+v, %v", bf, err)
	}
	if bf2, err := f.c.Tasks.UpdateBucketTaskBoardFormat(f.ctx, created.ID, bf.ETag, Patch{"orderHint": OrderHintBetween("", "")}); err != nil || bf2.OrderHint == "" || bf2.ETag == bf.ETag {
		t.Errorf("update bucket format %+v, %v", bf2, err)
	}
	pf, err := f.c.Tasks.GetProgressTaskBoardFormat(f.ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Tasks.UpdateProgressTaskBoardFormat(f.ctx, created.ID, pf.ETag, Patch{"orderHint": " !"}); err != nil {
		t.Error(err)
	}
	af, err := f.c.Tasks.GetAssignedToTaskBoardFormat(f.ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	af2, err := f.c.Tasks.UpdateAssignedToTaskBoardFormat(f.ctx, created.ID, af.ETag, Patch{"orderHintsByAssignee": map[string]any{me: " !"}})
	if err != nil || af2.OrderHintsByAssignee[me] == "" {
		t.Errorf("assignedTo format %+v, %v", af2, err)
	}

	// Delete, then 404.
	cur, err := f.c.Tasks.Get(f.ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.c.Tasks.Delete(f.ctx, created.ID, cur.ETag); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.Tasks.Get(f.ctx, created.ID)
	var ge *Error
	if !IsNotFound(err) || !errors.As(err, &ge) || ge.Method != "GET" || ge.Path != "/v1.0/planner/tasks/"+created.ID || ge.RequestID == "" {
		t.Errorf("after delete: %v (%+v)", err, ge)
	}
}

func TestPlanAndBucketWrites(t *testing.T) {
	f := newFixture(t, nil)
	plan, err := f.c.Plans.Get(f.ctx, f.plan(t))
	if err != nil {
		t.Fatal(err)
	}
	group := plan.Container.ContainerID
	np, err := f.c.Plans.Create(f.ctx, &Plan{Title: "New plan", Container: &PlanContainer{ContainerID: group, Type: "group"}})
	if err != nil || np.Title != "New plan" || np.Container.ContainerID != group {
		t.Fatalf("create plan %+v, %v", np, err)
	}
	np2, err := f.c.Plans.Update(f.ctx, np.ID, np.ETag, Patch{"title": "Renamed plan"})
	if err != nil || np2.Title != "Renamed plan" {
		t.Fatalf("update plan %+v, %v", np2, err)
	}
	pd, err := f.c.Plans.GetDetails(f.ctx, np.ID)
	if err != nil {
		t.Fatal(err)
	}
	pd2, err := f.c.Plans.UpdateDetails(f.ctx, np.ID, pd.ETag, Patch{"categoryDescriptions": map[string]any{"category1": "Red", "category25": "Last"}})
	if err != nil || pd2.CategoryDescriptions["category1"] != "Red" || pd2.CategoryDescriptions["category25"] != "Last" {
		t.Fatalf("plan details %+v, %v", pd2, err)
	}
	b, err := f.c.Buckets.Create(f.ctx, &Bucket{PlanID: np.ID, Name: "To do"})
	if err != nil || b.Name != "To do" || b.PlanID != np.ID || b.OrderHint == "" {
		t.Fatalf("create bucket %+v, %v", b, err)
	}
	b2, err := f.c.Buckets.Update(f.ctx, b.ID, b.ETag, Patch{"name": "Doing"})
	if err != nil || b2.Name != "Doing" {
		t.Fatalf("update bucket %+v, %v", b2, err)
	}
	if got, err := f.c.Buckets.Get(f.ctx, b.ID); err != nil || got.ETag != b2.ETag {
		t.Errorf("get bucket %+v, %v", got, err)
	}
	if err := f.c.Buckets.Delete(f.ctx, b.ID, b2.ETag); err != nil {
		t.Error(err)
	}
	if err := f.c.Plans.Delete(f.ctx, np.ID, np2.ETag); err != nil {
		t.Error(err)
	}
	if _, err := f.c.Plans.Get(f.ctx, np.ID); !IsNotFound(err) {
		t.Errorf("deleted plan: %v", err)
	}
}

// TestUpdateNoContent: without a representation the service answers 204 and
// Update returns (nil, nil).
func TestUpdateNoContent(t *testing.T) {
	f := newFixture(t, nil)
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Del("Prefer")
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := NewClient(WithBaseURL(f.srv.GraphURL()), WithHTTPClient(hc),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: f.srv.Token()})))
	tk := f.task(t)
	got, err := c.Tasks.Update(f.ctx, tk.ID, tk.ETag, Patch{"percentComplete": 100})
	if err != nil || got != nil {
		t.Fatalf("Update = %+v, %v; want nil, nil", got, err)
	}
	now, _ := c.Tasks.Get(f.ctx, tk.ID)
	if *now.PercentComplete != 100 || now.CompletedDateTime == nil {
		t.Errorf("task %+v", now)
	}
}

// TestRequestHeaders checks what goes on the wire.
func TestRequestHeaders(t *testing.T) {
	f := newFixture(t, nil)
	var mu sync.Mutex
	seen := map[string]http.Header{}
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		seen[r.Method] = r.Header.Clone()
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := NewClient(WithBaseURL(f.srv.GraphURL()+"/"), WithHTTPClient(hc), WithUserAgent("planner-test/1"),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: f.srv.Token()})))
	tk := f.task(t)
	if _, err := c.Tasks.Update(f.ctx, tk.ID, tk.ETag, Patch{"title": "x"}); err != nil {
		t.Fatal(err)
	}
	h := seen["PATCH"]
	if h.Get("If-Match") != tk.ETag || h.Get("Prefer") != "return=representation" || h.Get("Content-Type") != "application/json" ||
		h.Get("User-Agent") != "planner-test/1" || h.Get("Authorization") != "Bearer "+f.srv.Token() || h.Get("client-request-id") == "" {
		t.Errorf("PATCH headers %v", h)
	}
}

func TestAuth(t *testing.T) {
	t.Run("401 then a fresh token", func(t *testing.T) {
		f := newFixture(t, nil)
		ts := &seqTokens{toks: []string{"expired-token", f.srv.Token()}}
		c := NewClient(WithBaseURL(f.srv.GraphURL()), WithTokenSource(ts), WithRequestHook(f.counts.Hook))
		if _, err := c.Plans.Get(f.ctx, f.plan(t)); err != nil {
			t.Fatal(err)
		}
		if ts.calls != 2 || f.counts.Total() != 2 {
			t.Errorf("%d tokens, %d attempts; want 2, 2", ts.calls, f.counts.Total())
		}
	})
	t.Run("401 twice fails", func(t *testing.T) {
		f := newFixture(t, nil)
		ts := &seqTokens{toks: []string{"secret-bad-token"}}
		c := NewClient(WithBaseURL(f.srv.GraphURL()), WithTokenSource(ts))
		_, err := c.Plans.Get(f.ctx, f.plan(t))
		if !IsUnauthorized(err) || ts.calls != 2 {
			t.Errorf("err %v after %d tokens", err, ts.calls)
		}
		if strings.Contains(err.Error(), "secret-bad-token") {
			t.Errorf("error shows the token: %v", err)
		}
	})
	t.Run("token source failure", func(t *testing.T) {
		f := newFixture(t, nil)
		c := NewClient(WithBaseURL(f.srv.GraphURL()), WithTokenSource(oauth2.TokenSource(failingTokens{})), WithRequestHook(f.counts.Hook))
		_, err := c.Plans.Get(f.ctx, f.plan(t))
		if err == nil || !strings.Contains(err.Error(), "get an access token") || f.counts.Total() != 0 {
			t.Errorf("err %v, %d requests", err, f.counts.Total())
		}
	})
}

type failingTokens struct{}

func (failingTokens) Token() (*oauth2.Token, error) {
	return nil, errors.New("no refresh token: sign in again")
}

// TestErrorsHideTokens provokes every kind of failure and scans the errors and
// the hook's reports for the bearer token.
func TestErrorsHideTokens(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.srv.Token()
	var infos []RequestInfo
	var mu sync.Mutex
	c := NewClient(WithBaseURL(f.srv.GraphURL()), WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})),
		WithRetryPolicy(RetryPolicy{MaxRetries: 1}), WithRequestHook(func(ri RequestInfo) {
			mu.Lock()
			infos = append(infos, ri)
			mu.Unlock()
		}))
	c.sleep = f.sleeps.sleep
	tk := f.task(t)
	var errs []error
	keep := func(_ any, err error) {
		if err == nil {
			t.Error("expected an error")
		}
		errs = append(errs, err)
	}
	keep(c.Tasks.Get(f.ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	keep(c.Tasks.Get(f.ctx, "bad id"))
	keep(c.Tasks.Update(f.ctx, tk.ID, `W/"JzEtVGFzayAgICAgICAgICAgAAAAAAAAJw=="`, Patch{"title": "x"}))
	f.srv.DropNext(10, "/planner/tasks/")
	keep(c.Tasks.Get(f.ctx, tk.ID))
	f.srv.ClearFaults()
	f.srv.FailNext(2, 503, "/planner/tasks/")
	keep(c.Tasks.Get(f.ctx, tk.ID))
	res, err := c.Batch(f.ctx, []BatchRequest{{Method: "GET", URL: "/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})
	if err != nil {
		t.Fatal(err)
	}
	keep(nil, res[0].Err)
	for _, err := range errs {
		if s := err.Error(); strings.Contains(s, tok) || strings.Contains(s, "Bearer") || strings.Contains(s, "127.0.0.1") {
			t.Errorf("error %q shows the token or the host", s)
		}
		if !strings.HasPrefix(err.Error(), "graph: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
	for _, ri := range infos {
		if ri.Err != nil && strings.Contains(ri.Err.Error(), tok) {
			t.Errorf("hook error shows the token: %v", ri.Err)
		}
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	f := newFixture(t, nil)
	// Real waits; the one after the 429 must end because of the cancel,
	// not because its 30 seconds passed.
	f.c.sleep = func(ctx context.Context, d time.Duration) error {
		err := sleepCtx(ctx, d)
		if err == nil && d >= 30*time.Second {
			t.Errorf("the %v backoff ran to its end after the cancel", d)
		}
		return err
	}
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	f.c.hook = func(ri RequestInfo) {
		if ri.Status == 429 {
			cancel() // during the 30-second Retry-After that follows
		}
	}
	f.srv.Throttle(graphtest.Throttle{Match: "/planner/plans/", EveryN: 1, RetryAfter: "30"})
	_, err := f.c.Plans.Get(ctx, f.plan(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "429") {
		t.Errorf("error does not say what was being retried: %v", err)
	}
	if n := f.srv.RequestCount(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRequestCounterAndEndpoints(t *testing.T) {
	tests := map[string]string{
		"/v1.0/me":                                     "GET /me",
		"/v1.0/me/memberOf":                            "GET /me/memberOf",
		"/me/planner/tasks":                            "GET /me/planner/tasks",
		"/v1.0/users/abc/planner/tasks":                "GET /users/{id}/planner/tasks",
		"/v1.0/groups/g1/planner/plans":                "GET /groups/{id}/planner/plans",
		"/v1.0/planner/plans/p1/tasks":                 "GET /planner/plans/{id}/tasks",
		"/v1.0/planner/plans/p1/details":               "GET /planner/plans/{id}/details",
		"/beta/planner/buckets/b1/tasks":               "GET /planner/buckets/{id}/tasks",
		"/v1.0/planner/tasks/t1/details":               "GET /planner/tasks/{id}/details",
		"/v1.0/planner/tasks/t1/bucketTaskBoardFormat": "GET /planner/tasks/{id}/bucketTaskBoardFormat",
		"/v1.0/planner/tasks":                          "GET /planner/tasks",
		"/v1.0/planner/tasks/t1?$skiptoken=x":          "GET /planner/tasks/{id}",
		"/v1.0/$batch":                                 "GET /$batch",
	}
	for path, want := range tests {
		if got := Endpoint("get", path); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", path, got, want)
		}
	}
	f := newFixture(t, nil)
	f.srv.SetPageSize(4)
	plan := f.plan(t)
	ids := f.srv.TaskIDs(plan)
	if _, err := collect(t, f.c.Tasks.ListByPlan(f.ctx, plan)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Plans.GetDetails(f.ctx, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := collect(t, f.c.Tasks.ListDetails(f.ctx, ids)); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"GET /planner/plans/{id}/tasks": 3, "GET /planner/plans/{id}/details": 1, "POST /$batch": 1}
	if got := f.counts.Counts(); !mapsEqual(got, want) || f.counts.Total() != 5 {
		t.Errorf("counts %v (total %d), want %v", got, f.counts.Total(), want)
	}
	for ep, n := range want {
		if f.srv.Count(ep) != n {
			t.Errorf("emulator counted %d %s, client %d", f.srv.Count(ep), ep, n)
		}
	}
	f.counts.Reset()
	if f.counts.Total() != 0 || len(f.counts.Counts()) != 0 {
		t.Error("Reset")
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestConcurrencyBound(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.SetLatency(5 * time.Millisecond)
	var inFlight, peak atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := NewClient(WithBaseURL(f.srv.GraphURL()), WithHTTPClient(hc), WithMaxConcurrency(3),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: f.srv.Token()})))
	ids := f.srv.TaskIDs(f.plan(t))
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if _, err := c.Tasks.Get(f.ctx, id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..3 (bound 3)", p)
	}
}

// TestRateLimit follows the limiter's schedule on a stopped clock: five
// requests at 40/s with a burst of 1 wait 0, 25, 50, 75 and 100 ms. No
// wall-clock time is measured, so a loaded machine cannot fail it.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, nil, WithRateLimit(40, 1))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.c.now = func() time.Time { return t0 }
	plan := f.plan(t)
	for range 5 {
		if _, err := f.c.Plans.Get(f.ctx, plan); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{0, 25 * time.Millisecond, 50 * time.Millisecond, 75 * time.Millisecond, 100 * time.Millisecond}
	if got := f.sleeps.all(); !slices.Equal(got, want) {
		t.Errorf("waits before each request: %v, want %v", got, want)
	}
	// A wait that would outlast the context's deadline fails at once and
	// gives its slot back.
	ctx, cancel := context.WithDeadline(f.ctx, t0.Add(50*time.Millisecond))
	defer cancel()
	if _, err := f.c.Plans.Get(ctx, plan); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("err %v, want a deadline error naming the rate limit", err)
	}
}

func TestNextLinkChecks(t *testing.T) {
	c := NewClient(WithBaseURL("https://graph.microsoft.com/v1.0"))
	tests := []struct {
		link string
		ok   bool
	}{
		{"https://graph.microsoft.com/v1.0/planner/plans/x/tasks?$skiptoken=a", true},
		{"https://GRAPH.microsoft.com/v1.0/planner/plans/x/tasks?$skiptoken=a", true},
		{"https://graph.microsoft.com:443/v1.0/planner/plans/x/tasks?$skiptoken=a", true},
		{"https://graph.microsoft.com:8443/v1.0/planner/plans/x/tasks", false},
		{"https://graph.microsoft.com.evil.example/v1.0/x", false},
		{"https://user@evil.example/v1.0/x", false},
		{"https://evil.example/v1.0/planner/plans/x/tasks", false},
		{"http://graph.microsoft.com/v1.0/x", false},
		{"/v1.0/relative", false},
		{"https://graph.microsoft.com/v1.0/same", false},
	}
	for _, tt := range tests {
		err := c.checkNextLink(tt.link, "https://graph.microsoft.com/v1.0/same")
		if (err == nil) != tt.ok {
			t.Errorf("checkNextLink(%q) = %v", tt.link, err)
		}
	}
}
