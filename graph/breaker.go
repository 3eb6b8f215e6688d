package graph

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrUnreachable is the error (test with errors.Is) of requests the client
// did not complete because Microsoft Graph does not answer: connections
// refused, reset or closed, timeouts, or 500/502/503/504 on every attempt for
// a while (see BreakerPolicy). The error is an *UnreachableError.
var ErrUnreachable = errors.New("graph: Microsoft Graph is unreachable")

// UnreachableError says that Graph stopped answering: Failures attempts in a
// row failed over Span, the last with Last. Until Until, every request of
// the client fails at once with this error, without being sent; then one
// request is let through to see whether Graph is back. It matches
// ErrUnreachable with errors.Is and unwraps to Last (so errors.As finds an
// *Error when the last failure was an error response).
type UnreachableError struct {
	Method   string        // the request that failed, e.g. "GET"
	Path     string        // its path, without host or query
	Host     string        // the Graph host, e.g. "graph.microsoft.com"
	Failures int           // consecutive failed attempts across the client
	Span     time.Duration // from the first of them to the last
	Until    time.Time     // requests fail at once until then
	Last     error         // the last failure
}

// Error implements error.
func (e *UnreachableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: %s %s: Microsoft Graph at %s is unreachable: %d requests in a row failed over %v", e.Method, e.Path, e.Host, e.Failures, e.Span.Round(100*time.Millisecond))
	if e.Last != nil {
		// The last failure without the "graph: METHOD /path: " it shares.
		last := strings.TrimPrefix(e.Last.Error(), "graph: ")
		if _, rest, ok := strings.Cut(last, ": "); ok && strings.Count(last[:len(last)-len(rest)], " ") == 2 {
			last = rest
		}
		b.WriteString(", the last with: ")
		b.WriteString(last)
	}
	b.WriteString("; check the network, any proxy and GraphURL, or Microsoft 365 service health, then run again")
	return b.String()
}

// Is reports whether target is ErrUnreachable.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// Unwrap returns the last failure.
func (e *UnreachableError) Unwrap() error { return e.Last }

// BreakerPolicy says when the client declares Graph unreachable and stops
// sending requests (a circuit breaker shared by every request of the client,
// so that one run's many tables stop together instead of each spending its
// own retries). A failed attempt is a connection that could not be made or
// broke before a whole response (refused, reset, closed, timed out), or a 500,
// 502, 503 or 504; any other answer — 429 and 4xx included — shows Graph is
// there and ends the streak.
//
// Graph is declared unreachable when Failures attempts in a row have failed
// over at least MinSpan, or — whatever their span — when a request has
// failed on every attempt its retries allow (at least one retry) and the
// streak has reached Failures: its whole retry schedule found Graph down, so
// the next request would only spend the same retries. Connections refused
// fail at once, so one request's retries may span less than MinSpan; they
// still stop the client after that request rather than after the next.
type BreakerPolicy struct {
	// Failures is how many attempts in a row must fail (default 5; negative:
	// never declare Graph unreachable).
	Failures int
	// MinSpan is how long those failures must span while requests are still
	// retrying, so that a short blip with many requests in flight is retried
	// rather than fatal (default 10s; negative: no minimum). A request that
	// ran out of retries does not wait for it (see above).
	MinSpan time.Duration
	// Cooldown is how long requests then fail at once before one is let
	// through to probe (default 30s). A probe that gets an answer closes the
	// breaker; one that fails opens it for another Cooldown.
	Cooldown time.Duration
}

// Defaults of BreakerPolicy.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerMinSpan  = 10 * time.Second
	DefaultBreakerCooldown = 30 * time.Second
)

func (p BreakerPolicy) withDefaults() BreakerPolicy {
	if p.Failures == 0 {
		p.Failures = DefaultBreakerFailures
	}
	if p.MinSpan == 0 {
		p.MinSpan = DefaultBreakerMinSpan
	}
	if p.Cooldown <= 0 {
		p.Cooldown = DefaultBreakerCooldown
	}
	return p
}

// WithBreakerPolicy sets when the client declares Graph unreachable (default:
// 5 failed attempts in a row over at least 10s, then 30s of failing at once).
func WithBreakerPolicy(p BreakerPolicy) Option {
	return func(c *Client) { c.breaker.policy = p.withDefaults() }
}

// breaker counts consecutive failed attempts across the client.
type breaker struct {
	policy BreakerPolicy

	mu       sync.Mutex
	failures int
	first    time.Time // first failure of the streak
	lastAt   time.Time
	last     error
	until    time.Time // open until; zero when closed
	probing  bool      // a probe is in flight
}

// allow reports whether an attempt may be sent now; when not, it returns the
// error to fail with. After the cooldown one caller at a time gets through.
func (b *breaker) allow(now time.Time, method, path, host string) *UnreachableError {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until.IsZero() {
		return nil
	}
	if now.Before(b.until) || b.probing {
		return b.errorLocked(method, path, host)
	}
	b.probing = true
	return nil
}

// open reports the error of an open breaker, or nil when closed.
func (b *breaker) open(method, path, host string) *UnreachableError {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until.IsZero() {
		return nil
	}
	return b.errorLocked(method, path, host)
}

func (b *breaker) errorLocked(method, path, host string) *UnreachableError {
	return &UnreachableError{Method: method, Path: path, Host: host, Failures: b.failures,
		Span: b.lastAt.Sub(b.first), Until: b.until, Last: b.last}
}

// outcome is what an attempt tells about Graph's reachability.
type outcome int

const (
	outcomeNone     outcome = iota // nothing (cancelled, no token, refused locally)
	outcomeAnswered                // Graph answered
	outcomeFailed                  // no answer, or 500/502/503/504
)

// record counts an attempt's outcome.
func (b *breaker) record(now time.Time, o outcome, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch o {
	case outcomeNone:
		b.probing = false // let another request probe
		return
	case outcomeAnswered:
		b.failures, b.first, b.last, b.until, b.probing = 0, time.Time{}, nil, time.Time{}, false
		return
	}
	if b.failures == 0 {
		b.first = now
	}
	b.failures++
	b.lastAt, b.last = now, err
	switch {
	case b.probing:
		b.probing = false
		b.until = now.Add(b.policy.Cooldown)
	case !b.until.IsZero():
		// An attempt sent before the breaker opened: it stays open.
	case b.policy.Failures > 0 && b.failures >= b.policy.Failures && (b.policy.MinSpan < 0 || now.Sub(b.first) >= b.policy.MinSpan):
		b.until = now.Add(b.policy.Cooldown)
	}
}

// ranOut notes that a request failed on every attempt its retries allowed:
// the breaker opens if the streak has reached Failures, whatever its span.
func (b *breaker) ranOut(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until.IsZero() && b.policy.Failures > 0 && b.failures >= b.policy.Failures {
		b.until = now.Add(b.policy.Cooldown)
	}
}
