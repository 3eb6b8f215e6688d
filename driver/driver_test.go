package driver

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/schema"
)

func TestEveryTableReadable(t *testing.T) {
	e := newEnv(t, nil, graphtest.WithDemoTenant())
	for _, tb := range schema.All() {
		t.Run(tb.Name, func(t *testing.T) {
			rows, err := e.db.Query("SELECT * FROM " + strings.ToLower(tb.Name))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			if !reflect.DeepEqual(cols, tb.ColumnNames()) {
				t.Errorf("columns %v, want %v", cols, tb.ColumnNames())
			}
			types, err := rows.ColumnTypes()
			if err != nil {
				t.Fatal(err)
			}
			for i, ct := range types {
				c := tb.Columns[i]
				if got := ct.DatabaseTypeName(); got != string(c.Type) {
					t.Errorf("%s: DatabaseTypeName %q, want %q", c.Name, got, c.Type)
				}
				if n, ok := ct.Nullable(); !ok || n != c.Nullable {
					t.Errorf("%s: Nullable() = %v, %v; want %v, true", c.Name, n, ok, c.Nullable)
				}
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("no rows in %s of the demo tenant", tb.Name)
			}
		})
	}
}

func TestScanTypes(t *testing.T) {
	e := newEnv(t, nil)
	rows, err := e.db.Query(`SELECT TaskId, DueDateTime, HasDescription, PercentComplete, Assignments, upper(Title)
		FROM Tasks WHERE DueDateTime IS NOT NULL LIMIT 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, _ := rows.ColumnTypes()
	want := []reflect.Type{reflect.TypeFor[string](), reflect.TypeFor[time.Time](), reflect.TypeFor[int64](),
		reflect.TypeFor[int64](), reflect.TypeFor[string]()}
	for i, w := range want {
		if got := types[i].ScanType(); got != w {
			t.Errorf("%s: ScanType %v, want %v", types[i].Name(), got, w)
		}
	}
	if _, ok := types[5].Nullable(); ok {
		t.Errorf("an expression's nullability should be unknown")
	}
	if !rows.Next() {
		t.Fatal("no task with a due date in the demo tenant")
	}
	var id, assignments, title string
	var due time.Time
	var hasDesc sql.NullBool
	var pct sql.NullInt64
	if err := rows.Scan(&id, &due, &hasDesc, &pct, &assignments, &title); err != nil {
		t.Fatal(err)
	}
	if due.IsZero() || due.Location() != time.UTC {
		t.Errorf("DueDateTime scanned as %v, want a UTC time", due)
	}
	if !hasDesc.Valid {
		t.Errorf("HasDescription scanned into sql.NullBool as NULL")
	}
}

// TestBooleanStory: a BOOLEAN column holds 0 and 1. A *any receives the
// int64 that ScanType names, a *bool works too, and SQL compares it with 1.
func TestBooleanStory(t *testing.T) {
	e := newEnv(t, nil)
	rows, err := e.db.Query(`SELECT HasDescription, HasDescription FROM Tasks WHERE HasDescription = 1 LIMIT 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, _ := rows.ColumnTypes()
	if !rows.Next() {
		t.Fatal("no task with a description in the demo tenant")
	}
	var v any
	var b bool
	if err := rows.Scan(&v, &b); err != nil {
		t.Fatal(err)
	}
	if v != int64(1) || reflect.TypeOf(v) != types[0].ScanType() || types[0].DatabaseTypeName() != "BOOLEAN" || !b {
		t.Errorf("HasDescription: *any got %#v (%T), ScanType %v, type %s, *bool got %v; want int64 1 = ScanType, BOOLEAN, true",
			v, v, types[0].ScanType(), types[0].DatabaseTypeName(), b)
	}
}

func TestCatalog(t *testing.T) {
	e := newEnv(t, nil)
	if got, want := len(e.query("SHOW TABLES")), len(schema.All()); got != want {
		t.Errorf("SHOW TABLES: %d rows, want %d", got, want)
	}
	if got := e.query("show tables like 'Task%';"); len(got) != 7 {
		t.Errorf("SHOW TABLES LIKE: %v", got)
	}
	desc := e.query("DESCRIBE tasks")
	tb := schema.Lookup("Tasks")
	if len(desc) != len(tb.Columns) || desc[0][0] != "TaskId" || desc[0][1] != "TEXT" || desc[0][2] != "1" {
		t.Errorf("DESCRIBE tasks = %v", desc[:min(2, len(desc))])
	}
	if got := e.query(`DESC "TaskChecklistItems"`); len(got) != 10 {
		t.Errorf("DESC: %d rows", len(got))
	}
	if got := e.one("SELECT count(*) FROM sys_columns WHERE TableName = 'Tasks' AND IsUpdatable"); got != "12" {
		t.Errorf("updatable Tasks columns: %s", got)
	}
	for _, q := range []string{"DESCRIBE nope", "SELECT * FROM Taskz", "SELECT Nope FROM Tasks"} {
		_, err := e.db.Query(q)
		if err == nil {
			t.Errorf("%s: no error", q)
			continue
		}
		if !strings.Contains(err.Error(), "SHOW TABLES") && !strings.Contains(err.Error(), "DESCRIBE") {
			t.Errorf("%s: error %q gives no hint", q, err)
		}
	}
}

func TestSQLFeatures(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	tests := []struct {
		name string
		q    string
		args []any
	}{
		{"join and group", `SELECT p.Title, count(t.TaskId) FROM Plans p LEFT JOIN Tasks t ON t.PlanId = p.PlanId GROUP BY p.PlanId ORDER BY 1`, nil},
		{"cte", `WITH open AS (SELECT * FROM Tasks WHERE PercentComplete < 100) SELECT count(*) FROM open`, nil},
		{"window", `SELECT Title, row_number() OVER (PARTITION BY PlanId ORDER BY Title) FROM Tasks`, nil},
		{"json", `SELECT TaskId, j.key FROM Tasks, json_each(Tasks.Assignments) j`, nil},
		{"json_extract", `SELECT json_extract(CategoryDescriptions, '$.category1') FROM PlanDetails`, nil},
		{"limit offset", `SELECT TaskId FROM Tasks ORDER BY TaskId LIMIT 3 OFFSET 2`, nil},
		{"positional", `SELECT count(*) FROM Tasks WHERE PlanId = ?`, []any{plan}},
		{"numbered", `SELECT count(*) FROM Tasks WHERE PlanId = ?1 OR PlanId = ?1`, []any{plan}},
		{"colon", `SELECT count(*) FROM Tasks WHERE PlanId = :p`, []any{sql.Named("p", plan)}},
		{"at", `SELECT count(*) FROM Tasks WHERE PlanId = @p`, []any{sql.Named("p", plan)}},
		{"dollar", `SELECT count(*) FROM Tasks WHERE PlanId = $p`, []any{sql.Named("p", plan)}},
		{"subquery", `SELECT count(*) FROM Buckets WHERE PlanId IN (SELECT PlanId FROM Plans)`, nil},
		{"union", `SELECT PlanId FROM Plans UNION SELECT PlanId FROM Buckets`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rows := e.query(tt.q, tt.args...); len(rows) == 0 {
				t.Errorf("no rows")
			}
		})
	}
	// The parameter styles agree.
	a := e.one(`SELECT count(*) FROM Tasks WHERE PlanId = ?`, plan)
	b := e.one(`SELECT count(*) FROM Tasks WHERE PlanId = $p`, sql.Named("p", plan))
	c := e.one(`SELECT count(*) FROM Tasks t JOIN Plans p ON p.PlanId = t.PlanId WHERE p.PlanId = ?`, plan)
	if a != b || a != c || a == "0" {
		t.Errorf("counts differ: %s %s %s", a, b, c)
	}
	if _, err := e.db.Query(`SELECT * FROM Tasks WHERE PlanId = ?`); err == nil {
		t.Error("a missing parameter gave no error")
	}
}

// tenant of the request-count tests: 4 plans × 25 tasks, 10 per page.
func countingEnv(t *testing.T) *env {
	return newEnv(t, nil, graphtest.WithGenerated(graphtest.GenSpec{Seed: 7, Plans: 4, TasksPerPlan: 25, BucketsPerPlan: 3}),
		graphtest.WithPageSize(10))
}

func TestPushdownRequests(t *testing.T) {
	e := countingEnv(t)
	plans := e.plans()
	task := e.srv.TaskIDs(plans[0])[3]
	tests := []struct {
		name string
		q    string
		args []any
		want map[string]int // exact request counts per endpoint
	}{
		{"tasks by plan", "SELECT * FROM Tasks WHERE PlanId = ?", []any{plans[0]},
			map[string]int{"GET /planner/plans/{id}/tasks": 3}},
		{"tasks by id", "SELECT * FROM Tasks WHERE TaskId = ?", []any{task},
			map[string]int{"GET /planner/tasks/{id}": 1}},
		{"tasks by two plans", "SELECT * FROM Tasks WHERE PlanId IN (?, ?)", []any{plans[0], plans[1]},
			map[string]int{"GET /planner/plans/{id}/tasks": 6}},
		{"no details for task columns", "SELECT Title, Assignments FROM Tasks WHERE PlanId = ?", []any{plans[1]},
			map[string]int{"GET /planner/plans/{id}/tasks": 3}},
		{"details table without detail columns", "SELECT TaskId, BucketId FROM TaskDetails WHERE PlanId = ?", []any{plans[0]},
			map[string]int{"GET /planner/plans/{id}/tasks": 3}},
		{"details by plan", "SELECT * FROM TaskDetails WHERE PlanId = ?", []any{plans[0]},
			map[string]int{"GET /planner/plans/{id}/tasks": 3, "POST /$batch": 2}},
		{"checklist by plan", "SELECT * FROM TaskChecklistItems WHERE PlanId = ?", []any{plans[2]},
			map[string]int{"GET /planner/plans/{id}/tasks": 3, "POST /$batch": 2}},
		{"details by task", "SELECT * FROM TaskDetails WHERE TaskId = ?", []any{task},
			map[string]int{"POST /$batch": 1}},
		{"limit stops paging", "SELECT * FROM Tasks WHERE PlanId = ? LIMIT 5", []any{plans[0]},
			map[string]int{"GET /planner/plans/{id}/tasks": 1}},
		{"buckets by plan", "SELECT * FROM Buckets WHERE PlanId = ?", []any{plans[3]},
			map[string]int{"GET /planner/plans/{id}/buckets": 1}},
		{"plan by id", "SELECT * FROM Plans WHERE PlanId = ?", []any{plans[3]},
			map[string]int{"GET /planner/plans/{id}": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, by := e.counted(func() { e.query(tt.q, tt.args...) })
			if !reflect.DeepEqual(by, tt.want) {
				t.Errorf("requests %v, want %v", by, tt.want)
			}
		})
	}
}

func TestScanRequests(t *testing.T) {
	e := countingEnv(t)
	groups := len(e.groups())
	t.Run("all tasks", func(t *testing.T) {
		var n string
		_, by := e.counted(func() { n = e.one("SELECT count(*) FROM Tasks") })
		if n != "100" {
			t.Errorf("count = %s, want 100", n)
		}
		want := map[string]int{"GET /me/memberOf": 1, "GET /groups/{id}/planner/plans": groups, "GET /planner/plans/{id}/tasks": 12}
		if !reflect.DeepEqual(by, want) {
			t.Errorf("requests %v, want %v", by, want)
		}
	})
	t.Run("all details", func(t *testing.T) {
		_, by := e.counted(func() { e.query("SELECT TaskId, Description FROM TaskDetails") })
		if by["POST /$batch"] != 5 || by["GET /planner/tasks/{id}/details"] != 0 {
			t.Errorf("requests %v, want 5 $batch for 100 tasks", by)
		}
	})
	t.Run("join pushes the key down", func(t *testing.T) {
		_, by := e.counted(func() {
			e.query("SELECT p.Title, b.Name FROM Plans p JOIN Buckets b ON b.PlanId = p.PlanId")
		})
		if by["GET /planner/plans/{id}/buckets"] != 4 || by["GET /planner/buckets/{id}"] != 0 || by["GET /planner/plans/{id}"] != 0 {
			t.Errorf("requests %v, want one bucket list per plan", by)
		}
	})
	t.Run("limit without order stops early", func(t *testing.T) {
		// Two plans of 1,000 tasks in pages of 400: the first rows arrive
		// with the first page of each plan (read concurrently); no further
		// page is requested.
		big := newEnv(t, nil, graphtest.WithGenerated(graphtest.GenSpec{Seed: 3, Plans: 2, TasksPerPlan: 1000}))
		if got := len(big.query("SELECT * FROM Tasks LIMIT 3")); got != 3 {
			t.Fatalf("%d rows, want 3", got)
		}
		pages := 0
		for _, r := range big.srv.Requests() {
			if r.Endpoint == "GET /planner/plans/{id}/tasks" {
				pages++
				if strings.Contains(r.Query, "skiptoken") {
					t.Errorf("a further page was requested: %s?%s", r.Path, r.Query)
				}
			}
		}
		if pages == 0 || pages > 2 {
			t.Errorf("%d task pages requested, want at most the first page of each of the 2 plans (of 6 pages)", pages)
		}
	})
	t.Run("limit with order reads all", func(t *testing.T) {
		rows := e.query("SELECT TaskId FROM Tasks ORDER BY TaskId DESC LIMIT 2")
		all := e.query("SELECT TaskId FROM Tasks ORDER BY TaskId DESC")
		if !reflect.DeepEqual(rows, all[:2]) {
			t.Errorf("ORDER BY ... LIMIT gave %v, want %v", rows, all[:2])
		}
	})
}

func TestGraphErrorsAreTyped(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.FailNext(1, 400, "/tasks")
	_, err := e.db.Query("SELECT * FROM Tasks WHERE PlanId = ?", e.plans()[0])
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.StatusCode != 400 {
		t.Fatalf("error %v (%T): want a *graph.Error with status 400", err, err)
	}
	if !strings.Contains(err.Error(), "Tasks") {
		t.Errorf("error %q does not name the table", err)
	}
	// The connection stays usable.
	if e.one("SELECT count(*) FROM Groups") == "0" {
		t.Error("no groups")
	}
}

func TestCancelStopsRequests(t *testing.T) {
	e := newEnv(t, nil, graphtest.WithGenerated(graphtest.GenSpec{Seed: 1, Plans: 20, TasksPerPlan: 5}),
		graphtest.WithLatency(100*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	// After the cancel, every request the transport sees must carry the
	// cancelled context (so it is never sent): none may be detached from it.
	var cancelled, detached atomic.Int32
	e.rec.setBefore(func(r *http.Request) {
		if cancelled.Load() == 1 && r.Context().Err() == nil {
			detached.Add(1)
		}
	})
	rows, err := e.db.QueryContext(ctx, "SELECT * FROM Tasks")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no first row")
	}
	// Cancel, then start watching: a request begun between the two with
	// a live context began before the cancel, and is no fault.
	cancel()
	cancelled.Store(1)
	for rows.Next() {
	}
	err = rows.Err()
	rows.Close() // waits for the scan's workers
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := detached.Load(); n > 0 {
		t.Errorf("%d requests were started after the cancel with a live context", n)
	}
}

// TestExamples runs every example of the table reference (docs/tables.md),
// binding ? to ids of the tenant.
func TestExamples(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	for _, tb := range schema.All() {
		for _, ex := range tb.Examples {
			t.Run(tb.Name+"/"+ex.Title, func(t *testing.T) {
				n := strings.Count(ex.SQL, "?")
				var args []any
				for range n {
					args = append(args, plan)
				}
				q := ex.SQL
				if strings.HasPrefix(q, "SELECT") {
					e.query(q, args...)
					return
				}
				// Writes are checked by the write tests; here they must only
				// parse and plan.
				stmt, err := e.db.Prepare(strings.Replace(q, " RETURNING TaskId", "", 1))
				if err != nil {
					t.Fatal(err)
				}
				stmt.Close()
			})
		}
	}
}

// TestThrottlingIsRetriedAndCounted checks that a throttled scan still returns
// every row, and that the connector reports how often the service throttled.
func TestThrottlingIsRetriedAndCounted(t *testing.T) {
	e := countingEnv(t)
	e.srv.Throttle(graphtest.Throttle{Match: "/tasks", EveryN: 4, RetryAfter: "0"})
	if n := e.one("SELECT count(*) FROM Tasks"); n != "100" {
		t.Fatalf("count = %s under throttling, want 100", n)
	}
	if e.cn.Throttled() == 0 {
		t.Errorf("Throttled() = 0 after a throttled scan")
	}
	got429 := 0
	for _, r := range e.srv.Requests() {
		if r.Status == 429 {
			got429++
		}
	}
	if got429 != e.cn.Throttled() {
		t.Errorf("Throttled() = %d, the emulator answered 429 %d times", e.cn.Throttled(), got429)
	}
}

// TestDiscoveryReachesEveryTask checks which plans a scan covers: a signed-in
// user sees every plan of the groups they belong to (unassigned tasks
// included), an application every plan of every Microsoft 365 group, and
// PlanScope=me only the plans /me/planner/plans lists.
func TestDiscoveryReachesEveryTask(t *testing.T) {
	spec := graphtest.GenSpec{Seed: 11, Plans: 6, TasksPerPlan: 5, HiddenPlans: 2}
	srv := graphtest.NewServer(t, graphtest.WithGenerated(spec))
	open := func(token string, f func(*Config)) *env {
		cfg := NewConfig()
		cfg.GraphURL, cfg.InitiateOAuth, cfg.OAuthAccessToken = srv.GraphURL(), OAuthOff, token
		if f != nil {
			f(cfg)
		}
		cn, err := NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(cn)
		t.Cleanup(func() { db.Close() })
		return &env{t: t, srv: srv, cn: cn, db: db}
	}
	user := open(srv.Token(), nil)
	if got, want := user.one("SELECT count(*) FROM Tasks"), itoa(5*(spec.Plans-spec.HiddenPlans)); got != want {
		t.Errorf("signed-in user: %s tasks, want %s (the plans of their groups)", got, want)
	}
	if got := user.one("SELECT count(*) FROM Tasks WHERE Assignments = '{}'"); got == "0" {
		t.Errorf("no unassigned task in the scan; the generated tenant has some")
	}
	// An application token, whether or not the scheme says so, reaches every
	// group through /groups (/me is refused to applications).
	for name, f := range map[string]func(*Config){
		"token":             nil,
		"service principal": func(c *Config) { c.AuthScheme = AuthAzureServicePrincipal },
	} {
		app := open(srv.AppToken(), f)
		if got, want := app.one("SELECT count(*) FROM Tasks"), itoa(srv.TaskCount()); got != want {
			t.Errorf("application (%s): %s tasks, want every task of the tenant (%s)", name, got, want)
		}
	}
	me := open(srv.Token(), func(c *Config) { c.PlanScope = PlanScopeMe })
	if got := me.one("SELECT count(*) FROM Plans"); got == "0" || got == itoa(spec.Plans) {
		t.Errorf("PlanScope=me: %s plans, want the shared subset", got)
	}
}
