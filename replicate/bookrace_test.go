package replicate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
	"testing"

	"modernc.org/sqlite"
)

// execHookDriver wraps modernc's SQLite driver and calls the hook of its
// DSN before the first statement executed (not queried) that starts with
// one of the hook's prefixes, on any of its connections.
type execHookDriver struct{}

type execHook struct {
	prefixes []string
	once     sync.Once
	run      func()
}

var (
	execHooksMu sync.Mutex
	execHooks   = map[string]*execHook{}
)

func init() { sql.Register("replicate-test-exechook", execHookDriver{}) }

func (execHookDriver) Open(name string) (driver.Conn, error) {
	id, dsn, _ := strings.Cut(name, "|")
	c, err := (&sqlite.Driver{}).Open(dsn)
	if err != nil {
		return nil, err
	}
	execHooksMu.Lock()
	h := execHooks[id]
	execHooksMu.Unlock()
	return &execHookConn{Conn: c, h: h}, nil
}

type execHookConn struct {
	driver.Conn
	h *execHook
}

func (c *execHookConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *execHookConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	for _, p := range c.h.prefixes {
		if strings.HasPrefix(strings.TrimSpace(query), p) {
			c.h.once.Do(c.h.run)
		}
	}
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

// TestConcurrentFirstRunsSQLite: two runs that start together on a new
// SQLite file both find replicate's tables missing; the one that creates
// them second must not fail with "table ... already exists". The hook lets
// the other run create them (and copy) between this run's look and its
// first write, the interleaving two processes hit.
func TestConcurrentFirstRunsSQLite(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, "CREATE TABLE A (Id INTEGER PRIMARY KEY, V TEXT)", "INSERT INTO A VALUES (1, 'x'), (2, 'y')")
	other, path := sqliteDest(t)
	id := randSuffix()
	var otherRes []Result
	execHooksMu.Lock()
	execHooks[id] = &execHook{prefixes: []string{"BEGIN", "CREATE"}, run: func() {
		otherRes = run(t, src, other, "REPLICATE A", Options{})
	}}
	execHooksMu.Unlock()
	dst, err := sql.Open("replicate-test-exechook", id+"|"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	res := run(t, src, dst, "REPLICATE A", Options{})
	if len(otherRes) != 1 || otherRes[0].Err != nil {
		t.Fatalf("the other run: %+v", otherRes)
	}
	if len(res) != 1 || res[0].Err != nil {
		t.Fatalf("this run: %+v", res)
	}
	wantCounts(t, res[0], counts{Unchanged: 2})
	if n := scalar[int](t, other, "SELECT COUNT(*) FROM planner_replicate_runs WHERE Status = 'ok'"); n != 2 {
		t.Errorf("%d runs recorded ok, want 2", n)
	}
}
