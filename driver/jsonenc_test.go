package driver

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/graph/graphtest"
	"golang.org/x/oauth2"
)

// TestJSONColumnsMatchMarshal checks that the JSON columns are written
// exactly as json.Marshal writes them, on the emulator's awkward tenant and
// on values that exercise every escape and omitted field.
func TestJSONColumnsMatchMarshal(t *testing.T) {
	same := func(name string, v any) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendJSONColumn(nil, v)
		if !ok || string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 11, Plans: 2, TasksPerPlan: 30, Awkward: true}))
	c := graph.NewClient(graph.WithBaseURL(srv.GraphURL()), graph.WithTokenSource(staticToken(srv.Token())))
	ctx := t.Context()
	n := 0
	for _, plan := range srv.PlanIDs() {
		var ids []string
		for tk, err := range c.Tasks.ListByPlan(ctx, plan) {
			if err != nil {
				t.Fatal(err)
			}
			same("assignments of "+tk.ID, tk.Assignments)
			same("categories of "+tk.ID, tk.AppliedCategories)
			ids = append(ids, tk.ID)
		}
		for d, err := range c.Tasks.ListDetails(ctx, ids) {
			if err != nil {
				t.Fatal(err)
			}
			same("checklist of "+d.ID, d.Checklist)
			same("references of "+d.ID, d.References)
			n += len(d.Checklist) + len(d.References)
		}
		pd, err := c.Plans.GetDetails(ctx, plan)
		if err != nil {
			t.Fatal(err)
		}
		same("sharedWith", pd.SharedWith)
		same("categories", pd.CategoryDescriptions)
	}
	if n == 0 {
		t.Fatal("the tenant has no checklist items or references")
	}
	yes, no := true, false
	at := &graph.DateTime{Time: time.Date(2025, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))}
	odd := "<a href=\"x\">&amp;</a> \\ \b\f\n\r\t \x01\x1f \u2028\u2029 \xff\xfe é 👍 \u007f"
	same("odd assignment", map[string]graph.Assignment{
		odd: {ODataType: odd, OrderHint: odd, AssignedDateTime: at, AssignedBy: &graph.IdentitySet{User: &graph.Identity{ID: odd, DisplayName: odd}, Device: &graph.Identity{}}},
		"b": {AssignedDateTime: &graph.DateTime{}, AssignedBy: &graph.IdentitySet{}},
		"a": {},
	})
	same("checklist", map[string]graph.ChecklistItem{"x": {IsChecked: &yes, Title: odd}, "y": {IsChecked: &no}, "z": {LastModifiedDateTime: at}})
	same("references", map[string]graph.ExternalReference{"https://x/<y>&z": {Alias: odd, Type: "Word", PreviewPriority: " !"}, "": {}})
	same("empty", map[string]graph.Assignment{})
	same("nil", map[string]bool(nil))
	same("categories", graph.CategoryDescriptions{"category1": odd, "category2": ""})
	if _, ok := appendJSONColumn(nil, []string{"x"}); ok {
		t.Error("a slice is not a JSON column type")
	}
}

type staticTokenSource string

func (s staticTokenSource) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: string(s), TokenType: "Bearer"}, nil
}

func staticToken(s string) oauth2.TokenSource { return staticTokenSource(s) }
