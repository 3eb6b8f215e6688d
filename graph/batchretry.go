package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Retrying the failed items of $batch calls.
//
// A $batch costs one request whether it holds one item or twenty, so the
// items that failed in a way they may be retried after are not sent again
// one call at a time: they wait in the client's retryPool, which gathers
// the failed items of every $batch call of the client (every table, every
// part of a listing) and sends them again together, up to 20 a call, once
// per backoff. With 3 % of items failing, reading the details of 4,000 tasks
// then costs about ceil(120/20) extra requests instead of one per $batch
// call that had a failed item.
//
// The pool keeps windows: a window opens when an item arrives that no open
// window can take, and waits one backoff (the item's Retry-After when it
// was sent one, else the client's backoff for its retry number, drawn with
// full jitter). Each item may be sent again from the end of its
// Retry-After (at once without one) to its backoff's ceiling (counted from
// that end, with a Retry-After): it joins the open window that ends first
// in that span, and when a window opens that ends earlier than the one an
// item waits in, while the item may already go, the item moves to it. When
// a window's wait is over its items are sent in calls of 20, grouped by
// how freely they may be retried; an item that fails again goes back to
// the pool with its next retry number, until the client's MaxRetries.
// Under an outage every item fails each time, so each round opens a new
// window and the waits grow as the backoff does.

// retryEntry is one failed $batch item waiting in the pool for its retry.
type retryEntry struct {
	item      batchItem // as the caller sent it (its caller's ID)
	class     retryClass
	n         int       // which retry this is: 1 for the first
	notBefore time.Time // the end of its Retry-After; zero: none
	ctx       context.Context

	// Under the pool's lock.
	earliest, latest time.Time    // when it may be sent again
	w                *retryWindow // the window it waits in
	left             bool         // its caller no longer waits
	stop             func() bool  // its context.AfterFunc registration

	done chan struct{} // closed when res or err is set
	res  BatchResponse // the last answer, when err is nil
	err  error         // the $batch call carrying it failed
}

// retryWindow is a set of entries sent again together after one wait.
type retryWindow struct {
	end     time.Time // when its wait ends
	closed  bool      // sending: takes no more entries
	entries []*retryEntry
	live    int                // entries whose caller still waits
	cancel  context.CancelFunc // ends the wait: no caller waits any more
}

// retryPool holds the windows of a client.
type retryPool struct {
	mu      sync.Mutex
	windows []*retryWindow
}

// waitOf is when an entry that failed at now may be sent again: not before
// the end of its Retry-After (zero: at once), and at the latest after its
// backoff's ceiling (after its Retry-After, when it has one).
func (c *Client) waitOf(e *retryEntry, now time.Time) (earliest, latest time.Time) {
	if e.notBefore.IsZero() {
		return now, now.Add(c.backoffCeiling(e.n))
	}
	return e.notBefore, e.notBefore.Add(c.backoffCeiling(e.n))
}

// retryLater puts entries that failed at now in the pool; each one's done
// is closed once it was answered or its retries ran out.
func (c *Client) retryLater(entries []*retryEntry, now time.Time) {
	p := &c.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range entries {
		e.earliest, e.latest = c.waitOf(e, now)
		var w *retryWindow
		for _, o := range p.windows {
			if o.closed || o.live == 0 || o.end.Before(e.earliest) || o.end.After(e.latest) {
				// (A window no caller waits for any more is ending now.)
				continue
			}
			if w == nil || o.end.Before(w.end) {
				w = o
			}
		}
		if w == nil {
			end := e.notBefore
			if end.IsZero() {
				end = now.Add(c.backoff(e.n))
			}
			w = c.openWindow(end, now)
		}
		p.join(e, w)
		e.stop = context.AfterFunc(e.ctx, func() { p.leave(e) })
	}
}

// openWindow opens a window that ends at end (the pool's lock is held),
// taking the entries of windows that end later that may go then.
func (c *Client) openWindow(end, now time.Time) *retryWindow {
	p := &c.pool
	w := &retryWindow{end: end}
	var ctx context.Context
	ctx, w.cancel = context.WithCancel(context.Background())
	for _, o := range p.windows {
		if o.closed || !o.end.After(end) {
			continue
		}
		for _, e := range slices.Clone(o.entries) {
			if !e.earliest.After(end) {
				p.join(e, w)
			}
		}
	}
	p.windows = append(p.windows, w)
	d := max(end.Sub(now), 0)
	go func() {
		_ = c.sleep(ctx, d) // cut short when no caller waits any more
		c.sendWindow(w)
	}()
	return w
}

// join puts e in window w, out of the one it was in (the pool's lock is
// held).
func (p *retryPool) join(e *retryEntry, w *retryWindow) {
	if o := e.w; o != nil {
		o.entries = slices.DeleteFunc(o.entries, func(x *retryEntry) bool { return x == e })
		if !e.left {
			o.live--
			if o.live == 0 {
				o.cancel()
			}
		}
	}
	e.w = w
	w.entries = append(w.entries, e)
	if !e.left {
		w.live++
	}
}

// leave notes that e's caller no longer waits; a window no caller waits
// for ends its wait.
func (p *retryPool) leave(e *retryEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.left = true
	if w := e.w; w != nil && !w.closed {
		w.live--
		if w.live == 0 {
			w.cancel()
		}
	}
}

// sendWindow sends a window's entries again, in calls of up to 20 items of
// one retry class, concurrently within the client's bound.
func (c *Client) sendWindow(w *retryWindow) {
	p := &c.pool
	p.mu.Lock()
	w.closed = true
	p.windows = slices.DeleteFunc(p.windows, func(o *retryWindow) bool { return o == w })
	entries := w.entries
	for _, e := range entries {
		e.w = nil
	}
	p.mu.Unlock()
	w.cancel()
	for _, e := range entries {
		e.stop()
	}
	byClass := map[retryClass][]*retryEntry{}
	var classes []retryClass
	for _, e := range entries {
		if err := e.ctx.Err(); err != nil {
			e.err = fmt.Errorf("graph: POST %s/$batch: cancelled while waiting to retry request %q: %w", c.basePath, e.item.ID, err)
			close(e.done) // its caller has left
			continue
		}
		if _, ok := byClass[e.class]; !ok {
			classes = append(classes, e.class)
		}
		byClass[e.class] = append(byClass[e.class], e)
	}
	var wg sync.WaitGroup
	for _, cl := range classes {
		es := byClass[cl]
		for len(es) > 0 {
			part := es[:min(len(es), maxBatch)]
			es = es[len(part):]
			wg.Go(func() { c.resend(part, cl) })
		}
	}
	wg.Wait()
}

// resend sends up to 20 entries of class cl in one $batch and settles each:
// answered, failed for good, or back in the pool for its next retry.
func (c *Client) resend(entries []*retryEntry, cl retryClass) {
	// The call goes on while any of its callers waits.
	ctx, cancel := context.WithCancel(context.WithoutCancel(entries[0].ctx))
	defer cancel()
	var live atomic.Int64
	live.Store(int64(len(entries)))
	for _, e := range entries {
		stop := context.AfterFunc(e.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	items := make([]batchItem, len(entries))
	for i, e := range entries {
		items[i] = e.item
		items[i].ID = strconv.Itoa(i + 1) // the callers' ids may clash
	}
	replies, err := c.postBatch(ctx, items, cl)
	if err != nil {
		for _, e := range entries {
			e.err = err
			close(e.done)
		}
		return
	}
	var again []*retryEntry
	now := c.now()
	for i, e := range entries {
		r, ok := replies[items[i].ID]
		if !ok {
			e.res = c.noReply(&e.item)
			close(e.done)
			continue
		}
		e.res = replyOf(&e.item, r)
		next := c.retryEntry(e.ctx, &e.item, r, e.n+1, now)
		c.reportItem(&e.item, r, e.n+1, next, now)
		if next != nil {
			e.n, e.notBefore = next.n, next.notBefore
			again = append(again, e)
			continue
		}
		close(e.done)
	}
	if len(again) > 0 {
		c.retryLater(again, now)
	}
}

// retryEntry returns an entry for retry n of an item that failed with r, or
// nil when the item is answered for good (a success, a status its method is
// not retried after, or its retries ran out).
// now is when the reply arrived.
func (c *Client) retryEntry(ctx context.Context, it *batchItem, r *batchReply, n int, now time.Time) *retryEntry {
	if n > c.retry.MaxRetries {
		return nil
	}
	cl := it.class()
	ra, hasRA := parseRetryAfter(header(r.Headers, "Retry-After"), now)
	if !retryable(r.Status, cl, hasRA) || hasRA && ra > c.retry.MaxRetryAfter {
		return nil // settle says why a too long Retry-After was not waited
	}
	e := &retryEntry{item: *it, class: cl, n: n, ctx: ctx, done: make(chan struct{}), res: replyOf(it, r)}
	if hasRA {
		e.notBefore = now.Add(ra)
	}
	return e
}

// reportItem tells the item hook about an item answered with an error
// status on attempt n; next is its retry, or nil when it is not sent again.
func (c *Client) reportItem(it *batchItem, r *batchReply, n int, next *retryEntry, now time.Time) {
	if c.itemHook == nil || r.Status < 400 {
		return
	}
	path, _, _ := strings.Cut(it.URL, "?")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	path = c.basePath + path
	_, hasRA := parseRetryAfter(header(r.Headers, "Retry-After"), now)
	info := RequestInfo{Method: it.Method, Path: path, Endpoint: c.endpoint(it.Method, path), Status: r.Status, Attempt: n, HasRetryAfter: hasRA}
	if next != nil {
		info.Retry, info.RetryAfter = true, !next.notBefore.IsZero()
		if info.RetryAfter {
			info.RetryIn = next.notBefore.Sub(now)
		}
	}
	c.itemHook(info)
}

// replyOf is the response to it that r holds.
func replyOf(it *batchItem, r *batchReply) BatchResponse {
	return BatchResponse{ID: it.ID, Status: r.Status, Headers: r.Headers, Body: json.RawMessage(r.Body.raw), value: r.Body.value, valueErr: r.Body.err}
}

// noReply is the response to it when the $batch answer has no reply to it.
func (c *Client) noReply(it *batchItem) BatchResponse {
	return BatchResponse{ID: it.ID, Err: fmt.Errorf("graph: POST %s/$batch: no response for request %q (%s %s); retry it", c.basePath, it.ID, it.Method, it.URL)}
}

// settle sets the Err of every response that is not 2xx.
func (c *Client) settle(items []batchItem, out []BatchResponse) {
	for i := range out {
		r := &out[i]
		if r.Err == nil && (r.Status < 200 || r.Status >= 300) {
			path, _, _ := strings.Cut(items[i].URL, "?")
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
			r.Err = newError(items[i].Method, c.basePath+path, r.Status, toHeader(r.Headers), r.Body)
			if ra, ok := parseRetryAfter(header(r.Headers, "Retry-After"), c.now()); ok && ra > c.retry.MaxRetryAfter &&
				retryable(r.Status, items[i].class(), true) {
				r.Err = &RetryAfterError{Err: r.Err, Wait: ra, Max: c.retry.MaxRetryAfter}
			}
		}
	}
}

// runPooled sends up to 20 items that do not depend on each other in one
// $batch, then waits for the retries of the failed ones in the client's
// pool. parked, if not nil, is called when the items that failed are put in
// the pool (not when none did): the caller may send other work meanwhile.
func (c *Client) runPooled(ctx context.Context, items []batchItem, parked func()) ([]BatchResponse, error) {
	class := idempotent
	for i := range items {
		class = min(class, items[i].class())
	}
	replies, err := c.postBatch(ctx, items, class)
	if err != nil {
		return nil, err
	}
	out := make([]BatchResponse, len(items))
	now := c.now()
	var waiting []*retryEntry
	var at []int // index in items of each waiting entry
	for i := range items {
		it := &items[i]
		r, ok := replies[strings.ToLower(it.ID)]
		if !ok {
			out[i] = c.noReply(it)
			continue
		}
		out[i] = replyOf(it, r)
		e := c.retryEntry(ctx, it, r, 1, now)
		c.reportItem(it, r, 1, e, now)
		if e != nil {
			waiting = append(waiting, e)
			at = append(at, i)
		}
	}
	if len(waiting) > 0 {
		c.retryLater(waiting, now)
		if parked != nil {
			parked()
		}
		for k, e := range waiting {
			select {
			case <-e.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("graph: POST %s/$batch: cancelled while waiting to retry %d failed requests: %w", c.basePath, len(waiting), ctx.Err())
			}
			if e.err != nil {
				return nil, e.err
			}
			out[at[k]] = e.res
		}
	}
	c.settle(items, out)
	return out, nil
}

// linked reports whether any item depends on another.
func linked(items []batchItem) bool {
	for i := range items {
		if len(items[i].DependsOn) > 0 {
			return true
		}
	}
	return false
}
