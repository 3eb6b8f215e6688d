package driver

import (
	"errors"
	"strings"
	"testing"

	"github.com/plannersql/planner/schema"
)

// TestNULBytesInJSON: a NUL character inside a JSON value — in a string or
// an object key, at any depth, however the JSON text was made (json_object
// over char(0), a literal \u0000 escape, a bound string) — is refused for
// every writable JSON column as a TEXT column refuses one: ErrNULByte,
// naming the column, before any write request. An escaped backslash
// followed by "u0000" is text, not a NUL, and is not refused for one.
func TestNULBytesInJSON(t *testing.T) {
	e := newEnv(t, nil)
	plan := e.plans()[0]
	task := e.srv.TaskIDs(plan)[0]
	me := e.srv.Me().ID
	values := []struct {
		name, sql string
		args      []any
		nul       bool
	}{
		{"json_object value", "json_object('" + me + "', 'a' || char(0) || 'b')", nil, true},
		{"json_object key", "json_object('a' || char(0) || 'b', json('true'))", nil, true},
		{"nested in an array", `'{"k": [1, {"x": "a\u0000b"}]}'`, nil, true},
		{"literal escape", `'{"category1": "x\u0000"}'`, nil, true},
		{"bound", "?", []any{`{"` + me + `": "\u0000"}`}, true},
		{"escaped backslash", `'{"category1": "a\\u0000b"}'`, nil, false},
	}
	type target struct {
		table, col, scope, id string
		insert                bool
	}
	var targets []target
	for _, tb := range schema.All() {
		for _, c := range tb.Columns {
			if c.Type != schema.JSON || !(c.Insertable || c.Updatable) {
				continue
			}
			scope, id := "PlanId", plan
			if k, _ := tb.Column("TaskId"); k != nil {
				scope, id = "TaskId", task
			}
			if c.Updatable {
				targets = append(targets, target{tb.Name, c.Name, scope, id, false})
			}
			if c.Insertable && tb.Name == "Tasks" {
				targets = append(targets, target{tb.Name, c.Name, scope, id, true})
			}
		}
	}
	cols := map[string]bool{}
	for _, tg := range targets {
		cols[tg.table+"."+tg.col] = true
		for _, v := range values {
			var q string
			var args []any
			if tg.insert {
				q = "INSERT INTO Tasks (PlanId, Title, " + tg.col + ") VALUES (?, 'x', " + v.sql + ")"
				args = append([]any{plan}, v.args...)
			} else {
				q = "UPDATE " + tg.table + " SET " + tg.col + " = " + v.sql + " WHERE " + tg.scope + " = ?"
				args = append(append(args, v.args...), tg.id)
			}
			name := tg.table + "." + tg.col + ", " + v.name
			e.rec.take()
			_, err := e.db.Exec(q, args...)
			writes := 0
			for _, w := range e.rec.take() {
				if !strings.HasSuffix(w.path, "/$batch") {
					writes++
				}
			}
			if !v.nul {
				if errors.Is(err, ErrNULByte) {
					t.Errorf("%s: %v: no NUL in the value", name, err)
				}
				continue
			}
			if !errors.Is(err, ErrNULByte) || !strings.Contains(err.Error(), "column "+tg.col+":") {
				t.Errorf("%s: %v, want ErrNULByte naming column %s", name, err, tg.col)
			}
			if writes != 0 {
				t.Errorf("%s: %d write requests were sent", name, writes)
			}
		}
	}
	for _, want := range []string{"Tasks.Assignments", "Tasks.AppliedCategories", "PlanDetails.SharedWith", "PlanDetails.CategoryDescriptions", "TaskBoardFormats.OrderHintsByAssignee"} {
		if !cols[want] {
			t.Errorf("%s was not tried: is it still writable JSON?", want)
		}
	}
	// The error says where in the value the NUL is.
	_, err := e.db.Exec("UPDATE PlanDetails SET CategoryDescriptions = json_object('category1', 'a' || char(0) || 'b') WHERE PlanId = ?", plan)
	if err == nil || !strings.Contains(err.Error(), "at $.category1") {
		t.Errorf("error %v does not say where the NUL is", err)
	}
}
