package graph

import (
	"errors"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestListTasks checks Tasks.List and Tasks.ListWithDetails: in order, a
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
	for tk, err := range f.c.Tasks.List(f.ctx, ids) {
		id := ""
		if tk != nil {
			id = tk.ID
		}
		check("List", i, id, err)
		i++
	}
	if n, want := f.counts.Count("POST /$batch"), (len(ids)-1+19)/20; i != len(ids) || n != want {
		t.Errorf("List: %d items in %d $batch calls, want %d in %d", i, n, len(ids), want)
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
