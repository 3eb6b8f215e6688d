package graph

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
)

func TestBatch(t *testing.T) {
	const unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	t.Run("items fail independently, in order", func(t *testing.T) {
		f := newFixture(t, nil)
		ids := f.srv.TaskIDs(f.plan(t))
		reqs := []BatchRequest{
			{Method: "GET", URL: "/planner/tasks/" + ids[0]},
			{Method: "GET", URL: "/planner/tasks/" + unknown},
			{Method: "GET", URL: "/planner/tasks/" + ids[1] + "/details"},
			{ID: "custom", Method: "GET", URL: "/planner/tasks/" + unknown + "/details"},
		}
		res, err := f.c.Batch(f.ctx, reqs)
		if err != nil {
			t.Fatal(err)
		}
		var tk Task
		if res[0].Err != nil || json.Unmarshal(res[0].Body, &tk) != nil || tk.ID != ids[0] {
			t.Errorf("item 0: %+v", res[0])
		}
		if !IsNotFound(res[1].Err) || res[1].Status != 404 || res[1].ID != "2" {
			t.Errorf("item 1: %+v", res[1])
		}
		var d TaskDetails
		if res[2].Err != nil || json.Unmarshal(res[2].Body, &d) != nil || d.ID != ids[1] {
			t.Errorf("item 2: %+v", res[2])
		}
		if !IsNotFound(res[3].Err) || res[3].ID != "custom" {
			t.Errorf("item 3: %+v", res[3])
		}
		if e := res[1].Err.(*Error); e.Method != "GET" || e.Path != "/v1.0/planner/tasks/"+unknown {
			t.Errorf("item error names %s %s", e.Method, e.Path)
		}
		if n := f.counts.Total(); n != 1 {
			t.Errorf("%d HTTP requests, want 1", n)
		}
	})
	t.Run("more than 20 are split", func(t *testing.T) {
		f := newFixture(t, nil)
		ids := f.srv.TaskIDs(f.plan(t))
		var reqs []BatchRequest
		for i := range 45 {
			reqs = append(reqs, BatchRequest{Method: "GET", URL: "/planner/tasks/" + ids[i%len(ids)]})
		}
		res, err := f.c.Batch(f.ctx, reqs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			var tk Task
			if r.Err != nil || json.Unmarshal(r.Body, &tk) != nil || tk.ID != ids[i%len(ids)] || r.ID != fmt.Sprint(i+1) {
				t.Errorf("item %d: %+v", i, r)
			}
		}
		if n := f.counts.Count("POST /$batch"); n != 3 {
			t.Errorf("%d $batch calls, want 3", n)
		}
	})
	t.Run("throttled items are retried alone", func(t *testing.T) {
		f := newFixture(t, nil)
		ids := f.srv.TaskIDs(f.plan(t))
		f.srv.Throttle(graphtest.Throttle{Match: "/details", EveryN: 3, Count: 3, RetryAfter: "1.5"})
		got, err := collect(t, f.c.Tasks.ListDetails(f.ctx, ids))
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range got {
			if d.ID != ids[i] {
				t.Errorf("details %d = %s, want %s", i, d.ID, ids[i])
			}
		}
		if len(got) != len(ids) {
			t.Errorf("%d details, want %d", len(got), len(ids))
		}
		// The first $batch (10 items) has 3 throttled; the second carries only them.
		var sub []int
		n := -1
		for _, r := range f.srv.Requests() {
			if !r.InBatch {
				n++
				sub = append(sub, 0)
				continue
			}
			sub[n]++
		}
		if len(sub) != 2 || sub[0] != len(ids) || sub[1] != 3 {
			t.Errorf("sub-requests per $batch %v, want [%d 3]", sub, len(ids))
		}
		if ds := f.sleeps.all(); len(ds) != 1 || ds[0] != 1500*time.Millisecond {
			t.Errorf("waits %v, want [1.5s]", ds)
		}
	})
	t.Run("dependsOn passes through", func(t *testing.T) {
		f := newFixture(t, nil)
		tk := f.task(t)
		reqs := []BatchRequest{
			{ID: "a", Method: "GET", URL: "/planner/tasks/" + unknown},
			{ID: "b", Method: "GET", URL: "/planner/tasks/" + tk.ID, DependsOn: []string{"a"}},
			{ID: "c", Method: "PATCH", URL: "/planner/tasks/" + tk.ID, Headers: map[string]string{"If-Match": tk.ETag, "Prefer": "return=representation"},
				Body: map[string]any{"title": "batched"}},
			{ID: "d", Method: "GET", URL: "/planner/tasks/" + tk.ID, DependsOn: []string{"c"}},
		}
		res, err := f.c.Batch(f.ctx, reqs)
		if err != nil {
			t.Fatal(err)
		}
		if res[1].Status != 424 || res[1].Err == nil {
			t.Errorf("b: %+v", res[1])
		}
		var got Task
		if res[3].Err != nil || json.Unmarshal(res[3].Body, &got) != nil || got.Title != "batched" {
			t.Errorf("d: %+v (%s)", res[3], res[3].Body)
		}
		if res[2].Status != 200 {
			t.Errorf("c: %+v", res[2])
		}
	})
	t.Run("throttled dependency is retried with its dependents", func(t *testing.T) {
		f := newFixture(t, nil)
		tk := f.task(t)
		f.srv.Throttle(graphtest.Throttle{Match: "/details", EveryN: 1, Count: 1, RetryAfter: "0"})
		reqs := []BatchRequest{
			{ID: "a", Method: "GET", URL: "/planner/tasks/" + tk.ID + "/details"},
			{ID: "b", Method: "GET", URL: "/planner/tasks/" + tk.ID, DependsOn: []string{"a"}},
		}
		res, err := f.c.Batch(f.ctx, reqs)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[1].Err != nil {
			t.Errorf("responses %+v", res)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		f := newFixture(t, nil)
		if _, err := f.c.Batch(f.ctx, []BatchRequest{{ID: "x", URL: "/me"}, {ID: "X", URL: "/me"}}); err == nil {
			t.Error("duplicate ids accepted")
		}
		if _, err := f.c.Batch(f.ctx, []BatchRequest{{ID: "x", URL: "/me", DependsOn: []string{"nope"}}}); err == nil {
			t.Error("unknown dependency accepted")
		}
		var chain []BatchRequest
		for i := range 21 {
			r := BatchRequest{ID: fmt.Sprint(i), URL: "/me"}
			if i > 0 {
				r.DependsOn = []string{fmt.Sprint(i - 1)}
			}
			chain = append(chain, r)
		}
		if _, err := f.c.Batch(f.ctx, chain); err == nil {
			t.Error("a dependency chain of 21 accepted")
		}
		if res, err := f.c.Batch(f.ctx, nil); res != nil || err != nil {
			t.Error("empty batch")
		}
		if f.counts.Total() != 0 {
			t.Errorf("%d requests sent for invalid batches", f.counts.Total())
		}
	})
}

func TestListDetails(t *testing.T) {
	f := newFixture(t, []graphtest.Option{graphtest.WithGenerated(graphtest.GenSpec{Seed: 5, Plans: 3, TasksPerPlan: 30})})
	var ids []string
	for _, p := range f.srv.PlanIDs() {
		ids = append(ids, f.srv.TaskIDs(p)...)
	}
	ids = append(ids[:45], append([]string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, ids[45:]...)...) // an unknown id in the middle
	i, failed := 0, 0
	for d, err := range f.c.Tasks.ListDetails(f.ctx, ids) {
		switch {
		case err != nil:
			failed++
			if d != nil || !IsNotFound(err) || i != 45 {
				t.Errorf("item %d: %v, %v", i, d, err)
			}
		case d.ID != ids[i]:
			t.Errorf("item %d = %s, want %s", i, d.ID, ids[i])
		}
		i++
	}
	if i != len(ids) || failed != 1 {
		t.Errorf("%d items (%d failed), want %d (1 failed)", i, failed, len(ids))
	}
	if n, want := f.counts.Count("POST /$batch"), (len(ids)+19)/20; n != want {
		t.Errorf("%d $batch calls, want %d", n, want)
	}

	// Plan details, and breaking out early stops the remaining calls.
	f.counts.Reset()
	plans := f.srv.PlanIDs()
	got, err := collect(t, f.c.Plans.ListDetails(f.ctx, plans))
	if err != nil || len(got) != len(plans) || got[2].ID != plans[2] {
		t.Fatalf("plan details %v, %v", got, err)
	}
	f.counts.Reset()
	f.c.maxConc = 1 // one call in flight: the window is one batch
	for range f.c.Tasks.ListDetails(f.ctx, ids) {
		break
	}
	if n := f.counts.Count("POST /$batch"); n > 2 {
		t.Errorf("%d $batch calls after breaking on the first item", n)
	}
}

// TestFidelity10BatchDependsOn: the client never sends a $batch Graph
// refuses (the emulator refuses them as the service does): a chain given
// in any order goes in dependency order in one fully sequential call; a
// request several depend on goes in its own call before them (fully
// parallel calls, level by level), and when it fails they answer 424
// unsent; a cycle is refused before anything is sent.
func TestFidelity10BatchDependsOn(t *testing.T) {
	f := newFixture(t, nil)
	tk := f.task(t)
	const unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	get := func(id string, deps ...string) BatchRequest {
		return BatchRequest{ID: id, Method: "GET", URL: "/planner/tasks/" + tk.ID, DependsOn: deps}
	}
	bad := func(id string, deps ...string) BatchRequest {
		return BatchRequest{ID: id, Method: "GET", URL: "/planner/tasks/" + unknown, DependsOn: deps}
	}
	tests := []struct {
		name   string
		reqs   []BatchRequest
		calls  int
		status map[string]int
	}{
		{"a chain in order", []BatchRequest{get("a"), get("b", "a"), get("c", "b")}, 1, map[string]int{"a": 200, "b": 200, "c": 200}},
		{"a chain backwards", []BatchRequest{get("c", "b"), get("b", "a"), get("a")}, 1, map[string]int{"a": 200, "b": 200, "c": 200}},
		{"a chain depending on more than its predecessor", []BatchRequest{get("a"), get("b", "a"), get("c", "a", "b")}, 1, map[string]int{"a": 200, "b": 200, "c": 200}},
		{"one request several depend on", []BatchRequest{get("a"), get("b", "a"), get("c", "a")}, 2, map[string]int{"a": 200, "b": 200, "c": 200}},
		{"a diamond", []BatchRequest{get("d", "b", "c"), get("b", "a"), get("c", "a"), get("a")}, 3, map[string]int{"a": 200, "b": 200, "c": 200, "d": 200}},
		{"a failed root", []BatchRequest{bad("a"), get("b", "a"), get("c", "a"), get("d", "b")}, 1, map[string]int{"a": 404, "b": 424, "c": 424, "d": 424}},
		{"independent requests beside a chain", []BatchRequest{get("x"), get("a"), get("b", "a"), get("y")}, 2, map[string]int{"x": 200, "y": 200, "a": 200, "b": 200}},
	}
	for _, tc := range tests {
		f.srv.ResetRequests()
		f.counts.Reset()
		res, err := f.c.Batch(f.ctx, tc.reqs)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		for i, r := range res {
			if r.ID != tc.reqs[i].ID || r.Status != tc.status[r.ID] || (r.Status >= 300) != (r.Err != nil) {
				t.Errorf("%s: response %d = %s %d %v, want %s %d", tc.name, i, r.ID, r.Status, r.Err, tc.reqs[i].ID, tc.status[tc.reqs[i].ID])
			}
		}
		if n := f.counts.Count("POST /$batch"); n != tc.calls {
			t.Errorf("%s: %d $batch calls, want %d", tc.name, n, tc.calls)
		}
		sent := 0
		for _, r := range f.srv.Requests() {
			if r.InBatch {
				sent++
			}
		}
		// A request whose dependency failed is not sent.
		if want := len(tc.reqs) - countStatus(tc.status, 424); sent != want {
			t.Errorf("%s: %d requests reached the service, want %d", tc.name, sent, want)
		}
	}
	f.counts.Reset()
	if _, err := f.c.Batch(f.ctx, []BatchRequest{get("a", "c"), get("b", "a"), get("c", "b"), get("x")}); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("a cycle: %v", err)
	}
	if _, err := f.c.Batch(f.ctx, []BatchRequest{get("a", "a")}); err == nil {
		t.Error("a request depending on itself was accepted")
	}
	if n := f.counts.Total(); n != 0 {
		t.Errorf("%d requests sent for refused batches", n)
	}
}

func countStatus(m map[string]int, status int) int {
	n := 0
	for _, s := range m {
		if s == status {
			n++
		}
	}
	return n
}
