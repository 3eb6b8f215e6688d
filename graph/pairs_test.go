package graph

import (
	"errors"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestListTasks checks Tasks.ListByID and Tasks.ListWithDetails: in order, a
// deleted task and an id no task can have failing alone (the latter
// unsent), and the requests packed 20 to a $batch call.
func TestListTasks(t *testing.T) {
	f := newFixture(t, []graphtest.Option{graphtest.WithGenerated(graphtest.GenSpec{Seed: 5, Plans: 2, TasksPerPlan: 30})})
	var ids []string
	for _, p := range f.srv.PlanIDs() {
		ids = append(ids, f.srv.TaskIDs(p)...)
	}
	const unknown, invalid = "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "../../me"
	ids = append(ids[:25], append([]string{unknown, invalid}, ids[25:]...)...)
	check := func(name string, i int, id string, err error) {
		switch {
		case i == 25:
			if !IsNotFound(err) {
				t.Errorf("%s: item %d (unknown): %v, want not found", name, i, err)
			}
		case i == 26:
			if !errors.Is(err, ErrInvalidID) {
				t.Errorf("%s: item %d (invalid): %v, want ErrInvalidID", name, i, err)
			}
		case err != nil || id != ids[i]:
			t.Errorf("%s: item %d = %s, %v; want %s", name, i, id, err, ids[i])
		}
	}
	i := 0
	for tk, err := range f.c.Tasks.ListByID(f.ctx, ids) {
		id := ""
		if tk != nil {
			id = tk.ID
		}
		check("ListByID", i, id, err)
		i++
	}
	if n, want := f.counts.Count("POST /$batch"), (len(ids)-1+19)/20; i != len(ids) || n != want {
		t.Errorf("ListByID: %d items in %d $batch calls, want %d in %d", i, n, len(ids), want)
	}
	f.counts.Reset()
	i = 0
	for td, err := range f.c.Tasks.ListWithDetails(f.ctx, ids) {
		id := ""
		if err == nil {
			id = td.Task.ID
			if td.Details == nil || td.Details.ID != id {
				t.Errorf("ListWithDetails: item %d: details %v", i, td.Details)
			}
		}
		check("ListWithDetails", i, id, err)
		i++
	}
	if n, want := f.counts.Count("POST /$batch"), (2*(len(ids)-1)+19)/20; i != len(ids) || n != want {
		t.Errorf("ListWithDetails: %d items in %d $batch calls, want %d in %d", i, n, len(ids), want)
	}
}

// TestListByID checks the other ListByID methods and Plans.ListWithDetails:
// in order, an unknown and an invalid id failing alone, 20 requests a call.
func TestListByID(t *testing.T) {
	f := newFixture(t, []graphtest.Option{graphtest.WithGenerated(graphtest.GenSpec{Seed: 5, Plans: 3, TasksPerPlan: 1})})
	const unknown, invalid = "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "../../me"
	plans := append(f.srv.PlanIDs(), unknown, invalid)
	var buckets []string
	for _, p := range f.srv.PlanIDs() {
		buckets = append(buckets, f.srv.BucketIDs(p)...)
	}
	buckets = append(buckets, unknown, invalid)
	var groups []string
	for _, g := range f.srv.Groups() {
		groups = append(groups, g.ID)
	}
	groups = append(groups, "00000000-0000-0000-0000-000000000000", invalid)
	ids := func(name string, want []string, got []string, errs []error) {
		t.Helper()
		n := len(want)
		if len(got) != n {
			t.Fatalf("%s: %d items, want %d", name, len(got), n)
		}
		for i := range n - 2 {
			if errs[i] != nil || got[i] != want[i] {
				t.Errorf("%s: item %d = %s, %v; want %s", name, i, got[i], errs[i], want[i])
			}
		}
		if !IsNotFound(errs[n-2]) || !errors.Is(errs[n-1], ErrInvalidID) {
			t.Errorf("%s: unknown %v, invalid %v", name, errs[n-2], errs[n-1])
		}
	}
	collectIDs := func(seq func(yield func(string, error) bool)) (out []string, errs []error) {
		for id, err := range seq {
			out, errs = append(out, id), append(errs, err)
		}
		return out, errs
	}
	got, errs := collectIDs(func(yield func(string, error) bool) {
		for p, err := range f.c.Plans.ListByID(f.ctx, plans) {
			id := ""
			if p != nil {
				id = p.ID
			}
			if !yield(id, err) {
				return
			}
		}
	})
	ids("Plans.ListByID", plans, got, errs)
	got, errs = collectIDs(func(yield func(string, error) bool) {
		for p, err := range f.c.Plans.ListWithDetails(f.ctx, plans) {
			id := ""
			if err == nil {
				id = p.Plan.ID
				if p.Details == nil || p.Details.ID != id {
					t.Errorf("Plans.ListWithDetails: %s: details %v", id, p.Details)
				}
			}
			if !yield(id, err) {
				return
			}
		}
	})
	ids("Plans.ListWithDetails", plans, got, errs)
	got, errs = collectIDs(func(yield func(string, error) bool) {
		for b, err := range f.c.Buckets.ListByID(f.ctx, buckets) {
			id := ""
			if b != nil {
				id = b.ID
			}
			if !yield(id, err) {
				return
			}
		}
	})
	ids("Buckets.ListByID", buckets, got, errs)
	got, errs = collectIDs(func(yield func(string, error) bool) {
		for g, err := range f.c.Groups.ListByID(f.ctx, groups) {
			id := ""
			if g != nil {
				id = g.ID
			}
			if !yield(id, err) {
				return
			}
		}
	})
	ids("Groups.ListByID", groups, got, errs)
	// 1 call each for plans, buckets and groups; plans with details: ceil(2×4/20).
	if n := f.counts.Count("POST /$batch"); n != 4 {
		t.Errorf("%d $batch calls, want 4", n)
	}
}
