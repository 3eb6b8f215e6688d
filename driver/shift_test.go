package driver

import (
	"database/sql"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
	"github.com/plannersql/planner/schema"
)

// rowsByName runs q and returns each row as a map from column name to value
// text ("NULL" for NULL), so that rows compare whatever the column order.
func rowsByName(t *testing.T, db *sql.DB, q string, args ...any) []map[string]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = "NULL"
			if vals[i].Valid {
				m[c] = vals[i].String
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// TestColumnOrderCannotShiftData declares every table with its columns in a
// shuffled order and checks that each column still holds its own data, read
// and written (RETURNING included): a value travels with its column's
// binding to the Graph object, never by position.
func TestColumnOrderCannotShiftData(t *testing.T) {
	srv := graphtest.NewServer(t, graphtest.WithDemoTenant())
	normal := newEnvOn(t, srv)
	rng := rand.New(rand.NewPCG(11, 4))
	var shuffled []tableDecl
	for _, d := range tables {
		n := len(d.schema().Columns)
		perm := rng.Perm(n)
		for n > 1 && slices.IsSorted(perm) {
			perm = rng.Perm(n)
		}
		shuffled = append(shuffled, d.permuted(perm))
	}
	cfg := NewConfig()
	cfg.GraphURL, cfg.InitiateOAuth, cfg.OAuthAccessToken = srv.GraphURL(), OAuthOff, srv.Token()
	cn, err := NewConnector(cfg, func(o *connectorOptions) { o.decls = shuffled })
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(cn)
	t.Cleanup(func() { db.Close() })

	for i, tb := range schema.All() {
		got := shuffled[i].schema()
		if slices.Equal(got.ColumnNames(), tb.ColumnNames()) && len(tb.Columns) > 1 {
			t.Fatalf("%s: the columns were not shuffled", tb.Name)
		}
		t.Run(tb.Name, func(t *testing.T) {
			q := "SELECT * FROM " + tb.Name + " ORDER BY " + strings.Join(tb.Key, ", ")
			want := rowsByName(t, normal.db, q)
			if len(want) == 0 {
				t.Fatalf("no rows in %s of the demo tenant", tb.Name)
			}
			if got := rowsByName(t, db, q); !reflect.DeepEqual(got, want) {
				t.Errorf("shuffled columns read other data:\n got %v\nwant %v", got[0], want[0])
			}
		})
	}

	// Writes through the shuffled declarations land in the right fields.
	plan := normal.plans()[0]
	var task string
	ret := rowsByName(t, db, `INSERT INTO Tasks (Title, PlanId, Priority, DueDateTime, OrderHint)
		VALUES ('shift', ?, 7, '2026-12-01T17:00:00Z', ' !') RETURNING TaskId, Priority, DueDateTime, Title, PlanId`, plan)
	if len(ret) != 1 {
		t.Fatalf("RETURNING gave %v", ret)
	}
	task = ret[0]["TaskId"]
	if r := ret[0]; r["Title"] != "shift" || r["PlanId"] != plan || r["Priority"] != "7" || !strings.HasPrefix(r["DueDateTime"], "2026-12-01") {
		t.Errorf("RETURNING through shuffled columns: %v", r)
	}
	if _, err := db.Exec("UPDATE Tasks SET PercentComplete = 50, StartDateTime = '2026-11-01T09:00:00Z' WHERE TaskId = ?", task); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO TaskChecklistItems (Title, TaskId, IsChecked) VALUES ('item', ?, 1)", task); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE TaskChecklistItems SET OrderHint = ' !', IsChecked = 0 WHERE TaskId = ?", task); err != nil {
		t.Fatal(err)
	}
	got := rowsByName(t, normal.db, `SELECT t.Title, t.Priority, t.PercentComplete, t.StartDateTime, t.DueDateTime,
		c.Title AS Item, c.IsChecked FROM Tasks t JOIN TaskChecklistItems c USING (TaskId) WHERE t.TaskId = ?`, task)
	want := []map[string]string{{"Title": "shift", "Priority": "7", "PercentComplete": "50",
		"StartDateTime": "2026-11-01T09:00:00Z", "DueDateTime": "2026-12-01T17:00:00Z", "Item": "item", "IsChecked": "0"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("written through shuffled columns, read back:\n got %v\nwant %v", got, want)
	}
}
