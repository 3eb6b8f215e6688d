package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plannersql/planner/graph/graphtest"
)

// fastOnly decodes b into a new T with the fast decoder alone, reporting
// whether it accepted the document.
func fastOnly[T any](b []byte) (*T, bool) {
	v := new(T)
	fd, ok := any(v).(fastDecoder)
	if !ok {
		return nil, false
	}
	d := decoder{b: b}
	if fd.decodeFast(&d) != nil {
		return nil, false
	}
	d.ws()
	return v, d.i == len(b)
}

// sameAsStdlib checks that decodeInto gives exactly what encoding/json gives
// for b — the value (time locations included) and the error text — and
// reports whether the fast decoder took the document. When it declines, the
// value is encoding/json's by construction, so only errors are compared.
func sameAsStdlib[T any](t *testing.T, name string, b []byte) bool {
	t.Helper()
	want, got := new(T), new(T)
	werr := json.Unmarshal(b, want)
	gerr := decodeInto(b, got)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Errorf("%s: error %v, encoding/json says %v\n%s", name, gerr, werr, excerpt(b, 300))
		return false
	}
	fast, ok := fastOnly[T](b)
	if !ok {
		return false
	}
	if werr != nil {
		t.Errorf("%s: the fast decoder accepted a document encoding/json rejects (%v)", name, werr)
	} else if !reflect.DeepEqual(want, fast) || !reflect.DeepEqual(want, got) {
		t.Errorf("%s: decoded differently from encoding/json (-stdlib +fast):\n%s\n%s", name, cmp.Diff(want, fast), excerpt(b, 300))
	}
	return true
}

// emulatorDocs fetches real bodies from the emulator's awkward tenant: task
// pages, details, plans, plan details, buckets and a $batch envelope.
func emulatorDocs(t *testing.T) map[string][]byte {
	t.Helper()
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 11, Plans: 2, TasksPerPlan: 40, BucketsPerPlan: 3, Awkward: true}),
		graphtest.WithPageSize(25))
	get := func(method, path, body string) []byte {
		req, _ := http.NewRequest(method, srv.GraphURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+srv.Token())
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		return b
	}
	docs := map[string][]byte{}
	plan := srv.PlanIDs()[0]
	docs["tasks page"] = get("GET", "/planner/plans/"+plan+"/tasks", "")
	docs["plan"] = get("GET", "/planner/plans/"+plan, "")
	docs["plan details"] = get("GET", "/planner/plans/"+plan+"/details", "")
	docs["buckets page"] = get("GET", "/planner/plans/"+plan+"/buckets", "")
	var reqs []string
	for i, id := range srv.TaskIDs(plan) {
		docs["details "+id] = get("GET", "/planner/tasks/"+id+"/details", "")
		docs["task "+id] = get("GET", "/planner/tasks/"+id, "")
		if i < 20 {
			reqs = append(reqs, fmt.Sprintf(`{"id":"%d","method":"GET","url":"/planner/tasks/%s/details"}`, i+1, id))
		}
	}
	docs["batch"] = get("POST", "/$batch", `{"requests":[`+strings.Join(reqs, ",")+`]}`)
	return docs
}

// TestFastDecodingMatchesStdlib decodes the emulator's documents (quotes,
// emoji, RTL text, long descriptions, 20-item checklists, encoded reference
// keys) and the documentation's examples both ways.
func TestFastDecodingMatchesStdlib(t *testing.T) {
	for name, b := range emulatorDocs(t) {
		var fast bool
		switch {
		case strings.HasPrefix(name, "tasks page"):
			fast = sameAsStdlib[page[Task]](t, name, b)
		case strings.HasPrefix(name, "buckets page"):
			fast = sameAsStdlib[page[Bucket]](t, name, b)
		case strings.HasPrefix(name, "details"):
			fast = sameAsStdlib[TaskDetails](t, name, b)
		case strings.HasPrefix(name, "task "):
			fast = sameAsStdlib[Task](t, name, b)
		case name == "plan":
			fast = sameAsStdlib[Plan](t, name, b)
		case name == "plan details":
			fast = sameAsStdlib[PlanDetails](t, name, b)
		case name == "batch":
			fast = sameAsStdlib[batchEnvelope](t, name, b)
			env, _ := fastOnly[batchEnvelope](b)
			for _, r := range env.Responses {
				sameAsStdlib[TaskDetails](t, "batch item "+r.ID, r.Body)
			}
		}
		if !fast {
			t.Errorf("%s: the fast decoder declined a document of the emulator", name)
		}
	}
	files, _ := filepath.Glob("testdata/planner*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Base(f) {
		case "plannerTask.json":
			sameAsStdlib[Task](t, f, b)
		case "plannerTaskDetails.json":
			sameAsStdlib[TaskDetails](t, f, b)
		case "plannerPlan.json":
			sameAsStdlib[Plan](t, f, b)
		case "plannerPlanDetails.json":
			sameAsStdlib[PlanDetails](t, f, b)
		case "plannerBucket.json":
			sameAsStdlib[Bucket](t, f, b)
		}
	}
}

// decodeCases are documents that exercise what the fast decoder must get
// exactly right or leave to encoding/json.
var decodeCases = []string{
	`{}`, ` { } `, `{"id":"a"}`, `{"id":null}`, `{"id":"a","id":"b"}`, `{"ID":"a"}`, `{"Id":"a","id":"b"}`,
	`{"title":"quote \" backslash \\ slash \/ nl \n tab \t uni \u00e9 \u20AC pair \ud83d\ude00"}`,
	`{"title":"lone \ud83d end"}`, `{"title":"lone low \ude00"}`, `{"title":"bad \ud83d\u0041"}`,
	"{\"title\":\"invalid utf8 \xff\xfe here\"}", "{\"title\":\"ctl \x01\"}", `{"title":"bad escape \x"}`,
	`{"title":"RTL עברית emoji 👍🏽 zwj 👨‍👩‍👧"}`, `{"title":"\u0000nul"}`,
	`{"percentComplete":50}`, `{"percentComplete":-0}`, `{"percentComplete":50.0}`, `{"percentComplete":5e1}`,
	`{"percentComplete":"50"}`, `{"percentComplete":null}`, `{"percentComplete":01}`, `{"percentComplete":99999999999999999999}`,
	`{"percentComplete":123456789012345678}`, `{"percentComplete":-}`, `{"priority":true}`,
	`{"hasDescription":true}`, `{"hasDescription":null}`, `{"hasDescription":1}`, `{"hasDescription":tru}`,
	`{"dueDateTime":"2025-12-28T00:00:00Z"}`, `{"dueDateTime":"2025-12-28T00:00:00.1234567Z"}`,
	`{"dueDateTime":"2025-12-28T00:00:00.123456789Z"}`, `{"dueDateTime":"2025-12-28T00:00:00.1234567891Z"}`,
	`{"dueDateTime":"2025-12-28T00:00:00+02:00"}`, `{"dueDateTime":"2025-12-28T00:00:00"}`, `{"dueDateTime":"2025-12-28"}`,
	`{"dueDateTime":"2025-02-29T00:00:00Z"}`, `{"dueDateTime":"2024-02-29T00:00:00Z"}`, `{"dueDateTime":"2025-04-31T00:00:00Z"}`,
	`{"dueDateTime":"2025-12-28T24:00:00Z"}`, `{"dueDateTime":"2025-12-28T23:59:60Z"}`, `{"dueDateTime":"2025-13-01T00:00:00Z"}`,
	`{"dueDateTime":""}`, `{"dueDateTime":null}`, `{"dueDateTime":5}`, `{"dueDateTime":"2025-12-28T00:00:00.Z"}`,
	`{"dueDateTime":"2025\u002d12-28T00:00:00Z"}`, `{"dueDateTime":"0000-01-01T00:00:00Z"}`, `{"dueDateTime":"junk"}`,
	`{"createdBy":{"user":{"id":"u1","displayName":null},"application":{"id":"a1"}}}`, `{"createdBy":null}`,
	`{"createdBy":{"user":null}}`, `{"createdBy":{"user":{"id":"u1"},"user":{"displayName":"x"}}}`, `{"createdBy":{"User":{"id":"u"}}}`,
	`{"createdBy":{"other":{"deep":[1,2,{"x":[]}]},"user":{"id":"u"}}}`, `{"createdBy":"u1"}`, `{"createdBy":{"user":{"id":5}}}`,
	`{"assignments":{}}`, `{"assignments":null}`, `{"assignments":{"u1":null}}`, `{"assignments":{"u1":{"orderHint":" !"},"u1":{"@odata.type":"t"}}}`,
	`{"assignments":{"u1":{"assignedBy":{"user":{"id":"u2"}},"assignedDateTime":"2025-01-02T03:04:05Z","@odata.type":"#microsoft.graph.plannerAssignment"}}}`,
	`{"assignments":{"u\u0031":{}}}`, `{"assignments":[]}`, `{"appliedCategories":{"category1":true,"category2":false,"category3":null}}`,
	`{"appliedCategories":{"category1":"yes"}}`, `{"unknown":{"a":[1,{"b":null}],"c":"\u00e9"},"id":"x"}`, `{"unknown":[1,2,]}`,
	`{"unknown":{"a":1,}}`, `{"unknown":1e999}`, `{"unknown":-1.5e-3}`, `{"unknown":0.}`, `{"unknown":.5}`, `{"unknown":tRue}`,
	`{"ſtartDateTime":"2025-12-28T00:00:00Z"}`, `{"\u0069d":"escaped key"}`, `{"id":"a"} x`, `{"id":"a"}{}`, `{"id":"a"`, `{"id":"a",`,
	`{"id"`, `{`, ``, ` `, `null`, `[]`, `"s"`, `{"id":"a",}`, `{,}`, `{"id" "a"}`, "{\"id\":\"a\"}\n\t ",
	`{"@odata.etag":"W/\"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc=\""}`, strings.Repeat(`{"unknown":`, 20) + `1` + strings.Repeat(`}`, 20),
	strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001),
	`{"unknown":` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001) + `}`,
}

func TestFastDecodingEdgeCases(t *testing.T) {
	for i, c := range decodeCases {
		b := []byte(c)
		sameAsStdlib[Task](t, fmt.Sprintf("task %d", i), b)
		sameAsStdlib[page[Task]](t, fmt.Sprintf("page %d", i), []byte(`{"value":[`+c+`],"@odata.nextLink":"n"}`))
		sameAsStdlib[Plan](t, fmt.Sprintf("plan %d", i), b)
		sameAsStdlib[Bucket](t, fmt.Sprintf("bucket %d", i), b)
	}
	details := []string{
		`{"id":"t","description":"line1\nline2\r\n\ttabbed \"quoted\" – dash","previewType":"checklist"}`,
		`{"checklist":{"4a1c":{"@odata.type":"#microsoft.graph.plannerChecklistItem","title":"Step","isChecked":true,"orderHint":"8585","lastModifiedBy":{"user":{"id":"u"}},"lastModifiedDateTime":"2025-01-01T00:00:00.1Z"}}}`,
		`{"checklist":{"a":null,"b":{"isChecked":null}}}`, `{"checklist":{"a":{"isChecked":"true"}}}`,
		`{"references":{"https%3A//contoso%2Ecom/a%2Edocx":{"alias":"A","type":"Word","previewPriority":" !"}}}`,
		`{"references":{"a%zz":{"alias":"bad escape kept"}}}`, `{"references":{}}`, `{"references":null}`,
		`{"references":{"k":{"alias":"1"},"k":{"alias":"2"}}}`, `{"references":{"k":null}}`,
		`{"Description":"case"}`, `{"description":"a","description":"b"}`,
	}
	for i, c := range append(details, decodeCases...) {
		sameAsStdlib[TaskDetails](t, fmt.Sprintf("details %d", i), []byte(c))
	}
	// Two reference keys that name the same URL are both kept.
	if d, fast := fastOnly[TaskDetails]([]byte(`{"references":{"https%3A//x%2Ecom":{"alias":"1"},"https://x.com":{"alias":"2"}}}`)); !fast || len(d.References) != 2 ||
		d.References["https%3A//x%2Ecom"].URL != "https://x.com" || d.References["https://x.com"].URL != "https://x.com" {
		t.Errorf("references %+v (fast %v)", d, fast)
	}
	plans := []string{
		`{"id":"p","container":{"containerId":"g","type":"group","url":"https://graph.microsoft.com/v1.0/groups/g"}}`,
		`{"container":null}`, `{"container":"x"}`, `{"container":{"Type":"group"}}`, `{"owner":"g","title":"T"}`,
	}
	for i, c := range plans {
		sameAsStdlib[Plan](t, fmt.Sprintf("plan %d", i), []byte(c))
	}
	planDetails := []string{
		`{"id":"p","sharedWith":{"u1":true,"u2":false},"categoryDescriptions":{"category1":"Red","category2":null}}`,
		`{"categoryDescriptions":null}`, `{"categoryDescriptions":{"category1":1}}`, `{"sharedWith":{"u":null}}`,
	}
	for i, c := range planDetails {
		sameAsStdlib[PlanDetails](t, fmt.Sprintf("plan details %d", i), []byte(c))
	}
	envelopes := []string{
		`{"responses":[{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":"x"}},{"id":"2","status":404,"body":{"error":{"code":"","message":"gone"}}}]}`,
		`{"responses":[{"id":"1","status":204,"body":null}]}`, `{"responses":[{"id":"1","status":"200"}]}`,
		`{"responses":[{"id":"1","headers":{"Retry-After":null}}]}`, `{"responses":null}`, `{"responses":[]}`,
		`{"responses":[{"id":"1","body":{"unterminated":}}]}`, `{"responses":[{"id":"1","body":"aGVsbG8="}]}`,
	}
	for i, c := range envelopes {
		sameAsStdlib[batchEnvelope](t, fmt.Sprintf("envelope %d", i), []byte(c))
	}
}

// FuzzFastDecoding checks that for any input the fast decoder gives what
// encoding/json gives.
//
//	go test -run '^$' -fuzz FuzzFastDecoding -fuzztime 60s ./graph/
func FuzzFastDecoding(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"value":[{"id":"a","assignments":{"u":{"assignedDateTime":"2025-01-02T03:04:05Z"}}}],"@odata.nextLink":"n"}`))
	f.Add([]byte(`{"checklist":{"a":{"title":"x"}},"references":{"https%3A//x":{"alias":"y"}}}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":200,"headers":{"a":"b"},"body":{"id":"x"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsStdlib[Task](t, "task", b)
		sameAsStdlib[page[Task]](t, "page", b)
		sameAsStdlib[TaskDetails](t, "details", b)
		sameAsStdlib[PlanDetails](t, "plan details", b)
		sameAsStdlib[Plan](t, "plan", b)
		sameAsStdlib[batchEnvelope](t, "envelope", b)
	})
}
