package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/schema"
	sqlite "modernc.org/sqlite"
)

// connState is what one connection's virtual tables share with the
// connection wrapper: the running statement's context (cursor callbacks get no
// context of their own) and the last typed error a callback hit (SQLite passes
// only its text on).
type connState struct {
	id  uint64
	cn  *Connector
	mu  sync.Mutex
	ctx context.Context
	err error

	writes   int      // Graph writes sent since the transaction began
	readOnly bool     // inside a transaction begun with TxOptions.ReadOnly
	lastID   string   // key of the last row created on this connection
	returned []rowRec // rows created by the running INSERT ... RETURNING
	capture  string   // table whose created rows are captured, "" for none
	conflict string   // the running statement's ON CONFLICT mode (rewritten.conflict)
	ignored  int64    // rows the running INSERT OR IGNORE skipped
	// checking is set during the check pass of a multi-row INSERT
	// (conn.precheck): Insert checks each row and sends nothing; keys holds
	// the keys of the rows checked so far, to find a key given twice.
	checking bool
	keys     map[string]bool
	collate  bool // the statement being planned compares with a collation (rewritten.collate)
}

// collated reports whether the statement being planned or run compares
// with a collation other than BINARY.
func (s *connState) collated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.collate
}

// planning records the statement SQLite is about to plan.
func (s *connState) planning(q rewritten) {
	s.mu.Lock()
	s.collate = q.collate
	s.mu.Unlock()
}

// precheck runs the check pass of q when it has one (rewritten.precheck):
// run executes the statement with every row checked and none sent, so that a
// row the driver would refuse fails the statement before its first row is
// sent, as SQLite's own constraints do. The statement's context must be
// started.
func (s *connState) precheck(q rewritten, run func() error) error {
	if !q.precheck {
		return nil
	}
	s.mu.Lock()
	s.checking, s.keys = true, map[string]bool{}
	s.mu.Unlock()
	err := run()
	s.mu.Lock()
	s.checking, s.keys = false, nil
	s.ignored = 0
	s.mu.Unlock()
	if err != nil {
		return s.translate(err)
	}
	return nil
}

// checkingKey reports whether the running statement is in its check pass,
// and whether key (a row's key, "" for none) was seen before in it.
func (s *connState) checkingKey(key string) (checking, seen bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checking {
		return false, false
	}
	if key != "" {
		seen = s.keys[key]
		s.keys[key] = true
	}
	return true, seen
}

// start makes ctx the running statement's context and q the running
// statement: its conflict mode, no row skipped yet, no error recorded.
func (s *connState) start(ctx context.Context, q rewritten) {
	s.mu.Lock()
	s.ctx = ctx
	s.conflict = q.conflict
	s.collate = q.collate
	s.ignored = 0
	s.err = nil
	s.mu.Unlock()
}

// onConflict returns the running statement's conflict mode ("" for the
// default, ABORT).
func (s *connState) onConflict() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conflict
}

// skipped counts a row INSERT OR IGNORE left out.
func (s *connState) skipped() {
	s.mu.Lock()
	s.ignored++
	s.mu.Unlock()
}

// result corrects SQLite's count of changed rows for the rows the running
// statement skipped: SQLite counts every row a virtual table's xUpdate
// accepts, skipped or not.
func (s *connState) result(res driver.Result) driver.Result {
	s.mu.Lock()
	n := s.ignored
	s.mu.Unlock()
	if n == 0 || res == nil {
		return res
	}
	return skippedResult{res, n}
}

// skippedResult is a statement's result with the rows it skipped left out
// of RowsAffected.
type skippedResult struct {
	driver.Result
	skipped int64
}

// RowsAffected implements driver.Result.
func (r skippedResult) RowsAffected() (int64, error) {
	n, err := r.Result.RowsAffected()
	if err != nil {
		return n, err
	}
	return max(n-r.skipped, 0), nil
}

// context returns the running statement's context.
func (s *connState) context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}

func (s *connState) setContext(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
}

// clearContext forgets the statement's context when it ends.
func (s *connState) clearContext() {
	s.mu.Lock()
	s.ctx = nil
	s.mu.Unlock()
}

// fail records err as the connection's last typed error and returns it.
func (s *connState) fail(err error) error {
	if err == nil {
		return nil
	}
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	return err
}

// takeErr returns and clears the last typed error.
func (s *connState) takeErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.err
	s.err = nil
	return err
}

// inReadOnlyTx reports whether the connection is in a read-only transaction.
func (s *connState) inReadOnlyTx() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readOnly
}

// wrote counts one Graph write.
func (s *connState) wrote() {
	s.mu.Lock()
	s.writes++
	s.mu.Unlock()
}

// translate turns an error from the SQLite engine into the error callers
// should see: the typed error a virtual table callback recorded (so errors.As
// finds *graph.Error), or SQLite's own message with a hint.
func (s *connState) translate(err error) error {
	if err == nil {
		return nil
	}
	if typed := s.takeErr(); typed != nil {
		return typed
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "no such table"):
		return fmt.Errorf("planner: %w (SHOW TABLES lists the tables)", err)
	case strings.Contains(msg, "no such column"):
		return fmt.Errorf("planner: %w (DESCRIBE <table> lists a table's columns)", err)
	case strings.Contains(msg, "RETURNING is not available on virtual tables"):
		return fmt.Errorf("planner: %w: on planner tables RETURNING works with INSERT only; read the rows back with a SELECT by their key", err)
	case strings.Contains(msg, "UPSERT not implemented"):
		return fmt.Errorf("planner: %w: ON CONFLICT is not supported on planner tables; use INSERT OR IGNORE or INSERT OR REPLACE", err)
	}
	return fmt.Errorf("planner: %w", err)
}

// conn wraps one modernc SQLite connection whose temp schema holds the
// planner virtual tables.
type conn struct {
	sc driver.Conn
	st *connState
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
)

// Unwrap returns the underlying SQLite connection (modernc.org/sqlite finds
// it through this method).
func (c *conn) Unwrap() driver.Conn { return c.sc }

// Prepare implements driver.Conn.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext implements driver.ConnPrepareContext.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	q, err := rewrite(query)
	if err != nil {
		return nil, err
	}
	// SQLite plans the statement now: the scope records the tables it
	// plans, which each execution's scope starts from.
	sc := newScope()
	c.st.planning(q)
	c.st.setContext(withScope(ctx, sc))
	defer c.st.clearContext()
	s, err := c.sc.(driver.ConnPrepareContext).PrepareContext(ctx, q.sql)
	if err != nil {
		return nil, c.st.translate(err)
	}
	return &stmt{c: c, s: s, q: q, planned: sc.plannedTables()}, nil
}

// Close implements driver.Conn.
func (c *conn) Close() error {
	c.st.cn.dropState(c.st.id)
	return c.sc.Close()
}

// Begin implements driver.Conn.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx. Graph has no transactions: every
// statement inside one is sent to Graph when it runs. Commit succeeds;
// Rollback succeeds only when the transaction sent no write, and otherwise
// fails with ErrRollbackAfterWrite, because the writes cannot be undone.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.sc.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, c.st.translate(err)
	}
	c.st.mu.Lock()
	c.st.writes = 0
	c.st.readOnly = opts.ReadOnly
	c.st.mu.Unlock()
	return &txn{c: c, tx: tx}, nil
}

// checkArgs refuses more arguments than the statement has parameters
// (SQLite itself would ignore them; too few is SQLite's error).
func checkArgs(q rewritten, args []driver.NamedValue) error {
	if len(args) > q.params {
		return fmt.Errorf("planner: the statement takes %d parameter(s) but %d argument(s) were given", q.params, len(args))
	}
	return nil
}

// bindArgs converts the arguments the way the planner tables store
// values: a time.Time becomes the canonical DATETIME text (UTC, 7 fractional
// digits), so that it compares with DATETIME columns as the time it is and
// is stored in their form (modernc.org/sqlite would bind Go's
// time.Time.String text).
func bindArgs(args []driver.NamedValue) []driver.NamedValue {
	var out []driver.NamedValue
	for i, a := range args {
		if t, ok := a.Value.(time.Time); ok {
			if out == nil {
				out = slices.Clone(args)
			}
			out[i].Value = timeText(t)
		}
	}
	if out == nil {
		return args
	}
	return out
}

// ExecContext implements driver.ExecerContext.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	args = bindArgs(args)
	c.st.cn.logStatement(ctx, query, len(args))
	q, err := rewrite(query)
	if err != nil {
		return nil, err
	}
	if err := checkArgs(q, args); err != nil {
		return nil, err
	}
	if q.returning != "" {
		rows, err := c.queryReturning(ctx, q, args)
		if err != nil {
			return nil, err
		}
		n := int64(len(rows.(*staticRows).rows))
		rows.Close()
		return driver.RowsAffected(n), nil
	}
	sctx, end := c.st.cn.statement(ctx, q.original, args, nil)
	defer end()
	c.st.start(sctx, q)
	defer c.st.clearContext()
	if err := c.st.precheck(q, func() error {
		_, err := c.sc.(driver.ExecerContext).ExecContext(sctx, q.sql, args)
		return err
	}); err != nil {
		return nil, err
	}
	res, err := c.sc.(driver.ExecerContext).ExecContext(sctx, q.sql, args)
	if err != nil {
		return nil, c.st.translate(err)
	}
	return c.st.result(res), nil
}

// QueryContext implements driver.QueryerContext.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	args = bindArgs(args)
	c.st.cn.logStatement(ctx, query, len(args))
	q, err := rewrite(query)
	if err != nil {
		return nil, err
	}
	if err := checkArgs(q, args); err != nil {
		return nil, err
	}
	if q.returning != "" {
		return c.queryReturning(ctx, q, args)
	}
	sctx, end := c.st.cn.statement(ctx, q.original, args, nil)
	c.st.start(sctx, q)
	r, err := c.sc.(driver.QueryerContext).QueryContext(sctx, q.sql, args)
	if err != nil {
		c.st.clearContext()
		end()
		return nil, c.st.translate(err)
	}
	return &rows{r: r, c: c, ctx: sctx, end: end, query: q.sql}, nil
}

// Ping implements driver.Pinger.
func (c *conn) Ping(ctx context.Context) error {
	return c.sc.(driver.Pinger).Ping(ctx)
}

// ResetSession implements driver.SessionResetter.
func (c *conn) ResetSession(ctx context.Context) error {
	c.st.clearContext()
	c.st.takeErr()
	return c.sc.(driver.SessionResetter).ResetSession(ctx)
}

// IsValid implements driver.Validator.
func (c *conn) IsValid() bool { return c.sc.(driver.Validator).IsValid() }

// ErrRollbackAfterWrite is returned by Tx.Rollback when the transaction
// already sent writes to Graph: Graph has no transactions, so they stand.
var ErrRollbackAfterWrite = errors.New("planner: rollback cannot undo writes already sent to Microsoft Graph")

// txn is a transaction on the SQLite connection; see conn.BeginTx.
type txn struct {
	c  *conn
	tx driver.Tx
}

// Commit implements driver.Tx.
func (t *txn) Commit() error {
	t.c.st.mu.Lock()
	t.c.st.readOnly = false
	t.c.st.mu.Unlock()
	return t.c.st.translate(t.tx.Commit())
}

// Rollback implements driver.Tx.
func (t *txn) Rollback() error {
	err := t.tx.Rollback()
	t.c.st.mu.Lock()
	n := t.c.st.writes
	t.c.st.writes = 0
	t.c.st.readOnly = false
	t.c.st.mu.Unlock()
	if n > 0 {
		return fmt.Errorf("%w: %d write(s) were applied and stay applied", ErrRollbackAfterWrite, n)
	}
	return t.c.st.translate(err)
}

// stmt wraps a prepared statement so that its executions carry their context
// to the virtual tables and report typed errors.
type stmt struct {
	c       *conn
	s       driver.Stmt
	q       rewritten
	planned []string // the planner tables SQLite planned for it
}

// Close implements driver.Stmt.
func (s *stmt) Close() error { return s.s.Close() }

// NumInput implements driver.Stmt: the statement's parameter count, so that
// database/sql refuses a wrong number of arguments.
func (s *stmt) NumInput() int { return s.q.params }

// Exec implements driver.Stmt.
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

// Query implements driver.Stmt.
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

// ExecContext implements driver.StmtExecContext.
func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	args = bindArgs(args)
	if s.q.returning != "" {
		return s.c.ExecContext(ctx, s.q.original, args)
	}
	s.c.st.cn.logStatement(ctx, s.q.original, len(args))
	sctx, end := s.c.st.cn.statement(ctx, s.q.original, args, s.planned)
	defer end()
	s.c.st.start(sctx, s.q)
	defer s.c.st.clearContext()
	if err := s.c.st.precheck(s.q, func() error {
		_, err := s.s.(driver.StmtExecContext).ExecContext(sctx, args)
		return err
	}); err != nil {
		return nil, err
	}
	res, err := s.s.(driver.StmtExecContext).ExecContext(sctx, args)
	if err != nil {
		return nil, s.c.st.translate(err)
	}
	return s.c.st.result(res), nil
}

// QueryContext implements driver.StmtQueryContext.
func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	args = bindArgs(args)
	if s.q.returning != "" {
		return s.c.QueryContext(ctx, s.q.original, args)
	}
	s.c.st.cn.logStatement(ctx, s.q.original, len(args))
	sctx, end := s.c.st.cn.statement(ctx, s.q.original, args, s.planned)
	s.c.st.start(sctx, s.q)
	r, err := s.s.(driver.StmtQueryContext).QueryContext(sctx, args)
	if err != nil {
		s.c.st.clearContext()
		end()
		return nil, s.c.st.translate(err)
	}
	return &rows{r: r, c: s.c, ctx: sctx, end: end, query: s.q.sql}, nil
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// rows wraps a result set: paging continues inside Next, so Next puts the
// query's context back on the connection for the virtual tables, and column
// types are reported from the planner schema.
type rows struct {
	r     driver.Rows
	c     *conn
	ctx   context.Context // the statement's, carrying its scope
	end   func()          // ends the statement's scope
	query string

	infoOnce sync.Once
	nullable []int8 // per column: -1 unknown, 0 not null, 1 nullable
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
)

// Columns implements driver.Rows.
func (r *rows) Columns() []string { return r.r.Columns() }

// Close implements driver.Rows.
func (r *rows) Close() error {
	err := r.r.Close()
	r.c.st.clearContext()
	r.end()
	return r.c.st.translate(err)
}

// Next implements driver.Rows.
func (r *rows) Next(dest []driver.Value) error {
	r.c.st.setContext(r.ctx)
	err := r.r.Next(dest)
	if err == io.EOF {
		return err
	}
	return r.c.st.translate(err)
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.r.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return strings.ToUpper(x.ColumnTypeDatabaseTypeName(i))
	}
	return ""
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	int64Type  = reflect.TypeFor[int64]()
	stringType = reflect.TypeFor[string]()
)

// ColumnTypeScanType implements driver.RowsColumnTypeScanType: the Go type a
// value of the column's declared type scans into.
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	switch schema.Type(r.ColumnTypeDatabaseTypeName(i)) {
	case schema.DateTime:
		return timeType
	case schema.Integer, schema.Boolean: // BOOLEAN holds 0 and 1
		return int64Type
	case schema.Text, schema.JSON:
		return stringType
	}
	if x, ok := r.r.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable: a column that
// is a plain reference to a table column reports that column's nullability;
// an expression's is unknown.
func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) {
	r.infoOnce.Do(r.loadInfo)
	if i < 0 || i >= len(r.nullable) || r.nullable[i] < 0 {
		return false, false
	}
	return r.nullable[i] == 1, true
}

func (r *rows) loadInfo() {
	r.nullable = make([]int8, len(r.r.Columns()))
	for i := range r.nullable {
		r.nullable[i] = -1
	}
	ci, ok := r.c.sc.(interface {
		ColumnInfo(query string) ([]sqlite.ColumnInfo, error)
	})
	if !ok {
		return
	}
	infos, err := ci.ColumnInfo(r.query)
	if err != nil || len(infos) != len(r.nullable) {
		return
	}
	for i, info := range infos {
		t := schema.Lookup(info.TableName)
		if t == nil || info.OriginName == "" {
			continue
		}
		if col, _ := t.Column(info.OriginName); col != nil {
			r.nullable[i] = 0
			if col.Nullable {
				r.nullable[i] = 1
			}
		}
	}
}
