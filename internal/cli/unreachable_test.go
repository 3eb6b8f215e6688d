package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/replicate"
)

// TestUnreachableOneMessage checks that a run stopped because Graph is
// unreachable ends with one message naming the cause, and that the tables
// skipped unread say so briefly instead of repeating it.
func TestUnreachableOneMessage(t *testing.T) {
	cause := &graph.UnreachableError{Method: "GET", Path: "/v1.0/me/memberOf", Host: "graph.microsoft.com", Failures: 5,
		Last: errors.New("graph: GET /v1.0/me/memberOf: connection refused by graph.microsoft.com")}
	results := []replicate.Result{{Table: "Groups", Err: fmt.Errorf("planner: reading Groups: %w", cause)}}
	for _, tb := range []string{"Plans", "Buckets", "Tasks"} {
		results = append(results, replicate.Result{Table: tb, Err: fmt.Errorf("replicate: %s skipped: %w", tb, replicate.ErrSourceUnreachable)})
	}
	err := resultsError("replicate", results)
	if err == nil || strings.Count(err.Error(), "is unreachable") != 1 || !strings.Contains(err.Error(), "4 of 4 tables not copied (3 skipped unread)") {
		t.Errorf("error %v", err)
	}
	for _, r := range results[1:] {
		if note := resultNote(r); note != "skipped: Microsoft Graph is unreachable" {
			t.Errorf("%s note %q", r.Table, note)
		}
	}
}
