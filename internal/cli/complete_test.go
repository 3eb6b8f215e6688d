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
