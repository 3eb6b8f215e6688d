package graphtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

const maxBatchRequests = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batch answers POST /$batch: the envelope is 200 when it parses; each
// sub-request has its own status. Responses come back in a different order
// than the requests (a deterministic shuffle).
func (c *call) batch() *gResp {
	if c.req.method != http.MethodPost {
		return c.methodNotAllowed()
	}
	q, err := url.ParseQuery(c.req.rawQuery)
	if err != nil {
		return c.fail(http.StatusBadRequest, "BadRequest", "The query string is malformed.")
	}
	c.q = q
	if r := c.authenticate(); r != nil {
		return r
	}
	obj, r := c.readJSONObject()
	if r != nil {
		return r
	}
	badBatch := func(msg string) *gResp { return c.fail(http.StatusBadRequest, "BadRequest", msg) }
	raw, ok := obj["requests"]
	if !ok || isNull(raw) {
		return badBatch("Invalid batch payload format: the 'requests' property is missing.")
	}
	var items []batchItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return badBatch("Invalid batch payload format: 'requests' must be an array of request objects.")
	}
	if len(items) == 0 {
		return badBatch("Invalid batch payload format: the batch contains no requests.")
	}
	if len(items) > maxBatchRequests {
		return badBatch(fmt.Sprintf("The batch contains %d requests; the limit is %d: split it into several batches.", len(items), maxBatchRequests))
	}
	index := map[string]int{}
	for i, it := range items {
		if it.ID == "" {
			return badBatch(fmt.Sprintf("Invalid batch payload format: request %d has no id.", i+1))
		}
		key := strings.ToLower(it.ID)
		if _, dup := index[key]; dup {
			return badBatch(fmt.Sprintf("Batch request id '%s' is duplicated: ids must be unique (case-insensitive).", it.ID))
		}
		index[key] = i
		if it.Method == "" || it.URL == "" {
			return badBatch(fmt.Sprintf("Invalid batch payload format: request id '%s' needs a method and a url.", it.ID))
		}
		hasBody := len(it.Body) > 0 && !isNull(it.Body)
		m := strings.ToUpper(it.Method)
		if hasBody && headerValue(it.Headers, "Content-Type") == "" {
			return badBatch(fmt.Sprintf("Write request id : %s does not contain Content-Type header or body.", it.ID))
		}
		if (m == http.MethodPost || m == http.MethodPatch || m == http.MethodPut) && !hasBody {
			return badBatch(fmt.Sprintf("Write request id : %s does not contain Content-Type header or body.", it.ID))
		}
	}
	// Dependencies: known ids, no cycles.
	deps := make([][]int, len(items))
	for i, it := range items {
		for _, d := range it.DependsOn {
			j, ok := index[strings.ToLower(d)]
			if !ok || j == i {
				return badBatch(fmt.Sprintf("Request id '%s' depends on '%s', which is not another request of the batch.", it.ID, d))
			}
			deps[i] = append(deps[i], j)
		}
	}
	if r := checkBatchShape(items, deps, badBatch); r != nil {
		return r
	}
	// Dependencies point backwards, so the array's order honours them.
	results := make([]*gResp, len(items))
	for i := range items {
		it := items[i]
		failedDep := false
		for _, j := range deps[i] {
			if results[j].status >= 400 {
				failedDep = true
			}
		}
		if failedDep {
			results[i] = c.fail(http.StatusFailedDependency, "FailedDependency", "The request was not run because a request it depends on failed.")
			continue
		}
		results[i] = c.s.runBatchItem(c, it)
	}

	// Shuffle deterministically so that clients match responses by id.
	perm := make([]int, len(items))
	for i := range perm {
		perm[i] = i
	}
	n := c.s.batchN.Add(1)
	rng := mrand.New(mrand.NewPCG(n, 0xba7c4))
	rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	if len(perm) > 1 && sort.IntsAreSorted(perm) {
		for i, j := 0, len(perm)-1; i < j; i, j = i+1, j-1 {
			perm[i], perm[j] = perm[j], perm[i]
		}
	}

	e := &enc{}
	e.open()
	e.key("responses")
	e.openArr()
	for _, i := range perm {
		res := results[i]
		e.open()
		e.key("id")
		e.str(items[i].ID)
		e.key("status")
		e.num(int64(res.status))
		e.key("headers")
		e.open()
		keys := make([]string, 0, len(res.header))
		for k := range res.header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "Strict-Transport-Security" {
				continue
			}
			e.key(k)
			e.str(strings.Join(res.header[k], ", "))
		}
		e.close()
		if len(res.body) > 0 {
			e.key("body")
			if json.Valid(res.body) {
				e.raw(res.body)
			} else {
				e.str(base64.StdEncoding.EncodeToString(res.body))
			}
		}
		e.close()
	}
	e.closeArr()
	e.close()
	return c.ok(http.StatusOK, e.b)
}

// checkBatchShape enforces what Graph requires of dependsOn beyond its
// documentation: a request may depend only on requests before it in the
// array (msgraph-sdk-dotnet-core#891: "Invalid dependency for request Id"),
// and a batch is either fully parallel (no dependsOn) or fully sequential
// (each request after the first depends on the one before it), otherwise
// "Batch should be either fully sequential or fully parallel"
// (microsoft-graph-docs#16280). Either is a 400 for the whole batch.
func checkBatchShape(items []batchItem, deps [][]int, badBatch func(string) *gResp) *gResp {
	any := false
	for i, ds := range deps {
		for _, j := range ds {
			if j > i {
				return badBatch(fmt.Sprintf("Invalid dependency for request Id: %s. A request can depend only on requests before it in the batch: %s comes after it.", items[i].ID, items[j].ID))
			}
			any = true
		}
	}
	if !any {
		return nil
	}
	for i := 1; i < len(deps); i++ {
		prev := false
		for _, j := range deps[i] {
			prev = prev || j == i-1
		}
		if !prev {
			return badBatch(fmt.Sprintf("Batch should be either fully sequential or fully parallel: request %s does not depend on %s, the request before it, while other requests use dependsOn.", items[i].ID, items[i-1].ID))
		}
	}
	return nil
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// runBatchItem executes one sub-request with the envelope's credentials.
func (s *Server) runBatchItem(env *call, it batchItem) *gResp {
	method := strings.ToUpper(it.Method)
	rawURL := it.URL
	if strings.Contains(rawURL, "://") {
		return env.fail(http.StatusBadRequest, "BadRequest", "The url of a batch request must be relative, such as /me/planner/tasks.")
	}
	if !strings.HasPrefix(rawURL, "/") {
		rawURL = "/" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return env.fail(http.StatusBadRequest, "BadRequest", "The url of the batch request is malformed.")
	}
	h := http.Header{}
	for k, v := range it.Headers {
		h.Set(k, v)
	}
	h.Set("Authorization", env.req.header.Get("Authorization"))
	var body []byte
	if len(it.Body) > 0 && !isNull(it.Body) {
		t := bytes.TrimSpace(it.Body)
		if t[0] == '"' {
			var b64 string
			_ = json.Unmarshal(t, &b64)
			if dec, err := base64.StdEncoding.DecodeString(b64); err == nil {
				body = dec
			} else if dec, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(b64, "=")); err == nil {
				body = dec
			} else {
				return env.fail(http.StatusBadRequest, "BadRequest", "The body of the batch request is neither JSON nor base64.")
			}
		} else {
			body = t
		}
	}
	req := &gReq{method: method, path: u.Path, rawQuery: u.RawQuery, header: h, body: body, origin: env.req.origin, inBatch: true}
	gen, idx := s.log.begin(Request{
		Method: method, Path: "/v1.0" + u.Path, Query: u.RawQuery,
		Endpoint: endpointOf(method, u.Path), InBatch: true, Time: s.now(),
	})
	resp := s.dispatch(req)
	s.log.finish(gen, idx, resp.status)
	return resp
}
