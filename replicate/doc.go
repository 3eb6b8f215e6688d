// Package replicate runs REPLICATE statements: it copies the result of a
// query on a source database into a table of a destination database —
// SQLite, PostgreSQL or MySQL/MariaDB — incrementally, with deletes, one
// transaction per table.
//
//	src, _ := sql.Open("planner", dsn)                          // any *sql.DB
//	dst, _ := dest.Open(ctx, "sqlite:planner.db") // or postgres://, mysql://
//	results, err := replicate.Run(ctx, src, dst, `
//		REPLICATE Tasks;                                   -- Tasks → Tasks
//		REPLICATE PROD_Buckets SELECT * FROM Buckets;      -- a query, into a named table
//		REPLICATE ALL EXCLUDE TABLES (Tasks, TaskDetails)  -- the others, with a SourceName
//			WITH SourceName='prod';                        -- key column (Tasks has none)
//	`, replicate.Options{})
//
// # Grammar
//
//	REPLICATE <dest> [EXCLUDE COLUMNS (<col>, ...)] [WITH <option>[=<value>], ...] [[AS] <select> | <source table>]
//	REPLICATE TABLES (<table> [EXCLUDE COLUMNS (<col>, ...)], ...) [WITH ...]
//	REPLICATE ALL [EXCLUDE TABLES (<table>, ...)] [EXCLUDE COLUMNS (<table>.<col>, ...)] [WITH ...]
//
// Statements are separated by ';'; '--' and '/* */' comments are ignored;
// keywords are case-insensitive; identifiers may be quoted as "x", [x] or `x`
// (a quoted name is never a keyword, so REPLICATE "ALL" copies a table named
// ALL). <dest> is Table or schema.Table. Without a select the source is the
// table of the same name (REPLICATE PROD.Tasks reads Tasks). The select is
// sent to the source verbatim — it is not parsed, so any SQL the source
// accepts works, CTEs included — and starts with SELECT, WITH, VALUES or '('.
// WITH before the select is read as options when it is followed by an option
// name, and as a common table expression otherwise (WITH x AS (...)).
// Syntax errors are *SyntaxError values giving the line and column and what
// was expected.
//
// Options:
//
//   - DropTable: drop and recreate the destination table (all its rows, of
//     every source name).
//   - TruncateTable: delete the rows the statement covers (its SourceName's)
//     and rewrite them all.
//   - AlterSchema[=false]: add columns that are new in the result (default
//     on). A column gone from the result is kept, NULL in new rows, with a
//     warning in the Result. Without AlterSchema a new column is an error.
//   - Key='Col[,Col]': the columns that identify a row.
//   - SourceName='prod': the destination gets a SourceName column, first in
//     its primary key, and the run reads, updates and deletes only rows with
//     that value — several accounts can share one table. SourceName=”
//     turns off a default from Options.
//   - SoftDelete: rows gone from the source are kept and marked: IsDeleted
//     (boolean, 1) and DeletedDateTime (when the run noticed). A row that
//     comes back is unmarked (IsDeleted 0, DeletedDateTime NULL).
//
// Options.SourceName, TablePrefix and Schema give defaults for statements that
// do not say otherwise: Schema applies to any destination written without a
// schema; TablePrefix is prepended to destination names derived from a source
// table (REPLICATE Tasks, TABLES, ALL), not to a name written before a select
// or source table (REPLICATE Buckets Buckets is not prefixed).
//
// # Keys
//
// A destination table's primary key is, in this order: WITH Key; the source's
// sys_columns catalog (IsKey), which the planner driver provides; the source
// database's own primary key (SQLite, PostgreSQL, MySQL). A select's key is
// discovered only for a simple query on one table (SELECT ... FROM t [WHERE
// ...]); anything else (joins, GROUP BY, unions) needs WITH Key. Key columns
// must be in the result, never NULL, and unique in it: a violation fails the
// table with an error naming the key. REPLICATE ALL lists the source's
// sys_tables (less the catalog tables) or, without one, its own tables. A
// table named in EXCLUDE TABLES, in EXCLUDE COLUMNS (table.col) or in
// TABLES (...) that the source does not list fails the statement before
// any of its tables is copied, with an error naming it.
//
// # Change detection
//
// Every source row is hashed: SHA-256 over a type-tagged serialisation of all
// its values, as the source driver returned them. A bookkeeping table in the
// destination, planner_replicate_state, keeps for each (table, source name)
// a fingerprint of every row's key and its hash (96 bits each, 24 bytes a
// row, in 1 MB chunks), plus the column signature they were computed over.
// A run loads the state, reads the whole result, and writes only rows whose
// key is new (inserted) or whose hash changed (updated); keys not seen are
// deleted. A run with no source change writes no row (only its history row).
// User tables get no extra column.
//
// ETags are not used as a shortcut: a row often holds more than its object's
// ETag covers — TaskDetails rows carry the task's PlanId and BucketId under the
// details' own ETag, and any select can add joined or computed columns — and
// reading the row costs the same either way; hashing it costs about 0.5 µs.
// Hashing the source's values (not the destination's) also makes the check
// independent of how the destination stores them (PostgreSQL's jsonb
// rewrites JSON text, timestamptz rounds to microseconds).
//
// The state is checked against the table on every run: when it is missing, or
// its row count differs from the table's rows in scope (rows deleted or added
// by hand, a table created by someone else), the run reads the table's keys,
// rewrites every row, deletes what the source no longer has, and says so in a
// warning. A change of the result's columns rewrites every row once. Edits to
// values made by hand in the destination are not detected: the destination
// table belongs to replicate (TruncateTable rewrites it).
//
// # When the source or the destination changes
//
// A column new in the result is added (AlterSchema, on by default; a
// warning says so). A column gone from the result is kept, NULL in new
// rows, with a warning. A column whose type changes between runs:
//
//   - is widened in place when that keeps every value — integer to real to
//     text, boolean to integer, DATETIME and JSON to text (and, in SQLite,
//     which keeps DATETIME and JSON as TEXT, integer or real to DATETIME or
//     JSON), and a narrower type of the same kind to replicate's (int to
//     bigint, varchar(n) to text): ALTER ... TYPE on PostgreSQL, MODIFY COLUMN on MySQL, a rebuild
//     of the table (rows and indexes kept) on SQLite, inside the table's
//     transaction except on MySQL; every row is then rewritten, the other
//     source names' states of the table are marked stale (their rows hold
//     the database's conversion, such as PostgreSQL's 'true' or its own
//     timestamp text) so their next runs rewrite them too, and a warning
//     names the column and both types;
//   - is written as the column's own type when the column already holds the
//     new values (integers into a text or real column, times into a text
//     column as the source's canonical text, RFC 3339 UTC with seven
//     fractional digits, schema.FormatDateTime);
//   - otherwise (text into an integer column, bytes into text, ...) fails the
//     table before anything is written, naming the column and both types:
//     replicate WITH DropTable to rebuild the table, or convert the column
//     in a select. No converted value is ever stored and called unchanged.
//
// A key column keeps its type: when the source gives it another type, the
// table fails before anything is written, naming the column and both types
// (WITH DropTable, or CAST in a select).
//
// When the destination was edited by hand: a column the state says earlier
// runs wrote but the table lacks (dropped by hand) is added back and every
// row rewritten — the state is not trusted for it, and the other source
// names' states of the table are marked stale so their next runs rewrite
// their rows too; the warning says the column was missing in the
// destination. A column whose type was changed by hand (the database
// converted its values) is written in its new type's form, and its rows are
// rewritten once: the state records the form each column is written in. A
// column added by hand is kept and left alone (NULL, or its default, in new
// rows). A table dropped by hand is created again and filled. Rows deleted
// or added by hand are found by the row count (above). A primary key
// changed or dropped by hand fails the table (DropTable rebuilds it).
//
// Values a destination cannot hold fail the table before it is written,
// naming the table, the row's key and the column and saying to exclude the
// column (EXCLUDE COLUMNS) or transform it in a select: NUL bytes or
// invalid UTF-8 in PostgreSQL text, invalid JSON or the \u0000 escape in
// jsonb, invalid UTF-8 in MySQL utf8mb4 text, invalid JSON in a MySQL JSON
// column, times outside MySQL DATETIME's years 1000-9999 or PostgreSQL
// timestamptz's range, NaN and infinities in MySQL, NaN in SQLite (which
// would store NULL), a value larger than MySQL's max_allowed_packet, text
// longer than a MySQL VARCHAR key or id column, and a value that is not of
// its column's type (text that is no integer or time, an integer out of
// range) — in SQLite too, which would store anything in any column.
//
// The state also records the source's tenant (Options.SourceTenant, or the
// planner driver's, see Options.SourceTenant). A run whose source is another
// tenant than the one that filled the table, with the same SourceName or
// none, fails the table instead of mirroring over — deleting — the other
// tenant's rows: give each tenant a SourceName, a prefix or a schema, or
// rebuild the table WITH DropTable. The check is made before the table's
// source query runs (a planner source's tenant comes from its access token),
// so a refused table costs no Graph request, and again under the table's
// lock before anything is written.
//
// Errors of the destination say what follows from them when the cause is
// known — disk full, read-only, permission, lock, syntax, authentication,
// connection refused, unknown host or database — and nothing when it is not.
//
// # Atomicity
//
// Each destination table is copied in one transaction: the DDL (except on
// MySQL), the data, the state and the history row. Readers see the old table
// until the commit; a failure — source error, destination error, a killed
// process — leaves the previous table, state and history, and the next run
// converges. MySQL commits DDL implicitly, so there CREATE/ALTER/DROP TABLE
// (DropTable) happen before the data transaction: a run that fails after them
// leaves the new (empty or altered) table, which the next run fills.
// TruncateTable is a DELETE inside the transaction in every database.
//
// # Locks
//
// A run — one Run or RunStatements call — takes one lock for the whole run
// in the destination database before it reads anything from the source.
// The lock covers the run's scope: Options.Job (none for a manual run) and
// the destination scope (Options.Schema, or the connection's schema;
// Options.TablePrefix; Options.SourceName). Runs of one scope never overlap,
// in any processes on any machines:
//
//   - PostgreSQL: a session advisory lock (pg_advisory_lock) on the run's
//     connection, released at the end of the run or when the session ends
//     (the process dies).
//   - MySQL/MariaDB: GET_LOCK on the run's connection (a name hashed from the
//     database and the scope), released the same way.
//   - SQLite: a lease, a row of planner_replicate_lock naming the run, host,
//     pid and start, with a heartbeat every Options.LeaseTTL/4 (default
//     DefaultLeaseTTL, 2 minutes), on a connection of its own, or with a
//     pool of one connection on the run's, between tables and while a
//     table's source is read. The lease holds no database lock. A run
//     takes over a lease that has expired (no heartbeat for LeaseTTL), or
//     whose holder is provably gone: it ran on this machine (same host name,
//     boot and process namespace) and no process has its pid. Each table's
//     transaction renews the lease as it takes the write lock and as it
//     commits, so a run whose lease was taken over (it was paused past
//     LeaseTTL) writes nothing more: the table in flight is rolled back and
//     the rest are skipped, all with ErrLeaseLost.
//
// A run that finds its lock held waits up to Options.LockTimeout (default 0:
// not at all; Options.OnLockWait is told), then is skipped as a whole: it
// reads nothing, writes no table, records a run with status skipped and the
// error "skipped: run in progress since T on H (pid P, run R)", and returns a
// *SkippedError (errors.Is ErrSkipped and ErrRunInProgress). A run that gets
// the lock marks the runs of its scope still recorded as running —
// processes that died — as abandoned.
//
// With Options.Job and Options.Slot (a scheduler's slot), a run that gets the
// lock after a run of the same job, scope and slot already copied (status
// ok, failed or stopped, with the same or a later Options.Attempt) is skipped
// too (ErrSlotDone): replicas of a scheduler sharing a configuration run each
// slot once.
//
// Runs of different scopes may write the same table (two jobs into one
// table with different source names, or a manual run and a job). Each
// table's transaction then also takes the table's lock — PostgreSQL
// pg_advisory_xact_lock and MySQL GET_LOCK on a hash of schema.table, SQLite
// the database's write lock — waiting up to Options.TableLockTimeout
// (default DefaultTableLockTimeout, 30 minutes); a table that gets no lock in
// that time fails with a *LockedError (errors.Is ErrLocked) naming the table
// and, on PostgreSQL and MySQL, the holder. No table is ever reported as
// copied, or as to be copied, by another run.
//
// SQLite's write lock covers the whole file, so a SQLite run never holds it
// while it reads its source: it reads the table's state (WAL readers do not
// block writers), reads the whole source, stages the changed rows in a
// temporary table of its own connection, and only then takes the write lock
// (BEGIN IMMEDIATE) to check that the table's state is the one it read, apply
// the staged rows, delete, and commit. If a run of another scope changed the
// table in between, the table fails without writing ("run again").
// PostgreSQL and MySQL lock only the table, and copy inside its transaction.
//
// # Destinations and types
//
// The destination is any *sql.DB of SQLite (modernc.org/sqlite), PostgreSQL
// (github.com/jackc/pgx/v5/stdlib) or MySQL/MariaDB
// (github.com/go-sql-driver/mysql). Its kind is told by the driver's type
// name, or by asking the database when the driver is wrapped. This package
// links none of those drivers: package replicate/dest opens destinations
// from URLs (sqlite:PATH, postgres://..., mysql://...) and links all three,
// so a program that brings its own *sql.DB carries only its own driver.
// Column types come from the source's declared types (DatabaseTypeName),
// or, for expressions without one, from the first row's values:
//
//	source     SQLite    PostgreSQL        MySQL/MariaDB
//	TEXT       TEXT      text              MEDIUMTEXT; key: VARCHAR(n), id: VARCHAR(512); utf8mb4, binary collation
//	INTEGER    INTEGER   bigint            BIGINT
//	BOOLEAN    INTEGER   boolean           BOOLEAN (tinyint)
//	DATETIME   TEXT      timestamptz       DATETIME(6), UTC
//	JSON       TEXT      jsonb             JSON
//	REAL       REAL      double precision  DOUBLE
//	BLOB       BLOB      bytea             LONGBLOB
//
// Precision: SQLite keeps values as the source gave them (times as RFC 3339
// UTC text with seven fractional digits, the planner driver's canonical
// DATETIME form, schema.FormatDateTime). PostgreSQL and
// MySQL keep microseconds: Graph's 7-digit fractions are truncated. jsonb
// keeps the JSON value, not its text (key order and spacing may change).
// MySQL text keys are VARCHAR with a binary, NO PAD collation where the
// server has one (Planner ids are case-sensitive): InnoDB keys are at most
// 3,072 bytes, so SourceName takes 64 characters and the other text key
// columns share the rest — 768 characters for a single key, 352 each for
// (TaskId, ReferenceKey) with SourceName. A longer value fails the table (the run
// sets STRICT_ALL_TABLES on its session, so nothing is silently truncated).
// Other text is MEDIUMTEXT, as TEXT's 64 KB is too small for long
// descriptions in utf8mb4 — except id columns: with a source that has the
// planner driver's sys_columns catalog, a TEXT column the catalog names
// ...Id (PlanId, BucketId, CreatedByUserId, ...) is VARCHAR(512) with the
// keys' binary collation, so WHERE PlanId = UPPER(...) matches nothing and
// the column can be indexed. Tables created by earlier versions keep their
// column types (WITH DropTable rebuilds them).
//
// Foreign keys are indexed: a result column that the source's catalog names
// as the whole key of a table (GroupId, PlanId, BucketId, TaskId) gets an
// index "<table>_<column>_idx" in every destination, unless it leads the
// primary key already (TaskId in TaskAssignments). Existing tables get the
// index on their next run (on MySQL, where the column's type can be
// indexed). Sources without a catalog get none: names alone are not
// trusted.
//
// Options.NameStyle names the tables and columns replicate creates: exact
// (Tasks.TaskId, the default), lower (tasks.taskid) or snake_case
// (tasks.task_id, created_by_user_id, e_tag; SourceName, IsDeleted and
// DeletedDateTime become source_name, is_deleted, deleted_date_time), so a
// psql user writes SELECT title FROM tasks WHERE plan_id = '...' without
// quotes. Schemas and replicate's planner_replicate_* tables keep their
// names; a table written in one style is another table to a run in
// another. Two result columns that become one name are an error naming
// both.
//
// Identifiers are always quoted, so any name works, hostile ones included.
// Names a database would change are refused: PostgreSQL names over 63 bytes
// (it would truncate them), MySQL names over 64 characters, ending with a
// space, or with characters outside the Basic Multilingual Plane.
//
// # Schemas
//
// schema.Table writes to a PostgreSQL schema or a MySQL database, created if
// missing. In SQLite a schema is a database file attached next to the main
// one: PROD.Tasks is table Tasks in "<dir>/<main file name without
// extension>.prod.db" (the schema name lower-cased, as SQLite names are
// case-insensitive, with characters other than letters, digits, '_' and '-'
// percent-encoded), attached as PROD for the run on its dedicated connection
// and detached after, in WAL mode when the main database is. "main" is the
// main database; "temp" and schemas of in-memory databases are refused. The
// state and history tables live in the same schema as the table they
// describe (SQLite transactions are atomic across attached files only per
// file in WAL mode); the runs and lock tables in the run's schema
// (Options.Schema). Writer and History name a schema's file alike, so
// schema Données is "<main>.données.db" for both.
//
// # History
//
// Every run is recorded in planner_replicate_runs (RunsTable), in the run's
// schema (Options.Schema or the connection's): its id, job, destination
// label, scope, host and pid, slot and attempt, start and end, status
// (running, ok, failed, stopped, skipped, abandoned), error, totals of
// tables and rows, the source's requests and throttled requests
// (Options.Requests) and, with Options.RecordLog, its log. Every table copy
// adds a row to planner_replicate_history (Options.HistoryTable) in the
// table's schema: Id, Statement, TableName, SourceName, StartDateTime,
// EndDateTime, Inserted, Updated, Deleted, Unchanged, Status ('ok' or
// 'failed'), Error, Warnings, RunId, Requests and Throttled. A success is
// written in the table's transaction; a failure after the rollback. Errors,
// warnings and logs are recorded without URL passwords or secret key=value
// pairs (and through Options.Redact). Tables written by earlier versions get
// the new columns on the next run.
//
// History (NewHistory, or dest.OpenHistory from a URL) reads them back in every
// dialect: History.Runs lists runs newest first with filters and paging,
// History.Run returns one run with its tables and log. Its types are plain
// data with JSON tags.
//
// # Runs
//
// A run uses one destination connection for all its statements (and, for a
// SQLite lease's heartbeat, a second one) and restores the connection's
// settings (SQLite busy_timeout and attachments, MySQL sql_mode) before
// returning it to the pool. It reads the source in a goroutine, so reading
// overlaps hashing and writing. A table that fails gets a Result with Err and
// the run goes on — unless it failed because the source is unreachable
// (graph.ErrUnreachable: Microsoft Graph stopped answering), and then the rest
// are skipped unread (ErrSourceUnreachable); Options.Stop makes the run finish
// the table in flight and skip the rest (ErrStopped); ctx ending stops the
// run. The error RunStatements returns is nil only when every table was
// copied: otherwise it joins the tables' errors, and the Results are returned
// too. Options.Progress reports each table's phases.
//
// # Statements built in Go
//
// TableStatement, CopyStatement, QueryStatement, TablesStatement and
// AllStatement build statements with the defaults the grammar gives
// (AlterSchema on). Options.TablePrefix applies exactly to destinations named
// after their source: Statement.NamedAfterSource (the one-name form,
// REPLICATE Tasks), TABLES and ALL; never to a destination written in the
// statement (REPLICATE Buckets Buckets copies into Buckets).
package replicate
