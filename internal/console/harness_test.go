package console

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plannersql/planner/driver"
	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/internal/testkit"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/dest"
	_ "github.com/plannersql/planner/sandbox"
)

// env is a console under test: its files, its HTTP server, and a record
// of every response body it sent, scanned for secrets at the end.
type env struct {
	t        *testing.T
	dir      string
	cfgPath  string
	srv      *Server
	http     *httptest.Server
	log      *testkit.Buffer
	password string
	token    string
	clock    *schedule.FakeClock

	mu      sync.Mutex
	bodies  []string // every response body
	secrets []string // values no response may hold
}

type envOption func(*Options)

// newEnv starts a console on a config file holding cfg (none when empty).
func newEnv(t *testing.T, cfg string, opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, cfgPath: filepath.Join(dir, "config.toml"), log: &testkit.Buffer{},
		password: "console-pass-" + randomHex(6), token: "console-token-" + randomHex(8)}
	if cfg != "" {
		cfg = strings.ReplaceAll(cfg, "{{dir}}", dir)
		if err := os.WriteFile(e.cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(config.EnvVar, e.cfgPath)
	o := Options{ConfigPath: e.cfgPath, Password: e.password, Token: e.token,
		Logger: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RunJob: func(context.Context, config.Job, RunContext) ([]DestinationResult, error) { return nil, nil }}
	for _, f := range opts {
		f(&o)
	}
	if c, ok := o.Clock.(*schedule.FakeClock); ok {
		e.clock = c
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.http = httptest.NewServer(srv)
	t.Cleanup(e.http.Close)
	e.secret(e.password, e.token)
	t.Cleanup(e.checkSecrets)
	return e
}

// secret records values no response, page or log may show.
func (e *env) secret(v ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, v...)
}

func (e *env) checkSecrets() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	texts := append(append([]string(nil), e.bodies...), e.log.String())
	for _, s := range e.secrets {
		if len(s) < 6 {
			continue
		}
		for _, b := range texts {
			if strings.Contains(b, s) {
				e.t.Errorf("a secret (%d bytes, starting %.4q) appears in a response or log: %.300q", len(s), s, b)
			}
		}
	}
}

// client is a browser-like client: a cookie jar, the session's CSRF
// token, and the console's own Origin.
type client struct {
	e      *env
	hc     *http.Client
	csrf   string
	bearer string
	origin string
}

func (e *env) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, origin: e.http.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// session logs in with the password and returns a client with the session.
func (e *env) session() *client {
	e.t.Helper()
	c := e.anon()
	res := c.call("POST", "/api/login", map[string]string{"password": e.password})
	if res.status != http.StatusOK {
		e.t.Fatalf("login: %d %s", res.status, res.body)
	}
	c.csrf = res.json["csrf_token"].(string)
	return c
}

// bearer returns a client that sends the token as a Bearer token.
func (e *env) bearer() *client {
	c := e.anon()
	c.bearer = e.token
	c.origin = ""
	return c
}

type response struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

// call sends a JSON request (body nil: none) with the client's
// credentials.
func (c *client) call(method, path string, body any, hdr ...string) response {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				c.e.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, c.e.http.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.origin != "" && !safeMethod(method) {
		req.Header.Set("Origin", c.origin)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, body: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out.json); err != nil {
			c.e.t.Errorf("%s %s: the JSON answer does not parse: %v: %.200s", method, path, err, b)
		}
	}
	c.e.mu.Lock()
	c.e.bodies = append(c.e.bodies, out.body, res.Header.Get("Set-Cookie"), res.Header.Get("Location"))
	c.e.mu.Unlock()
	return out
}

// must calls and fails the test unless the status is want.
func (c *client) must(want int, method, path string, body any) response {
	c.e.t.Helper()
	r := c.call(method, path, body)
	if r.status != want {
		c.e.t.Fatalf("%s %s: status %d, want %d: %.400s", method, path, r.status, want, r.body)
	}
	return r
}

// finished returns run id's record once the run has finished: the API's
// ?wait=30 is asked again for as long as the run goes on, since a loaded
// machine may need more than one wait (never a sleep).
func (c *client) finished(id string) response {
	c.e.t.Helper()
	for {
		r := c.must(200, "GET", "/api/runs/"+id+"?wait=30", nil)
		if r.json["finished"] != nil {
			return r
		}
	}
}

// form posts an HTML form.
func (c *client) form(path string, v url.Values) response {
	c.e.t.Helper()
	req, _ := http.NewRequest("POST", c.e.http.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	c.e.mu.Lock()
	c.e.bodies = append(c.e.bodies, string(b))
	c.e.mu.Unlock()
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// readConfig returns the config file's text.
func (e *env) readConfig() string {
	e.t.Helper()
	b, err := os.ReadFile(e.cfgPath)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// start runs the console's scheduler until the end of the test.
func (e *env) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.srv.Start(ctx)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// field returns a nested JSON value: path elements are keys or indices.
func field(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not happen within 30s", what)
	}
	var zero T
	return zero
}

// realRun is a RunFunc that copies from the sandbox with package
// replicate, recording each run in its destination's history as the
// jobs runner does (job, slot, attempt, log), so the console's history
// pages read real records. (The CLI's own runner is driven end to end by
// TestBrowser and internal/cli's console tests.)
func realRun(ctx context.Context, j config.Job, rc RunContext) ([]DestinationResult, error) {
	cn, err := driver.NewConnector(&driver.Config{Sandbox: true})
	if err != nil {
		return nil, err
	}
	src := sql.OpenDB(cn)
	defer src.Close()
	script, err := j.LoadScript()
	if err != nil {
		return nil, schedule.Permanent(err)
	}
	var out []DestinationResult
	var firstErr error
	for _, d := range j.Destinations {
		dr := DestinationResult{Destination: d}
		dst, err := dest.Open(ctx, d.URL)
		if err != nil {
			dr.Err = err
		} else {
			req0 := cn.Requests()
			dr.Results, dr.Err = replicate.Run(ctx, src, dst, script, replicate.Options{Logger: rc.Logger, Stop: rc.Stop,
				Job: j.Name, Slot: rc.Slot, Attempt: rc.Attempt, SourceName: d.SourceName, TablePrefix: d.Prefix, Schema: d.Schema,
				Destination: describeDestination(d), NameStyle: replicate.NameStyle(d.NameStyle), Requests: cn, RecordLog: true})
			dst.Close()
			dr.Requests = cn.Requests() - req0
			if len(dr.Results) > 0 {
				dr.RunID = dr.Results[0].RunID
			}
			for _, r := range dr.Results {
				if r.Status() == replicate.StatusFailed && dr.Err == nil {
					dr.Err = fmt.Errorf("table %s: %w", r.Table, r.Err)
				}
			}
		}
		if dr.Err != nil && firstErr == nil {
			firstErr = fmt.Errorf("job %s: %w", j.Name, dr.Err)
		}
		out = append(out, dr)
	}
	return out, firstErr
}
