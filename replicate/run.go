package replicate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/plannersql/planner/graph"
)

// Errors a Result may carry. They may gain more context (wrapping); test them
// with errors.Is. Their text can change between versions.
var (
	// ErrLocked means another run held the destination table's lock; the
	// table was skipped. The error is a *LockedError naming the table and,
	// when the database says, the holder.
	ErrLocked = errors.New("replicate: destination table is locked by another run")
	// ErrStopped means the run was asked to stop (Options.Stop) before it
	// reached this table; the table was skipped.
	ErrStopped = errors.New("replicate: stopped before this table")
	// ErrSourceUnreachable means an earlier table of the run found the
	// source unreachable (graph.ErrUnreachable: Microsoft Graph does not
	// answer), so this table was skipped without reading it. The error
	// unwraps to that table's, so it also matches graph.ErrUnreachable.
	ErrSourceUnreachable = errors.New("replicate: the source is unreachable")
)

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
	// LockTimeout is how long to wait for a table another run is copying
	// before skipping it with ErrLocked. Default 0: do not wait.
	LockTimeout time.Duration
	// SourceName is the source name for statements without WITH SourceName.
	// Default: none (no SourceName column).
	SourceName string
	// TablePrefix is prepended to destination names derived from a source
	// table name (REPLICATE Tasks, REPLICATE TABLES, REPLICATE ALL); a
	// destination named before a SELECT or a source table is used as written.
	TablePrefix string
	// Schema is the schema (PostgreSQL), database (MySQL) or attached
	// database (SQLite) of destinations written without one.
	// Default: the connection's.
	Schema string
	// HistoryTable names the history table. Default DefaultHistoryTable.
	HistoryTable string
	// BatchSize is the number of rows per multi-row INSERT. Default 500 for
	// PostgreSQL and MySQL, 64 for SQLite; capped by the database's
	// parameter limit.
	BatchSize int
	// Now is the clock for history and soft-delete times. Default time.Now.
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

// Status summarises a Result.
type Status string

// The statuses of a Result; they are also the history table's Status values.
const (
	StatusOK      Status = "ok"      // the destination table matches the source
	StatusFailed  Status = "failed"  // nothing was changed; Err says why
	StatusSkipped Status = "skipped" // not attempted: locked by another run, or stopped
)

// Result is the outcome of copying one destination table. A statement that
// copies several tables (TABLES, ALL) has one Result per table.
type Result struct {
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

// Status reports whether the table was copied, failed or skipped.
func (r *Result) Status() Status {
	switch {
	case r.Err == nil:
		return StatusOK
	case errors.Is(r.Err, ErrLocked), errors.Is(r.Err, ErrStopped), errors.Is(r.Err, ErrSourceUnreachable):
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
// at a time, in order. A table that fails (or is locked, or skipped after a
// stop request) gets a Result with Err set and the run continues with the
// next table, unless the source is unreachable (graph.ErrUnreachable): the
// remaining tables are then skipped with ErrSourceUnreachable, unread. The
// returned error is for failures of the whole run: an unusable destination,
// or ctx ending (the remaining tables are then reported skipped with ctx's
// error).
func RunStatements(ctx context.Context, src, dst *sql.DB, stmts []Statement, opts Options) ([]Result, error) {
	r, err := newRunner(ctx, src, dst, opts)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var results []Result
	var unreachable error // the error of the table that found the source unreachable
	for i := range stmts {
		st := &stmts[i]
		jobs, err := r.expand(ctx, st)
		if err != nil {
			results = append(results, Result{Statement: st.Text, Started: r.now(), Err: err})
			r.log.Error("replicate statement failed", "statement", st.Text, "err", err)
			continue
		}
		for _, j := range jobs {
			res := Result{Statement: st.Text, Table: j.dest.String(), Source: j.with.SourceName, Query: j.query, Started: r.now()}
			switch {
			case ctx.Err() != nil:
				res.Err = fmt.Errorf("replicate: %s skipped: %w", res.Table, context.Cause(ctx))
			case r.stopped():
				res.Err = fmt.Errorf("replicate: %s: %w", res.Table, ErrStopped)
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
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("replicate: run interrupted: %w", context.Cause(ctx))
	}
	return results, nil
}

// runner carries one run's state.
type runner struct {
	src      *source
	d        dialect
	conn     *sql.Conn
	restore  func()
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	history  string
	defSch   string          // the connection's default schema
	prepared map[string]bool // schemas whose bookkeeping tables exist
}

func newRunner(ctx context.Context, src, dst *sql.DB, opts Options) (*runner, error) {
	if src == nil || dst == nil {
		return nil, errors.New("replicate: source and destination databases are required")
	}
	d, err := newDialect(ctx, dst)
	if err != nil {
		return nil, err
	}
	r := &runner{src: newSource(ctx, src), d: d, opts: opts, prepared: map[string]bool{}, history: opts.HistoryTable, now: opts.Now}
	if r.history == "" {
		r.history = DefaultHistoryTable
	}
	if err := d.checkIdent(r.history); err != nil {
		return nil, fmt.Errorf("replicate: history table: %w", err)
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.log = opts.Logger
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	// One connection for the whole run: SQLite attachments, MySQL named
	// locks and session settings are per connection.
	if r.conn, err = dst.Conn(ctx); err != nil {
		return nil, fmt.Errorf("replicate: connect to the destination: %w", err)
	}
	if r.restore, err = d.setup(ctx, r.conn); err != nil {
		r.conn.Close()
		return nil, err
	}
	if r.defSch, err = d.defaultSchema(ctx, r.conn); err != nil && opts.Schema == "" {
		r.close()
		return nil, fmt.Errorf("replicate: destination: %w", err)
	}
	return r, nil
}

func (r *runner) close() {
	r.restore()
	r.conn.Close()
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

// expand turns a statement into the tables it copies.
func (r *runner) expand(ctx context.Context, st *Statement) ([]*job, error) {
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
		var jobs []*job
		for _, t := range st.Tables {
			jobs = append(jobs, derived(t.Table, t.ExcludeColumns))
		}
		return jobs, nil
	case KindAll:
		names, err := r.src.listTables(ctx)
		if err != nil {
			return nil, err
		}
		var jobs []*job
		for _, n := range names {
			if strings.EqualFold(n, StateTable) || strings.EqualFold(n, r.history) || containsFold(st.ExcludeTables, n) {
				continue
			}
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
		if st.Source == (Name{Table: st.Dest.Table}) {
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

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// runJob copies one table and completes res.
func (r *runner) runJob(ctx context.Context, j *job, index int, res *Result) {
	t := &tableRun{r: r, j: j, res: res, index: index}
	err := t.run(ctx)
	res.Duration = r.now().Sub(res.Started)
	if err != nil {
		res.Err = err
		res.Inserted, res.Updated, res.Deleted, res.Unchanged = 0, 0, 0, 0
		if !errors.Is(err, ErrLocked) {
			if herr := r.recordFailure(ctx, j, res); herr != nil {
				res.Warnings = append(res.Warnings, "the failure was not recorded in the history table: "+herr.Error())
			}
		}
	}
	t.progress(PhaseDone)
	for _, w := range res.Warnings {
		r.log.Warn("replicate warning", "table", res.Table, "warning", w)
	}
	if err != nil {
		lvl := slog.LevelError
		if res.Status() == StatusSkipped {
			lvl = slog.LevelWarn
		}
		r.log.Log(ctx, lvl, "replicate table "+string(res.Status()), "table", res.Table, "source", res.Source, "duration", res.Duration, "err", err)
		return
	}
	r.log.Info("replicate table ok", "table", res.Table, "source", res.Source,
		"inserted", res.Inserted, "updated", res.Updated, "deleted", res.Deleted, "unchanged", res.Unchanged,
		"duration", res.Duration)
}

// recordFailure writes a failed run's history row, after the rollback.
func (r *runner) recordFailure(ctx context.Context, j *job, res *Result) error {
	ctx = context.WithoutCancel(ctx)
	if err := r.prepareSchema(ctx, j.dest.Schema); err != nil {
		return err
	}
	return writeHistory(ctx, r.d, r.conn, qualify(r.d, Name{Schema: j.dest.Schema, Table: r.history}), res, r.now())
}

// prepareSchema creates or attaches a destination schema and its
// bookkeeping tables, once per run.
func (r *runner) prepareSchema(ctx context.Context, s string) error {
	if r.prepared[s] {
		return nil
	}
	if s != "" {
		if err := r.d.checkIdent(s); err != nil {
			return fmt.Errorf("replicate: schema: %w", err)
		}
	}
	state, hist := Name{Schema: s, Table: StateTable}, Name{Schema: s, Table: r.history}
	ddl := []string{stateDDL(r.d, qualify(r.d, state)), historyDDL(r.d, qualify(r.d, hist))}
	if err := r.d.prepareSchema(ctx, r.conn, s, ddl, []Name{state, hist}); err != nil {
		return fmt.Errorf("replicate: prepare destination schema %s: %w", displayIdent(s), err)
	}
	r.prepared[s] = true
	return nil
}

// writeHistory records a run in the history table.
func writeHistory(ctx context.Context, d dialect, q querier, table string, res *Result, end time.Time) error {
	cols := []string{"Statement", "TableName", "SourceName", "StartDateTime", "EndDateTime",
		"Inserted", "Updated", "Deleted", "Unchanged", "Status", "Error", "Warnings"}
	var errText, warnings, source any
	if res.Err != nil {
		errText = res.Err.Error()
	}
	if len(res.Warnings) > 0 {
		warnings = strings.Join(res.Warnings, "\n")
	}
	if res.Source != "" {
		source = res.Source
	}
	_, err := q.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, quoteList(d, cols), placeholders(d, 1, len(cols))),
		res.Statement, res.Table, source, d.timeValue(res.Started), d.timeValue(end),
		res.Inserted, res.Updated, res.Deleted, res.Unchanged, string(res.Status()), errText, warnings)
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}
