package driver

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// env is a planner database over an emulated tenant.
type env struct {
	t   testing.TB
	srv *graphtest.Server
	cn  *Connector
	db  *sql.DB
	rec *recorder
}

// newEnv starts an emulator with opts and opens a planner DB on it; cfgf may
// adjust the configuration.
func newEnv(t testing.TB, cfgf func(*Config), opts ...graphtest.Option) *env {
	t.Helper()
	srv := graphtest.NewServer(t, opts...)
	rec := &recorder{base: http.DefaultTransport}
	cfg := NewConfig()
	cfg.GraphURL = srv.GraphURL()
	cfg.InitiateOAuth = OAuthOff
	cfg.OAuthAccessToken = srv.Token()
	cfg.HTTPClient = &http.Client{Transport: rec}
	if cfgf != nil {
		cfgf(cfg)
	}
	cn, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(cn)
	t.Cleanup(func() { db.Close() })
	return &env{t: t, srv: srv, cn: cn, db: db, rec: rec}
}

// query runs q and returns every row as strings ("NULL" for NULL).
func (e *env) query(q string, args ...any) [][]string {
	e.t.Helper()
	rows, err := e.db.QueryContext(context.Background(), q, args...)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			e.t.Fatal(err)
		}
		r := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				r[i] = "NULL"
			case []byte:
				r[i] = string(x)
			default:
				r[i] = fmt.Sprint(x)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return out
}

// one returns the single value q selects.
func (e *env) one(q string, args ...any) string {
	e.t.Helper()
	rows := e.query(q, args...)
	if len(rows) != 1 || len(rows[0]) != 1 {
		e.t.Fatalf("%s: got %v, want one value", q, rows)
	}
	return rows[0][0]
}

func (e *env) exec(q string, args ...any) sql.Result {
	e.t.Helper()
	res, err := e.db.Exec(q, args...)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return res
}

// counted runs f and returns the emulator's request counts it caused.
func (e *env) counted(f func()) (total int, by map[string]int) {
	e.srv.ResetRequests()
	f()
	return e.srv.RequestCount(), e.outsideBatch()
}

// recorder is an HTTP transport that keeps the bodies of write requests.
type recorder struct {
	base   http.RoundTripper
	mu     sync.Mutex
	writes []recorded
	before func(*http.Request) // called before a request is sent
}

type recorded struct {
	method, path, body, ifMatch string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		var body string
		if req.Body != nil {
			b, _ := io.ReadAll(req.Body)
			req.Body.Close()
			body = string(b)
			req.Body = io.NopCloser(strings.NewReader(body))
		}
		r.mu.Lock()
		r.writes = append(r.writes, recorded{req.Method, req.URL.Path, body, req.Header.Get("If-Match")})
		r.mu.Unlock()
	}
	r.mu.Lock()
	f := r.before
	r.mu.Unlock()
	if f != nil {
		f(req)
	}
	return r.base.RoundTrip(req)
}

func stringsAtoi(s string) (int, error) { return strconv.Atoi(s) }

func itoa(n int) string { return strconv.Itoa(n) }

func (r *recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.writes
	r.writes = nil
	return w
}

// groups returns the ids of the Microsoft 365 groups the signed-in user is a
// member of: the groups a scan discovers.
func (e *env) groups() []string {
	var out []string
	me := e.srv.Me().ID
	for _, g := range e.srv.Groups() {
		if g.Unified && slices.Contains(g.Members, me) {
			out = append(out, g.ID)
		}
	}
	return out
}

// plans returns the ids of the plans the signed-in user can reach, in the
// emulator's order.
func (e *env) plans() []string {
	var out []string
	me := e.srv.Me().ID
	for _, g := range e.srv.Groups() {
		if g.Unified && slices.Contains(g.Members, me) {
			out = append(out, g.PlanIDs...)
		}
	}
	return out
}

// outsideBatch counts the requests by endpoint, leaving out the sub-requests
// of $batch calls (they are not HTTP requests of their own).
func (e *env) outsideBatch() map[string]int {
	by := map[string]int{}
	for _, r := range e.srv.Requests() {
		if !r.InBatch {
			by[r.Endpoint]++
		}
	}
	return by
}

// setBefore sets the hook called before each request is sent.
func (r *recorder) setBefore(f func(*http.Request)) {
	r.mu.Lock()
	r.before = f
	r.mu.Unlock()
}
