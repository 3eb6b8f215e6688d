// Package driver is the "planner" database/sql driver: Microsoft Planner as
// SQL tables over Microsoft Graph.
//
//	import _ "github.com/plannersql/planner/driver"
//
//	db, err := sql.Open("planner", "Profile=prod")        // a profile of the config file
//	db, err := sql.Open("planner", "Tenant=contoso.onmicrosoft.com;OAuthClientId=...")
//	rows, err := db.QueryContext(ctx, `
//		SELECT p.Title AS plan, b.Name AS bucket, count(*) AS open
//		FROM Tasks t JOIN Plans p USING (PlanId) JOIN Buckets b USING (BucketId)
//		WHERE t.PercentComplete < 100
//		GROUP BY 1, 2 ORDER BY 3 DESC`)
//
// Sandbox=true connects to an emulated demo tenant (no network, no
// sign-in) once the program imports package
// github.com/plannersql/planner/sandbox.
//
// # Configuration
//
// A [Config] has one field per connection property (docs/connection.md);
// every zero value means the property's default, and a field set in Go is
// exactly a key written in the DSN ([ParseDSN] and [Config.FormatDSN]
// convert). It also carries what a connection string cannot: an
// *http.Client, an oauth2.TokenSource, a *slog.Logger, and the sign-in
// hooks:
//
//	cfg := &driver.Config{
//		Tenant:        "contoso.onmicrosoft.com",
//		OAuthClientID: "11111111-2222-3333-4444-555555555555",
//		AuthScheme:    driver.AuthDeviceCode,
//		DeviceCodePrompt: func(ctx context.Context, dc driver.DeviceCode) error {
//			return notifyUser(dc.Message) // e.g. send it to a chat
//		},
//		Logger:    logger,
//		Verbosity: 2,
//	}
//	cn, err := driver.NewConnector(cfg)
//	db := sql.OpenDB(cn)
//
// # Signing in
//
// With InitiateOAuth=GETANDREFRESH (the default) the first connection
// signs in when nothing usable is stored — AzureAD in the browser
// (Config.OpenBrowser; by default the URL on stderr and the default
// browser), DeviceCode with a code entered on any device
// (Config.DeviceCodePrompt; by default the message on stderr) — and saves
// the sign-in to OAuthSettingsLocation. Later connections and processes
// reuse and refresh it; connections opened together sign in once.
// InitiateOAuth=REFRESH never prompts. A hook returning [ErrNoPrompt]
// makes a connection fail at once, saying how to sign in, instead of
// asking. [Connector.SignIn], [Connector.SignInStatus] and
// [Connector.SignOut] do what `planner auth login|status|logout` do.
//
// Tokens go only where they belong: GraphURL and AuthorityURL must be
// https to Microsoft's hosts (national clouds included) or a loopback
// address, unless AllowCustomHosts is set; a stored refresh token is
// presented only to the authority that issued it.
//
// # Logging
//
// Verbosity 1 logs each statement, 2 also each Graph request (method,
// path, status, ms, throttled, retries), 3 also the bodies, with tokens,
// secrets and codes redacted — to Config.Logger, else Logfile, else
// slog.Default(). Nothing is logged by default.
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
// A statement reads each Graph object at most once, whatever join order
// SQLite picks: the lookups by key of a nested loop (Tasks JOIN TaskDetails,
// a correlated subquery, TaskId IN (SELECT ...)) are served from what the
// statement already read, or fetched in $batch requests of 20 together with
// the keys the loop asks for next, several at once; a list of ids
// (TaskId, PlanId, BucketId, GroupId) is fetched in $batch requests, whether
// written as an IN list of literals or parameters, bound as one JSON array
// (TaskId IN (SELECT value FROM json_each(?)), or a join with
// json_each(?)), as an OR chain of equalities or as a VALUES list; with keys
// computed otherwise, each lookup SQLite asks for that the statement has not
// read is a request of its own. An inner table scanned once per outer row
// is read once. A join of planner tables so costs no more requests than
// reading each of its tables once. Nothing is kept between statements: the
// next statement reads the tenant as it is then. To read a whole run of
// statements once, and consistently, use a [Snapshot].
//
// An equality on a pushdown column returns what the scan filtered by it
// returns: a lookup by id of an object the scans do not cover (a security
// group, a group the user is not a member of, a plan outside the GroupId
// list, a task of a deleted plan in a user's task list) is no row.
//
// A scan that discovers plans through /me/memberOf fails with an error that
// errors.Is [ErrMissingPermission] when the sign-in lacks Group.Read.All or
// GroupMember.Read.All (Graph then lists the user's groups without their
// properties), or User.Read (Graph refuses /me/memberOf), and an
// application's scan when it lacks Group.Read.All or GroupMember.Read.All,
// and any scan when Graph refuses the plans of every group the sign-in
// reaches (no Planner permission: Tasks.Read, or Tasks.Read.All);
// a group named in GroupId that cannot be read fails the scan with an error
// naming it and errors.As the *graph.Error, and one that is no Microsoft
// 365 group fails the Groups table (see docs/connection.md).
//
// # Writes
//
// INSERT, UPDATE and DELETE become Graph POST, PATCH and DELETE with the ETag
// of the row as it was read; an UPDATE sends only the columns whose value
// changed. Planner applies a change made against an older ETag when it
// touches nothing changed since; when someone else changed the same
// properties in between, the statement fails with an error that errors.Is
// [ErrRowChanged] and errors.As a *graph.Error carrying Graph's 409 (or 412
// when the ETag is no longer a version Graph can judge). Read-only tables
// and columns are refused
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
