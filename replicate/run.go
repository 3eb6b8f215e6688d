package replicate

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/internal/redact"
)

// Errors a Result may carry. They may gain more context (wrapping); test them
// with errors.Is. Their text can change between versions.
var (
	// ErrLocked means another run (of another run lock: another job, or
	// another destination scope) was copying the same destination table for
	// longer than Options.TableLockTimeout; the table failed. The error is a
	// *LockedError naming the table and, when the database says, the holder.
	ErrLocked = errors.New("replicate: destination table is locked by another run")
	// ErrStopped means the run was asked to stop (Options.Stop, or ctx
	// ended) before it reached this table; the table was skipped.
	ErrStopped = errors.New("replicate: stopped before this table")
	// ErrSourceUnreachable means an earlier table of the run found the
	// source unreachable (graph.ErrUnreachable: Microsoft Graph does not
	// answer), so this table was skipped without reading it. The error
	// unwraps to that table's, so it also matches graph.ErrUnreachable.
	ErrSourceUnreachable = errors.New("replicate: the source is unreachable")
)

// RequestCounter reports how many requests a source has made; the planner
// driver's *driver.Connector is one. Counts only grow.
type RequestCounter interface {
	// Requests is the number of requests sent so far.
	Requests() int
	// Throttled is how many of them the service throttled (and were retried).
	Throttled() int
}

// unreachableSkip is the error of a table skipped after ErrSourceUnreachable.
type unreachableSkip struct {
	table string
	cause error // the error of the table that found the source unreachable
}

func (e *unreachableSkip) Error() string {
	return "replicate: " + e.table + " skipped: an earlier table found the source unreachable"
}
func (e *unreachableSkip) Is(target error) bool { return target == ErrSourceUnreachable }
func (e *unreachableSkip) Unwrap() error        { return e.cause }

// tableSkip is the error of a table not attempted: why is ErrStopped or
// ErrLeaseLost, cause what ended the run's context, if that did.
type tableSkip struct {
	table      string
	why, cause error
}

func (e *tableSkip) Error() string {
	s := "replicate: " + e.table + ": " + strings.TrimPrefix(e.why.Error(), "replicate: ")
	if e.cause != nil {
		s += " (" + e.cause.Error() + ")"
	}
	return s
}

func (e *tableSkip) Unwrap() []error {
	if e.cause == nil {
		return []error{e.why}
	}
	return []error{e.why, e.cause}
}

// Options configure a run. The zero value is usable.
type Options struct {
	// Logger receives a record per table (and debug records per phase).
	// Default: discard.
	Logger *slog.Logger
	// Progress, when set, is called from the run's goroutine at each phase
	// of each table and every 1,000 source rows. It must return quickly.
	Progress func(Progress)
	// Stop, when closed, makes the run finish the table in flight and skip
	// the rest (their Results carry ErrStopped). Default: never.
	Stop <-chan struct{}

	// LockTimeout is how long to wait for the run lock when another run of
	// the same lock is in progress (see "Locks" in the package doc); the
	// run is then skipped as a whole: Run returns a *SkippedError and a
	// skipped run is recorded. Default 0: do not wait.
	LockTimeout time.Duration
	// OnLockWait, when set, is called once if the run has to wait for the
	// run lock (LockTimeout > 0), with the run holding it.
	OnLockWait func(LockHolder)
	// TableLockTimeout is how long a table waits for a run of another lock
	// copying the same destination table; the table then fails with a
	// *LockedError. On PostgreSQL (unless the session sets its own
	// lock_timeout) and MySQL it also bounds the wait for a lock another
	// program holds on the table (LOCK TABLE, a long transaction): the table
	// then fails saying the lock wait timed out. Default
	// DefaultTableLockTimeout.
	TableLockTimeout time.Duration
	// LeaseTTL is how long a SQLite run lock (a lease row) stays valid
	// without a heartbeat; the holder renews it every LeaseTTL/4. Default
	// DefaultLeaseTTL.
	LeaseTTL time.Duration

	// Job names the job the run belongs to: recorded with the run, and part
	// of the run lock. Default: none (a manual run).
	Job string
	// Slot is the schedule slot the run belongs to and Attempt its attempt
	// (from 1); see schedule.Run. A run with a Job and a Slot is skipped
	// (ErrSlotDone) when a run of the same job, destination scope and slot,
	// of the same or a later attempt, has already copied (ok, failed or
	// stopped): replicas of a scheduler that share a slot run it once.
	Slot    time.Time
	Attempt int
	// Destination is a label of the destination recorded with the run (a
	// URL without its password, with schema, prefix, source name) for
	// people and History filters. Default: none.
	Destination string
	// Requests, when set, counts the source's requests: the run records
	// them per table and in total (Graph requests, for the planner driver).
	Requests RequestCounter
	// RecordLog records the run's log (its Logger records at Info and
	// above, as text, at most 64 KiB) with the run: History.Run returns it.
	RecordLog bool
	// Redact is applied to every text the run records (statements, errors,
	// warnings, log, destination label) after the removal of URL passwords
	// and secret key=value pairs that replicate always does. Default: none.
	Redact func(string) string

	// SourceTenant identifies the source's tenant (a Microsoft Entra
	// directory id). It is recorded in the state of every table copied, and
	// a table whose rows another tenant's runs wrote (with the same
	// SourceName, or none) fails rather than have them replaced: give each
	// tenant a SourceName, a prefix or a schema, or rebuild WITH DropTable.
	// Default: when Options.Requests has a TenantID(ctx) (string, error)
	// method — the planner driver's *driver.Connector does — its answer;
	// otherwise unknown, and not checked.
	SourceTenant string
	// SourceName is the source name for statements without WITH SourceName.
	// Default: none (no SourceName column).
	SourceName string
	// TablePrefix is prepended to destination names derived from a source
	// table name — Statement.NamedAfterSource (REPLICATE Tasks), REPLICATE
	// TABLES, REPLICATE ALL — and never to a destination named in the
	// statement (REPLICATE Open SELECT ..., REPLICATE Buckets Buckets).
	TablePrefix string
	// Schema is the schema (PostgreSQL), database (MySQL) or attached
	// database (SQLite) of destinations written without one, and where the
	// run's record and lock live. Default: the connection's.
	Schema string
	// NameStyle is how the tables and columns replicate creates are named:
	// NameExact (the default: as the source names them, Tasks.TaskId),
	// NameLower (tasks.taskid) or NameSnake (tasks.task_id). It applies to
	// destination table names (prefix included), result columns and the
	// SourceName, IsDeleted and DeletedDateTime columns; not to schemas,
	// nor to replicate's own planner_replicate_* tables. Tables written in
	// one style are other tables to a run in another.
	NameStyle NameStyle
	// HistoryTable names the history table. Default DefaultHistoryTable.
	HistoryTable string
	// BatchSize is the number of rows per multi-row INSERT. Default 500 for
	// PostgreSQL and MySQL, 64 for SQLite; capped by the database's
	// parameter limit.
	BatchSize int
	// Now is the clock for history, soft-delete and lease times; a SQLite
	// lease's heartbeat calls it from its own goroutine. Default time.Now.
	Now func() time.Time
}

// Phase is a stage of copying one table.
type Phase string

// The phases reported to Options.Progress, in order.
const (
	PhaseStart  Phase = "start"  // the source query is about to run
	PhaseLock   Phase = "lock"   // waiting for the destination table's lock
	PhaseCopy   Phase = "copy"   // reading the source and writing changed rows (repeated)
	PhaseDelete Phase = "delete" // deleting (or marking) rows gone from the source
	PhaseCommit Phase = "commit" // committing the table's transaction
	PhaseDone   Phase = "done"   // finished; the Result is final
)

// Progress reports how far a table's copy has come.
type Progress struct {
	// Index is the position of the table's Result in the run's results.
	Index int
	// Table is the destination table.
	Table string
	// Phase is the stage reached.
	Phase Phase
	// Read counts source rows read so far.
	Read int64
	// Inserted, Updated, Deleted and Unchanged count rows so far.
	Inserted, Updated, Deleted, Unchanged int64
	// Elapsed is the time since the table's copy started.
	Elapsed time.Duration
	// Err is the table's error, at PhaseDone.
	Err error
}

// Status is how a table copy or a run ended (or that it is running).
type Status string

// The statuses of tables (Result.Status, TableRecord) and runs (RunRecord);
// they are also the values of the history tables' Status columns.
const (
	StatusOK      Status = "ok"      // copied: the destination matches the source
	StatusFailed  Status = "failed"  // a table: nothing was changed, Err says why; a run: a table failed
	StatusSkipped Status = "skipped" // a table: not attempted (stopped); a run: another run was in progress, or the slot was done
	// Run statuses only.
	StatusRunning   Status = "running"   // the run is in progress
	StatusStopped   Status = "stopped"   // stopped (Options.Stop, ctx) before its last table
	StatusAbandoned Status = "abandoned" // its process ended without recording an outcome
)

// Result is the outcome of copying one destination table. A statement that
// copies several tables (TABLES, ALL) has one Result per table.
type Result struct {
	// RunID identifies the run's record (see History).
	RunID string
	// Statement is the REPLICATE statement's text.
	Statement string
	// Table is the destination table, schema-qualified when it has a schema.
	Table string
	// Source is the source name (WITH SourceName or Options.SourceName), or "".
	Source string
	// Query is the SQL sent to the source.
	Query string
	// Inserted, Updated, Deleted and Unchanged count destination rows.
	// Deleted includes rows marked by SoftDelete and rows removed by
	// TruncateTable.
	Inserted, Updated, Deleted, Unchanged int64
	// Requests and Throttled count the source's requests while this table
	// was copied (with Options.Requests).
	Requests, Throttled int
	// Started is when the table's copy started.
	Started time.Time
	// Duration is how long it took.
	Duration time.Duration
	// Warnings are notes that did not fail the copy (a column gone from the
	// source, a state rebuilt from the table, ...).
	Warnings []string
	// Err is why the copy failed or was skipped; nil on success. The
	// destination table is unchanged when Err is set.
	Err error
}

// Label names the result for people: its table, with the source name in
// parentheses when it has one; for a statement that failed before it named
// its tables (REPLICATE ALL whose source cannot be reached or listed,
// Table ""), the statement, on one line and cut at 60 characters.
func (r *Result) Label() string {
	if r.Table == "" {
		s := strings.Join(strings.Fields(r.Statement), " ")
		if s == "" {
			return "(statement)"
		}
		if rs := []rune(s); len(rs) > 60 {
			s = string(rs[:59]) + "…"
		}
		return s
	}
	if r.Source != "" {
		return r.Table + " (" + r.Source + ")"
	}
	return r.Table
}

// Failure says in one line which table (or statement) failed and why,
// naming it once: "Tasks: query the source: ..."; "" when Err is nil. Run
// records and the CLI's summaries use it.
func (r *Result) Failure() string {
	if r.Err == nil {
		return ""
	}
	msg := strings.TrimPrefix(strings.Join(strings.Fields(r.Err.Error()), " "), "replicate: ")
	if t := r.Table; t != "" {
		if rest, ok := strings.CutPrefix(msg, "table "+t+": "); ok {
			msg = rest
		} else if rest, ok := strings.CutPrefix(msg, t+": "); ok {
			msg = rest
		} else if strings.HasPrefix(msg, t+" ") {
			msg = strings.TrimPrefix(msg, t)
			return r.Label() + msg
		}
	}
	return r.Label() + ": " + strings.TrimPrefix(msg, "replicate: ")
}

// Status reports whether the table was copied, failed or skipped (a stop
// request, or ctx ending, before the table).
func (r *Result) Status() Status {
	switch {
	case r.Err == nil:
		return StatusOK
	case errors.Is(r.Err, ErrStopped), errors.Is(r.Err, ErrSourceUnreachable):
		return StatusSkipped
	default:
		return StatusFailed
	}
}

// Run parses a script of REPLICATE statements and runs it: see RunStatements.
// A script that does not parse runs nothing and returns a *SyntaxError.
func Run(ctx context.Context, src, dst *sql.DB, script string, opts Options) ([]Result, error) {
	stmts, err := Parse(script)
	if err != nil {
		return nil, err
	}
	return RunStatements(ctx, src, dst, stmts, opts)
}

// RunStatements copies each statement's result from src into dst, one table
// at a time, in order, as one run: it takes the run lock first (see "Locks"
// in the package doc), and records the run (see History).
//
// A table that fails (or is skipped after a stop request) gets a Result with
// Err set and the run continues with the next table, unless the source is
// unreachable (graph.ErrUnreachable): the remaining tables are then skipped
// with ErrSourceUnreachable, unread. The error is nil only when every table
// was copied; otherwise it joins the tables' errors (errors.Join, so
// errors.Is finds ErrStopped, ErrLocked, graph.ErrUnreachable, driver
// errors...) and the results are returned too. Failures of the whole run
// return no results: a statement that is not valid, an unusable
// destination, and a run skipped because another run holds its lock (a
// *SkippedError, errors.Is(err, ErrSkipped)). When ctx ends, the table in
// flight is rolled back, the remaining tables are reported skipped, and the
// error also says the run was interrupted.
func RunStatements(ctx context.Context, src, dst *sql.DB, stmts []Statement, opts Options) ([]Result, error) {
	for i := range stmts {
		if err := stmts[i].validate(); err != nil {
			return nil, fmt.Errorf("replicate: statement %d: %w", i+1, err)
		}
	}
	r, err := newRunner(ctx, src, dst, opts)
	if err != nil {
		return nil, withHint(err)
	}
	defer r.close()
	if err := r.begin(ctx); err != nil {
		return nil, withHint(err)
	}
	results := r.runAll(ctx, stmts)
	var errs []error
	for _, res := range results {
		if res.Err != nil {
			errs = append(errs, res.Err)
		}
	}
	var runErr error
	if err := ctx.Err(); err != nil {
		runErr = fmt.Errorf("replicate: run interrupted: %w", context.Cause(ctx))
		errs = append(errs, runErr)
	}
	if err := r.end(ctx, results, runErr); err != nil {
		errs = append(errs, err)
	}
	return results, errors.Join(errs...)
}

// runAll runs the statements' tables.
func (r *runner) runAll(ctx context.Context, stmts []Statement) []Result {
	var results []Result
	var unreachable error // the error of the table that found the source unreachable
	for i := range stmts {
		st := &stmts[i]
		text := st.Text
		if text == "" {
			text = st.String()
		}
		jobs, err := r.expand(ctx, st)
		if err != nil {
			res := Result{RunID: r.runID, Statement: text, Started: r.now(), Err: err}
			r.log.Error("replicate statement failed", "statement", text, "err", err)
			if herr := r.recordStatementFailure(ctx, &res); herr != nil {
				r.log.Warn("replicate: the failure was not recorded in the history table", "err", herr)
			}
			results = append(results, res)
			continue
		}
		for _, j := range jobs {
			res := Result{RunID: r.runID, Statement: text, Table: j.dest.String(), Source: j.with.SourceName, Query: j.query, Started: r.now()}
			r.beatIfDue(ctx)
			switch {
			case ctx.Err() != nil:
				res.Err = &tableSkip{table: res.Table, why: ErrStopped, cause: context.Cause(ctx)}
			case r.stopped():
				res.Err = &tableSkip{table: res.Table, why: ErrStopped}
			case r.leaseLost():
				res.Err = &tableSkip{table: res.Table, why: ErrLeaseLost}
			case unreachable != nil:
				res.Err = &unreachableSkip{table: res.Table, cause: unreachable}
			default:
				r.runJob(ctx, j, len(results), &res)
				if errors.Is(res.Err, graph.ErrUnreachable) {
					unreachable = res.Err
				}
			}
			results = append(results, res)
		}
	}
	return results
}

// runner carries one run's state.
type runner struct {
	srcDB    *sql.DB
	src      *source // srcDB, probed once the run holds its lock
	dst      *sql.DB
	d        dialect
	conn     *sql.Conn
	restore  func()
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	history  string
	style    NameStyle
	tenant   string          // the source's tenant, or ""
	defSch   string          // the connection's default schema
	prepared map[string]bool // schemas whose bookkeeping tables exist

	runID        string
	started      time.Time
	host, hostID string
	lockKey      string // the run lock's name (runScope.key)
	runSchema    string // the run schema, resolved (for the lock's scope)
	runsSQL      string // the runs table, quoted
	lockSQL      string // the SQLite lease table, quoted
	locker       runLocker
	lease        *sqliteLease  // the locker when it is a SQLite lease
	hbConn       *sql.Conn     // the lease heartbeat's connection, or nil
	hbDone       chan struct{} // closed to stop the heartbeat
	hbWG         sync.WaitGroup
	counter      RequestCounter
	req0, thr0   int
	logBuf       *capBuffer
	tableSchemas []string // schemas of table records other than the run schema
}

func newRunner(ctx context.Context, src, dst *sql.DB, opts Options) (*runner, error) {
	if src == nil || dst == nil {
		return nil, errors.New("replicate: source and destination databases are required")
	}
	d, err := newDialect(ctx, dst)
	if err != nil {
		return nil, err
	}
	r := &runner{srcDB: src, dst: dst, d: d, opts: opts, prepared: map[string]bool{}, history: opts.HistoryTable, now: opts.Now,
		counter: opts.Requests}
	if r.history == "" {
		r.history = DefaultHistoryTable
	}
	if r.style, err = ParseNameStyle(string(opts.NameStyle)); err != nil {
		return nil, err
	}
	if err := d.checkIdent(r.history); err != nil {
		return nil, fmt.Errorf("replicate: history table: %w", err)
	}
	if opts.Schema != "" {
		if err := d.checkIdent(opts.Schema); err != nil {
			return nil, fmt.Errorf("replicate: schema: %w", err)
		}
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.started = r.now()
	r.runID = newRunID(r.started)
	r.host, r.hostID = hostName(), hostIdentity()
	handler := slog.DiscardHandler
	if opts.Logger != nil {
		handler = opts.Logger.Handler()
	}
	if opts.RecordLog {
		r.logBuf = &capBuffer{max: maxRecordedLog}
		handler = slog.NewMultiHandler(handler, slog.NewTextHandler(r.logBuf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	r.log = slog.New(handler)
	// A SQLite lease is renewed on a connection of its own, taken first so
	// that a pool of two cannot starve it; a pool of one renews between
	// tables instead.
	if _, ok := d.(*sqliteDialect); ok && dst.Stats().MaxOpenConnections != 1 {
		if r.hbConn, err = dst.Conn(ctx); err != nil {
			return nil, fmt.Errorf("replicate: connect to the destination: %w", err)
		}
	}
	// One connection for the whole run: SQLite attachments, MySQL named
	// locks, PostgreSQL session locks and session settings are per
	// connection.
	if r.conn, err = dst.Conn(ctx); err != nil {
		r.closeHeartbeatConn()
		return nil, fmt.Errorf("replicate: connect to the destination: %w", err)
	}
	if r.restore, err = d.setup(ctx, r.conn); err != nil {
		r.conn.Close()
		r.closeHeartbeatConn()
		return nil, err
	}
	if r.defSch, err = d.defaultSchema(ctx, r.conn); err != nil && opts.Schema == "" {
		r.close()
		return nil, fmt.Errorf("replicate: destination: %w", err)
	}
	r.runSchema = opts.Schema
	if r.runSchema == "" {
		r.runSchema = r.defSch
	}
	if d.kind() == "sqlite" {
		r.runSchema = asciiFold(r.runSchema)
	}
	r.lockKey = runScope{Job: opts.Job, Schema: r.runSchema, Prefix: opts.TablePrefix, SourceName: opts.SourceName}.key()
	r.runsSQL = qualify(d, Name{Schema: opts.Schema, Table: RunsTable})
	r.lockSQL = qualify(d, Name{Schema: opts.Schema, Table: LockTable})
	return r, nil
}

// newRunID returns a run id: the start time in milliseconds (12 hex digits,
// so ids sort by start) and 64 random bits.
func newRunID(t time.Time) string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%012x%s", t.UnixMilli(), hex.EncodeToString(b[:]))
}

// maxRecordedLog bounds a recorded run log.
const maxRecordedLog = 64 << 10

// capBuffer keeps the first max bytes written to it.
type capBuffer struct {
	mu        sync.Mutex
	b         bytes.Buffer
	max       int
	truncated bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.b.Len(); len(p) > room {
		c.truncated = true
		c.b.Write(p[:max(room, 0)])
		return len(p), nil
	}
	c.b.Write(p)
	return len(p), nil
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.truncated {
		return c.b.String() + fmt.Sprintf("\n... (log truncated at %d KiB)\n", c.max>>10)
	}
	return c.b.String()
}

// redact prepares text for the run's records.
func (r *runner) redact(s string) string {
	s = redact.Text(s)
	if r.opts.Redact != nil {
		s = r.opts.Redact(s)
	}
	return s
}

// leaseTTL is the SQLite lease's lifetime.
func (r *runner) leaseTTL() time.Duration {
	if r.opts.LeaseTTL > 0 {
		return r.opts.LeaseTTL
	}
	return DefaultLeaseTTL
}

// begin takes the run lock and records the run; a run that must not go on
// returns a *SkippedError.
func (r *runner) begin(ctx context.Context) error {
	if err := r.prepareSchema(ctx, r.opts.Schema); err != nil {
		return err
	}
	locker := r.newRunLocker()
	if l, ok := locker.(*sqliteLease); ok {
		r.lease = l
	}
	ok, err := locker.try(ctx)
	if errors.Is(err, errDestinationBusy) && r.opts.LockTimeout > 0 {
		ok, err = false, nil // a busy SQLite file: wait as for a run
	}
	if err != nil {
		return fmt.Errorf("replicate: take the run lock: %w", err)
	}
	if !ok && r.opts.LockTimeout > 0 {
		h := locker.holder(ctx)
		r.log.Info("replicate: waiting for the run in progress", "holder", h.String(), "timeout", r.opts.LockTimeout)
		if r.opts.OnLockWait != nil {
			r.opts.OnLockWait(h)
		}
		// A stop request ends the wait: the run has not started.
		wctx, cancel := context.WithCancelCause(ctx)
		go func() {
			select {
			case <-r.opts.Stop:
				cancel(ErrStopped)
			case <-wctx.Done():
			}
		}()
		ok, err = locker.wait(wctx, r.opts.LockTimeout)
		cancel(nil)
		if err != nil {
			if errors.Is(context.Cause(wctx), ErrStopped) && ctx.Err() == nil {
				return fmt.Errorf("replicate: stopped while waiting for the run in progress %s: %w", h, ErrStopped)
			}
			return fmt.Errorf("replicate: wait for the run lock: %w", err)
		}
	}
	if !ok {
		h := locker.holder(ctx)
		if l, isLease := locker.(*sqliteLease); isLease && l.busy && h.RunID == "" {
			// No run holds the lease: another program kept the file's
			// write lock the whole wait. Say so, not "run in progress".
			return fmt.Errorf("replicate: take the run lock: %w (waited %s); run again when it is done", errDestinationBusy, r.opts.LockTimeout)
		}
		se := &SkippedError{Holder: h, Waited: r.opts.LockTimeout, Reason: ErrRunInProgress}
		r.recordSkip(ctx, se, false)
		return se
	}
	r.locker = locker
	if err := r.markAbandoned(ctx); err != nil {
		return err
	}
	if err := r.insertRun(ctx, StatusRunning, ""); err != nil {
		return err
	}
	h, done, err := r.slotDone(ctx)
	if err != nil {
		return err
	}
	if done {
		se := &SkippedError{Holder: h, Reason: ErrSlotDone}
		r.recordSkip(ctx, se, true)
		return se
	}
	if r.lease != nil && r.hbConn != nil {
		if err := r.attachForHeartbeat(ctx); err != nil {
			r.log.Warn("replicate: the lease heartbeat has no connection; renewing it between tables", "err", err)
			r.closeHeartbeatConn()
		} else {
			r.hbDone = make(chan struct{})
			r.hbWG.Go(func() { r.lease.heartbeat(r.hbConn, r.hbDone) })
		}
	}
	if r.counter != nil {
		r.req0, r.thr0 = r.counter.Requests(), r.counter.Throttled()
	}
	// The source is touched only now: a skipped run costs it nothing.
	r.src = newSource(ctx, r.srcDB)
	if r.src.err == nil {
		r.tenant = r.sourceTenant(ctx)
	}
	return nil
}

// sourceTenant is Options.SourceTenant, or what Options.Requests'
// TenantID says, or "" (unknown).
func (r *runner) sourceTenant(ctx context.Context) string {
	if r.opts.SourceTenant != "" {
		return r.opts.SourceTenant
	}
	tr, ok := r.opts.Requests.(interface {
		TenantID(context.Context) (string, error)
	})
	if !ok {
		return ""
	}
	tenant, err := tr.TenantID(ctx)
	if err != nil {
		r.log.Warn("replicate: the source's tenant is unknown; tables are not checked against the tenant that filled them", "err", err)
	}
	return tenant
}

// recordSkip records a skipped run (inserted, or updated when the run was
// already recorded as running) and logs it.
func (r *runner) recordSkip(ctx context.Context, se *SkippedError, recorded bool) {
	ctx = context.WithoutCancel(ctx)
	msg := se.message()
	var err error
	if recorded {
		d := r.d
		_, err = r.conn.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = %s, %s = %s, %s = %s WHERE %s = %s", r.runsSQL,
			d.quote("Status"), d.placeholder(1), d.quote("Error"), d.placeholder(2), d.quote("EndDateTime"), d.placeholder(3),
			d.quote("RunId"), d.placeholder(4)), string(StatusSkipped), r.redact(msg), d.timeValue(r.now()), r.runID)
	} else {
		err = r.insertRun(ctx, StatusSkipped, msg)
	}
	if err != nil {
		r.log.Warn("replicate: run skipped", "reason", msg)
		r.log.Warn("replicate: the skipped run was not recorded", "err", err)
		return
	}
	se.RunID = r.runID
	r.log.Warn("replicate: run skipped", "reason", msg, "run", r.runID)
}

// attachForHeartbeat makes the run schema visible on the heartbeat's connection.
func (r *runner) attachForHeartbeat(ctx context.Context) error {
	sd := r.d.(*sqliteDialect)
	s := r.opts.Schema
	if s == "" || sd.sameName(s, "main") {
		return nil
	}
	dbs, err := sd.databases(ctx, r.conn)
	if err != nil {
		return err
	}
	_, err = r.hbConn.ExecContext(ctx, "ATTACH DATABASE ? AS "+sd.quote(s), dbs[asciiFold(s)])
	return err
}

// beatIfDue renews a SQLite lease on the run's connection when it has no
// heartbeat of its own.
func (r *runner) beatIfDue(ctx context.Context) {
	if r.lease == nil || r.hbDone != nil || r.locker == nil {
		return
	}
	if r.now().Sub(time.Unix(0, r.lease.lastBeat.Load())) >= r.leaseTTL()/4 {
		r.lease.beat(ctx, r.conn)
	}
}

// leaseLost reports whether another run took the SQLite lease over.
func (r *runner) leaseLost() bool { return r.lease != nil && r.lease.lost.Load() }

// end records how the run ended and releases its lock.
func (r *runner) end(ctx context.Context, results []Result, runErr error) error {
	ctx = context.WithoutCancel(ctx)
	r.stopHeartbeat()
	err := r.finishRun(ctx, results, runErr)
	if r.locker != nil && !r.leaseLost() {
		if rerr := r.locker.release(ctx); rerr != nil {
			r.log.Warn("replicate: release the run lock", "err", rerr)
		}
	}
	r.locker = nil
	return err
}

func (r *runner) stopHeartbeat() {
	if r.hbDone != nil {
		close(r.hbDone)
		r.hbWG.Wait()
		r.hbDone = nil
	}
}

func (r *runner) closeHeartbeatConn() {
	if r.hbConn != nil {
		r.hbConn.Close()
		r.hbConn = nil
	}
}

func (r *runner) close() {
	r.stopHeartbeat()
	if r.locker != nil {
		r.locker.release(context.Background()) //nolint:errcheck // the session's end releases it too
	}
	r.restore()
	r.conn.Close()
	if r.hbConn != nil {
		if s := r.opts.Schema; s != "" && !r.d.sameName(s, "main") {
			r.hbConn.ExecContext(context.Background(), "DETACH DATABASE "+r.d.quote(s)) //nolint:errcheck
		}
		r.closeHeartbeatConn()
	}
}

func (r *runner) stopped() bool {
	select {
	case <-r.opts.Stop:
		return true
	default:
		return false
	}
}

// job is one destination table to copy.
type job struct {
	dest        Name   // destination, with Options.Schema applied
	srcTable    Name   // the source table, for key discovery
	hasSrcTable bool   // srcTable is known
	query       string // SQL sent to the source
	exclude     []string
	with        With // with SourceName defaulted
}

// expand turns a statement into the tables it copies, named in the
// destination's name style.
func (r *runner) expand(ctx context.Context, st *Statement) ([]*job, error) {
	jobs, err := r.expandNames(ctx, st)
	for _, j := range jobs {
		j.dest.Table = r.style.Apply(j.dest.Table)
	}
	return jobs, err
}

func (r *runner) expandNames(ctx context.Context, st *Statement) ([]*job, error) {
	with := st.With
	if !with.HasSourceName {
		with.SourceName = r.opts.SourceName
	}
	derived := func(src Name, exclude []string) *job {
		return &job{
			dest:     Name{Schema: r.opts.Schema, Table: r.opts.TablePrefix + src.Table},
			srcTable: src, hasSrcTable: true,
			query:   r.src.tableQuery(src),
			exclude: exclude,
			with:    with,
		}
	}
	switch st.Kind {
	case KindTables:
		if err := r.checkTables(ctx, st); err != nil {
			return nil, err
		}
		var jobs []*job
		for _, t := range st.Tables {
			jobs = append(jobs, derived(t.Table, t.ExcludeColumns))
		}
		return jobs, nil
	case KindAll:
		names, err := r.allTables(ctx, st)
		if err != nil {
			return nil, err
		}
		var jobs []*job
		for _, n := range names {
			var excl []string
			for _, c := range st.ExcludeColumns {
				if t, col, _ := strings.Cut(c, "."); strings.EqualFold(t, n) {
					excl = append(excl, col)
				}
			}
			jobs = append(jobs, derived(Name{Table: n}, excl))
		}
		return jobs, nil
	}
	if st.Query == "" {
		j := &job{dest: st.Dest, srcTable: st.Source, hasSrcTable: true, query: r.src.tableQuery(st.Source),
			exclude: st.ExcludeColumns, with: with}
		if st.NamedAfterSource {
			// REPLICATE [schema.]Table: the destination is named after the source table.
			j.dest.Table = r.opts.TablePrefix + st.Dest.Table
		}
		if j.dest.Schema == "" {
			j.dest.Schema = r.opts.Schema
		}
		return []*job{j}, nil
	}
	j := &job{dest: st.Dest, query: st.Query, exclude: st.ExcludeColumns, with: with}
	if j.dest.Schema == "" {
		j.dest.Schema = r.opts.Schema
	}
	j.srcTable, j.hasSrcTable = simpleSourceTable(st.Query)
	return []*job{j}, nil
}

// checkTables fails REPLICATE TABLES (...) naming tables the source does
// not list, before any is copied (unqualified names, and only when the
// source can list its tables).
func (r *runner) checkTables(ctx context.Context, st *Statement) error {
	names, err := r.src.listTables(ctx)
	if errors.Is(err, errCannotList) {
		return nil // the tables are named; the source cannot say which it has
	}
	if err != nil {
		return fromSource(err)
	}
	var unknown []string
	for _, t := range st.Tables {
		if t.Table.Schema == "" && !containsFold(names, t.Table.Table) {
			unknown = append(unknown, t.Table.Table)
		}
	}
	return unknownTables("REPLICATE TABLES", unknown, names)
}

// allTables lists the tables REPLICATE ALL copies: the source's, less
// replicate's own and the excluded ones. An excluded name (in EXCLUDE
// TABLES or EXCLUDE COLUMNS) the source does not list is an error.
func (r *runner) allTables(ctx context.Context, st *Statement) ([]string, error) {
	names, err := r.src.listTables(ctx)
	if err != nil {
		return nil, fromSource(err)
	}
	var unknown []string
	for _, x := range st.ExcludeTables {
		if !containsFold(names, x) {
			unknown = append(unknown, x)
		}
	}
	for _, c := range st.ExcludeColumns {
		if t, _, _ := strings.Cut(c, "."); !containsFold(names, t) && !containsFold(unknown, t) {
			unknown = append(unknown, t)
		}
	}
	if err := unknownTables("REPLICATE ALL EXCLUDE", unknown, names); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, func(n string) bool {
		return r.isBookkeeping(n, strings.EqualFold) || containsFold(st.ExcludeTables, n)
	}), nil
}

// unknownTables is the error of a statement naming tables the source does
// not have, or nil when unknown is empty.
func unknownTables(what string, unknown, names []string) error {
	if len(unknown) == 0 {
		return nil
	}
	quoted := make([]string, len(unknown))
	for i, u := range unknown {
		quoted[i] = displayIdent(u)
	}
	noun := "a table"
	if len(unknown) > 1 {
		noun = "tables"
	}
	return fmt.Errorf("replicate: %s names %s, not %s of the source; its tables are: %s",
		what, strings.Join(quoted, ", "), noun, strings.Join(names, ", "))
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// isBookkeeping reports whether a table name is one of replicate's own tables.
func (r *runner) isBookkeeping(name string, same func(a, b string) bool) bool {
	for _, b := range []string{StateTable, r.history, RunsTable, LockTable} {
		if same(name, b) {
			return true
		}
	}
	return false
}

// runJob copies one table and completes res.
func (r *runner) runJob(ctx context.Context, j *job, index int, res *Result) {
	t := &tableRun{r: r, j: j, res: res, index: index, bk: newBookNames(r.style)}
	if r.counter != nil {
		t.req0, t.thr0 = r.counter.Requests(), r.counter.Throttled()
	}
	if s := j.dest.Schema; s != "" && !r.d.sameName(s, r.runSchema) && !slices.Contains(r.tableSchemas, s) &&
		!(r.opts.Schema == "" && r.d.sameName(s, r.defSch)) {
		r.tableSchemas = append(r.tableSchemas, s)
	}
	err := withHint(t.run(ctx))
	res.Duration = r.now().Sub(res.Started)
	t.countRequests()
	if err != nil {
		res.Err = err
		res.Inserted, res.Updated, res.Deleted, res.Unchanged = 0, 0, 0, 0
		if herr := r.recordFailure(ctx, j.dest.Schema, res); herr != nil {
			res.Warnings = append(res.Warnings, "the failure was not recorded in the history table: "+herr.Error())
		}
	}
	t.progress(PhaseDone)
	for _, w := range res.Warnings {
		r.log.Warn("replicate warning", append(tableAttrs(res), "warning", w)...)
	}
	if err != nil {
		lvl := slog.LevelError
		if res.Status() == StatusSkipped {
			lvl = slog.LevelWarn
		}
		r.log.Log(ctx, lvl, "replicate table "+string(res.Status()), append(tableAttrs(res), "duration", res.Duration, "err", err)...)
		return
	}
	r.log.Info("replicate table ok", append(tableAttrs(res),
		"inserted", res.Inserted, "updated", res.Updated, "deleted", res.Deleted, "unchanged", res.Unchanged,
		"requests", res.Requests, "duration", res.Duration)...)
}

// tableAttrs are the log attributes naming a result's table: the table,
// and its source name when it has one.
func tableAttrs(res *Result) []any {
	if res.Source == "" {
		return []any{"table", res.Table}
	}
	return []any{"table", res.Table, "source", res.Source}
}

// recordFailure writes a failed table's history row, after the rollback.
func (r *runner) recordFailure(ctx context.Context, schema string, res *Result) error {
	ctx = context.WithoutCancel(ctx)
	if err := r.prepareSchema(ctx, schema); err != nil {
		return err
	}
	return r.writeHistory(ctx, r.conn, schema, res)
}

// recordStatementFailure records a statement that could not be expanded
// into tables (REPLICATE ALL whose source cannot list its tables), in the
// run schema's history table.
func (r *runner) recordStatementFailure(ctx context.Context, res *Result) error {
	return r.recordFailure(ctx, r.opts.Schema, res)
}

// prepareSchema creates or attaches a destination schema and its
// bookkeeping tables (and, in the run schema, the run tables), once per run.
func (r *runner) prepareSchema(ctx context.Context, s string) error {
	if r.prepared[s] {
		return nil
	}
	if s != "" {
		if err := r.d.checkIdent(s); err != nil {
			return fmt.Errorf("replicate: schema: %w", err)
		}
	}
	d := r.d
	state := Name{Schema: s, Table: StateTable}
	tables := []bookTable{stateBook(d, state), historyBook(d, s, r.history)}
	if s == r.opts.Schema {
		tables = append(tables, runsBook(d, s))
		if d.kind() == "sqlite" {
			tables = append(tables, lockBook(d, s))
		}
	}
	if err := d.prepareSchema(ctx, r.conn, s, tables); err != nil {
		return fmt.Errorf("replicate: prepare destination schema %s: %w", displayIdent(s), err)
	}
	r.prepared[s] = true
	return nil
}

// writeHistory records a table's copy in the history table of schema s.
func (r *runner) writeHistory(ctx context.Context, q querier, s string, res *Result) error {
	d := r.d
	cols := []string{"Statement", "TableName", "SourceName", "StartDateTime", "EndDateTime",
		"Inserted", "Updated", "Deleted", "Unchanged", "Status", "Error", "Warnings", "RunId", "Requests", "Throttled"}
	var errText, warnings, source any
	if res.Err != nil {
		errText = r.redact(res.Err.Error())
	}
	if len(res.Warnings) > 0 {
		warnings = r.redact(strings.Join(res.Warnings, "\n"))
	}
	if res.Source != "" {
		source = res.Source
	}
	table := qualify(d, Name{Schema: s, Table: r.history})
	_, err := q.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, quoteList(d, cols), placeholders(d, 1, len(cols))),
		r.redact(res.Statement), res.Table, source, d.timeValue(res.Started), d.timeValue(r.now()),
		res.Inserted, res.Updated, res.Deleted, res.Unchanged, string(res.Status()), errText, warnings,
		r.runID, int64(res.Requests), int64(res.Throttled))
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}
