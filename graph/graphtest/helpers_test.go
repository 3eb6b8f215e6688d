package graphtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// client is a raw HTTP client of the emulator for tests.
type client struct {
	t     testing.TB
	s     *Server
	token string
	hc    *http.Client
}

func newClient(t testing.TB, s *Server, token string) *client {
	return &client{t: t, s: s, token: token, hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object (status %d): %v\n%s", r.status, err, r.body)
	}
	return m
}

// errCode returns error.code of a Graph error body.
func (r resp) errCode(t testing.TB) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	return e["code"].(string)
}

// do sends a Graph request; path is relative to /v1.0 unless it starts with http.
// hdr holds header name/value pairs.
func (c *client) do(method, path string, body any, hdr ...string) resp {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		case []byte:
			rd = bytes.NewReader(b)
		default:
			buf, err := json.Marshal(b)
			if err != nil {
				c.t.Fatal(err)
			}
			rd = bytes.NewReader(buf)
		}
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.s.GraphURL() + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// get GETs path and requires 200.
func (c *client) get(path string) map[string]any {
	c.t.Helper()
	r := c.do("GET", path, nil)
	if r.status != 200 {
		c.t.Fatalf("GET %s: status %d: %s", path, r.status, r.body)
	}
	return r.json(c.t)
}

// must sends a request and requires the status.
func (c *client) must(status int, method, path string, body any, hdr ...string) map[string]any {
	c.t.Helper()
	r := c.do(method, path, body, hdr...)
	if r.status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(c.t)
}

// list follows nextLinks and returns every item and the number of pages.
func (c *client) list(path string) ([]map[string]any, int) {
	c.t.Helper()
	var items []map[string]any
	pages := 0
	next := path
	for next != "" {
		m := c.get(next)
		pages++
		for _, v := range m["value"].([]any) {
			items = append(items, v.(map[string]any))
		}
		next, _ = m["@odata.nextLink"].(string)
		if pages > 10000 {
			c.t.Fatal("too many pages")
		}
	}
	return items, pages
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func etagOf(m map[string]any) string { return str(m, "@odata.etag") }

// firstAccessiblePlan returns the id of a plan Me can reach, with its tasks.
func firstAccessiblePlan(t testing.TB, c *client) string {
	t.Helper()
	for _, g := range c.s.Groups() {
		if !g.Unified || len(g.PlanIDs) == 0 {
			continue
		}
		for _, m := range g.Members {
			if m == c.s.Me().ID {
				return g.PlanIDs[0]
			}
		}
	}
	t.Fatal("no plan reachable by Me")
	return ""
}
