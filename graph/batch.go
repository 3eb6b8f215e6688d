package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// maxBatch is Graph's limit of requests per $batch.
const maxBatch = 20

// BatchRequest is one request of a $batch. URL is relative to the base URL
// (e.g. "/planner/tasks/{id}/details"). Body, if not nil, is encoded as JSON
// (a json.RawMessage is sent as is) and gets Content-Type application/json
// unless Headers set one. DependsOn names requests of the same call that
// must succeed first (Graph answers 424 otherwise). An empty ID is replaced
// by the request's 1-based position.
type BatchRequest struct {
	ID        string
	Method    string
	URL       string
	Headers   map[string]string
	Body      any
	DependsOn []string
}

// BatchResponse is the answer to one BatchRequest. Err is a *Error when
// Status is not 2xx.
type BatchResponse struct {
	ID      string
	Status  int
	Headers map[string]string
	Body    json.RawMessage
	Err     error

	// value is the 2xx body decoded straight into the request's model
	// (batchItem.into) while the envelope was read, Body then being nil;
	// valueErr says why a body that is JSON could not be decoded into it.
	value    any
	valueErr error
}

// batchItem is a request on the wire.
type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`

	// into, if not nil, returns a new value for a 2xx body to be decoded
	// into as the envelope is read (a pointer to a model); each attempt gets
	// its own, so a failed attempt leaves nothing behind.
	into func() any
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (it *batchItem) class() retryClass {
	return classOf(it.Method, header(it.Headers, "If-Match") != "")
}

// Batch sends requests through $batch and returns the responses in the order
// of reqs. More than 20 requests are split into several $batch calls, run
// concurrently within the client's concurrency bound. Requests linked by
// DependsOn (at most 20 of them) are never sent in a shape Graph refuses
// (400: a $batch must be fully parallel or fully sequential, and a request
// may depend only on requests before it): a chain goes in one call of its
// own, in dependency order whatever the order of reqs; any other shape (one
// request that several depend on, say) goes in one fully parallel call per
// level of dependency, a request whose dependency failed answered 424
// without being sent. A dependency cycle is an error, with nothing sent.
//
// Items that failed in a way their method may be retried after (see the
// package documentation: 429, 503 and 504, and 500 and 502 for a GET) are
// sent again after their Retry-After or a backoff. Items that depend on no
// other are sent again together with the failed items of the client's
// other $batch calls made meanwhile, up to 20 a call, after one shared
// wait (see the package documentation); linked items are sent again in a
// call of their own, with the items that failed with 424 only because such
// an item did. The error is not nil when a whole $batch call failed; a
// failed item only sets its response's Err.
func (c *Client) Batch(ctx context.Context, reqs []BatchRequest) ([]BatchResponse, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	items := make([]batchItem, len(reqs))
	index := make(map[string]int, len(reqs))
	for i, r := range reqs {
		it := batchItem{ID: r.ID, Method: strings.ToUpper(r.Method), DependsOn: r.DependsOn}
		if it.ID == "" {
			it.ID = strconv.Itoa(i + 1)
		}
		if it.Method == "" {
			it.Method = http.MethodGet
		}
		u, err := c.batchURL(it.Method, r.URL)
		if err != nil {
			return nil, err
		}
		it.URL = u
		key := strings.ToLower(it.ID)
		if _, dup := index[key]; dup {
			return nil, fmt.Errorf("graph: POST %s/$batch: request id %q is used twice: give every request a unique id", c.basePath, it.ID)
		}
		index[key] = i
		if len(r.Headers) > 0 {
			it.Headers = make(map[string]string, len(r.Headers)+1)
			for k, v := range r.Headers {
				it.Headers[k] = v
			}
		}
		if r.Body != nil {
			var b []byte
			switch x := r.Body.(type) {
			case json.RawMessage:
				b = x
			default:
				var err error
				if b, err = json.Marshal(x); err != nil {
					return nil, fmt.Errorf("graph: POST %s/$batch: encode the body of request %q: %w", c.basePath, it.ID, err)
				}
			}
			it.Body = b
			if header(it.Headers, "Content-Type") == "" {
				if it.Headers == nil {
					it.Headers = map[string]string{}
				}
				it.Headers["Content-Type"] = "application/json"
			}
		}
		items[i] = it
	}
	chunks, err := c.batchChunks(items, index)
	if err != nil {
		return nil, err
	}
	out := make([]BatchResponse, len(items))
	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	for k, ch := range chunks {
		wg.Go(func() {
			if ch.levels != nil {
				errs[k] = c.runLevels(ctx, items, index, ch, out)
				return
			}
			sub := make([]batchItem, len(ch.items))
			for j, i := range ch.items {
				sub[j] = items[i]
			}
			res, err := c.runBatch(ctx, sub)
			if err != nil {
				errs[k] = err
				return
			}
			for j, i := range ch.items {
				out[i] = res[j]
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// batchChunk is one $batch call of Batch (items, indexes into its
// requests, in the order sent), or, for linked requests that are not a
// chain, one call per level of dependency (levels).
type batchChunk struct {
	items  []int
	levels [][]int
}

// batchChunks packs the requests into calls of at most 20. Requests linked
// by DependsOn stay together, in a call of their own (Graph answers 400 to
// a batch that is neither fully parallel nor fully sequential), in
// dependency order (a request may depend only on requests before it): a
// chain is one fully sequential call, any other shape one fully parallel
// call per level. A cycle is an error.
func (c *Client) batchChunks(items []batchItem, index map[string]int) ([]batchChunk, error) {
	parent := make([]int, len(items))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	deps := make([][]int, len(items))
	for i, it := range items {
		for _, d := range it.DependsOn {
			j, ok := index[strings.ToLower(d)]
			if !ok {
				return nil, fmt.Errorf("graph: POST %s/$batch: request %q depends on %q, which is not in the batch", c.basePath, it.ID, d)
			}
			if j == i {
				return nil, fmt.Errorf("graph: POST %s/$batch: request %q depends on itself", c.basePath, it.ID)
			}
			deps[i] = append(deps[i], j)
			parent[find(i)] = find(j)
		}
	}
	groups := map[int][]int{}
	var roots []int
	for i := range items {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	var chunks []batchChunk
	var cur []int
	for _, r := range roots {
		g := groups[r]
		if len(g) > maxBatch {
			return nil, fmt.Errorf("graph: POST %s/$batch: %d requests are linked by dependsOn; Graph allows %d in one $batch: split them", c.basePath, len(g), maxBatch)
		}
		if len(g) > 1 {
			ch, err := c.linkedChunk(items, g, deps)
			if err != nil {
				return nil, err
			}
			chunks = append(chunks, ch)
			continue
		}
		if len(cur)+len(g) > maxBatch {
			chunks = append(chunks, batchChunk{items: cur})
			cur = nil
		}
		cur = append(cur, g...)
	}
	if len(cur) > 0 {
		chunks = append(chunks, batchChunk{items: cur})
	}
	return chunks, nil
}

// linkedChunk plans the call(s) of a group g of linked requests (deps[i]:
// the requests i depends on): their levels of dependency (level 0 depends on
// nothing; level n on requests of levels below n, one of them n-1), each in
// the order of the requests; one fully sequential call when every level
// holds one request.
func (c *Client) linkedChunk(items []batchItem, g []int, deps [][]int) (batchChunk, error) {
	level := make(map[int]int, len(g))
	var levels [][]int
	for len(level) < len(g) {
		var next []int
		for _, i := range g {
			if _, done := level[i]; done {
				continue
			}
			ready := true
			for _, j := range deps[i] {
				if l, ok := level[j]; !ok || l >= len(levels) {
					ready = false
					break
				}
			}
			if ready {
				next = append(next, i)
			}
		}
		if len(next) == 0 {
			var ids []string
			for _, i := range g {
				if _, done := level[i]; !done {
					ids = append(ids, strconv.Quote(items[i].ID))
				}
			}
			return batchChunk{}, fmt.Errorf("graph: POST %s/$batch: requests %s depend on each other in a cycle", c.basePath, strings.Join(ids, ", "))
		}
		for _, i := range next {
			level[i] = len(levels)
		}
		levels = append(levels, next)
	}
	chain := true
	var order []int
	for _, l := range levels {
		chain = chain && len(l) == 1
		order = append(order, l...)
	}
	if chain {
		return batchChunk{items: order}, nil
	}
	return batchChunk{levels: levels}, nil
}

// runLevels sends linked requests that are not a chain: one fully parallel
// call per level (without dependsOn), a request whose dependency failed
// answered 424 without being sent. Responses go to out.
func (c *Client) runLevels(ctx context.Context, items []batchItem, index map[string]int, ch batchChunk, out []BatchResponse) error {
	for _, l := range ch.levels {
		var send []int
		for _, i := range l {
			failed := ""
			for _, d := range items[i].DependsOn {
				if r := out[index[strings.ToLower(d)]]; r.Err != nil {
					failed = d
					break
				}
			}
			if failed == "" {
				send = append(send, i)
				continue
			}
			it := items[i]
			path, _, _ := strings.Cut(it.URL, "?")
			body := fmt.Sprintf(`{"error":{"code":"failedDependency","message":%q}}`, "Request "+it.ID+" was not sent: request "+failed+", which it depends on, failed.")
			out[i] = BatchResponse{ID: it.ID, Status: http.StatusFailedDependency,
				Err: newError(it.Method, c.basePath+"/"+strings.TrimPrefix(path, "/"), http.StatusFailedDependency, nil, []byte(body))}
		}
		if len(send) == 0 {
			continue
		}
		sub := make([]batchItem, len(send))
		for j, i := range send {
			sub[j] = items[i]
			sub[j].DependsOn = nil
		}
		res, err := c.runBatch(ctx, sub)
		if err != nil {
			return err
		}
		for j, i := range send {
			out[i] = res[j]
		}
	}
	return nil
}

// runBatch sends up to 20 items in one $batch and returns their responses,
// in the order of items, once the failed ones that may be retried were sent
// again until they succeeded or their retries ran out: with the failed items
// of other calls, in the client's retry pool (see retryPool), or — items
// linked by DependsOn — in calls of their own (runLinked).
func (c *Client) runBatch(ctx context.Context, items []batchItem) ([]BatchResponse, error) {
	if linked(items) {
		return c.runLinked(ctx, items)
	}
	return c.runPooled(ctx, items, nil)
}

// runLinked sends up to 20 items, some depending on others, in one $batch,
// then re-sends the throttled ones, with the items that failed with 424 only
// because of them, in a call of their own until they succeed or the retries
// run out. Responses are in the order of items.
func (c *Client) runLinked(ctx context.Context, items []batchItem) ([]BatchResponse, error) {
	out := make([]BatchResponse, len(items))
	pending := make([]int, len(items)) // indexes into items
	for i := range pending {
		pending[i] = i
	}
	for round := 0; ; round++ {
		sub := make([]batchItem, len(pending))
		class := idempotent
		inRound := make(map[string]bool, len(pending))
		for j, i := range pending {
			sub[j] = items[i]
			inRound[strings.ToLower(items[i].ID)] = true
			class = min(class, items[i].class())
		}
		// A dependency that succeeded in an earlier round is not sent again.
		for j := range sub {
			if len(sub[j].DependsOn) == 0 {
				continue
			}
			var deps []string
			for _, d := range sub[j].DependsOn {
				if inRound[strings.ToLower(d)] {
					deps = append(deps, d)
				}
			}
			sub[j].DependsOn = deps
		}
		replies, err := c.postBatch(ctx, sub, class)
		if err != nil {
			return nil, err
		}
		var retry []int
		var delay time.Duration
		throttled := map[string]bool{}
		for _, i := range pending {
			it := &items[i]
			r, ok := replies[strings.ToLower(it.ID)]
			if !ok {
				out[i] = c.noReply(it)
				continue
			}
			out[i] = replyOf(it, r)
			ra, hasRA := parseRetryAfter(header(r.Headers, "Retry-After"), c.now())
			if retryable(r.Status, it.class(), hasRA) {
				throttled[strings.ToLower(it.ID)] = true
				retry = append(retry, i)
				delay = max(delay, ra)
			}
		}
		// Items that failed only because a throttled item they depend on did.
		for _, i := range pending {
			if out[i].Status != http.StatusFailedDependency {
				continue
			}
			for _, d := range items[i].DependsOn {
				if throttled[strings.ToLower(d)] {
					retry = append(retry, i)
					break
				}
			}
		}
		if len(retry) == 0 || round >= c.retry.MaxRetries {
			break
		}
		if delay == 0 {
			delay = c.backoff(round + 1)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("graph: POST %s/$batch: cancelled while waiting %v to retry %d failed requests: %w", c.basePath, delay.Round(time.Millisecond), len(retry), err)
		}
		// Keep the original order so that dependencies come first.
		inRetry := make(map[int]bool, len(retry))
		for _, i := range retry {
			inRetry[i] = true
		}
		pending = pending[:0]
		for i := range items {
			if inRetry[i] {
				pending = append(pending, i)
			}
		}
	}
	c.settle(items, out)
	return out, nil
}

func toHeader(m map[string]string) http.Header {
	h := make(http.Header, len(m))
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// postBatch sends one $batch call and returns the replies by lower-case id.
// class is the least safe of its items' (a $batch of reads is retried like a
// GET, its envelope's early end included).
func (c *Client) postBatch(ctx context.Context, items []batchItem, class retryClass) (map[string]*batchReply, error) {
	body, err := json.Marshal(struct {
		Requests []batchItem `json:"requests"`
	}{items})
	if err != nil {
		return nil, fmt.Errorf("graph: POST %s/$batch: encode the batch: %w", c.basePath, err)
	}
	into := func(id string) func() any {
		for i := range items {
			if strings.EqualFold(items[i].ID, id) {
				return items[i].into
			}
		}
		return nil
	}
	var env batchEnvelope
	_, err = c.do(ctx, &request{method: http.MethodPost, url: c.abs("/$batch"), body: body, header: http.Header{"Content-Type": {"application/json"}},
		class: class, recycle: true, decode: func(b []byte) error {
			env = batchEnvelope{Responses: batchReplies{into: into}}
			return decodeInto(b, &env)
		}})
	if err != nil {
		return nil, err
	}
	m := make(map[string]*batchReply, len(env.Responses.list))
	for i := range env.Responses.list {
		m[strings.ToLower(env.Responses.list[i].ID)] = &env.Responses.list[i]
	}
	return m, nil
}

// batchEnvelope is the body of a $batch response.
type batchEnvelope struct {
	Responses batchReplies `json:"responses"`
}

// batchReplies are the replies of a $batch response, decoded in the pass
// that reads the envelope: a 2xx body whose request names a model to decode
// it into (batchItem.into) is decoded straight into a new one, rather than
// kept as bytes to be read again. Any other body is kept as a copy of its
// bytes (the response's buffer is reused), and so is a 2xx body that comes
// before its reply's status (Graph sends the status first).
type batchReplies struct {
	list []batchReply
	into func(id string) func() any // by reply id; nil: none
}

// batchReply is one item of a $batch response.
type batchReply struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    replyBody         `json:"body"`
}

// replyBody is a batchReply's body: raw, or decoded into value; err says why
// a body that is JSON could not be decoded into the request's model (that
// item alone fails).
type replyBody struct {
	raw   jsontext.Value
	value any
	err   error

	// Set while the reply is decoded.
	reply *batchReply
	into  func(id string) func() any
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (rs *batchReplies) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	rs.list = nil
	if k := dec.PeekKind(); k != '[' {
		v, err := dec.ReadValue() // null, or the syntax error
		if err != nil || k == 'n' {
			return err
		}
		return fmt.Errorf("$batch responses must be an array, not %.20s", v)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != ']' {
		rs.list = append(rs.list, batchReply{})
		r := &rs.list[len(rs.list)-1]
		r.Body = replyBody{reply: r, into: rs.into}
		err := jsonv2.UnmarshalDecode(dec, r)
		r.Body.reply, r.Body.into = nil, nil
		if err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (b *replyBody) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	b.raw, b.value, b.err = nil, nil, nil // a body given twice: the last one
	var newValue func() any
	if r := b.reply; r != nil && b.into != nil && r.Status >= 200 && r.Status < 300 {
		newValue = b.into(r.ID)
	}
	if newValue == nil {
		v, err := dec.ReadValue()
		b.raw = bytes.Clone(v)
		return err
	}
	v := newValue()
	depth := dec.StackDepth()
	err := jsonv2.UnmarshalDecode(dec, v)
	var se *jsontext.SyntacticError
	switch {
	case err == nil:
		b.value = v
		return nil
	case errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF):
		return err // the envelope is not JSON
	}
	// JSON, but not the model's: this item alone fails. Decoding stopped at
	// the value at fault; read on to the end of the body.
	b.err = err
	for dec.StackDepth() > depth {
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
	}
	return nil
}

// getPair GETs two objects in one $batch; the first failed item's error is
// returned.
func getPair[A, B any](ctx context.Context, c *Client, pa, pb apiPath) (*A, *B, error) {
	for _, p := range []apiPath{pa, pb} {
		if p.err != nil {
			return nil, nil, p.err
		}
	}
	res, err := c.runBatch(ctx, []batchItem{
		{ID: "1", Method: http.MethodGet, URL: pa.s, into: intoNew[A]},
		{ID: "2", Method: http.MethodGet, URL: pb.s, into: intoNew[B]}})
	if err != nil {
		return nil, nil, err
	}
	for _, r := range res {
		if r.Err != nil {
			return nil, nil, r.Err
		}
	}
	a, err := decodedAs[A](&res[0])
	if err != nil {
		return nil, nil, decodeError(http.MethodGet, c.basePath+pa.s, err)
	}
	b, err := decodedAs[B](&res[1])
	if err != nil {
		return nil, nil, decodeError(http.MethodGet, c.basePath+pb.s, err)
	}
	return a, b, nil
}

// intoNew is a batchItem.into for a model T.
func intoNew[T any]() any { return new(T) }

// decodedAs returns the body of a successful response as a *T: the value
// decoded with the envelope, else its bytes decoded now.
func decodedAs[T any](r *BatchResponse) (*T, error) {
	if r.valueErr != nil {
		return nil, r.valueErr
	}
	if v, ok := r.value.(*T); ok {
		return v, nil
	}
	v := new(T)
	if err := decodeInto(r.Body, v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodedAny is decodedAs for a model held in an interface: newValue
// returns a pointer to a new one.
func decodedAny(r *BatchResponse, newValue func() any) (any, error) {
	if r.valueErr != nil {
		return nil, r.valueErr
	}
	if r.value != nil {
		return r.value, nil
	}
	v := newValue()
	if err := decodeAny(r.Body, v); err != nil {
		return nil, err
	}
	return v, nil
}

// listByBatch GETs one object per id through $batch (20 per call, up to the
// client's concurrency in flight) and yields them in the order of ids. A
// failed item yields (nil, err) and iteration continues; breaking out stops
// the remaining calls.
func listByBatch[T any](ctx context.Context, c *Client, ids []string, path func(id string) apiPath) iter.Seq2[*T, error] {
	return listBySeq[T](ctx, c, slices.Values(ids), path)
}

// listBySeq is listByBatch over ids pulled as calls start (see inOrder).
func listBySeq[T any](ctx context.Context, c *Client, ids iter.Seq[string], path func(id string) apiPath) iter.Seq2[*T, error] {
	return inOrder(ctx, c, ids, maxBatch, func(ctx context.Context, part []string, parked func()) ([]*T, []error) {
		got, errs := c.getEach(ctx, len(part), func(j int) (apiPath, func() any) { return path(part[j]), intoNew[T] }, parked)
		v := make([]*T, len(part))
		for j, x := range got {
			if x != nil {
				v[j] = x.(*T)
			}
		}
		return v, errs
	})
}

// getEach GETs n objects in one $batch call (through the retry pool, see
// runPooled): at(j) gives object j's path and a new value of its model. It
// returns each object, decoded, or its error. An id that cannot be in a
// path fails alone, unsent.
func (c *Client) getEach(ctx context.Context, n int, at func(j int) (apiPath, func() any), parked func()) ([]any, []error) {
	v, errs := make([]any, n), make([]error, n)
	items := make([]batchItem, 0, n)
	sent := make([]int, 0, n) // index of each item's object
	paths := make([]string, n)
	models := make([]func() any, n)
	for j := range n {
		p, model := at(j)
		if p.err != nil {
			errs[j] = p.err
			continue
		}
		paths[j], models[j] = p.s, model
		items = append(items, batchItem{ID: strconv.Itoa(j + 1), Method: http.MethodGet, URL: p.s, into: model})
		sent = append(sent, j)
	}
	var replies []BatchResponse
	var err error
	if len(items) > 0 {
		replies, err = c.runPooled(ctx, items, parked)
	}
	for k, j := range sent {
		switch {
		case err != nil:
			errs[j] = err
		case replies[k].Err != nil:
			errs[j] = replies[k].Err
		default:
			x, err := decodedAny(&replies[k], models[j])
			if err != nil {
				errs[j] = decodeError(http.MethodGet, c.basePath+paths[j], err)
			} else {
				v[j] = x
			}
		}
	}
	return v, errs
}

// inOrderAhead bounds how far inOrder runs ahead of its consumer while the
// part the consumer waits for is parked: at most this many times the
// client's concurrency of parts started and not yet yielded.
const inOrderAhead = 8

// inOrder runs work on the keys, per at a time (a part; keys are pulled as
// parts start), and yields the value and error work returns for each key,
// in the order of keys. Up to the client's concurrency of parts are sent at
// once and held ahead of the consumer. A part whose failed items wait in
// the client's retry pool (work calls parked when they do) is not being
// sent: while the part the consumer waits for is parked, further parts are
// sent (up to inOrderAhead times the concurrency held), so that their
// failed items join the same retries, in full $batch calls, instead of
// each waiting its own backoff. Breaking out cancels the parts still
// running.
func inOrder[K, V any](ctx context.Context, c *Client, keys iter.Seq[K], per int, work func(ctx context.Context, part []K, parked func()) ([]V, []error)) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		next, stop := iter.Pull(keys)
		defer stop()
		type part struct {
			v            []V
			err          []error
			parked, done bool
		}
		type event struct {
			p      *part
			parked bool // else done
		}
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		// Each part held sends at most two events, and a part is yielded
		// only after its last: the buffer never fills.
		events := make(chan event, 2*inOrderAhead*c.maxConc)
		var queue []*part // started, not yet yielded, in order
		sending := 0      // parts of queue neither parked nor done
		more := true
		for {
			for more && sending < c.maxConc {
				limit := c.maxConc
				if len(queue) > 0 && queue[0].parked {
					limit = inOrderAhead * c.maxConc
				}
				if len(queue) >= limit {
					break
				}
				ks := make([]K, 0, per)
				for len(ks) < per {
					k, ok := next()
					if !ok {
						more = false
						break
					}
					ks = append(ks, k)
				}
				if len(ks) == 0 {
					break
				}
				p := &part{}
				queue = append(queue, p)
				sending++
				wg.Go(func() {
					v, err := work(ctx, ks, func() { events <- event{p, true} })
					p.v, p.err = v, err
					events <- event{p, false}
				})
			}
			for len(queue) > 0 && queue[0].done {
				p := queue[0]
				queue = queue[1:]
				for j := range p.v {
					if !yield(p.v[j], p.err[j]) {
						return
					}
				}
			}
			if len(queue) == 0 && !more {
				return
			}
			if len(queue) == 0 {
				continue
			}
			ev := <-events
			switch {
			case ev.parked:
				ev.p.parked = true
				sending--
			default:
				ev.p.done = true
				if !ev.p.parked {
					sending--
				}
			}
		}
	}
}
