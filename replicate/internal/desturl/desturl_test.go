package desturl

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	tests := []struct {
		url, driver, dsn, path, err string
	}{
		{url: "sqlite:/tmp/a b#%3F.db", driver: "sqlite", dsn: "file:/tmp/a b%23%3F.db?" + pragmas, path: "/tmp/a b#?.db"},
		{url: "sqlite:/tmp/100%25.db", driver: "sqlite", dsn: "file:/tmp/100%25.db?" + pragmas, path: "/tmp/100%.db"},
		{url: "sqlite:///tmp/x.db", driver: "sqlite", dsn: "file:/tmp/x.db?" + pragmas, path: "/tmp/x.db"},
		// SQLite's own URI form after sqlite: names the same file, never one called "file:...".
		{url: "sqlite:file:z.db?mode=rwc", driver: "sqlite", dsn: "file:z.db?" + pragmas + "&mode=rwc", path: "z.db"},
		{url: "sqlite:file:///tmp/z.db", driver: "sqlite", dsn: "file:/tmp/z.db?" + pragmas, path: "/tmp/z.db"},
		{url: "sqlite:FILE:z.db", driver: "sqlite", dsn: "file:z.db?" + pragmas, path: "z.db"},
		{url: "sqlite:file:", err: "has no file path"},
		{url: "data/planner.db", driver: "sqlite", dsn: "file:data/planner.db?" + pragmas, path: "data/planner.db"},
		{url: "C:\\x\\y.SQLITE", driver: "sqlite", dsn: "file:C:\\x\\y.SQLITE?" + pragmas, path: "C:\\x\\y.SQLITE"},
		{url: "sqlite:/tmp/x.db?mode=ro", driver: "sqlite", dsn: "file:/tmp/x.db?_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&mode=ro", path: "/tmp/x.db"},
		{url: "sqlite:/tmp/x.db?_pragma=busy_timeout(100)&cache=shared", driver: "sqlite",
			dsn: "file:/tmp/x.db?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout%28100%29&cache=shared", path: "/tmp/x.db"},
		{url: "postgres://u:p@h/db?sslmode=disable", driver: "pgx", dsn: "postgres://u:p@h/db?sslmode=disable"},
		{url: "postgresql://h/db", driver: "pgx", dsn: "postgresql://h/db"},
		{url: "mysql://root:s%40cret@db.example:3307/planner?tls=true", driver: "mysql", dsn: "root:s@cret@tcp(db.example:3307)/planner?parseTime=true&tls=true"},
		{url: "mysql://root@localhost/planner", driver: "mysql", dsn: "root@tcp(localhost:3306)/planner?parseTime=true"},
		{url: "sqlite:", err: "has no file path"},
		{url: "sqlite:/tmp/x.db?bogus=1&mode=ro", err: "unknown parameter bogus; accepted: _pragma"},
		{url: "sqlite:/tmp/x.db?mode=readonly", err: "mode=readonly; use mode=ro, rw or rwc"},
		{url: "sqlite:/tmp/50%.db", err: "write % in a file name as %25"},
		{url: "oracle://u:hunter2@h/db", err: `unknown destination kind "oracle://": use sqlite:PATH`},
		{url: "planner", err: `unknown destination kind "planner"`},
		{url: "mysql://u:hunter2@h/db?bogus=%zz", err: "bad MySQL URL"},
	}
	for _, tt := range tests {
		tg, err := Parse(tt.url)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Parse(%q) error = %v, want %q without the password", tt.url, err, tt.err)
			}
			continue
		}
		if err != nil || tg.Driver != tt.driver || tg.DSN != tt.dsn || tg.Path != tt.path {
			t.Errorf("Parse(%q) = %+v, %v; want %q, %q, path %q", tt.url, tg, err, tt.driver, tt.dsn, tt.path)
		}
	}
	if _, err := Parse("oracle://x"); !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("oracle:// error %v is not ErrUnknownScheme", err)
	}
}
