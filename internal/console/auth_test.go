package console

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/internal/schedule"
)

func TestLoginRequired(t *testing.T) {
	e := newEnv(t, "")
	anon := e.anon()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/jobs"}, {"GET", "/api/connections"}, {"POST", "/api/jobs/x/run"}, {"GET", "/api/alerts"},
		{"GET", "/api/session"}, {"GET", "/api/nope"},
	} {
		r := anon.call(tc.method, tc.path, nil)
		if msg, _ := field(r.json, "error").(string); r.status != http.StatusUnauthorized || !strings.Contains(msg, "log in first") ||
			!strings.Contains(msg, "$PLANNER_CONSOLE_TOKEN") {
			t.Errorf("%s %s without a login: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
	for _, p := range []string{"/jobs", "/connections", "/alerts", "/jobs/x", "/runs/y", "/"} {
		r := anon.call("GET", p, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next="+url.QueryEscape(p) {
			t.Errorf("GET %s without a login: %d, Location %q", p, r.status, r.header.Get("Location"))
		}
	}
	// Open to all: the login page, the assets, the health check.
	for _, p := range []string{"/login", "/static/app.js", "/static/style.css", "/healthz"} {
		if r := anon.call("GET", p, nil); r.status != http.StatusOK {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}
	if r := anon.call("GET", "/static/nope.js", nil); r.status != http.StatusNotFound {
		t.Errorf("a missing asset: %d", r.status)
	}
}

func TestLoginWays(t *testing.T) {
	clock := schedule.NewFakeClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, "", func(o *Options) { o.Clock = clock; o.Port = "8080" })

	// The link printed at start: the token leaves the address bar at once.
	c := e.anon()
	r := c.call("GET", "/login?token="+e.token+"&next=/connections", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/connections" {
		t.Fatalf("token link: %d %q", r.status, r.header.Get("Location"))
	}
	ck := r.header.Get("Set-Cookie")
	for _, want := range []string{"planner_console_8080=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Error("cookie Secure without TLS")
	}
	if r := c.call("GET", "/connections", nil); r.status != http.StatusOK {
		t.Fatalf("after the token link: %d", r.status)
	}
	// An open redirect is not possible.
	if r := e.anon().call("GET", "/login?token="+e.token+"&next=//evil.example/x", nil); r.header.Get("Location") != "/jobs" {
		t.Errorf("next=//evil: Location %q", r.header.Get("Location"))
	}

	// The login form, with the password.
	f := e.anon()
	r = f.form("/login", url.Values{"secret": {e.password}, "next": {"/alerts"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/alerts" {
		t.Fatalf("login form: %d %q", r.status, r.header.Get("Location"))
	}
	r = e.anon().form("/login", url.Values{"secret": {"wrong"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "wrong password or token") {
		t.Errorf("wrong password: %d", r.status)
	}

	// The API login returns the CSRF token; the session reads it back.
	s := e.session()
	if got := s.must(200, "GET", "/api/session", nil).json["csrf_token"]; got != s.csrf {
		t.Errorf("session CSRF %v, login said %v", got, s.csrf)
	}
	// A Bearer token authenticates scripts.
	if r := e.bearer().call("GET", "/api/session", nil); r.status != 200 || r.json["auth"] != "bearer" {
		t.Errorf("bearer: %d %s", r.status, r.body)
	}
	b := e.bearer()
	b.bearer = "wrong-token"
	if r := b.call("GET", "/api/jobs", nil); r.status != http.StatusUnauthorized {
		t.Errorf("a wrong bearer token: %d", r.status)
	}

	// Logging out ends the session.
	s.must(200, "POST", "/api/logout", nil)
	if r := s.call("GET", "/api/jobs", nil); r.status != http.StatusUnauthorized {
		t.Errorf("after logout: %d", r.status)
	}
	lo := e.session()
	if r := lo.form("/logout", url.Values{"csrf_token": {lo.csrf}}); r.status != http.StatusSeeOther {
		t.Errorf("logout form: %d", r.status)
	}
	if r := lo.call("GET", "/api/jobs", nil); r.status != http.StatusUnauthorized {
		t.Errorf("after the logout form: %d", r.status)
	}

	// Sessions end after 12 idle hours.
	idle := e.session()
	clock.Advance(11 * time.Hour)
	idle.must(200, "GET", "/api/jobs", nil)
	clock.Advance(11 * time.Hour)
	idle.must(200, "GET", "/api/jobs", nil)
	clock.Advance(13 * time.Hour)
	if r := idle.call("GET", "/api/jobs", nil); r.status != http.StatusUnauthorized {
		t.Errorf("after 13 idle hours: %d", r.status)
	}
}

func TestLoginThrottled(t *testing.T) {
	clock := schedule.NewFakeClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, "", func(o *Options) { o.Clock = clock })
	c := e.anon()
	for i := range loginFailures {
		if r := c.call("POST", "/api/login", map[string]string{"password": "guess"}); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.status)
		}
	}
	// Even the right password waits now.
	r := c.call("POST", "/api/login", map[string]string{"password": e.password})
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.json["error"].(string), "too many failed logins") {
		t.Fatalf("after %d failures: %d %s", loginFailures, r.status, r.body)
	}
	clock.Advance(loginWindow + time.Second)
	c.must(200, "POST", "/api/login", map[string]string{"password": e.password})
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, "")
	s := e.session()
	body := map[string]any{"name": "p1", "properties": map[string]string{"Sandbox": "true"}}
	tests := []struct {
		name string
		hdr  []string
		want int
	}{
		{"no CSRF token", []string{csrfHeader, ""}, http.StatusForbidden},
		{"wrong CSRF token", []string{csrfHeader, "0123"}, http.StatusForbidden},
		{"another site's page", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"a sandboxed frame", []string{"Origin", "null"}, http.StatusForbidden},
		{"cross-site fetch metadata", []string{"Origin", "", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"the console's own page", nil, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.call("POST", "/api/connections/sources", body, tt.hdr...)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if tt.want == http.StatusForbidden && r.json["error"] == nil {
				t.Errorf("the refusal has no JSON message: %s", r.body)
			}
		})
	}
	// Safe methods need no token.
	s.must(200, "GET", "/api/connections/sources/p1", nil)
	// Every state-changing route refuses a request without the token.
	for _, rt := range apiRoutes {
		if safeMethod(rt.method) || rt.path == "/api/login" {
			continue
		}
		if r := s.call(rt.method, rt.path, rt.body, csrfHeader, ""); r.status != http.StatusForbidden {
			t.Errorf("%s %s without the CSRF token: %d", rt.method, rt.path, r.status)
		}
	}
	// The logout form needs the token too; a login from another site is refused.
	if r := s.form("/logout", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("logout form without the token: %d", r.status)
	}
	other := e.anon()
	other.origin = "https://evil.example"
	if r := other.form("/login", url.Values{"secret": {e.password}}); r.status != http.StatusForbidden {
		t.Errorf("a login form posted from another site: %d", r.status)
	}
	if r := other.call("POST", "/api/login", map[string]string{"password": e.password}); r.status != http.StatusForbidden {
		t.Errorf("an API login from another site: %d", r.status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, "")
	s := e.session()
	for _, p := range []string{"/login", "/jobs", "/api/jobs", "/static/app.js", "/api/nope"} {
		r := s.call("GET", p, nil)
		h := r.header
		if h.Get("Content-Security-Policy") != contentSecurityPolicy || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: security headers %v", p, h)
		}
	}
	if !strings.Contains(contentSecurityPolicy, "script-src 'self'") || strings.Contains(contentSecurityPolicy, "unsafe") {
		t.Errorf("CSP %q", contentSecurityPolicy)
	}
}

// TestNoInlineCode checks that pages hold no inline script, style or event
// handler: the CSP would block them.
func TestNoInlineCode(t *testing.T) {
	e := newEnv(t, jobsConfig)
	s := e.session()
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	for _, p := range append(allPages, "/login") {
		c := s
		if p == "/login" {
			c = e.anon()
		}
		r := c.call("GET", p, nil)
		if r.status != 200 {
			t.Errorf("GET %s: %d", p, r.status)
			continue
		}
		if m := inline.FindString(r.body); m != "" {
			t.Errorf("GET %s holds inline code %q", p, m)
		}
		if !strings.Contains(r.body, `<script src="/static/app.js" defer></script>`) {
			t.Errorf("GET %s does not load app.js", p)
		}
	}
}

// TestDNSRebinding checks that a console on loopback answers only to a
// loopback Host.
func TestDNSRebinding(t *testing.T) {
	e := newEnv(t, "")
	req, _ := http.NewRequest("GET", e.http.URL+"/login", nil)
	req.Host = "attacker.example"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host attacker.example: %d", res.StatusCode)
	}
	// The API answers JSON, even then; a Bearer token does not help.
	r := e.bearer().call("GET", "/api/jobs", nil, "Host", "attacker.example:80")
	if r.status != http.StatusMisdirectedRequest || !strings.Contains(fmt.Sprint(r.json["error"]), "127.0.0.1") {
		t.Errorf("the API at Host attacker.example: %d %s", r.status, r.body)
	}
	for _, h := range []string{"localhost:1234", "127.0.0.1", "[::1]:80"} {
		if !loopbackHost(h) {
			t.Errorf("loopbackHost(%q) = false", h)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:1": true, "[::1]:9": true, "0.0.0.0:8080": false, ":8080": false,
		"192.168.1.2:80": false, "example.com:80": false, "nonsense": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}
