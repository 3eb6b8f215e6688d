package graph

import (
	"crypto/rand"
	"encoding/hex"
	"maps"
	"strings"
	"sync"
)

// NewChecklistItemID returns a new random GUID (version 4), the form Planner
// expects for the key of a new checklist item.
func NewChecklistItemID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// OrderHintBetween returns the order hint that places an item between the
// items whose hints are prev and next, in Planner's documented grammar
// "<prev> <next>!". Use "" for a missing neighbour: OrderHintBetween("", "")
// is " !" (the first item of an empty list), OrderHintBetween(last, "") puts
// an item at the end and OrderHintBetween("", first) at the start. The service
// rewrites the hint to a short value; read it back from the written object.
func OrderHintBetween(prev, next string) string {
	return prev + " " + next + "!"
}

// OrderHintFirst returns the hint that places an item before the one whose
// hint is first ("" for an empty list).
func OrderHintFirst(first string) string { return OrderHintBetween("", first) }

// OrderHintLast returns the hint that places an item after the one whose hint
// is last ("" for an empty list).
func OrderHintLast(last string) string { return OrderHintBetween(last, "") }

// Endpoint returns the template of a request, as request counters and the
// emulator count them: the method, then the path without host, query or API
// version, with the segment after users, groups, plans, buckets and tasks
// replaced by {id}. For example Endpoint("GET", "/v1.0/planner/plans/abc/tasks")
// is "GET /planner/plans/{id}/tasks" and a $batch is "POST /$batch".
func Endpoint(method, path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	path = trimVersion(path)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 1; i < len(segs); i++ {
		switch strings.ToLower(segs[i-1]) {
		case "users", "groups", "plans", "buckets", "tasks":
			if segs[i] != "" {
				segs[i] = "{id}"
			}
		}
	}
	return strings.ToUpper(method) + " /" + strings.Join(segs, "/")
}

// trimVersion drops a leading /v1.0 or /beta segment.
func trimVersion(path string) string {
	for _, v := range []string{"/v1.0", "/beta"} {
		if rest, ok := strings.CutPrefix(path, v); ok && (rest == "" || rest[0] == '/') {
			return rest
		}
	}
	return path
}

// RequestCounter counts HTTP attempts by endpoint template. Pass its Hook to
// WithRequestHook. It is safe for concurrent use.
type RequestCounter struct {
	mu     sync.Mutex
	total  int
	counts map[string]int
}

// NewRequestCounter returns an empty counter.
func NewRequestCounter() *RequestCounter {
	return &RequestCounter{counts: map[string]int{}}
}

// Hook counts one request; it has the signature WithRequestHook takes.
func (c *RequestCounter) Hook(ri RequestInfo) {
	ep := ri.Endpoint
	if ep == "" {
		ep = Endpoint(ri.Method, ri.Path)
	}
	c.mu.Lock()
	c.total++
	c.counts[ep]++
	c.mu.Unlock()
}

// Total returns the number of requests counted.
func (c *RequestCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Count returns the number of requests to an endpoint template, e.g.
// "GET /planner/plans/{id}/tasks".
func (c *RequestCounter) Count(endpoint string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[endpoint]
}

// Counts returns a copy of the counts by endpoint template.
func (c *RequestCounter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Reset sets every count to zero.
func (c *RequestCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = 0
	clear(c.counts)
}
