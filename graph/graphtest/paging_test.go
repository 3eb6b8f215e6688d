package graphtest

import (
	"net/url"
	"strings"
	"testing"
)

func pagedServer(t *testing.T) (*Server, *client, string) {
	t.Helper()
	s := NewServer(t, WithGenerated(GenSpec{Seed: 7, Plans: 1, TasksPerPlan: 1000}))
	c := newClient(t, s, s.Token())
	return s, c, s.PlanIDs()[0]
}

func TestPagingFollowsNextLinks(t *testing.T) {
	s, c, pid := pagedServer(t)
	path := "/planner/plans/" + pid + "/tasks?$select=title&$top=5"
	first := c.get(path)
	next := str(first, "@odata.nextLink")
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, s.GraphURL()+"/planner/plans/"+pid+"/tasks?") {
		t.Fatalf("nextLink %q is not an absolute URL of the list (%v)", next, err)
	}
	if !strings.Contains(u.RawQuery, "$skiptoken=") || !strings.Contains(u.RawQuery, "$select=title") {
		t.Errorf("nextLink query %q should keep the options and carry $skiptoken", u.RawQuery)
	}
	if n := len(first["value"].([]any)); n != 400 {
		t.Errorf("first page has %d items, want 400 ($top is ignored)", n)
	}
	items, pages := c.list(path)
	if pages != 3 || len(items) != 1000 {
		t.Fatalf("%d items in %d pages, want 1000 in 3", len(items), pages)
	}
	seen := map[string]bool{}
	for _, it := range items {
		id := str(it, "id")
		if seen[id] {
			t.Fatalf("duplicate task %s", id)
		}
		seen[id] = true
	}
	for _, id := range s.TaskIDs(pid) {
		if !seen[id] {
			t.Fatalf("task %s missing from the pages", id)
		}
	}
	// The page size is configurable at run time.
	s.SetPageSize(300)
	if _, pages := c.list(path); pages != 4 {
		t.Errorf("page size 300: %d pages, want 4", pages)
	}
	s.SetPageSize(0)
	if _, pages := c.list(path); pages != 3 {
		t.Errorf("page size reset: %d pages, want 3", pages)
	}
}

func TestPagingTokens(t *testing.T) {
	s, c, pid := pagedServer(t)
	first := c.get("/planner/plans/" + pid + "/tasks")
	next := str(first, "@odata.nextLink")
	u, _ := url.Parse(next)
	tok := u.Query().Get("$skiptoken")
	for name, path := range map[string]string{
		"tampered":   "/planner/plans/" + pid + "/tasks?$skiptoken=" + strings.ToUpper(tok[:4]) + tok[4:] + "x",
		"garbage":    "/planner/plans/" + pid + "/tasks?$skiptoken=abc",
		"other list": "/planner/plans/" + pid + "/buckets?$skiptoken=" + tok,
	} {
		r := c.do("GET", path, nil)
		if r.status != 400 {
			t.Errorf("%s skiptoken: %d", name, r.status)
		}
	}
	// Changes between pages: a deleted task is not returned, a new one is,
	// and nothing is duplicated.
	ids := s.TaskIDs(pid)
	var late string
	firstPage := map[string]bool{}
	for _, v := range first["value"].([]any) {
		firstPage[str(v.(map[string]any), "id")] = true
	}
	for _, id := range ids {
		if !firstPage[id] {
			late = id
			break
		}
	}
	lt := c.get("/planner/tasks/" + late)
	c.must(204, "DELETE", "/planner/tasks/"+late, nil, "If-Match", etagOf(lt))
	created := newTask(t, c, pid, nil)
	seen := map[string]bool{}
	for id := range firstPage {
		seen[id] = true
	}
	for next != "" {
		m := c.get(next)
		for _, v := range m["value"].([]any) {
			id := str(v.(map[string]any), "id")
			if seen[id] {
				t.Fatalf("task %s returned twice", id)
			}
			seen[id] = true
		}
		next = str(m, "@odata.nextLink")
	}
	if seen[late] || !seen[str(created, "id")] || len(seen) != 1000 {
		t.Errorf("deleted seen %v, created seen %v, total %d", seen[late], seen[str(created, "id")], len(seen))
	}
}

func TestEmptyPages(t *testing.T) {
	s, c, pid := pagedServer(t)
	s.EmptyPages(true)
	var sizes []int
	next := "/planner/plans/" + pid + "/tasks"
	total := 0
	for next != "" {
		m := c.get(next)
		n := len(m["value"].([]any))
		sizes = append(sizes, n)
		total += n
		next = str(m, "@odata.nextLink")
	}
	if total != 1000 || len(sizes) != 4 || sizes[1] != 0 || sizes[0] == 0 || sizes[3] == 0 {
		t.Errorf("page sizes %v (total %d): want an empty page in the middle", sizes, total)
	}
	// A one-page list gets an empty page after it.
	buckets, pages := c.list("/planner/plans/" + pid + "/buckets")
	if len(buckets) != 4 || pages != 2 {
		t.Errorf("buckets: %d in %d pages", len(buckets), pages)
	}
	s.EmptyPages(false)
	if _, pages := c.list("/planner/plans/" + pid + "/buckets"); pages != 1 {
		t.Errorf("EmptyPages(false): %d pages", pages)
	}
	s.EmptyPages(true)
	s.ClearFaults()
	if _, pages := c.list("/planner/plans/" + pid + "/buckets"); pages != 1 {
		t.Errorf("ClearFaults leaves EmptyPages on: %d pages", pages)
	}
}

func TestBucketTasksPaging(t *testing.T) {
	s, c, pid := pagedServer(t)
	s.SetPageSize(50)
	total := 0
	for _, bid := range s.BucketIDs(pid) {
		items, pages := c.list("/planner/buckets/" + bid + "/tasks")
		for _, it := range items {
			if it["bucketId"] != bid {
				t.Fatalf("bucket list returned a task of bucket %v", it["bucketId"])
			}
		}
		if want := (len(items) + 49) / 50; pages != want && !(len(items) == 0 && pages == 1) {
			t.Errorf("bucket %s: %d items in %d pages", bid, len(items), pages)
		}
		total += len(items)
	}
	if total != 1000 {
		t.Errorf("bucket lists hold %d tasks, want 1000", total)
	}
}
