// Package desturl turns a destination URL (sqlite:PATH, postgres://...,
// mysql://...) into a database/sql driver name and DSN. It opens nothing;
// package replicate/dest opens, and replicate's tests use it too.
package desturl

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/plannersql/planner/internal/redact"
)

// Schemes lists the accepted destination forms, for messages.
const Schemes = "sqlite:PATH (or a path ending in .db, .sqlite or .sqlite3), postgres://user@host/db (or postgresql://), mysql://user@host:3306/db"

// ErrUnknownScheme is the error (wrapped) of a URL of no accepted form.
var ErrUnknownScheme = errors.New("unknown destination kind")

// Target is a parsed destination URL.
type Target struct {
	// Kind is "sqlite", "postgres" or "mysql".
	Kind string
	// Driver is the database/sql driver name: "sqlite", "pgx" or "mysql".
	Driver string
	// DSN is what sql.Open takes.
	DSN string
	// Shown is the URL without its password.
	Shown string
	// Path is a SQLite destination's file (its parameters removed).
	Path string
	// Mode is a SQLite destination's mode parameter: "" (rwc: create the
	// file), "rwc", "rw" (the file must exist) or "ro" (read-only).
	Mode string
}

// sqliteDefaults are the pragmas a SQLite destination gets unless its URL
// sets them with _pragma.
var sqliteDefaults = []struct{ name, value string }{
	{"busy_timeout", "5000"},
	{"journal_mode", "WAL"},
	{"synchronous", "NORMAL"},
}

// sqliteParams are the query parameters a sqlite: URL accepts: SQLite's
// URI parameters and modernc.org/sqlite's own.
var sqliteParams = map[string]string{
	"mode":         "ro, rw or rwc (the default: create the file if missing)",
	"cache":        "shared or private",
	"immutable":    "1: the file never changes (read-only, no locking)",
	"vfs":          "the SQLite VFS name",
	"_pragma":      "a pragma run on each connection, as name(value); may repeat",
	"_txlock":      "deferred, immediate or exclusive",
	"_time_format": "sqlite (how the driver writes time.Time values)",
}

// Parse parses a destination URL. Its errors never show the password.
func Parse(rawURL string) (Target, error) {
	lower := strings.ToLower(rawURL)
	switch {
	case strings.HasPrefix(lower, "sqlite:"):
		return parseSQLite(rawURL, rawURL[len("sqlite:"):])
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return Target{}, redact.Error(fmt.Errorf("bad PostgreSQL URL %s: %w (percent-encode special characters of the password: %%40 for @, %%23 for #, %%25 for %%)", redact.URL(rawURL), err), redact.Secrets(rawURL)...)
		}
		return Target{Kind: "postgres", Driver: "pgx", DSN: rawURL, Shown: redact.URL(rawURL)}, nil
	case strings.HasPrefix(lower, "mysql://"):
		dsn, shown, err := mysqlDSN(rawURL)
		if err != nil {
			return Target{}, redact.Error(err, redact.Secrets(rawURL)...)
		}
		return Target{Kind: "mysql", Driver: "mysql", DSN: dsn, Shown: shown}, nil
	case !strings.Contains(lower, "://") && hasSQLiteSuffix(lower):
		return parseSQLite(rawURL, rawURL)
	}
	return Target{}, fmt.Errorf("%w %s: use %s", ErrUnknownScheme, shownScheme(rawURL), Schemes)
}

// shownScheme names an unknown URL's scheme (or the whole text when it has
// none) without its password.
func shownScheme(rawURL string) string {
	if i := strings.Index(rawURL, "://"); i > 0 {
		return fmt.Sprintf("%q", rawURL[:i]+"://")
	}
	return fmt.Sprintf("%q", redact.URL(rawURL))
}

func hasSQLiteSuffix(lower string) bool {
	return strings.HasSuffix(lower, ".db") || strings.HasSuffix(lower, ".sqlite") || strings.HasSuffix(lower, ".sqlite3")
}

// FilePath returns the file of a SQLite destination URL; ok is false for
// other destinations and for URLs that do not parse.
func FilePath(rawURL string) (path string, ok bool) {
	t, err := Parse(rawURL)
	if err != nil || t.Kind != "sqlite" {
		return "", false
	}
	return t.Path, true
}

// parseSQLite parses sqlite:PATH[?params] or sqlite:file:PATH[?params]
// (rest is what follows "sqlite:").
// Everything after the first '?' is parameters, checked by name: a file
// name never swallows what was meant as a parameter. A '?' or '%' in the
// file name is written percent-encoded (%3F, %25).
func parseSQLite(rawURL, rest string) (Target, error) {
	rest = strings.TrimPrefix(rest, "//")
	// sqlite:file:PATH is SQLite's URI form (file:PATH?params) after the
	// scheme: the file is PATH, not one named "file:PATH".
	if len(rest) >= len("file:") && strings.EqualFold(rest[:len("file:")], "file:") {
		rest = strings.TrimPrefix(rest[len("file:"):], "//")
	}
	pathPart, query, hasQuery := strings.Cut(rest, "?")
	path := pathPart
	if strings.Contains(pathPart, "%") {
		p, err := url.PathUnescape(pathPart)
		if err != nil {
			return Target{}, fmt.Errorf("bad SQLite destination %q: %v (write %% in a file name as %%25, ? as %%3F)", rawURL, err)
		}
		path = p
	}
	if path == "" {
		return Target{}, fmt.Errorf("SQLite destination %q has no file path: use sqlite:PATH", rawURL)
	}
	t := Target{Kind: "sqlite", Driver: "sqlite", Shown: rawURL, Path: path}
	params := url.Values{}
	if hasQuery {
		var err error
		if params, err = url.ParseQuery(query); err != nil {
			return Target{}, fmt.Errorf("bad parameters in SQLite destination %q: %v", rawURL, err)
		}
	}
	var unknown []string
	for k := range params {
		if _, ok := sqliteParams[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Target{}, fmt.Errorf("SQLite destination %q has unknown parameter %s; accepted: %s (write ? in a file name as %%3F)", rawURL, strings.Join(unknown, ", "), acceptedSQLiteParams())
	}
	switch m := params.Get("mode"); m {
	case "", "rwc", "rw", "ro":
		t.Mode = m
	default:
		return Target{}, fmt.Errorf("SQLite destination %q: mode=%s; use mode=ro, rw or rwc", rawURL, m)
	}
	// Default pragmas, unless the URL sets them.
	set := map[string]bool{}
	for _, p := range params["_pragma"] {
		name, _, _ := strings.Cut(p, "(")
		set[strings.ToLower(strings.TrimSpace(name))] = true
	}
	q := url.Values{}
	for k, vs := range params {
		if k != "_pragma" {
			q[k] = vs
		}
	}
	var pragmas []string
	for _, d := range sqliteDefaults {
		if !set[d.name] && !(t.Mode == "ro" && d.name == "journal_mode") {
			pragmas = append(pragmas, "_pragma="+d.name+"("+d.value+")")
		}
	}
	for _, p := range params["_pragma"] {
		pragmas = append(pragmas, "_pragma="+url.QueryEscape(p))
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	dsn := "file:" + esc + "?" + strings.Join(pragmas, "&")
	if enc := q.Encode(); enc != "" {
		dsn += "&" + enc
	}
	t.DSN = dsn
	return t, nil
}

func acceptedSQLiteParams() string {
	names := make([]string, 0, len(sqliteParams))
	for k := range sqliteParams {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// mysqlDSN converts mysql://user:pass@host:port/db?params to a
// go-sql-driver DSN; parameters are that driver's (tls=true, ...), and
// parseTime=true and loc=UTC are set.
func mysqlDSN(rawURL string) (dsn, shown string, err error) {
	shown = redact.URL(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("bad MySQL URL %s: %w (percent-encode special characters of the password: %%40 for @, %%23 for #, %%25 for %%)", shown, err)
	}
	cfg, err := mysql.ParseDSN("/?" + u.RawQuery)
	if err != nil {
		return "", "", fmt.Errorf("bad MySQL URL parameters in %s: %w", shown, err)
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
