package replicate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/plannersql/planner/schema"
)

// Bookkeeping tables of runs.
const (
	// RunsTable has one row per run: who ran it, when, how it ended, its
	// totals and, with Options.RecordLog, its log.
	RunsTable = "planner_replicate_runs"
	// LockTable holds the run locks (leases) of SQLite destinations.
	LockTable = "planner_replicate_lock"
)

// bookTable is a bookkeeping table: how to create it, and the columns added
// after its first version (added to older tables when missing).
type bookTable struct {
	name   Name
	create []string // CREATE TABLE, then CREATE INDEX statements
	added  []ddlColumn
	after  []string // statements to run once the added columns exist (indexes on them)
}

// historyColumns are the history table's columns after Id, in order; added
// are those added after its first version.
func historyColumns() (cols []ddlColumn, added []ddlColumn) {
	added = []ddlColumn{{name: "RunId", typ: schema.Text}, {name: "Requests", typ: schema.Integer}, {name: "Throttled", typ: schema.Integer}}
	cols = []ddlColumn{
		{name: "Statement", typ: schema.Text}, {name: "TableName", typ: schema.Text}, {name: "SourceName", typ: schema.Text},
		{name: "StartDateTime", typ: schema.DateTime}, {name: "EndDateTime", typ: schema.DateTime},
		{name: "Inserted", typ: schema.Integer}, {name: "Updated", typ: schema.Integer},
		{name: "Deleted", typ: schema.Integer}, {name: "Unchanged", typ: schema.Integer},
		{name: "Status", typ: schema.Text}, {name: "Error", typ: schema.Text}, {name: "Warnings", typ: schema.Text},
	}
	return append(cols, added...), added
}

// shortColumn renders a short text column: VARCHAR with a binary collation
// on MySQL (indexable, case-sensitive), text elsewhere.
func shortColumn(d dialect, n int) string { return d.columnType(schema.Text, true, n) }

// historyBook describes the history table in schema s.
func historyBook(d dialect, s, table string) bookTable {
	n := Name{Schema: s, Table: table}
	cols, added := historyColumns()
	defs := []string{d.quote("Id") + " " + d.identityColumn()}
	for _, c := range cols {
		defs = append(defs, d.quote(c.name)+" "+historyColumnType(d, c))
	}
	idx := indexSQL(d, n, table+"_run", "RunId")
	for i := range added {
		added[i].rawType = historyColumnType(d, added[i])
	}
	return bookTable{
		name:   n,
		create: []string{fmt.Sprintf("CREATE TABLE %s (%s)%s", qualify(d, n), strings.Join(defs, ", "), d.tableSuffix()), idx},
		added:  added,
		after:  []string{idx},
	}
}

func historyColumnType(d dialect, c ddlColumn) string {
	if c.name == "RunId" {
		return shortColumn(d, 64)
	}
	return d.columnType(c.typ, false, 0)
}

// runsBook describes the runs table in schema s.
func runsBook(d dialect, s string) bookTable {
	n := Name{Schema: s, Table: RunsTable}
	text, integer, dt := d.columnType(schema.Text, false, 0), d.columnType(schema.Integer, false, 0), d.columnType(schema.DateTime, false, 0)
	short := shortColumn(d, 255)
	defs := []string{
		d.quote("RunId") + " " + shortColumn(d, 64) + " NOT NULL PRIMARY KEY",
		d.quote("LockKey") + " " + shortColumn(d, 64) + " NOT NULL",
		d.quote("Job") + " " + short,
		d.quote("Destination") + " " + text,
		d.quote("SchemaName") + " " + short,
		d.quote("TablePrefix") + " " + short,
		d.quote("SourceName") + " " + short,
		d.quote("Host") + " " + text,
		d.quote("Pid") + " " + integer,
		d.quote("Slot") + " " + dt,
		d.quote("Attempt") + " " + integer,
		d.quote("StartDateTime") + " " + dt + " NOT NULL",
		d.quote("EndDateTime") + " " + dt,
		d.quote("Status") + " " + shortColumn(d, 32) + " NOT NULL",
		d.quote("Error") + " " + text,
	}
	for _, c := range []string{"Tables", "Failed", "Inserted", "Updated", "Deleted", "Unchanged", "Requests", "Throttled"} {
		defs = append(defs, d.quote(c)+" "+integer)
	}
	defs = append(defs, d.quote("TableSchemas")+" "+text, d.quote("Log")+" "+text)
	return bookTable{name: n, create: []string{
		fmt.Sprintf("CREATE TABLE %s (%s)%s", qualify(d, n), strings.Join(defs, ", "), d.tableSuffix()),
		indexSQL(d, n, RunsTable+"_start", "StartDateTime"),
		indexSQL(d, n, RunsTable+"_lock", "LockKey", "Status"),
	}}
}

// lockBook describes the SQLite lease table in schema s.
func lockBook(d dialect, s string) bookTable {
	n := Name{Schema: s, Table: LockTable}
	return bookTable{name: n, create: []string{fmt.Sprintf(
		"CREATE TABLE %s (%s TEXT NOT NULL PRIMARY KEY, %s TEXT NOT NULL, %s TEXT, %s TEXT NOT NULL, %s TEXT NOT NULL, %s INTEGER NOT NULL, %s TEXT NOT NULL, %s TEXT NOT NULL, %s TEXT NOT NULL)",
		qualify(d, n), d.quote("LockKey"), d.quote("RunId"), d.quote("Job"), d.quote("Host"), d.quote("HostId"), d.quote("Pid"),
		d.quote("StartDateTime"), d.quote("HeartbeatDateTime"), d.quote("ExpiresDateTime"))}}
}

// indexSQL builds CREATE INDEX; SQLite qualifies the index name, not the table.
func indexSQL(d dialect, n Name, index string, cols ...string) string {
	if d.kind() == "sqlite" {
		idx := d.quote(index)
		if n.Schema != "" {
			idx = d.quote(n.Schema) + "." + idx
		}
		return fmt.Sprintf("CREATE INDEX %s ON %s (%s)", idx, d.quote(n.Table), quoteList(d, cols))
	}
	return fmt.Sprintf("CREATE INDEX %s ON %s (%s)", d.quote(index), qualify(d, n), quoteList(d, cols))
}

// ensureBook creates the bookkeeping tables that are missing and adds the
// columns older versions did not have. It reports whether it had anything
// to do (with check true it only looks).
func ensureBook(ctx context.Context, d dialect, q querier, tables []bookTable, check bool) (bool, error) {
	work := false
	for _, bt := range tables {
		ti, err := d.describe(ctx, q, bt.name)
		if err != nil {
			return false, err
		}
		if !ti.exists {
			work = true
			if check {
				continue
			}
			for _, stmt := range bt.create {
				if _, err := q.ExecContext(ctx, stmt); err != nil {
					if d.kind() == "mysql" && isMySQLDuplicate(err) {
						continue // created by a concurrent run
					}
					return false, fmt.Errorf("create %s: %w", bt.name, err)
				}
			}
			continue
		}
		added := false
		for _, c := range bt.added {
			if ti.has(d, c.name) {
				continue
			}
			work, added = true, true
			if check {
				continue
			}
			if _, err := q.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", qualify(d, bt.name), d.quote(c.name), c.rawType)); err != nil {
				if d.kind() == "mysql" && isMySQLDuplicate(err) {
					continue
				}
				return false, fmt.Errorf("add column %s to %s: %w", c.name, bt.name, err)
			}
		}
		if added && !check {
			for _, stmt := range bt.after {
				if _, err := q.ExecContext(ctx, stmt); err != nil && !(d.kind() == "mysql" && isMySQLDuplicate(err)) {
					return false, fmt.Errorf("upgrade %s: %w", bt.name, err)
				}
			}
		}
	}
	return work, nil
}

// ---- writing run records ---------------------------------------------------

// runColumns are the columns a run record is inserted with.
var runColumns = []string{"RunId", "LockKey", "Job", "Destination", "SchemaName", "TablePrefix", "SourceName",
	"Host", "Pid", "Slot", "Attempt", "StartDateTime", "EndDateTime", "Status", "Error"}

// insertRun records the run, with status st (running, or skipped with msg:
// a skipped run has ended, after its wait for the lock).
func (r *runner) insertRun(ctx context.Context, st Status, msg string) error {
	d := r.d
	var slot, attempt any
	if !r.opts.Slot.IsZero() {
		slot = d.timeValue(r.opts.Slot)
		attempt = int64(max(r.opts.Attempt, 1))
	}
	var ended any
	if st != StatusRunning {
		ended = d.timeValue(r.now())
	}
	vals := []any{r.runID, r.lockKey, nullIfEmpty(r.opts.Job), nullIfEmpty(r.redact(r.opts.Destination)), nullIfEmpty(r.opts.Schema),
		nullIfEmpty(r.opts.TablePrefix), nullIfEmpty(r.opts.SourceName), r.host, int64(os.Getpid()), slot, attempt,
		d.timeValue(r.started), ended, string(st), nullIfEmpty(msg)}
	_, err := r.conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", r.runsSQL, quoteList(d, runColumns), placeholders(d, 1, len(runColumns))), vals...)
	if err != nil {
		return fmt.Errorf("replicate: record the run: %w", err)
	}
	return nil
}

// markAbandoned marks the runs of this lock still recorded as running — the
// lock is ours, so their processes ended without recording an outcome.
func (r *runner) markAbandoned(ctx context.Context) error {
	d := r.d
	_, err := r.conn.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = %s, %s = %s WHERE %s = %s AND %s = %s AND %s <> %s", r.runsSQL,
		d.quote("Status"), d.placeholder(1), d.quote("Error"), d.placeholder(2),
		d.quote("LockKey"), d.placeholder(3), d.quote("Status"), d.placeholder(4), d.quote("RunId"), d.placeholder(5)),
		string(StatusAbandoned), "abandoned: the run's process ended without recording an outcome (killed, or the machine stopped)",
		r.lockKey, string(StatusRunning), r.runID)
	if err != nil {
		return fmt.Errorf("replicate: update abandoned runs: %w", err)
	}
	return nil
}

// slotDone returns the run that already did this job's slot with the same
// or a later attempt, if any: one that copied (ok, failed or stopped), not
// one that was skipped or abandoned.
func (r *runner) slotDone(ctx context.Context) (LockHolder, bool, error) {
	if r.opts.Job == "" || r.opts.Slot.IsZero() {
		return LockHolder{}, false, nil
	}
	d := r.d
	q := fmt.Sprintf("SELECT %s, %s, %s, %s, %s FROM %s WHERE %s = %s AND %s = %s AND %s = %s AND %s >= %s AND %s <> %s AND %s IN (%s, %s, %s) ORDER BY %s DESC",
		d.quote("RunId"), d.quote("Host"), d.quote("Pid"), d.quote("StartDateTime"), d.quote("Status"), r.runsSQL,
		d.quote("LockKey"), d.placeholder(1), d.quote("Job"), d.placeholder(2), d.quote("Slot"), d.placeholder(3),
		d.quote("Attempt"), d.placeholder(4), d.quote("RunId"), d.placeholder(5),
		d.quote("Status"), d.placeholder(6), d.placeholder(7), d.placeholder(8), d.quote("StartDateTime"))
	var h LockHolder
	var pid sql.NullInt64
	var since any
	var st string
	err := r.conn.QueryRowContext(ctx, q, r.lockKey, r.opts.Job, d.timeValue(r.opts.Slot), int64(max(r.opts.Attempt, 1)), r.runID,
		string(StatusOK), string(StatusFailed), string(StatusStopped)).Scan(&h.RunID, &h.Host, &pid, &since, &st)
	if errors.Is(err, sql.ErrNoRows) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("replicate: look for an earlier run of the slot: %w", err)
	}
	h.Job, h.PID, h.Status = r.opts.Job, int(pid.Int64), Status(st)
	h.Since, _ = scanTime(since)
	return h, true, nil
}

// finishRun records how the run ended.
func (r *runner) finishRun(ctx context.Context, results []Result, runErr error) error {
	d := r.d
	var tot struct{ tables, failed, ins, upd, del, unch, req, thr int64 }
	st := StatusOK
	var firstFail *Result
	stopped := false
	for i := range results {
		res := &results[i]
		tot.tables++
		tot.ins += res.Inserted
		tot.upd += res.Updated
		tot.del += res.Deleted
		tot.unch += res.Unchanged
		switch res.Status() {
		case StatusFailed:
			tot.failed++
			if firstFail == nil {
				firstFail = res
			}
		case StatusSkipped:
			stopped = true
		}
	}
	if r.counter != nil {
		tot.req, tot.thr = int64(r.counter.Requests()-r.req0), int64(r.counter.Throttled()-r.thr0)
	}
	var msg string
	switch {
	case firstFail != nil:
		st = StatusFailed
		msg = fmt.Sprintf("%d of %d tables failed; %s", tot.failed, tot.tables, firstFail.Failure())
	case runErr != nil:
		st, msg = StatusStopped, runErr.Error()
	case stopped:
		st, msg = StatusStopped, "stopped before the end: the remaining tables were not copied"
	}
	schemas := strings.Join(r.tableSchemas, "\n")
	var logText any
	if r.logBuf != nil {
		logText = nullIfEmpty(r.redact(r.logBuf.String()))
	}
	set := []string{"EndDateTime", "Status", "Error", "Tables", "Failed", "Inserted", "Updated", "Deleted", "Unchanged", "Requests", "Throttled", "TableSchemas", "Log"}
	parts := make([]string, len(set))
	for i, c := range set {
		parts[i] = d.quote(c) + " = " + d.placeholder(i+1)
	}
	_, err := r.conn.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s WHERE %s = %s", r.runsSQL, strings.Join(parts, ", "), d.quote("RunId"), d.placeholder(len(set)+1)),
		d.timeValue(r.now()), string(st), nullIfEmpty(r.redact(msg)), tot.tables, tot.failed, tot.ins, tot.upd, tot.del, tot.unch,
		tot.req, tot.thr, nullIfEmpty(schemas), logText, r.runID)
	if err != nil {
		return fmt.Errorf("replicate: record the end of the run: %w", err)
	}
	return nil
}

// scanTime converts a scanned DATETIME (time.Time, or text from SQLite and
// MySQL without parseTime) to a time in UTC; NULL is the zero time.
func scanTime(v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	return asTime(v)
}

// ---- reading history -----------------------------------------------------------

// ErrRunNotFound is returned by History.Run for an unknown run id.
var ErrRunNotFound = errors.New("replicate: no such run in the history")

// HistoryOptions say where runs were recorded: the Options.Schema and
// Options.HistoryTable the runs were made with.
type HistoryOptions struct {
	// Schema is the schema (PostgreSQL), database (MySQL) or attached
	// database (SQLite) the runs were recorded in: their Options.Schema.
	// Default: the connection's.
	Schema string
	// HistoryTable is the runs' Options.HistoryTable (per-table records).
	// Default DefaultHistoryTable.
	HistoryTable string
	// CloseDB makes History.Close close the database (dest.OpenHistory
	// sets it). Default: the caller closes it.
	CloseDB bool
}

// History reads the runs recorded in a destination database, in every
// destination dialect: each run's record in RunsTable (one per run, in the
// schema of the run's Options.Schema) and its tables' records in the history
// table (in each table's schema). It only reads: a destination where no run
// was recorded yet has an empty history, and reading it creates nothing.
// It is safe for concurrent use.
type History struct {
	db   *sql.DB
	d    dialect
	opts HistoryOptions
}

// NewHistory returns the history recorded in dst (any destination
// replicate writes to: SQLite, PostgreSQL, MySQL/MariaDB).
func NewHistory(ctx context.Context, dst *sql.DB, opts HistoryOptions) (*History, error) {
	d, err := newDialect(ctx, dst)
	if err != nil {
		return nil, err
	}
	if opts.HistoryTable == "" {
		opts.HistoryTable = DefaultHistoryTable
	}
	return &History{db: dst, d: d, opts: opts}, nil
}

// Close closes the database when HistoryOptions.CloseDB was set (as
// dest.OpenHistory sets it); otherwise it does nothing.
func (h *History) Close() error {
	if h.opts.CloseDB && h.db != nil {
		return h.db.Close()
	}
	return nil
}

// RunFilter selects runs. The zero value selects every run, newest first,
// 50 at a time.
type RunFilter struct {
	// Job selects the runs of one job (Options.Job); "" selects any.
	Job string `json:"job,omitempty"`
	// NoJob selects only runs made without a job (planner replicate, Go
	// callers without Options.Job).
	NoJob bool `json:"noJob,omitempty"`
	// Destination selects runs recorded with this Options.Destination label.
	Destination string `json:"destination,omitempty"`
	// SourceName and TablePrefix, when not nil, select runs made with
	// exactly this Options.SourceName / Options.TablePrefix ("" for none).
	SourceName  *string `json:"sourceName,omitempty"`
	TablePrefix *string `json:"tablePrefix,omitempty"`
	// Status selects runs that ended so (or are running).
	Status Status `json:"status,omitempty"`
	// Since and Until select runs started at or after Since and before Until.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Limit is the most runs returned: default 50, at most 1,000.
	Limit int `json:"limit,omitempty"`
	// Offset skips that many runs (of the newest first order), for paging.
	Offset int `json:"offset,omitempty"`
}

// RunList is a page of runs.
type RunList struct {
	// Runs are the runs of the page, newest first (by start time), without
	// their tables and log (see History.Run).
	Runs []RunRecord `json:"runs"`
	// Total is how many runs the filter selects, over all pages.
	Total int `json:"total"`
}

// RunRecord is one run as recorded: a Run or RunStatements call into one
// destination (a job run into one of its destinations, a planner replicate
// command). JSON field names are those of the tags; times are RFC 3339 and
// durations are in nanoseconds.
type RunRecord struct {
	// ID identifies the run (28 hex digits, increasing with its start time).
	ID string `json:"id"`
	// Job is Options.Job: the job the run belongs to; "" for a run made
	// without one.
	Job string `json:"job,omitempty"`
	// Destination is Options.Destination: a label of the destination (a URL
	// without password, and its schema, prefix, source name).
	Destination string `json:"destination,omitempty"`
	// Schema, TablePrefix and SourceName are the run's Options defaults.
	Schema      string `json:"schema,omitempty"`
	TablePrefix string `json:"tablePrefix,omitempty"`
	SourceName  string `json:"sourceName,omitempty"`
	// Host and PID are the machine and process that ran it.
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// Slot and Attempt are the schedule slot and attempt (Options.Slot,
	// Options.Attempt); zero for an unscheduled run.
	Slot    time.Time `json:"slot,omitzero"`
	Attempt int       `json:"attempt,omitempty"`
	// Started is when the run started; Ended when it ended (zero while it
	// runs, or if its process died: StatusAbandoned).
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	// Duration is Ended - Started (0 when not ended).
	Duration time.Duration `json:"duration"`
	// Status is StatusRunning, StatusOK, StatusFailed (a table failed),
	// StatusStopped (stopped before the end), StatusSkipped (another run was
	// in progress, or the slot was already run: Error says which) or
	// StatusAbandoned (its process ended without recording an outcome).
	Status Status `json:"status"`
	// Error says why the run failed, stopped or was skipped
	// ("skipped: run in progress since T on H (...)").
	Error string `json:"error,omitempty"`
	// TableCount and FailedCount count its tables and failed tables.
	TableCount  int `json:"tableCount"`
	FailedCount int `json:"failedCount"`
	// Inserted, Updated, Deleted and Unchanged total the tables' rows.
	Inserted  int64 `json:"inserted"`
	Updated   int64 `json:"updated"`
	Deleted   int64 `json:"deleted"`
	Unchanged int64 `json:"unchanged"`
	// Requests and Throttled count the source's requests during the run
	// (Options.Requests: Microsoft Graph requests, and those the service
	// throttled).
	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled"`
	// Tables are the tables' records, in order (History.Run only).
	Tables []TableRecord `json:"tables,omitempty"`
	// Log is the run's log when Options.RecordLog was set (History.Run only).
	Log string `json:"log,omitempty"`
}

// TableRecord is the record of one destination table of a run.
type TableRecord struct {
	// ID numbers the record in its history table.
	ID int64 `json:"id"`
	// Statement is the REPLICATE statement.
	Statement string `json:"statement"`
	// Schema is the schema of the table ("" for the connection's default);
	// Table is the table, schema-qualified when it has one.
	Schema string `json:"schema,omitempty"`
	Table  string `json:"table"`
	// SourceName is the statement's source name, or "".
	SourceName string `json:"sourceName,omitempty"`
	// Started, Ended and Duration time the table's copy.
	Started  time.Time     `json:"started"`
	Ended    time.Time     `json:"ended"`
	Duration time.Duration `json:"duration"`
	// Inserted, Updated, Deleted and Unchanged count its rows.
	Inserted  int64 `json:"inserted"`
	Updated   int64 `json:"updated"`
	Deleted   int64 `json:"deleted"`
	Unchanged int64 `json:"unchanged"`
	// Requests and Throttled count the source's requests for this table.
	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled"`
	// Status is StatusOK, StatusFailed or StatusSkipped.
	Status Status `json:"status"`
	// Error says why it failed or was skipped.
	Error string `json:"error,omitempty"`
	// Warnings are notes that did not fail the copy.
	Warnings []string `json:"warnings,omitempty"`
}

// conn returns a connection with schema s attached (SQLite), or ok false
// when s's file does not exist. release detaches and returns the connection.
func (h *History) conn(ctx context.Context, schemas ...string) (*sql.Conn, func(), map[string]bool, error) {
	conn, err := h.db.Conn(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("replicate: history: %w", err)
	}
	present := map[string]bool{}
	var attached []string
	release := func() {
		for _, s := range attached {
			conn.ExecContext(context.Background(), "DETACH DATABASE "+h.d.quote(s)) //nolint:errcheck // the connection is returned either way
		}
		conn.Close()
	}
	for _, s := range schemas {
		if _, ok := present[s]; ok {
			continue
		}
		sd, ok := h.d.(*sqliteDialect)
		if !ok || s == "" || sd.sameName(s, "main") {
			present[s] = true
			continue
		}
		dbs, err := sd.databases(ctx, conn)
		if err != nil {
			release()
			return nil, nil, nil, fmt.Errorf("replicate: history: %w", err)
		}
		if _, ok := dbs[asciiFold(s)]; ok {
			present[s] = true
			continue
		}
		file := schemaFile(dbs["main"], s)
		if dbs["main"] == "" {
			present[s] = false
			continue
		}
		if _, err := os.Stat(file); err != nil {
			present[s] = false
			continue
		}
		if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS "+h.d.quote(s), file); err != nil {
			release()
			return nil, nil, nil, fmt.Errorf("replicate: history: attach %s: %w", file, err)
		}
		attached = append(attached, s)
		present[s] = true
	}
	return conn, release, present, nil
}

// Runs lists the runs f selects, newest first. A destination where no run
// was recorded has none (and no error).
func (h *History) Runs(ctx context.Context, f RunFilter) (RunList, error) {
	out := RunList{Runs: []RunRecord{}}
	d := h.d
	conn, release, present, err := h.conn(ctx, h.opts.Schema)
	if err != nil {
		return out, err
	}
	defer release()
	if !present[h.opts.Schema] {
		return out, nil
	}
	runs := Name{Schema: h.opts.Schema, Table: RunsTable}
	ti, err := d.describe(ctx, conn, runs)
	if err != nil {
		return out, fmt.Errorf("replicate: history: %w", err)
	}
	if !ti.exists {
		return out, nil
	}
	if err := checkColumns(d, ti, runs, runRecordColumns); err != nil {
		return out, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, d.placeholder(len(args))))
	}
	col := d.quote
	switch {
	case f.NoJob:
		where = append(where, col("Job")+" IS NULL")
	case f.Job != "":
		add(col("Job")+" = %s", f.Job)
	}
	if f.Destination != "" {
		add(col("Destination")+" = %s", f.Destination)
	}
	for _, p := range []struct {
		c string
		v *string
	}{{"SourceName", f.SourceName}, {"TablePrefix", f.TablePrefix}} {
		switch {
		case p.v == nil:
		case *p.v == "":
			where = append(where, col(p.c)+" IS NULL")
		default:
			add(col(p.c)+" = %s", *p.v)
		}
	}
	if f.Status != "" {
		add(col("Status")+" = %s", string(f.Status))
	}
	if !f.Since.IsZero() {
		add(col("StartDateTime")+" >= %s", d.timeValue(f.Since))
	}
	if !f.Until.IsZero() {
		add(col("StartDateTime")+" < %s", d.timeValue(f.Until))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	table := qualify(d, runs)
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+cond, args...).Scan(&out.Total); err != nil {
		return out, fmt.Errorf("replicate: history: count runs: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	q := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s DESC, %s DESC LIMIT %d OFFSET %d", quoteList(d, runRecordColumns), table, cond,
		col("StartDateTime"), col("RunId"), limit, max(f.Offset, 0))
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return out, fmt.Errorf("replicate: history: list runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, _, err := scanRun(rows, false)
		if err != nil {
			return out, fmt.Errorf("replicate: history: %w", err)
		}
		out.Runs = append(out.Runs, rec)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("replicate: history: list runs: %w", err)
	}
	return out, nil
}

// checkColumns fails unless the table has the columns (SQLite would read a
// missing "Column" as a string literal).
func checkColumns(d dialect, ti tableInfo, n Name, cols []string) error {
	for _, c := range cols {
		if !ti.has(d, c) {
			return fmt.Errorf("replicate: history: table %s has no column %s: it was not written by replicate (or by a newer version)", n, c)
		}
	}
	return nil
}

// runRecordColumns are the columns scanRun reads, in order.
var runRecordColumns = []string{"RunId", "Job", "Destination", "SchemaName", "TablePrefix", "SourceName", "Host", "Pid",
	"Slot", "Attempt", "StartDateTime", "EndDateTime", "Status", "Error", "Tables", "Failed",
	"Inserted", "Updated", "Deleted", "Unchanged", "Requests", "Throttled", "TableSchemas", "Log"}

type rowScanner interface{ Scan(dest ...any) error }

// scanRun reads a run record; withLog keeps its log. It also returns the
// schemas of its tables' records.
func scanRun(s rowScanner, withLog bool) (RunRecord, []string, error) {
	var rec RunRecord
	var job, dest, sch, prefix, src, host, errText, schemas, logText sql.NullString
	var pid, attempt, tables, failed, ins, upd, del, unch, req, thr sql.NullInt64
	var slot, start, end any
	if err := s.Scan(&rec.ID, &job, &dest, &sch, &prefix, &src, &host, &pid, &slot, &attempt, &start, &end, &rec.Status, &errText,
		&tables, &failed, &ins, &upd, &del, &unch, &req, &thr, &schemas, &logText); err != nil {
		return rec, nil, err
	}
	rec.Job, rec.Destination, rec.Schema, rec.TablePrefix, rec.SourceName = job.String, dest.String, sch.String, prefix.String, src.String
	rec.Host, rec.PID, rec.Attempt, rec.Error = host.String, int(pid.Int64), int(attempt.Int64), errText.String
	rec.TableCount, rec.FailedCount = int(tables.Int64), int(failed.Int64)
	rec.Inserted, rec.Updated, rec.Deleted, rec.Unchanged = ins.Int64, upd.Int64, del.Int64, unch.Int64
	rec.Requests, rec.Throttled = req.Int64, thr.Int64
	var err error
	if rec.Slot, err = scanTime(slot); err != nil {
		return rec, nil, err
	}
	if rec.Started, err = scanTime(start); err != nil {
		return rec, nil, err
	}
	if rec.Ended, err = scanTime(end); err != nil {
		return rec, nil, err
	}
	if !rec.Ended.IsZero() {
		rec.Duration = rec.Ended.Sub(rec.Started)
	}
	if withLog {
		rec.Log = logText.String
	}
	var list []string
	if schemas.String != "" {
		list = strings.Split(schemas.String, "\n")
	}
	return rec, list, nil
}

// Run returns one run with its tables and log. An unknown id is
// ErrRunNotFound.
func (h *History) Run(ctx context.Context, id string) (RunRecord, error) {
	rec, schemas, err := h.runRecord(ctx, id)
	if err != nil {
		return rec, err
	}
	// The tables are read after runRecord returned its connection: each
	// schema takes one, and a pool of one (usual for SQLite) must not wait
	// for itself.
	rec.Tables = []TableRecord{}
	seen := map[string]bool{}
	for _, s := range append([]string{h.opts.Schema}, schemas...) {
		if seen[s] {
			continue
		}
		seen[s] = true
		tables, err := h.tables(ctx, s, id)
		if err != nil {
			return rec, err
		}
		rec.Tables = append(rec.Tables, tables...)
	}
	slices.SortStableFunc(rec.Tables, func(a, b TableRecord) int { return a.Started.Compare(b.Started) })
	return rec, nil
}

// runRecord reads run id's record and the schemas its tables were written
// to, on a connection it returns before it returns.
func (h *History) runRecord(ctx context.Context, id string) (RunRecord, []string, error) {
	var rec RunRecord
	d := h.d
	conn, release, present, err := h.conn(ctx, h.opts.Schema)
	if err != nil {
		return rec, nil, err
	}
	defer release()
	if !present[h.opts.Schema] {
		return rec, nil, ErrRunNotFound
	}
	runs := Name{Schema: h.opts.Schema, Table: RunsTable}
	ti, err := d.describe(ctx, conn, runs)
	if err != nil {
		return rec, nil, fmt.Errorf("replicate: history: %w", err)
	}
	if !ti.exists {
		return rec, nil, ErrRunNotFound
	}
	if err := checkColumns(d, ti, runs, runRecordColumns); err != nil {
		return rec, nil, err
	}
	rec, schemas, err := scanRun(conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s",
		quoteList(d, runRecordColumns), qualify(d, runs), d.quote("RunId"), d.placeholder(1)), id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, nil, ErrRunNotFound
	}
	if err != nil {
		return rec, nil, fmt.Errorf("replicate: history: %w", err)
	}
	return rec, schemas, nil
}

// tables reads the table records of run id in schema s.
func (h *History) tables(ctx context.Context, s, id string) ([]TableRecord, error) {
	d := h.d
	conn, release, present, err := h.conn(ctx, s)
	if err != nil {
		return nil, err
	}
	defer release()
	if !present[s] {
		return nil, nil
	}
	hist := Name{Schema: s, Table: h.opts.HistoryTable}
	ti, err := d.describe(ctx, conn, hist)
	if err != nil {
		return nil, fmt.Errorf("replicate: history: %w", err)
	}
	if !ti.exists || !ti.has(d, "RunId") {
		return nil, nil // no table, or one no run with a record wrote to
	}
	cols := []string{"Id", "Statement", "TableName", "SourceName", "StartDateTime", "EndDateTime", "Inserted", "Updated", "Deleted", "Unchanged",
		"Requests", "Throttled", "Status", "Error", "Warnings"}
	if err := checkColumns(d, ti, hist, cols); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s ORDER BY %s", quoteList(d, cols), qualify(d, hist),
		d.quote("RunId"), d.placeholder(1), d.quote("Id")), id)
	if err != nil {
		return nil, fmt.Errorf("replicate: history: read %s: %w", hist, err)
	}
	defer rows.Close()
	var out []TableRecord
	for rows.Next() {
		var t TableRecord
		var stmt, table, src, status, errText, warn sql.NullString
		var ins, upd, del, unch, req, thr sql.NullInt64
		var start, end any
		if err := rows.Scan(&t.ID, &stmt, &table, &src, &start, &end, &ins, &upd, &del, &unch, &req, &thr, &status, &errText, &warn); err != nil {
			return nil, fmt.Errorf("replicate: history: read %s: %w", hist, err)
		}
		t.Statement, t.Table, t.SourceName, t.Status, t.Error = stmt.String, table.String, src.String, Status(status.String), errText.String
		t.Schema = s
		t.Inserted, t.Updated, t.Deleted, t.Unchanged, t.Requests, t.Throttled = ins.Int64, upd.Int64, del.Int64, unch.Int64, req.Int64, thr.Int64
		if t.Started, err = scanTime(start); err != nil {
			return nil, err
		}
		if t.Ended, err = scanTime(end); err != nil {
			return nil, err
		}
		t.Duration = t.Ended.Sub(t.Started)
		if warn.String != "" {
			t.Warnings = strings.Split(warn.String, "\n")
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
