package graphtest

import (
	"bufio"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Throttle configures 429 Too Many Requests responses.
//
// A request is throttled when it matches and is selected: every EveryN-th
// matching request, or a Fraction of them, or — with neither set — every
// matching request; Count stops the rule after that many 429s. So
// Throttle{Count: 1} throttles the next Graph request once.
type Throttle struct {
	Match      string  // path substring, "" = all Graph requests ($batch sub-requests included)
	EveryN     int     // throttle every Nth matching request (0 = use Fraction)
	Fraction   float64 // or throttle this fraction of requests (seeded, deterministic)
	Count      int     // stop after this many throttled responses (0 = unlimited)
	RetryAfter string  // exact header value: "2", "2.128", an HTTP date, or "" for no header
}

// FaultKind is what an injected Fault does to a request.
type FaultKind int

// The kinds of Fault. Status faults answer before the request is applied;
// Drop and Reset end the connection before it is applied; the truncations
// apply the request, then cut its response short.
const (
	// FaultStatus answers Fault.Status (default 503) with Graph's error JSON
	// and, if Fault.RetryAfter is set, a Retry-After header. Like Throttle, it
	// applies to $batch sub-requests one by one and spares the envelope
	// unless Match names "$batch".
	FaultStatus FaultKind = iota + 1
	// FaultDrop closes the connection without a response (the client reads
	// EOF). Top-level requests only.
	FaultDrop
	// FaultReset resets the connection (a TCP RST: the client reads
	// "connection reset by peer"). Top-level requests only.
	FaultReset
	// FaultTruncate sends the status line, the headers with the full
	// Content-Length and half of the body, then closes the connection (the
	// client's read ends with an unexpected EOF). Top-level requests only.
	FaultTruncate
	// FaultTruncateUnsized sends the status line and headers without a
	// Content-Length, half of the body, then closes the connection: the body
	// looks complete to HTTP and only its JSON shows that it ended early.
	// Top-level requests only.
	FaultTruncateUnsized
)

func (k FaultKind) String() string {
	switch k {
	case FaultStatus:
		return "status"
	case FaultDrop:
		return "drop"
	case FaultReset:
		return "reset"
	case FaultTruncate:
		return "truncate"
	case FaultTruncateUnsized:
		return "truncate-unsized"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault injects failures into matching requests; see Server.Inject.
//
// Selection is as for Throttle: every EveryN-th matching request, or a
// Fraction of them (drawn from a generator seeded with Seed, so a given
// sequence of requests meets the same faults every run), or — with neither
// set — every matching request; Count stops the rule after that many faults
// (0: never).
type Fault struct {
	Kind       FaultKind
	Status     int     // FaultStatus: the status to answer, e.g. 500, 502, 503, 504 (default 503)
	RetryAfter string  // FaultStatus: the Retry-After header's exact value; "" sends none
	Match      string  // path substring; "" = every Graph request
	EveryN     int     // fault every Nth matching request
	Fraction   float64 // or this fraction of matching requests, 0 < Fraction <= 1
	Count      int     // stop after this many faults (0 = unlimited)
	Seed       uint64  // seed for Fraction (0 derives one from the rule)
}

// Outage is a way for the whole service to be down; see Server.SetOutage.
type Outage int

// The outages. Each lasts until SetOutage(OutageNone) or ClearFaults.
const (
	OutageNone Outage = iota
	// Outage503 answers every Graph request, $batch envelopes included,
	// 503 Service Unavailable with Graph's error JSON and no Retry-After.
	Outage503
	// OutageDrop closes every Graph request's connection without a response.
	OutageDrop
	// OutageReset resets every Graph request's connection.
	OutageReset
	// OutageRefused closes the listener and every open connection, so that
	// connections are refused (identity endpoints included: they share the
	// listener). Ending it listens again on the same address.
	OutageRefused
)

// category groups fault kinds by the point of a request where they apply.
type category int

const (
	faultFail     category = iota // status answers (FailNext, FaultStatus)
	faultDrop                     // connection ends before a response (drop, reset)
	faultTruncate                 // response cut short (truncations)
	faultThrottle                 // 429 (Throttle)
)

func (k FaultKind) category() category {
	switch k {
	case FaultDrop, FaultReset:
		return faultDrop
	case FaultTruncate, FaultTruncateUnsized:
		return faultTruncate
	}
	return faultFail
}

// faultRule is one Fault or Throttle rule and its counters.
type faultRule struct {
	cat        category
	kind       FaultKind
	status     int
	retryAfter string
	match      string
	everyN     int
	fraction   float64
	count      int
	seen       int
	fired      int
	rng        *mrand.Rand
}

// selects counts one matching request and reports whether the rule fires.
func (r *faultRule) selects() bool {
	r.seen++
	hit := true
	switch {
	case r.everyN > 0:
		hit = r.seen%r.everyN == 0
	case r.fraction > 0:
		hit = r.rng.Float64() < r.fraction
	}
	if hit {
		r.fired++
	}
	return hit
}

func (r *faultRule) exhausted() bool { return r.count > 0 && r.fired >= r.count }

type faultState struct {
	mu     sync.Mutex
	rules  []*faultRule
	outage Outage
}

// faultMatches reports whether a rule's match applies to a request. An empty
// match covers every Graph request; a non-empty one is a substring of the
// path of any request (identity endpoints included).
func faultMatches(match, path string, graph bool) bool {
	if match == "" {
		return graph
	}
	return strings.Contains(path, match)
}

// take returns the first rule of category cat that matches the request and
// selects it, counting the request in every matching rule it reaches. graph
// is false for the identity endpoints and for a $batch envelope at the
// status stage (an empty match spares them).
func (f *faultState) take(cat category, path string, graph bool) (*faultRule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.outageRule(cat, path); r != nil {
		return r, true
	}
	for i, r := range f.rules {
		if r.cat != cat || !faultMatches(r.match, path, graph) || r.exhausted() {
			continue
		}
		if !r.selects() {
			continue
		}
		if r.exhausted() {
			f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
		}
		return r, true
	}
	return nil, false
}

// outageRule is the fault an outage imposes on a Graph request at stage
// cat, or nil (caller holds mu).
func (f *faultState) outageRule(cat category, path string) *faultRule {
	if !strings.HasPrefix(path, "/v1.0") {
		return nil // identity endpoints: another service
	}
	switch {
	case f.outage == Outage503 && cat == faultFail:
		return &faultRule{cat: faultFail, kind: FaultStatus, status: 503}
	case f.outage == OutageDrop && cat == faultDrop:
		return &faultRule{cat: faultDrop, kind: FaultDrop}
	case f.outage == OutageReset && cat == faultDrop:
		return &faultRule{cat: faultDrop, kind: FaultReset}
	}
	return nil
}

// throttle reports whether the request is throttled and with which Retry-After.
func (f *faultState) throttle(path string, graph bool) (retryAfter string, ok bool) {
	r, ok := f.take(faultThrottle, path, graph)
	if !ok {
		return "", false
	}
	return r.retryAfter, true
}

func (f *faultState) add(r *faultRule, seedFrom string) {
	if r.fraction > 0 && r.rng == nil {
		seed := uint64(len(seedFrom)) + uint64(r.everyN)*31 + uint64(r.fraction*1e6)
		r.rng = mrand.New(mrand.NewPCG(seed, 0x7412))
	}
	f.mu.Lock()
	f.rules = append(f.rules, r)
	f.mu.Unlock()
}

// Throttle adds a throttling rule: matching requests answer 429 Too Many
// Requests with Retry-After. Rules accumulate until ClearFaults. Inside a
// $batch each sub-request is evaluated on its own (the envelope stays 200);
// the envelope itself is throttled only by a Match that names "$batch".
func (s *Server) Throttle(t Throttle) {
	s.faults.add(&faultRule{cat: faultThrottle, status: 429, retryAfter: t.RetryAfter, match: t.Match,
		everyN: t.EveryN, fraction: t.Fraction, count: t.Count}, t.Match)
}

// Inject adds a fault rule (see Fault and FaultKind). Rules accumulate until
// ClearFaults; a rule with Count stops after that many faults. For example,
// 1 % of Graph requests answering 500 and 1 % of responses cut short:
//
//	srv.Inject(graphtest.Fault{Kind: graphtest.FaultStatus, Status: 500, Fraction: 0.01})
//	srv.Inject(graphtest.Fault{Kind: graphtest.FaultTruncate, Fraction: 0.01})
//
// It panics on an unknown Kind, a Fraction outside [0, 1] or a negative
// EveryN or Count: those are mistakes in the test.
func (s *Server) Inject(f Fault) {
	if f.Kind < FaultStatus || f.Kind > FaultTruncateUnsized || f.Fraction < 0 || f.Fraction > 1 || f.EveryN < 0 || f.Count < 0 {
		panic(fmt.Sprintf("graphtest: Inject(%+v): unknown kind, or Fraction outside [0, 1], or negative EveryN or Count", f))
	}
	r := &faultRule{cat: f.Kind.category(), kind: f.Kind, status: f.Status, retryAfter: f.RetryAfter, match: f.Match,
		everyN: f.EveryN, fraction: f.Fraction, count: f.Count}
	if r.kind == FaultStatus && r.status == 0 {
		r.status = http.StatusServiceUnavailable
	}
	if f.Seed != 0 {
		r.rng = mrand.New(mrand.NewPCG(f.Seed, 0x7412))
	}
	s.faults.add(r, f.Kind.String()+f.Match)
}

// FailNext makes the next n matching requests answer status (e.g. 500, 503,
// 504) with Graph's error JSON ($batch sub-requests included, as for Throttle).
// match is a substring of the request path; "" matches every Graph request.
// On the identity endpoints the body is the identity platform's error JSON.
func (s *Server) FailNext(n int, status int, match string) {
	if n > 0 {
		s.Inject(Fault{Kind: FaultStatus, Status: status, Match: match, Count: n})
	}
}

// DropNext makes the next n matching top-level requests end with the
// connection closed and no response.
func (s *Server) DropNext(n int, match string) {
	if n > 0 {
		s.Inject(Fault{Kind: FaultDrop, Match: match, Count: n})
	}
}

// TruncateNext makes the next n matching top-level requests send the status
// line, the headers (with the full Content-Length) and half of the body, then
// close the connection.
func (s *Server) TruncateNext(n int, match string) {
	if n > 0 {
		s.Inject(Fault{Kind: FaultTruncate, Match: match, Count: n})
	}
}

// SetOutage makes the whole service fail in one way (see Outage) until it is
// set back to OutageNone or ClearFaults is called. OutageRefused needs a
// server that owns its listener (NewServer, Serve or Start); the error says
// when it has none, or when the address cannot be listened on again.
func (s *Server) SetOutage(o Outage) error {
	if o < OutageNone || o > OutageRefused {
		return fmt.Errorf("graphtest: unknown outage %d", o)
	}
	s.faults.mu.Lock()
	s.faults.outage = o
	s.faults.mu.Unlock()
	s.urlMu.RLock()
	g := s.gate
	s.urlMu.RUnlock()
	if g == nil {
		if o == OutageRefused {
			return errors.New("graphtest: OutageRefused needs a server started by NewServer, Serve or Start (a mounted Handler has no listener to close)")
		}
		return nil
	}
	return g.refuse(o == OutageRefused)
}

// ClearFaults removes every throttling, failure, drop and truncation rule,
// ends any outage, removes the latency and turns EmptyPages off.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.rules = nil
	s.faults.mu.Unlock()
	_ = s.SetOutage(OutageNone)
	s.lat.Store(0)
	s.empty.Store(false)
}

// ---- faults on the wire ----

// injected is the answer of a status fault: Graph's error JSON, with the
// rule's Retry-After if it has one.
func (c *call) injected(r *faultRule) *gResp {
	resp := c.fail(r.status, failCode(r.status), http.StatusText(r.status)+" (injected by graphtest).")
	if r.retryAfter != "" {
		if resp.header == nil {
			resp.header = http.Header{}
		}
		resp.header.Set("Retry-After", r.retryAfter)
	}
	return resp
}

// endConn ends a hijacked request's connection without a response: closed
// (the client reads EOF) or, for FaultReset, reset.
func endConn(w http.ResponseWriter, f *faultRule) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if f != nil && f.kind == FaultReset {
		setLinger0(conn)
	}
	_ = conn.Close()
}

// setLinger0 makes closing c send a TCP RST instead of a FIN.
func setLinger0(c net.Conn) {
	for c != nil {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
			return
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return
		}
		c = u.NetConn()
	}
}

// writeCut sends the status line, the headers and half of the body, then
// closes the connection. The headers carry the full Content-Length, or none
// for FaultTruncateUnsized.
func writeCut(w http.ResponseWriter, resp *gResp, f *faultRule) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	bw := bufio.NewWriter(conn)
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", resp.status, http.StatusText(resp.status))
	keys := make([]string, 0, len(resp.header))
	for k := range resp.header {
		if !strings.EqualFold(k, "Content-Length") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.header[k] {
			fmt.Fprintf(bw, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(bw, "Date: %s\r\n", time.Now().UTC().Format(http.TimeFormat))
	if f == nil || f.kind != FaultTruncateUnsized {
		fmt.Fprintf(bw, "Content-Length: %d\r\n", len(resp.body))
	}
	fmt.Fprintf(bw, "Connection: close\r\n\r\n")
	_, _ = bw.Write(resp.body[:len(resp.body)/2])
	_ = bw.Flush()
}

// gate is the server's listener: it can stop listening (connections are
// refused) and listen again on the same address, and it tracks open
// connections so that an outage also ends the kept-alive ones.
type gate struct {
	mu      sync.Mutex
	network string
	addr    string
	l       net.Listener // nil while refusing
	wake    chan struct{}
	closed  bool
	conns   map[*gateConn]struct{}
}

func newGate(l net.Listener) *gate {
	return &gate{network: l.Addr().Network(), addr: l.Addr().String(), l: l,
		wake: make(chan struct{}), conns: map[*gateConn]struct{}{}}
}

// Accept implements net.Listener; while refusing it waits.
func (g *gate) Accept() (net.Conn, error) {
	for {
		g.mu.Lock()
		l, closed, wake := g.l, g.closed, g.wake
		g.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		if l == nil {
			<-wake
			continue
		}
		c, err := l.Accept()
		if err != nil {
			g.mu.Lock()
			switched := g.l != l && !g.closed
			g.mu.Unlock()
			if switched {
				continue
			}
			return nil, err
		}
		gc := &gateConn{Conn: c, g: g}
		g.mu.Lock()
		if g.l != l {
			g.mu.Unlock()
			_ = c.Close()
			continue
		}
		g.conns[gc] = struct{}{}
		g.mu.Unlock()
		return gc, nil
	}
}

// Close implements net.Listener.
func (g *gate) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	close(g.wake)
	if g.l != nil {
		return g.l.Close()
	}
	return nil
}

// Addr implements net.Listener.
func (g *gate) Addr() net.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.l != nil {
		return g.l.Addr()
	}
	return gateAddr{g.network, g.addr}
}

type gateAddr struct{ network, addr string }

func (a gateAddr) Network() string { return a.network }
func (a gateAddr) String() string  { return a.addr }

// refuse closes the listener and every open connection (on) or listens
// again on the same address (off).
func (g *gate) refuse(on bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	switch {
	case on && g.l != nil:
		err := g.l.Close()
		g.l = nil
		for c := range g.conns {
			_ = c.Conn.Close()
			delete(g.conns, c)
		}
		return err
	case !on && g.l == nil:
		l, err := net.Listen(g.network, g.addr)
		if err != nil {
			return fmt.Errorf("graphtest: listen again on %s after OutageRefused: %w", g.addr, err)
		}
		g.l = l
		close(g.wake)
		g.wake = make(chan struct{})
	}
	return nil
}

// gateConn is an accepted connection the gate tracks.
type gateConn struct {
	net.Conn
	g    *gate
	once sync.Once
}

// NetConn returns the underlying connection.
func (c *gateConn) NetConn() net.Conn { return c.Conn }

// Close implements net.Conn.
func (c *gateConn) Close() error {
	c.once.Do(func() {
		c.g.mu.Lock()
		delete(c.g.conns, c)
		c.g.mu.Unlock()
	})
	return c.Conn.Close()
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
