package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"golang.org/x/oauth2"
)

// inProcess is an http.RoundTripper that serves each request with h in the
// calling goroutine: no sockets, so that in a testing/synctest bubble the
// fake clock moves only when every goroutine of the client waits (for a
// backoff, a Retry-After or another goroutine), never while a request is
// being answered.
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

// bubbleClient is a client of srv, inside a synctest bubble, with its real
// clock, waits and jitter (the bubble's clock is fake).
func bubbleClient(srv *graphtest.Server, opts ...Option) (*Client, *RequestCounter) {
	counts := NewRequestCounter()
	base := []Option{
		WithBaseURL(srv.GraphURL()),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.Token(), TokenType: "Bearer"})),
		WithRequestHook(counts.Hook),
		WithHTTPClient(&http.Client{Transport: inProcess{srv.Handler()}}),
	}
	return NewClient(append(base, opts...)...), counts
}

// subFailures counts the $batch sub-requests that answered status.
func subFailures(srv *graphtest.Server, status int) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.InBatch && r.Status == status {
			n++
		}
	}
	return n
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// TestBatchRetriesShared checks that the failed items of many $batch calls
// are sent again together, in full calls of 20 after one shared backoff:
// reading the details of 4,000 tasks with 3 % of the items failing costs
// the 200 calls of the first pass plus about one call per 20 failures, not
// one per call that had a failure — whether the calls come from one listing
// or from many callers at once (a driver's tables and parts).
func TestBatchRetriesShared(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 3, Plans: 20, TasksPerPlan: 200}))
	var byPlan [][]string
	var all []string
	for _, p := range srv.PlanIDs() {
		byPlan = append(byPlan, srv.TaskIDs(p))
		all = append(all, srv.TaskIDs(p)...)
	}
	if len(all) != 4000 {
		t.Fatalf("%d tasks, want 4000", len(all))
	}
	read := func(t *testing.T, c *Client, ids []string) error {
		got, err := collect(t, c.Tasks.ListDetails(context.Background(), ids))
		if err != nil {
			return err
		}
		for i, d := range got {
			if d.ID != ids[i] {
				return fmt.Errorf("details %d = %s, want %s", i, d.ID, ids[i])
			}
		}
		if len(got) != len(ids) {
			return fmt.Errorf("%d details, want %d", len(got), len(ids))
		}
		return nil
	}
	cases := []struct {
		name string
		run  func(t *testing.T, c *Client) error
	}{
		{"one listing", func(t *testing.T, c *Client) error { return read(t, c, all) }},
		{"a listing per plan, concurrently", func(t *testing.T, c *Client) error {
			errs := make([]error, len(byPlan))
			var wg sync.WaitGroup
			for i, ids := range byPlan {
				wg.Go(func() { errs[i] = read(t, c, ids) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"parts of 20, concurrently", func(t *testing.T, c *Client) error {
			// The driver's lookups: one ListDetails per 20 ids.
			errs := make([]error, len(all)/20)
			var wg sync.WaitGroup
			for k := range errs {
				wg.Go(func() { errs[k] = read(t, c, all[k*20:(k+1)*20]) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv.ClearFaults()
				srv.ResetRequests()
				srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 500, Fraction: 0.03, Seed: 11})
				c, counts := bubbleClient(srv)
				if err := tc.run(t, c); err != nil {
					t.Fatal(err)
				}
				failures := subFailures(srv, 500)
				calls := counts.Count("POST /$batch")
				floor := len(all) / maxBatch
				// Each window of retries may end with one part-full call (a
				// listing read alone holds at most inOrderAhead × 8 calls
				// ahead of its consumer, 64 calls: about 38 failed items a
				// window here).
				limit := floor + ceilDiv(failures, maxBatch) + 6
				t.Logf("%d $batch calls for a floor of %d, %d items failed", calls, floor, failures)
				if failures < 80 {
					t.Fatalf("only %d items failed: the fault did not reach the sub-requests", failures)
				}
				if calls > limit {
					t.Errorf("%d $batch calls, want at most %d (floor %d + ceil(%d failures/20) + 6)", calls, limit, floor, failures)
				}
			})
		})
	}
}

// TestBatchRetryAfterHonoured checks that pooled items throttled with a
// Retry-After are not sent again before it ends, even when a window of
// items with a shorter backoff is sent meanwhile, and that items answered
// 429 without one, and 503 with one, follow the same rules.
func TestBatchRetryAfterHonoured(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 3, Plans: 2, TasksPerPlan: 100}))
	var ids []string
	for _, p := range srv.PlanIDs() {
		ids = append(ids, srv.TaskIDs(p)...)
	}
	cases := []struct {
		name   string
		inject func()
		wait   time.Duration // the least wait of the throttled items
	}{
		{"429 with Retry-After among 500s", func() {
			srv.Throttle(graphtest.Throttle{Match: "/details", Fraction: 0.05, RetryAfter: "3"})
			srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 500, Match: "/details", Fraction: 0.05, Seed: 5})
		}, 3 * time.Second},
		{"503 with Retry-After", func() {
			srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 503, Match: "/details", Fraction: 0.1, Seed: 6, RetryAfter: "2"})
		}, 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv.ClearFaults()
				srv.ResetRequests()
				tc.inject()
				defer func() {
					t.Logf("%d $batch calls for %d ids, %d failed", srv.RequestCount(), len(ids), subFailures(srv, 429)+subFailures(srv, 503)+subFailures(srv, 500))
				}()
				c, counts := bubbleClient(srv)
				start := time.Now()
				got, err := collect(t, c.Tasks.ListDetails(context.Background(), ids))
				if err != nil || len(got) != len(ids) {
					t.Fatalf("%d details of %d, %v", len(got), len(ids), err)
				}
				// Each throttled item's next attempt comes at least its
				// Retry-After after it was throttled.
				throttledAt := map[string]time.Time{}
				early := 0
				for _, r := range srv.Requests() {
					if !r.InBatch || !strings.HasSuffix(r.Path, "/details") {
						continue
					}
					if at, ok := throttledAt[r.Path]; ok {
						if r.Time.Sub(at) < tc.wait {
							early++
						}
						delete(throttledAt, r.Path)
					}
					if r.Status == 429 || r.Status == 503 {
						throttledAt[r.Path] = r.Time
					}
				}
				if early > 0 {
					t.Errorf("%d throttled items sent again before their Retry-After", early)
				}
				if d := time.Since(start); d < tc.wait {
					t.Errorf("done after %v, before the Retry-After of %v", d, tc.wait)
				}
				failed := subFailures(srv, 429) + subFailures(srv, 503) + subFailures(srv, 500)
				if calls, floor := counts.Count("POST /$batch"), ceilDiv(len(ids), maxBatch); calls > floor+ceilDiv(failed, maxBatch)+4 {
					t.Errorf("%d $batch calls, want at most %d + ceil(%d/20) + 4", calls, floor, failed)
				}
			})
		})
	}
}

// batchLog is an http.RoundTripper that records the methods of the items
// of each $batch call it passes on.
type batchLog struct {
	next  http.RoundTripper
	mu    sync.Mutex
	calls [][]string
}

func (l *batchLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/$batch") && r.Body != nil {
		var env struct {
			Requests []struct{ Method string } `json:"requests"`
		}
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		_ = json.Unmarshal(b, &env)
		var ms []string
		for _, it := range env.Requests {
			ms = append(ms, it.Method)
		}
		l.mu.Lock()
		l.calls = append(l.calls, ms)
		l.mu.Unlock()
	}
	return l.next.RoundTrip(r)
}

// TestBatchRetryPool checks the pool's other rules: reads and writes are
// never sent again in the same call (a call is retried as its least safe
// item allows), an item is sent at most MaxRetries more times, and a caller
// that stops waiting gets its cancellation at once while the items of
// others are still retried, no wait outliving its callers.
func TestBatchRetryPool(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 3, Plans: 1, TasksPerPlan: 30}))
	ids := srv.TaskIDs(srv.PlanIDs()[0])
	t.Run("reads and writes apart", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv.ClearFaults()
			log := &batchLog{next: inProcess{srv.Handler()}}
			c, _ := bubbleClient(srv, WithHTTPClient(&http.Client{Transport: log}))
			ctx := context.Background()
			tk, err := c.Tasks.Get(ctx, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			srv.Throttle(graphtest.Throttle{Match: "/planner/tasks/", Count: 3})
			res, err := c.Batch(ctx, []BatchRequest{
				{Method: "GET", URL: "/planner/tasks/" + ids[1] + "/details"},
				{Method: "PATCH", URL: "/planner/tasks/" + tk.ID, Headers: map[string]string{"If-Match": tk.ETag}, Body: map[string]any{"title": "renamed"}},
				{Method: "GET", URL: "/planner/tasks/" + ids[2] + "/details"},
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if r.Err != nil {
					t.Errorf("item %d: %v", i, r.Err)
				}
			}
			if len(log.calls) != 3 {
				t.Fatalf("$batch calls %v, want the first and one per class", log.calls)
			}
			for _, call := range log.calls[1:] {
				if len(call) == 0 || strings.Join(call, " ") != strings.Repeat(call[0]+" ", len(call)-1)+call[0] {
					t.Errorf("a retry call mixes methods: %v", call)
				}
			}
		})
	})
	t.Run("MaxRetries", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv.ClearFaults()
			srv.ResetRequests()
			srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 500, Match: ids[3] + "/details"})
			c, _ := bubbleClient(srv, WithRetryPolicy(RetryPolicy{MaxRetries: 2}))
			n := 0
			for d, err := range c.Tasks.ListDetails(context.Background(), ids) {
				switch {
				case n == 3 && !hasStatus(err, 500):
					t.Errorf("the failing item: %v, %v", d, err)
				case n != 3 && err != nil:
					t.Errorf("item %d: %v", n, err)
				}
				n++
			}
			if got := subFailures(srv, 500); got != 3 {
				t.Errorf("the failing item was sent %d times, want 3 (MaxRetries 2)", got)
			}
		})
	})
	t.Run("a caller that leaves", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv.ClearFaults()
			// Every item throttled once, for a minute.
			srv.Throttle(graphtest.Throttle{Match: "/details", Count: len(ids), RetryAfter: "60"})
			c, _ := bubbleClient(srv)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			var wg sync.WaitGroup
			wg.Go(func() {
				start := time.Now()
				_, err := collect(t, c.Tasks.ListDetails(ctx, ids[:10]))
				if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
					t.Errorf("after %v: %v, want the deadline after 1s", time.Since(start), err)
				}
			})
			got, err := collect(t, c.Tasks.ListDetails(context.Background(), ids[10:]))
			if err != nil || len(got) != len(ids)-10 {
				t.Errorf("the other caller: %d details, %v", len(got), err)
			}
			wg.Wait()
		})
	})
}

// TestBatchItemHook: the item hook hears of every $batch item answered with
// an error status and what became of it — retried after its Retry-After,
// after a backoff, or not at all — while the request hook hears only the
// $batch calls.
func TestBatchItemHook(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*graphtest.Server)
		want   []RequestInfo // Status, Attempt, HasRetryAfter, Retry, RetryAfter, RetryIn of each report
	}{
		{"429 with Retry-After", func(s *graphtest.Server) {
			s.Throttle(graphtest.Throttle{Match: "/details", Count: 1, RetryAfter: "2"})
		}, []RequestInfo{{Status: 429, Attempt: 1, HasRetryAfter: true, Retry: true, RetryAfter: true, RetryIn: 2 * time.Second}}},
		{"503 without Retry-After, twice", func(s *graphtest.Server) {
			s.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 503, Match: "/details", Count: 2, EveryN: 1})
		}, []RequestInfo{{Status: 503, Attempt: 1, Retry: true}, {Status: 503, Attempt: 2, Retry: true}}},
		{"429 on every retry", func(s *graphtest.Server) {
			s.Throttle(graphtest.Throttle{Match: "/details", Count: 3, EveryN: 1})
		}, []RequestInfo{{Status: 429, Attempt: 1, Retry: true}, {Status: 429, Attempt: 2, Retry: true}, {Status: 429, Attempt: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var items []RequestInfo
			f := newFixture(t, nil, WithRetryPolicy(RetryPolicy{MaxRetries: 2}), WithBatchItemHook(func(ri RequestInfo) {
				mu.Lock()
				items = append(items, ri)
				mu.Unlock()
			}))
			ids := f.srv.TaskIDs(f.plan(t))[:1]
			tt.inject(f.srv)
			collect(t, f.c.Tasks.ListDetails(f.ctx, ids)) //nolint:errcheck // the last case fails
			if len(items) != len(tt.want) {
				t.Fatalf("item reports %+v, want %d", items, len(tt.want))
			}
			for i, w := range tt.want {
				g := items[i]
				if g.Method != "GET" || g.Path != "/v1.0/planner/tasks/"+ids[0]+"/details" || g.Endpoint != "GET /planner/tasks/{id}/details" {
					t.Errorf("report %d names %s %s (%s)", i, g.Method, g.Path, g.Endpoint)
				}
				if g.Status != w.Status || g.Attempt != w.Attempt || g.HasRetryAfter != w.HasRetryAfter || g.Retry != w.Retry ||
					g.RetryAfter != w.RetryAfter || g.RetryIn != w.RetryIn {
					t.Errorf("report %d = %+v, want %+v", i, g, w)
				}
			}
			if n, b := f.counts.Total(), f.counts.Count("POST /$batch"); n != b || n != len(tt.want)+btoi(tt.want[len(tt.want)-1].Retry) {
				t.Errorf("request hook: %d requests, %d $batch calls", n, b)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
