package driver

import (
	"errors"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestReferenceKeyIsIdentity checks that TaskReferences rows whose key
// another client wrote in its own way (more escapes than Planner's, or two
// keys for one URL) are read by their decoded URL, and that UPDATE and
// DELETE send exactly the key the service holds.
func TestReferenceKeyIsIdentity(t *testing.T) {
	e := newEnv(t, nil)
	task := e.srv.TaskIDs(e.plans()[0])[0]
	odd := "https%3A//contoso%2Esharepoint%2Ecom/Shared%20Documents/a%2Exlsx"
	canonical := "https%3A//contoso%2Esharepoint%2Ecom/Shared Documents/a%2Exlsx"
	for key, alias := range map[string]string{odd: "theirs", canonical: "ours"} {
		if err := e.srv.SeedReference(task, key, graphtest.Reference{Alias: alias}); err != nil {
			t.Fatal(err)
		}
	}
	urls := e.query("SELECT Url, Alias FROM TaskReferences WHERE TaskId = ? AND Alias IN ('theirs', 'ours') ORDER BY Alias", task)
	want := [][]string{{"https://contoso.sharepoint.com/Shared Documents/a.xlsx", "ours"}, {"https://contoso.sharepoint.com/Shared%20Documents/a.xlsx", "theirs"}}
	if len(urls) != 2 || urls[0][0] != want[0][0] || urls[1][0] != want[1][0] {
		t.Fatalf("references %v, want %v", urls, want)
	}
	e.rec.take()
	e.exec("UPDATE TaskReferences SET Alias = 'renamed' WHERE TaskId = ? AND Alias = 'theirs'", task)
	e.exec("DELETE FROM TaskReferences WHERE TaskId = ? AND Alias = 'ours'", task)
	var w []recorded
	for _, r := range e.rec.take() {
		if r.method == "PATCH" {
			w = append(w, r)
		}
	}
	if len(w) != 2 || !strings.Contains(w[0].body, `"`+odd+`"`) || !strings.Contains(w[1].body, `"`+canonical+`"`) {
		t.Fatalf("writes %+v: want the PATCHes to name the keys %q then %q", w, odd, canonical)
	}
	got := e.query("SELECT Url, Alias FROM TaskReferences WHERE TaskId = ? AND Alias IN ('renamed', 'theirs', 'ours')", task)
	if len(got) != 1 || got[0][1] != "renamed" || got[0][0] != want[1][0] {
		t.Errorf("after the writes: %v, want only the renamed reference of the other client's key", got)
	}
}

// TestFidelity01ReferenceUrlAlreadyHeld: an INSERT of a Url that a row
// already shows, under a key another client encoded its own way (nothing
// encoded, %20, lower-case escapes), is that row: a plain INSERT fails as
// UNIQUE does, OR IGNORE skips it, OR REPLACE overwrites it under its key;
// no second reference to the same URL is made.
func TestFidelity01ReferenceUrlAlreadyHeld(t *testing.T) {
	e := newEnv(t, nil)
	task := e.srv.TaskIDs(e.plans()[0])[1]
	cases := []struct{ key, url string }{
		{"https://contoso.com/raw", "https://contoso.com/raw"},
		{"https%3A//contoso%2Ecom/sp%20ace", "https://contoso.com/sp%20ace"},
		{"https%3a//contoso%2ecom/lower", "https://contoso.com/lower"},
	}
	for _, c := range cases {
		if err := e.srv.SeedReference(task, c.key, graphtest.Reference{Alias: "seeded"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		e.rec.take()
		if _, err := e.db.Exec("INSERT INTO TaskReferences (TaskId, Url, Alias) VALUES (?, ?, 'new')", task, c.url); !errors.Is(err, ErrDuplicateKey) {
			t.Errorf("INSERT of %s: %v, want ErrDuplicateKey", c.url, err)
		}
		res, err := e.db.Exec("INSERT OR IGNORE INTO TaskReferences (TaskId, Url, Alias) VALUES (?, ?, 'new')", task, c.url)
		if n, _ := res.RowsAffected(); err != nil || n != 0 {
			t.Errorf("INSERT OR IGNORE of %s: %d rows, %v", c.url, n, err)
		}
		for _, w := range e.rec.take() {
			if w.method == "PATCH" {
				t.Errorf("INSERT of %s sent %s", c.url, w.body)
			}
		}
		e.exec("INSERT OR REPLACE INTO TaskReferences (TaskId, Url, Alias) VALUES (?, ?, 'replaced')", task, c.url)
		rows := e.query("SELECT ReferenceKey, Alias FROM TaskReferences WHERE TaskId = ? AND Url = ?", task, c.url)
		if len(rows) != 1 || rows[0][0] != c.key || rows[0][1] != "replaced" {
			t.Errorf("after INSERT OR REPLACE of %s: %v, want the one row under %s, replaced", c.url, rows, c.key)
		}
	}
}
