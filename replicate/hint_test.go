package replicate

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorHints: a destination error says what follows from it — a full
// disk, a missing privilege — never the same hint for everything; a
// source's own error gets no destination hint.
func TestErrorHints(t *testing.T) {
	t.Parallel()
	src, _ := sourceDB(t, "CREATE TABLE T (Id INTEGER PRIMARY KEY, V TEXT)")
	for i := range 200 {
		mustExec(t, src, "INSERT INTO T VALUES (?, ?)", i, strings.Repeat("x", 4000))
	}
	hinted := func(t *testing.T, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v does not say %q", err, want)
		}
		if strings.Count(err.Error(), "; ") > 3 {
			t.Errorf("hint repeated: %v", err)
		}
	}
	t.Run("sqlite disk full", func(t *testing.T) {
		t.Parallel()
		dst, err := openDest(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "full.db")+"?_pragma=max_page_count(40)")
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		_, err = Run(context.Background(), src, dst, "REPLICATE T", Options{})
		hinted(t, err, "disk is full: free space")
	})
	t.Run("postgres permission", func(t *testing.T) {
		t.Parallel()
		admin := pgAdmin(t)
		s, role := "rt_"+randSuffix(), "rt_ro_"+randSuffix()
		for _, q := range []string{`CREATE SCHEMA "` + s + `"`, `CREATE ROLE "` + role + `" LOGIN`, `GRANT USAGE ON SCHEMA "` + s + `" TO "` + role + `"`} {
			mustExec(t, admin, q)
		}
		t.Cleanup(func() { admin.Exec(`DROP ROLE IF EXISTS "` + role + `"`) })
		pgSchema(t, admin, s)
		u := strings.Replace(withQuery(pgBaseURL(), "search_path", s), "postgres@", role+"@", 1)
		dst, err := openDest(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		_, err = Run(context.Background(), src, dst, "REPLICATE T", Options{})
		hinted(t, err, "permission denied: grant the database user")
	})
	t.Run("mysql permission", func(t *testing.T) {
		t.Parallel()
		admin := mysqlAdmin(t)
		db, user := "rt_"+randSuffix(), "rt_ro_"+randSuffix()
		for _, q := range []string{"CREATE DATABASE `" + db + "`", "CREATE USER '" + user + "'@'%'", "GRANT SELECT ON `" + db + "`.* TO '" + user + "'@'%'"} {
			mustExec(t, admin, q)
		}
		t.Cleanup(func() { admin.Exec("DROP USER IF EXISTS '" + user + "'@'%'") })
		mysqlDatabase(t, admin, db)
		cfg := mysqlBaseConfig(t)
		cfg.User, cfg.Passwd, cfg.DBName = user, "", db
		dst, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		_, err = Run(context.Background(), src, dst, "REPLICATE T", Options{})
		hinted(t, err, "permission denied: grant the database user")
	})
	t.Run("source error", func(t *testing.T) {
		t.Parallel()
		dst, _ := sqliteDest(t)
		res := run(t, src, dst, "REPLICATE W WITH Key='Id' SELECT Id FROM T WHERE Id IN (1,,2)", Options{})
		if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "syntax error") || strings.Contains(res[0].Err.Error(), "destination did not accept") {
			t.Fatalf("a source syntax error: %v", res[0].Err)
		}
	})
}
