package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvariants checks what every table declaration must satisfy.
func TestInvariants(t *testing.T) {
	seen := map[string]bool{}
	for _, tb := range All() {
		t.Run(tb.Name, func(t *testing.T) {
			if seen[strings.ToLower(tb.Name)] {
				t.Fatalf("duplicate table name %q", tb.Name)
			}
			seen[strings.ToLower(tb.Name)] = true
			if tb.Description == "" {
				t.Error("table has no description")
			}
			if len(tb.Examples) == 0 {
				t.Error("table has no examples")
			}
			if len(tb.Key) == 0 {
				t.Error("table has no key")
			}
			for _, k := range tb.Key {
				c, _ := tb.Column(k)
				if c == nil {
					t.Errorf("key %q is not a column", k)
					continue
				}
				if !c.Key || c.Nullable {
					t.Errorf("key column %q: Key=%v Nullable=%v, want key and not null", k, c.Key, c.Nullable)
				}
			}
			cols := map[string]bool{}
			var keyCols int
			anyIns, anyUpd := false, false
			for _, c := range tb.Columns {
				if cols[strings.ToLower(c.Name)] {
					t.Errorf("duplicate column %q", c.Name)
				}
				cols[strings.ToLower(c.Name)] = true
				if c.Description == "" {
					t.Errorf("column %q has no description", c.Name)
				}
				switch c.Type {
				case Text, Integer, Boolean, DateTime, JSON:
				default:
					t.Errorf("column %q has unknown type %q", c.Name, c.Type)
				}
				if c.Key {
					keyCols++
				}
				if c.Pushdown != (c.Endpoint != "") {
					t.Errorf("column %q: pushdown %v but endpoint %q", c.Name, c.Pushdown, c.Endpoint)
				}
				if c.Required && !c.Insertable {
					t.Errorf("column %q is required but not insertable", c.Name)
				}
				anyIns = anyIns || c.Insertable
				anyUpd = anyUpd || c.Updatable
			}
			if keyCols != len(tb.Key) {
				t.Errorf("%d columns flagged Key, table key has %d", keyCols, len(tb.Key))
			}
			if tb.Insert != anyIns {
				t.Errorf("Insert=%v but insertable columns: %v", tb.Insert, anyIns)
			}
			if tb.Update != anyUpd {
				t.Errorf("Update=%v but updatable columns: %v", tb.Update, anyUpd)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"Tasks", "Tasks"}, {"tasks", "Tasks"}, {"TASKS", "Tasks"},
		{"taskchecklistitems", "TaskChecklistItems"}, {"SYS_TABLES", "sys_tables"}, {"nope", ""},
	}
	for _, tt := range tests {
		got := Lookup(tt.name)
		switch {
		case tt.want == "" && got != nil:
			t.Errorf("Lookup(%q) = %s, want nil", tt.name, got.Name)
		case tt.want != "" && (got == nil || got.Name != tt.want):
			t.Errorf("Lookup(%q) = %v, want %s", tt.name, got, tt.want)
		}
	}
}

// TestContract pins the tables and columns of SCHEMA.md, in order, so that a
// change to the public contract is deliberate.
func TestContract(t *testing.T) {
	want := map[string]string{
		"Groups":             "GroupId DisplayName Description Mail Visibility CreatedDateTime",
		"Plans":              "PlanId Title GroupId ContainerId ContainerType ContainerUrl Owner CreatedDateTime CreatedByUserId CreatedByUserDisplayName CreatedByApplicationId CreatedByApplicationDisplayName ETag",
		"PlanDetails":        "PlanId GroupId SharedWith CategoryDescriptions ETag",
		"PlanCategories":     "PlanId Category Name",
		"PlanSharedWith":     "PlanId GroupId UserId",
		"Buckets":            "BucketId PlanId Name OrderHint ETag",
		"Tasks":              "TaskId PlanId BucketId Title OrderHint AssigneePriority PercentComplete Priority StartDateTime DueDateTime CreatedDateTime CompletedDateTime CreatedByUserId CreatedByApplicationId CompletedByUserId CompletedByApplicationId HasDescription PreviewType ReferenceCount ChecklistItemCount ActiveChecklistItemCount ConversationThreadId Assignments AppliedCategories ETag",
		"TaskDetails":        "TaskId PlanId BucketId Description PreviewType Checklist References ETag",
		"TaskAssignments":    "TaskId PlanId BucketId UserId AssignedByUserId AssignedByApplicationId AssignedDateTime OrderHint",
		"TaskChecklistItems": "TaskId PlanId BucketId ItemId Title IsChecked OrderHint LastModifiedDateTime LastModifiedByUserId LastModifiedByApplicationId",
		"TaskReferences":     "TaskId PlanId BucketId Url ReferenceKey Alias Type PreviewPriority LastModifiedDateTime LastModifiedByUserId LastModifiedByApplicationId",
		"TaskCategories":     "TaskId PlanId BucketId Category Name",
		"TaskBoardFormats":   "TaskId PlanId BucketId BucketOrderHint ProgressOrderHint UnassignedOrderHint OrderHintsByAssignee BucketFormatETag ProgressFormatETag AssignedToFormatETag",
		"sys_tables":         "TableName Description IsUpdatable",
		"sys_columns":        "TableName ColumnName DataType IsKey IsNullable IsUpdatable IsPushdown Description",
	}
	if len(All()) != len(want) {
		t.Errorf("got %d tables, want %d", len(All()), len(want))
	}
	for name, cols := range want {
		tb := Lookup(name)
		if tb == nil {
			t.Errorf("missing table %s", name)
			continue
		}
		if got := strings.Join(tb.ColumnNames(), " "); got != cols {
			t.Errorf("%s columns:\n got %s\nwant %s", name, got, cols)
		}
	}
}

func TestDDL(t *testing.T) {
	got := Lookup("Buckets").DDL()
	want := `CREATE TABLE x("BucketId" TEXT NOT NULL, "PlanId" TEXT NOT NULL, "Name" TEXT NOT NULL, "OrderHint" TEXT, "ETag" TEXT)`
	if got != want {
		t.Errorf("DDL:\n got %s\nwant %s", got, want)
	}
}

// TestDocs fails when docs/tables.md drifts from the tables; both are
// generated from the driver's table declarations by
// go test ./driver -run TestSchemaGenerated -update.
func TestDocs(t *testing.T) {
	got, err := os.ReadFile(filepath.Join("..", "docs", "tables.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != Markdown() {
		t.Errorf("docs/tables.md is out of date: run go test ./driver -run TestSchemaGenerated -update")
	}
}
