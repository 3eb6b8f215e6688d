package driver

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
)

// inProcess is an http.RoundTripper that serves each request with h in the
// calling goroutine: no sockets, so that in a testing/synctest bubble the
// fake clock moves only when every goroutine waits (a backoff, a
// Retry-After), never while a request is being answered.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}

// TestDetailsRetriesShared reads the details of a 20 × 200 tenant through
// the driver with 3 % of the $batch items answering 500 (its backoffs on
// the bubble's fake clock, so the test waits for none of them) and checks
// that the failed items of many $batch calls are retried together: the
// $batch calls stay within the floor (one per 20 tasks) plus one per 20
// failed items plus a few part-full calls, where retrying each call's
// failed items on their own cost 95 more. The scan streams, a run reads
// ahead; the lists are read once plus one retry per failed list request.
func TestDetailsRetriesShared(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 3, Plans: 20, TasksPerPlan: 200}))
	const tasks, lists = 4000, 1 + 20 + 20 // memberOf, plans per group, tasks per plan
	cases := []struct {
		name, query string
		run         bool
	}{
		{"TaskDetails", "SELECT count(Description) FROM TaskDetails", false},
		{"TaskChecklistItems", "SELECT count(*) FROM TaskChecklistItems", false},
		{"TaskDetails in a run", "SELECT count(Description) FROM TaskDetails", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv.ClearFaults()
				srv.ResetRequests()
				cfg := NewConfig()
				cfg.GraphURL = srv.GraphURL()
				cfg.InitiateOAuth = OAuthOff
				cfg.OAuthAccessToken = srv.Token()
				cfg.HTTPClient = &http.Client{Transport: inProcess{srv.Handler()}}
				cn, err := NewConnector(cfg)
				if err != nil {
					t.Fatal(err)
				}
				db := sql.OpenDB(cn)
				defer db.Close()
				ctx := context.Background()
				if tc.run {
					snap := cn.NewSnapshot()
					defer snap.Close()
					ctx = snap.Context(ctx)
				}
				srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 500, Fraction: 0.03, Seed: 9})
				var n int
				if err := db.QueryRowContext(ctx, tc.query).Scan(&n); err != nil {
					t.Fatal(err)
				}
				batches, others, itemFailures, listFailures := 0, 0, 0, 0
				for _, r := range srv.Requests() {
					switch {
					case r.InBatch && r.Status == 500:
						itemFailures++
					case r.InBatch:
					case r.Endpoint == "POST /$batch":
						batches++
					default:
						others++
						if r.Status == 500 {
							listFailures++
						}
					}
				}
				floor := tasks / 20
				limit := floor + (itemFailures+19)/20 + 6
				t.Logf("%d $batch calls for a floor of %d, %d items failed; %d other requests", batches, floor, itemFailures, others)
				if itemFailures < 80 {
					t.Fatalf("only %d items failed: the fault did not reach the $batch items", itemFailures)
				}
				if batches > limit {
					t.Errorf("%d $batch calls, want at most %d (%d + ceil(%d failed items/20) + 6)", batches, limit, floor, itemFailures)
				}
				if others != lists+listFailures {
					t.Errorf("%d other requests, want %d lists + %d retried", others, lists, listFailures)
				}
			})
		})
	}
}

// BenchmarkDetailsFaults reads SELECT count(Description) FROM TaskDetails
// over 20 plans × 200 tasks with 3 % of the Graph requests ($batch items
// included) answering 500, with the client's real backoff (500 ms ceiling
// for a first retry, full jitter), and reports the $batch calls and the
// time of a read, against the same read without faults.
//
//	go test -run '^$' -bench DetailsFaults -benchtime 3x ./driver/
func BenchmarkDetailsFaults(b *testing.B) {
	srv := graphtest.NewServer(b, graphtest.WithGenerated(graphtest.GenSpec{Seed: 3, Plans: 20, TasksPerPlan: 200}))
	db, _ := benchDB(b, srv, DefaultMaxConcurrency)
	read := func() (batches int, d time.Duration) {
		srv.ResetRequests()
		start := time.Now()
		var n int
		if err := db.QueryRowContext(context.Background(), "SELECT count(Description) FROM TaskDetails").Scan(&n); err != nil {
			b.Fatal(err)
		}
		d = time.Since(start)
		for _, r := range srv.Requests() {
			if !r.InBatch && r.Endpoint == "POST /$batch" {
				batches++
			}
		}
		return batches, d
	}
	var clean, faulty time.Duration
	var calls int
	b.ResetTimer()
	for i := range b.N {
		srv.ClearFaults()
		_, d := read()
		clean += d
		srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 500, Fraction: 0.03, Seed: uint64(i + 1)})
		n, d := read()
		faulty += d
		calls += n
	}
	b.ReportMetric(float64(calls)/float64(b.N), "batches/op")
	b.ReportMetric(clean.Seconds()*1000/float64(b.N), "clean-ms")
	b.ReportMetric(faulty.Seconds()*1000/float64(b.N), "faults-ms")
}
