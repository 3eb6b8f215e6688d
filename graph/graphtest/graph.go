package graphtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	jsonOData   = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	maxBodySize = 4 << 20
)

// gReq is one Graph request, top-level or a $batch sub-request.
type gReq struct {
	method   string
	path     string // decoded, after /v1.0, e.g. "/planner/tasks/abc"
	rawQuery string
	header   http.Header
	body     []byte
	origin   string // "http://host" for absolute links
	inBatch  bool
}

type gResp struct {
	status int
	header http.Header
	body   []byte
	pooled bool // body is a pageBufs buffer, recycled once written
}

// pageBufs recycles the buffers list pages are rendered into (a page of 400
// tasks is about 800 KB), so that benchmarks measure the client rather than
// the emulator's garbage.
var pageBufs sync.Pool

func getPageBuf() []byte {
	if p, ok := pageBufs.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 64<<10)
}

func putPageBuf(b []byte) {
	if cap(b) <= 4<<20 {
		pageBufs.Put(&b)
	}
}

// call carries one request through the handlers.
type call struct {
	s           *Server
	req         *gReq
	reqID       string
	clientReqID string
	who         *principal
	q           url.Values
	planner     bool // a Planner endpoint: Planner's extra response headers
}

func (c *call) base() string { return c.req.origin + "/v1.0" }

func (c *call) metadata(frag string) string { return c.base() + "/$metadata#" + frag }

// ---- HTTP entry ----

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v1.0" || strings.HasPrefix(p, "/v1.0/"):
		s.serveGraph(w, r)
	case p == "/devicelogin":
		s.serveDeviceLogin(w, r)
	case s.isIdentityPath(p):
		s.serveIdentity(w, r)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"The emulator serves Microsoft Graph under /v1.0 and the identity platform under /{tenant}/oauth2/v2.0/."}}`)
	}
}

// sleep waits d or until the request is cancelled.
func sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	if path == "" {
		path = "/"
	}
	gen, idx := s.log.begin(Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Endpoint: endpointOf(r.Method, path), Time: s.now(),
	})
	sleep(r, time.Duration(s.lat.Load()))

	if f, ok := s.faults.take(faultDrop, r.URL.Path, true); ok {
		s.log.finish(gen, idx, 0)
		endConn(w, f)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodySize+1))
	req := &gReq{method: r.Method, path: path, rawQuery: r.URL.RawQuery, header: r.Header, body: body, origin: origin(r)}
	var resp *gResp
	switch {
	case err != nil:
		resp = s.newCall(req).fail(http.StatusBadRequest, "BadRequest", "The request body could not be read.")
	case len(body) > maxBodySize:
		resp = s.newCall(req).fail(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than 4 MB.")
	default:
		resp = s.dispatch(req)
	}
	s.log.finish(gen, idx, resp.status)

	if f, ok := s.faults.take(faultTruncate, r.URL.Path, true); ok {
		writeCut(w, resp, f)
		return
	}
	writeResp(w, resp)
	if resp.pooled {
		putPageBuf(resp.body)
	}
}

func writeResp(w http.ResponseWriter, resp *gResp) {
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	if len(resp.body) > 0 || resp.status != http.StatusNoContent {
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// ---- dispatch ----

func (s *Server) newCall(req *gReq) *call {
	c := &call{s: s, req: req, reqID: randomGUID()}
	c.clientReqID = req.header.Get("client-request-id")
	if c.clientReqID == "" {
		c.clientReqID = c.reqID
	}
	return c
}

// dispatch answers one Graph request (faults, authentication, routing).
func (s *Server) dispatch(req *gReq) *gResp {
	c := s.newCall(req)
	resp := c.route()
	h := resp.header
	if h == nil {
		h = http.Header{}
		resp.header = h
	}
	h.Set("request-id", c.reqID)
	h.Set("client-request-id", c.clientReqID)
	h.Set("Cache-Control", "no-cache")
	h.Set("Strict-Transport-Security", "max-age=31536000")
	if c.planner {
		h.Set("X-Tasks-CorrelationId", c.reqID)
		h.Set("X-OfficeCluster", "emu-001.tasks.osi.office.net")
		h.Set("X-ProxyCluster", "emu-001.tasks.osi.office.net")
	}
	return resp
}

func (c *call) route() *gResp {
	s, req := c.s, c.req
	fullPath := "/v1.0" + req.path
	isBatch := strings.EqualFold(req.path, "/$batch")
	// An empty match spares the $batch envelope (its sub-requests are
	// evaluated one by one); a rule whose match is in its path applies to it.
	graph := !(isBatch && !req.inBatch)
	if r, ok := s.faults.take(faultFail, fullPath, graph); ok {
		return c.injected(r)
	}
	if ra, ok := s.faults.throttle(fullPath, graph); ok {
		resp := c.throttled()
		if ra != "" {
			resp.header.Set("Retry-After", ra)
		}
		return resp
	}
	if isBatch {
		if req.inBatch {
			return c.fail(http.StatusBadRequest, "BadRequest", "A $batch request cannot contain another $batch request.")
		}
		return c.batch()
	}
	q, err := url.ParseQuery(req.rawQuery)
	if err != nil {
		return c.fail(http.StatusBadRequest, "BadRequest", "The query string is malformed.")
	}
	c.q = q
	if resp := c.authenticate(); resp != nil {
		return resp
	}
	return c.routeGraph()
}

func failCode(status int) string {
	switch status {
	case 500:
		return "generalException"
	case 502:
		return "badGateway"
	case 503:
		return "serviceNotAvailable"
	case 504:
		return "gatewayTimeout"
	case 429:
		return "TooManyRequests"
	case 409, 412:
		return "resourceModified"
	}
	return plannerCode(status)
}

func (c *call) throttled() *gResp {
	e := &enc{}
	e.open()
	e.key("error")
	e.open()
	e.key("code")
	e.str("TooManyRequests")
	e.key("message")
	e.str("Too many requests. Please retry after the time in the Retry-After header.")
	e.key("innerError")
	e.open()
	e.key("code")
	e.str("429")
	e.key("date")
	e.str(c.s.now().UTC().Format("2006-01-02T15:04:05"))
	e.key("message")
	e.str("Please retry again later.")
	e.key("request-id")
	e.str(c.reqID)
	e.key("status")
	e.str("429")
	e.key("client-request-id")
	e.str(c.clientReqID)
	e.close()
	e.close()
	e.close()
	return &gResp{status: http.StatusTooManyRequests, header: http.Header{"Content-Type": {"application/json"}}, body: e.b}
}

// fail builds Graph's error JSON.
func (c *call) fail(status int, code, msg string) *gResp {
	if code == "" {
		code = plannerCode(status)
	}
	e := &enc{}
	e.open()
	e.key("error")
	e.open()
	e.key("code")
	e.str(code)
	e.key("message")
	e.str(msg)
	e.key("innerError")
	e.open()
	e.key("date")
	e.str(c.s.now().UTC().Format("2006-01-02T15:04:05"))
	e.key("request-id")
	e.str(c.reqID)
	e.key("client-request-id")
	e.str(c.clientReqID)
	e.close()
	e.close()
	e.close()
	return &gResp{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: e.b}
}

// pfail builds a Planner error. The service often sends an empty "code";
// the emulator always names one of Graph's documented basic codes
// (concepts/errors.md), so clients can branch on it as Graph advises.
func (c *call) pfail(status int, msg string) *gResp { return c.fail(status, plannerCode(status), msg) }

// plannerCode is the Graph error code of a Planner error with status.
func plannerCode(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return "invalidRequest"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "accessDenied"
	case http.StatusNotFound:
		return "itemNotFound"
	case http.StatusMethodNotAllowed:
		return "notAllowed"
	case http.StatusConflict, http.StatusPreconditionFailed:
		return "resourceModified"
	case http.StatusTooManyRequests:
		return "activityLimitReached"
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable"
	}
	return "generalException"
}

func (c *call) ok(status int, body []byte) *gResp {
	h := http.Header{"Content-Type": {jsonOData}, "OData-Version": {"4.0"}}
	return &gResp{status: status, header: h, body: body}
}

func (c *call) noContent() *gResp { return &gResp{status: http.StatusNoContent, header: http.Header{}} }

const (
	msgPlannerNotFound  = "The requested item is not found."
	msgPlannerForbidden = "You do not have the required permissions to access this item."
	msgPlannerBadID     = "The request is invalid: the id is not a valid Planner id."
)

func (c *call) notFound() *gResp  { return c.pfail(http.StatusNotFound, msgPlannerNotFound) }
func (c *call) forbidden() *gResp { return c.pfail(http.StatusForbidden, msgPlannerForbidden) }
func (c *call) badID() *gResp     { return c.pfail(http.StatusBadRequest, msgPlannerBadID) }

func (c *call) methodNotAllowed() *gResp {
	return c.fail(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

func (c *call) noSegment(seg string) *gResp {
	return c.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", seg))
}

func (c *call) denied() *gResp {
	return c.fail(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

// ---- routing ----

func eq(a, b string) bool { return strings.EqualFold(a, b) }

func (c *call) routeGraph() *gResp {
	segs := strings.Split(strings.Trim(c.req.path, "/"), "/")
	m := c.req.method
	n := len(segs)
	if n == 0 || segs[0] == "" {
		return c.fail(http.StatusBadRequest, "BadRequest", "Invalid request: the URL names no resource.")
	}
	switch {
	case eq(segs[0], "me"):
		if c.who.app {
			return c.fail(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
		}
		return c.routeUser(m, c.who.userID, segs[1:])
	case eq(segs[0], "users"):
		if n == 1 {
			if m != http.MethodGet {
				return c.methodNotAllowed()
			}
			return c.listUsers()
		}
		return c.routeUser(m, segs[1], segs[2:])
	case eq(segs[0], "groups"):
		if n == 1 {
			if m != http.MethodGet {
				return c.methodNotAllowed()
			}
			return c.listGroups()
		}
		if n == 2 {
			if m != http.MethodGet {
				return c.methodNotAllowed()
			}
			return c.getGroup(segs[1])
		}
		if n == 4 && eq(segs[2], "planner") && eq(segs[3], "plans") {
			if m != http.MethodGet {
				return c.methodNotAllowed()
			}
			return c.listGroupPlans(segs[1])
		}
		return c.noSegment(segs[2])
	case eq(segs[0], "planner"):
		c.planner = true
		return c.routePlanner(m, segs[1:])
	}
	return c.noSegment(segs[0])
}

func (c *call) routeUser(m, id string, rest []string) *gResp {
	var handler func() *gResp
	switch {
	case len(rest) == 0:
		handler = func() *gResp { return c.getUser(id) }
	case len(rest) == 1 && eq(rest[0], "memberOf"):
		handler = func() *gResp { return c.memberOf(id) }
	case len(rest) == 2 && eq(rest[0], "planner") && eq(rest[1], "plans"):
		c.planner = true
		handler = func() *gResp { return c.userPlans(id) }
	case len(rest) == 2 && eq(rest[0], "planner") && eq(rest[1], "tasks"):
		c.planner = true
		handler = func() *gResp { return c.userTasks(id) }
	default:
		return c.noSegment(rest[len(rest)-1])
	}
	if m != http.MethodGet {
		return c.methodNotAllowed()
	}
	return handler()
}

func (c *call) routePlanner(m string, segs []string) *gResp {
	if len(segs) == 0 {
		return c.noSegment("planner")
	}
	coll := strings.ToLower(segs[0])
	if coll != "plans" && coll != "buckets" && coll != "tasks" {
		return c.noSegment(segs[0])
	}
	if len(segs) == 1 {
		switch m {
		case http.MethodPost:
			switch coll {
			case "plans":
				return c.createPlan()
			case "buckets":
				return c.createBucket()
			default:
				return c.createTask()
			}
		case http.MethodGet:
			if coll == "plans" {
				if f := c.q.Get("$filter"); f != "" {
					if gid, ok := parseOwnerFilter(f); ok {
						return c.listGroupPlans(gid)
					}
				}
				return c.pfail(http.StatusBadRequest, "This entity set cannot be queried without a filter on owner property.")
			}
			return c.pfail(http.StatusBadRequest, "This entity set cannot be queried without a filter on planId property.")
		}
		return c.methodNotAllowed()
	}
	id := segs[1]
	rest := segs[2:]
	switch coll {
	case "plans":
		switch {
		case len(rest) == 0:
			switch m {
			case http.MethodGet:
				return c.getPlan(id)
			case http.MethodPatch:
				return c.patchPlan(id)
			case http.MethodDelete:
				return c.deletePlan(id)
			}
			return c.methodNotAllowed()
		case len(rest) == 1 && eq(rest[0], "details"):
			switch m {
			case http.MethodGet:
				return c.getPlanDetails(id)
			case http.MethodPatch:
				return c.patchPlanDetails(id)
			}
			return c.methodNotAllowed()
		case len(rest) == 1 && eq(rest[0], "buckets"):
			if m != http.MethodGet {
				return c.methodNotAllowed()
			}
			return c.listPlanBuckets(id)
		case len(rest) == 1 && eq(rest[0], "tasks"):
			if m != http.MethodGet {
				return c.methodNotAllowed()
			}
			return c.listPlanTasks(id)
		}
	case "buckets":
		switch {
		case len(rest) == 0:
			switch m {
			case http.MethodGet:
				return c.getBucket(id)
			case http.MethodPatch:
				return c.patchBucket(id)
			case http.MethodDelete:
				return c.deleteBucket(id)
			}
			return c.methodNotAllowed()
		case len(rest) == 1 && eq(rest[0], "tasks"):
			if m != http.MethodGet {
				return c.methodNotAllowed()
			}
			return c.listBucketTasks(id)
		}
	case "tasks":
		if len(rest) == 0 {
			switch m {
			case http.MethodGet:
				return c.getTask(id)
			case http.MethodPatch:
				return c.patchTask(id)
			case http.MethodDelete:
				return c.deleteTask(id)
			}
			return c.methodNotAllowed()
		}
		if len(rest) == 1 {
			var part taskPart
			switch strings.ToLower(rest[0]) {
			case "details":
				part = partDetails
			case "buckettaskboardformat":
				part = partBucketBoard
			case "progresstaskboardformat":
				part = partProgressBoard
			case "assignedtotaskboardformat":
				part = partAssignedBoard
			default:
				return c.noSegment(rest[0])
			}
			switch m {
			case http.MethodGet:
				return c.getTaskPart(id, part)
			case http.MethodPatch:
				return c.patchTaskPart(id, part)
			}
			return c.methodNotAllowed()
		}
	}
	return c.noSegment(rest[len(rest)-1])
}

var ownerFilterRE = regexp.MustCompile(`^\s*owner\s+eq\s+'([0-9a-fA-F-]{36})'\s*$`)

func parseOwnerFilter(f string) (string, bool) {
	m := ownerFilterRE.FindStringSubmatch(f)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// ---- paging ----

type pageToken struct {
	after uint64
	empty bool // this is the injected empty page
}

func (c *call) encodeToken(t pageToken) string {
	payload := strconv.FormatUint(t.after, 36)
	if t.empty {
		payload += ".e"
	}
	mac := hmac.New(sha256.New, c.s.key)
	mac.Write([]byte(strings.ToLower(c.req.path) + "|" + payload))
	sum := mac.Sum(nil)[:12]
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(sum)
}

func (c *call) decodeToken(s string) (pageToken, bool) {
	a, b, ok := strings.Cut(s, ".")
	if !ok {
		return pageToken{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(a)
	sum, err2 := base64.RawURLEncoding.DecodeString(b)
	if err1 != nil || err2 != nil {
		return pageToken{}, false
	}
	mac := hmac.New(sha256.New, c.s.key)
	mac.Write([]byte(strings.ToLower(c.req.path) + "|" + string(payload)))
	if !hmac.Equal(mac.Sum(nil)[:12], sum) {
		return pageToken{}, false
	}
	p := string(payload)
	var t pageToken
	if strings.HasSuffix(p, ".e") {
		t.empty = true
		p = strings.TrimSuffix(p, ".e")
	}
	v, err := strconv.ParseUint(p, 36, 64)
	if err != nil {
		return pageToken{}, false
	}
	t.after = v
	return t, true
}

// nextLink returns the request's URL with $skiptoken replaced.
func (c *call) nextLink(tok string) string {
	var parts []string
	if c.req.rawQuery != "" {
		for _, p := range strings.Split(c.req.rawQuery, "&") {
			k := p
			if i := strings.IndexByte(p, '='); i >= 0 {
				k = p[:i]
			}
			if k == "$skiptoken" || strings.EqualFold(k, "%24skiptoken") || k == "" {
				continue
			}
			parts = append(parts, p)
		}
	}
	parts = append(parts, "$skiptoken="+tok)
	return c.base() + escapePath(c.req.path) + "?" + strings.Join(parts, "&")
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// lister describes a list over items sorted by a strictly increasing key.
type lister struct {
	n      int
	key    func(i int) uint64 // strictly increasing with i
	match  func(i int) bool   // nil = all
	render func(e *enc, i int)
}

// page renders one page of l. size is the page size.
func (c *call) page(ctx string, size int, l lister) *gResp {
	var tok pageToken
	hasTok := false
	if raw := c.q.Get("$skiptoken"); raw != "" {
		t, ok := c.decodeToken(raw)
		if !ok {
			return c.fail(http.StatusBadRequest, "BadRequest", "The $skiptoken is invalid: follow @odata.nextLink exactly as returned.")
		}
		tok, hasTok = t, true
	}
	start := sort.Search(l.n, func(i int) bool { return l.key(i) > tok.after })
	matches := func(i int) bool { return l.match == nil || l.match(i) }

	e := &enc{b: getPageBuf()}
	e.open()
	e.key("@odata.context")
	e.str(ctx)
	var items []int
	more := false
	if !(hasTok && tok.empty) {
		for i := start; i < l.n; i++ {
			if !matches(i) {
				continue
			}
			if len(items) == size {
				more = true
				break
			}
			items = append(items, i)
		}
	} else {
		for i := start; i < l.n; i++ {
			if matches(i) {
				more = true
				break
			}
		}
	}
	var next string
	switch {
	case hasTok && tok.empty:
		if more {
			next = c.encodeToken(pageToken{after: tok.after})
		}
	case !hasTok && len(items) > 0 && c.s.empty.Load():
		next = c.encodeToken(pageToken{after: l.key(items[len(items)-1]), empty: true})
	case more:
		next = c.encodeToken(pageToken{after: l.key(items[len(items)-1])})
	}
	if next != "" {
		e.key("@odata.nextLink")
		e.str(c.nextLink(next))
	}
	e.key("value")
	e.openArr()
	// Room for the whole page at once (a task renders to about 1.5 KB), not
	// a buffer doubled and copied five times.
	e.b = slices.Grow(e.b, len(items)*2048)
	for _, i := range items {
		l.render(e, i)
	}
	e.closeArr()
	e.close()
	resp := c.ok(http.StatusOK, e.b)
	resp.pooled = true
	return resp
}

func (c *call) plannerPageSize() int { return int(c.s.page.Load()) }

// directoryPageSize honours $top (1..999) like Graph's directory; the default
// is 100 (or the emulator's page size when smaller).
func (c *call) directoryPageSize() (int, *gResp) {
	size := 100
	if ps := c.plannerPageSize(); ps < size {
		size = ps
	}
	if t := c.q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			return 0, c.fail(http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", t))
		}
		size = n
	}
	return size, nil
}

func (c *call) selection() selection {
	v := c.q.Get("$select")
	if v == "" {
		return nil
	}
	sel := selection{}
	for _, f := range strings.Split(v, ",") {
		sel[strings.TrimSpace(f)] = true
	}
	return sel
}

// ---- body parsing ----

// readJSONObject checks the media type and decodes the body as a JSON object.
func (c *call) readJSONObject() (map[string]rawJSON, *gResp) {
	ct := c.req.header.Get("Content-Type")
	if ct == "" {
		return nil, c.fail(http.StatusUnsupportedMediaType, "BadRequest", "The Content-Type header is missing: send the body as application/json.")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return nil, c.fail(http.StatusUnsupportedMediaType, "BadRequest", fmt.Sprintf("The content type '%s' is not supported: send the body as application/json.", ct))
	}
	obj, err := parseObject(c.req.body)
	if err != nil {
		return nil, c.pfail(http.StatusBadRequest, "The request body is not a valid JSON object: "+err.Error())
	}
	return obj, nil
}

// ---- directory ----

func (c *call) lookupUser(id string) (*user, *gResp) {
	if !validGUID(id) && !strings.Contains(id, "@") {
		return nil, c.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid object identifier '%s'.", id))
	}
	u := c.s.usersByID[strings.ToLower(id)]
	if u == nil {
		u = c.s.usersByUPN[strings.ToLower(id)]
	}
	if u == nil {
		return nil, c.fail(http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
	}
	return u, nil
}

func (c *call) getUser(id string) *gResp {
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, errResp := c.lookupUser(id)
	if errResp != nil {
		return errResp
	}
	if !(u.id == c.who.userID && c.who.can(permUserSelf)) && !c.who.can(permUsersRead) {
		return c.denied()
	}
	e := &enc{}
	renderUser(e, u, c.metadata("users/$entity"), c.selection(), false)
	return c.ok(http.StatusOK, e.b)
}

func (c *call) listUsers() *gResp {
	if !c.who.can(permUsersRead) {
		return c.denied()
	}
	size, errResp := c.directoryPageSize()
	if errResp != nil {
		return errResp
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	sel := c.selection()
	return c.page(c.metadata("users"), size, lister{
		n:      len(s.users),
		key:    func(i int) uint64 { return uint64(i + 1) },
		render: func(e *enc, i int) { renderUser(e, s.users[i], "", sel, false) },
	})
}

func (c *call) memberOf(id string) *gResp {
	size, errResp := c.directoryPageSize()
	if errResp != nil {
		return errResp
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, errResp := c.lookupUser(id)
	if errResp != nil {
		return errResp
	}
	if !c.who.can(permMemberOf) || (u.id != c.who.userID && !c.who.can(permUsersRead)) {
		return c.denied()
	}
	type obj struct {
		g *group
		r *dirRole
	}
	var objs []obj
	for _, g := range s.groups {
		if g.members[u.id] {
			objs = append(objs, obj{g: g})
		}
	}
	for _, r := range s.roles {
		if r.members[u.id] {
			objs = append(objs, obj{r: r})
		}
	}
	sel := c.selection()
	// Without permission to read a type of object, Graph lists objects of
	// that type with @odata.type and id only, every other property null
	// ("Limited information returned for inaccessible member objects").
	groups, roles, units := c.who.can(permGroupsRead), c.who.can(permRolesRead), c.who.can(permUnitsRead)
	return c.page(c.metadata("directoryObjects"), size, lister{
		n:   len(objs),
		key: func(i int) uint64 { return uint64(i + 1) },
		render: func(e *enc, i int) {
			switch {
			case objs[i].g != nil && groups:
				renderGroup(e, objs[i].g, s.domain, "", sel, true)
			case objs[i].g != nil:
				renderLimited(e, "#microsoft.graph.group", objs[i].g.id, groupProperties, sel)
			case objs[i].r.unit && units:
				renderRole(e, objs[i].r, sel)
			case objs[i].r.unit:
				renderLimited(e, "#microsoft.graph.administrativeUnit", objs[i].r.id, unitProperties, sel)
			case roles:
				renderRole(e, objs[i].r, sel)
			default:
				renderLimited(e, "#microsoft.graph.directoryRole", objs[i].r.id, roleProperties, sel)
			}
		},
	})
}

var unifiedFilterRE = regexp.MustCompile(`^groupTypes/any\((\w+):(\w+) eq 'Unified'\)$`)

func (c *call) listGroups() *gResp {
	if !c.who.can(permGroupsRead) {
		return c.denied()
	}
	size, errResp := c.directoryPageSize()
	if errResp != nil {
		return errResp
	}
	unifiedOnly := false
	if f := c.q.Get("$filter"); f != "" {
		norm := strings.Join(strings.Fields(f), " ")
		norm = strings.ReplaceAll(norm, "( ", "(")
		norm = strings.ReplaceAll(norm, " )", ")")
		norm = strings.ReplaceAll(norm, ": ", ":")
		norm = strings.ReplaceAll(norm, " :", ":")
		m := unifiedFilterRE.FindStringSubmatch(norm)
		if m == nil || m[1] != m[2] {
			return c.fail(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported query: the emulator supports only $filter=groupTypes/any(c:c eq 'Unified') on /groups.")
		}
		unifiedOnly = true
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	sel := c.selection()
	return c.page(c.metadata("groups"), size, lister{
		n:      len(s.groups),
		key:    func(i int) uint64 { return uint64(i + 1) },
		match:  func(i int) bool { return !unifiedOnly || s.groups[i].unified },
		render: func(e *enc, i int) { renderGroup(e, s.groups[i], s.domain, "", sel, false) },
	})
}

func (c *call) lookupGroup(id string) (*group, *gResp) {
	if !validGUID(id) {
		return nil, c.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid object identifier '%s'.", id))
	}
	g := c.s.groupsByID[strings.ToLower(id)]
	if g == nil {
		return nil, c.fail(http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
	}
	return g, nil
}

func (c *call) getGroup(id string) *gResp {
	if !c.who.can(permGroupsRead) {
		return c.denied()
	}
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, errResp := c.lookupGroup(id)
	if errResp != nil {
		return errResp
	}
	e := &enc{}
	renderGroup(e, g, s.domain, c.metadata("groups/$entity"), c.selection(), false)
	return c.ok(http.StatusOK, e.b)
}
