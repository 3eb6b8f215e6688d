package replicate

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/plannersql/planner/internal/redact"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// OpenDestination opens a destination database from a URL:
//
//   - sqlite:PATH, or a bare path ending in .db, .sqlite or .sqlite3: a SQLite
//     file (created if missing) in WAL mode with a 5 s busy timeout and
//     synchronous=NORMAL;
//   - postgres://... or postgresql://...: PostgreSQL, through pgx (any
//     libpq URL parameter, such as sslmode, is passed on);
//   - mysql://user:password@host[:port]/database[?param=value...]: MySQL or
//     MariaDB, through go-sql-driver/mysql; parameters are that driver's DSN
//     parameters (tls=true, ...), and parseTime=true and loc=UTC are set.
//
// The database is pinged before it is returned. Errors never show the
// password, even of a URL that does not parse (they still unwrap to the
// driver's error).
func OpenDestination(ctx context.Context, rawURL string) (*sql.DB, error) {
	secrets := redact.Secrets(rawURL)
	driverName, dsn, shown, err := destinationDSN(rawURL)
	if err != nil {
		return nil, redact.Error(err, secrets...)
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("replicate: open %s: %w", shown, err), secrets...)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		// Drivers may quote the DSN (with its password) in their errors.
		return nil, redact.Error(fmt.Errorf("replicate: connect to %s: %w", shown, err), secrets...)
	}
	return db, nil
}

// destinationDSN converts a destination URL into a driver name and DSN, and
// a form of the URL safe to show.
func destinationDSN(rawURL string) (driverName, dsn, shown string, err error) {
	lower := strings.ToLower(rawURL)
	switch {
	case strings.HasPrefix(lower, "sqlite:"):
		path, _ := sqliteFilePath(rawURL)
		if path == "" {
			return "", "", "", fmt.Errorf("replicate: destination %q has no file path: use sqlite:PATH", rawURL)
		}
		return "sqlite", sqliteDSN(path), rawURL, nil
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return "", "", "", fmt.Errorf("replicate: bad PostgreSQL URL %s: %w (percent-encode special characters of the password: %%40 for @, %%23 for #, %%25 for %%)", redact.URL(rawURL), err)
		}
		return "pgx", rawURL, redact.URL(rawURL), nil
	case strings.HasPrefix(lower, "mysql://"):
		dsn, shown, err := mysqlDSN(rawURL)
		return "mysql", dsn, shown, err
	case strings.HasSuffix(lower, ".db"), strings.HasSuffix(lower, ".sqlite"), strings.HasSuffix(lower, ".sqlite3"):
		return "sqlite", sqliteDSN(rawURL), rawURL, nil
	}
	return "", "", "", fmt.Errorf("replicate: unknown destination %q: use sqlite:PATH (or a path ending in .db), postgres://user@host/db or mysql://user@host/db", redact.URL(rawURL))
}

// sqliteFilePath returns the file of a SQLite destination URL (sqlite:PATH,
// or a bare path ending in .db, .sqlite or .sqlite3); ok is false for other
// destinations.
func sqliteFilePath(rawURL string) (path string, ok bool) {
	lower := strings.ToLower(rawURL)
	switch {
	case strings.HasPrefix(lower, "sqlite:"):
		return strings.TrimPrefix(rawURL[len("sqlite:"):], "//"), true
	case strings.Contains(lower, "://"):
		return "", false
	case strings.HasSuffix(lower, ".db"), strings.HasSuffix(lower, ".sqlite"), strings.HasSuffix(lower, ".sqlite3"):
		return rawURL, true
	}
	return "", false
}

// sqliteDSN builds a modernc.org/sqlite DSN for a file path.
func sqliteDSN(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	return "file:" + esc + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
}

// mysqlDSN converts mysql://user:pass@host:port/db?params to a go-sql-driver DSN.
func mysqlDSN(rawURL string) (dsn, shown string, err error) {
	shown = redact.URL(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("replicate: bad MySQL URL %s: %w (percent-encode special characters of the password: %%40 for @, %%23 for #, %%25 for %%)", shown, err)
	}
	cfg, err := mysql.ParseDSN("/?" + u.RawQuery)
	if err != nil {
		return "", "", fmt.Errorf("replicate: bad MySQL URL parameters in %s: %w", shown, err)
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" && u.Host != "" {
		cfg.Addr = u.Host + ":3306"
	}
	if u.Host == "" {
		cfg.Addr = "127.0.0.1:3306"
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	return cfg.FormatDSN(), shown, nil
}
