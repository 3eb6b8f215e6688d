package driver

import (
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
