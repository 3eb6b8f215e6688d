package graphtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type batchResp struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// batch posts requests and returns the responses keyed by id, plus their order.
func batch(t *testing.T, c *client, reqs []map[string]any) (map[string]batchResp, []string) {
	t.Helper()
	r := c.do("POST", "/$batch", map[string]any{"requests": reqs})
	if r.status != 200 {
		t.Fatalf("$batch: %d %s", r.status, r.body)
	}
	var out struct {
		Responses []batchResp `json:"responses"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	byID := map[string]batchResp{}
	var order []string
	for _, res := range out.Responses {
		byID[res.ID] = res
		order = append(order, res.ID)
	}
	if len(byID) != len(reqs) {
		t.Fatalf("%d responses for %d requests", len(byID), len(reqs))
	}
	return byID, order
}

func get(id, url string) map[string]any {
	return map[string]any{"id": id, "method": "GET", "url": url}
}

func TestBatchBasics(t *testing.T) {
	s, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	tids := s.TaskIDs(pid)
	reqs := []map[string]any{
		get("1", "/me"),
		get("2", "planner/plans/"+pid), // no leading slash is fine
		get("3", "/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		get("4", "/planner/tasks/"+tids[0]+"/details"),
		get("5", "/planner/plans/"+pid+"/tasks?$top=1"),
	}
	s.ResetRequests()
	res, order := batch(t, c, reqs)
	if strings.Join(order, ",") == "1,2,3,4,5" {
		t.Errorf("responses came back in request order; Graph does not promise that and the emulator must not either")
	}
	want := map[string]int{"1": 200, "2": 200, "3": 404, "4": 200, "5": 200}
	for id, st := range want {
		if res[id].Status != st {
			t.Errorf("item %s: status %d, want %d: %s", id, res[id].Status, st, res[id].Body)
		}
		if !strings.HasPrefix(res[id].Headers["Content-Type"], "application/json") {
			t.Errorf("item %s: headers %v", id, res[id].Headers)
		}
	}
	var plan map[string]any
	_ = json.Unmarshal(res["2"].Body, &plan)
	if plan["id"] != pid {
		t.Errorf("item 2 body = %s", res["2"].Body)
	}
	var list map[string]any
	_ = json.Unmarshal(res["5"].Body, &list)
	if next := str(list, "@odata.nextLink"); next != "" && !strings.HasPrefix(next, s.GraphURL()) {
		t.Errorf("nextLink inside a batch: %q", next)
	}
	if !strings.Contains(string(res["3"].Body), `"code":"itemNotFound"`) {
		t.Errorf("item 3 body = %s", res["3"].Body)
	}
	// The request log has the envelope and each sub-request.
	if s.RequestCount() != 1 || s.Count("POST /$batch") != 1 || s.Count("GET /planner/tasks/{id}/details") != 1 || s.Count("GET /me") != 1 {
		t.Errorf("log: top-level %d, batch %d, details %d, me %d", s.RequestCount(), s.Count("POST /$batch"), s.Count("GET /planner/tasks/{id}/details"), s.Count("GET /me"))
	}
	inBatch := 0
	for _, r := range s.Requests() {
		if r.InBatch {
			inBatch++
		}
	}
	if inBatch != 5 {
		t.Errorf("%d logged sub-requests", inBatch)
	}
}

func TestBatchRejectsMalformedBatches(t *testing.T) {
	_, c := demo(t)
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = get(fmt.Sprint(i), "/me")
	}
	cases := map[string]any{
		"21 requests":        map[string]any{"requests": many},
		"duplicate ids":      map[string]any{"requests": []map[string]any{get("a", "/me"), get("A", "/me")}},
		"no requests":        map[string]any{"requests": []map[string]any{}},
		"missing requests":   map[string]any{},
		"body without type":  map[string]any{"requests": []map[string]any{{"id": "1", "method": "PATCH", "url": "/me", "body": map[string]any{}}}},
		"write without body": map[string]any{"requests": []map[string]any{{"id": "1", "method": "POST", "url": "/planner/tasks", "headers": map[string]any{"Content-Type": "application/json"}}}},
		"unknown dependency": map[string]any{"requests": []map[string]any{get("1", "/me"), {"id": "2", "method": "GET", "url": "/me", "dependsOn": []string{"9"}}}},
		"cycle": map[string]any{"requests": []map[string]any{
			{"id": "1", "method": "GET", "url": "/me", "dependsOn": []string{"2"}},
			{"id": "2", "method": "GET", "url": "/me", "dependsOn": []string{"1"}},
		}},
		"not JSON": "{",
	}
	for name, body := range cases {
		r := c.do("POST", "/$batch", body)
		if r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := c.do("GET", "/$batch", nil); r.status != 405 {
		t.Errorf("GET $batch: %d", r.status)
	}
	r := newClient(t, c.s, "").do("POST", "/$batch", map[string]any{"requests": []map[string]any{get("1", "/me")}})
	if r.status != 401 {
		t.Errorf("unauthenticated batch: %d", r.status)
	}
}

func TestBatchWritesAndDependsOn(t *testing.T) {
	s, c := demo(t)
	pid := str(newPlan(t, c, "Batch"), "id")
	task := newTask(t, c, pid, nil)
	tid := str(task, "id")
	details := c.get("/planner/tasks/" + tid + "/details")
	ct := map[string]any{"Content-Type": "application/json"}
	hdr := func(kv ...string) map[string]any {
		m := map[string]any{"Content-Type": "application/json"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	reqs := []map[string]any{
		{"id": "patch", "method": "PATCH", "url": "/planner/tasks/" + tid, "headers": hdr("If-Match", etagOf(task), "Prefer", "return=representation"), "body": map[string]any{"title": "from batch"}},
		{"id": "details", "method": "PATCH", "url": "/planner/tasks/" + tid + "/details", "headers": hdr("If-Match", etagOf(details)), "body": map[string]any{"description": "x"}, "dependsOn": []string{"patch"}},
		{"id": "stale", "method": "PATCH", "url": "/planner/tasks/" + tid, "headers": hdr("If-Match", etagOf(task)), "body": map[string]any{"title": "stale"}, "dependsOn": []string{"details"}},
		{"id": "after-stale", "method": "GET", "url": "/planner/tasks/" + tid, "dependsOn": []string{"stale"}},
		{"id": "after-after", "method": "GET", "url": "/me", "dependsOn": []string{"after-stale"}},
	}
	s.ResetRequests()
	res, _ := batch(t, c, reqs)
	// A batch is fully sequential or fully parallel: the creates go in another.
	parallel, _ := batch(t, c, []map[string]any{
		{"id": "create", "method": "POST", "url": "/planner/tasks", "headers": ct, "body": map[string]any{"planId": pid, "title": "made in a batch"}},
		// A body may also be base64.
		{"id": "b64", "method": "POST", "url": "/planner/buckets", "headers": ct, "body": base64.StdEncoding.EncodeToString([]byte(`{"name":"b64","planId":"` + pid + `"}`))},
	})
	res["create"], res["b64"] = parallel["create"], parallel["b64"]
	want := map[string]int{"patch": 200, "details": 204, "stale": 409, "after-stale": 424, "after-after": 424, "create": 201, "b64": 201}
	for id, st := range want {
		if res[id].Status != st {
			t.Errorf("%s: status %d, want %d: %s", id, res[id].Status, st, res[id].Body)
		}
	}
	if !strings.Contains(string(res["patch"].Body), `"title":"from batch"`) || res["patch"].Headers["Preference-Applied"] != "return=representation" {
		t.Errorf("patch body %s headers %v", res["patch"].Body, res["patch"].Headers)
	}
	if len(res["details"].Body) != 0 {
		t.Errorf("a 204 item has a body: %s", res["details"].Body)
	}
	// dependsOn runs in order: patch, details, stale.
	var seq []string
	for _, r := range s.Requests() {
		if r.InBatch && r.Method == "PATCH" {
			seq = append(seq, fmt.Sprint(r.Status))
		}
	}
	if strings.Join(seq, ",") != "200,204,409" {
		t.Errorf("PATCH order by status: %v", seq)
	}
	if got := c.get("/planner/tasks/" + tid); got["title"] != "from batch" {
		t.Errorf("title = %v", got["title"])
	}
}

func TestBatchThrottlesItems(t *testing.T) {
	s, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	var reqs []map[string]any
	for i, tid := range s.TaskIDs(pid)[:10] {
		reqs = append(reqs, get(fmt.Sprint(i), "/planner/tasks/"+tid+"/details"))
	}
	s.Throttle(Throttle{Match: "/details", EveryN: 2, RetryAfter: "3"})
	res, _ := batch(t, c, reqs)
	throttled := 0
	for _, r := range res {
		switch r.Status {
		case 429:
			throttled++
			if r.Headers["Retry-After"] != "3" {
				t.Errorf("throttled item without its Retry-After: %v", r.Headers)
			}
			if !strings.Contains(string(r.Body), "TooManyRequests") {
				t.Errorf("throttled body %s", r.Body)
			}
		case 200:
		default:
			t.Errorf("item %s: %d", r.ID, r.Status)
		}
	}
	if throttled != 5 {
		t.Errorf("%d of 10 items throttled, want 5", throttled)
	}
	// A rule that names $batch throttles the envelope itself.
	s.ClearFaults()
	s.Throttle(Throttle{Match: "$batch", EveryN: 1, Count: 1, RetryAfter: "1"})
	r := c.do("POST", "/$batch", map[string]any{"requests": reqs[:1]})
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("envelope throttle: %d %v", r.status, r.header)
	}
	res, _ = batch(t, c, reqs[:1])
	if res["0"].Status != 200 {
		t.Errorf("after Count ran out: %d", res["0"].Status)
	}
	// FailNext applies to sub-requests as well.
	s.FailNext(1, 503, "/details")
	res, _ = batch(t, c, reqs[:2])
	if res["0"].Status+res["1"].Status != 503+200 {
		t.Errorf("FailNext in a batch: %d %d", res["0"].Status, res["1"].Status)
	}
}
