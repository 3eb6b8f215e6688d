package graphtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fetchAll GETs path through the handler (fixed Host) following nextLinks and
// returns the concatenated bodies.
func fetchAll(t *testing.T, s *Server, token, path string) []byte {
	t.Helper()
	var out []byte
	for path != "" {
		req := httptest.NewRequest("GET", "http://graph.test/v1.0"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body.Bytes())
		}
		body := w.Body.Bytes()
		out = append(out, body...)
		var m struct {
			Next string `json:"@odata.nextLink"`
		}
		_ = json.Unmarshal(body, &m)
		path = strings.TrimPrefix(m.Next, "http://graph.test/v1.0")
	}
	return out
}

// snapshot renders the whole tenant through the API.
func snapshot(t *testing.T, s *Server) []byte {
	t.Helper()
	tok := s.AppToken()
	var out bytes.Buffer
	out.Write(fetchAll(t, s, s.Token(), "/me"))
	out.Write(fetchAll(t, s, s.Token(), "/me/memberOf"))
	out.Write(fetchAll(t, s, tok, "/groups"))
	out.Write(fetchAll(t, s, tok, "/users"))
	for _, gid := range s.GroupIDs() {
		out.Write(fetchAll(t, s, tok, "/groups/"+gid+"/planner/plans"))
	}
	for _, pid := range s.PlanIDs() {
		out.Write(fetchAll(t, s, tok, "/planner/plans/"+pid+"/details"))
		out.Write(fetchAll(t, s, tok, "/planner/plans/"+pid+"/buckets"))
		out.Write(fetchAll(t, s, tok, "/planner/plans/"+pid+"/tasks"))
		for _, tid := range s.TaskIDs(pid) {
			out.Write(fetchAll(t, s, tok, "/planner/tasks/"+tid+"/details"))
			out.Write(fetchAll(t, s, tok, "/planner/tasks/"+tid+"/assignedToTaskBoardFormat"))
		}
	}
	return out.Bytes()
}

func TestGeneratorIsDeterministic(t *testing.T) {
	spec := GenSpec{Seed: 42, Plans: 3, TasksPerPlan: 60, Awkward: true, HiddenPlans: 1}
	a, err := New(WithGenerated(spec))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(WithGenerated(spec))
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := snapshot(t, a), snapshot(t, b)
	if !bytes.Equal(sa, sb) {
		i := 0
		for i < len(sa) && i < len(sb) && sa[i] == sb[i] {
			i++
		}
		t.Fatalf("same seed, different responses at byte %d: %.80q vs %.80q", i, sa[i:], sb[i:])
	}
	if len(sa) < 100000 {
		t.Errorf("snapshot is only %d bytes", len(sa))
	}
	if a.TenantID() != b.TenantID() || a.ClientID() != b.ClientID() || a.Me().ID != b.Me().ID {
		t.Error("tenant, client and user ids differ for the same seed")
	}
	// Objects created through the API get the same ids too.
	ha, hb := httptest.NewServer(a.Handler()), httptest.NewServer(b.Handler())
	defer ha.Close()
	defer hb.Close()
	a.setURL(ha.URL)
	b.setURL(hb.URL)
	ta := newTask(t, newClient(t, a, a.AppToken()), a.PlanIDs()[0], nil)
	tb := newTask(t, newClient(t, b, b.AppToken()), b.PlanIDs()[0], nil)
	if ta["id"] != tb["id"] {
		t.Errorf("created task ids differ: %v %v", ta["id"], tb["id"])
	}
	other, _ := New(WithGenerated(GenSpec{Seed: 43, Plans: 3, TasksPerPlan: 60, Awkward: true}))
	if other.PlanIDs()[0] == a.PlanIDs()[0] || other.TenantID() == a.TenantID() {
		t.Error("a different seed gives the same ids")
	}
	// The demo tenant is fixed as well.
	d1, _ := New()
	d2, _ := New(WithDemoTenant())
	if !bytes.Equal(snapshot(t, d1), snapshot(t, d2)) {
		t.Error("the demo tenant differs between two servers")
	}
}

func TestGeneratedTenantShape(t *testing.T) {
	spec := GenSpec{Seed: 3, Plans: 10, TasksPerPlan: 1000, Awkward: true, HiddenPlans: 1, Groups: 12}
	// Generation speed is BenchmarkGenerate's; a test never times it.
	s, err := New(WithGenerated(spec))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.PlanIDs()); got != 11 { // + the awkward empty plan
		t.Errorf("%d plans, want 11", got)
	}
	if got := s.TaskCount(); got != 10000 {
		t.Errorf("%d tasks, want 10000", got)
	}
	groups := s.Groups()
	unified, security := 0, 0
	for _, g := range groups {
		if g.Unified {
			unified++
		} else {
			security++
		}
	}
	if unified != 12 || security != 2 {
		t.Errorf("%d Unified and %d security groups", unified, security)
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	st := struct {
		unassigned, completed, noBucket, meAssigned, withDesc, maxCheck, maxRefs, longDesc, awkward, cat25 int
		emptyPlans, emptyBuckets, hiddenPlans                                                              int
	}{}
	awk := map[string]bool{}
	for _, a := range awkwardTitles {
		awk[a] = true
	}
	for _, p := range s.planList {
		if len(p.tasks) == 0 {
			st.emptyPlans++
		}
		if !p.group.members[s.me.id] {
			st.hiddenPlans++
		}
		for _, b := range p.buckets {
			n := 0
			for _, t := range p.tasks {
				if t.bucket == b {
					n++
				}
			}
			if n == 0 {
				st.emptyBuckets++
			}
		}
		for _, tk := range p.tasks {
			if len(tk.assignments) == 0 {
				st.unassigned++
			}
			if tk.assigned(s.me.id) {
				st.meAssigned++
			}
			if tk.percent == 100 {
				st.completed++
				if tk.completed.isNull() || tk.completedBy.empty() {
					t.Fatalf("completed task without completion fields")
				}
			}
			if tk.bucket == nil {
				st.noBucket++
			}
			if tk.hasDescription() {
				st.withDesc++
			}
			if len(tk.description) >= 32*1024-4 {
				st.longDesc++
			}
			if awk[tk.title] {
				st.awkward++
			}
			if tk.categories&(1<<24) != 0 {
				st.cat25++
			}
			st.maxCheck = max(st.maxCheck, len(tk.checklist))
			st.maxRefs = max(st.maxRefs, len(tk.references))
			if !tk.start.isNull() && !tk.due.isNull() && tk.due.before(tk.start) {
				t.Fatalf("task %q starts after it is due", tk.title)
			}
			for _, r := range tk.references {
				if !validReferenceKey(r.key) {
					t.Fatalf("generated reference key %q is not valid", r.key)
				}
			}
			if !utf8.ValidString(tk.title) || !utf8.ValidString(tk.description) {
				t.Fatalf("invalid UTF-8 in task %q", tk.title)
			}
		}
	}
	checks := []struct {
		name    string
		got     int
		min, mx int
	}{
		{"unassigned tasks", st.unassigned, 1000, 3000},
		{"completed tasks", st.completed, 1500, 3500},
		{"tasks with no bucket", st.noBucket, 50, 500},
		{"tasks assigned to Me", st.meAssigned, 1000, 5000},
		{"tasks with a description", st.withDesc, 4000, 7000},
		{"largest checklist", st.maxCheck, 20, 20},
		{"most references", st.maxRefs, 15, 15},
		{"32 KB descriptions", st.longDesc, 1, 1},
		{"awkward titles", st.awkward, 100, 1000},
		{"tasks labelled category25", st.cat25, 100, 2000},
		{"empty plans", st.emptyPlans, 1, 1},
		{"empty buckets", st.emptyBuckets, 1, 3},
		{"plans hidden from Me", st.hiddenPlans, 1, 1},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.mx {
			t.Errorf("%s: %d, want %d..%d", c.name, c.got, c.min, c.mx)
		}
	}
}

func TestGeneratedAwkwardDataRoundTrips(t *testing.T) {
	s := NewServer(t, WithGenerated(GenSpec{Seed: 5, Plans: 3, TasksPerPlan: 120, Awkward: true}))
	c := newClient(t, s, s.AppToken())
	titles := map[string]bool{}
	for _, pid := range s.PlanIDs() {
		items, _ := c.list("/planner/plans/" + pid + "/tasks")
		for _, it := range items {
			titles[str(it, "title")] = true
		}
		p := c.get("/planner/plans/" + pid)
		titles[str(p, "title")] = true
	}
	for _, want := range []string{`Review "Q3" numbers — O'Brien's notes`, "🚀 Launch day checklist 🎉", "Robert'); DROP TABLE Tasks;--", `Marketing "Big Bets" 2026 🚀`, "خطة المشروع — Project plan"} {
		if !titles[want] {
			t.Errorf("title %q did not round-trip through JSON", want)
		}
	}
	// The first task of the first plan carries the extremes.
	s.mu.RLock()
	first := s.planList[0].tasks[0].id
	s.mu.RUnlock()
	d := c.get("/planner/tasks/" + first + "/details")
	if n := len(str(d, "description")); n < 32*1024-4 {
		t.Errorf("long description is %d bytes", n)
	}
	if len(d["checklist"].(map[string]any)) != 20 || len(d["references"].(map[string]any)) != 15 {
		t.Errorf("extreme task has %d checklist items, %d references", len(d["checklist"].(map[string]any)), len(d["references"].(map[string]any)))
	}
	for k := range d["references"].(map[string]any) {
		if strings.ContainsAny(k, ".:@#") {
			t.Errorf("reference key %q is not encoded", k)
		}
	}
}

func TestDemoTenant(t *testing.T) {
	s, c := demo(t)
	if s.TaskCount() != 53 || len(s.PlanIDs()) != 5 {
		t.Errorf("demo: %d tasks, %d plans", s.TaskCount(), len(s.PlanIDs()))
	}
	var titles []string
	myGroups := 0
	for _, g := range s.Groups() {
		if !g.Unified || !contains(g.Members, s.Me().ID) {
			continue
		}
		myGroups++
		plans, _ := c.list("/groups/" + g.ID + "/planner/plans")
		for _, p := range plans {
			titles = append(titles, str(p, "title"))
		}
	}
	if myGroups != 3 || len(titles) != 4 {
		t.Errorf("Me reaches %d groups and plans %v", myGroups, titles)
	}
	if s.Me().DisplayName != "Adele Vance" || !strings.HasSuffix(s.Me().UserPrincipalName, "@"+s.Domain()) {
		t.Errorf("Me = %+v", s.Me())
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, opts := range map[string][]Option{
		"negative tasks":      {WithGenerated(GenSpec{Plans: 1, TasksPerPlan: -1})},
		"hidden beyond plans": {WithGenerated(GenSpec{Plans: 1, HiddenPlans: 2})},
		"zero page size":      {WithPageSize(0)},
		"negative TTL":        {WithTokenTTL(-time.Second)},
	} {
		if _, err := New(opts...); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func TestGenerateLarge(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("large tenant: run without -short and -race")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// Generation speed is BenchmarkGenerate's; a test never times it.
	s, err := New(WithGenerated(GenSpec{Seed: 1, Plans: 100, TasksPerPlan: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	t.Logf("100 plans x 1,000 tasks: %.0f MB heap", heap)
	if heap > 400 {
		t.Errorf("tenant uses %.0f MB of heap", heap)
	}
	if s.TaskCount() != 100000 {
		t.Errorf("%d tasks", s.TaskCount())
	}
	req := httptest.NewRequest("GET", "http://graph.test/v1.0/planner/plans/"+s.PlanIDs()[0]+"/tasks", nil)
	req.Header.Set("Authorization", "Bearer "+s.AppToken())
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("list: %d", w.Code)
	}
	runtime.KeepAlive(s)
}

func BenchmarkGenerate100x1000(b *testing.B) {
	b.ReportAllocs()
	var heap float64
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := New(WithGenerated(GenSpec{Seed: int64(i), Plans: 100, TasksPerPlan: 1000}))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(100000*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	b.ReportMetric(heap, "heapMB")
}

func BenchmarkListTasksPage(b *testing.B) {
	s, err := New(WithGenerated(GenSpec{Seed: 1, Plans: 1, TasksPerPlan: 2000}))
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	tok := s.AppToken()
	path := "http://graph.test/v1.0/planner/plans/" + s.PlanIDs()[0] + "/tasks"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		_, _ = io.Copy(io.Discard, w.Body)
	}
	b.ReportMetric(400*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

func BenchmarkBatchDetails(b *testing.B) {
	s, err := New(WithGenerated(GenSpec{Seed: 1, Plans: 1, TasksPerPlan: 20}))
	if err != nil {
		b.Fatal(err)
	}
	var reqs []map[string]any
	for i, id := range s.TaskIDs(s.PlanIDs()[0]) {
		reqs = append(reqs, map[string]any{"id": string(rune('a' + i)), "method": "GET", "url": "/planner/tasks/" + id + "/details"})
	}
	body, _ := json.Marshal(map[string]any{"requests": reqs})
	h := s.Handler()
	tok := s.AppToken()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "http://graph.test/v1.0/$batch", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
	b.ReportMetric(20*float64(b.N)/b.Elapsed().Seconds(), "details/s")
}
