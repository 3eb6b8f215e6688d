package driver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/graph/graphtest"
)

// patchKeys returns the top-level keys of a recorded JSON body.
func patchKeys(t *testing.T, body string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestTaskWrites(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	bucket := e.srv.BucketIDs(plan)[0]

	// INSERT ... RETURNING gives the id Graph generated.
	var id, etag string
	err := e.db.QueryRow(`INSERT INTO Tasks (PlanId, BucketId, Title, DueDateTime, Priority, AppliedCategories)
		VALUES (?, ?, 'Write the report', '2026-12-01T17:00:00Z', 3, '{"category2": true}') RETURNING TaskId, ETag`,
		plan, bucket).Scan(&id, &etag)
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 28 || etag == "" {
		t.Fatalf("RETURNING gave id %q etag %q", id, etag)
	}
	w := e.rec.take()
	if len(w) != 1 || w[0].method != "POST" || w[0].ifMatch != "" {
		t.Fatalf("INSERT sent %+v, want one POST without If-Match", w)
	}
	got := e.query("SELECT Title, BucketId, DueDateTime, Priority, AppliedCategories FROM Tasks WHERE TaskId = ?", id)
	want := [][]string{{"Write the report", bucket, "2026-12-01 17:00:00 +0000 UTC", "3", `{"category2":true}`}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created task %v, want %v", got, want)
	}

	// UPDATE sends only what changed, with the ETag read.
	read := e.one("SELECT ETag FROM Tasks WHERE TaskId = ?", id)
	e.exec("UPDATE Tasks SET PercentComplete = 50, Title = Title, Priority = 3 WHERE TaskId = ?", id)
	w = e.rec.take()
	if len(w) != 1 || w[0].method != "PATCH" || w[0].ifMatch != read {
		t.Fatalf("UPDATE sent %+v, want one PATCH with If-Match %s", w, read)
	}
	if keys := patchKeys(t, w[0].body); !reflect.DeepEqual(keys, []string{"percentComplete"}) {
		t.Errorf("PATCH body keys %v, want [percentComplete]", keys)
	}

	// An UPDATE that changes nothing sends nothing.
	e.exec("UPDATE Tasks SET Title = Title WHERE TaskId = ?", id)
	if w := e.rec.take(); len(w) != 0 {
		t.Errorf("a no-op UPDATE sent %+v", w)
	}

	// Assign through the JSON column, then unassign through TaskAssignments.
	user := e.srv.Users()[1].ID
	e.exec(`UPDATE Tasks SET Assignments = json_object(?, json_object()) , DueDateTime = NULL WHERE TaskId = ?`, user, id)
	w = e.rec.take()
	if keys := patchKeys(t, w[0].body); !reflect.DeepEqual(keys, []string{"assignments", "dueDateTime"}) {
		t.Errorf("PATCH keys %v", keys)
	}
	if !strings.Contains(w[0].body, `"dueDateTime":null`) || !strings.Contains(w[0].body, "#microsoft.graph.plannerAssignment") {
		t.Errorf("PATCH body %s", w[0].body)
	}
	if n := e.one("SELECT count(*) FROM TaskAssignments WHERE TaskId = ? AND UserId = ?", id, user); n != "1" {
		t.Errorf("assignment rows = %s", n)
	}
	e.exec("DELETE FROM TaskAssignments WHERE TaskId = ? AND UserId = ?", id, user)
	if n := e.one("SELECT count(*) FROM TaskAssignments WHERE TaskId = ?", id); n != "0" {
		t.Errorf("after unassign: %s rows", n)
	}
	e.rec.take()
	e.exec("INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)", id, user)
	if n := e.one("SELECT AssignedByUserId IS NOT NULL FROM TaskAssignments WHERE TaskId = ? AND UserId = ?", id, user); n != "1" {
		t.Errorf("assigned row: %s", n)
	}

	// Labels through TaskCategories.
	e.exec("INSERT INTO TaskCategories (TaskId, Category) VALUES (?, 'category5')", id)
	e.exec("DELETE FROM TaskCategories WHERE TaskId = ? AND Category = 'category2'", id)
	if got := e.one("SELECT AppliedCategories FROM Tasks WHERE TaskId = ?", id); got != `{"category5":true}` {
		t.Errorf("labels %s", got)
	}

	// DELETE sends the ETag.
	read = e.one("SELECT ETag FROM Tasks WHERE TaskId = ?", id)
	e.rec.take()
	res := e.exec("DELETE FROM Tasks WHERE TaskId = ?", id)
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("rows affected %d", n)
	}
	w = e.rec.take()
	if len(w) != 1 || w[0].method != "DELETE" || w[0].ifMatch != read {
		t.Errorf("DELETE sent %+v", w)
	}
	if n := e.one("SELECT count(*) FROM Tasks WHERE TaskId = ?", id); n != "0" {
		t.Errorf("task still there")
	}
}

func TestWriteValidation(t *testing.T) {
	e := newEnv(t, nil)
	task := e.srv.TaskIDs(e.plans()[0])[0]
	assigned := e.one("SELECT TaskId FROM TaskAssignments LIMIT 1")
	listed := e.one("SELECT TaskId FROM TaskChecklistItems LIMIT 1")
	e.rec.take()
	tests := []struct {
		q    string
		args []any
		want string
	}{
		{"INSERT INTO Tasks (Title) VALUES ('x')", nil, "column PlanId is required"},
		{"INSERT INTO Tasks (PlanId, Title, CreatedDateTime) VALUES ('p', 'x', '2026-01-01T00:00:00Z')", nil, "column CreatedDateTime is read-only"},
		{"UPDATE Tasks SET CreatedDateTime = '2020-01-01T00:00:00Z' WHERE TaskId = ?", []any{task}, "column CreatedDateTime cannot be changed: Graph sets it"},
		{"UPDATE Tasks SET TaskId = 'x' WHERE TaskId = ?", []any{task}, "column TaskId cannot be changed: it is the row's key (TaskId); DELETE the row and INSERT one"},
		{"UPDATE TaskChecklistItems SET ItemId = 'x' WHERE TaskId = ?", []any{listed}, "column ItemId cannot be changed: it is part of the row's key (TaskId, ItemId); DELETE the row and INSERT one"},
		{"UPDATE Tasks SET PlanId = 'x' WHERE TaskId = ?", []any{task}, "column PlanId cannot be changed: only INSERT sets it"},
		{"UPDATE Tasks SET Title = NULL WHERE TaskId = ?", []any{task}, "column Title cannot be NULL"},
		{"UPDATE Tasks SET PercentComplete = 'half' WHERE TaskId = ?", []any{task}, "column PercentComplete wants an integer"},
		{"UPDATE Tasks SET DueDateTime = 'tomorrow' WHERE TaskId = ?", []any{task}, "column DueDateTime wants RFC 3339"},
		{"INSERT INTO Groups (GroupId) VALUES ('g')", nil, "Groups: the table is read-only"},
		{"DELETE FROM sys_tables", nil, "sys_tables: the table is read-only"},
		{"UPDATE TaskAssignments SET OrderHint = 'x' WHERE TaskId = ?", []any{assigned}, "not supported; the table accepts INSERT, DELETE"},
		{"INSERT INTO TaskCategories (TaskId, Category) VALUES (?, 'category99')", []any{task}, "use category1 … category25"},
		{"INSERT INTO TaskReferences (TaskId, Url) VALUES (?, 'ftp://x')", []any{task}, "Url must be an http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			_, err := e.db.Exec(tt.q, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	var w []recorded
	for _, r := range e.rec.take() {
		if !(strings.HasSuffix(r.path, "/$batch") && !strings.Contains(r.body, `"method":"P`) && !strings.Contains(r.body, `"method":"DELETE"`)) {
			w = append(w, r) // not a $batch of reads
		}
	}
	if len(w) != 0 {
		t.Errorf("refused statements sent %d writes: %v", len(w), w)
	}
}

func TestConflictIsReported(t *testing.T) {
	e := newEnv(t, nil)
	task := e.srv.TaskIDs(e.plans()[0])[0]
	// A second client changes the task while the UPDATE is between its read
	// and its write.
	other := newEnvOn(t, e.srv)
	e.rec.setBefore(func(r *http.Request) {
		if r.Method == "PATCH" {
			e.rec.setBefore(nil)
			other.exec("UPDATE Tasks SET Title = 'theirs' WHERE TaskId = ?", task)
		}
	})
	_, err := e.db.Exec("UPDATE Tasks SET Title = 'mine' WHERE TaskId = ?", task)
	if !errors.Is(err, ErrRowChanged) {
		t.Fatalf("err = %v, want ErrRowChanged", err)
	}
	// Planner answers 409 when the change conflicts with a newer one (the
	// same property changed since the etag was read).
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.StatusCode != 409 {
		t.Errorf("err %v does not carry the 409", err)
	}
	if !strings.Contains(err.Error(), task) {
		t.Errorf("err %q does not name the row", err)
	}
	if got := e.one("SELECT Title FROM Tasks WHERE TaskId = ?", task); got != "theirs" {
		t.Errorf("title %q, want the other client's %q: the stale write must not be applied", got, "theirs")
	}
}

func TestChildTableWrites(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	task := e.srv.TaskIDs(plan)[0]

	// Checklist: three inserts, one UPDATE of all (one details object, ETags chained), one DELETE.
	before, _ := stringsAtoi(e.one("SELECT count(*) FROM TaskChecklistItems WHERE TaskId = ?", task))
	for _, title := range []string{"one", "two", "three"} {
		e.exec("INSERT INTO TaskChecklistItems (TaskId, Title) VALUES (?, ?)", task, title)
	}
	e.exec("UPDATE TaskChecklistItems SET IsChecked = 1 WHERE TaskId = ? AND Title IN ('one', 'two', 'three')", task)
	if got := e.one("SELECT count(*) FROM TaskChecklistItems WHERE TaskId = ? AND IsChecked AND Title IN ('one','two','three')", task); got != "3" {
		t.Errorf("checked items = %s", got)
	}
	e.exec("DELETE FROM TaskChecklistItems WHERE TaskId = ? AND Title = 'two'", task)
	after, _ := stringsAtoi(e.one("SELECT count(*) FROM TaskChecklistItems WHERE TaskId = ?", task))
	if after != before+2 {
		t.Errorf("items %d → %d, want +2", before, after)
	}
	if got := e.one("SELECT ChecklistItemCount FROM Tasks WHERE TaskId = ?", task); got != itoa(after) {
		t.Errorf("ChecklistItemCount = %s, want %d", got, after)
	}

	// References with a URL that needs key encoding.
	u := "https://contoso.sharepoint.com/sites/a.b/Shared Documents/plan#v1.2@x:y%20z"
	e.exec("INSERT INTO TaskReferences (TaskId, Url, Alias, Type) VALUES (?, ?, 'Plan', 'Word')", task, u)
	if got := e.query("SELECT Alias, Type FROM TaskReferences WHERE TaskId = ? AND Url = ?", task, u); !reflect.DeepEqual(got, [][]string{{"Plan", "Word"}}) {
		t.Errorf("reference %v", got)
	}
	e.exec("UPDATE TaskReferences SET Alias = 'The plan' WHERE TaskId = ? AND Url = ?", task, u)
	e.exec("DELETE FROM TaskReferences WHERE TaskId = ? AND Url = ?", task, u)
	if n := e.one("SELECT count(*) FROM TaskReferences WHERE TaskId = ? AND Url = ?", task, u); n != "0" {
		t.Errorf("reference not deleted")
	}

	// Details.
	e.exec("UPDATE TaskDetails SET Description = 'Line one\nLine two', PreviewType = 'description' WHERE TaskId = ?", task)
	if got := e.query("SELECT d.Description, t.HasDescription FROM TaskDetails d JOIN Tasks t USING (TaskId) WHERE d.TaskId = ?", task); !reflect.DeepEqual(got, [][]string{{"Line one\nLine two", "1"}}) {
		t.Errorf("details %v", got)
	}

	// Buckets, plans, plan labels.
	var bucket string
	if err := e.db.QueryRow("INSERT INTO Buckets (PlanId, Name) VALUES (?, 'Later') RETURNING BucketId", plan).Scan(&bucket); err != nil {
		t.Fatal(err)
	}
	e.exec("UPDATE Buckets SET Name = 'Much later' WHERE BucketId = ?", bucket)
	e.exec("UPDATE Tasks SET BucketId = ? WHERE TaskId = ?", bucket, task)
	if got := e.one("SELECT b.Name FROM Tasks t JOIN Buckets b ON b.BucketId = t.BucketId WHERE t.TaskId = ?", task); got != "Much later" {
		t.Errorf("moved task's bucket = %s", got)
	}
	e.exec("UPDATE PlanCategories SET Name = 'Blocked' WHERE PlanId = ? AND Category = (SELECT min(Category) FROM PlanCategories WHERE PlanId = ?)", plan, plan)
	e.exec("INSERT INTO PlanCategories (PlanId, Category, Name) VALUES (?, 'category25', 'Last')", plan)
	if got := e.one("SELECT json_extract(CategoryDescriptions, '$.category25') FROM PlanDetails WHERE PlanId = ?", plan); got != "Last" {
		t.Errorf("category25 = %s", got)
	}
	e.exec("DELETE FROM PlanCategories WHERE PlanId = ? AND Category = 'category25'", plan)
	group := e.one("SELECT GroupId FROM Plans WHERE PlanId = ?", plan)
	var newPlan string
	if err := e.db.QueryRow("INSERT INTO Plans (Title, GroupId) VALUES ('Launch', ?) RETURNING PlanId", group).Scan(&newPlan); err != nil {
		t.Fatal(err)
	}
	e.exec("UPDATE Plans SET Title = 'Launch 2' WHERE PlanId = ?", newPlan)
	e.exec("DELETE FROM Buckets WHERE BucketId = ?", bucket)
	e.exec("DELETE FROM Plans WHERE PlanId = ?", newPlan)
	if n := e.one("SELECT count(*) FROM Plans WHERE PlanId = ?", newPlan); n != "0" {
		t.Errorf("plan not deleted")
	}
}

func TestTransactions(t *testing.T) {
	e := newEnv(t, nil)
	task := e.srv.TaskIDs(e.plans()[0])[0]
	ctx := context.Background()

	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE Tasks SET Priority = 1 WHERE TaskId = ?", task); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := tx.QueryRow("INSERT INTO Buckets (PlanId, Name) VALUES ((SELECT PlanId FROM Tasks WHERE TaskId = ?), 'tx') RETURNING BucketId", task).Scan(&id); err != nil {
		t.Fatal(err)
	}
	err = tx.Rollback()
	if !errors.Is(err, ErrRollbackAfterWrite) || !strings.Contains(err.Error(), "2 write(s)") {
		t.Errorf("Rollback after writes = %v", err)
	}
	if got := e.one("SELECT Priority FROM Tasks WHERE TaskId = ?", task); got != "1" {
		t.Errorf("the write did not stand: priority %s", got)
	}

	tx, _ = e.db.BeginTx(ctx, nil)
	tx.QueryRow("SELECT count(*) FROM Tasks").Scan(new(int))
	if err := tx.Rollback(); err != nil {
		t.Errorf("read-only rollback: %v", err)
	}

	// A read-only transaction refuses writes before anything is sent.
	e.rec.take()
	tx, err = e.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE Tasks SET Title = 'ro' WHERE TaskId = ?", task); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("UPDATE in a read-only transaction: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Errorf("rollback of the read-only transaction: %v", err)
	}
	if w := e.rec.take(); len(w) != 0 {
		t.Errorf("a read-only transaction sent %d writes", len(w))
	}
	if _, err := e.db.Exec("UPDATE Tasks SET Title = 'after' WHERE TaskId = ?", task); err != nil {
		t.Errorf("UPDATE after the read-only transaction ended: %v", err)
	}

	// LastInsertID on a pinned connection.
	c, _ := e.db.Conn(ctx)
	defer c.Close()
	if _, err := c.ExecContext(ctx, "INSERT INTO Buckets (PlanId, Name) VALUES (?, 'pinned')", e.plans()[0]); err != nil {
		t.Fatal(err)
	}
	last, err := LastInsertID(ctx, c)
	if err != nil || len(last) != 28 {
		t.Errorf("LastInsertID = %q, %v", last, err)
	}
}

// newEnvOn opens a second planner DB on an existing emulator.
func newEnvOn(t *testing.T, srv *graphtest.Server) *env {
	cfg := NewConfig()
	cfg.GraphURL = srv.GraphURL()
	cfg.InitiateOAuth = OAuthOff
	cfg.OAuthAccessToken = srv.Token()
	cn, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(cn)
	t.Cleanup(func() { db.Close() })
	return &env{t: t, srv: srv, cn: cn, db: db}
}

// TestInsertNamingMissingObject: an INSERT naming a plan, task or group that
// does not exist (Graph answers 404) says that the object it names is
// missing and which columns to check — not that "the row no longer exists",
// which is what a 404 means to an UPDATE or DELETE.
func TestInsertNamingMissingObject(t *testing.T) {
	e := newEnv(t, nil)
	missing := "Xq0missingPlannerId000000000" // 28 characters, the form of a Planner id
	me := e.srv.Me().ID
	tests := []struct {
		q    string
		args []any
		cols []string
	}{
		{"INSERT INTO PlanSharedWith (PlanId, UserId) VALUES (?, ?)", []any{missing, me}, []string{"PlanId=" + missing}},
		{"INSERT INTO TaskChecklistItems (TaskId, Title) VALUES (?, 'x')", []any{missing}, []string{"TaskId=" + missing}},
		{"INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)", []any{missing, me}, []string{"TaskId=" + missing}},
		{"INSERT INTO Plans (Title, GroupId) VALUES ('x', '11111111-2222-3333-4444-555555555555')", nil, []string{"GroupId=11111111-2222-3333-4444-555555555555"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			_, err := e.db.Exec(tt.q, tt.args...)
			var ge *graph.Error
			if !errors.As(err, &ge) || ge.StatusCode != 404 {
				t.Fatalf("error %v, want Graph's 404", err)
			}
			if errors.Is(err, ErrRowGone) || strings.Contains(err.Error(), "no longer exists") {
				t.Errorf("error %q says the row is gone", err)
			}
			for _, w := range append([]string{"does not exist", "check"}, tt.cols...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
