package cli

import (
	"slices"
	"strings"
	"testing"

	plannerdriver "github.com/plannersql/planner/driver"
)

// TestSafeCompletions: whatever the candidates, the line editor (which
// puts their longest common prefix in place of the word) never deletes
// what was typed.
func TestSafeCompletions(t *testing.T) {
	tests := []struct {
		qualifier, word string
		cands, want     []string
	}{
		{"", "Ta", []string{"TABLES", "Tasks", "TaskDetails", "Plans"}, []string{"TaBLES", "Tasks", "TaskDetails"}},
		{"", "ta", []string{"Tasks", "TaskDetails"}, []string{"Tasks", "TaskDetails"}},
		{"", "ta", []string{"Tasks", "tables"}, []string{"tasks", "tables"}},
		{"", "na", []string{"Name"}, []string{"Name"}},
		{"t.", "per", []string{"PercentComplete", "Priority"}, []string{"t.PercentComplete"}},
		{"", "x", []string{"Tasks"}, nil},
		{"", "", []string{"b", "a"}, []string{"b", "a"}},
	}
	for _, tt := range tests {
		got := safeCompletions(tt.qualifier, tt.word, tt.cands)
		if !slices.Equal(got, tt.want) {
			t.Errorf("safeCompletions(%q, %q, %v) = %v, want %v", tt.qualifier, tt.word, tt.cands, got, tt.want)
		}
		if len(got) > 1 {
			prefix := got[0]
			for _, c := range got[1:] {
				for !strings.HasPrefix(c, prefix) {
					prefix = prefix[:len(prefix)-1]
				}
			}
			typed := tt.qualifier + tt.word
			if len(prefix) < len(typed) || !strings.EqualFold(prefix[:len(typed)], typed) {
				t.Errorf("%v: common prefix %q drops typed %q", got, prefix, tt.qualifier+tt.word)
			}
		}
	}
}

func TestSourceLabel(t *testing.T) {
	cfg := func(dsn string) *plannerdriver.Config {
		c, err := plannerdriver.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for dsn, want := range map[string]string{
		"Sandbox=true":                                "sandbox",
		"Profile=prod":                                "prod",
		"GraphURL=http://127.0.0.1:8400/v1.0":         "127.0.0.1:8400",
		"Tenant=contoso.onmicrosoft.com":              "contoso.onmicrosoft.com",
		"OAuthClientId=11111111-2222-3333-4444-55555": "graph.microsoft.com",
	} {
		if got := sourceLabel(cfg(dsn)); got != want {
			t.Errorf("sourceLabel(%s) = %q, want %q", dsn, got, want)
		}
	}
}

// testShell returns a shell whose catalog is preloaded (no connection).
func testShell() *shell {
	s := &shell{}
	s.cat.once.Do(func() {})
	s.cat.tables = []string{"Buckets", "Plans", "TaskDetails", "Tasks"}
	s.cat.columns = map[string][]string{"tasks": {"TaskId", "Title", "PercentComplete", "PlanId"},
		"buckets": {"BucketId", "Name", "PlanId"}, "plans": {"PlanId", "Title"}, "taskdetails": {"TaskId", "Description"}}
	s.cat.all = []string{"BucketId", "Description", "Name", "PercentComplete", "PlanId", "TaskId", "Title"}
	return s
}

// TestCompleteContexts: what Tab offers where the cursor ('|') stands.
// Quoted identifiers get names only, closed with their quote; strings and
// comments get nothing; a word the cursor is inside is completed whole.
func TestCompleteContexts(t *testing.T) {
	s := testShell()
	tests := []struct {
		line       string // '|' marks the cursor
		head, tail string
		want       []string
	}{
		{`SELECT * FROM "Ta|`, `SELECT * FROM "`, "", []string{`TaskDetails"`, `Tasks"`}},
		{`SELECT * FROM [Ta|`, `SELECT * FROM [`, "", []string{"TaskDetails]", "Tasks]"}},
		{"SELECT * FROM `Tasks|", "SELECT * FROM `", "", []string{"Tasks`"}},
		{`SELECT * FROM "Ta|"`, `SELECT * FROM "`, `"`, []string{"TaskDetails", "Tasks"}},
		{`SELECT * FROM Tasks WHERE "Ti|`, `SELECT * FROM Tasks WHERE "`, "", []string{`Title"`}},
		{`SELECT t."Per| FROM Tasks t`, `SELECT t."`, " FROM Tasks t", []string{`PercentComplete"`}},
		{`SELECT "t".Per| FROM Tasks t`, `SELECT "t"`, " FROM Tasks t", []string{".PercentComplete"}},
		{`SELECT [Tasks].Per| FROM Tasks`, `SELECT [Tasks]`, " FROM Tasks", []string{".PercentComplete"}},
		{`SELECT "My Ta|`, `SELECT "My `, "", nil},
		{`SELECT 'Ta|`, `SELECT '`, "", nil},
		{`SELECT x'0|`, `SELECT x'`, "", nil},
		{`SELECT * FROM Tasks -- Ta|`, `SELECT * FROM Tasks -- `, "", nil},
		{`SELECT * FROM Tasks /* Ta|`, `SELECT * FROM Tasks /* `, "", nil},
		{"SELECT * FROM Tasks /* x */ WHERE Ti|", "SELECT * FROM Tasks /* x */ WHERE ", "", []string{"Title"}},
		{`SELECT * FROM Ta|sks`, `SELECT * FROM `, "", []string{"Tasks"}},
		{`SELECT * FROM Ta|sks WHERE 1`, `SELECT * FROM `, " WHERE 1", []string{"Tasks"}},
		{`SELECT * FROM Ta|xyz`, `SELECT * FROM `, "xyz", []string{"TaskDetails", "Tasks"}},
		{`SELECT Ti| FROM Tasks`, `SELECT `, " FROM Tasks", []string{"Title"}},
		{`SELECT t.Pe|rc FROM Tasks t`, `SELECT `, " FROM Tasks t", []string{"t.PercentComplete"}},
		{`SELECT zzz|`, `SELECT `, "", nil},
		{`SELECT * FROM Tasks t JOIN |`, `SELECT * FROM Tasks t JOIN `, "", []string{"Buckets", "Plans", "TaskDetails", "Tasks"}},
		{`SELECT * FROM Tasks AS t WHERE t.|`, `SELECT * FROM Tasks AS t WHERE `, "",
			[]string{"t.TaskId", "t.Title", "t.PercentComplete", "t.PlanId"}},
		{`.mo|de csv`, ``, " csv", []string{".mode"}},
		// Keywords in the case typed, the typed letters kept (it used to
		// offer "TaBLES").
		{`SELECT * FROM Tasks WHERE Title = 'x' AND Ta|`, `SELECT * FROM Tasks WHERE Title = 'x' AND `, "", []string{"TaskId", "Tables"}},
		{`SELECT * FROM Tasks wh|`, `SELECT * FROM Tasks `, "", []string{"when", "where"}},
		{`SELECT * FROM Tasks WH|`, `SELECT * FROM Tasks `, "", []string{"WHEN", "WHERE"}},
		{`sel|`, ``, "", []string{"select"}},
		{`Sel|`, ``, "", []string{"Select"}},
	}
	for _, tt := range tests {
		i := strings.IndexByte(tt.line, '|')
		line := tt.line[:i] + tt.line[i+1:]
		head, got, tail := s.complete(line, len([]rune(tt.line[:i])))
		if head != tt.head || tail != tt.tail || !slices.Equal(got, tt.want) {
			t.Errorf("complete(%q) = %q, %q, %q; want %q, %q, %q", tt.line, head, got, tail, tt.head, tt.want, tt.tail)
		}
		// Never deletes: the line after completion holds what was typed.
		for _, c := range got {
			if after := head + c + tail; len(after) < len(line) || !strings.EqualFold(after[:len(head)], line[:len(head)]) {
				t.Errorf("complete(%q): %q drops typed text", tt.line, after)
			}
		}
	}
}
