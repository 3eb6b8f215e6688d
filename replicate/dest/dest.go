// Package dest opens replicate's destination databases from URLs. It is
// where the database drivers are linked: SQLite (modernc.org/sqlite),
// PostgreSQL (github.com/jackc/pgx/v5/stdlib) and MySQL/MariaDB
// (github.com/go-sql-driver/mysql). Package replicate itself links none of
// them, so a program that passes replicate its own *sql.DB carries only the
// driver it chose.
//
//	dst, err := dest.Open(ctx, "postgres://replicator@db.example/warehouse")
//	...
//	results, err := replicate.Run(ctx, src, dst, "REPLICATE ALL;", replicate.Options{})
package dest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/go-sql-driver/mysql" // registers "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/plannersql/planner/internal/redact"
	"github.com/plannersql/planner/replicate"
	"github.com/plannersql/planner/replicate/internal/dberr"
	"github.com/plannersql/planner/replicate/internal/desturl"
)

// Schemes lists the destination URL forms Open accepts, for messages.
const Schemes = desturl.Schemes

// ErrUnknownScheme is the error (wrapped) of a URL of no accepted form: a
// usage error, found without contacting anything.
var ErrUnknownScheme = desturl.ErrUnknownScheme

// Check parses a destination URL without opening it: the errors Open would
// give for the URL's form (an unknown scheme, unknown parameters, a bad
// password encoding). They never show the password.
func Check(rawURL string) error {
	_, err := parse(rawURL)
	return err
}

func parse(rawURL string) (desturl.Target, error) {
	t, err := desturl.Parse(rawURL)
	if err != nil {
		return t, redact.Error(fmt.Errorf("replicate: destination: %w", err), redact.Secrets(rawURL)...)
	}
	return t, nil
}

// Open opens a destination database from a URL:
//
//   - sqlite:PATH[?params] (also sqlite:file:PATH[?params], SQLite's URI
//     form), or a bare path ending in .db, .sqlite or .sqlite3:
//     a SQLite file, created if missing (its directory must exist), in WAL
//     mode with a 5 s busy timeout and synchronous=NORMAL. Parameters:
//     mode=ro|rw|rwc (rw and ro need an existing file; ro opens it
//     read-only), cache, immutable, vfs, and modernc.org/sqlite's _pragma
//     (which may override the defaults: _pragma=busy_timeout(10000)),
//     _txlock and _time_format. Any other parameter is refused by name, so
//     a file is never created with a parameter in its name; write ? and %
//     in a file name as %3F and %25.
//   - postgres://... or postgresql://...: PostgreSQL, through pgx: any libpq
//     URL parameter (sslmode, connect_timeout, ...) or server setting
//     (search_path=...), which the server checks by name.
//   - mysql://user:password@host[:port]/database[?param=value...]: MySQL or
//     MariaDB, through go-sql-driver/mysql: that driver's DSN parameters
//     (tls=true, timeout=5s, ...) or session variables; parseTime=true and
//     loc=UTC are set.
//
// The database is pinged before it is returned. Errors start
// "replicate: destination URL:", say what to do when the cause is known
// (connection refused, unknown host, bad password, missing database or
// directory, permission, disk full, ...), and never show the password, even
// of a URL that does not parse; they unwrap to the driver's error. An
// unknown scheme wraps ErrUnknownScheme.
func Open(ctx context.Context, rawURL string) (*sql.DB, error) {
	t, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	fail := func(err error) error {
		msg := "replicate: destination %s: %w"
		if h := dberr.Hint(err); h != "" {
			msg += "; " + h
		}
		return redact.Error(fmt.Errorf(msg, t.Shown, dberr.Deduplicated(err)), redact.Secrets(rawURL)...)
	}
	if t.Kind == "sqlite" {
		if err := checkSQLiteFile(t); err != nil {
			return nil, redact.Error(fmt.Errorf("replicate: destination %s: %w", t.Shown, err), redact.Secrets(rawURL)...)
		}
	}
	db, err := sql.Open(t.Driver, t.DSN)
	if err != nil {
		return nil, fail(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		if errors.Is(pctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil && dberr.Hint(err) == "" {
			// Open's own deadline ended the ping: the server did not answer.
			err = fmt.Errorf("%w; %s", err, dberr.Timeout.Hint())
		}
		// Drivers may quote the DSN (with its password) in their errors.
		return nil, fail(err)
	}
	return db, nil
}

// checkSQLiteFile explains what SQLite would only call "unable to open
// database file": a missing directory, a directory named as the file, or a
// missing file that the mode does not create.
func checkSQLiteFile(t desturl.Target) error {
	dir := filepath.Dir(t.Path)
	if fi, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("directory %s does not exist: create it (mkdir -p %s), or name a file in an existing directory", dir, dir)
	} else if err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi, err := os.Stat(t.Path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory: name a file in it (sqlite:%s)", t.Path, filepath.Join(t.Path, "planner.db"))
	}
	if t.Mode == "ro" || t.Mode == "rw" {
		if _, err := os.Stat(t.Path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("file %s does not exist, and mode=%s does not create it: replicate into it once without mode=%s, or name an existing file", t.Path, t.Mode, t.Mode)
		}
	}
	return nil
}

// OpenHistory opens the destination at rawURL (as Open does) and returns
// its run history; the History's Close closes the database. A SQLite file
// that does not exist is not created: its history is empty. Errors never
// show the URL's password.
func OpenHistory(ctx context.Context, rawURL string, opts replicate.HistoryOptions) (*replicate.History, error) {
	t, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	opts.CloseDB = true
	if t.Kind == "sqlite" {
		if _, err := os.Stat(t.Path); errors.Is(err, os.ErrNotExist) {
			// An empty in-memory database: no runs, and no file created.
			db, err := sql.Open("sqlite", "file::memory:")
			if err != nil {
				return nil, fmt.Errorf("replicate: history: %w", err)
			}
			db.SetMaxOpenConns(1)
			h, err := replicate.NewHistory(ctx, db, opts)
			if err != nil {
				db.Close()
				return nil, err
			}
			return h, nil
		}
	}
	db, err := Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	h, err := replicate.NewHistory(ctx, db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return h, nil
}

// FilePath returns the file of a SQLite destination URL; ok is false for
// other destinations and URLs that do not parse.
func FilePath(rawURL string) (path string, ok bool) { return desturl.FilePath(rawURL) }
