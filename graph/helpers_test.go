package graph

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/plannersql/planner/graph/graphtest"
	"golang.org/x/oauth2"
)

// sleeps records the delays the client asked to wait, without waiting.
type sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.ds...)
}

// fixture is an emulator with a client on it.
type fixture struct {
	srv    *graphtest.Server
	c      *Client
	counts *RequestCounter
	sleeps *sleeps
	ctx    context.Context
}

// newFixture starts an emulator (generated tenant unless opts choose) and a
// client whose waits are recorded, not slept.
func newFixture(t *testing.T, opts []graphtest.Option, copts ...Option) *fixture {
	t.Helper()
	if opts == nil {
		opts = []graphtest.Option{graphtest.WithGenerated(graphtest.GenSpec{Seed: 3, Plans: 2, TasksPerPlan: 10})}
	}
	srv := graphtest.NewServer(t, opts...)
	counts := NewRequestCounter()
	base := []Option{
		WithBaseURL(srv.GraphURL()),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.Token(), TokenType: "Bearer"})),
		WithRequestHook(counts.Hook),
		WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}),
	}
	c := NewClient(append(base, copts...)...)
	sl := &sleeps{}
	c.sleep = sl.sleep
	return &fixture{srv: srv, c: c, counts: counts, sleeps: sl, ctx: context.Background()}
}

func (f *fixture) plan(t *testing.T) string {
	t.Helper()
	ids := f.srv.PlanIDs()
	if len(ids) == 0 {
		t.Fatal("the tenant has no plan")
	}
	return ids[0]
}

func (f *fixture) task(t *testing.T) *Task {
	t.Helper()
	ids := f.srv.TaskIDs(f.plan(t))
	if len(ids) == 0 {
		t.Fatal("the plan has no task")
	}
	tk, err := f.c.Tasks.Get(f.ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// collect drains a sequence.
func collect[T any](t *testing.T, seq func(func(*T, error) bool)) ([]*T, error) {
	t.Helper()
	var out []*T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// seqTokens hands out the given tokens in turn, then repeats the last.
type seqTokens struct {
	mu    sync.Mutex
	toks  []string
	calls int
}

func (s *seqTokens) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.toks[min(s.calls, len(s.toks)-1)]
	s.calls++
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer"}, nil
}
