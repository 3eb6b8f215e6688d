package replicate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
)

// memTable is an in-memory source table served by the "replicate-test-mem"
// driver: reading it costs next to nothing, so benchmarks over it measure
// replicate's own work.
type memTable struct {
	mu    sync.Mutex
	cols  []string
	types []string
	rows  [][]driver.Value
}

var (
	memMu  sync.Mutex
	memReg = map[string]*memTable{}
)

const memDriverName = "replicate-test-mem"

func init() { sql.Register(memDriverName, memDriver{}) }

type memDriver struct{}

func (memDriver) Open(name string) (driver.Conn, error) {
	memMu.Lock()
	defer memMu.Unlock()
	t := memReg[name]
	if t == nil {
		return nil, errors.New("memsrc: no table " + name)
	}
	return &memConn{t: t}, nil
}

type memConn struct{ t *memTable }

func (c *memConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("memsrc: no prepare") }
func (c *memConn) Close() error                        { return nil }
func (c *memConn) Begin() (driver.Tx, error)           { return nil, errors.New("memsrc: read-only") }

func (c *memConn) QueryContext(_ context.Context, query string, _ []driver.NamedValue) (driver.Rows, error) {
	if !strings.HasPrefix(query, "SELECT * FROM") {
		return nil, errors.New("memsrc: only SELECT * is supported")
	}
	c.t.mu.Lock()
	rows := c.t.rows
	c.t.mu.Unlock()
	return &memRows{t: c.t, rows: rows}, nil
}

type memRows struct {
	t    *memTable
	rows [][]driver.Value
	i    int
}

func (r *memRows) Columns() []string                       { return r.t.cols }
func (r *memRows) Close() error                            { return nil }
func (r *memRows) ColumnTypeDatabaseTypeName(i int) string { return r.t.types[i] }
func (r *memRows) Next(dest []driver.Value) error {
	if r.i >= len(r.rows) {
		return io.EOF
	}
	copy(dest, r.rows[r.i])
	r.i++
	return nil
}

// openMem registers a table and opens a database serving it.
func openMem(t testing.TB, tbl *memTable) *sql.DB {
	t.Helper()
	id := randSuffix()
	memMu.Lock()
	memReg[id] = tbl
	memMu.Unlock()
	db, err := sql.Open(memDriverName, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
