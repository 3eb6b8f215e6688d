package driver

import (
	"errors"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestGUIDFormsAddressOneObject: a GUID given in another of its forms —
// upper case (as SQL Server prints GUIDs), 32 digits, in braces or
// parentheses — names the same object as Graph's lower-case 8-4-4-4-12
// form, wherever it is a key the driver compares or sends: a checklist
// ItemId on INSERT (duplicate, OR REPLACE, OR IGNORE, a new item), a
// plan's GroupId or ContainerId on INSERT, and the GroupId connection
// property. What is sent and stored is Graph's form; an item another
// client keyed in upper case keeps its key and is addressed by any form.
func TestGUIDFormsAddressOneObject(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	task := e.srv.TaskIDs(plan)[0]
	const id = "8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c5d"
	forms := []string{"8D5B6A4E-2F1C-4A7B-9E3D-0C1F2A3B4C5D", "{8d5b6a4e-2f1c-4a7b-9e3d-0c1f2a3b4c5d}",
		"(8D5B6A4E-2F1C-4A7B-9E3D-0C1F2A3B4C5D)", "8d5b6a4e2f1c4a7b9e3d0c1f2a3b4c5d"}
	items := func() string { return e.one("SELECT count(*) FROM TaskChecklistItems WHERE TaskId = ?", task) }

	// A new item given in braces is stored under Graph's form.
	e.exec("INSERT INTO TaskChecklistItems (TaskId, ItemId, Title) VALUES (?, ?, 'mine')", task, forms[1])
	if got := e.one("SELECT ItemId FROM TaskChecklistItems WHERE TaskId = ? AND Title = 'mine'", task); got != id {
		t.Fatalf("ItemId %q was stored as %q, want %q", forms[1], got, id)
	}
	n := items()
	for _, f := range forms {
		_, err := e.db.Exec("INSERT INTO TaskChecklistItems (TaskId, ItemId, Title) VALUES (?, ?, 'again')", task, f)
		if !errors.Is(err, ErrDuplicateKey) {
			t.Errorf("INSERT of ItemId %q, an existing item: %v, want ErrDuplicateKey", f, err)
		}
		res := e.exec("INSERT OR IGNORE INTO TaskChecklistItems (TaskId, ItemId, Title) VALUES (?, ?, 'ignored')", task, f)
		if k, _ := res.RowsAffected(); k != 0 {
			t.Errorf("INSERT OR IGNORE of ItemId %q: %d rows", f, k)
		}
		e.exec("INSERT OR REPLACE INTO TaskChecklistItems (TaskId, ItemId, Title) VALUES (?, ?, ?)", task, f, "replaced "+f)
		if got := e.one("SELECT Title FROM TaskChecklistItems WHERE TaskId = ? AND ItemId = ?", task, id); got != "replaced "+f {
			t.Errorf("INSERT OR REPLACE of ItemId %q: the item's title is %q", f, got)
		}
		if got := items(); got != n {
			t.Errorf("ItemId %q: %s items, want %s (a separate item was made)", f, got, n)
		}
	}

	// An item another client keyed in upper case keeps its key, and every
	// form addresses it.
	const theirs = "0F9E8D7C-6B5A-4938-8271-605F4E3D2C1B"
	if err := e.srv.SeedChecklistItem(task, theirs, graphtest.ChecklistItem{Title: "theirs"}); err != nil {
		t.Fatal(err)
	}
	n = items()
	for _, f := range []string{strings.ToLower(theirs), "{" + theirs + "}", strings.ReplaceAll(strings.ToLower(theirs), "-", "")} {
		if _, err := e.db.Exec("INSERT INTO TaskChecklistItems (TaskId, ItemId, Title) VALUES (?, ?, 'again')", task, f); !errors.Is(err, ErrDuplicateKey) {
			t.Errorf("INSERT of ItemId %q, the seeded item: %v, want ErrDuplicateKey", f, err)
		}
		e.exec("INSERT OR REPLACE INTO TaskChecklistItems (TaskId, ItemId, Title) VALUES (?, ?, ?)", task, f, "theirs via "+f)
		if got := e.one("SELECT Title FROM TaskChecklistItems WHERE TaskId = ? AND ItemId = ?", task, theirs); got != "theirs via "+f {
			t.Errorf("INSERT OR REPLACE of ItemId %q: the seeded item's title is %q", f, got)
		}
	}
	if got := items(); got != n {
		t.Errorf("%s items after addressing the seeded one, want %s", got, n)
	}

	// A plan created in a group named in another form is in that group.
	group := e.one("SELECT GroupId FROM Plans WHERE PlanId = ?", plan)
	e.exec("INSERT INTO Plans (GroupId, Title) VALUES (?, 'braces')", "{"+strings.ToUpper(group)+"}")
	e.exec("INSERT INTO Plans (ContainerId, ContainerType, Title) VALUES (?, 'group', 'container')", strings.ToUpper(group))
	for _, title := range []string{"braces", "container"} {
		if got := e.one("SELECT GroupId || ' ' || ContainerId FROM Plans WHERE Title = ?", title); got != group+" "+group {
			t.Errorf("plan %q: GroupId and ContainerId %q, want %s", title, got, group)
		}
	}

	// The GroupId property in another form scopes scans and lookups to the
	// group.
	named := envOn(t, e.srv, func(c *Config) { c.GroupIDs = []string{"{" + strings.ToUpper(group) + "}"} })
	if got, want := named.one("SELECT count(*) FROM Plans"), e.one("SELECT count(*) FROM Plans WHERE GroupId = ?", group); got != want {
		t.Errorf("GroupId in braces: %s plans, want the group's %s", got, want)
	}
	if got := named.one("SELECT count(*) FROM Plans WHERE PlanId = ?", plan); got != "1" {
		t.Errorf("GroupId in braces: the group's plan by PlanId: %s rows", got)
	}
	if got := named.one("SELECT count(*) FROM Groups WHERE GroupId = ?", group); got != "1" {
		t.Errorf("GroupId in braces: the group by GroupId: %s rows", got)
	}
	if got := named.cn.cfg.FormatDSN(); !strings.Contains(got, "GroupId="+group) {
		t.Errorf("FormatDSN %q does not show the group in Graph's form", got)
	}

	// In WHERE, SQL compares text: another form of an id matches no row,
	// as in a scan, and a pushdown sends nothing for it.
	me := e.srv.Me().ID
	for _, q := range []struct{ sql, arg string }{
		{"SELECT * FROM TaskAssignments WHERE UserId = ?", strings.ToUpper(me)},
		{"SELECT * FROM TaskAssignments WHERE UserId = ?", "{" + me + "}"},
		{"SELECT * FROM Plans WHERE GroupId = ?", strings.ToUpper(group)},
		{"SELECT * FROM PlanDetails WHERE GroupId = ?", "{" + group + "}"},
		{"SELECT * FROM Groups WHERE GroupId = ?", strings.ToUpper(group)},
	} {
		total, _ := e.counted(func() {
			if rows := e.query(q.sql, q.arg); len(rows) != 0 {
				t.Errorf("%s with %q: %d rows", q.sql, q.arg, len(rows))
			}
		})
		if total != 0 {
			t.Errorf("%s with %q: %d requests", q.sql, q.arg, total)
		}
	}
}
