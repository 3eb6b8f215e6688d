package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// recorder is a loopback server that records what it receives.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // "METHOD path auth=<Authorization>"
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.Path+" auth="+req.Header.Get("Authorization"))
		r.mu.Unlock()
		if h != nil {
			h(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"stolen","value":[]}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

func (r *recorder) hostPort() string { u, _ := url.Parse(r.URL); return u.Host }

// TestTokenStaysAtOrigin sends requests to a Graph stand-in that points the
// client elsewhere — by redirect, @odata.nextLink or a $batch URL — at
// another loopback server on the same host name and another port, or at the
// same port under another host name, and checks that nothing (let alone the
// token) reaches it and the error names the host.
func TestTokenStaysAtOrigin(t *testing.T) {
	const token = "SECRET-ACCESS-TOKEN"
	other := newRecorder(t, nil)
	var graph *recorder
	var target string // where the stand-in points the client
	graph = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/redirect"):
			http.Redirect(w, r, target, http.StatusFound)
		case strings.HasSuffix(r.URL.Path, "/redirect307"):
			http.Redirect(w, r, target, http.StatusTemporaryRedirect)
		case strings.HasSuffix(r.URL.Path, "/tasks"):
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"value": []any{map[string]any{"id": "t1"}}, "@odata.nextLink": target})
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"ok","value":[]}`))
		}
	})
	graphPort := graph.hostPort()[strings.LastIndex(graph.hostPort(), ":")+1:]
	elsewhere := []struct {
		name, url, host string
	}{
		{"same host name, other port", other.URL + "/v1.0/planner/plans/x", other.hostPort()},
		{"same port, other host name", "http://localhost:" + graphPort + "/v1.0/planner/plans/x", "localhost:" + graphPort},
		{"other scheme", "https://" + graph.hostPort() + "/v1.0/planner/plans/x", graph.hostPort()},
	}
	newClient := func() *Client {
		return NewClient(WithBaseURL(graph.URL+"/v1.0"), WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"})),
			WithRetryPolicy(RetryPolicy{MaxRetries: 0}))
	}
	check := func(t *testing.T, err error, host string, otherSeen int) {
		t.Helper()
		var oe *OriginError
		if !errors.As(err, &oe) || oe.Host != host {
			t.Fatalf("err %v, want an *OriginError naming %s", err, host)
		}
		if !strings.Contains(err.Error(), host) || strings.Contains(err.Error(), token) {
			t.Errorf("message %q: should name %s, never the token", err, host)
		}
		if got := other.received(); len(got) != otherSeen {
			t.Errorf("the other server received %v", got)
		}
	}
	for _, tt := range elsewhere {
		t.Run("redirect: "+tt.name, func(t *testing.T) {
			for _, path := range []string{"/redirect", "/redirect307"} {
				target = tt.url
				c := newClient()
				before := len(graph.received())
				_, err := get[Plan](t.Context(), c, fixedPath(path))
				check(t, err, tt.host, 0)
				if n := len(graph.received()) - before; n != 1 {
					t.Errorf("graph received %d requests, want 1 (not retried)", n)
				}
			}
		})
		t.Run("nextLink: "+tt.name, func(t *testing.T) {
			target = tt.url + "/tasks?$skiptoken=1"
			c := newClient()
			n := 0
			var err error
			for tk, e := range c.Tasks.ListByPlan(t.Context(), "xqQg5FS2LkCp935s-FIFm2QAFkHM") {
				if e != nil {
					err = e
					break
				}
				if tk.ID == "t1" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d items of the first page", n)
			}
			check(t, err, tt.host, 0)
		})
		t.Run("batch URL: "+tt.name, func(t *testing.T) {
			c := newClient()
			before := len(graph.received())
			_, err := c.Batch(t.Context(), []BatchRequest{{Method: "GET", URL: tt.url}})
			check(t, err, tt.host, 0)
			if n := len(graph.received()) - before; n != 0 {
				t.Errorf("graph received %d requests: the $batch was sent", n)
			}
		})
	}
	t.Run("same origin is followed with the token", func(t *testing.T) {
		target = graph.URL + "/v1.0/planner/plans/landed"
		c := newClient()
		if _, err := get[Plan](t.Context(), c, fixedPath("/redirect")); err != nil {
			t.Fatal(err)
		}
		got := graph.received()
		if last := got[len(got)-1]; last != "GET /v1.0/planner/plans/landed auth=Bearer "+token {
			t.Errorf("last request %q", last)
		}
	})
	t.Run("the caller's redirect policy still applies", func(t *testing.T) {
		target = graph.URL + "/v1.0/planner/plans/landed"
		called := false
		c := NewClient(WithBaseURL(graph.URL+"/v1.0"), WithHTTPClient(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			called = true
			return errors.New("no redirects here")
		}}), WithRetryPolicy(RetryPolicy{MaxRetries: 0}))
		if _, err := get[Plan](t.Context(), c, fixedPath("/redirect")); err == nil || !called {
			t.Errorf("err %v, policy called %v", err, called)
		}
	})
	if got := other.received(); len(got) != 0 {
		t.Errorf("the other server received %v", got)
	}
}
