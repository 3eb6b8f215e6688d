package graphtest

import (
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Throttle configures 429 Too Many Requests responses.
type Throttle struct {
	Match      string  // path substring, "" = all Graph requests ($batch sub-requests included)
	EveryN     int     // throttle every Nth matching request (0 = use Fraction)
	Fraction   float64 // or throttle this fraction of requests (seeded, deterministic)
	Count      int     // stop after this many throttled responses (0 = unlimited)
	RetryAfter string  // exact header value: "2", "2.128", an HTTP date, or "" for no header
}

type faultKind int

const (
	faultFail faultKind = iota
	faultDrop
	faultTruncate
)

type faultRule struct {
	kind   faultKind
	left   int
	status int
	match  string
}

type throttleRule struct {
	t     Throttle
	seen  int
	fired int
	rng   *mrand.Rand
}

type faultState struct {
	mu        sync.Mutex
	rules     []*faultRule
	throttles []*throttleRule
}

// matches reports whether a rule's match applies to a request. An empty
// match covers every Graph request; a non-empty one is a substring of the
// path of any request (identity endpoints included).
func faultMatches(match, path string, graph bool) bool {
	if match == "" {
		return graph
	}
	return strings.Contains(path, match)
}

// take consumes one matching rule of kind k and returns it.
func (f *faultState) take(k faultKind, path string, graph bool) (*faultRule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.kind != k || !faultMatches(r.match, path, graph) {
			continue
		}
		r.left--
		if r.left <= 0 {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
		}
		return r, true
	}
	return nil, false
}

// throttle reports whether the request is throttled and with which Retry-After.
func (f *faultState) throttle(path string, graph bool) (retryAfter string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.throttles {
		if !faultMatches(r.t.Match, path, graph) {
			continue
		}
		if r.t.Count > 0 && r.fired >= r.t.Count {
			continue
		}
		r.seen++
		hit := false
		switch {
		case r.t.EveryN > 0:
			hit = r.seen%r.t.EveryN == 0
		case r.t.Fraction > 0:
			hit = r.rng.Float64() < r.t.Fraction
		}
		if hit {
			r.fired++
			return r.t.RetryAfter, true
		}
	}
	return "", false
}

// Throttle adds a throttling rule: matching requests answer 429 Too Many
// Requests with Retry-After. Rules accumulate until ClearFaults. Inside a
// $batch each sub-request is evaluated on its own (the envelope stays 200);
// the envelope itself is throttled only by a Match that names "$batch".
func (s *Server) Throttle(t Throttle) {
	seed := uint64(len(t.Match)) + uint64(t.EveryN)*31 + uint64(t.Fraction*1e6)
	s.faults.mu.Lock()
	s.faults.throttles = append(s.faults.throttles, &throttleRule{t: t, rng: mrand.New(mrand.NewPCG(seed, 0x7412))})
	s.faults.mu.Unlock()
}

// FailNext makes the next n matching requests answer status (e.g. 500, 503,
// 504) with Graph's error JSON ($batch sub-requests included, as for Throttle).
// match is a substring of the request path; "" matches every Graph request.
// On the identity endpoints the body is the identity platform's error JSON.
func (s *Server) FailNext(n int, status int, match string) {
	s.addRule(&faultRule{kind: faultFail, left: n, status: status, match: match})
}

// DropNext makes the next n matching top-level requests end with the
// connection closed and no response.
func (s *Server) DropNext(n int, match string) {
	s.addRule(&faultRule{kind: faultDrop, left: n, match: match})
}

// TruncateNext makes the next n matching top-level requests send the status
// line, the headers (with the full Content-Length) and half of the body, then
// close the connection.
func (s *Server) TruncateNext(n int, match string) {
	s.addRule(&faultRule{kind: faultTruncate, left: n, match: match})
}

func (s *Server) addRule(r *faultRule) {
	if r.left <= 0 {
		return
	}
	s.faults.mu.Lock()
	s.faults.rules = append(s.faults.rules, r)
	s.faults.mu.Unlock()
}

// ClearFaults removes every throttling, failure, drop and truncation rule and
// the latency, and turns EmptyPages off.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.rules = nil
	s.faults.throttles = nil
	s.faults.mu.Unlock()
	s.lat.Store(0)
	s.empty.Store(false)
}

// ---- request log ----

// Request is one entry of the request log.
type Request struct {
	Method   string
	Path     string // without host and query, e.g. "/v1.0/planner/plans/abc/tasks"
	Query    string
	Endpoint string // templated: "GET /planner/plans/{id}/tasks" (ids replaced by {id}, no /v1.0)
	Status   int    // 0 when the connection was dropped
	InBatch  bool   // a sub-request of a $batch
	Time     time.Time
}

type requestLog struct {
	mu      sync.Mutex
	gen     int
	entries []Request
	top     int
	counts  map[string]int
}

func (l *requestLog) begin(r Request) (gen, idx int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	if !r.InBatch {
		l.top++
	}
	l.counts[r.Endpoint]++
	l.entries = append(l.entries, r)
	return l.gen, len(l.entries) - 1
}

func (l *requestLog) finish(gen, idx, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen == l.gen && idx < len(l.entries) {
		l.entries[idx].Status = status
	}
}

// Requests returns the Graph requests received, in arrival order, $batch
// sub-requests included (InBatch=true, right after their $batch). Identity
// endpoints are not logged; see TokenCount.
func (s *Server) Requests() []Request {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return append([]Request(nil), s.log.entries...)
}

// RequestCount returns the number of top-level Graph HTTP requests received
// (a $batch counts 1; identity endpoints excluded).
func (s *Server) RequestCount() int {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.top
}

// Count returns how many requests hit a templated endpoint, e.g.
// Count("GET /planner/plans/{id}/tasks"); top-level and $batch sub-requests
// are both counted.
func (s *Server) Count(endpoint string) int {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.counts[endpoint]
}

// ResetRequests clears the request log and counters.
func (s *Server) ResetRequests() {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.gen++
	s.log.entries = nil
	s.log.top = 0
	s.log.counts = map[string]int{}
}

// endpointOf templates a Graph path (after /v1.0): the segment following
// users, groups, plans, buckets or tasks is an id.
func endpointOf(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 1; i < len(segs); i++ {
		switch strings.ToLower(segs[i-1]) {
		case "users", "groups", "plans", "buckets", "tasks":
			if segs[i] != "" {
				segs[i] = "{id}"
			}
		}
	}
	return method + " /" + strings.Join(segs, "/")
}
