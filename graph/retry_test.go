package graph

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
)

// fault is a named way for one request to fail.
type fault struct {
	name   string
	inject func(s *graphtest.Server, match string, n int)
}

func statusFault(status int) fault {
	return fault{http.StatusText(status), func(s *graphtest.Server, match string, n int) {
		s.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: status, Match: match, Count: n})
	}}
}

func wireFault(name string, k graphtest.FaultKind) fault {
	return fault{name, func(s *graphtest.Server, match string, n int) {
		s.Inject(graphtest.Fault{Kind: k, Match: match, Count: n})
	}}
}

var (
	fault500       = statusFault(500)
	fault502       = statusFault(502)
	fault503       = statusFault(503)
	fault504       = statusFault(504)
	faultDrop      = wireFault("dropped connection", graphtest.FaultDrop)
	faultReset     = wireFault("reset connection", graphtest.FaultReset)
	faultCut       = wireFault("body shorter than its Content-Length", graphtest.FaultTruncate)
	faultCutNoSize = wireFault("body cut without a Content-Length", graphtest.FaultTruncateUnsized)
	readFaults     = []fault{fault500, fault502, fault503, fault504, faultDrop, faultReset, faultCut, faultCutNoSize}
)

// TestReadsRetried checks that every read — a Get, a list page, a $batch of
// GETs and its items — is sent again after each kind of transient failure,
// and succeeds with exactly one more request.
func TestReadsRetried(t *testing.T) {
	for _, ft := range readFaults {
		t.Run(ft.name, func(t *testing.T) {
			t.Run("get", func(t *testing.T) {
				f := newFixture(t, nil)
				plan := f.plan(t)
				ft.inject(f.srv, "/planner/plans/", 2)
				p, err := f.c.Plans.Get(f.ctx, plan)
				if err != nil || p.ID != plan || p.ETag == "" {
					t.Fatalf("Get = %+v, %v", p, err)
				}
				if n := f.counts.Total(); n != 3 {
					t.Errorf("%d attempts, want 3 (two failures, then the answer)", n)
				}
			})
			t.Run("list page", func(t *testing.T) {
				f := newFixture(t, nil)
				f.srv.SetPageSize(3)
				plan := f.plan(t)
				want := len(f.srv.TaskIDs(plan))
				ft.inject(f.srv, "/tasks", 1)
				got, err := collect(t, f.c.Tasks.ListByPlan(f.ctx, plan))
				if err != nil || len(got) != want {
					t.Fatalf("%d tasks, %v; want %d", len(got), err, want)
				}
				if n, pages := f.counts.Total(), (want+2)/3; n != pages+1 {
					t.Errorf("%d requests, want %d pages + 1 retry", n, pages)
				}
			})
			t.Run("batch", func(t *testing.T) {
				f := newFixture(t, nil)
				ids := f.srv.TaskIDs(f.plan(t))
				// Status faults hit one item inside the $batch; wire faults
				// hit the $batch call itself.
				ft.inject(f.srv, "/details", 1)
				ft.inject(f.srv, "/$batch", 1)
				got, err := collect(t, f.c.Tasks.ListDetails(f.ctx, ids))
				if err != nil || len(got) != len(ids) {
					t.Fatalf("%d details, %v; want %d", len(got), err, len(ids))
				}
				for i, d := range got {
					if d.ID != ids[i] {
						t.Errorf("details %d = %s, want %s", i, d.ID, ids[i])
					}
				}
				if n := f.counts.Count("POST /$batch"); n > 3 {
					t.Errorf("%d $batch calls, want at most 3", n)
				}
			})
		})
	}
}

// TestBatchItemRetriedAlone checks that a failed item of a $batch of reads
// goes again alone: the second $batch carries only it.
func TestBatchItemRetriedAlone(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFixture(t, nil)
			ids := f.srv.TaskIDs(f.plan(t))
			f.srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: status, Match: "/details", EveryN: 4, Count: 2})
			got, err := collect(t, f.c.Tasks.ListDetails(f.ctx, ids))
			if err != nil || len(got) != len(ids) {
				t.Fatalf("%d details, %v", len(got), err)
			}
			var sub []int
			for _, r := range f.srv.Requests() {
				if !r.InBatch {
					sub = append(sub, 0)
				} else {
					sub[len(sub)-1]++
				}
			}
			if len(sub) != 2 || sub[0] != len(ids) || sub[1] != 2 {
				t.Errorf("sub-requests per $batch %v, want [%d 2]", sub, len(ids))
			}
		})
	}
}

// TestWritesNotBlindlyRetried checks that a write the service may have
// applied is not sent again: a POST after anything but a refusal that proves
// it was not processed, a conditional PATCH or DELETE after 500 or 502 or an
// answer cut short.
func TestWritesNotBlindlyRetried(t *testing.T) {
	tests := []struct {
		fault    fault
		post     int // POST attempts
		patch    int // PATCH attempts
		patchErr bool
	}{
		{fault500, 1, 1, true},
		{fault502, 1, 1, true},
		{fault503, 1, 2, false}, // no Retry-After: the POST may have been applied
		{fault504, 1, 2, false},
		{faultDrop, 1, 2, false},
		{faultReset, 1, 2, false},
		{faultCut, 1, 2, true}, // applied; the repeat answers 412
		{faultCutNoSize, 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.fault.name, func(t *testing.T) {
			f := newFixture(t, nil)
			before := f.srv.TaskCount()
			tt.fault.inject(f.srv, "/planner/tasks", 1)
			_, err := f.c.Tasks.Create(f.ctx, &Task{PlanID: f.plan(t), Title: "once"})
			if err == nil {
				t.Fatal("Create succeeded through the fault")
			}
			if n := f.counts.Count("POST /planner/tasks"); n != tt.post {
				t.Errorf("%d POST attempts, want %d", n, tt.post)
			}
			if created := f.srv.TaskCount() - before; created > 1 {
				t.Errorf("%d tasks created by one Create", created)
			}
			tk := f.task(t)
			f.counts.Reset()
			tt.fault.inject(f.srv, "/planner/tasks/"+tk.ID, 1)
			_, err = f.c.Tasks.Update(f.ctx, tk.ID, tk.ETag, Patch{"title": "patched"})
			if (err != nil) != tt.patchErr {
				t.Errorf("Update: %v, want error %v", err, tt.patchErr)
			}
			if n := f.counts.Count("PATCH /planner/tasks/{id}"); n != tt.patch {
				t.Errorf("%d PATCH attempts, want %d", n, tt.patch)
			}
		})
	}
}

// TestFailureMessages checks that a request whose retries ran out says what
// happened and how often it was retried, never a bare "EOF".
func TestFailureMessages(t *testing.T) {
	tests := []struct {
		fault fault
		want  []string
		is    error
	}{
		{faultDrop, []string{"connection closed by the server before a response (EOF)", "retried 2 times"}, io.EOF},
		{faultReset, []string{"connection reset by the server", "retried 2 times"}, syscall.ECONNRESET},
		{faultCut, []string{"the response body ended early after", "the connection was closed", "retried 2 times"}, io.ErrUnexpectedEOF},
		{faultCutNoSize, []string{"the response body ended early: its JSON stops after", "retried 2 times"}, io.ErrUnexpectedEOF},
		{fault502, []string{"502 Bad Gateway", "retried 2 times"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fault.name, func(t *testing.T) {
			f := newFixture(t, nil, WithRetryPolicy(RetryPolicy{MaxRetries: 2}), WithBreakerPolicy(BreakerPolicy{Failures: -1}))
			plan := f.plan(t)
			tt.fault.inject(f.srv, "/planner/plans/", 0)
			_, err := f.c.Plans.Get(f.ctx, plan)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if !strings.HasPrefix(msg, "graph: GET /v1.0/planner/plans/"+plan+": ") || strings.HasSuffix(msg, ": EOF") {
				t.Errorf("error %q", msg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if n := f.counts.Total(); n != 3 {
				t.Errorf("%d attempts, want 3", n)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		f := newFixture(t, nil, WithRetryPolicy(RetryPolicy{MaxRetries: 1}))
		plan := f.plan(t)
		if err := f.srv.SetOutage(graphtest.OutageRefused); err != nil {
			t.Fatal(err)
		}
		_, err := f.c.Plans.Get(f.ctx, plan)
		if err == nil || !strings.Contains(err.Error(), "connection refused by 127.0.0.1:") || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("error %v", err)
		}
	})
}

// TestRetryReport checks what the request hook learns about each retry: the
// wait, and whether it was the response's Retry-After.
func TestRetryReport(t *testing.T) {
	var mu sync.Mutex
	var infos []RequestInfo
	hook := func(ri RequestInfo) { mu.Lock(); infos = append(infos, ri); mu.Unlock() }
	f := newFixture(t, nil, WithRequestHook(hook), WithRetryPolicy(RetryPolicy{MaxRetries: 2}))
	plan := f.plan(t)
	f.srv.Throttle(graphtest.Throttle{Match: "/planner/plans/", Count: 1, RetryAfter: "3"})
	f.srv.Throttle(graphtest.Throttle{Match: "/planner/plans/", Count: 1})
	if _, err := f.c.Plans.Get(f.ctx, plan); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 {
		t.Fatalf("%d attempts reported, want 3", len(infos))
	}
	if i := infos[0]; i.Status != 429 || !i.HasRetryAfter || !i.Retry || !i.RetryAfter || i.RetryIn != 3*time.Second {
		t.Errorf("throttled with Retry-After: %+v", i)
	}
	if i := infos[1]; i.Status != 429 || i.HasRetryAfter || !i.Retry || i.RetryAfter || i.RetryIn <= 0 || i.RetryIn > DefaultBaseDelay*2 {
		t.Errorf("throttled without Retry-After: %+v", i)
	}
	if i := infos[2]; i.Status != 200 || i.Retry {
		t.Errorf("answered: %+v", i)
	}
	infos = nil
	f.srv.Throttle(graphtest.Throttle{Match: "/planner/plans/"})
	if _, err := f.c.Plans.Get(f.ctx, plan); !IsThrottled(err) {
		t.Fatal(err)
	}
	if last := infos[len(infos)-1]; last.Retry {
		t.Errorf("the last attempt says it is retried: %+v", last)
	}
}

// clock is a fake time that sleeping advances.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
func (c *clock) sleep(ctx context.Context, d time.Duration) error { c.advance(d); return ctx.Err() }

// breakerFixture is a fixture whose clock only moves when the client waits
// (or the test says).
func breakerFixture(t *testing.T, p BreakerPolicy, copts ...Option) (*fixture, *clock) {
	f := newFixture(t, nil, append([]Option{WithBreakerPolicy(p), WithRetryPolicy(RetryPolicy{MaxRetries: 6, BaseDelay: time.Second, MaxDelay: 8 * time.Second})}, copts...)...)
	ck := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.c.now, f.c.sleep = ck.now, ck.sleep
	f.c.jitter = func(ceiling time.Duration) time.Duration { return ceiling } // deterministic waits
	return f, ck
}

func TestUnreachable(t *testing.T) {
	outages := []struct {
		name string
		o    graphtest.Outage
	}{
		{"503", graphtest.Outage503}, {"dropped", graphtest.OutageDrop}, {"reset", graphtest.OutageReset}, {"refused", graphtest.OutageRefused},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			f, ck := breakerFixture(t, BreakerPolicy{Failures: 4, MinSpan: 5 * time.Second, Cooldown: time.Minute})
			plan := f.plan(t)
			if err := f.srv.SetOutage(o.o); err != nil {
				t.Fatal(err)
			}
			// Waits 1s, 2s, 4s: the 4th failure comes 7s after the first.
			_, err := f.c.Plans.Get(f.ctx, plan)
			var ue *UnreachableError
			if !errors.Is(err, ErrUnreachable) || !errors.As(err, &ue) {
				t.Fatalf("err %v, want ErrUnreachable", err)
			}
			if ue.Failures != 4 || ue.Span != 7*time.Second || ue.Host != f.c.host || ue.Last == nil {
				t.Errorf("%+v", ue)
			}
			if !strings.Contains(err.Error(), "Microsoft Graph at 127.0.0.1:") || !strings.Contains(err.Error(), "is unreachable: 4 requests in a row failed over 7s") || !strings.Contains(err.Error(), "check the network") {
				t.Errorf("message %q", err)
			}
			if n := f.counts.Total(); n != 4 {
				t.Errorf("%d attempts, want 4", n)
			}
			// Every other request fails at once, sending nothing, through
			// every path: gets, lists, $batch.
			f.counts.Reset()
			if _, err := f.c.Tasks.Get(f.ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"); !errors.Is(err, ErrUnreachable) {
				t.Errorf("Get: %v", err)
			}
			if _, err := collect(t, f.c.Tasks.ListByPlan(f.ctx, plan)); !errors.Is(err, ErrUnreachable) {
				t.Errorf("list: %v", err)
			}
			if _, err := collect(t, f.c.Tasks.ListDetails(f.ctx, []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAA"})); !errors.Is(err, ErrUnreachable) {
				t.Errorf("details: %v", err)
			}
			if n := f.counts.Total(); n != 0 {
				t.Errorf("%d requests sent while unreachable", n)
			}
			// After the cooldown one request probes; Graph is back.
			_ = f.srv.SetOutage(graphtest.OutageNone)
			ck.advance(time.Minute)
			if _, err := f.c.Plans.Get(f.ctx, plan); err != nil {
				t.Fatalf("after the cooldown: %v", err)
			}
			if n := f.counts.Total(); n != 1 {
				t.Errorf("%d requests after the cooldown, want 1", n)
			}
		})
	}
	t.Run("a failed probe waits another cooldown", func(t *testing.T) {
		f, ck := breakerFixture(t, BreakerPolicy{Failures: 2, MinSpan: -1, Cooldown: time.Minute})
		_ = f.srv.SetOutage(graphtest.Outage503)
		if _, err := f.c.Users.Me(f.ctx); !errors.Is(err, ErrUnreachable) {
			t.Fatal(err)
		}
		ck.advance(time.Minute)
		f.counts.Reset()
		if _, err := f.c.Users.Me(f.ctx); !errors.Is(err, ErrUnreachable) {
			t.Fatal(err)
		}
		if n := f.counts.Total(); n != 1 {
			t.Errorf("%d requests, want one probe", n)
		}
		ck.advance(30 * time.Second)
		if _, err := f.c.Users.Me(f.ctx); !errors.Is(err, ErrUnreachable) || f.counts.Total() != 1 {
			t.Errorf("within the new cooldown: %v, %d requests", err, f.counts.Total())
		}
	})
	t.Run("a request whose every retry failed stops the client, within MinSpan", func(t *testing.T) {
		// The default policy and retries, with waits drawn at 29 % of
		// their ceiling: 7 attempts over 9.1s, under MinSpan's 10s — as
		// connections refused at once do. The first request's failure
		// declares Graph unreachable; the next sends nothing.
		for _, o := range outages {
			t.Run(o.name, func(t *testing.T) {
				f, _ := breakerFixture(t, BreakerPolicy{}, WithRetryPolicy(RetryPolicy{MaxRetries: DefaultMaxRetries}))
				f.c.jitter = func(ceiling time.Duration) time.Duration { return ceiling * 29 / 100 }
				plan := f.plan(t)
				if err := f.srv.SetOutage(o.o); err != nil {
					t.Fatal(err)
				}
				_, err := f.c.Plans.Get(f.ctx, plan)
				var ue *UnreachableError
				if !errors.As(err, &ue) {
					t.Fatalf("err %v, want an *UnreachableError", err)
				}
				if n := f.counts.Total(); n != DefaultMaxRetries+1 || ue.Failures != n || ue.Span >= DefaultBreakerMinSpan {
					t.Errorf("%d attempts, %+v; want %d failures over less than %v", n, ue, DefaultMaxRetries+1, DefaultBreakerMinSpan)
				}
				f.counts.Reset()
				if _, err := collect(t, f.c.Tasks.ListByPlan(f.ctx, plan)); !errors.Is(err, ErrUnreachable) || f.counts.Total() != 0 {
					t.Errorf("the next request: %v after %d requests, want ErrUnreachable unsent", err, f.counts.Total())
				}
			})
		}
	})
	t.Run("a blip shorter than a retry schedule is not fatal", func(t *testing.T) {
		// 6 failures in a row, then an answer: the request succeeds and the
		// client stays closed, whatever the failures' span.
		f, _ := breakerFixture(t, BreakerPolicy{Failures: 2, MinSpan: time.Hour})
		f.srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 503, Count: 6})
		if _, err := f.c.Users.Me(f.ctx); err != nil {
			t.Fatal(err)
		}
		f.counts.Reset()
		if _, err := f.c.Users.Me(f.ctx); err != nil || f.counts.Total() != 1 {
			t.Errorf("the next request: %v after %d requests", err, f.counts.Total())
		}
	})
	t.Run("a request answered once in its retries does not stop the client", func(t *testing.T) {
		// 429, then 503 on every retry: the request fails, but Graph did
		// answer during its schedule; the span rule alone decides.
		f, _ := breakerFixture(t, BreakerPolicy{Failures: 3, MinSpan: time.Hour})
		f.srv.Throttle(graphtest.Throttle{Match: "/me", Count: 1})
		f.c.hook = func(info RequestInfo) {
			f.counts.Hook(info)
			if info.Status == http.StatusTooManyRequests {
				_ = f.srv.SetOutage(graphtest.Outage503) // down from the next attempt on
			}
		}
		if _, err := f.c.Users.Me(f.ctx); errors.Is(err, ErrUnreachable) || !hasStatus(err, 503) || f.counts.Total() != DefaultMaxRetries+1 {
			t.Fatalf("err %v after %d attempts, want the 503 after %d", err, f.counts.Total(), DefaultMaxRetries+1)
		}
		_ = f.srv.SetOutage(graphtest.OutageNone)
		f.counts.Reset()
		if _, err := f.c.Users.Me(f.ctx); err != nil || f.counts.Total() != 1 {
			t.Errorf("the next request: %v after %d requests", err, f.counts.Total())
		}
	})
	t.Run("short blips are retried, not fatal", func(t *testing.T) {
		// Many failures in a row, but within MinSpan: the request still
		// succeeds once the blip is over.
		f, _ := breakerFixture(t, BreakerPolicy{Failures: 2, MinSpan: time.Hour})
		f.srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 503, Count: 5})
		if _, err := f.c.Users.Me(f.ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("answers end the streak", func(t *testing.T) {
		// 503, 429, 503, 404, 503…: never 3 failures in a row.
		f, _ := breakerFixture(t, BreakerPolicy{Failures: 3, MinSpan: -1})
		plan := f.plan(t)
		for range 4 {
			f.srv.FailNext(1, 503, "/planner/plans/")
			f.srv.Throttle(graphtest.Throttle{Match: "/planner/plans/", Count: 1})
			if _, err := f.c.Plans.Get(f.ctx, plan); err != nil {
				t.Fatal(err)
			}
			f.srv.FailNext(1, 502, "/planner/tasks/")
			if _, err := f.c.Tasks.Get(f.ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"); !IsNotFound(err) {
				t.Fatal(err)
			}
		}
	})
	t.Run("never", func(t *testing.T) {
		f, _ := breakerFixture(t, BreakerPolicy{Failures: -1}, WithRetryPolicy(RetryPolicy{MaxRetries: 20}))
		_ = f.srv.SetOutage(graphtest.Outage503)
		if _, err := f.c.Users.Me(f.ctx); errors.Is(err, ErrUnreachable) || !hasStatus(err, 503) || f.counts.Total() != 21 {
			t.Errorf("err %v after %d attempts", err, f.counts.Total())
		}
	})
	t.Run("concurrent requests stop together", func(t *testing.T) {
		f, _ := breakerFixture(t, BreakerPolicy{Failures: 5, MinSpan: -1}, WithMaxConcurrency(4))
		_ = f.srv.SetOutage(graphtest.OutageDrop)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if _, err := f.c.Users.Me(f.ctx); !errors.Is(err, ErrUnreachable) {
					t.Errorf("err %v", err)
				}
			})
		}
		wg.Wait()
		// 5 failures trip it; at most 3 more were in flight.
		if n := f.counts.Total(); n > 5+3 {
			t.Errorf("%d requests, want at most 8", n)
		}
	})
}

// TestUnreachableNotForLocalFailures checks that failures which say nothing
// about Graph (a cancelled context, no token) neither trip nor wedge the
// breaker.
func TestUnreachableNotForLocalFailures(t *testing.T) {
	f, _ := breakerFixture(t, BreakerPolicy{Failures: 1, MinSpan: -1})
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	for range 3 {
		if _, err := f.c.Users.Me(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	}
	if _, err := f.c.Users.Me(f.ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRetryUnderLoad runs a client against 10 % failing responses of every
// kind and expects every read to complete.
func TestRetryUnderLoad(t *testing.T) {
	f := newFixture(t, []graphtest.Option{graphtest.WithGenerated(graphtest.GenSpec{Seed: 4, Plans: 4, TasksPerPlan: 30})},
		WithRetryPolicy(RetryPolicy{MaxRetries: 8}))
	f.srv.SetPageSize(7)
	for i, k := range []graphtest.FaultKind{graphtest.FaultDrop, graphtest.FaultReset, graphtest.FaultTruncate, graphtest.FaultTruncateUnsized} {
		f.srv.Inject(graphtest.Fault{Kind: k, Fraction: 0.02, Seed: uint64(i + 1)})
	}
	for i, st := range []int{500, 502} {
		f.srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: st, Fraction: 0.01, Seed: uint64(10 + i)})
	}
	total := 0
	for _, plan := range f.srv.PlanIDs() {
		tasks, err := collect(t, f.c.Tasks.ListByPlan(f.ctx, plan))
		if err != nil {
			t.Fatal(err)
		}
		ids := taskIDs(tasks)
		details, err := collect(t, f.c.Tasks.ListDetails(f.ctx, ids))
		if err != nil || len(details) != len(ids) {
			t.Fatalf("%d details of %d, %v", len(details), len(ids), err)
		}
		total += len(tasks)
	}
	if total != f.srv.TaskCount() {
		t.Errorf("%d tasks read, want %d", total, f.srv.TaskCount())
	}
}

// TestRetryAfterBeyondCap: a Retry-After longer than
// RetryPolicy.MaxRetryAfter — in seconds, beyond a day, or as an HTTP date —
// is not slept (a run would stall for hours): the request fails at once,
// with one request sent, and says how long the service asked to wait. One
// within the cap is waited as sent; so is the same for a $batch item.
func TestRetryAfterBeyondCap(t *testing.T) {
	inTwoHours := time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		status int
		ra     string
		batch  bool
		wait   string // in the error; "" when the request succeeds after waiting sleep
		sleep  time.Duration
	}{
		{"429 seconds", 429, "3600", false, "asked to wait 1h0m0s (Retry-After)", 0},
		{"503 seconds", 503, "7200", false, "asked to wait 2h0m0s (Retry-After)", 0},
		{"429 beyond a day", 429, "90000", false, "asked to wait 25h0m0s (Retry-After)", 0},
		{"503 HTTP date", 503, inTwoHours, false, "asked to wait 2h0m0s (Retry-After)", 0},
		{"429 within the cap", 429, "120", false, "", 2 * time.Minute},
		{"batch item 429 seconds", 429, "3600", true, "asked to wait 1h0m0s (Retry-After)", 0},
		{"batch item 503 HTTP date", 503, inTwoHours, true, "asked to wait 2h0m0s (Retry-After)", 0},
		{"batch item 503 within the cap", 503, "120", true, "", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, WithRetryPolicy(RetryPolicy{MaxRetries: 3}))
			plan := f.plan(t)
			match := "/planner/plans/"
			if tt.batch {
				match = "/details"
			}
			if tt.status == 429 {
				f.srv.Throttle(graphtest.Throttle{Match: match, Count: 1, RetryAfter: tt.ra})
			} else {
				f.srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: tt.status, RetryAfter: tt.ra, Match: match, Count: 1})
			}
			var err error
			if tt.batch {
				_, err = collect(t, f.c.Tasks.ListDetails(f.ctx, f.srv.TaskIDs(plan)))
			} else {
				_, err = f.c.Plans.Get(f.ctx, plan)
			}
			sent := f.counts.Total()
			if tt.batch {
				sent = f.counts.Count("POST /$batch")
			}
			if tt.wait == "" {
				if err != nil || sent != 2 {
					t.Fatalf("%v after %d requests; want success after 2", err, sent)
				}
				if s := f.sleeps.all(); len(s) != 1 || s[0] != tt.sleep {
					t.Errorf("waited %v, want [%v]", s, tt.sleep)
				}
				return
			}
			var rae *RetryAfterError
			var ge *Error
			if !errors.As(err, &rae) || !errors.As(err, &ge) || ge.StatusCode != tt.status {
				t.Fatalf("error %v; want a *RetryAfterError wrapping the %d", err, tt.status)
			}
			// The HTTP date's wait depends on when it is read: compare to the second.
			if msg := err.Error(); !strings.Contains(msg, "not retried: the service asked to wait") ||
				!strings.Contains(strings.Replace(msg, "1h59m59s", "2h0m0s", 1), tt.wait) || !strings.Contains(msg, "MaxRetryAfter") {
				t.Errorf("error %q does not say %q", msg, tt.wait)
			}
			if sent != 1 || len(f.sleeps.all()) != 0 {
				t.Errorf("%d requests and waits %v; want 1 request, no wait", sent, f.sleeps.all())
			}
		})
	}
}
