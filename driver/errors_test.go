package driver

import (
	"database/sql"
	"strings"
	"testing"
)

// TestUserErrors checks that the mistakes users make give errors that say
// what is wrong and what to do.
func TestUserErrors(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	cases := []struct {
		name  string
		query string
		args  []any
		want  []string // substrings of the error
	}{
		{"unknown table", "SELECT * FROM Taskz", nil, []string{"no such table", "Taskz", "SHOW TABLES"}},
		{"unknown column", "SELECT Titel FROM Tasks", nil, []string{"no such column", "Titel", "DESCRIBE"}},
		{"too many parameters", "SELECT * FROM Tasks WHERE PlanId = ?", []any{plan, "extra"}, []string{"argument"}},
		{"too few parameters", "SELECT * FROM Tasks WHERE PlanId = ? AND BucketId = ?", []any{plan}, []string{"argument"}},
		{"syntax", "SELEC * FROM Tasks", nil, []string{"syntax error"}},
		{"read-only table", "INSERT INTO Groups (GroupId) VALUES ('x')", nil, []string{"Groups"}},
		{"UPDATE RETURNING", "UPDATE Tasks SET PercentComplete = 100 WHERE PlanId = ? RETURNING TaskId", []any{plan}, []string{"UPDATE RETURNING is not available", "RETURNING works with INSERT only", "SELECT by their key"}},
		{"DELETE RETURNING", "DELETE FROM Tasks WHERE PlanId = ? RETURNING TaskId", []any{plan}, []string{"DELETE RETURNING is not available", "RETURNING works with INSERT only", "SELECT by their key"}},
		{"read-only column", "UPDATE Tasks SET CreatedDateTime = '2020-01-01T00:00:00Z' WHERE PlanId = ?", []any{plan}, []string{"CreatedDateTime"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if strings.HasPrefix(tc.query, "SELECT") || strings.HasPrefix(tc.query, "SELEC ") {
				var rows *sql.Rows
				rows, err = e.db.Query(tc.query, tc.args...)
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
					rows.Close()
				}
			} else {
				_, err = e.db.Exec(tc.query, tc.args...)
			}
			if err == nil {
				t.Fatalf("%s: no error", tc.query)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q does not mention %q", tc.query, err, w)
				}
			}
		})
	}
}

// TestUpdateReturningSendsNothing checks that UPDATE and DELETE with
// RETURNING, which SQLite refuses on virtual tables, fail before a Graph
// request: nothing is read, nothing changed.
func TestUpdateReturningSendsNothing(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	for _, q := range []string{
		"UPDATE Tasks SET PercentComplete = 100 WHERE PlanId = ? RETURNING TaskId",
		"DELETE FROM Tasks WHERE PlanId = ? RETURNING TaskId",
	} {
		var err error
		n, _ := e.counted(func() { _, err = e.db.Exec(q, plan) })
		if err == nil || !strings.Contains(err.Error(), "RETURNING works with INSERT only") {
			t.Errorf("%s: error %v", q, err)
		}
		if n != 0 {
			t.Errorf("%s: %d Graph requests, want 0", q, n)
		}
	}
}

// TestBadDSN checks that a bad connection string fails at the first use
// with an error naming the property.
func TestBadDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"Tennant=contoso", `unknown connection property "Tennant"`},
		{"MaxConcurrency=lots", "MaxConcurrency"},
		{"Sandbox=maybe", "Sandbox"},
		{"InitiateOAuth=SOMETIMES", "InitiateOAuth"},
		// No token where one is used as given: the advice fits the setting
		// that asked for it.
		{"AuthScheme=Token", "AuthScheme=Token uses the token given; give OAuthAccessToken=<token>, or choose AuthScheme=AzureAD or DeviceCode"},
		{"AuthScheme=Token;InitiateOAuth=REFRESH", "choose AuthScheme=AzureAD or DeviceCode"},
		{"InitiateOAuth=OFF", "InitiateOAuth=OFF uses the token given; give OAuthAccessToken=<token>, or use InitiateOAuth=GETANDREFRESH"},
		{"AuthScheme=DeviceCode;InitiateOAuth=off", "or use InitiateOAuth=GETANDREFRESH"},
	} {
		db, err := sql.Open("planner", tc.dsn)
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one mentioning %s", tc.dsn, err, tc.want)
		}
	}
}

// TestSandboxNotImported: Sandbox=true without package sandbox fails at
// once, with one line naming the package to import.
func TestSandboxNotImported(t *testing.T) {
	sandboxMu.Lock()
	saved := sandboxOpen
	sandboxOpen = nil
	sandboxMu.Unlock()
	t.Cleanup(func() {
		sandboxMu.Lock()
		sandboxOpen = saved
		sandboxMu.Unlock()
	})
	_, err := sql.Open("planner", "Sandbox=true")
	const want = `planner: Sandbox=true needs the sandbox package: add import _ "github.com/plannersql/planner/sandbox" to the program`
	if err == nil || err.Error() != want {
		t.Errorf("sql.Open: %v, want %q", err, want)
	}
}
