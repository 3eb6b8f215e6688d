package driver

import (
	"testing"
)

// TestRowidsAreStable: a row has one rowid in every scan of a statement, so
// that SQLite's MULTI-INDEX OR, which drops from the second scan the rowids
// the first returned, writes each row once: an UPDATE or DELETE whose WHERE
// is an OR of two pushed-down constraints matching one row counts it once
// and sends one request for it. (The reads — RIGHT and FULL JOIN, OR — are
// in joinQueries.)
func TestRowidsAreStable(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	task := e.srv.TaskIDs(plan)[0]
	bucket := e.one("SELECT BucketId FROM Tasks WHERE TaskId = ?", task)
	inBucket := e.one("SELECT count(*) FROM Tasks WHERE BucketId = ?", bucket)
	cases := []struct {
		name, sql string
		args      []any
		rows      string
	}{
		{"update tasks", "UPDATE Tasks SET Priority = 3 WHERE TaskId = ? OR BucketId = ?", []any{task, bucket}, inBucket},
		{"delete labels", "DELETE FROM TaskCategories WHERE TaskId = ? OR BucketId = ?", []any{task, bucket},
			e.one("SELECT count(*) FROM TaskCategories WHERE BucketId = ?", bucket)},
	}
	for _, tc := range cases {
		e.rec.take()
		res, err := e.db.Exec(tc.sql, tc.args...)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if n, _ := res.RowsAffected(); itoa(int(n)) != tc.rows {
			t.Errorf("%s: %d rows affected, want %s", tc.name, n, tc.rows)
		}
		patched := map[string]int{}
		for _, w := range e.rec.take() {
			if w.method == "PATCH" {
				patched[w.path]++
			}
		}
		for p, n := range patched {
			if n > 1 {
				t.Errorf("%s: %d PATCH requests to %s, want 1", tc.name, n, p)
			}
		}
	}
}
