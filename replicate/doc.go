// Package replicate runs REPLICATE statements: it copies the result of a
// query on a source database into a table of a destination database —
// SQLite, PostgreSQL or MySQL/MariaDB — incrementally, with deletes, one
// transaction per table.
//
//	src, _ := sql.Open("planner", dsn)                          // any *sql.DB
//	dst, _ := replicate.OpenDestination(ctx, "sqlite:planner.db") // or postgres://, mysql://
//	results, err := replicate.Run(ctx, src, dst, `
//		REPLICATE Tasks;                                   -- Tasks → Tasks
//		REPLICATE PROD_Buckets SELECT * FROM Buckets;      -- a query, into a named table
//		REPLICATE ALL EXCLUDE TABLES (TaskDetails) WITH SourceName='prod';
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
// or source table.
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
// sys_tables (less the catalog tables) or, without one, its own tables.
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
// # Atomicity and the lock
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
// A lock in the destination database keeps two runs (in any processes, on any
// machines) from copying the same table at once:
//
//   - PostgreSQL: a transaction-scoped advisory lock (pg_advisory_xact_lock) on
//     a hash of schema.table, released by commit, rollback or disconnection.
//   - MySQL/MariaDB: GET_LOCK on a hash of database.table, held by the run's
//     connection until its transaction ends (or the connection drops).
//   - SQLite: the database's write lock (BEGIN IMMEDIATE). It covers the
//     whole file — attached schema files included — so it also excludes other
//     writers, not only other runs.
//
// A run that finds the lock taken waits up to Options.LockTimeout (default 0:
// not at all) and then skips the table with a *LockedError (errors.Is
// ErrLocked) naming the table and, on PostgreSQL and MySQL, the holder
// (backend pid or connection id, client, since when). A locked table gets no
// history row; the run holding the lock writes its own.
//
// # Destinations and types
//
// The destination's kind is detected from its driver (modernc.org/sqlite,
// github.com/jackc/pgx/v5/stdlib, github.com/go-sql-driver/mysql), or by asking
// the database when the driver is wrapped. Column types come from the source's
// declared types (DatabaseTypeName), or, for expressions without one, from the
// first row's values:
//
//	source     SQLite    PostgreSQL        MySQL/MariaDB
//	TEXT       TEXT      text              MEDIUMTEXT; key: VARCHAR(n) utf8mb4, binary collation
//	INTEGER    INTEGER   bigint            BIGINT
//	BOOLEAN    INTEGER   boolean           BOOLEAN (tinyint)
//	DATETIME   TEXT      timestamptz       DATETIME(6), UTC
//	JSON       TEXT      jsonb             JSON
//	REAL       REAL      double precision  DOUBLE
//	BLOB       BLOB      bytea             LONGBLOB
//
// Precision: SQLite keeps values as the source gave them (times as RFC 3339
// text; a time.Time from the driver — modernc parses DATETIME columns — is
// written in UTC with as many fractional digits as it has). PostgreSQL and
// MySQL keep microseconds: Graph's 7-digit fractions are truncated. jsonb
// keeps the JSON value, not its text (key order and spacing may change).
// MySQL text keys are VARCHAR with a binary, NO PAD collation where the
// server has one (Planner ids are case-sensitive): InnoDB keys are at most
// 3,072 bytes, so SourceName takes 64 characters and the other text key
// columns share the rest — 768 characters for a single key, 352 each for
// (TaskId, Url) with SourceName. A longer value fails the table (the run
// sets STRICT_ALL_TABLES on its session, so nothing is silently truncated).
// Other text is MEDIUMTEXT, as TEXT's 64 KB is too small for long
// descriptions in utf8mb4.
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
// file in WAL mode).
//
// # History
//
// Every run of a table adds a row to planner_replicate_history
// (Options.HistoryTable) in the table's schema: Id, Statement, TableName,
// SourceName, StartDateTime, EndDateTime, Inserted, Updated, Deleted,
// Unchanged, Status ('ok' or 'failed'), Error and Warnings. A success is
// written in the table's transaction; a failure after the rollback.
//
// # Runs
//
// A run uses one destination connection for all its statements and restores
// the connection's settings (SQLite busy_timeout and attachments, MySQL
// sql_mode) before returning it to the pool. It reads the source in a
// goroutine, so reading overlaps hashing and writing. A table that fails gets
// a Result with Err and the run goes on — unless it failed because the source
// is unreachable (graph.ErrUnreachable: Microsoft Graph stopped answering),
// and then the rest are skipped unread (ErrSourceUnreachable);
// Options.Stop makes the run finish the table in flight and skip the rest
// (ErrStopped); ctx ending stops the run and returns an error.
// Options.Progress reports each table's phases.
package replicate
