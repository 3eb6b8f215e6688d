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
	_ "modernc.org/sqlite"             // registers "sqlite"
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
// The database is pinged before it is returned. Errors never show the password.
func OpenDestination(ctx context.Context, rawURL string) (*sql.DB, error) {
	driverName, dsn, shown, err := destinationDSN(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("replicate: open %s: %w", shown, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("replicate: connect to %s: %w", shown, redact(err, rawURL))
	}
	return db, nil
}

// destinationDSN converts a destination URL into a driver name and DSN, and
// a form of the URL safe to show.
func destinationDSN(rawURL string) (driverName, dsn, shown string, err error) {
	lower := strings.ToLower(rawURL)
	switch {
	case strings.HasPrefix(lower, "sqlite:"):
		path := rawURL[len("sqlite:"):]
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", "", fmt.Errorf("replicate: destination %q has no file path: use sqlite:PATH", rawURL)
		}
		return "sqlite", sqliteDSN(path), rawURL, nil
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			return "", "", "", fmt.Errorf("replicate: bad PostgreSQL URL: %w", redact(err, rawURL))
		}
		return "pgx", rawURL, u.Redacted(), nil
	case strings.HasPrefix(lower, "mysql://"):
		dsn, shown, err := mysqlDSN(rawURL)
		return "mysql", dsn, shown, err
	case strings.HasSuffix(lower, ".db"), strings.HasSuffix(lower, ".sqlite"), strings.HasSuffix(lower, ".sqlite3"):
		return "sqlite", sqliteDSN(rawURL), rawURL, nil
	}
	return "", "", "", fmt.Errorf("replicate: unknown destination %q: use sqlite:PATH (or a path ending in .db), postgres://user@host/db or mysql://user@host/db", redactURL(rawURL))
}

// sqliteDSN builds a modernc.org/sqlite DSN for a file path.
func sqliteDSN(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	return "file:" + esc + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
}

// mysqlDSN converts mysql://user:pass@host:port/db?params to a go-sql-driver DSN.
func mysqlDSN(rawURL string) (dsn, shown string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("replicate: bad MySQL URL: %w", redact(err, rawURL))
	}
	shown = u.Redacted()
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

// redact removes a URL's password from an error.
func redact(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if p, ok := u.User.Password(); ok && p != "" && strings.Contains(err.Error(), p) {
		return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), p, "xxxxx"))
	}
	return err
}

func redactURL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		return u.Redacted()
	}
	return rawURL
}
