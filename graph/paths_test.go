package graph

import (
	"errors"
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		kind idKind
		id   string
		ok   bool
	}{
		// Ids as Graph issues them (the documentation's examples): 28
		// characters of the URL-safe base64 alphabet, '-' and '_'
		// anywhere.
		{kindTask, "xqQg5FS2LkCp935s-FIFm2QAFkHM", true},
		{kindTask, "01gzSlKkIUSUl6DF_EilrmQAKDhh", true},
		{kindPlan, "-_AAAAAAAAAAAAAAAAAAAAAAAAAA", true},
		{kindPlan, "xqQg5FS2LkCp935s-FIFm2QAFkH_", true},
		{kindBucket, "gcrYAaAkgU2EQUvpkNNXLGQAGTtu", true},
		{kindBucket, "hsOf2dhOJkqyYYZEtdzDe2QAIUCR", true},
		{kindTask, strings.Repeat("A", 16), true},
		{kindTask, strings.Repeat("A", 64), true},
		// Not a Planner id: base64 padding or the standard alphabet (21
		// bytes fill 28 characters exactly), an etag's value, too short.
		{kindTask, "xqQg5FS2LkCp935s-FIFm2QAFk==", false},
		{kindTask, "xqQg5FS2LkCp935s-FIFm2QAFkH=", false},
		{kindTask, "xqQg5FS2LkCp935s+FIFm2QAFkHM", false},
		{kindTask, "JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc=", false},
		{kindTask, "id=xqQg5FS2LkCp935s-FIFm2QAFkHM", false},
		{kindTask, strings.Repeat("A", 15), false},
		{kindTask, "delta", false},
		{kindTask, "$count", false},
		{kindTask, "../../../me", false},
		{kindTask, "xqQg5FS2LkCp935s/FIFm2QAFkHM", false},
		{kindTask, "xqQg5FS2LkCp935s%2FFIFm2QAFkHM", false},
		{kindTask, "xqQg5FS2LkCp935s FIFm2QAFkHM", false},
		{kindTask, "xqQg5FS2LkCp935s?FIFm2QAFkHM", false},
		{kindTask, "xqQg5FS2LkCp935s#FIFm2QAFkHM", false},
		{kindTask, "xqQg5FS2LkCp935s\x00FIFm2QAFkHM", false},
		{kindTask, "xqQg5FS2LkCp935s.FIFm2QAFkHM", false},
		{kindTask, "", false},
		{kindTask, strings.Repeat("A", 65), false},
		{kindGroup, "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{kindGroup, "0F8FAD5B-D9CB-469F-A165-70867728950E", true},
		{kindGroup, "0f8fad5b-d9cb-469f-a165-70867728950", false},
		{kindGroup, "0f8fad5b/d9cb-469f-a165-70867728950e", false},
		{kindGroup, "xqQg5FS2LkCp935s-FIFm2QAFkHM", false},
		{kindUser, "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{kindUser, "adele.vance@contoso.onmicrosoft.com", true},
		{kindUser, "o'brien+planner@contoso.com", true},
		{kindUser, "adele_fabrikam.com#EXT#@contoso.onmicrosoft.com", true},
		{kindUser, "me", false},
		{kindUser, "delta", false},
		{kindUser, "$batch@x", false},
		{kindUser, "../me@x.com", false},
		{kindUser, "a..b@x.com", false},
		{kindUser, "a/b@x.com", false},
		{kindUser, "a?b@x.com", false},
		{kindUser, "a%2F@x.com", false},
		{kindUser, "a b@x.com", false},
		{kindUser, "@x.com", false},
		{kindUser, "adele@", false},
	}
	for _, tt := range tests {
		err := validID(tt.kind, tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("validID(%s, %q) = %v, want ok %v", idKinds[tt.kind].name, tt.id, err, tt.ok)
		}
		if err != nil && (!errors.Is(err, ErrInvalidID) || !strings.Contains(err.Error(), "no request was sent")) {
			t.Errorf("error %v", err)
		}
		// The message states the alphabet the check applies.
		if err != nil && tt.kind == kindTask && !strings.Contains(err.Error(), "letters, digits, '-' and '_'") {
			t.Errorf("message %q does not state the alphabet", err)
		}
	}
	if p := idPath(kindUser, "adele_fabrikam.com#EXT#@contoso.onmicrosoft.com", "/planner/tasks"); p.err != nil || p.s != "/users/adele_fabrikam.com%23EXT%23@contoso.onmicrosoft.com/planner/tasks" {
		t.Errorf("guest UPN path %q, %v", p.s, p.err)
	}
}

// TestInvalidIDsSendNothing calls every service method that puts an id in
// a path with an id that would address another endpoint.
func TestInvalidIDsSendNothing(t *testing.T) {
	f := newFixture(t, nil)
	const bad = "../../../me"
	ctx := f.ctx
	first := func(seq func(func(*Task, error) bool)) error {
		for _, err := range seq {
			return err
		}
		return nil
	}
	calls := map[string]func() error{
		"Groups.Get":    func() error { _, err := f.c.Groups.Get(ctx, bad); return err },
		"Users.Get":     func() error { _, err := f.c.Users.Get(ctx, bad); return err },
		"Plans.Get":     func() error { _, err := f.c.Plans.Get(ctx, bad); return err },
		"Plans.Details": func() error { _, err := f.c.Plans.GetDetails(ctx, bad); return err },
		"Plans.GetWithDetails": func() error {
			_, _, err := f.c.Plans.GetWithDetails(ctx, bad)
			return err
		},
		"Plans.ListByGroup": func() error {
			for _, err := range f.c.Plans.ListByGroup(ctx, bad) {
				return err
			}
			return nil
		},
		"Plans.Update":        func() error { _, err := f.c.Plans.Update(ctx, bad, `W/"x"`, Patch{}); return err },
		"Plans.UpdateDetails": func() error { _, err := f.c.Plans.UpdateDetails(ctx, bad, `W/"x"`, Patch{}); return err },
		"Plans.Delete":        func() error { return f.c.Plans.Delete(ctx, bad, `W/"x"`) },
		"Buckets.Get":         func() error { _, err := f.c.Buckets.Get(ctx, bad); return err },
		"Buckets.ListByPlan": func() error {
			for _, err := range f.c.Buckets.ListByPlan(ctx, bad) {
				return err
			}
			return nil
		},
		"Buckets.Update":        func() error { _, err := f.c.Buckets.Update(ctx, bad, `W/"x"`, Patch{}); return err },
		"Buckets.Delete":        func() error { return f.c.Buckets.Delete(ctx, bad, `W/"x"`) },
		"Tasks.Get":             func() error { _, err := f.c.Tasks.Get(ctx, bad); return err },
		"Tasks.GetDetails":      func() error { _, err := f.c.Tasks.GetDetails(ctx, bad); return err },
		"Tasks.GetWithDetails":  func() error { _, _, err := f.c.Tasks.GetWithDetails(ctx, bad); return err },
		"Tasks.ListByPlan":      func() error { return first(f.c.Tasks.ListByPlan(ctx, bad)) },
		"Tasks.ListByBucket":    func() error { return first(f.c.Tasks.ListByBucket(ctx, bad)) },
		"Tasks.ListByUser":      func() error { return first(f.c.Tasks.ListByUser(ctx, bad)) },
		"Tasks.Update":          func() error { _, err := f.c.Tasks.Update(ctx, bad, `W/"x"`, Patch{}); return err },
		"Tasks.UpdateDetails":   func() error { _, err := f.c.Tasks.UpdateDetails(ctx, bad, `W/"x"`, Patch{}); return err },
		"Tasks.Delete":          func() error { return f.c.Tasks.Delete(ctx, bad, `W/"x"`) },
		"Tasks.BucketBoard":     func() error { _, err := f.c.Tasks.GetBucketTaskBoardFormat(ctx, bad); return err },
		"Tasks.ProgressBoard":   func() error { _, err := f.c.Tasks.GetProgressTaskBoardFormat(ctx, bad); return err },
		"Tasks.AssignedToBoard": func() error { _, err := f.c.Tasks.GetAssignedToTaskBoardFormat(ctx, bad); return err },
		"Tasks.UpdateBucketBoard": func() error {
			_, err := f.c.Tasks.UpdateBucketTaskBoardFormat(ctx, bad, `W/"x"`, Patch{})
			return err
		},
		"Tasks.UpdateProgressBoard": func() error {
			_, err := f.c.Tasks.UpdateProgressTaskBoardFormat(ctx, bad, `W/"x"`, Patch{})
			return err
		},
		"Tasks.UpdateAssignedToBoard": func() error {
			_, err := f.c.Tasks.UpdateAssignedToTaskBoardFormat(ctx, bad, `W/"x"`, Patch{})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrInvalidID) {
			t.Errorf("%s: %v, want ErrInvalidID", name, err)
		}
	}
	if n := f.counts.Total(); n != 0 {
		t.Errorf("%d requests sent", n)
	}

	t.Run("details of a mix of ids", func(t *testing.T) {
		ids := f.srv.TaskIDs(f.plan(t))[:2]
		var got []string
		var errs int
		for d, err := range f.c.Tasks.ListDetails(ctx, []string{ids[0], bad, ids[1]}) {
			if err != nil {
				if !errors.Is(err, ErrInvalidID) {
					t.Errorf("err %v", err)
				}
				errs++
				continue
			}
			got = append(got, d.ID)
		}
		if errs != 1 || len(got) != 2 || got[0] != ids[0] || got[1] != ids[1] {
			t.Errorf("got %v and %d errors", got, errs)
		}
		if n := f.srv.Count("GET /planner/tasks/{id}/details"); n != 2 {
			t.Errorf("%d details requested, want 2", n)
		}
	})
	t.Run("batch URLs", func(t *testing.T) {
		f.counts.Reset()
		for _, u := range []string{
			"/planner/tasks/../../me", "/planner/tasks/..%2F..%2Fme", "/planner/tasks/x%2Fy/details",
			"/planner/tasks/" + bad, "/planner/tasks/a b", "/planner/tasks/x#frag", "/planner/tasks/%zz",
			"/groups/not-a-guid/planner/plans", "/users/me/planner/tasks", "/planner/tasks/xqQg5FS2LkCp935s-FIFm2QAFkHM?$x=a b",
			"https://graph.microsoft.com.evil.example/v1.0/me",
		} {
			if _, err := f.c.Batch(ctx, []BatchRequest{{Method: "GET", URL: "/me"}, {Method: "GET", URL: u}}); err == nil {
				t.Errorf("Batch accepted %q", u)
			}
		}
		if n := f.counts.Total(); n != 0 {
			t.Errorf("%d requests sent", n)
		}
		// An absolute URL at the client's origin is made relative.
		res, err := f.c.Batch(ctx, []BatchRequest{{Method: "GET", URL: f.c.BaseURL() + "/me"}, {Method: "GET", URL: "me"}})
		if err != nil || res[0].Status != 200 || res[1].Status != 200 {
			t.Errorf("%+v, %v", res, err)
		}
	})
}
