package driver

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/graph/graphtest"
)

// fastRetries keeps the backoff of tests short (the waits are real).
var fastRetries = graph.WithRetryPolicy(graph.RetryPolicy{MaxRetries: 6, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond})

// faultEnv is a planner database over a tenant of 4 plans × 25 tasks with
// short retry waits and the given connector options.
func faultEnv(t *testing.T, opts ...ConnectorOption) *env {
	t.Helper()
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 7, Plans: 4, TasksPerPlan: 25, BucketsPerPlan: 3}),
		graphtest.WithPageSize(10))
	cfg := NewConfig()
	cfg.GraphURL = srv.GraphURL()
	cfg.InitiateOAuth = OAuthOff
	cfg.OAuthAccessToken = srv.Token()
	cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	cn, err := NewConnector(cfg, append([]ConnectorOption{WithGraphOptions(fastRetries)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(cn)
	t.Cleanup(func() { db.Close() })
	return &env{t: t, srv: srv, cn: cn, db: db}
}

// TestThrottlingBreakdown checks that the connector tells throttled
// responses retried after their Retry-After from those retried after its own
// backoff (no Retry-After sent) and from those not retried.
func TestThrottlingBreakdown(t *testing.T) {
	e := faultEnv(t)
	e.srv.Throttle(graphtest.Throttle{Match: "/tasks", EveryN: 3, RetryAfter: "0"})
	e.srv.Throttle(graphtest.Throttle{Match: "/buckets", Count: 2})
	if n := e.one("SELECT count(*) FROM Tasks"); n != "100" {
		t.Fatalf("count = %s, want 100", n)
	}
	if n := e.one("SELECT count(*) FROM Buckets"); n != "12" {
		t.Fatalf("buckets = %s, want 12", n)
	}
	withRA := 0
	for _, r := range e.srv.Requests() {
		if r.Status == 429 && strings.Contains(r.Path, "/tasks") {
			withRA++
		}
	}
	got := e.cn.Throttling()
	if want := (Throttling{Throttled: withRA + 2, RetryAfter: withRA, Backoff: 2}); got != want || withRA == 0 {
		t.Errorf("Throttling() = %+v, want %+v", got, want)
	}
	if got.NotRetried() != 0 || got.Sub(got) != (Throttling{}) {
		t.Errorf("NotRetried %d, Sub %+v", got.NotRetried(), got.Sub(got))
	}
	// A request still throttled when its retries run out is not retried.
	e.srv.ClearFaults()
	e.srv.Throttle(graphtest.Throttle{Match: "/buckets"})
	before := e.cn.Throttling()
	if _, err := e.db.Query("SELECT * FROM Buckets WHERE PlanId = ?", e.plans()[0]); !graph.IsThrottled(err) {
		t.Fatalf("err %v", err)
	}
	if d := e.cn.Throttling().Sub(before); d.Throttled != 7 || d.Backoff != 6 || d.NotRetried() != 1 {
		t.Errorf("after retries ran out: %+v", d)
	}
}

// TestUnreachableThroughDriver checks that with Graph down a statement fails
// after a bounded number of requests with an error that errors.Is
// graph.ErrUnreachable (the typed error survives SQLite), and that the next
// statements on the connector fail at once without a request.
func TestUnreachableThroughDriver(t *testing.T) {
	for _, o := range []graphtest.Outage{graphtest.Outage503, graphtest.OutageRefused, graphtest.OutageReset} {
		t.Run(strings.TrimPrefix(outageName(o), "Outage"), func(t *testing.T) {
			const failures = 4
			e := faultEnv(t, WithGraphOptions(graph.WithBreakerPolicy(graph.BreakerPolicy{Failures: failures, MinSpan: -1, Cooldown: time.Hour})))
			if err := e.srv.SetOutage(o); err != nil {
				t.Fatal(err)
			}
			for i, q := range []string{"SELECT * FROM Tasks", "SELECT * FROM TaskDetails", "SELECT * FROM Buckets WHERE PlanId = 'xqQg5FS2LkCp935s-FIFm2QAFkHM'"} {
				before := e.cn.Requests()
				_, err := e.db.Query(q)
				var ue *graph.UnreachableError
				if !errors.Is(err, graph.ErrUnreachable) || !errors.As(err, &ue) {
					t.Fatalf("%s: err %v (%T), want graph.ErrUnreachable", q, err, err)
				}
				if !strings.Contains(err.Error(), "is unreachable") {
					t.Errorf("message %q", err)
				}
				sent := e.cn.Requests() - before
				if i == 0 && (sent < failures || sent > failures+DefaultMaxConcurrency) {
					t.Errorf("%s: %d requests, want %d to %d", q, sent, failures, failures+DefaultMaxConcurrency)
				}
				if i > 0 && sent != 0 {
					t.Errorf("%s after Graph was found unreachable: %d requests", q, sent)
				}
			}
		})
	}
}

func outageName(o graphtest.Outage) string {
	return map[graphtest.Outage]string{graphtest.Outage503: "503", graphtest.OutageRefused: "refused", graphtest.OutageReset: "reset", graphtest.OutageDrop: "drop"}[o]
}
