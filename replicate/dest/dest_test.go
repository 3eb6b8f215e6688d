package dest

import (
	"context"
	"database/sql"
	"errors"
	"github.com/plannersql/planner/internal/testkit"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plannersql/planner/replicate"
)

func scalar[T any](t *testing.T, db *sql.DB, q string) T {
	t.Helper()
	var v T
	if err := db.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// TestOpenSQLite opens each form of SQLite URL with its parameters.
func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for _, u := range []string{"sqlite:" + filepath.Join(dir, "a b#1.db"), filepath.Join(dir, "bare.sqlite"), "sqlite:" + filepath.Join(dir, "q%3F.db")} {
		db, err := Open(ctx, u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if mode := scalar[string](t, db, "PRAGMA journal_mode"); mode != "wal" {
			t.Errorf("%s: journal_mode %s, want wal", u, mode)
		}
		if bt := scalar[int](t, db, "PRAGMA busy_timeout"); bt != 5000 {
			t.Errorf("%s: busy_timeout %d", u, bt)
		}
		db.Close()
	}
	for _, f := range []string{"a b#1.db", "q?.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("file with a hostile name: %v", err)
		}
	}
	// A pragma from the URL overrides the default.
	db, err := Open(ctx, "sqlite:"+filepath.Join(dir, "p.db")+"?_pragma=busy_timeout(1234)")
	if err != nil {
		t.Fatal(err)
	}
	if bt := scalar[int](t, db, "PRAGMA busy_timeout"); bt != 1234 {
		t.Errorf("busy_timeout %d, want 1234", bt)
	}
	db.Close()
}

// TestOpenSQLiteReadOnly: mode=ro opens an existing file read-only, never
// creates one, and a write says the destination is read-only.
func TestOpenSQLiteReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	for _, mode := range []string{"ro", "rw"} {
		if _, err := Open(ctx, "sqlite:"+path+"?mode="+mode); err == nil || !strings.Contains(err.Error(), "does not exist, and mode="+mode+" does not create it") {
			t.Fatalf("mode=%s of a missing file: %v", mode, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files created: %v", entries)
	}
	db, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(ctx, "sqlite:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = ro.Exec("INSERT INTO t VALUES (1)")
	if err == nil {
		t.Fatal("a write through mode=ro succeeded")
	}
	src, err := sql.Open("sqlite", filepath.Join(dir, "src.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Exec("CREATE TABLE T (Id INTEGER PRIMARY KEY, V TEXT); INSERT INTO T VALUES (1, 'a')"); err != nil {
		t.Fatal(err)
	}
	_, err = replicate.Run(ctx, src, ro, "REPLICATE T", replicate.Options{})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("replicate into mode=ro: %v, want a read-only hint", err)
	}
	// The same once replicate has written the file: the run lock fails
	// first, said once.
	rw, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := replicate.Run(ctx, src, rw, "REPLICATE R SELECT * FROM T", replicate.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err = replicate.Run(ctx, src, ro, "REPLICATE R SELECT * FROM T", replicate.Options{})
	if err == nil || !strings.Contains(err.Error(), "read-only") || repeatsPart(err.Error()) {
		t.Fatalf("replicate into mode=ro: %v, want a read-only hint, each part said once", err)
	}
}

// repeatsPart reports whether a message says a part twice in a row
// ("take the run lock: take the run lock: ...").
func repeatsPart(msg string) bool {
	parts := strings.Split(msg, ": ")
	for i := 1; i < len(parts); i++ {
		if parts[i] == parts[i-1] {
			return true
		}
	}
	return false
}

// TestOpenErrors: each failure names its cause and says what to do, never
// the password, and no file is created with a parameter in its name.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	refused := testkit.RefusedPort(t)
	tests := []struct {
		url  string
		want []string
	}{
		{"sqlite:" + filepath.Join(dir, "nope", "x.db"), []string{"directory " + filepath.Join(dir, "nope") + " does not exist"}},
		{"sqlite:" + filepath.Join(dir, "x.db") + "?foo=bar", []string{"unknown parameter foo", "mode"}},
		{"oracle://u:hunter2@h/db", []string{"unknown destination kind", "postgres://", "mysql://"}},
		{"postgres://u:hunter2@127.0.0.1:" + refused + "/db?connect_timeout=3", []string{"nothing accepted the connection: start the database server"}},
		{"mysql://nobody:hunter2@127.0.0.1:" + refused + "/db?timeout=3s", []string{"nothing accepted the connection"}},
		{"sqlite:" + dir, []string{dir + " is a directory: name a file in it"}},
		// Parameters a driver does not know reach the server as settings.
		{"postgres://postgres:hunter2@127.0.0.1:5432/test?sslmode=disable&no_such_setting=1", []string{`"no_such_setting"`, "check the parameter's name and value in the URL"}},
		{"mysql://root@127.0.0.1:3306/test?no_such_setting=1", []string{"'no_such_setting'", "check the parameter's name and value in the URL"}},
	}
	for _, tt := range tests {
		_, err := Open(ctx, tt.url)
		if err == nil {
			t.Errorf("%s: opened", tt.url)
			continue
		}
		msg := err.Error()
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not say %q", tt.url, msg, w)
			}
		}
		if strings.Contains(msg, "hunter2") || strings.Count(msg, "replicate:") > 1 {
			t.Errorf("%s: error %q shows the password or repeats its prefix", tt.url, msg)
		}
		if strings.Contains(msg, "check the URL and that the database is running") {
			t.Errorf("%s: generic hint in %q", tt.url, msg)
		}
	}
	if _, err := Open(ctx, "oracle://x"); !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("oracle:// is not ErrUnknownScheme: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files created: %v", entries)
	}
}

// TestOpenHistoryMissing: the history of a SQLite file that does not exist
// is empty, and reading it creates nothing.
func TestOpenHistoryMissing(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.db")
	for _, s := range []string{"", "prod"} {
		h, err := OpenHistory(context.Background(), "sqlite:"+missing, replicate.HistoryOptions{Schema: s})
		if err != nil {
			t.Fatal(err)
		}
		if l, err := h.Runs(context.Background(), replicate.RunFilter{}); err != nil || l.Total != 0 {
			t.Fatalf("missing file: %+v, %v", l, err)
		}
		if _, err := h.Run(context.Background(), "x"); !errors.Is(err, replicate.ErrRunNotFound) {
			t.Fatalf("Run of a missing file: %v", err)
		}
		h.Close()
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenHistory created %s", missing)
	}
}
