// Package driver is the "planner" database/sql driver: Microsoft Planner as
// SQL tables over Microsoft Graph.
//
//	import _ "github.com/plannersql/planner/driver"
//
//	db, err := sql.Open("planner", "Profile=prod")        // a profile of the config file
//	db, err := sql.Open("planner", "Sandbox=true")        // the emulated demo tenant: no network
//	rows, err := db.QueryContext(ctx, `
//		SELECT p.Title AS plan, b.Name AS bucket, count(*) AS open
//		FROM Tasks t JOIN Plans p USING (PlanId) JOIN Buckets b USING (BucketId)
//		WHERE t.PercentComplete < 100
//		GROUP BY 1, 2 ORDER BY 3 DESC`)
//
// Things a connection string cannot carry (an *http.Client, an
// oauth2.TokenSource) go in a [Config] given to [NewConnector]:
//
//	cfg := driver.NewConfig()
//	cfg.TokenSource = myTokenSource
//	cn, err := driver.NewConnector(cfg, driver.WithLogger(logger))
//	db := sql.OpenDB(cn)
//
// The tables, their columns, keys, pushdown and writability are listed in
// docs/tables.md (generated from package schema) and in the sys_tables and
// sys_columns tables; SHOW TABLES and DESCRIBE <table> work too. The
// connection properties are in docs/connection.md.
//
// # Queries
//
// Each connection is an in-memory SQLite database whose tables are virtual
// tables over Graph, so the whole SQLite dialect works: joins, CTEs, window
// and JSON functions, and parameters written ?, ?NNN, :name, @name or $name
// (sql.Named too). An equality or IN on a pushdown column picks the narrowest
// Graph request (Tasks WHERE TaskId = ? is one GET; WHERE PlanId = ? reads
// that plan's task pages only); details come in $batch requests of 20; a scan
// reads plans concurrently (MaxConcurrency) and streams rows in order.
// DATETIME columns scan into time.Time; BOOLEAN columns hold the integers 0
// and 1, as everywhere in SQLite (ScanType is int64, a *any receives an int64,
// and *bool or sql.NullBool work too); JSON columns hold the Graph object as
// text.
//
// # Writes
//
// INSERT, UPDATE and DELETE become Graph POST, PATCH and DELETE with the ETag
// of the row as it was read; an UPDATE sends only the columns whose value
// changed. When someone else changed the object in between, the statement
// fails with an error that errors.Is [ErrRowChanged] and errors.As a
// *graph.Error carrying the 412. Read-only tables and columns are refused
// before anything is sent, naming the column.
//
// The id Graph gives a new row is returned by INSERT ... RETURNING (any
// column of the created row), or by [LastInsertID] on a *sql.Conn or inside a
// *sql.Tx:
//
//	var id string
//	err := db.QueryRowContext(ctx,
//		`INSERT INTO Tasks (PlanId, Title) VALUES (?, ?) RETURNING TaskId`, planID, "Write the report").Scan(&id)
//
// # Transactions
//
// Graph has no transactions, and the driver does not pretend otherwise: a
// statement inside a transaction is sent to Graph when it runs. Commit always
// succeeds. Rollback succeeds when the transaction sent no write; after writes
// it returns an error matching [ErrRollbackAfterWrite] that says how many
// writes stand. A transaction begun with sql.TxOptions{ReadOnly: true}
// refuses every write before sending it.
//
// # Errors and cancellation
//
// Graph failures come back as errors that errors.As finds a *graph.Error in
// (status, code, request id), not only as SQLite text. An unknown table or
// column, a bad connection string and a wrong number of arguments are errors
// that say what to do. Cancelling a query's context stops its Graph requests.
package driver
