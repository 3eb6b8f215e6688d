package replicate

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	_ "github.com/plannersql/planner/driver" // registers "planner"
	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/schema"
)

// graphClient sends raw Graph requests to the emulator, the way another
// Planner user would change the tenant between two replication runs.
type graphClient struct {
	t   testing.TB
	srv *graphtest.Server
}

// do sends one request; PATCH and DELETE first read the object's ETag.
func (g graphClient) do(method, path string, body any) map[string]any {
	g.t.Helper()
	etag := ""
	if method == http.MethodPatch || method == http.MethodDelete {
		etag, _ = g.do(http.MethodGet, path, nil)["@odata.etag"].(string)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			g.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.srv.GraphURL()+path, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.srv.Token())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if etag != "" {
		req.Header.Set("If-Match", etag)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		g.t.Fatalf("%s %s: %s: %s", method, path, res.Status, data)
	}
	out := map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			g.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return out
}

// plannerSource opens the planner driver on the emulator.
func plannerSource(t testing.TB, srv *graphtest.Server) *sql.DB {
	t.Helper()
	db, err := sql.Open("planner", fmt.Sprintf("GraphURL=%s;OAuthAccessToken=%s;InitiateOAuth=OFF", srv.GraphURL(), srv.Token()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// replicatedTables are the planner tables REPLICATE ALL copies.
func replicatedTables() []*schema.Table {
	var out []*schema.Table
	for _, tb := range schema.All() {
		if !strings.HasPrefix(tb.Name, "sys_") {
			out = append(out, tb)
		}
	}
	return out
}

// assertTableSame compares a planner table with its copy, row by row and
// value by value.
func assertTableSame(t testing.TB, src, dst *sql.DB, kind string, tb *schema.Table) {
	t.Helper()
	types := make([]schema.Type, len(tb.Columns))
	srcCols := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		types[i] = c.Type
		srcCols[i] = schema.QuoteIdent(c.Name)
	}
	want := readCanon(t, src, kind, "SELECT "+strings.Join(srcCols, ", ")+" FROM "+schema.QuoteIdent(tb.Name), types)
	got := readCanon(t, dst, kind, "SELECT "+colsFor(kind, strings.Join(tb.ColumnNames(), ","))+" FROM "+quoteFor(kind, tb.Name), types)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("destination %s differs from the planner source (-source +destination):\n%s", tb.Name, diff)
	}
}

// TestPlannerEndToEnd replicates every planner table from the emulated tenant,
// changes the tenant the way users do (new, edited, moved and deleted tasks,
// checklist and reference edits, renamed buckets, relabelled categories) and
// checks after every run that each destination table equals the source, that
// only changed rows were written, and that an unchanged tenant writes nothing.
func TestPlannerEndToEnd(t *testing.T) {
	forEachDest(t, func(t *testing.T, kind string, dst *sql.DB) {
		srv := graphtest.NewServer(t,
			graphtest.WithGenerated(graphtest.GenSpec{Seed: 42, Plans: 3, TasksPerPlan: 12, BucketsPerPlan: 3, Awkward: true}),
			graphtest.WithPageSize(5))
		src := plannerSource(t, srv)
		g := graphClient{t, srv}
		tables := replicatedTables()

		runAll := func() map[string]Result {
			t.Helper()
			byTable := map[string]Result{}
			for _, r := range run(t, src, dst, "REPLICATE ALL;", Options{}) {
				if r.Err != nil {
					t.Fatalf("%s: %v", r.Table, r.Err)
				}
				byTable[r.Table] = r
			}
			if len(byTable) != len(tables) {
				t.Fatalf("REPLICATE ALL copied %d tables, want %d", len(byTable), len(tables))
			}
			for _, tb := range tables {
				assertTableSame(t, src, dst, kind, tb)
			}
			return byTable
		}
		written := func(r Result) int64 { return r.Inserted + r.Updated + r.Deleted }

		first := runAll()
		if first["Tasks"].Inserted != int64(srv.TaskCount()) {
			t.Fatalf("first run inserted %d tasks, the tenant has %d", first["Tasks"].Inserted, srv.TaskCount())
		}
		for name, r := range runAll() {
			if written(r) != 0 {
				t.Errorf("second run with no change wrote %d rows into %s", written(r), name)
			}
		}

		// Change the tenant.
		plans := srv.PlanIDs()
		plan := plans[0]
		buckets := srv.BucketIDs(plan)
		tasks := srv.TaskIDs(plan)
		slices.Sort(tasks)
		edited, moved, deleted, checked := tasks[0], tasks[1], tasks[2], tasks[3]
		due := time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)
		g.do("PATCH", "/planner/tasks/"+edited, map[string]any{
			"title": `Edited "title" — ✓ עברית`, "percentComplete": 50, "priority": 1,
			"dueDateTime":       due.Format(time.RFC3339),
			"appliedCategories": map[string]any{"category7": true},
		})
		g.do("PATCH", "/planner/tasks/"+moved, map[string]any{"bucketId": buckets[len(buckets)-1]})
		g.do("DELETE", "/planner/tasks/"+deleted, nil)
		created := g.do("POST", "/planner/tasks", map[string]any{"planId": plan, "bucketId": buckets[0], "title": "Brand new task"})
		g.do("PATCH", "/planner/tasks/"+checked+"/details", map[string]any{
			"description": "Now with a description",
			"checklist": map[string]any{
				"4a1c7a3e-0000-4000-8000-000000000001": map[string]any{"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": "Step one", "isChecked": true},
			},
			"references": map[string]any{
				graphtest.EncodeReferenceKey("https://example.com/spec.docx"): map[string]any{"@odata.type": "#microsoft.graph.plannerExternalReference", "alias": "Spec", "type": "Word"},
			},
		})
		g.do("PATCH", "/planner/buckets/"+buckets[0], map[string]any{"name": "Renamed bucket"})
		g.do("PATCH", "/planner/plans/"+plan+"/details", map[string]any{"categoryDescriptions": map[string]any{"category7": "Blocked"}})

		third := runAll()
		tk := third["Tasks"]
		if tk.Inserted != 1 || tk.Deleted != 1 || tk.Updated < 2 {
			t.Errorf("Tasks after the edits: %+v, want 1 inserted, 1 deleted, at least 2 updated", countsOf(tk))
		}
		// The new task's own edit (checklist count, hasDescription) plus the
		// edited and moved tasks; nothing else in the tenant changed.
		if tk.Updated > 3 {
			t.Errorf("Tasks after the edits: %d rows updated, want at most 3 (only the changed rows)", tk.Updated)
		}
		if r := third["TaskChecklistItems"]; r.Inserted != 1 {
			t.Errorf("TaskChecklistItems after adding one item: %+v", countsOf(r))
		}
		if r := third["Buckets"]; r.Updated != 1 || r.Inserted+r.Deleted != 0 {
			t.Errorf("Buckets after one rename: %+v", countsOf(r))
		}
		if n := scalar[int64](t, dst, "SELECT COUNT(*) FROM "+quoteFor(kind, "Tasks")+" WHERE "+quoteFor(kind, "TaskId")+" = "+placeholderFor(kind), created["id"]); n != 1 {
			t.Errorf("the new task is not in the destination")
		}

		for name, r := range runAll() {
			if written(r) != 0 {
				t.Errorf("run after the edits with no further change wrote %d rows into %s", written(r), name)
			}
		}
	})
}

// TestPlannerTwoAccountsOneTable copies two tenants into one destination table
// with SourceName and checks that a change in one never touches the other's rows.
func TestPlannerTwoAccountsOneTable(t *testing.T) {
	dst, _ := sqliteDest(t)
	a := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 1, Plans: 2, TasksPerPlan: 6}))
	b := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 2, Plans: 2, TasksPerPlan: 4}))
	srcA, srcB := plannerSource(t, a), plannerSource(t, b)

	runOK(t, srcA, dst, "REPLICATE Tasks WITH SourceName='a';", Options{})
	runOK(t, srcB, dst, "REPLICATE Tasks WITH SourceName='b';", Options{})
	count := func(source string) int64 {
		return scalar[int64](t, dst, `SELECT COUNT(*) FROM "Tasks" WHERE "SourceName" = ?`, source)
	}
	if count("a") != int64(a.TaskCount()) || count("b") != int64(b.TaskCount()) {
		t.Fatalf("rows per source: a=%d b=%d, want %d and %d", count("a"), count("b"), a.TaskCount(), b.TaskCount())
	}

	// Delete a task in tenant a: only a's rows change.
	id := a.TaskIDs(a.PlanIDs()[0])[0]
	graphClient{t, a}.do("DELETE", "/planner/tasks/"+id, nil)
	wantCounts(t, runOK(t, srcA, dst, "REPLICATE Tasks WITH SourceName='a';", Options{}),
		counts{Deleted: 1, Unchanged: int64(a.TaskCount())})
	wantCounts(t, runOK(t, srcB, dst, "REPLICATE Tasks WITH SourceName='b';", Options{}),
		counts{Unchanged: int64(b.TaskCount())})
	if count("a") != int64(a.TaskCount()) || count("b") != int64(b.TaskCount()) {
		t.Fatalf("after the delete: a=%d b=%d, want %d and %d", count("a"), count("b"), a.TaskCount(), b.TaskCount())
	}
}

func placeholderFor(kind string) string {
	if kind == "postgres" {
		return "$1"
	}
	return "?"
}
