package replicate

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/graph/graphtest"
)

// faultySource opens the planner driver on srv with short retry waits (the
// waits are real) and the given breaker policy, and returns the connector
// to count its requests.
func faultySource(t *testing.T, srv *graphtest.Server, breaker graph.BreakerPolicy) (*sql.DB, *driver.Connector) {
	t.Helper()
	cfg := driver.NewConfig()
	cfg.GraphURL = srv.GraphURL()
	cfg.InitiateOAuth = driver.OAuthOff
	cfg.OAuthAccessToken = srv.Token()
	cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	cn, err := driver.NewConnector(cfg, driver.WithGraphOptions(
		graph.WithRetryPolicy(graph.RetryPolicy{MaxRetries: 6, BaseDelay: time.Millisecond, MaxDelay: 8 * time.Millisecond}),
		graph.WithBreakerPolicy(breaker)))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(cn)
	t.Cleanup(func() { db.Close() })
	return db, cn
}

// TestReplicateThroughFaults runs REPLICATE ALL while 3 % of Graph's
// responses are 500, 502 or a 200 whose body is cut short (with and without
// a Content-Length), $batch items and envelopes included: every table
// completes and equals the source, at the cost of a few retried requests.
func TestReplicateThroughFaults(t *testing.T) {
	spec := graphtest.GenSpec{Seed: 42, Plans: 5, TasksPerPlan: 20, BucketsPerPlan: 3, Awkward: true}
	tables := replicatedTables()

	// The fault-free run, for the request count.
	clean := graphtest.NewServer(t, graphtest.WithGenerated(spec), graphtest.WithPageSize(3))
	cleanSrc, cleanCn := faultySource(t, clean, graph.BreakerPolicy{})
	dst0, _ := sqliteDest(t)
	for _, r := range run(t, cleanSrc, dst0, "REPLICATE ALL;", Options{}) {
		if r.Err != nil {
			t.Fatalf("fault-free %s: %v", r.Table, r.Err)
		}
	}
	floor := cleanCn.Requests()

	srv := graphtest.NewServer(t, graphtest.WithGenerated(spec), graphtest.WithPageSize(3))
	// Failed answers are counted from the request log; cut bodies are
	// logged as 200, so they are made a known number (about 0.5 % each of
	// the ~400 requests), whatever order the concurrent requests come in.
	const cutBodies = 4
	faults := []graphtest.Fault{
		{Kind: graphtest.FaultStatus, Status: 500, Fraction: 0.01, Seed: 1},
		{Kind: graphtest.FaultStatus, Status: 502, Fraction: 0.01, Seed: 2},
		{Kind: graphtest.FaultTruncate, EveryN: 97, Count: cutBodies / 2},
		{Kind: graphtest.FaultTruncateUnsized, EveryN: 89, Count: cutBodies / 2},
	}
	for _, f := range faults {
		srv.Inject(f)
	}
	src, cn := faultySource(t, srv, graph.BreakerPolicy{})
	dst, _ := sqliteDest(t)
	results, err := Run(context.Background(), src, dst, "REPLICATE ALL;", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(tables) {
		t.Fatalf("%d results, want %d", len(results), len(tables))
	}
	for _, r := range results {
		if r.Err != nil {
			t.Errorf("%s failed under 3 %% faults: %v", r.Table, r.Err)
		}
	}
	failed := 0
	for _, r := range srv.Requests() {
		if r.Status == 500 || r.Status == 502 {
			failed++
		}
	}
	sent := cn.Requests()
	if failed == 0 || sent <= floor {
		t.Errorf("%d requests with %d failed answers, fault-free %d: the faults did not happen", sent, failed, floor)
	}
	t.Logf("%d requests, fault-free %d, %d failed answers", sent, floor, failed)
	// Each failed answer or cut body costs at most one more request.
	if sent > floor+failed+cutBodies {
		t.Errorf("%d requests, fault-free %d with %d failed answers and %d cut bodies", sent, floor, failed, cutBodies)
	}
	srv.ClearFaults()
	for _, tb := range tables {
		assertTableSame(t, src, dst, "sqlite", tb)
	}
}

// TestReplicateGraphDown runs REPLICATE ALL against a Graph that is down
// (every answer 503, or connections refused): the run stops after a bounded
// number of requests — not MaxRetries+1 per table — with one table failed
// saying Graph is unreachable and the others skipped unread.
func TestReplicateGraphDown(t *testing.T) {
	const failures = 5
	for _, o := range []graphtest.Outage{graphtest.Outage503, graphtest.OutageRefused} {
		t.Run(map[graphtest.Outage]string{graphtest.Outage503: "503", graphtest.OutageRefused: "refused"}[o], func(t *testing.T) {
			srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 42, Plans: 3, TasksPerPlan: 12}))
			src, cn := faultySource(t, srv, graph.BreakerPolicy{Failures: failures, MinSpan: -1})
			if err := srv.SetOutage(o); err != nil {
				t.Fatal(err)
			}
			dst, _ := sqliteDest(t)
			results, _ := Run(context.Background(), src, dst, "REPLICATE ALL; REPLICATE Tasks;", Options{})
			if len(results) != len(replicatedTables())+1 {
				t.Fatalf("%d results", len(results))
			}
			if n := cn.Requests(); n < failures || n > failures+driver.DefaultMaxConcurrency {
				t.Errorf("%d Graph requests, want %d to %d", n, failures, failures+driver.DefaultMaxConcurrency)
			}
			var failedTables, skipped int
			for i, r := range results {
				switch r.Status() {
				case StatusFailed:
					failedTables++
					if i != 0 || !errors.Is(r.Err, graph.ErrUnreachable) {
						t.Errorf("%s failed with %v, want the first table failing with graph.ErrUnreachable", r.Table, r.Err)
					}
				case StatusSkipped:
					skipped++
					if !errors.Is(r.Err, ErrSourceUnreachable) || !errors.Is(r.Err, graph.ErrUnreachable) {
						t.Errorf("%s skipped with %v", r.Table, r.Err)
					}
				default:
					t.Errorf("%s: %s", r.Table, r.Status())
				}
			}
			if failedTables != 1 || skipped != len(results)-1 {
				t.Errorf("%d failed, %d skipped of %d", failedTables, skipped, len(results))
			}
		})
	}
}
