package graphtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// freshClient uses a new connection per request, so a dropped connection is
// not hidden by the transport's retry of requests on reused connections.
func freshClient(t *testing.T, s *Server) *client {
	c := newClient(t, s, s.Token())
	c.hc = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return c
}

func rawGet(c *client, path string) (*http.Response, error) {
	req, _ := http.NewRequest("GET", c.s.GraphURL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	return c.hc.Do(req)
}

// TestLatency checks that WithLatency and SetLatency hold requests back
// without timing anything: a request under an hour's latency is still
// unanswered after a later request without latency is answered, and
// cancelling it ends its wait.
func TestLatency(t *testing.T) {
	for _, viaOption := range []bool{true, false} {
		var s *Server
		if viaOption {
			s = NewServer(t, WithLatency(time.Hour))
		} else {
			s = NewServer(t)
			s.SetLatency(time.Hour)
		}
		c := newClient(t, s, s.Token())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", s.GraphURL()+"/me", nil)
			req.Header.Set("Authorization", "Bearer "+s.Token())
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		// The server logs a request as it begins, before the latency.
		for s.RequestCount() == 0 {
			runtime.Gosched()
		}
		s.SetLatency(0)
		c.get("/me")
		select {
		case err := <-done:
			t.Fatalf("option %v: the request under an hour's latency was answered (err %v)", viaOption, err)
		default:
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("option %v: the held request ended with %v, want context.Canceled", viaOption, err)
		}
	}
}

func TestThrottleEveryN(t *testing.T) {
	s, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	s.Throttle(Throttle{Match: "/planner/plans/", EveryN: 3, Count: 2, RetryAfter: "2.128"})
	var statuses []int
	for i := 0; i < 9; i++ {
		r := c.do("GET", "/planner/plans/"+pid, nil)
		statuses = append(statuses, r.status)
		if r.status == 429 {
			if r.header.Get("Retry-After") != "2.128" || r.errCode(t) != "TooManyRequests" {
				t.Errorf("429: Retry-After %q body %s", r.header.Get("Retry-After"), r.body)
			}
		}
		c.get("/me") // not matched, never throttled
	}
	want := []int{200, 200, 429, 200, 200, 429, 200, 200, 200}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	s.ClearFaults()
	date := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	s.Throttle(Throttle{EveryN: 1, Count: 1, RetryAfter: date})
	if r := c.do("GET", "/me", nil); r.status != 429 || r.header.Get("Retry-After") != date {
		t.Errorf("HTTP-date Retry-After: %d %q", r.status, r.header.Get("Retry-After"))
	}
}

func TestThrottleFractionIsDeterministic(t *testing.T) {
	run := func() []int {
		s, c := demo(t)
		s.Throttle(Throttle{Fraction: 0.3})
		var out []int
		for i := 0; i < 60; i++ {
			r := c.do("GET", "/me", nil)
			if r.status == 429 && r.header.Get("Retry-After") != "" {
				t.Errorf("RetryAfter \"\" sends no header, got %q", r.header.Get("Retry-After"))
			}
			out = append(out, r.status)
		}
		return out
	}
	a, b := run(), run()
	throttled := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("fraction throttling differs between runs at %d", i)
		}
		if a[i] == 429 {
			throttled++
		}
	}
	if throttled < 8 || throttled > 30 {
		t.Errorf("%d of 60 throttled at fraction 0.3", throttled)
	}
}

func TestFailNext(t *testing.T) {
	s, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	s.FailNext(2, 503, "/tasks")
	for i := 0; i < 2; i++ {
		c.get("/me")
		r := c.do("GET", "/planner/plans/"+pid+"/tasks", nil)
		if r.status != 503 || r.errCode(t) != "serviceNotAvailable" {
			t.Fatalf("failure %d: %d %s", i, r.status, r.body)
		}
	}
	c.get("/planner/plans/" + pid + "/tasks")
	s.FailNext(1, 504, "")
	if r := c.do("GET", "/me", nil); r.status != 504 {
		t.Errorf("FailNext with empty match: %d", r.status)
	}
	c.get("/me")
	s.FailNext(1, 500, "/planner")
	s.ClearFaults()
	c.get("/planner/plans/" + pid)
}

func TestDropNext(t *testing.T) {
	s, _ := demo(t)
	c := freshClient(t, s)
	s.DropNext(1, "/me")
	if _, err := rawGet(c, "/planner/plans/"+s.PlanIDs()[0]); err != nil {
		t.Fatalf("an unmatched request failed: %v", err)
	}
	res, err := rawGet(c, "/me")
	if err == nil {
		res.Body.Close()
		t.Fatalf("dropped request got status %d", res.StatusCode)
	}
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		t.Errorf("error %v", err)
	}
	c.get("/me")
	reqs := s.Requests()
	var dropped *Request
	for i := range reqs {
		if reqs[i].Endpoint == "GET /me" {
			dropped = &reqs[i]
			break
		}
	}
	if dropped == nil || dropped.Status != 0 {
		t.Errorf("the log records a dropped request with status 0: %+v", dropped)
	}
}

func TestTruncateNext(t *testing.T) {
	s, _ := demo(t)
	c := freshClient(t, s)
	pid := firstAccessiblePlan(t, c)
	s.TruncateNext(1, "/tasks")
	res, err := rawGet(c, "/planner/plans/"+pid+"/tasks")
	if err != nil {
		t.Fatalf("truncated response: no headers at all: %v", err)
	}
	if res.StatusCode != 200 || res.ContentLength <= 0 {
		t.Errorf("status %d, length %d", res.StatusCode, res.ContentLength)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil {
		t.Fatalf("read %d of %d bytes without an error", len(body), res.ContentLength)
	}
	if int64(len(body)) != res.ContentLength/2 {
		t.Errorf("got %d bytes of %d", len(body), res.ContentLength)
	}
	full := c.get("/planner/plans/" + pid + "/tasks")
	if len(full["value"].([]any)) == 0 {
		t.Error("the next request is whole")
	}
}

func TestRequestLog(t *testing.T) {
	s, c := demo(t)
	pid := firstAccessiblePlan(t, c)
	s.ResetRequests()
	before := time.Now()
	c.get("/planner/plans/" + pid + "/tasks?$top=3")
	c.do("GET", "/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil)
	c.get("/me")
	reqs := s.Requests()
	if len(reqs) != 3 || s.RequestCount() != 3 {
		t.Fatalf("%d requests logged, count %d", len(reqs), s.RequestCount())
	}
	r0 := reqs[0]
	if r0.Method != "GET" || r0.Path != "/v1.0/planner/plans/"+pid+"/tasks" || r0.Query != "$top=3" ||
		r0.Endpoint != "GET /planner/plans/{id}/tasks" || r0.Status != 200 || r0.InBatch || r0.Time.Before(before.Add(-time.Second)) {
		t.Errorf("entry = %+v", r0)
	}
	if reqs[1].Status != 404 || reqs[1].Endpoint != "GET /planner/tasks/{id}" {
		t.Errorf("entry = %+v", reqs[1])
	}
	if s.Count("GET /planner/plans/{id}/tasks") != 1 || s.Count("GET /me") != 1 || s.Count("GET /nothing") != 0 {
		t.Error("Count per endpoint")
	}
	// Identity endpoints are not in the Graph log.
	postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}})
	if s.RequestCount() != 3 {
		t.Errorf("identity request counted: %d", s.RequestCount())
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.RequestCount() != 0 || s.Count("GET /me") != 0 {
		t.Error("ResetRequests")
	}
}

func TestEndpointTemplates(t *testing.T) {
	cases := map[string]string{
		"/me":                                     "GET /me",
		"/me/planner/tasks":                       "GET /me/planner/tasks",
		"/users/abc/planner/tasks":                "GET /users/{id}/planner/tasks",
		"/groups/g1/planner/plans":                "GET /groups/{id}/planner/plans",
		"/planner/plans/p1/details":               "GET /planner/plans/{id}/details",
		"/planner/buckets/b1/tasks":               "GET /planner/buckets/{id}/tasks",
		"/planner/tasks/t1/details":               "GET /planner/tasks/{id}/details",
		"/planner/tasks/t1/bucketTaskBoardFormat": "GET /planner/tasks/{id}/bucketTaskBoardFormat",
		"/planner/tasks":                          "GET /planner/tasks",
		"/$batch":                                 "GET /$batch",
	}
	for path, want := range cases {
		if got := endpointOf("GET", path); got != want {
			t.Errorf("endpointOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestIdentityFaults(t *testing.T) {
	s := NewServer(t)
	id, secret := s.ConfidentialClient()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}
	s.FailNext(1, 503, "/oauth2/v2.0/token")
	st, body := postForm(t, s, "/organizations/oauth2/v2.0/token", form)
	if st != 503 || body["error"] != "temporarily_unavailable" {
		t.Errorf("token FailNext: %d %v", st, body)
	}
	if st, _ := postForm(t, s, "/organizations/oauth2/v2.0/token", form); st != 200 {
		t.Errorf("after the failure: %d", st)
	}
	// A Graph-only rule (empty match) leaves the identity endpoints alone.
	s.FailNext(1, 500, "")
	if st, _ := postForm(t, s, "/organizations/oauth2/v2.0/token", form); st != 200 {
		t.Errorf("empty-match rule hit the token endpoint: %d", st)
	}
	s.DropNext(1, "/oauth2/v2.0/token")
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := hc.PostForm(s.URL()+"/organizations/oauth2/v2.0/token", form); err == nil {
		res.Body.Close()
		t.Errorf("dropped token request got %d", res.StatusCode)
	}
	if !strings.HasPrefix(s.AuthorityURL(), "http://127.0.0.1:") {
		t.Errorf("AuthorityURL %q", s.AuthorityURL())
	}
}

// TestThrottleCountAlone checks that a Throttle with Count but no selection
// throttles the next Count matching requests (it used to throttle nothing).
func TestThrottleCountAlone(t *testing.T) {
	s, c := demo(t)
	s.Throttle(Throttle{Match: "/me", Count: 2})
	var got []int
	for range 4 {
		got = append(got, c.do("GET", "/me", nil).status)
	}
	if want := []int{429, 429, 200, 200}; !slicesEqual(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInjectStatus(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		want  []int // statuses of 6 GET /me
	}{
		{"every 3rd 500", Fault{Kind: FaultStatus, Status: 500, EveryN: 3}, []int{200, 200, 500, 200, 200, 500}},
		{"every 2nd 502, twice", Fault{Kind: FaultStatus, Status: 502, EveryN: 2, Count: 2}, []int{200, 502, 200, 502, 200, 200}},
		{"default 503, next 1", Fault{Kind: FaultStatus, Count: 1}, []int{503, 200, 200, 200, 200, 200}},
		{"504 on another path", Fault{Kind: FaultStatus, Status: 504, Match: "/planner"}, []int{200, 200, 200, 200, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := demo(t)
			s.Inject(tt.fault)
			var got []int
			for range 6 {
				r := c.do("GET", "/me", nil)
				got = append(got, r.status)
				if r.status >= 500 && (r.errCode(t) != failCode(r.status) || r.header.Get("Retry-After") != "") {
					t.Errorf("%d: code %q, Retry-After %q", r.status, r.errCode(t), r.header.Get("Retry-After"))
				}
			}
			if !slicesEqual(got, tt.want) {
				t.Errorf("statuses %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("fraction is deterministic and near its value", func(t *testing.T) {
		run := func() []int {
			s, c := demo(t)
			s.Inject(Fault{Kind: FaultStatus, Status: 500, Fraction: 0.25, RetryAfter: "1"})
			var out []int
			for range 80 {
				r := c.do("GET", "/me", nil)
				if r.status == 500 && r.header.Get("Retry-After") != "1" {
					t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
				}
				out = append(out, r.status)
			}
			return out
		}
		a, b := run(), run()
		if !slicesEqual(a, b) {
			t.Fatal("fraction faults differ between runs")
		}
		n := 0
		for _, st := range a {
			if st == 500 {
				n++
			}
		}
		if n < 8 || n > 35 {
			t.Errorf("%d of 80 failed at fraction 0.25", n)
		}
	})
	t.Run("batch sub-requests, envelope spared", func(t *testing.T) {
		s, c := demo(t)
		s.Inject(Fault{Kind: FaultStatus, Status: 502, EveryN: 2})
		r := c.must(200, "POST", "/$batch", map[string]any{"requests": []map[string]any{
			{"id": "1", "method": "GET", "url": "/me"}, {"id": "2", "method": "GET", "url": "/me"},
		}})
		statuses := map[string]float64{}
		for _, x := range r["responses"].([]any) {
			m := x.(map[string]any)
			statuses[m["id"].(string)] = m["status"].(float64)
		}
		if statuses["1"] != 200 || statuses["2"] != 502 {
			t.Errorf("sub-request statuses %v, want 1:200 2:502", statuses)
		}
	})
	t.Run("bad arguments panic", func(t *testing.T) {
		s, _ := demo(t)
		for _, f := range []Fault{{}, {Kind: FaultStatus, Fraction: 1.5}, {Kind: FaultDrop, EveryN: -1}} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("Inject(%+v) did not panic", f)
					}
				}()
				s.Inject(f)
			}()
		}
	})
}

func TestInjectConnectionFaults(t *testing.T) {
	t.Run("reset", func(t *testing.T) {
		s, _ := demo(t)
		c := freshClient(t, s)
		s.Inject(Fault{Kind: FaultReset, Match: "/me", Count: 1})
		res, err := rawGet(c, "/me")
		if err == nil {
			res.Body.Close()
			t.Fatalf("reset request got status %d", res.StatusCode)
		}
		if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
			t.Errorf("error %v, want a reset connection", err)
		}
		c.get("/me")
	})
	t.Run("truncated without length", func(t *testing.T) {
		s, _ := demo(t)
		c := freshClient(t, s)
		whole := c.do("GET", "/me", nil).body
		s.Inject(Fault{Kind: FaultTruncateUnsized, Match: "/me", EveryN: 1, Count: 1})
		res, err := rawGet(c, "/me")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.ContentLength != -1 || res.StatusCode != 200 {
			t.Fatalf("status %d, length %d, read error %v: the body should end cleanly", res.StatusCode, res.ContentLength, err)
		}
		if len(body) != len(whole)/2 {
			t.Errorf("got %d bytes, want half of %d", len(body), len(whole))
		}
		var v any
		if err := json.Unmarshal(body, &v); err == nil {
			t.Error("the cut body is valid JSON")
		}
	})
	t.Run("fraction of drops", func(t *testing.T) {
		s, _ := demo(t)
		c := freshClient(t, s)
		s.Inject(Fault{Kind: FaultDrop, Fraction: 0.5, Seed: 7})
		failed := 0
		for range 20 {
			res, err := rawGet(c, "/me")
			if err != nil {
				failed++
				continue
			}
			res.Body.Close()
		}
		if failed == 0 || failed == 20 {
			t.Errorf("%d of 20 dropped at fraction 0.5", failed)
		}
		if n := s.RequestCount(); n != 20 {
			t.Errorf("the log has %d requests, want 20", n)
		}
	})
}

func TestOutage(t *testing.T) {
	t.Run("503", func(t *testing.T) {
		s, c := demo(t)
		if err := s.SetOutage(Outage503); err != nil {
			t.Fatal(err)
		}
		if r := c.do("GET", "/me", nil); r.status != 503 || r.header.Get("Retry-After") != "" {
			t.Errorf("GET /me during the outage: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
		}
		if r := c.do("POST", "/$batch", map[string]any{"requests": []map[string]any{{"id": "1", "method": "GET", "url": "/me"}}}); r.status != 503 {
			t.Errorf("$batch envelope during the outage: %d", r.status)
		}
		id, secret := s.ConfidentialClient()
		if st, _ := postForm(t, s, "/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}); st != 200 {
			t.Errorf("the identity platform is another service: %d", st)
		}
		if err := s.SetOutage(OutageNone); err != nil {
			t.Fatal(err)
		}
		c.get("/me")
	})
	for _, o := range []Outage{OutageDrop, OutageReset} {
		t.Run(fmt.Sprint("drop or reset ", int(o)), func(t *testing.T) {
			s, _ := demo(t)
			c := freshClient(t, s)
			_ = s.SetOutage(o)
			for range 3 {
				if res, err := rawGet(c, "/me"); err == nil {
					res.Body.Close()
					t.Fatalf("got %d during the outage", res.StatusCode)
				}
			}
			s.ClearFaults()
			c.get("/me")
		})
	}
	t.Run("refused", func(t *testing.T) {
		s, c := demo(t) // c keeps connections alive: the outage must end them too
		c.get("/me")
		if err := s.SetOutage(OutageRefused); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			res, err := rawGet(c, "/me")
			if err == nil {
				res.Body.Close()
				t.Fatalf("got %d while refusing", res.StatusCode)
			}
			if !strings.Contains(err.Error(), "refused") {
				t.Errorf("error %v, want connection refused", err)
			}
		}
		if err := s.SetOutage(OutageNone); err != nil {
			t.Fatal(err)
		}
		c.get("/me")
	})
	t.Run("refused needs a listener", func(t *testing.T) {
		s, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetOutage(OutageRefused); err == nil {
			t.Error("OutageRefused on a server without a listener: no error")
		}
	})
	t.Run("refused on Start", func(t *testing.T) {
		s, err := New()
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done, err := s.Start(l)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = s.Close()
			<-done
		})
		c := newClient(t, s, s.Token())
		c.get("/me")
		if err := s.SetOutage(OutageRefused); err != nil {
			t.Fatal(err)
		}
		if res, err := rawGet(c, "/me"); err == nil {
			res.Body.Close()
			t.Fatal("not refused")
		}
		if err := s.SetOutage(OutageNone); err != nil {
			t.Fatal(err)
		}
		c.get("/me")
	})
}
