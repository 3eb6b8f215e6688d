package graph

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readJSON[T any](t *testing.T, name string, v *T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeInto(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestDecodeDocExamples decodes the example payloads of Microsoft's docs.
func TestDecodeDocExamples(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T)
	}{
		{"plannerTask.json", func(t *testing.T) {
			var v Task
			readJSON(t, "plannerTask.json", &v)
			if v.ID != "01gzSlKkIUSUl6DF_EilrmQAKDhh" || v.PlanID != "xqQg5FS2LkCp935s-FIFm2QAFkHM" || v.BucketID != "gcrYAaAkgU2EQUvpkNNXLGQAGTtu" {
				t.Errorf("ids: %+v", v)
			}
			if v.AssigneePriority != `90057581"` || v.OrderHint != "9223370609546166567W" || v.Priority == nil || *v.Priority != 5 {
				t.Errorf("hints/priority: %q %q %v", v.AssigneePriority, v.OrderHint, v.Priority)
			}
			if !v.CreatedDateTime.Equal(mustTime("2015-03-25T18:36:49.2407981Z")) || v.CreatedDateTime.Nanosecond() != 240798100 {
				t.Errorf("createdDateTime %v", v.CreatedDateTime)
			}
			a, ok := v.Assignments["fbab97d0-4932-4511-b675-204639209557"]
			if !ok || a.OrderHint != "RWk1" || a.AssignedBy.User.ID != "1e9955d2-6acd-45bf-86d3-b546fdc795eb" ||
				!a.AssignedDateTime.Equal(mustTime("2015-03-25T18:38:21.956Z")) {
				t.Errorf("assignment %+v", a)
			}
			if v.CreatedBy.User.ID != "6463a5ce-2119-4198-9f2a-628761df4a62" || v.CreatedBy.Application != nil {
				t.Errorf("createdBy %+v", v.CreatedBy)
			}
			if v.PercentComplete != nil || v.DueDateTime != nil || v.HasDescription != nil {
				t.Errorf("missing properties must stay nil: %+v", v)
			}
		}},
		{"plannerTaskDetails.json", func(t *testing.T) {
			var v TaskDetails
			readJSON(t, "plannerTaskDetails.json", &v)
			if !strings.Contains(v.Description, "\nchecklist:Sub items\n") || v.PreviewType != "automatic" {
				t.Errorf("description/previewType %q %q", v.Description, v.PreviewType)
			}
			ref, ok := v.References["https%3A//developer%2Emicrosoft%2Ecom/en-us/graph/graph-explorer"]
			if !ok || ref.URL != "https://developer.microsoft.com/en-us/graph/graph-explorer" || ref.Alias != "Graph Explorer" || ref.Type != "Other" || ref.PreviewPriority != "0009005706180391122" ||
				ref.LastModifiedBy.User.ID != "fbab97d0-4932-4511-b675-204639209557" {
				t.Errorf("references %+v", v.References)
			}
			it, ok := v.Checklist["d280ed1a-9f6b-4f9c-a962-fb4d00dc50ff"]
			if !ok || it.Title != "Try reading task details" || it.IsChecked == nil || *it.IsChecked || it.OrderHint != "8587094707721254251P]" ||
				!it.LastModifiedDateTime.Equal(mustTime("2017-04-14T02:16:14.866Z")) {
				t.Errorf("checklist %+v", v.Checklist)
			}
		}},
		{"plannerPlan.json", func(t *testing.T) {
			var v Plan
			readJSON(t, "plannerPlan.json", &v)
			if v.ID != "xqQg5FS2LkCp935s-FIFm2QAFkHM" || v.Title != "title-value" || v.Container == nil ||
				v.Container.ContainerID != "ebf3b108-5234-4e22-b93d-656d7dae5874" || v.Container.Type != "group" ||
				!strings.HasPrefix(v.Container.URL, "https://graph.microsoft.com/v1.0/groups/") {
				t.Errorf("plan %+v container %+v", v, v.Container)
			}
			if v.CreatedBy.Application.ID != "95e27074-6c4a-447a-aa24-9d718a0b86fa" || v.CreatedBy.User.ID != "ebf3b108-5234-4e22-b93d-656d7dae5874" {
				t.Errorf("createdBy %+v", v.CreatedBy)
			}
		}},
		{"plannerPlanDetails.json", func(t *testing.T) {
			var v PlanDetails
			readJSON(t, "plannerPlanDetails.json", &v)
			if len(v.SharedWith) != 2 || !v.SharedWith["aaa27244-1db4-476a-a5cb-004607466324"] {
				t.Errorf("sharedWith %v", v.SharedWith)
			}
			if v.CategoryDescriptions["category1"] != "Indoors" || v.CategoryDescriptions["category3"] != "" || v.CategoryDescriptions["category6"] != "Needs equipment" {
				t.Errorf("categoryDescriptions %v", v.CategoryDescriptions)
			}
		}},
		{"plannerBucket.json", func(t *testing.T) {
			var v Bucket
			readJSON(t, "plannerBucket.json", &v)
			if v != (Bucket{ID: "hsOf2dhOJkqyYYZEtdzDe2QAIUCR", PlanID: "xqQg5FS2LkCp935s-FIFm2QAFkHM", Name: "Advertising", OrderHint: "85752723360752+"}) {
				t.Errorf("bucket %+v", v)
			}
		}},
		{"plannerAssignedToTaskBoardTaskFormat.json", func(t *testing.T) {
			var v AssignedToTaskBoardFormat
			readJSON(t, "plannerAssignedToTaskBoardTaskFormat.json", &v)
			if v.UnassignedOrderHint != "RWk1" || v.OrderHintsByAssignee["aaa27244-1db4-476a-a5cb-004607466324"] != "90057581;" || v.ID != "01gzSlKkIUSUl6DF_EilrmQAKDhh" {
				t.Errorf("format %+v", v)
			}
		}},
		{"group.json", func(t *testing.T) {
			var v Group
			readJSON(t, "group.json", &v)
			if v.ID != "02bd9fd6-8f93-4758-87c3-1fb73740a315" || v.DisplayName != "HR Taskforce" || v.Visibility != "Private" ||
				v.Mail != "HRTaskforce@M365x214355.onmicrosoft.com" || !v.IsUnified() || !v.CreatedDateTime.Equal(mustTime("2017-07-31T18:56:16Z")) {
				t.Errorf("group %+v", v)
			}
		}},
		{"user.json", func(t *testing.T) {
			var v User
			readJSON(t, "user.json", &v)
			if v.ID != "87d349ed-44d7-43e1-9a83-5f2406dee5bd" || v.DisplayName != "Adele Vance" || v.UserPrincipalName != "AdeleV@contoso.com" || v.JobTitle != "Retail Manager" {
				t.Errorf("user %+v", v)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, tt.check)
	}
}

func TestLenientDecoding(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(t *testing.T, v *Task)
	}{
		{"nulls", `{"id":"t","title":"x","bucketId":null,"percentComplete":null,"dueDateTime":null,"assignments":null,"createdBy":null,"appliedCategories":null}`,
			func(t *testing.T, v *Task) {
				if v.BucketID != "" || v.PercentComplete != nil || v.Assignments != nil || v.CreatedBy != nil {
					t.Errorf("%+v", v)
				}
				if v.DueDateTime != nil && !v.DueDateTime.IsZero() {
					t.Errorf("due %v", v.DueDateTime)
				}
			}},
		{"missing properties", `{"id":"t"}`, func(t *testing.T, v *Task) {
			if v.ID != "t" || v.Title != "" || v.StartDateTime != nil {
				t.Errorf("%+v", v)
			}
		}},
		{"time without zone", `{"id":"t","dueDateTime":"2019-02-17T06:22:31.1234567"}`, func(t *testing.T, v *Task) {
			want := time.Date(2019, 2, 17, 6, 22, 31, 123456700, time.UTC)
			if !v.DueDateTime.Equal(want) {
				t.Errorf("due %v, want %v", v.DueDateTime, want)
			}
		}},
		{"time with offset", `{"id":"t","dueDateTime":"2019-02-17T08:22:31+02:00"}`, func(t *testing.T, v *Task) {
			if !v.DueDateTime.Equal(time.Date(2019, 2, 17, 6, 22, 31, 0, time.UTC)) || v.DueDateTime.Location() != time.UTC {
				t.Errorf("due %v", v.DueDateTime)
			}
		}},
		{"empty time", `{"id":"t","dueDateTime":""}`, func(t *testing.T, v *Task) {
			if !v.DueDateTime.IsZero() {
				t.Errorf("due %v", v.DueDateTime)
			}
		}},
		{"unknown properties and odata type casing", `{"id":"t","isArchived":false,"recurrence":{"x":1},"@odata.Type":"#Microsoft.Graph.PlannerTask",
			"assignments":{"u":{"@odata.type":"#MICROSOFT.GRAPH.PLANNERASSIGNMENT","orderHint":"a","future":[1,2]}}}`,
			func(t *testing.T, v *Task) {
				if v.Assignments["u"].OrderHint != "a" {
					t.Errorf("%+v", v.Assignments)
				}
			}},
		{"open-type keys that are not GUIDs", `{"id":"t","appliedCategories":{"category25":true,"weird key!":false},"assignments":{"not-a-guid":{"orderHint":" !"},"x":null}}`,
			func(t *testing.T, v *Task) {
				if !v.AppliedCategories["category25"] || v.AppliedCategories["weird key!"] {
					t.Errorf("%v", v.AppliedCategories)
				}
				if _, ok := v.Assignments["not-a-guid"]; !ok {
					t.Errorf("%v", v.Assignments)
				}
			}},
		{"etag", `{"id":"t","@odata.etag":"W/\"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc=\""}`, func(t *testing.T, v *Task) {
			if v.ETag != `W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc="` {
				t.Errorf("etag %q", v.ETag)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Task
			if err := decodeInto([]byte(tt.json), &v); err != nil {
				t.Fatal(err)
			}
			tt.check(t, &v)
		})
	}
	t.Run("bad time", func(t *testing.T) {
		var v Task
		err := decodeInto([]byte(`{"dueDateTime":"tomorrow"}`), &v)
		if err == nil || !strings.Contains(err.Error(), "graph: ") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("details with unencoded and odd keys", func(t *testing.T) {
		var d TaskDetails
		err := decodeInto([]byte(`{"id":"d","references":{"https%3A//a%2Eb/c%2520d":{"alias":"A"},"plain":{"alias":"P"},"bad%zz":{"alias":"B"}},"checklist":{"1":{"title":"one","isChecked":true}}}`), &d)
		if err != nil {
			t.Fatal(err)
		}
		// Keys as Graph holds them; URL undoes only the documented encoding.
		for key, want := range map[string][2]string{
			"https%3A//a%2Eb/c%2520d": {"A", "https://a.b/c%20d"},
			"plain":                   {"P", "plain"},
			"bad%zz":                  {"B", "bad%zz"},
		} {
			if r := d.References[key]; r.Alias != want[0] || r.URL != want[1] {
				t.Errorf("references[%q] = %+v, want alias %q URL %q", key, r, want[0], want[1])
			}
		}
		if !*d.Checklist["1"].IsChecked {
			t.Errorf("checklist %v", d.Checklist)
		}
	})
	t.Run("marshal", func(t *testing.T) {
		b, err := json.Marshal(&Task{ID: "t", DueDateTime: &DateTime{time.Date(2026, 1, 2, 3, 4, 5, 6700, time.FixedZone("x", 3600))}, StartDateTime: &DateTime{}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"dueDateTime":"2026-01-02T02:04:05.0000067Z"`) || !strings.Contains(string(b), `"startDateTime":null`) {
			t.Errorf("%s", b)
		}
	})
}

func TestEncodeReferenceKey(t *testing.T) {
	tests := []struct{ url, key string }{
		{"https://contoso.sharepoint.com/a b.docx", "https%3A//contoso%2Esharepoint%2Ecom/a b%2Edocx"},
		{"http://www.microsoft.com", "http%3A//www%2Emicrosoft%2Ecom"},
		{"https://x.com/a%20b#frag", "https%3A//x%2Ecom/a%2520b%23frag"},
		{"mailto:a@b.c", "mailto%3Aa%40b%2Ec"},
		{"%", "%25"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := EncodeReferenceKey(tt.url); got != tt.key {
			t.Errorf("EncodeReferenceKey(%q) = %q, want %q", tt.url, got, tt.key)
		}
		if got := DecodeReferenceKey(tt.key); got != tt.url {
			t.Errorf("DecodeReferenceKey(%q) = %q, want %q", tt.key, got, tt.url)
		}
	}
}

func TestHelpers(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewChecklistItemID()
		if len(id) != 36 || id[14] != '4' || strings.Count(id, "-") != 4 || !strings.ContainsRune("89ab", rune(id[19])) || seen[id] {
			t.Fatalf("NewChecklistItemID() = %q", id)
		}
		seen[id] = true
	}
	hints := []struct{ prev, next, want string }{
		{"", "", " !"}, {"a", "", "a !"}, {"", "b", " b!"}, {"a", "b", "a b!"},
	}
	for _, h := range hints {
		if got := OrderHintBetween(h.prev, h.next); got != h.want {
			t.Errorf("OrderHintBetween(%q, %q) = %q, want %q", h.prev, h.next, got, h.want)
		}
	}
	if OrderHintFirst("b") != " b!" || OrderHintLast("a") != "a !" {
		t.Error("OrderHintFirst/Last")
	}
	if a := NewAssignment(" !"); a.ODataType != ODataAssignment || a.OrderHint != " !" {
		t.Errorf("NewAssignment: %+v", a)
	}
}
