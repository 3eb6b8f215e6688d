package graph

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
	"golang.org/x/oauth2"
)

func benchClient(b *testing.B, spec graphtest.GenSpec) (*graphtest.Server, *Client, *RequestCounter) {
	b.Helper()
	srv := graphtest.NewServer(b, graphtest.WithGenerated(spec), graphtest.WithPageSize(400))
	counts := NewRequestCounter()
	c := NewClient(WithBaseURL(srv.GraphURL()), WithRequestHook(counts.Hook),
		WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.Token()})))
	return srv, c, counts
}

// BenchmarkListTasks10k lists one plan of 10,000 tasks in pages of 400.
func BenchmarkListTasks10k(b *testing.B) {
	srv, c, _ := benchClient(b, graphtest.GenSpec{Seed: 1, Plans: 1, TasksPerPlan: 10000})
	plan := srv.PlanIDs()[0]
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for t, err := range c.Tasks.ListByPlan(ctx, plan) {
			if err != nil {
				b.Fatal(err)
			}
			_ = t
			n++
		}
	}
	if n != 10000*b.N {
		b.Fatalf("%d tasks, want %d", n, 10000*b.N)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tasks/s")
	b.ReportMetric(float64(clientAllocsPerTask(b, c.BaseURL(), plan, srv.Token())), "client-allocs/task")
}

// clientAllocsPerTask measures the client's own allocations per task (the
// emulator runs in this process, so the benchmark's allocs/op include its
// rendering): the pages are recorded once, then replayed from memory.
func clientAllocsPerTask(b *testing.B, base, plan, token string) float64 {
	pages := map[string][]byte{}
	rec := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		pages[r.URL.String()] = body
		res.Body = io.NopCloser(bytes.NewReader(body))
		return res, nil
	})}
	ctx := context.Background()
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})
	c := NewClient(WithBaseURL(base), WithHTTPClient(rec), WithTokenSource(ts))
	for _, err := range c.Tasks.ListByPlan(ctx, plan) {
		if err != nil {
			b.Fatal(err)
		}
	}
	replay := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body, ok := pages[r.URL.String()]
		if !ok {
			return nil, fmt.Errorf("no recorded page for %s", r.URL)
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})}
	c = NewClient(WithBaseURL(base), WithHTTPClient(replay), WithTokenSource(ts))
	n := 0
	allocs := testing.AllocsPerRun(3, func() {
		n = 0
		for _, err := range c.Tasks.ListByPlan(ctx, plan) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
	})
	return allocs / float64(n)
}

// BenchmarkTaskDetails1000 fetches the details of 1,000 tasks with
// Tasks.ListDetails: 50 $batch calls of 20.
func BenchmarkTaskDetails1000(b *testing.B) {
	srv, c, counts := benchClient(b, graphtest.GenSpec{Seed: 1, Plans: 1, TasksPerPlan: 1000})
	ids := srv.TaskIDs(srv.PlanIDs()[0])
	ctx := context.Background()
	b.ReportAllocs()
	counts.Reset()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range c.Tasks.ListDetails(ctx, ids) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(ids) {
			b.Fatalf("%d details, want %d", n, len(ids))
		}
	}
	b.ReportMetric(float64(counts.Total())/float64(b.N), "requests/op")
	if got := counts.Total(); got != 50*b.N {
		b.Fatalf("%d requests for %d runs, want 50 per run", got, b.N)
	}
}
