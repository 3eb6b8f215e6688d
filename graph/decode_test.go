package graph

import (
	"bytes"
	"encoding/json"
	"errors"
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

// stdDetails is TaskDetails without its decoding methods, for decoding
// with encoding/json alone.
type stdDetails TaskDetails

// stdDecode decodes b into a new T with encoding/json alone: the meaning
// the models' json tags have always had.
func stdDecode[T any](b []byte) (*T, error) {
	v := new(T)
	if d, ok := any(v).(*TaskDetails); ok {
		if err := json.Unmarshal(b, (*stdDetails)(d)); err != nil {
			return v, err
		}
		for k, r := range d.References {
			r.URL = DecodeReferenceKey(k)
			d.References[k] = r
		}
		return v, nil
	}
	return v, json.Unmarshal(b, v)
}

// sameAsStdlib checks that the client decodes b into exactly what
// encoding/json decodes it into (times and their locations included), and
// that it refuses what encoding/json refuses.
func sameAsStdlib[T any](t *testing.T, name string, b []byte) {
	t.Helper()
	want, werr := stdDecode[T](b)
	got := new(T)
	gerr := decodeInto(b, got)
	switch {
	case werr != nil && gerr == nil:
		t.Errorf("%s: decoded a document encoding/json refuses (%v)\n%s", name, werr, excerpt(b, 300))
	case werr == nil && gerr != nil:
		t.Errorf("%s: %v; encoding/json decodes it\n%s", name, gerr, excerpt(b, 300))
	case werr == nil && !reflect.DeepEqual(want, got):
		t.Errorf("%s: decoded differently from encoding/json (-stdlib +client):\n%s\n%s", name, cmp.Diff(want, got), excerpt(b, 300))
	}
}

// emulatorDocs fetches bodies from the emulator's awkward tenant (quotes,
// emoji, RTL text, long descriptions, 20-item checklists, encoded reference
// keys, identity sets of users and applications): task pages, tasks,
// details, plans, plan details, buckets and a $batch envelope of details.
func emulatorDocs(t *testing.T) map[string][]byte {
	t.Helper()
	srv := graphtest.NewServer(t, graphtest.WithGenerated(graphtest.GenSpec{Seed: 11, Plans: 2, TasksPerPlan: 40, BucketsPerPlan: 3, Awkward: true}),
		graphtest.WithPageSize(25))
	get := func(method, path, body string) []byte {
		req, err := http.NewRequest(method, srv.GraphURL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+srv.Token())
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s %v", method, path, res.StatusCode, b, err)
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

// TestDecodeMatchesEncodingJSON decodes what the emulator's awkward tenant
// sends and the documentation's examples as encoding/json does.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	docs := emulatorDocs(t)
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = b
	}
	for name, b := range docs {
		switch {
		case strings.HasPrefix(name, "tasks page"):
			sameAsStdlib[page[Task]](t, name, b)
		case strings.HasPrefix(name, "buckets page"):
			sameAsStdlib[page[Bucket]](t, name, b)
		case strings.HasPrefix(name, "details "), name == "plannerTaskDetails.json":
			sameAsStdlib[TaskDetails](t, name, b)
		case strings.HasPrefix(name, "task "), name == "plannerTask.json":
			sameAsStdlib[Task](t, name, b)
		case name == "plan", name == "plannerPlan.json":
			sameAsStdlib[Plan](t, name, b)
		case name == "plan details", name == "plannerPlanDetails.json":
			sameAsStdlib[PlanDetails](t, name, b)
		case name == "plannerBucket.json":
			sameAsStdlib[Bucket](t, name, b)
		case name == "plannerAssignedToTaskBoardTaskFormat.json":
			sameAsStdlib[AssignedToTaskBoardFormat](t, name, b)
		case name == "group.json":
			sameAsStdlib[Group](t, name, b)
		case name == "user.json":
			sameAsStdlib[User](t, name, b)
		case name == "batch":
			checkEnvelope(t, b)
		default:
			t.Errorf("no model for %s", name)
		}
	}
}

// checkEnvelope decodes a $batch envelope of task details as postBatch does
// and compares each reply with encoding/json's reading of it.
func checkEnvelope(t *testing.T, b []byte) {
	t.Helper()
	var want struct {
		Responses []struct {
			ID      string            `json:"id"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	env := batchEnvelope{Responses: batchReplies{into: func(string) func() any { return intoNew[TaskDetails] }}}
	if err := decodeInto(b, &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Responses.list) != len(want.Responses) || len(want.Responses) == 0 {
		t.Fatalf("%d replies, want %d", len(env.Responses.list), len(want.Responses))
	}
	for i, w := range want.Responses {
		r := env.Responses.list[i]
		if r.ID != w.ID || r.Status != w.Status || !reflect.DeepEqual(r.Headers, w.Headers) || r.Body.raw != nil || r.Body.err != nil {
			t.Errorf("reply %d: %+v, want %+v", i, r, w)
			continue
		}
		d, err := stdDecode[TaskDetails](w.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := r.Body.value.(*TaskDetails); !reflect.DeepEqual(got, d) {
			t.Errorf("reply %d decoded differently from encoding/json (-stdlib +client):\n%s", i, cmp.Diff(d, got))
		}
	}
}

// decodeCases are documents whose reading must not change: nulls, unknown
// members, keys in another case than the tags', members given twice,
// escapes, invalid UTF-8, numbers that are not plain integers, date-times
// with 0 to 9 fractional digits, and documents that are not JSON.
var decodeCases = []string{
	`{}`, ` { } `, `{"id":"a"}`, `{"id":null}`, `{"id":"a","id":"b"}`, `{"id":"a","id":null}`, `{"ID":"a"}`, `{"Id":"a","id":"b"}`,
	`{"plan_id":"p"}`, `{"PLANID":"p"}`, `{"ſtartDateTime":"2025-12-28T00:00:00Z"}`, `{"\u0069d":"escaped key"}`,
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
	`{"dueDateTime":"2025-12-28T00:00:00.1Z"}`, `{"dueDateTime":"2025-12-28T00:00:00.12Z"}`,
	`{"dueDateTime":"2025-12-28T00:00:00+02:00"}`, `{"dueDateTime":"2025-12-28T00:00:00"}`, `{"dueDateTime":"2025-12-28"}`,
	`{"dueDateTime":"2025-02-29T00:00:00Z"}`, `{"dueDateTime":"2024-02-29T00:00:00Z"}`, `{"dueDateTime":"2025-04-31T00:00:00Z"}`,
	`{"dueDateTime":"2025-12-28T24:00:00Z"}`, `{"dueDateTime":"2025-12-28T23:59:60Z"}`, `{"dueDateTime":"2025-13-01T00:00:00Z"}`,
	`{"dueDateTime":""}`, `{"dueDateTime":null}`, `{"dueDateTime":5}`, `{"dueDateTime":"2025-12-28T00:00:00.Z"}`,
	`{"dueDateTime":"2025\u002d12-28T00:00:00Z"}`, `{"dueDateTime":"0001-01-01T00:00:00Z"}`, `{"dueDateTime":"junk"}`,
	`{"createdBy":{"user":{"id":"u1","displayName":null},"application":{"id":"a1"}}}`, `{"createdBy":null}`,
	`{"createdBy":{"user":null}}`, `{"createdBy":{"user":{"id":"u1"},"user":{"displayName":"x"}}}`, `{"createdBy":{"User":{"id":"u"}}}`,
	`{"createdBy":{"other":{"deep":[1,2,{"x":[]}]},"user":{"id":"u"}}}`, `{"createdBy":"u1"}`, `{"createdBy":{"user":{"id":5}}}`,
	`{"assignments":{}}`, `{"assignments":null}`, `{"assignments":{"u1":null}}`, `{"assignments":{"u1":{"orderHint":" !"},"u1":{"@odata.type":"t"}}}`,
	`{"assignments":{"u1":{"assignedBy":{"user":{"id":"u2"}},"assignedDateTime":"2025-01-02T03:04:05Z","@odata.type":"#microsoft.graph.plannerAssignment"}}}`,
	`{"assignments":{"u\u0031":{}}}`, `{"assignments":[]}`, `{"appliedCategories":{"category1":true,"category2":false,"category3":null}}`,
	`{"appliedCategories":{"category1":"yes"}}`, `{"unknown":{"a":[1,{"b":null}],"c":"\u00e9"},"id":"x"}`, `{"unknown":[1,2,]}`,
	`{"unknown":{"a":1,}}`, `{"unknown":1e999}`, `{"unknown":-1.5e-3}`, `{"unknown":0.}`, `{"unknown":.5}`, `{"unknown":tRue}`,
	`{"id":"a"} x`, `{"id":"a"}{}`, `{"id":"a"`, `{"id":"a",`, `{"id"`, `{`, ``, ` `, `null`, `[]`, `"s"`, `{"id":"a",}`, `{,}`,
	`{"id" "a"}`, "{\"id\":\"a\"}\n\t ", `{"@odata.etag":"W/\"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc=\""}`,
	strings.Repeat(`{"unknown":`, 20) + `1` + strings.Repeat(`}`, 20),
}

// TestDecodeEdgeCases reads awkward documents as encoding/json does, as
// tasks, pages of tasks, plans, buckets and task and plan details.
func TestDecodeEdgeCases(t *testing.T) {
	for i, c := range decodeCases {
		b := []byte(c)
		sameAsStdlib[Task](t, fmt.Sprintf("task %d %s", i, c), b)
		sameAsStdlib[page[Task]](t, fmt.Sprintf("page %d %s", i, c), []byte(`{"value":[`+c+`],"@odata.nextLink":"n"}`))
		sameAsStdlib[Plan](t, fmt.Sprintf("plan %d %s", i, c), b)
		sameAsStdlib[Bucket](t, fmt.Sprintf("bucket %d %s", i, c), b)
	}
	details := []string{
		`{"id":"t","description":"line1\nline2\r\n\ttabbed \"quoted\" – dash","previewType":"checklist"}`,
		`{"checklist":{"4a1c":{"@odata.type":"#microsoft.graph.plannerChecklistItem","title":"Step","isChecked":true,"orderHint":"8585","lastModifiedBy":{"user":{"id":"u"}},"lastModifiedDateTime":"2025-01-01T00:00:00.1Z"}}}`,
		`{"checklist":{"a":null,"b":{"isChecked":null}}}`, `{"checklist":{"a":{"isChecked":"true"}}}`,
		`{"references":{"https%3A//contoso%2Ecom/a%2Edocx":{"alias":"A","type":"Word","previewPriority":" !"}}}`,
		`{"references":{"a%zz":{"alias":"bad escape kept"}}}`, `{"references":{}}`, `{"references":null}`,
		`{"references":{"k":{"alias":"1"},"k":{"alias":"2"}}}`, `{"references":{"k":null}}`,
		`{"references":{"https%3A//x%2Ecom":{"alias":"1"},"https://x.com":{"alias":"2"}}}`,
		`{"Description":"case"}`, `{"description":"a","description":"b"}`,
	}
	for i, c := range append(details, decodeCases...) {
		sameAsStdlib[TaskDetails](t, fmt.Sprintf("details %d %s", i, c), []byte(c))
	}
	plans := []string{
		`{"id":"p","container":{"containerId":"g","type":"group","url":"https://graph.microsoft.com/v1.0/groups/g"}}`,
		`{"container":null}`, `{"container":"x"}`, `{"container":{"Type":"group"}}`, `{"owner":"g","title":"T"}`,
	}
	for i, c := range plans {
		sameAsStdlib[Plan](t, fmt.Sprintf("plan %d %s", i, c), []byte(c))
	}
	planDetails := []string{
		`{"id":"p","sharedWith":{"u1":true,"u2":false},"categoryDescriptions":{"category1":"Red","category2":null}}`,
		`{"categoryDescriptions":null}`, `{"categoryDescriptions":{"category1":1}}`, `{"sharedWith":{"u":null}}`,
	}
	for i, c := range planDetails {
		sameAsStdlib[PlanDetails](t, fmt.Sprintf("plan details %d %s", i, c), []byte(c))
	}
}

// FuzzDecode checks that for any input the client decodes what
// encoding/json decodes, and refuses what it refuses.
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 60s ./graph/
func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"value":[{"id":"a","assignments":{"u":{"assignedDateTime":"2025-01-02T03:04:05Z"}}}],"@odata.nextLink":"n"}`))
	f.Add([]byte(`{"checklist":{"a":{"title":"x"}},"references":{"https%3A//x":{"alias":"y"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsStdlib[Task](t, "task", b)
		sameAsStdlib[page[Task]](t, "page", b)
		sameAsStdlib[TaskDetails](t, "details", b)
		sameAsStdlib[PlanDetails](t, "plan details", b)
		sameAsStdlib[Plan](t, "plan", b)
	})
}

// TestBatchRepliesDecodedOnce decodes $batch envelopes as postBatch does:
// a 2xx body straight into its model, anything else kept as sent.
func TestBatchRepliesDecodedOnce(t *testing.T) {
	type want struct {
		id, title string // a Task decoded with the envelope
		raw       string // or the body kept as sent
		bad       bool   // or a body that is not a Task
		none      bool   // or no body at all
	}
	tests := []struct {
		name string
		env  string
		want []want
	}{
		{"status before body", `{"responses":[{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":"t1","title":"One"}}]}`,
			[]want{{id: "1", title: "One"}}},
		{"error body kept", `{"responses":[{"id":"2","status":404,"body":{"error":{"code":"NotFound","message":"gone <&>"}}}]}`,
			[]want{{id: "2", raw: `{"error":{"code":"NotFound","message":"gone <&>"}}`}}},
		{"body before status kept", `{"responses":[{"body":{"id":"t3","title":"Three"},"status":200,"id":"3"}]}`,
			[]want{{id: "3", raw: `{"id":"t3","title":"Three"}`}}},
		{"null body", `{"responses":[{"id":"4","status":200,"body":null}]}`, []want{{id: "4"}}},
		{"no body", `{"responses":[{"id":"4","status":204}]}`, []want{{id: "4", none: true}}},
		{"a body that is not a task fails alone", `{"responses":[{"id":"5","status":200,"body":{"id":5,"title":[1,{"x":2}]}},{"id":"6","status":200,"body":"aGVsbG8="},{"id":"7","status":200,"body":{"title":"Seven"}}]}`,
			[]want{{id: "5", bad: true}, {id: "6", bad: true}, {id: "7", title: "Seven"}}},
		{"keys in another case", `{"Responses":[{"ID":"8","Status":200,"Body":{"Title":"Eight"}}]}`, []want{{id: "8", title: "Eight"}}},
		{"unknown members", `{"responses":[{"id":"9","x":{"status":500},"status":201,"body":{"title":"Nine","y":[]}}],"z":1}`, []want{{id: "9", title: "Nine"}}},
		{"a body given twice", `{"responses":[{"id":"10","status":200,"body":{"title":"First"},"body":[]},{"id":"11","status":200,"body":[],"body":{"title":"Last"}}]}`,
			[]want{{id: "10", bad: true}, {id: "11", title: "Last"}}},
		{"no responses", `{"responses":null}`, nil},
		{"empty", `{"responses":[]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := batchEnvelope{Responses: batchReplies{into: func(string) func() any { return intoNew[Task] }}}
			if err := decodeInto([]byte(tt.env), &env); err != nil {
				t.Fatal(err)
			}
			if len(env.Responses.list) != len(tt.want) {
				t.Fatalf("%d replies, want %d", len(env.Responses.list), len(tt.want))
			}
			for i, w := range tt.want {
				r := env.Responses.list[i]
				got, _ := r.Body.value.(*Task)
				switch {
				case r.ID != w.id:
					t.Errorf("reply %d: id %q, want %q", i, r.ID, w.id)
				case w.none:
					if r.Body.raw != nil || r.Body.value != nil || r.Body.err != nil {
						t.Errorf("reply %d: a body %+v", i, r.Body)
					}
				case w.bad:
					if r.Body.err == nil || got != nil {
						t.Errorf("reply %d: %+v decoded without error", i, got)
					}
				case w.raw != "" || r.Body.raw != nil:
					if string(r.Body.raw) != w.raw || got != nil {
						t.Errorf("reply %d: raw %s (value %+v), want %s", i, r.Body.raw, got, w.raw)
					}
				case r.Body.err != nil || got == nil || got.Title != w.title:
					t.Errorf("reply %d: %+v (%v), want title %q", i, got, r.Body.err, w.title)
				}
			}
		})
	}
	// A body kept as sent is decoded when it is read: the same Task.
	resp := BatchResponse{Status: 200, Body: json.RawMessage(`{"id":"t3","title":"Three"}`)}
	if tk, err := decodedAs[Task](&resp); err != nil || tk.ID != "t3" || tk.Title != "Three" {
		t.Errorf("decodedAs: %+v %v", tk, err)
	}
	for _, bad := range []string{`{"responses":{}}`, `{"responses":"x"}`, `{"responses":[1]}`, `{"responses":[{"id":"1","status":"200"}]}`,
		`{"responses":[{"id":"1","status":200,"body":{"title":}}]}`, `{"responses":[]} x`} {
		env := batchEnvelope{Responses: batchReplies{into: func(string) func() any { return intoNew[Task] }}}
		if err := decodeInto([]byte(bad), &env); err == nil {
			t.Errorf("%s: decoded without error", bad)
		}
	}
}

// TestCutBodiesEndEarly checks that a body cut anywhere — a page, details,
// a $batch envelope inside an item's body — is an early end (retried as a
// broken connection), never a document decoded in part.
func TestCutBodiesEndEarly(t *testing.T) {
	docs := emulatorDocs(t)
	for _, name := range []string{"tasks page", "batch"} {
		b := docs[name]
		step := max(1, len(b)/1500)
		for n := 0; n < len(b); n += step {
			cut := bytes.TrimRight(b[:n], " \t\r\n")
			var err error
			if name == "batch" {
				env := batchEnvelope{Responses: batchReplies{into: func(string) func() any { return intoNew[TaskDetails] }}}
				err = decodeInto(cut, &env)
			} else {
				err = decodeInto(cut, new(page[Task]))
			}
			if !endedEarly(err) {
				t.Fatalf("%s cut after %d of %d bytes: %v, want an early end", name, n, len(b), err)
			}
		}
	}
	var se *json.SyntaxError
	if err := decodeInto([]byte(`{"id":"a"}}`), new(Task)); err == nil || endedEarly(err) || errors.As(err, &se) {
		t.Errorf("a body with a byte too many: %v", err)
	}
}
