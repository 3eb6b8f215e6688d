package driver

import (
	"testing"

	"github.com/plannersql/planner/graph/graphtest"
)

// TestFidelity14IdentitySets: every ...ByUserId column has a
// ...ByApplicationId beside it, so what an application did alone (an
// app-only token, a flow) has an author, and a delegated write names both
// the user and the client application.
func TestFidelity14IdentitySets(t *testing.T) {
	srv := graphtest.NewServer(t)
	appID, _ := srv.ConfidentialClient()
	me := srv.Me().ID
	user := envOn(t, srv, nil)
	app := envOn(t, srv, func(c *Config) { c.OAuthAccessToken = srv.AppToken() })
	plan := user.plans()[0]

	app.exec("INSERT INTO Tasks (PlanId, Title) VALUES (?, 'by the app')", plan)
	task := user.one("SELECT TaskId FROM Tasks WHERE PlanId = ? AND Title = 'by the app'", plan)
	app.exec("UPDATE Tasks SET PercentComplete = 100 WHERE TaskId = ?", task)
	app.exec("INSERT INTO TaskAssignments (TaskId, UserId) VALUES (?, ?)", task, me)
	app.exec("INSERT INTO TaskChecklistItems (TaskId, Title) VALUES (?, 'step')", task)
	app.exec("INSERT INTO TaskReferences (TaskId, Url, Alias) VALUES (?, 'https://contoso.com/spec.docx', 'Spec')", task)
	user.exec("INSERT INTO Tasks (PlanId, Title) VALUES (?, 'by me')", plan)
	mine := user.one("SELECT TaskId FROM Tasks WHERE PlanId = ? AND Title = 'by me'", plan)

	cases := []struct {
		name, query string
		args        []any
		want        []string
	}{
		{"task created and completed by the app",
			"SELECT CreatedByUserId, CreatedByApplicationId, CompletedByUserId, CompletedByApplicationId FROM Tasks WHERE TaskId = ?",
			[]any{task}, []string{"NULL", appID, "NULL", appID}},
		{"task created by the user through the client",
			"SELECT CreatedByUserId, CreatedByApplicationId, CompletedByUserId, CompletedByApplicationId FROM Tasks WHERE TaskId = ?",
			[]any{mine}, []string{me, srv.ClientID(), "NULL", "NULL"}},
		{"assignment", "SELECT AssignedByUserId, AssignedByApplicationId FROM TaskAssignments WHERE TaskId = ? AND UserId = ?",
			[]any{task, me}, []string{"NULL", appID}},
		{"checklist item", "SELECT LastModifiedByUserId, LastModifiedByApplicationId FROM TaskChecklistItems WHERE TaskId = ?",
			[]any{task}, []string{"NULL", appID}},
		{"reference", "SELECT LastModifiedByUserId, LastModifiedByApplicationId FROM TaskReferences WHERE TaskId = ?",
			[]any{task}, []string{"NULL", appID}},
	}
	for _, tc := range cases {
		rows := user.query(tc.query, tc.args...)
		if len(rows) != 1 {
			t.Errorf("%s: %d rows", tc.name, len(rows))
			continue
		}
		for i, w := range tc.want {
			if rows[0][i] != w {
				t.Errorf("%s: column %d = %s, want %s (row %v)", tc.name, i, rows[0][i], w, rows[0])
			}
		}
	}
	// Every column naming a user has its application beside it.
	for _, r := range user.query("SELECT TableName, ColumnName FROM sys_columns WHERE ColumnName LIKE '%ByUserId'") {
		app := r[1][:len(r[1])-len("UserId")] + "ApplicationId"
		if n := user.one("SELECT count(*) FROM sys_columns WHERE TableName = ? AND ColumnName = ?", r[0], app); n != "1" {
			t.Errorf("%s.%s has no %s beside it", r[0], r[1], app)
		}
	}
}
