package console

import (
	"maps"
	"net/http"
	"strings"
	"testing"
)

// jobsConfig is a hand-written config file: a sandbox profile and a job.
const jobsConfig = `# Hand-written: comments and layout must survive the console's edits.
[profiles.demo]   # the demo tenant
Sandbox = true

# The nightly copy.
[jobs.nightly]
source = "demo"
schedule = "every 1 day at 02:00"   # at night
script = "REPLICATE Tasks;"

[[jobs.nightly.destinations]]
url = "sqlite:{{dir}}/out.db"
`

// allPages are the console's pages (jobsConfig's names).
var allPages = []string{"/jobs", "/jobs/new", "/jobs/nightly", "/jobs/nightly/edit", "/connections",
	"/connections/sources/new", "/connections/sources/demo/edit", "/connections/destinations/new", "/alerts"}

// apiRoutes calls every API route once, in an order that makes each
// succeed on jobsConfig ({{dir}} and {{run}} are filled in).
var apiRoutes = []struct {
	method, path string
	body         any
	want         int
}{
	{"GET", "/api/session", nil, 200},
	{"GET", "/api/connections", nil, 200},
	{"POST", "/api/connections/sources", map[string]any{"name": "p2", "properties": map[string]string{"Sandbox": "true"}}, 201},
	{"GET", "/api/connections/sources/p2", nil, 200},
	{"PUT", "/api/connections/sources/p2", map[string]any{"properties": map[string]string{"MaxConcurrency": "4"}}, 200},
	{"POST", "/api/connections/sources/p2/test", nil, 200},
	{"GET", "/api/connections/sources/p2/catalog", nil, 200},
	{"POST", "/api/connections/sources/p2/signin", nil, 400}, // the sandbox needs no sign-in
	{"GET", "/api/connections/sources/p2/signin", nil, 404},  // none started
	{"DELETE", "/api/connections/sources/p2/signin", nil, 404},
	{"POST", "/api/connections/sources/p2/signout", nil, 400},
	{"POST", "/api/connections/destinations", map[string]any{"name": "d1", "url": "sqlite:{{dir}}/d1.db"}, 201},
	{"GET", "/api/connections/destinations/d1", nil, 200},
	{"PUT", "/api/connections/destinations/d1", map[string]any{"url": "sqlite:{{dir}}/d2.db"}, 200},
	{"POST", "/api/connections/destinations/d1/test", nil, 200},
	{"POST", "/api/connections/destinations/test", map[string]any{"url": "sqlite:{{dir}}/typed.db"}, 200},
	{"GET", "/api/jobs", nil, 200},
	{"POST", "/api/jobs", map[string]any{"name": "j2", "source": "p2", "tables": []string{"Plans"}, "destinations": []any{map[string]string{"destination": "d1"}}}, 201},
	{"GET", "/api/jobs/j2", nil, 200},
	{"PUT", "/api/jobs/j2", map[string]any{"source": "p2", "schedule": "hourly", "tables": []string{"Plans", "Tasks"}, "destinations": []any{map[string]string{"destination": "d1"}}}, 200},
	{"POST", "/api/jobs/j2/run", nil, 202},
	{"GET", "/api/runs/{{run}}?wait=30", nil, 200},
	{"GET", "/api/jobs/j2/runs", nil, 200},
	{"GET", "/api/jobs/j2/history", nil, 200},
	{"GET", "/api/jobs/j2/history/0/{{hist}}", nil, 200},
	{"POST", "/api/jobs/j2/cancel", nil, 409}, // not running any more
	{"POST", "/api/validate/script", map[string]string{"script": "REPLICATE Tasks"}, 200},
	{"GET", "/api/schedule?schedule=hourly", nil, 200},
	{"GET", "/api/alerts", nil, 200},
	{"PUT", "/api/alerts", map[string]any{"on": "failure"}, 200},
	{"POST", "/api/alerts/test", nil, 422}, // no channel set
	{"DELETE", "/api/jobs/j2", nil, 200},
	{"DELETE", "/api/connections/destinations/d1", nil, 200},
	{"DELETE", "/api/connections/sources/p2", nil, 200},
	{"POST", "/api/logout", nil, 200},
}

// TestEveryRoute calls every API route with a session: JSON answers, the
// expected status, errors with a message.
func TestEveryRoute(t *testing.T) {
	e := newEnv(t, jobsConfig, func(o *Options) { o.RunJob = realRun })
	e.start()
	s := e.session()
	run, hist := "", ""
	for _, rt := range apiRoutes {
		path := strings.NewReplacer("{{dir}}", e.dir, "{{run}}", run, "{{hist}}", hist).Replace(rt.path)
		body := rt.body
		if m, ok := body.(map[string]any); ok {
			if u, ok := m["url"].(string); ok {
				// A copy: apiRoutes is shared by every run of the test
				// (-count=N), each with its own directory.
				m = maps.Clone(m)
				m["url"] = strings.ReplaceAll(u, "{{dir}}", e.dir)
				body = m
			}
		}
		r := s.call(rt.method, path, body)
		if r.status != rt.want {
			t.Errorf("%s %s: %d, want %d: %.300s", rt.method, path, r.status, rt.want, r.body)
			continue
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: Content-Type %q", rt.method, path, r.header.Get("Content-Type"))
		}
		if rt.want >= 400 {
			if msg, _ := r.json["error"].(string); msg == "" {
				t.Errorf("%s %s: an error without a message: %s", rt.method, path, r.body)
			}
		}
		switch rt.path {
		case "/api/jobs/j2/run":
			run, _ = r.json["id"].(string)
		case "/api/runs/{{run}}?wait=30":
			// The routes after it need the run's history: wait for its end
			// (one wait may not be enough on a loaded machine).
			if d := s.finished(run); d.json["status"] != statusOK {
				t.Fatalf("the run of j2 did not succeed: %.1000s", d.body)
			}
		case "/api/jobs/j2/history":
			hist, _ = field(r.json, "destinations", 0, "runs", 0, "id").(string)
		}
	}
	// The hand-written parts of the file are as they were.
	cfg := e.readConfig()
	if !strings.HasPrefix(cfg, strings.ReplaceAll(jobsConfig, "{{dir}}", e.dir)) {
		t.Errorf("the config file lost its hand-written part:\n%s", cfg)
	}
}

// TestValidationErrors checks that bad input is refused with a 4xx JSON
// error naming the field at fault, and that nothing is written.
func TestValidationErrors(t *testing.T) {
	e := newEnv(t, jobsConfig+"\n[profiles.prod]\nTenant = \"contoso.onmicrosoft.com\"\n")
	s := e.session()
	dest := []any{map[string]string{"url": "sqlite:" + e.dir + "/v.db"}}
	job := func(kv ...any) map[string]any {
		m := map[string]any{"name": "j", "source": "demo", "tables": []string{"Tasks"}, "destinations": dest}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name         string
		method, path string
		body         any
		status       int
		field        string
		msg          string // part of the message
	}{
		{"source without name", "POST", "/api/connections/sources", map[string]any{"name": " "}, 422, "name", "give the source a name"},
		{"misspelt property", "POST", "/api/connections/sources", map[string]any{"name": "x", "properties": map[string]string{"Tenantt": "a"}}, 422, "properties.Tenantt", `did you mean "Tenant"`},
		{"bad property value", "POST", "/api/connections/sources", map[string]any{"name": "x", "properties": map[string]string{"MaxConcurrency": "0"}}, 422, "properties.MaxConcurrency", "MaxConcurrency"},
		{"bad enum", "POST", "/api/connections/sources", map[string]any{"name": "x", "properties": map[string]string{"AuthScheme": "Kerberos"}}, 422, "properties.AuthScheme", "AzureAD"},
		{"existing source", "POST", "/api/connections/sources", map[string]any{"name": "demo"}, 422, "name", "already exists"},
		{"the sandbox's name", "POST", "/api/connections/sources", map[string]any{"name": "Sandbox"}, 422, "name", "built-in"},
		{"slash in a name", "POST", "/api/connections/sources", map[string]any{"name": "a/b"}, 422, "name", "slashes"},
		{"clear a non-secret", "PUT", "/api/connections/sources/demo", map[string]any{"clear": []string{"Tenant"}}, 422, "clear", "secret"},
		{"profile names a profile", "PUT", "/api/connections/sources/demo", map[string]any{"properties": map[string]string{"Profile": "x"}}, 422, "properties.Profile", "profile"},
		{"unknown source", "PUT", "/api/connections/sources/nope", map[string]any{}, 404, "", `no source named "nope": the Connections page (GET /api/connections) lists the sources`},
		{"source used by a job", "DELETE", "/api/connections/sources/demo", nil, 409, "", "used by job nightly"},
		{"unknown destination kind", "POST", "/api/connections/destinations", map[string]any{"name": "d", "url": "ftp://x/y"}, 422, "url", "sqlite:PATH"},
		{"destination without URL", "POST", "/api/connections/destinations", map[string]any{"name": "d"}, 422, "url", "give the destination URL"},
		{"sqlite without path", "POST", "/api/connections/destinations", map[string]any{"name": "d", "url": "sqlite:"}, 422, "url", "file path"},
		{"job: prefix", "POST", "/api/connections/destinations", map[string]any{"name": "job:x", "url": "sqlite:a.db"}, 422, "name", "job:"},
		{"masked password of nothing", "POST", "/api/connections/destinations/test", map[string]any{"url": "postgres://u:********@h/db"}, 422, "url", "type the password"},
		{"job without source", "POST", "/api/jobs", job("source", ""), 422, "source", "choose the source"},
		{"job of an unknown source", "POST", "/api/jobs", job("source", "nope"), 422, "source", "no source named"},
		{"schedule too often", "POST", "/api/jobs", job("source", "prod", "schedule", "every 5m"), 422, "schedule", "10m"},
		{"schedule nonsense", "POST", "/api/jobs", job("schedule", "when I feel like it"), 422, "schedule", "accepted forms"},
		{"statement syntax", "POST", "/api/jobs", job("statements", "REPLICATE Tasks;\nREPLICATE X WITH Bogus"), 422, "statements", "line 2, column 18"},
		// Where the editor shows them: blank lines and indentation before
		// the statements count, as /api/validate/script counts them.
		{"statements after blank lines", "POST", "/api/jobs", job("statements", "\n\n  REPLICATE X WITH Bogus"), 422, "statements", "line 3, column 20"},
		{"indented statements", "POST", "/api/jobs", job("statements", "\tREPLICATE X WITH Bogus"), 422, "statements", "line 1, column 19"},
		{"unknown table", "POST", "/api/jobs", job("tables", []string{"Nope"}), 422, "tables", "no table named"},
		{"nothing to copy", "POST", "/api/jobs", job("tables", []string{}), 422, "tables", "pick at least one table"},
		{"script and tables", "POST", "/api/jobs", job("script", "REPLICATE ALL"), 422, "script", "not both"},
		{"bad script", "POST", "/api/jobs", job("tables", nil, "script", "REPLICATE"), 422, "script", "line 1"},
		{"no destination", "POST", "/api/jobs", job("destinations", []any{}), 422, "destinations", "at least one destination"},
		{"unknown named destination", "POST", "/api/jobs", job("destinations", []any{map[string]string{"destination": "nope"}}), 422, "destinations[0].destination", "no destination named"},
		{"bad destination URL", "POST", "/api/jobs", job("destinations", []any{map[string]string{"url": "oracle://x"}}), 422, "destinations[0].url", "unknown destination"},
		{"quote in a prefix", "POST", "/api/jobs", job("destinations", []any{map[string]string{"url": "sqlite:a.db", "prefix": "A'"}}), 422, "destinations[0].prefix", "quotes"},
		{"the same destination twice", "POST", "/api/jobs", job("destinations", []any{map[string]string{"url": "sqlite:a.db"}, map[string]string{"url": "sqlite:a.db"}}), 422, "destinations[1]", "repeats"},
		{"existing job", "POST", "/api/jobs", job("name", "nightly"), 422, "name", "already exists"},
		{"rename", "PUT", "/api/jobs/nightly", job("name", "other"), 422, "name", "renamed"},
		{"job alert on", "POST", "/api/jobs", job("alerts", map[string]any{"on": "sometimes"}), 422, "alerts.on", "failure, always or never"},
		{"unknown job", "GET", "/api/jobs/nope", nil, 404, "", `no job named "nope": the Jobs page (GET /api/jobs) lists the jobs`},
		{"run an unknown job", "POST", "/api/jobs/nope/run", nil, 404, "", `no job named "nope": the Jobs page (GET /api/jobs) lists the jobs`},
		{"cancel an idle job", "POST", "/api/jobs/nightly/cancel", nil, 409, "", "not running"},
		{"unknown run", "GET", "/api/runs/nope", nil, 404, "", `no run named "nope": a job's page lists its runs (GET /api/jobs/NAME/runs`},
		{"unknown history run", "GET", "/api/jobs/nightly/history/0/nope", nil, 404, "", `no run named "nope": a job's page lists its runs`},
		{"unknown destination", "GET", "/api/connections/destinations/nope", nil, 404, "", `no destination named "nope": the Connections page (GET /api/connections) lists the destinations`},
		{"nested unknown field", "PUT", "/api/alerts", map[string]any{"smtp": map[string]any{"hots": "h"}}, 400, "hots", `unknown field "hots": check its spelling`},
		{"alert trigger", "PUT", "/api/alerts", map[string]any{"on": "sometimes"}, 422, "on", "failure, always or never"},
		{"alert address", "PUT", "/api/alerts", map[string]any{"email_to": []string{"not an address"}, "smtp": map[string]any{"host": "h", "from": "a@b.c"}}, 422, "email_to", "not an email address"},
		{"email without server", "PUT", "/api/alerts", map[string]any{"email_to": []string{"ops@example.com"}}, 422, "smtp.host", "SMTP host"},
		{"clear-text webhook", "PUT", "/api/alerts", map[string]any{"webhook_url": "http://hooks.example.com/x"}, 422, "webhook_url", "https"},
		{"slow factor", "PUT", "/api/alerts", map[string]any{"slow_factor": 1.0}, 422, "slow_factor", "1.1"},
		{"SMTP security", "PUT", "/api/alerts", map[string]any{"smtp": map[string]any{"tls": "ssl"}}, 422, "smtp.tls", "starttls"},
		{"SMTP host with port", "PUT", "/api/alerts", map[string]any{"smtp": map[string]any{"host": "smtp.example.com:587"}}, 422, "smtp.host", "port"},
		{"not JSON", "POST", "/api/jobs", "{", 400, "", "not valid JSON"},
		{"unknown field", "POST", "/api/jobs", `{"nam": "x"}`, 400, "nam", `unknown field "nam": check its spelling against the route's fields in docs/api.md`},
		{"wrong type", "POST", "/api/jobs", `{"name": 3}`, 400, "name", "must be a string"},
		{"an array body", "POST", "/api/jobs", `[{"name": "x"}]`, 400, "", "must be a JSON object ({...}), not an array"},
		{"a string body", "PUT", "/api/alerts", `"failure"`, 400, "", "must be a JSON object ({...}), not a string"},
		{"a number body", "POST", "/api/validate/script", `3`, 400, "", "must be a JSON object ({...}), not a number"},
		{"two values", "POST", "/api/validate/script", `{"script": "REPLICATE ALL"} {}`, 400, "", "more than one"},
		{"no body", "POST", "/api/connections/sources", nil, 400, "", "no JSON body"},
		{"body too large", "POST", "/api/validate/script", `{"script": "` + strings.Repeat("x", maxBody) + `"}`, 413, "", "larger than 1 MiB"},
		{"unknown route", "GET", "/api/nope", nil, 404, "", "docs/api.md"},
		{"wrong method", "PATCH", "/api/jobs/nightly", map[string]any{}, 405, "", "/api/jobs/nightly takes GET, PUT, DELETE"},
	}
	before := e.readConfig()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.call(tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			msg, _ := r.json["error"].(string)
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q lacks %q", msg, tt.msg)
			}
			if f, _ := r.json["field"].(string); f != tt.field {
				t.Errorf("field %q, want %q", f, tt.field)
			}
		})
	}
	if after := e.readConfig(); after != before {
		t.Errorf("refused requests changed the config file:\n%s", after)
	}
	// A wrong Content-Type is refused.
	if r := s.call("POST", "/api/jobs", `{}`, "Content-Type", "text/plain"); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d", r.status)
	}
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t, jobsConfig, func(o *Options) { o.RunJob = realRun })
	e.start()
	s := e.session()
	r := s.must(202, "POST", "/api/jobs/nightly/run", nil)
	id := r.json["id"].(string)
	s.finished(id)
	hist := s.must(200, "GET", "/api/jobs/nightly/history", nil)
	hid, _ := field(hist.json, "destinations", 0, "runs", 0, "id").(string)
	for _, p := range append(allPages, "/runs/"+id, "/jobs/nightly/history/0/"+hid) {
		r := s.call("GET", p, nil)
		if r.status != 200 || !strings.Contains(r.body, "</html>") || !strings.Contains(r.body, `name="csrf-token"`) {
			t.Errorf("GET %s: %d %.200s", p, r.status, r.body)
		}
	}
	for p, want := range map[string]string{"/jobs/nope": "no job named", "/runs/nope": "No run", "/elsewhere": "There is no page",
		"/connections/sources/nope/edit": "no source named", "/connections/sources/sandbox/edit": "cannot be edited",
		"/connections/destinations/nope/edit": "no destination named"} {
		r := s.call("GET", p, nil)
		if r.status < 400 || !strings.Contains(r.body, want) {
			t.Errorf("GET %s: %d, want an error page saying %q", p, r.status, want)
		}
	}
	// Job page: status, history row with counts, the chart.
	jp := s.must(200, "GET", "/jobs/nightly", nil).body
	for _, want := range []string{`class="dot ok"`, `class="run-row"`, `<svg class="history-chart"`, "Next runs"} {
		if !strings.Contains(jp, want) {
			t.Errorf("the job page lacks %s", want)
		}
	}
	// An empty console says what to do next.
	e2 := newEnv(t, "")
	if b := e2.session().must(200, "GET", "/jobs", nil).body; !strings.Contains(b, "No jobs yet") || !strings.Contains(b, "Connections") {
		t.Errorf("the empty jobs page: %.500s", b)
	}
}

// TestWrongMethod: a method a route's path does not take is refused with
// 405, the methods it takes in Allow, as JSON on the API and as a page
// elsewhere; a path no route has stays 404.
func TestWrongMethod(t *testing.T) {
	e := newEnv(t, jobsConfig)
	s := e.session()
	fill := strings.NewReplacer("{{dir}}", "d", "{{run}}", "r", "{{hist}}", "h")
	for _, rt := range apiRoutes {
		path := fill.Replace(rt.path)
		path, _, _ = strings.Cut(path, "?")
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
			probe, _ := http.NewRequest(m, e.http.URL+path, nil)
			if _, pattern := e.srv.mux.Handler(probe); pattern != "/api/" {
				continue // a route takes it
			}
			r := s.call(m, path, map[string]any{})
			msg, _ := r.json["error"].(string)
			if r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), rt.method) ||
				!strings.Contains(msg, "takes") || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: %d, Allow %q, %s", m, path, r.status, r.header.Get("Allow"), r.body)
			}
		}
	}
	if r := s.call("PATCH", "/api/nope", map[string]any{}); r.status != http.StatusNotFound || r.header.Get("Allow") != "" {
		t.Errorf("PATCH /api/nope: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
	for _, p := range allPages {
		r := s.call("DELETE", p, nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET" || !strings.Contains(r.body, "</html>") {
			t.Errorf("DELETE %s: %d, Allow %q", p, r.status, r.header.Get("Allow"))
		}
	}
}
