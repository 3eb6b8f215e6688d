package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plannersql/planner/internal/config"
	"github.com/plannersql/planner/internal/schedule"
	"github.com/plannersql/planner/replicate/dest"
)

func TestSplitScript(t *testing.T) {
	tests := []struct {
		script string
		tables []string
		rest   string
	}{
		{"REPLICATE Tasks;", []string{"Tasks"}, ""},
		{"REPLICATE tasks; REPLICATE PLANS", []string{"Tasks", "Plans"}, ""},
		{"REPLICATE TABLES (Tasks, Buckets);", []string{"Tasks", "Buckets"}, ""},
		{"-- nightly\nREPLICATE Tasks;\nREPLICATE X SELECT * FROM Tasks; -- custom\n", []string{"Tasks"}, "-- nightly\nREPLICATE X SELECT * FROM Tasks; -- custom"},
		{"REPLICATE Tasks WITH SoftDelete;", []string{}, "REPLICATE Tasks WITH SoftDelete;"},
		{"REPLICATE PROD_Tasks SELECT * FROM Tasks;", []string{}, "REPLICATE PROD_Tasks SELECT * FROM Tasks;"},
		{"REPLICATE PROD.Tasks SELECT * FROM Tasks;", []string{}, "REPLICATE PROD.Tasks SELECT * FROM Tasks;"},
		{"REPLICATE ALL EXCLUDE TABLES (Groups);", []string{}, "REPLICATE ALL EXCLUDE TABLES (Groups);"},
		{"REPLICATE NotATable;", []string{}, "REPLICATE NotATable;"},
		{"REPLICATE TABLES (Tasks, Nope);", []string{}, "REPLICATE TABLES (Tasks, Nope);"},
		{"REPLICATE Plans; /* ünïcödé */ REPLICATE Tasks", []string{"Plans", "Tasks"}, "/* ünïcödé */"},
		{"REPLICATE", []string{}, "REPLICATE"},
	}
	for _, tt := range tests {
		tables, rest := splitScript(tt.script)
		if !slices.Equal(tables, tt.tables) || rest != tt.rest {
			t.Errorf("splitScript(%q) = %q, %q; want %q, %q", tt.script, tables, rest, tt.tables, tt.rest)
		}
		// What the picker and the statements say composes back into an
		// equivalent script.
		if chk := checkScript(tt.script); chk.OK {
			again := composeScript(tables, rest)
			t2, r2 := splitScript(again)
			if !slices.Equal(t2, tables) || (r2 != rest && r2 != rest+";") {
				t.Errorf("compose(split(%q)) = %q splits into %q, %q", tt.script, again, t2, r2)
			}
		}
	}
	if got := composeScript([]string{"Tasks"}, "REPLICATE X SELECT 1 -- trailing comment"); got != "REPLICATE Tasks;\nREPLICATE X SELECT 1 -- trailing comment\n" {
		t.Errorf("compose with a trailing comment: %q", got)
	}
}

func TestValidateScriptAndSchedule(t *testing.T) {
	e := newEnv(t, "", func(o *Options) {})
	s := e.session()
	r := s.must(200, "POST", "/api/validate/script", map[string]string{"script": "REPLICATE Tasks;\n  REPLICATE TABLES (Plans, Buckets);\nREPLICATE ALL EXCLUDE TABLES (Groups)"})
	if r.json["ok"] != true || field(r.json, "statements", 1, "line") != 2.0 || field(r.json, "statements", 1, "target") != "Plans, Buckets" ||
		field(r.json, "statements", 2, "kind") != "ALL" {
		t.Errorf("valid script: %s", r.body)
	}
	r = s.must(200, "POST", "/api/validate/script", map[string]string{"script": "REPLICATE Tasks;\nREPLICATE X WITH Key SELECT 1"})
	if r.json["ok"] != false || r.json["line"] != 2.0 || r.json["column"] == nil || !strings.Contains(r.json["error"].(string), "Key") {
		t.Errorf("invalid script: %s", r.body)
	}
	r = s.must(200, "GET", "/api/schedule?schedule=every+1+day+at+02:00", nil)
	next, _ := r.json["next"].([]any)
	if r.json["ok"] != true || len(next) != 5 {
		t.Fatalf("schedule preview: %s", r.body)
	}
	var prev time.Time
	for i, v := range next {
		tm, err := time.Parse(time.RFC3339, v.(string))
		if err != nil || !tm.After(prev) || i > 0 && tm.Sub(prev) < 23*time.Hour {
			t.Errorf("next[%d] = %v", i, v)
		}
		prev = tm
	}
	for spec, want := range map[string]string{"every 5m": "10m", "at noon": "accepted forms", "": ""} {
		r := s.must(200, "GET", "/api/schedule?schedule="+strings.ReplaceAll(spec, " ", "+"), nil)
		if msg, _ := r.json["error"].(string); !strings.Contains(msg, want) || (want == "") != (r.json["ok"] == true) {
			t.Errorf("schedule %q: %s", spec, r.body)
		}
	}
	if r := s.must(200, "GET", "/api/schedule", nil); r.json["manual"] != true {
		t.Errorf("no schedule: %s", r.body)
	}
}

// TestJobEditsKeepTheFile saves jobs through the API and checks that the
// config file changes only where it must, and that the CLI reads what the
// console wrote.
func TestJobEditsKeepTheFile(t *testing.T) {
	e := newEnv(t, jobsConfig)
	s := e.session()
	orig := e.readConfig()
	out := "sqlite:" + e.dir + "/out.db"
	j := s.must(200, "GET", "/api/jobs/nightly", nil)
	// Saving what was read changes nothing, to the byte.
	s.must(200, "PUT", "/api/jobs/nightly", map[string]any{"source": j.json["source"], "schedule": j.json["schedule"],
		"tables": j.json["tables"], "statements": j.json["statements"], "destinations": []any{map[string]string{"url": out}}})
	if got := e.readConfig(); got != orig {
		t.Fatalf("a save without changes rewrote the file:\n%s", got)
	}
	// A real edit: tables, a statement, a second destination, a schedule.
	s.must(200, "PUT", "/api/jobs/nightly", map[string]any{"source": "demo", "schedule": "hourly", "tables": []string{"Tasks", "Plans"},
		"statements":   "-- open tasks only\nREPLICATE OpenTasks SELECT * FROM Tasks WHERE PercentComplete < 100",
		"destinations": []any{map[string]string{"url": out}, map[string]string{"url": "sqlite:" + e.dir + "/two.db", "schema": "prod", "source_name": "contoso"}}})
	got := e.readConfig()
	for _, keep := range []string{"# Hand-written: comments and layout must survive the console's edits.", "[profiles.demo]   # the demo tenant",
		"# The nightly copy.\n[jobs.nightly]\nsource = \"demo\"\nschedule = \"hourly\"\n"} {
		if !strings.Contains(got, keep) {
			t.Errorf("the file lost %q:\n%s", keep, got)
		}
	}
	f, err := config.Load(e.cfgPath, loadOptions())
	if err != nil {
		t.Fatal(err)
	}
	job, err := f.Job("nightly")
	if err != nil {
		t.Fatal(err)
	}
	if job.Schedule != "hourly" || len(job.Destinations) != 2 || job.Destinations[1].Schema != "prod" || job.Destinations[1].SourceName != "contoso" ||
		job.Script != "REPLICATE Tasks;\nREPLICATE Plans;\n-- open tasks only\nREPLICATE OpenTasks SELECT * FROM Tasks WHERE PercentComplete < 100;\n" {
		t.Errorf("the CLI reads %+v", job)
	}
	// Back to one destination and no schedule.
	s.must(200, "PUT", "/api/jobs/nightly", map[string]any{"source": "demo", "tables": []string{"Tasks"}, "destinations": []any{map[string]string{"url": out}}})
	f, _ = config.Load(e.cfgPath, loadOptions())
	if job, _ = f.Job("nightly"); job.Schedule != "" || len(job.Destinations) != 1 || job.Script != "REPLICATE Tasks;\n" {
		t.Errorf("after the second edit: %+v", job)
	}
	// A new job goes at the end; deleting it gives the file back.
	before := e.readConfig()
	s.must(201, "POST", "/api/jobs", map[string]any{"name": "hourly copy", "source": "sandbox", "schedule": "every 30m", "tables": []string{"Buckets"},
		"destinations": []any{map[string]string{"url": out, "prefix": "SB_"}}})
	if f, err = config.Load(e.cfgPath, loadOptions()); err != nil {
		t.Fatal(err)
	}
	if job, err = f.Job("hourly copy"); err != nil || job.Destinations[0].Prefix != "SB_" || job.Source != "sandbox" {
		t.Errorf("new job: %+v, %v", job, err)
	}
	s.must(200, "DELETE", "/api/jobs/hourly%20copy", nil)
	if got := e.readConfig(); got != before {
		t.Errorf("create then delete changed the file:\n%s\nwas:\n%s", got, before)
	}
}

func TestJobScriptFile(t *testing.T) {
	cfg := "[jobs.nightly]\nsource = \"sandbox\"\nscript_file = \"nightly.sql\"\n[[jobs.nightly.destinations]]\nurl = \"sqlite:{{dir}}/out.db\"\n"
	e := newEnv(t, cfg)
	sqlPath := filepath.Join(e.dir, "nightly.sql")
	if err := os.WriteFile(sqlPath, []byte("-- kept in a file\nREPLICATE Tasks;\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	s := e.session()
	j := s.must(200, "GET", "/api/jobs/nightly", nil)
	if j.json["script_file"] != sqlPath || !slices.Equal(toStrings(j.json["tables"]), []string{"Tasks"}) || j.json["statements"] != "-- kept in a file" {
		t.Fatalf("job with a script file: %s", j.body)
	}
	before := e.readConfig()
	s.must(200, "PUT", "/api/jobs/nightly", map[string]any{"source": "sandbox", "tables": []string{"Tasks", "Plans"}, "statements": "-- kept in a file",
		"destinations": []any{map[string]string{"url": "sqlite:" + e.dir + "/out.db"}}})
	if e.readConfig() != before {
		t.Error("the config file changed: the script lives in its own file")
	}
	b, _ := os.ReadFile(sqlPath)
	if string(b) != "REPLICATE Tasks;\nREPLICATE Plans;\n-- kept in a file\n" {
		t.Errorf("script file: %q", b)
	}
	if st, _ := os.Stat(sqlPath); st.Mode().Perm() != 0o640 {
		t.Errorf("script file mode %v", st.Mode().Perm())
	}
}

// TestHandWrittenFormsRefused: a profile written as an inline
// table cannot be edited in place; the console says so and writes nothing.
func TestHandWrittenFormsRefused(t *testing.T) {
	cfg := "profiles.inline = { Sandbox = true }\n"
	e := newEnv(t, cfg)
	s := e.session()
	before := e.readConfig()
	r := s.call("PUT", "/api/connections/sources/inline", map[string]any{"properties": map[string]string{"MaxConcurrency": "2"}})
	if r.status != 409 || !strings.Contains(r.json["error"].(string), "edit it by hand") {
		t.Errorf("edit of an inline profile: %d %s", r.status, r.body)
	}
	if e.readConfig() != before {
		t.Error("a refused edit changed the file")
	}
	// A file that does not parse is reported, never overwritten.
	if err := os.WriteFile(e.cfgPath, []byte("[jobs.x]\nsource = \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.call("GET", "/api/jobs", nil); r.status != 409 || !strings.Contains(r.json["error"].(string), "fix the file") {
		t.Errorf("broken config: %d %s", r.status, r.body)
	}
	if r := s.call("POST", "/api/connections/sources", map[string]any{"name": "p", "properties": map[string]string{"Sandbox": "true"}}); r.status != 409 {
		t.Errorf("save into a broken config: %d", r.status)
	}
}

func toStrings(v any) []string {
	a, _ := v.([]any)
	out := []string{}
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestScheduleRulesFromTheCLI: the console parses schedules with the
// function the CLI gives it: a job reading the sandbox (the built-in source
// or a profile with Sandbox = true) may run more often than one reading a
// tenant.
func TestScheduleRulesFromTheCLI(t *testing.T) {
	cfg := jobsConfig + "\n[profiles.prod]\nTenant = \"contoso.onmicrosoft.com\"\nOAuthClientId = \"11111111-2222-3333-4444-555555555555\"\n"
	e := newEnv(t, cfg, func(o *Options) {
		o.ParseSchedule = func(j config.Job) (schedule.Schedule, error) {
			min := schedule.MinInterval
			if j.Source == "sandbox" {
				min = schedule.SandboxMinInterval
			}
			return schedule.ParseWithMin(j.Schedule, time.Local, min)
		}
	})
	s := e.session()
	for source, ok := range map[string]bool{"sandbox": true, "demo": true, "prod": false} {
		if r := s.must(200, "GET", "/api/schedule?schedule=every+1m&source="+source, nil); r.json["ok"] != ok {
			t.Errorf("every 1m for %s: %s", source, r.body)
		}
	}
	for i, source := range []string{"sandbox", "demo"} {
		s.must(201, "POST", "/api/jobs", map[string]any{"name": fmt.Sprintf("fast%d", i), "source": source, "schedule": "every 1m", "tables": []string{"Plans"},
			"destinations": []any{map[string]string{"url": "sqlite:" + e.dir + "/f.db"}}})
	}
	if r := s.call("POST", "/api/jobs", map[string]any{"name": "slow", "source": "prod", "schedule": "every 1m", "tables": []string{"Plans"},
		"destinations": []any{map[string]string{"url": "sqlite:" + e.dir + "/f.db"}}}); r.status != 422 {
		t.Errorf("every 1m for a tenant's job: %d", r.status)
	}
}

// TestHandEditsReloaded: a job added to the config file by hand is
// scheduled without a restart.
func TestHandEditsReloaded(t *testing.T) {
	events := make(chan schedule.Event, 16)
	e := newEnv(t, jobsConfig, func(o *Options) { o.OnSchedulerEvent = func(ev schedule.Event) { events <- ev } })
	scheduled := func(job string) {
		t.Helper()
		for ev := waitFor(t, events, job+" scheduled"); ev.Kind != schedule.EventSlotScheduled || ev.Job != job; ev = waitFor(t, events, job+" scheduled") {
		}
	}
	e.start()
	scheduled("nightly")
	f, err := os.OpenFile(e.cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[jobs.added]\nsource = \"sandbox\"\nschedule = \"hourly\"\nscript = \"REPLICATE Plans;\"\n[[jobs.added.destinations]]\nurl = \"sqlite:x.db\"\n")
	f.Close()
	if !e.srv.runs.checkFiles() {
		t.Error("the change was not noticed")
	}
	scheduled("added")
	if e.srv.runs.checkFiles() {
		t.Error("an unchanged file counted as a change")
	}
}

// TestJobThatCannotRun: a job that refers to an unset environment
// variable (in its destination, or through its source profile) or has a
// script that does not parse is
// listed with its problem and what to do, is not scheduled, and is not
// run; its history answers 409 naming the variable, not 404.
func TestJobThatCannotRun(t *testing.T) {
	cfg := jobsConfig + `
[profiles.envsecret]
AuthScheme = "AzureServicePrincipal"
Tenant = "contoso.onmicrosoft.com"
OAuthClientId = "11111111-2222-3333-4444-555555555555"
OAuthClientSecret = "${CONSOLE_TEST_UNSET_SECRET}"

[jobs.unsetdest]
source = "demo"
schedule = "every 10m"
script = "REPLICATE Plans;"
[[jobs.unsetdest.destinations]]
url = "postgres://replicator:${CONSOLE_TEST_UNSET_PW}@127.0.0.1/warehouse"

[jobs.unsetsource]
source = "envsecret"
schedule = "every 10m"
script = "REPLICATE Plans;"
[[jobs.unsetsource.destinations]]
url = "sqlite:{{dir}}/u.db"

[jobs.badscript]
source = "sandbox"
schedule = "every 10m"
script = "REPLICATE Plans WITH Bogus;"
[[jobs.badscript.destinations]]
url = "sqlite:{{dir}}/b.db"
`
	os.Unsetenv("CONSOLE_TEST_UNSET_PW")
	os.Unsetenv("CONSOLE_TEST_UNSET_SECRET")
	events := make(chan schedule.Event, 64)
	e := newEnv(t, cfg, func(o *Options) { o.OnSchedulerEvent = func(ev schedule.Event) { events <- ev } })
	s := e.session()
	problems := map[string][]string{
		"unsetdest":   {"CONSOLE_TEST_UNSET_PW", "is not set", "set the environment variable where 'planner console' runs and restart it, or edit the job"},
		"unsetsource": {"CONSOLE_TEST_UNSET_SECRET", "source", "edit the source on the Connections page"},
		"badscript":   {"Bogus", "edit the job"},
	}
	jobs := s.must(200, "GET", "/api/jobs", nil)
	for i := range 4 {
		j, _ := field(jobs.json, "jobs", i).(map[string]any)
		name, _ := j["name"].(string)
		want, bad := problems[name]
		msg, _ := j["error"].(string)
		switch {
		case !bad:
			if j["status"] != statusNever || msg != "" || j["next_run"] == nil {
				t.Errorf("job %s: status %v, error %q, next run %v", name, j["status"], msg, j["next_run"])
			}
		default:
			if j["status"] != statusInvalid || j["next_run"] != nil {
				t.Errorf("job %s: status %v, next run %v; want invalid and none", name, j["status"], j["next_run"])
			}
			for _, w := range want {
				if !strings.Contains(msg, w) {
					t.Errorf("job %s: the error %q does not say %q", name, msg, w)
				}
			}
			// Run now is refused with the same message.
			r := s.call("POST", "/api/jobs/"+name+"/run", nil)
			if r.status != 409 || !strings.Contains(fmt.Sprint(r.json["error"]), want[0]) {
				t.Errorf("run %s: %d %s", name, r.status, r.body)
			}
		}
	}
	// The history of a job whose destination cannot be known here: 409
	// naming the variable, not "no job".
	for _, path := range []string{"/api/jobs/unsetdest/history", "/api/jobs/unsetdest/history/0/r1"} {
		r := s.call("GET", path, nil)
		if r.status != 409 || !strings.Contains(fmt.Sprint(r.json["error"]), "CONSOLE_TEST_UNSET_PW") {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	if r := s.call("GET", "/api/jobs/nosuchjob/history", nil); r.status != 404 {
		t.Errorf("history of an unknown job: %d", r.status)
	}
	// The source itself says what is missing and what to do.
	fix := "set the environment variable where 'planner console' runs and restart it, or edit the source"
	if r := s.must(200, "POST", "/api/connections/sources/envsecret/test", nil); !strings.Contains(fmt.Sprint(r.json["error"]), "CONSOLE_TEST_UNSET_SECRET") ||
		!strings.Contains(fmt.Sprint(r.json["error"]), fix) {
		t.Errorf("source test: %s", r.body)
	}
	if r := s.must(200, "GET", "/api/connections/sources/envsecret", nil); !strings.Contains(fmt.Sprint(field(r.json, "sign_in", "error")), fix) {
		t.Errorf("source: %s", r.body)
	}
	// The pages show the jobs with their problems, in red.
	page := s.must(200, "GET", "/jobs", nil).body
	for _, w := range []string{`class="dot invalid"`, "Cannot run:", "CONSOLE_TEST_UNSET_PW", "not scheduled"} {
		if !strings.Contains(page, w) {
			t.Errorf("the jobs page lacks %q", w)
		}
	}
	page = s.must(200, "GET", "/jobs/unsetdest", nil).body
	for _, w := range []string{`id="job-problem"`, `id="history-error"`, "CONSOLE_TEST_UNSET_PW", "disabled"} {
		if !strings.Contains(page, w) {
			t.Errorf("the job's page lacks %q", w)
		}
	}
	// Only the job that can run is scheduled; the others are logged once.
	e.start()
	for ev := waitFor(t, events, "nightly scheduled"); ev.Kind != schedule.EventSlotScheduled; ev = waitFor(t, events, "nightly scheduled") {
	}
	e.srv.runs.reconcile()
	scheduled := func() []string {
		e.srv.runs.mu.Lock()
		defer e.srv.runs.mu.Unlock()
		var names []string
		for n := range e.srv.runs.scheds {
			names = append(names, n)
		}
		slices.Sort(names)
		return names
	}
	if got := scheduled(); !slices.Equal(got, []string{"nightly"}) {
		t.Errorf("scheduled jobs %q, want only nightly", got)
	}
	if n := strings.Count(e.log.String(), `msg="job not scheduled: it cannot run" job=unsetdest`); n != 1 {
		t.Errorf("the problem of unsetdest was logged %d times, want once:\n%s", n, e.log.String())
	}
	// Once the variable is set (the console restarted), the job runs.
	t.Setenv("CONSOLE_TEST_UNSET_PW", "pw-"+randomHex(4))
	e.srv.runs.reconcile()
	if got := scheduled(); !slices.Equal(got, []string{"nightly", "unsetdest"}) {
		t.Errorf("scheduled jobs %q, want nightly and unsetdest", got)
	}
}

// TestJobNameStyle: each destination of a job has its name style, saved
// into the config file as the CLI reads it (name_style), validated, shown,
// and used by the run.
func TestJobNameStyle(t *testing.T) {
	e := newEnv(t, jobsConfig, func(o *Options) { o.RunJob = realRun })
	s := e.session()
	snake, lower, exact := e.dir+"/snake.db", e.dir+"/lower.db", e.dir+"/exact.db"
	r := s.call("POST", "/api/jobs", map[string]any{"name": "styled", "source": "sandbox", "tables": []string{"TaskDetails"},
		"destinations": []any{map[string]string{"url": "sqlite:" + snake, "name_style": "kebab"}}})
	if r.status != 422 || r.json["field"] != "destinations[0].name_style" || !strings.Contains(fmt.Sprint(r.json["error"]), "exact, lower, snake_case") {
		t.Errorf("an unknown name style: %d %s", r.status, r.body)
	}
	s.must(201, "POST", "/api/jobs", map[string]any{"name": "styled", "source": "sandbox", "tables": []string{"TaskDetails"},
		"destinations": []any{map[string]string{"url": "sqlite:" + snake, "name_style": "snake_case"},
			map[string]string{"url": "sqlite:" + lower, "name_style": "Lower"}, map[string]string{"url": "sqlite:" + exact, "name_style": "exact"}}})
	f, err := config.Load(e.cfgPath, loadOptions())
	if err != nil {
		t.Fatal(err)
	}
	job, err := f.Job("styled")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range job.Destinations {
		got = append(got, d.NameStyle)
	}
	if !slices.Equal(got, []string{"snake_case", "lower", ""}) {
		t.Errorf("the CLI reads name styles %q", got)
	}
	if c := e.readConfig(); strings.Count(c, "name_style") != 2 {
		t.Errorf("the default style was written out:\n%s", c)
	}
	v := s.must(200, "GET", "/api/jobs/styled", nil)
	for i, want := range []string{"snake_case", "lower", "exact"} {
		if got := field(v.json, "destinations", i, "name_style"); got != want {
			t.Errorf("destination %d: name_style %v, want %s", i, got, want)
		}
	}
	// The run names tables and columns in each destination's style.
	id := s.must(202, "POST", "/api/jobs/styled/run", nil).json["id"].(string)
	if d := s.finished(id); d.json["status"] != statusOK {
		t.Fatalf("run: %s", d.body)
	}
	// SQLite folds the case of names in queries: read them as created.
	for path, want := range map[string][2]string{snake: {"task_details", "preview_type"}, lower: {"taskdetails", "previewtype"}, exact: {"TaskDetails", "PreviewType"}} {
		db, err := dest.Open(context.Background(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		q := "SELECT count(*) FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name = ? AND c.name = ?"
		if err := db.QueryRow(q, want[0], want[1]).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s has no table %s with a column %s (%d, %v)", path, want[0], want[1], n, err)
		}
		db.Close()
	}
	// The pages show and offer it.
	if p := s.must(200, "GET", "/jobs/styled", nil).body; !strings.Contains(p, "names snake_case") || !strings.Contains(p, "names lower") {
		t.Error("the job's page does not show the name styles")
	}
	if p := s.must(200, "GET", "/jobs/styled/edit", nil).body; !strings.Contains(p, `<option value="snake_case" selected>`) || !strings.Contains(p, `<option value="lower" selected>`) {
		t.Error("the job editor does not offer the name styles chosen")
	}
	// A style written by hand in another spelling stays as written when
	// the same style is saved; a change of style is written.
	if err := os.WriteFile(e.cfgPath, []byte(strings.Replace(e.readConfig(), `name_style = "snake_case"`, `name_style = "Snake"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	before := e.readConfig()
	dests := []any{map[string]string{"url": "sqlite:" + snake, "name_style": "snake_case"},
		map[string]string{"url": "sqlite:" + lower, "name_style": "lower"}, map[string]string{"url": "sqlite:" + exact}}
	s.must(200, "PUT", "/api/jobs/styled", map[string]any{"source": "sandbox", "tables": []string{"TaskDetails"}, "destinations": dests})
	if got := e.readConfig(); got != before {
		t.Errorf("saving the same styles rewrote the file:\n%s\nwas:\n%s", got, before)
	}
	dests[1] = map[string]string{"url": "sqlite:" + lower, "name_style": ""}
	s.must(200, "PUT", "/api/jobs/styled", map[string]any{"source": "sandbox", "tables": []string{"TaskDetails"}, "destinations": dests})
	if c := e.readConfig(); strings.Contains(c, `"lower"`) || !strings.Contains(c, `name_style = "Snake"`) {
		t.Errorf("after choosing exact for the second destination:\n%s", c)
	}
}

func TestShortProblemAndZone(t *testing.T) {
	for in, want := range map[string]string{
		`job warehouse (/etc/planner/config.toml:16): config: /etc/planner/config.toml:21: value of "url" refers to the environment variable PG_PASSWORD, which is not set — set it`: `value of "url" refers to the environment variable PG_PASSWORD, which is not set — set it`,
		`job x (c.toml:3): script: line 1, column 18: unknown option "Bogus"`: `script: line 1, column 18: unknown option "Bogus"`,
		`something else`: `something else`,
	} {
		if got := shortProblem(in); got != want {
			t.Errorf("shortProblem(%q) = %q, want %q", in, got, want)
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database")
	}
	for _, tc := range []struct {
		loc  *time.Location
		want string
	}{{time.UTC, "UTC"}, {paris, "CET, UTC+01:00"}, {time.FixedZone("", -(3*3600 + 1800)), "UTC-03:30"}} {
		if got := zoneName(time.Date(2026, 1, 10, 12, 0, 0, 0, tc.loc)); got != tc.want {
			t.Errorf("zoneName in %v = %q, want %q", tc.loc, got, tc.want)
		}
	}
}

// TestJobSavedUntouchedKeepsHandForms: a job whose source names a profile
// (or the sandbox) in another case, or whose schedule is spaced
// otherwise, is saved untouched without rewriting those lines; choosing
// another profile that differs only in case does rewrite it.
func TestJobSavedUntouchedKeepsHandForms(t *testing.T) {
	const cfg = `[profiles.Demo]
Sandbox = true

[profiles.demo2]
Sandbox = true

[profiles.DEMO2]
Sandbox = true

[jobs.a]   # job a
source = "demo"       # the profile Demo, in lower case
schedule = "every  2  hours"   # spaced
script = "REPLICATE Tasks;"

[[jobs.a.destinations]]
url = "sqlite:{{dir}}/a.db"

[jobs.b]
source = "SANDBOX"    # the built-in source, in capitals
script = "REPLICATE Plans;"

[[jobs.b.destinations]]
url = "sqlite:{{dir}}/b.db"

[jobs.c]
source = "demo2"
script = "REPLICATE Plans;"

[[jobs.c.destinations]]
url = "sqlite:{{dir}}/c.db"
`
	e := newEnv(t, cfg)
	s := e.session()
	orig := e.readConfig()
	save := func(name string, edit func(map[string]any)) {
		t.Helper()
		j := s.must(200, "GET", "/api/jobs/"+name, nil)
		var dests []any
		for _, d := range j.json["destinations"].([]any) {
			dests = append(dests, map[string]any{"url": field(d, "url")})
		}
		body := map[string]any{"source": j.json["source"], "schedule": j.json["schedule"], "tables": j.json["tables"],
			"statements": j.json["statements"], "destinations": dests}
		if edit != nil {
			edit(body)
		}
		s.must(200, "PUT", "/api/jobs/"+name, body)
	}
	for _, name := range []string{"a", "b", "c"} {
		save(name, nil)
		if got := e.readConfig(); got != orig {
			t.Fatalf("saving job %s untouched rewrote the file:\n%s", name, got)
		}
	}
	save("c", func(b map[string]any) { b["source"] = "DEMO2" })
	if got, want := e.readConfig(), strings.Replace(orig, `source = "demo2"`, `source = "DEMO2"`, 1); got != want {
		t.Errorf("choosing the profile DEMO2:\n%s", got)
	}
}
