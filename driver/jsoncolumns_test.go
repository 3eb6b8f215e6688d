package driver

import (
	"testing"
	"time"

	"github.com/plannersql/planner/graph"
)

// TestJSONColumnText pins the text of the JSON columns (Assignments,
// AppliedCategories, Checklist, References, SharedWith,
// CategoryDescriptions) byte for byte, as they have always been: compact,
// keys sorted, fields in declaration order, omitempty fields left out,
// '<', '>', '&', U+2028, U+2029, control characters and invalid UTF-8
// escaped, a date-time in the fixed width of DATETIME columns (7 fractional
// digits, Graph's resolution), a zero date-time as null, a nil map as NULL.
func TestJSONColumnText(t *testing.T) {
	yes, no := true, false
	at := &graph.DateTime{Time: time.Date(2025, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))}
	odd := "<a href=\"x\">&amp;</a> \\ \b\f\n\r\t \x01\x1f \u2028\u2029 \xff\xfe é 👍 \u007f"
	const oddJSON = `"\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e \\ \b\f\n\r\t \u0001\u001f \u2028\u2029 \ufffd\ufffd é 👍 ` + "\u007f" + `"`
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"assignments", map[string]graph.Assignment{
			odd: {ODataType: odd, OrderHint: odd, AssignedDateTime: at, AssignedBy: &graph.IdentitySet{User: &graph.Identity{ID: odd, DisplayName: odd}, Device: &graph.Identity{}}},
			"b": {AssignedDateTime: &graph.DateTime{}, AssignedBy: &graph.IdentitySet{}},
			"a": {},
		}, `{` + oddJSON + `:{"@odata.type":` + oddJSON + `,"assignedBy":{"user":{"id":` + oddJSON + `,"displayName":` + oddJSON +
			`},"device":{}},"assignedDateTime":"2025-01-02T02:04:05.0000006Z","orderHint":` + oddJSON + `},"a":{},"b":{"assignedBy":{},"assignedDateTime":null}}`},
		{"an application's assignment", map[string]graph.Assignment{"u": {ODataType: graph.ODataAssignment, OrderHint: " !",
			AssignedBy: &graph.IdentitySet{Application: &graph.Identity{ID: "app", DisplayName: "Flow"}}}},
			`{"u":{"@odata.type":"#microsoft.graph.plannerAssignment","assignedBy":{"application":{"id":"app","displayName":"Flow"}},"orderHint":" !"}}`},
		{"checklist", map[string]graph.ChecklistItem{"x": {IsChecked: &yes, Title: odd}, "y": {IsChecked: &no}, "z": {LastModifiedDateTime: at}},
			`{"x":{"title":` + oddJSON + `,"isChecked":true},"y":{"isChecked":false},"z":{"lastModifiedDateTime":"2025-01-02T02:04:05.0000006Z"}}`},
		{"date-times", map[string]graph.ChecklistItem{
			"a": {LastModifiedDateTime: &graph.DateTime{Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)}},
			"b": {LastModifiedDateTime: &graph.DateTime{Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("y", -7200))}},
			"c": {LastModifiedDateTime: &graph.DateTime{Time: time.Date(2025, 6, 1, 12, 0, 0, 100000000, time.UTC)}},
		}, `{"a":{"lastModifiedDateTime":"0001-01-01T00:00:00.0000000Z"},"b":{"lastModifiedDateTime":"10000-01-01T01:59:59.9999999Z"},"c":{"lastModifiedDateTime":"2025-06-01T12:00:00.1000000Z"}}`},
		{"references", map[string]graph.ExternalReference{"https://x/<y>&z": {URL: "not written", Alias: odd, Type: "Word", PreviewPriority: " !"}, "": {}},
			`{"":{},"https://x/\u003cy\u003e\u0026z":{"alias":` + oddJSON + `,"type":"Word","previewPriority":" !"}}`},
		{"empty", map[string]graph.Assignment{}, `{}`},
		{"applied categories", map[string]bool{"category25": true, "category3": false, "category10": true},
			`{"category10":true,"category25":true,"category3":false}`},
		{"category descriptions", graph.CategoryDescriptions{"category1": odd, "category2": ""}, `{"category1":` + oddJSON + `,"category2":""}`},
		{"nil descriptions", graph.CategoryDescriptions(nil), `null`},
	}
	for _, tt := range tests {
		if got := jsonVal(tt.v, false); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	if got := jsonVal(map[string]bool(nil), true); got != nil {
		t.Errorf("a nil column is %v, want NULL", got)
	}
}
